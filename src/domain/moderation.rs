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
