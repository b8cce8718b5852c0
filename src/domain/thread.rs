//! Threads: one per page, found by its normalized key.

use super::fields::{FieldError, http_url};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ThreadId(pub i64);

/// The page a thread belongs to: its path, without query or fragment, always starting with `/`.
/// A full URL is accepted and reduced to its path, so `https://blog.example/a/?x#y` and `/a/`
/// name the same thread. The embed and the importers compute keys the same way.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ThreadKey(String);

impl ThreadKey {
    pub fn parse(value: &str, max: usize) -> Result<Self, FieldError> {
        let err = |m: &str| FieldError::new("thread_key", m);
        let path = if value.starts_with("http://") || value.starts_with("https://") {
            url::Url::parse(value)
                .map_err(|_| err("is not a valid URL"))?
                .path()
                .to_string()
        } else {
            value.to_string()
        };
        let path = path.split(['?', '#']).next().unwrap_or_default();
        if !path.starts_with('/') {
            return Err(err("must be a path starting with /"));
        }
        if path.chars().count() > max {
            return Err(err(&format!("must be at most {max} characters")));
        }
        if path.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(err("must not contain white space or control characters"));
        }
        Ok(Self(path.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Title and URL of the page, sent with the first comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadMeta {
    pub title: String,
    pub url: String,
}

impl ThreadMeta {
    pub fn parse(
        title: Option<String>,
        url: Option<String>,
        max_title: usize,
        max_url: usize,
    ) -> Result<Self, FieldError> {
        let title = title.unwrap_or_default();
        if title.chars().count() > max_title {
            return Err(FieldError::new(
                "thread_title",
                format!("must be at most {max_title} characters"),
            ));
        }
        if title.chars().any(char::is_control) {
            return Err(FieldError::new(
                "thread_title",
                "must not contain control characters",
            ));
        }
        let url = url.unwrap_or_default();
        if !url.is_empty() {
            if url.chars().count() > max_url {
                return Err(FieldError::new(
                    "thread_url",
                    format!("must be at most {max_url} characters"),
                ));
            }
            http_url("thread_url", &url)?;
        }
        Ok(Self { title, url })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths_give_the_same_key() {
        let a = ThreadKey::parse("https://blog.example/a/?utm=1#comments", 500).unwrap();
        let b = ThreadKey::parse("/a/", 500).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn keys_must_be_paths() {
        assert!(ThreadKey::parse("a/b", 500).is_err());
        assert!(ThreadKey::parse("", 500).is_err());
        assert!(ThreadKey::parse("/a b", 500).is_err());
    }
}

/// Order of top-level comments; replies are always oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    #[default]
    Oldest,
    Newest,
    Top,
}

/// Where the next page of top-level comments starts: the last comment of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub sort: Sort,
    /// Microseconds since the epoch (`oldest`, `newest`) or like count (`top`).
    pub value: i64,
    pub id: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        let tag = match self.sort {
            Sort::Oldest => 'o',
            Sort::Newest => 'n',
            Sort::Top => 't',
        };
        format!("{tag}.{}.{}", self.value, self.id)
    }

    pub fn parse(value: &str) -> Option<Self> {
        let mut parts = value.split('.');
        let sort = match parts.next()? {
            "o" => Sort::Oldest,
            "n" => Sort::Newest,
            "t" => Sort::Top,
            _ => return None,
        };
        let value = parts.next()?.parse().ok()?;
        let id = parts.next()?.parse().ok()?;
        parts.next().is_none().then_some(Self { sort, value, id })
    }
}
