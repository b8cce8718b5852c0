//! What happens to a new comment: published at once or held, and why.

use super::comment::CommentStatus;
use super::site::ModerationMode;

/// The verdict on a new comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: CommentStatus,
    /// Why it was held or refused, shown to moderators.
    pub reason: Option<String>,
}

impl Verdict {
    pub fn approve() -> Self {
        Self {
            status: CommentStatus::Approved,
            reason: None,
        }
    }

    pub fn hold(reason: impl Into<String>) -> Self {
        Self {
            status: CommentStatus::Pending,
            reason: Some(reason.into()),
        }
    }

    pub fn spam(reason: impl Into<String>) -> Self {
        Self {
            status: CommentStatus::Spam,
            reason: Some(reason.into()),
        }
    }

    fn severity(&self) -> u8 {
        match self.status {
            CommentStatus::Approved => 0,
            CommentStatus::Pending => 1,
            CommentStatus::Spam | CommentStatus::Deleted => 2,
        }
    }

    /// The stricter of two verdicts (spam over held over published); reasons of equally strict
    /// verdicts are joined.
    pub fn and(self, other: Verdict) -> Verdict {
        match self.severity().cmp(&other.severity()) {
            std::cmp::Ordering::Greater => self,
            std::cmp::Ordering::Less => other,
            std::cmp::Ordering::Equal => {
                let reason = match (self.reason, other.reason) {
                    (Some(a), Some(b)) => Some(format!("{a}; {b}")),
                    (a, b) => a.or(b),
                };
                Verdict {
                    status: self.status,
                    reason,
                }
            }
        }
    }
}

/// Facts about the author that the rules need.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuthorHistory {
    /// The e-mail address already has an approved comment on this site.
    pub has_approved_comment: bool,
    /// The e-mail address was confirmed through a link mailed to it (double opt-in).
    pub address_confirmed: bool,
}

/// Applies the site's moderation mode.
pub fn decide(mode: ModerationMode, history: AuthorHistory) -> Verdict {
    match mode {
        ModerationMode::None => Verdict::approve(),
        ModerationMode::All => Verdict::hold("all comments are held on this site"),
        ModerationMode::FirstTime if history.has_approved_comment || history.address_confirmed => {
            Verdict::approve()
        }
        ModerationMode::FirstTime => Verdict::hold("first comment from this e-mail address"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stricter_verdict_wins() {
        let v = Verdict::approve()
            .and(Verdict::hold("a"))
            .and(Verdict::hold("b"));
        assert_eq!(v.status, CommentStatus::Pending);
        assert_eq!(v.reason.as_deref(), Some("a; b"));
        assert_eq!(v.and(Verdict::spam("c")).status, CommentStatus::Spam);
    }

    #[test]
    fn first_time_holds_unknown_authors_only() {
        let known = AuthorHistory {
            has_approved_comment: true,
            address_confirmed: false,
        };
        assert_eq!(
            decide(ModerationMode::FirstTime, known).status,
            CommentStatus::Approved
        );
        let unknown = AuthorHistory::default();
        assert_eq!(
            decide(ModerationMode::FirstTime, unknown).status,
            CommentStatus::Pending
        );
        assert_eq!(
            decide(ModerationMode::All, known).status,
            CommentStatus::Pending
        );
        assert_eq!(
            decide(ModerationMode::None, unknown).status,
            CommentStatus::Approved
        );
    }

    #[test]
    fn first_time_trusts_a_confirmed_address() {
        let confirmed = AuthorHistory {
            has_approved_comment: false,
            address_confirmed: true,
        };
        assert_eq!(
            decide(ModerationMode::FirstTime, confirmed).status,
            CommentStatus::Approved
        );
        assert_eq!(
            decide(ModerationMode::All, confirmed).status,
            CommentStatus::Pending
        );
    }
}
