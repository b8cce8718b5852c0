//! Readers who signed in: who they are (a provider and the provider's subject), what a sign-in
//! proved, and how an author was identified. Signing in is optional; anonymous comments stay.

use chrono::{DateTime, Utc};

use super::fields::FieldError;
use super::site::SiteId;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct ReaderId(pub i64);

/// The provider id of e-mail-link sign-in.
pub const EMAIL_PROVIDER: &str = "email";

/// Longest provider id.
const MAX_PROVIDER: usize = 32;
/// Longest subject kept (OpenID Connect allows 255 ASCII characters).
const MAX_SUBJECT: usize = 255;
/// Longest display name kept; a longer one from a provider is cut.
pub const MAX_DISPLAY_NAME: usize = 80;

/// How a reader signed in: `email` (an e-mail link) or a configured provider id such as
/// `github` or `myidp` (lowercase ASCII letters, digits, `-` and `_`, 1 to 32 characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Provider(String);

impl Provider {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        let ok = !value.is_empty()
            && value.len() <= MAX_PROVIDER
            && value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(value.to_string()))
        } else {
            Err(FieldError::new(
                "provider",
                "must be 1-32 lowercase letters, digits, '-' or '_'",
            ))
        }
    }

    pub fn email() -> Self {
        Self(EMAIL_PROVIDER.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_email(&self) -> bool {
        self.0 == EMAIL_PROVIDER
    }

    /// What readers and admins see for this provider when nothing else is configured:
    /// well-known names spelled as their owners spell them, any other id as it is.
    pub fn default_label(&self) -> String {
        match self.0.as_str() {
            EMAIL_PROVIDER => "e-mail".into(),
            "github" => "GitHub".into(),
            "gitlab" => "GitLab".into(),
            "google" => "Google".into(),
            "microsoft" => "Microsoft".into(),
            "codeberg" => "Codeberg".into(),
            other => other.to_string(),
        }
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A signed-in identity: a provider and the subject it vouches for (the lower-cased address
/// for `email`), stored as a ban value as `provider:subject`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identity {
    pub provider: Provider,
    pub subject: String,
}

impl Identity {
    pub fn parse(provider: &str, subject: &str) -> Result<Self, FieldError> {
        let provider = Provider::parse(provider)?;
        let subject = if provider.is_email() {
            subject.trim().to_lowercase()
        } else {
            subject.to_string()
        };
        if subject.is_empty()
            || subject.len() > MAX_SUBJECT
            || subject.chars().any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(FieldError::new(
                "subject",
                format!("must be 1 to {MAX_SUBJECT} characters without spaces"),
            ));
        }
        Ok(Self { provider, subject })
    }

    /// `provider:subject`, the form a ban stores.
    pub fn key(&self) -> String {
        format!("{}:{}", self.provider, self.subject)
    }

    /// The identity a `provider:subject` key names.
    pub fn parse_key(key: &str) -> Result<Self, FieldError> {
        let (provider, subject) = key.split_once(':').ok_or_else(|| {
            FieldError::new("value", "must be provider:subject, e.g. github:583231")
        })?;
        Self::parse(provider, subject).map_err(|e| FieldError::new("value", e.message))
    }
}

/// What a completed sign-in proved about a reader. Built only by code that verified it: the
/// e-mail link flow (the reader opened the mailed link) and the OpenID Connect / OAuth flows
/// (signature and claims checked).
#[derive(Debug, Clone)]
pub struct VerifiedIdentity {
    /// `email` or the configured provider id.
    pub provider: String,
    /// The lower-cased address for `email`; the `sub` claim or GitHub's numeric id otherwise.
    pub subject: String,
    /// The address the provider gave, if any; kept only when `email_verified`.
    pub email: Option<String>,
    pub email_verified: bool,
    pub display_name: String,
}

/// A display name cleaned for showing: one line, no control characters, trimmed, at most
/// [`MAX_DISPLAY_NAME`] characters; `fallback` when nothing is left.
pub fn clean_display_name(name: &str, fallback: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let cut: String = cleaned.chars().take(MAX_DISPLAY_NAME).collect();
    if cut.is_empty() {
        fallback.chars().take(MAX_DISPLAY_NAME).collect()
    } else {
        cut
    }
}

/// A stored reader. `email` is private: never in a public response.
#[derive(Debug, Clone)]
pub struct Reader {
    pub id: ReaderId,
    pub site_id: SiteId,
    pub identity: Identity,
    pub email: Option<String>,
    pub display_name: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// The bearer token of a new reader session: shown once to the reader's browser, stored only
/// as its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionToken(pub String);

impl SessionToken {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How a comment's author was identified, as the admin area shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identification {
    /// The site's owner, writing in the admin area.
    Owner,
    /// A name and maybe an unconfirmed address typed into the form.
    Anonymous,
    /// An address the reader confirmed from a mail (notifications' double opt-in).
    ConfirmedEmail,
    /// Signed in by an e-mail link.
    SignedInByEmail,
    /// Signed in with an OpenID Connect / OAuth provider (its label).
    SignedInWith(String),
}

impl Identification {
    /// A short stable code (`owner`, `anonymous`, `confirmed-email`, `email-link`, `provider`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Anonymous => "anonymous",
            Self::ConfirmedEmail => "confirmed-email",
            Self::SignedInByEmail => "email-link",
            Self::SignedInWith(_) => "provider",
        }
    }

    /// The English description the admin area shows.
    pub fn describe(&self) -> String {
        match self {
            Self::Owner => "the site's owner".into(),
            Self::Anonymous => "anonymous".into(),
            Self::ConfirmedEmail => "confirmed e-mail".into(),
            Self::SignedInByEmail => "signed in by e-mail link".into(),
            Self::SignedInWith(label) => format!("signed in with {label}"),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn provider_ids_are_plain_lowercase_words() {
        assert!(Provider::parse("github").is_ok());
        assert!(Provider::parse("my_idp-2").is_ok());
        for bad in ["", "GitHub", "a b", "x:y", &"a".repeat(33)] {
            assert!(Provider::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn email_subjects_are_lower_cased_and_keys_round_trip() {
        let id = Identity::parse("email", " Ann@Example.COM ").unwrap();
        assert_eq!(id.subject, "ann@example.com");
        assert_eq!(id.key(), "email:ann@example.com");
        assert_eq!(Identity::parse_key(&id.key()).unwrap(), id);
        let gh = Identity::parse_key("github:583231").unwrap();
        assert_eq!(gh.provider.as_str(), "github");
        assert!(Identity::parse_key("github").is_err());
        assert!(Identity::parse_key("github:").is_err());
        assert!(Identity::parse_key("github:a b").is_err());
    }

    #[test]
    fn display_names_are_one_clean_line() {
        assert_eq!(clean_display_name("  Ann \n\t Lee ", "x"), "Ann Lee");
        assert_eq!(clean_display_name("\u{7}", "Reader"), "Reader");
        assert_eq!(
            clean_display_name(&"n".repeat(200), "x").chars().count(),
            MAX_DISPLAY_NAME
        );
    }
}
