//! What happens to a new comment: published at once, held, or sent to spam, and why.

use super::ban::{Author, BanRule};
use super::comment::CommentStatus;
use super::site::{ModerationMode, SiteSettings};

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
    /// The author signed in and the site lets signed-in readers skip first-time moderation.
    pub trusted_sign_in: bool,
}

/// Applies the site's moderation mode.
pub fn decide(mode: ModerationMode, history: AuthorHistory) -> Verdict {
    match mode {
        ModerationMode::None => Verdict::approve(),
        ModerationMode::All => Verdict::hold("all comments are held on this site"),
        ModerationMode::FirstTime
            if history.has_approved_comment
                || history.address_confirmed
                || history.trusted_sign_in =>
        {
            Verdict::approve()
        }
        ModerationMode::FirstTime => Verdict::hold("first comment from this e-mail address"),
    }
}

/// A new comment as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct Submission<'a> {
    pub author: Author<'a>,
    pub website: Option<&'a str>,
    pub body: &'a str,
}

/// Every rule, strongest first: a ban or a reject word sends the comment to spam; too many
/// links or a hold word holds it; otherwise the site's mode decides.
pub fn judge(
    settings: &SiteSettings,
    history: AuthorHistory,
    bans: &[BanRule],
    submission: &Submission<'_>,
) -> Verdict {
    if let Some(ban) = bans.iter().find(|b| b.matches(&submission.author)) {
        return Verdict::spam(format!("banned {}: {}", ban.kind().as_str(), ban.value()));
    }
    let texts = [
        submission.body,
        submission.author.name,
        submission.author.email.unwrap_or(""),
        submission.website.unwrap_or(""),
    ];
    if let Some(word) = first_word_in(&settings.reject_words, &texts) {
        return Verdict::spam(format!("contains the rejected word \"{word}\""));
    }
    let links = count_links(submission.body);
    if links > settings.max_links as usize {
        return Verdict::hold(format!("{links} links (more than {})", settings.max_links));
    }
    if let Some(word) = first_word_in(&settings.hold_words, &texts) {
        return Verdict::hold(format!("contains the held word \"{word}\""));
    }
    decide(settings.moderation, history)
}

/// Links in a comment's markdown: every `http://`, `https://` or `www.` occurrence.
pub fn count_links(body: &str) -> usize {
    let lower = body.to_lowercase();
    lower.matches("http://").count()
        + lower.matches("https://").count()
        + lower
            .match_indices("www.")
            .filter(|(i, _)| !lower[..*i].ends_with("//"))
            .count()
}

/// The first listed word (or phrase) found as a whole word in any of `texts`, ignoring case.
fn first_word_in<'w>(words: &'w [String], texts: &[&str]) -> Option<&'w str> {
    let texts: Vec<String> = texts.iter().map(|t| t.to_lowercase()).collect();
    words
        .iter()
        .map(|w| w.trim())
        .filter(|w| !w.is_empty())
        .find(|w| {
            let w = w.to_lowercase();
            texts.iter().any(|t| contains_word(t, &w))
        })
}

fn contains_word(text: &str, word: &str) -> bool {
    let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
    text.match_indices(word).any(|(i, m)| {
        boundary(text[..i].chars().next_back()) && boundary(text[i + m.len()..].chars().next())
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::ban::BanKind;

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
            ..AuthorHistory::default()
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

    fn submit(body: &str) -> Submission<'_> {
        Submission {
            author: Author {
                name: "Ann",
                email: Some("ann@example.com"),
                ip: "192.0.2.1".parse().ok(),
                reader: None,
            },
            website: None,
            body,
        }
    }

    fn open_site() -> SiteSettings {
        SiteSettings {
            moderation: ModerationMode::None,
            hold_words: vec!["viagra".into()],
            reject_words: vec!["buy followers".into()],
            ..SiteSettings::default()
        }
    }

    #[test]
    fn rules_apply_strongest_first() {
        let s = open_site();
        let h = AuthorHistory::default();
        assert_eq!(
            judge(&s, h, &[], &submit("hello")).status,
            CommentStatus::Approved
        );
        let v = judge(&s, h, &[], &submit("Cheap VIAGRA here"));
        assert_eq!(v.status, CommentStatus::Pending);
        assert!(v.reason.unwrap().contains("viagra"));
        assert_eq!(
            judge(&s, h, &[], &submit("viagras are not a word")).status,
            CommentStatus::Approved
        );
        let v = judge(&s, h, &[], &submit("Buy followers and viagra"));
        assert_eq!(v.status, CommentStatus::Spam);
        let three = "https://a.example http://b.example www.c.example";
        let v = judge(&s, h, &[], &submit(three));
        assert_eq!(v.status, CommentStatus::Pending);
        assert_eq!(v.reason.as_deref(), Some("3 links (more than 2)"));
        let ban = BanRule::parse(BanKind::Ip, "192.0.2.0/24").unwrap();
        let v = judge(&s, h, &[ban], &submit("hello"));
        assert_eq!(v.status, CommentStatus::Spam);
        assert_eq!(v.reason.as_deref(), Some("banned ip: 192.0.2.0/24"));
    }

    #[test]
    fn links_are_counted_once_each() {
        assert_eq!(count_links("see https://www.example.com and www.x.org"), 2);
        assert_eq!(count_links("no links"), 0);
    }

    #[test]
    fn first_time_trusts_a_confirmed_address() {
        let confirmed = AuthorHistory {
            address_confirmed: true,
            ..AuthorHistory::default()
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

    #[test]
    fn a_trusted_sign_in_skips_first_time_moderation_only() {
        let signed_in = AuthorHistory {
            trusted_sign_in: true,
            ..AuthorHistory::default()
        };
        assert_eq!(
            decide(ModerationMode::FirstTime, signed_in).status,
            CommentStatus::Approved
        );
        assert_eq!(
            decide(ModerationMode::All, signed_in).status,
            CommentStatus::Pending
        );
        assert_eq!(
            decide(ModerationMode::FirstTime, AuthorHistory::default()).status,
            CommentStatus::Pending
        );
    }
}
