//! The JSON shapes the API answers with.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::avatar::AvatarSource;
use crate::domain::comment::{Comment, CommentId, CommentKind, CommentStatus};
use crate::domain::reaction::ReactionCounts;
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
    /// A keyed hash the embed draws the commenter's identicon from.
    pub avatar: String,
    /// The commenter's Libravatar or Gravatar picture (a hash of the e-mail address, never the
    /// address), only when the site turned such avatars on and the commenter gave an address;
    /// the embed falls back to the identicon when it does not load.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub avatar_url: Option<String>,
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
    /// Non-zero reaction counts by reaction id (`+1`, `heart`, `laugh`, `hooray`, `confused`,
    /// `eyes`), as `{"+1": 2, "eyes": 1}`; left out when nobody reacted or the site has
    /// reactions off.
    #[serde(skip_serializing_if = "ReactionCounts::is_empty")]
    #[schema(value_type = HashMap<String, i64>)]
    pub reactions: ReactionCounts,
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
    /// A comment; its picture is the identicon or, if the site opted in, from `avatars`.
    pub fn from_comment(comment: Comment, keys: &Keys, avatars: AvatarSource) -> Self {
        let deleted = comment.status == CommentStatus::Deleted;
        let (avatar, avatar_url) = if deleted {
            (String::new(), None)
        } else {
            (
                avatar(&comment, keys),
                avatars.url(comment.email.as_deref()),
            )
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
            avatar_url,
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
            reactions: ReactionCounts::default(),
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

    /// A comment of a thread page, as every reader sees it: without its source, with its
    /// reaction counts from `reactions`.
    pub fn from_node(
        node: Node,
        keys: &Keys,
        avatars: AvatarSource,
        reactions: &HashMap<CommentId, ReactionCounts>,
    ) -> Self {
        let id = node.comment.id;
        let deleted = node.comment.status == CommentStatus::Deleted;
        let mut response = Self::from_comment(node.comment, keys, avatars);
        response.body = None;
        response.depth = None;
        if !deleted && let Some(counts) = reactions.get(&id) {
            response.reactions = counts.clone();
        }
        response.replies = node
            .replies
            .into_iter()
            .map(|n| Self::from_node(n, keys, avatars, reactions))
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
