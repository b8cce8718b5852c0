//! Admin accounts: names and passwords as the rules want them.

use super::fields::FieldError;

/// An admin's login name: 1 to 64 letters, digits, `.`, `_` or `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminName(String);

impl AdminName {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        let ok = !value.is_empty()
            && value.chars().count() <= 64
            && value
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if ok {
            Ok(Self(value.to_string()))
        } else {
            Err(FieldError::new(
                "name",
                "must be 1-64 letters, digits, '.', '_' or '-'",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name readers see on an admin's replies: up to 100 characters, no control characters;
/// empty means "use the site's name". Never the login name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        let value = value.trim();
        if value.chars().count() > 100 || value.chars().any(char::is_control) {
            return Err(FieldError::new(
                "display_name",
                "must be at most 100 characters, without control characters",
            ));
        }
        Ok(Self(value.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: at least 10 characters, at most 1,000. Never printed.
pub struct Password(String);

impl Password {
    pub const MIN: usize = 10;
    pub const MAX: usize = 1000;

    pub fn parse(value: String) -> Result<Self, FieldError> {
        let n = value.chars().count();
        if n < Self::MIN {
            return Err(FieldError::new(
                "password",
                format!("must be at least {} characters", Self::MIN),
            ));
        }
        if n > Self::MAX {
            return Err(FieldError::new(
                "password",
                format!("must be at most {} characters", Self::MAX),
            ));
        }
        Ok(Self(value))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<secret>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_passwords_are_checked() {
        assert!(AdminName::parse("site-owner_1").is_ok());
        assert!(AdminName::parse("").is_err());
        assert!(AdminName::parse("a b").is_err());
        assert!(Password::parse("short".into()).is_err());
        assert!(Password::parse("long enough pass".into()).is_ok());
        let p = Password::parse("long enough pass".into());
        assert!(!format!("{p:?}").contains("enough"));
    }
}
