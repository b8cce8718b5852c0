//! Reactions: a small fixed set of emoji a reader may add to a comment beside the like, once
//! each, and the per-comment counts readers see.

use serde::ser::{Serialize, SerializeMap, Serializer};

/// One of the fixed reactions. Their ids are what the API, the database and the embed use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reaction {
    /// 👍
    PlusOne,
    /// ❤️
    Heart,
    /// 😄
    Laugh,
    /// 🎉
    Hooray,
    /// 😕
    Confused,
    /// 👀
    Eyes,
}

impl Reaction {
    /// Every reaction, in the order the embed shows them.
    pub const ALL: [Reaction; 6] = [
        Self::PlusOne,
        Self::Heart,
        Self::Laugh,
        Self::Hooray,
        Self::Confused,
        Self::Eyes,
    ];

    /// The reaction with this id (`+1`, `heart`, `laugh`, `hooray`, `confused`, `eyes`).
    pub fn parse(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.id() == id)
    }

    pub fn id(self) -> &'static str {
        match self {
            Self::PlusOne => "+1",
            Self::Heart => "heart",
            Self::Laugh => "laugh",
            Self::Hooray => "hooray",
            Self::Confused => "confused",
            Self::Eyes => "eyes",
        }
    }
}

/// A comment's non-zero reaction counts, in [`Reaction::ALL`] order; serialized as a JSON
/// object from reaction id to count (`{"+1": 2, "eyes": 1}`), empty when nobody reacted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReactionCounts(Vec<(Reaction, i64)>);

impl ReactionCounts {
    /// Counts from `(reaction, count)` pairs in any order; zero and negative counts are left out.
    pub fn new(counts: impl IntoIterator<Item = (Reaction, i64)>) -> Self {
        let mut list: Vec<(Reaction, i64)> = counts.into_iter().filter(|(_, n)| *n > 0).collect();
        list.sort_by_key(|(r, _)| *r);
        list.dedup_by_key(|(r, _)| *r);
        Self(list)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The non-zero counts, in [`Reaction::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Reaction, i64)> + '_ {
        self.0.iter().copied()
    }

    /// How many readers gave `reaction`.
    pub fn get(&self, reaction: Reaction) -> i64 {
        self.0
            .iter()
            .find(|(r, _)| *r == reaction)
            .map_or(0, |(_, n)| *n)
    }
}

impl Serialize for ReactionCounts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (reaction, count) in &self.0 {
            map.serialize_entry(reaction.id(), count)?;
        }
        map.end()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_id_parses_back_and_others_do_not() {
        for r in Reaction::ALL {
            assert_eq!(Reaction::parse(r.id()), Some(r));
        }
        for bad in ["", "like", "Heart", "+2", "👍", "heart "] {
            assert_eq!(Reaction::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn counts_leave_out_zeros_and_serialize_in_fixed_order() {
        let counts = ReactionCounts::new([
            (Reaction::Eyes, 1),
            (Reaction::Heart, 0),
            (Reaction::PlusOne, 2),
        ]);
        assert_eq!(
            serde_json::to_string(&counts).unwrap(),
            r#"{"+1":2,"eyes":1}"#
        );
        assert_eq!(counts.get(Reaction::Heart), 0);
        assert!(ReactionCounts::default().is_empty());
    }
}
