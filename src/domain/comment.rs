//! Comments and their life cycle.

use chrono::{DateTime, Utc};

use super::thread::ThreadId;
use crate::render::SafeHtml;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct CommentId(pub i64);

/// Where a comment stands. Only `approved` comments are public.
///
/// [`CommentStatus::as_str`] (and the serde spelling, the same words) is how the API, exports and
/// pages name a status; `db::columns` stores it in the `status` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CommentStatus {
    Pending,
    Approved,
    Spam,
    Deleted,
}

impl CommentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Spam => "spam",
            Self::Deleted => "deleted",
        }
    }

    pub const ALL: [Self; 4] = [Self::Pending, Self::Approved, Self::Spam, Self::Deleted];

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// What a comment is: written here or imported as one, an imported pingback or trackback, or a
/// received Webmention (another page that links here).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum CommentKind {
    #[default]
    Comment,
    Pingback,
    Trackback,
    Webmention,
}

impl CommentKind {
    pub const ALL: [Self; 4] = [
        Self::Comment,
        Self::Pingback,
        Self::Trackback,
        Self::Webmention,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Comment => "comment",
            Self::Pingback => "pingback",
            Self::Trackback => "trackback",
            Self::Webmention => "webmention",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == value)
    }
}

/// What a comment's source text is: Markdown written here, or HTML kept from an import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum BodyFormat {
    #[default]
    Markdown,
    Html,
}

impl BodyFormat {
    pub const ALL: [Self; 2] = [Self::Markdown, Self::Html];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Markdown => "markdown",
            Self::Html => "html",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == value)
    }
}

/// A stored comment.
#[derive(Debug, Clone)]
pub struct Comment {
    pub id: CommentId,
    pub thread_id: ThreadId,
    pub parent_id: Option<CommentId>,
    pub root_id: Option<CommentId>,
    pub depth: i32,
    pub author: String,
    pub email: Option<String>,
    pub website: Option<String>,
    pub body_markdown: String,
    pub body_html: SafeHtml,
    pub status: CommentStatus,
    pub held_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub like_count: i64,
    pub pinned: bool,
    pub owner: bool,
    pub kind: CommentKind,
    /// What `body_markdown` holds: Markdown (written here) or HTML (imported source HTML).
    pub body_format: BodyFormat,
    /// Kept for moderation until erased by the retention job; never shown to readers.
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    /// The author asked to be told about replies.
    pub notify_replies: bool,
    /// `format:source id` of an imported comment, unique per thread.
    pub import_key: Option<String>,
    /// The signed-in reader who wrote it (`None`: anonymous, the owner, imported, a mention).
    pub reader_id: Option<super::reader::ReaderId>,
    /// How that reader had signed in (`email`, `github`, …): the comment's "verified" mark.
    pub signed_in_with: Option<super::reader::Provider>,
}

impl Comment {
    /// The comment as it stands once deleted (for announcing a deletion that removes the row).
    pub fn deleted(&self) -> Comment {
        Comment {
            status: CommentStatus::Deleted,
            ..self.clone()
        }
    }
}

/// Where a new reply goes, given its requested parent's chain of ancestors.
///
/// `ancestors` lists the parent first, then its parent, and so on up to the top level, each as
/// `(id, depth)`. With `max_depth` levels (top level counted), a reply whose parent is already at
/// the deepest level attaches to the deepest ancestor that still has room, as WordPress does.
pub fn reply_position(ancestors: &[(CommentId, i32)], max_depth: u8) -> Option<(CommentId, i32)> {
    let deepest_parent = i32::from(max_depth.max(1)) - 2;
    if deepest_parent < 0 {
        return None;
    }
    ancestors
        .iter()
        .find(|(_, depth)| *depth <= deepest_parent)
        .map(|(id, depth)| (*id, depth + 1))
}

/// Rounds a time to whole microseconds, the precision both databases keep.
pub fn truncate_to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn chain(depths: &[i32]) -> Vec<(CommentId, i32)> {
        depths
            .iter()
            .map(|d| (CommentId(100 + i64::from(*d)), *d))
            .collect()
    }

    #[test]
    fn reply_nests_under_parent_with_room() {
        assert_eq!(
            reply_position(&chain(&[2, 1, 0]), 5),
            Some((CommentId(102), 3))
        );
    }

    #[test]
    fn reply_past_max_depth_attaches_to_deepest_allowed_ancestor() {
        // max depth 5 means depths 0..=4; a reply to depth 4 goes under its depth-3 ancestor.
        assert_eq!(
            reply_position(&chain(&[4, 3, 2, 1, 0]), 5),
            Some((CommentId(103), 4))
        );
    }

    #[test]
    fn flat_site_has_no_replies() {
        assert_eq!(reply_position(&chain(&[0]), 1), None);
    }
}

/// A new comment, every field parsed.
#[derive(Debug, Clone)]
pub struct NewComment {
    pub thread_key: super::thread::ThreadKey,
    pub thread_meta: super::thread::ThreadMeta,
    pub parent_id: Option<CommentId>,
    pub author: super::fields::AuthorName,
    pub email: Option<super::fields::Email>,
    pub website: Option<super::fields::Website>,
    pub body: super::fields::CommentBody,
    pub notify_replies: bool,
    /// Subscribe the author's address to every new comment in the thread.
    pub notify_thread: bool,
    pub signals: Signals,
}

/// What the form sent besides the comment, for the spam defences.
#[derive(Debug, Clone, Default)]
pub struct Signals {
    /// The hidden honeypot field; people leave it empty.
    pub honeypot: Option<String>,
    /// The signed token the form was shown with.
    pub form_token: Option<String>,
    /// A solved proof-of-work challenge.
    pub pow: Option<PowAnswer>,
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct PowAnswer {
    pub challenge: String,
    pub nonce: String,
}

/// Who sent a request, as far as the server can tell.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub ip: std::net::IpAddr,
    pub user_agent: Option<String>,
}
