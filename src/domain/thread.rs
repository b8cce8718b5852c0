//! Threads: one per page, found by its normalized key.

use chrono::{DateTime, Utc};

use super::fields::{FieldError, http_url};
use super::site::SiteId;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct ThreadId(pub i64);

/// A stored thread.
#[derive(Debug, Clone)]
pub struct Thread {
    pub id: ThreadId,
    pub site_id: SiteId,
    /// The normalized key it was created with (see [`ThreadKey`]).
    pub key: String,
    pub title: String,
    /// Empty, or a URL that passed the link check.
    pub url: String,
    pub created_at: DateTime<Utc>,
    pub closed: bool,
    /// How many of its comments are approved (a counter kept with every status change).
    pub approved_count: i64,
}

/// The page a thread belongs to: its path, without query or fragment, always starting with `/`.
/// A full URL is accepted and reduced to its path, so `https://blog.example/a/?x#y` and `/a/`
/// name the same thread. The embed and the importers compute keys the same way.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ThreadKey(String);

impl ThreadKey {
    pub fn parse(value: &str, max: usize) -> Result<Self, FieldError> {
        let err = |m: &str| FieldError::new("thread_key", m);
        if value.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(err("must not contain white space or control characters"));
        }
        let is_url = value.starts_with("http://") || value.starts_with("https://");
        if !is_url && !value.starts_with('/') {
            return Err(err("must be a path starting with /"));
        }
        // A bare path is read as a URL's path would be: percent-encoded the way browsers report
        // `location.pathname`, so `/закрыто/` and `https://host/закрыто/` are one thread.
        let full = if is_url {
            value.to_string()
        } else {
            format!("http://kith.invalid{value}")
        };
        let parsed = url::Url::parse(&full).map_err(|_| err("is not a valid URL or path"))?;
        let mut path = parsed.path().to_string();
        // WordPress's plain permalinks (`/?p=123`, `/?page_id=7`): the post is in the query,
        // so that one parameter stays in the key (every other query parameter is dropped).
        if let Some((name, id)) = plain_permalink(&parsed) {
            path = format!("{path}?{name}={id}");
        }
        if path.chars().count() > max {
            return Err(err(&format!("must be at most {max} characters")));
        }
        Ok(Self(path))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the key names a post by a plain permalink (`/?p=123`).
    pub fn is_plain_permalink(&self) -> bool {
        self.0.contains("?p=") || self.0.contains("?page_id=")
    }
}

/// The `p` (post) or `page_id` (page) parameter of a WordPress plain permalink, when numeric.
fn plain_permalink(url: &url::Url) -> Option<(&'static str, String)> {
    ["p", "page_id"].into_iter().find_map(|name| {
        url.query_pairs()
            .find(|(k, v)| k == name && !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()))
            .map(|(_, v)| (name, v.into_owned()))
    })
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
    fn plain_permalinks_keep_their_post_parameter_only() {
        let post = ThreadKey::parse("https://blog.example/?p=123&utm=x#c", 500).unwrap();
        assert_eq!(post.as_str(), "/?p=123");
        assert!(post.is_plain_permalink());
        assert_eq!(ThreadKey::parse("/?p=123", 500).unwrap(), post);
        let page = ThreadKey::parse("https://blog.example/index.php?page_id=7", 500).unwrap();
        assert_eq!(page.as_str(), "/index.php?page_id=7");
        assert_ne!(ThreadKey::parse("/?p=124", 500).unwrap(), post);
        // not a post number: dropped like any query
        assert_eq!(ThreadKey::parse("/?p=abc", 500).unwrap().as_str(), "/");
        assert!(!ThreadKey::parse("/a/", 500).unwrap().is_plain_permalink());
    }

    #[test]
    fn bare_paths_are_encoded_like_browser_paths() {
        let bare = ThreadKey::parse("/закрыто/", 500).unwrap();
        let url = ThreadKey::parse("https://blog.example/закрыто/", 500).unwrap();
        assert_eq!(bare, url);
        assert_eq!(
            bare.as_str(),
            "/%D0%B7%D0%B0%D0%BA%D1%80%D1%8B%D1%82%D0%BE/"
        );
        assert_eq!(
            ThreadKey::parse("/a/%20b", 500).unwrap().as_str(),
            "/a/%20b"
        );
    }

    #[test]
    fn keys_must_be_paths() {
        assert!(ThreadKey::parse("a/b", 500).is_err());
        assert!(ThreadKey::parse("", 500).is_err());
        assert!(ThreadKey::parse("/a b", 500).is_err());
    }
}

/// Order of top-level comments; replies are always oldest first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Deserialize, utoipa::ToSchema,
)]
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
