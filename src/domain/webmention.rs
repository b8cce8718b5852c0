//! Webmentions (W3C Recommendation): a request to record that `source` links to `target`,
//! checked before it is queued, and the queued mention's life cycle.

use url::Url;

use super::comment::CommentId;
use super::site::{Site, SiteId};

/// Longest source or target URL accepted, in bytes.
pub const MAX_URL_BYTES: usize = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MentionId(pub i64);

/// Where a received mention stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MentionStatus {
    /// Waiting for (another) verification.
    Pending,
    /// Verified: stored, updated, deleted or refused (see the outcome).
    Done,
    /// The source could not be fetched after the last attempt.
    Failed,
}

impl MentionStatus {
    pub const ALL: [Self; 3] = [Self::Pending, Self::Done, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// A received mention as stored.
#[derive(Debug, Clone)]
pub struct Mention {
    pub id: MentionId,
    pub site_id: SiteId,
    pub source: String,
    pub target: String,
    pub status: MentionStatus,
    /// What the last verification did: `stored`, `updated`, `deleted`, `refused: …`, `failed`.
    pub outcome: Option<String>,
    /// How many times the mention was sent (a newer request is verified again).
    pub requests: i32,
    pub attempts: i32,
    /// The comment that shows it, while there is one.
    pub comment_id: Option<CommentId>,
    /// The address that sent the mention (for bans and moderation).
    pub client_ip: Option<String>,
    pub last_error: Option<String>,
}

/// A mention request, checked: both URLs absolute http(s), different, and the target on one of
/// the site's origins.
#[derive(Debug, Clone, PartialEq)]
pub struct MentionRequest {
    pub source: Url,
    pub target: Url,
}

/// Why a mention request is refused (a 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MentionRefused(pub String);

impl MentionRequest {
    pub fn parse(
        source: Option<&str>,
        target: Option<&str>,
        site: &Site,
    ) -> Result<Self, MentionRefused> {
        let source = web_url("source", source)?;
        let target = web_url("target", target)?;
        if same_page(&source, &target) {
            return Err(MentionRefused(
                "`source` and `target` must be different pages".into(),
            ));
        }
        if !site.allows_origin(&target.origin().ascii_serialization()) {
            return Err(MentionRefused(format!(
                "`target` {target} is not a page of this site"
            )));
        }
        Ok(Self { source, target })
    }
}

fn web_url(name: &str, value: Option<&str>) -> Result<Url, MentionRefused> {
    let value = value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            MentionRefused(format!(
                "`{name}` is missing: send `source` and `target` form fields"
            ))
        })?;
    if value.len() > MAX_URL_BYTES {
        return Err(MentionRefused(format!(
            "`{name}` is longer than {MAX_URL_BYTES} bytes"
        )));
    }
    if !super::link::is_safe_web_link(value) {
        return Err(MentionRefused(format!(
            "`{name}` must be an absolute http or https URL"
        )));
    }
    Url::parse(value).map_err(|_| MentionRefused(format!("`{name}` is not a URL")))
}

fn same_page(a: &Url, b: &Url) -> bool {
    let strip = |u: &Url| {
        let mut u = u.clone();
        u.set_fragment(None);
        u
    };
    strip(a) == strip(b)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::site::{OriginPattern, SiteSettings};

    fn site() -> Site {
        Site {
            id: SiteId(1),
            slug: "default".into(),
            name: "Blog".into(),
            allowed_origins: vec![OriginPattern::parse("https://blog.example").unwrap()],
            settings: SiteSettings::default(),
        }
    }

    #[test]
    fn a_mention_of_a_page_of_the_site_is_accepted() {
        let r = MentionRequest::parse(
            Some("https://elsewhere.example/a"),
            Some("https://blog.example/post/"),
            &site(),
        )
        .unwrap();
        assert_eq!(r.target.as_str(), "https://blog.example/post/");
    }

    #[test]
    fn bad_mentions_are_refused() {
        let cases = [
            (None, Some("https://blog.example/p/")),
            (Some("https://elsewhere.example/a"), None),
            (
                Some("ftp://elsewhere.example/a"),
                Some("https://blog.example/p/"),
            ),
            (Some("javascript:alert(1)"), Some("https://blog.example/p/")),
            (Some("/relative"), Some("https://blog.example/p/")),
            (
                Some("https://blog.example/p/#x"),
                Some("https://blog.example/p/"),
            ),
            (
                Some("https://elsewhere.example/a"),
                Some("https://other.example/p/"),
            ),
            (
                Some("https://elsewhere.example/a"),
                Some("http://blog.example/p/"),
            ),
        ];
        for (source, target) in cases {
            assert!(
                MentionRequest::parse(source, target, &site()).is_err(),
                "{source:?} -> {target:?}"
            );
        }
    }
}
