//! Untrusted public fields, parsed into types at the edge ("parse, don't validate").
//!
//! Values are stored exactly as accepted: nothing is trimmed or rewritten silently, so what a
//! reader sends is what reads back. A value that would need changing is refused with a reason.

use std::fmt;

/// Why a field was refused; `field` is the public field name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// Checks a single-line field: length, no control characters, no surrounding white space.
fn single_line(field: &'static str, value: &str, max: usize) -> Result<(), FieldError> {
    if value.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    if value.trim() != value {
        return Err(FieldError::new(
            field,
            "must not start or end with white space",
        ));
    }
    Ok(())
}

/// A commenter's display name; empty when the site does not require one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorName(String);

impl AuthorName {
    pub fn parse(value: String, max: usize, required: bool) -> Result<Self, FieldError> {
        if value.trim().is_empty() {
            if required {
                return Err(FieldError::new("author", "is required"));
            }
            return Ok(Self(String::new()));
        }
        single_line("author", &value, max)?;
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A syntactically plausible e-mail address. Never published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// `None` for an empty optional address.
    pub fn parse_optional(
        value: Option<String>,
        max: usize,
        required: bool,
    ) -> Result<Option<Self>, FieldError> {
        match value.filter(|v| !v.is_empty()) {
            None if required => Err(FieldError::new("email", "is required")),
            None => Ok(None),
            Some(v) => Self::parse(v, max).map(Some),
        }
    }

    pub fn parse(value: String, max: usize) -> Result<Self, FieldError> {
        single_line("email", &value, max)?;
        let bad = || FieldError::new("email", "is not a valid e-mail address");
        let (local, domain) = value.rsplit_once('@').ok_or_else(bad)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.contains('@')
            && !local.chars().any(char::is_whitespace);
        let domain_ok = domain.len() >= 3
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        if local_ok && domain_ok {
            Ok(Self(value))
        } else {
            Err(bad())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used to compare addresses.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A commenter's web site: an absolute http(s) URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Website(String);

impl Website {
    pub fn parse_optional(value: Option<String>, max: usize) -> Result<Option<Self>, FieldError> {
        match value.filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => Self::parse(v, max).map(Some),
        }
    }

    pub fn parse(value: String, max: usize) -> Result<Self, FieldError> {
        single_line("website", &value, max)?;
        http_url("website", &value)?;
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks that `value` is an absolute http(s) URL with a host (the one link check,
/// [`super::link`]).
pub fn http_url(field: &'static str, value: &str) -> Result<(), FieldError> {
    if super::link::is_safe_web_link(value) {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "must be an absolute http:// or https:// URL",
        ))
    }
}

/// The markdown a commenter wrote. Kept byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentBody(String);

impl CommentBody {
    pub fn parse(value: String, max: usize) -> Result<Self, FieldError> {
        if value.trim().is_empty() {
            return Err(FieldError::new("body", "must not be blank"));
        }
        if value.chars().count() > max {
            return Err(FieldError::new(
                "body",
                format!("must be at most {max} characters"),
            ));
        }
        if value
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(FieldError::new(
                "body",
                "must not contain control characters",
            ));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A short free-text reason (reports).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason(String);

impl Reason {
    pub const MAX: usize = 500;

    pub fn parse(value: Option<String>) -> Result<Self, FieldError> {
        let value = value.unwrap_or_default();
        if value.chars().count() > Self::MAX {
            return Err(FieldError::new(
                "reason",
                format!("must be at most {} characters", Self::MAX),
            ));
        }
        if value
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(FieldError::new(
                "reason",
                "must not contain control characters",
            ));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn author_with_surrounding_space_is_refused_not_trimmed() {
        let err = AuthorName::parse(" Ann".into(), 100, true).unwrap_err();
        assert_eq!(err.field, "author");
    }

    #[test]
    fn blank_author_is_allowed_only_when_optional() {
        assert!(AuthorName::parse("  ".into(), 100, true).is_err());
        assert_eq!(
            AuthorName::parse("".into(), 100, false).unwrap().as_str(),
            ""
        );
    }

    #[test]
    fn emails_are_checked_for_shape() {
        for good in ["a@b.co", "first.last+tag@example.org", "ünï@exämple.de"] {
            assert!(Email::parse(good.into(), 254).is_ok(), "{good}");
        }
        for bad in [
            "", "a", "a@", "@b.co", "a@b", "a b@c.de", "a@b..de", "a@.b.de", "a@b.de.",
        ] {
            assert!(Email::parse(bad.into(), 254).is_err(), "{bad}");
        }
    }

    #[test]
    fn websites_must_be_http_or_https() {
        assert!(Website::parse("https://ann.example/".into(), 500).is_ok());
        for bad in [
            "javascript:alert(1)",
            "ftp://x.org",
            "ann.example",
            "https://",
        ] {
            assert!(Website::parse(bad.into(), 500).is_err(), "{bad}");
        }
    }

    #[test]
    fn body_keeps_bytes_and_refuses_blank_or_nul() {
        assert_eq!(
            CommentBody::parse(" hi\r\n".into(), 10).unwrap().as_str(),
            " hi\r\n"
        );
        assert!(CommentBody::parse(" \n\t".into(), 10).is_err());
        assert!(CommentBody::parse("a\0b".into(), 10).is_err());
        assert!(CommentBody::parse("x".repeat(11), 10).is_err());
    }
}
