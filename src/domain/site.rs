//! Sites: who may embed them and the rules each one sets.

use serde::{Deserialize, Serialize};

use super::avatar::AvatarSource;
use super::fields::FieldError;
use super::mail::Frequency;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SiteId(pub i64);

/// A site's short name in URLs: lowercase letters, digits and `-`, 1 to 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SiteSlug(String);

impl SiteSlug {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        let ok = !value.is_empty()
            && value.len() <= 64
            && value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(value.to_string()))
        } else {
            Err(FieldError::new(
                "site",
                "must be 1-64 lowercase letters, digits or '-'",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How new comments are published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ModerationMode {
    /// Publish at once.
    None,
    /// Hold unless the e-mail address already has an approved comment (WordPress's default).
    #[default]
    FirstTime,
    /// Hold everything.
    All,
}

/// Per-site rules, stored as JSON in the site row. Missing keys take their defaults, so new
/// settings need no migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SiteSettings {
    pub moderation: ModerationMode,
    pub require_name: bool,
    pub require_email: bool,
    /// Seconds during which an author may edit or delete their comment.
    pub edit_window_secs: u32,
    /// Levels of nesting, top level included (5 as in WordPress).
    pub max_depth: u8,
    pub language: String,
    /// Words or phrases that hold a comment for moderation (case-insensitive, whole words).
    pub hold_words: Vec<String>,
    /// Words or phrases that send a comment straight to spam.
    pub reject_words: Vec<String>,
    /// A comment with more links than this is held.
    pub max_links: u32,
    /// Distinct readers whose reports hide a comment until an admin decides.
    pub report_threshold: u32,
    /// Days after a thread's first comment when it closes to new comments; 0 means never.
    pub auto_close_days: u32,
    /// Treat comments that fill the form's hidden honeypot field as spam.
    pub honeypot: bool,
    /// Hold comments sent without a valid signed form token (the embed always sends one).
    pub require_form_token: bool,
    /// Hold comments sent sooner than this many seconds after the form was shown.
    pub min_post_secs: u32,
    /// Refuse the same text from the same address or e-mail within this many seconds (0: off).
    pub duplicate_window_secs: u32,
    /// Leading zero bits of proof of work the embed must find before posting (0: off; 16 is a
    /// fraction of a second on a phone).
    pub pow_difficulty: u8,
    /// Hold comments the learned spam score rates at or above this percentage (0: off).
    pub spam_threshold_percent: u8,
    /// Whether readers may add reactions (👍 ❤️ 😄 🎉 😕 👀) to comments.
    pub reactions: bool,
    /// Where commenters' pictures come from: kith's identicons (no third party), or, opted in,
    /// Libravatar or Gravatar.
    pub avatars: AvatarSource,
    /// How often the owner gets alerts about this site's new comments: one mail each, or a
    /// daily or weekly digest (`mail.owner_notifications` says which comments).
    pub owner_frequency: Frequency,
    /// How readers may sign in: `email` (a link mailed to them) and ids of the server's
    /// configured OpenID Connect / OAuth providers. Empty: sign-in is not offered.
    pub signin_methods: Vec<String>,
    /// Whether readers may comment without signing in (the default; `false` requires sign-in).
    pub anonymous_allowed: bool,
    /// Signed-in readers' comments skip first-time moderation (the other rules still apply).
    pub signed_in_skip_moderation: bool,
    /// Seconds during which signed-in readers may edit or delete their own comments; 0: always.
    pub signed_in_edit_secs: u32,
}

impl Default for SiteSettings {
    fn default() -> Self {
        Self {
            moderation: ModerationMode::FirstTime,
            require_name: true,
            require_email: true,
            edit_window_secs: 900,
            max_depth: 5,
            language: "en".into(),
            hold_words: Vec::new(),
            reject_words: Vec::new(),
            max_links: 2,
            report_threshold: 3,
            auto_close_days: 0,
            honeypot: true,
            require_form_token: true,
            min_post_secs: 3,
            duplicate_window_secs: 3600,
            pow_difficulty: 0,
            spam_threshold_percent: 90,
            reactions: true,
            avatars: AvatarSource::Identicon,
            owner_frequency: Frequency::Instant,
            signin_methods: Vec::new(),
            anonymous_allowed: true,
            signed_in_skip_moderation: false,
            signed_in_edit_secs: 0,
        }
    }
}

impl SiteSettings {
    /// Whether a thread created at `created` is closed by age at `now`.
    pub fn auto_closed(
        &self,
        created: chrono::DateTime<chrono::Utc>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> bool {
        self.auto_close_at(created).is_some_and(|at| now >= at)
    }

    /// When a thread created at `created` closes by age (never when `auto_close_days` is 0).
    pub fn auto_close_at(
        &self,
        created: chrono::DateTime<chrono::Utc>,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        (self.auto_close_days > 0)
            .then(|| created + chrono::Duration::days(i64::from(self.auto_close_days)))
    }
}

/// One allowed origin; the port may be `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginPattern {
    scheme: String,
    host: String,
    port: PortPattern,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortPattern {
    Any,
    Exact(u16),
}

impl OriginPattern {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        let bad = |why: &str| FieldError::new("allowed_origins", format!("`{value}`: {why}"));
        let (scheme, rest) = value
            .split_once("://")
            .ok_or_else(|| bad("needs a scheme"))?;
        if !matches!(scheme, "http" | "https") {
            return Err(bad("scheme must be http or https"));
        }
        if rest.contains('/') {
            return Err(bad("an origin has no path"));
        }
        let (host, port) = if rest.ends_with(']') {
            (rest, PortPattern::Exact(default_port(scheme)))
        } else {
            match rest.rsplit_once(':') {
                Some((host, "*")) => (host, PortPattern::Any),
                Some((host, port)) => match port.parse::<u16>() {
                    Ok(p) => (host, PortPattern::Exact(p)),
                    Err(_) => return Err(bad("port must be a number or *")),
                },
                None => (rest, PortPattern::Exact(default_port(scheme))),
            }
        };
        if host.is_empty() {
            return Err(bad("needs a host"));
        }
        Ok(Self {
            scheme: scheme.into(),
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// Whether the `Origin` header value `origin` is allowed by this pattern.
    pub fn matches(&self, origin: &str) -> bool {
        let Ok(parsed) = url::Url::parse(origin) else {
            return false;
        };
        let Some(host) = parsed.host_str() else {
            return false;
        };
        let port = parsed.port_or_known_default().unwrap_or(0);
        parsed.scheme() == self.scheme
            && host.eq_ignore_ascii_case(&self.host)
            && match self.port {
                PortPattern::Any => true,
                PortPattern::Exact(p) => p == port,
            }
    }
}

impl std::fmt::Display for OriginPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.port {
            PortPattern::Any => write!(f, "{}://{}:*", self.scheme, self.host),
            PortPattern::Exact(p) if p == default_port(&self.scheme) => {
                write!(f, "{}://{}", self.scheme, self.host)
            }
            PortPattern::Exact(p) => write!(f, "{}://{}:{}", self.scheme, self.host, p),
        }
    }
}

fn default_port(scheme: &str) -> u16 {
    if scheme == "https" { 443 } else { 80 }
}

/// A site as the services see it.
#[derive(Debug, Clone)]
pub struct Site {
    pub id: SiteId,
    pub slug: String,
    pub name: String,
    pub allowed_origins: Vec<OriginPattern>,
    pub settings: SiteSettings,
}

impl Site {
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|p| p.matches(origin))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_port_matches_any_port_of_that_host_only() {
        let p = OriginPattern::parse("http://localhost:*").unwrap();
        assert!(p.matches("http://localhost:3000"));
        assert!(p.matches("http://localhost"));
        assert!(!p.matches("https://localhost:3000"));
        assert!(!p.matches("http://localhost.evil.com:3000"));
        assert!(!p.matches("null"));
    }

    #[test]
    fn exact_origin_uses_default_port() {
        let p = OriginPattern::parse("https://blog.example").unwrap();
        assert!(p.matches("https://blog.example"));
        assert!(p.matches("https://blog.example:443"));
        assert!(!p.matches("https://blog.example:8443"));
        assert_eq!(p.to_string(), "https://blog.example");
    }

    #[test]
    fn bad_origins_are_refused() {
        for bad in [
            "localhost",
            "ftp://x",
            "https://x/path",
            "http://x:abc",
            "http://:80",
        ] {
            assert!(OriginPattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn settings_json_with_missing_keys_takes_defaults() {
        let s: SiteSettings = serde_json::from_str(r#"{"moderation":"none"}"#).unwrap();
        assert_eq!(s.moderation, ModerationMode::None);
        assert_eq!(s.max_depth, 5);
    }
}
