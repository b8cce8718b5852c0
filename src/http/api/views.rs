//! The JSON shapes the API answers with.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::comment::{Comment, CommentKind, CommentStatus};
use crate::domain::tree::Node;
use crate::render::SafeHtml;
use crate::secrets::{Keys, Purpose};

/// A comment as readers see it. Never carries the e-mail address or the client's IP.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommentResponse {
    pub id: i64,
    pub parent_id: Option<i64>,
    /// Only in answers to the comment's author (posting, editing); thread pages nest replies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depth: Option<i32>,
    pub author: String,
    pub website: Option<String>,
    pub avatar: String,
    /// The sanitized HTML of the body.
    #[schema(value_type = String)]
    pub html: SafeHtml,
    /// The markdown source: only in answers to the comment's author (posting, editing);
    /// thread pages leave it out (the edit form asks `GET …/comments/{id}/source`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub likes: i64,
    /// approved, pending, spam or deleted.
    #[schema(value_type = String)]
    pub status: &'static str,
    pub pinned: bool,
    pub owner: bool,
    /// `comment`, `pingback` or `trackback` (imported from WordPress), or `webmention` (received).
    pub kind: CommentKind,
    /// The author was signed in when posting (by e-mail link or a provider); absent otherwise.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub verified: bool,
    /// How that author had signed in: `email` or a provider id such as `github`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[schema(no_recursion)]
    pub replies: Vec<CommentResponse>,
}

impl CommentResponse {
    pub fn from_comment(comment: Comment, keys: &Keys) -> Self {
        let deleted = comment.status == CommentStatus::Deleted;
        let avatar = if deleted {
            String::new()
        } else {
            avatar(&comment, keys)
        };
        Self {
            id: comment.id.0,
            parent_id: comment.parent_id.map(|p| p.0),
            depth: Some(comment.depth),
            author: if deleted {
                String::new()
            } else {
                comment.author
            },
            website: if deleted { None } else { comment.website },
            avatar,
            html: if deleted {
                SafeHtml::empty()
            } else {
                comment.body_html
            },
            body: Some(if deleted {
                String::new()
            } else {
                comment.body_markdown
            }),
            created_at: comment.created_at,
            edited_at: comment.edited_at,
            likes: comment.like_count,
            // A comment filed as spam looks merely held to its sender: a bot learns nothing.
            status: match comment.status {
                CommentStatus::Spam => CommentStatus::Pending.as_str(),
                other => other.as_str(),
            },
            pinned: comment.pinned,
            owner: comment.owner,
            kind: comment.kind,
            verified: !deleted && comment.signed_in_with.is_some(),
            provider: comment
                .signed_in_with
                .filter(|_| !deleted)
                .map(|p| p.as_str().to_string()),
            replies: Vec::new(),
        }
    }

    /// A comment of a thread page, as every reader sees it: without its source.
    pub fn from_node(node: Node, keys: &Keys) -> Self {
        let mut response = Self::from_comment(node.comment, keys);
        response.body = None;
        response.depth = None;
        response.replies = node
            .replies
            .into_iter()
            .map(|n| Self::from_node(n, keys))
            .collect();
        response
    }
}

/// A keyed hash for drawing an identicon: stable per address (or name), and not reversible to
/// the address the way an MD5 Gravatar hash is.
fn avatar(comment: &Comment, keys: &Keys) -> String {
    let seed = match &comment.email {
        Some(email) => email.to_lowercase(),
        None => comment.author.clone(),
    };
    keys.sign(Purpose::Avatar, seed)
}
