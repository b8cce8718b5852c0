//! Cusdis: a JSON dump of its `pages` and `comments` tables.
//!
//! Cusdis has no export feature of its own (its issue #167 asks for one), so its data leaves as
//! its database's rows. kith reads `{"pages": [...], "comments": [...]}` with the columns as
//! Cusdis's schema names them — pages `id, slug, url, title, projectId`, comments `id, pageId,
//! parentId, by_nickname, by_email, content, approved, created_at, deletedAt, moderatorId` —
//! which is what `json_agg` over the PostgreSQL tables or `json_group_array` over the SQLite
//! ones gives (docs/import-export.md has both commands). Prisma's own field names
//! (`createdAt`) are read too. Times may be text or epoch milliseconds, `approved` a boolean
//! or `0`/`1`.
//!
//! Decisions:
//! - the page is its `url` when there is one, else its `slug` (the `data-page-id` the embed
//!   was given); `title` is its title;
//! - `deletedAt` set → deleted; not `approved` → pending; else approved;
//! - a reply written by the site's moderator (`moderatorId`) is the owner's;
//! - `content` is Markdown; `by_email` is kept private;
//! - the blog in import keys is the pages' `projectId`;
//! - a comment whose page is missing, or without a usable `created_at`, is skipped with a reason.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{
    CommentKind, CommentStatus, ImportBody, ImportComment, ImportData, ImportError, ImportThread,
    Skipped, flex, json_error, non_empty,
};

const WHAT: &str = "Cusdis JSON";

#[derive(Deserialize)]
struct Dump {
    #[serde(default)]
    pages: Vec<Page>,
    #[serde(default)]
    comments: Vec<Comment>,
}

#[derive(Deserialize)]
struct Page {
    #[serde(deserialize_with = "flex::string")]
    id: Option<String>,
    #[serde(default, deserialize_with = "flex::string")]
    slug: Option<String>,
    #[serde(default, deserialize_with = "flex::string")]
    url: Option<String>,
    #[serde(default, deserialize_with = "flex::string")]
    title: Option<String>,
    #[serde(default, rename = "projectId", deserialize_with = "flex::string")]
    project_id: Option<String>,
}

#[derive(Deserialize)]
struct Comment {
    #[serde(deserialize_with = "flex::string")]
    id: Option<String>,
    #[serde(default, rename = "pageId", deserialize_with = "flex::string")]
    page_id: Option<String>,
    #[serde(default, rename = "parentId", deserialize_with = "flex::string")]
    parent_id: Option<String>,
    #[serde(default, deserialize_with = "flex::string")]
    by_nickname: Option<String>,
    #[serde(default, deserialize_with = "flex::string")]
    by_email: Option<String>,
    #[serde(default, deserialize_with = "flex::string")]
    content: Option<String>,
    #[serde(default, deserialize_with = "flex::boolean")]
    approved: Option<bool>,
    #[serde(default, alias = "createdAt", deserialize_with = "flex::time")]
    created_at: Option<Result<DateTime<Utc>, String>>,
    #[serde(
        default,
        rename = "deletedAt",
        alias = "deleted_at",
        deserialize_with = "flex::time"
    )]
    deleted_at: Option<Result<DateTime<Utc>, String>>,
    #[serde(default, rename = "moderatorId", deserialize_with = "flex::string")]
    moderator_id: Option<String>,
}

pub(crate) fn parse(bytes: &[u8]) -> Result<ImportData, ImportError> {
    let dump: Dump = serde_json::from_slice(bytes).map_err(|e| json_error(WHAT, &e))?;
    let mut data = ImportData {
        source: dump
            .pages
            .iter()
            .find_map(|p| p.project_id.as_deref().and_then(super::source_name)),
        ..ImportData::default()
    };
    let mut page_index: HashMap<String, usize> = HashMap::new();
    let mut threads: Vec<ImportThread> = Vec::new();
    for page in &dump.pages {
        let Some(id) = page.id.as_deref().and_then(non_empty) else {
            data.notes
                .push("a page without an id is left out; no comment can name it".into());
            continue;
        };
        let url = page.url.as_deref().and_then(non_empty);
        let Some(key) = url
            .clone()
            .or_else(|| page.slug.as_deref().and_then(non_empty))
        else {
            data.notes.push(format!(
                "page {id} has neither url nor slug; its comments are skipped"
            ));
            continue;
        };
        page_index.insert(id, threads.len());
        threads.push(ImportThread {
            key,
            url,
            title: page.title.as_deref().and_then(non_empty),
            closed: false,
            comments: Vec::new(),
        });
    }
    for (i, c) in dump.comments.into_iter().enumerate() {
        let source_id = match c.id.as_deref().and_then(non_empty) {
            Some(id) => id,
            None => {
                let made_up = format!("comment-{}", i + 1);
                data.notes.push(format!(
                    "comment number {} has no id; imported as {made_up}",
                    i + 1
                ));
                made_up
            }
        };
        let page = c.page_id.as_deref().and_then(non_empty).unwrap_or_default();
        let Some(&thread) = page_index.get(&page) else {
            data.skipped.push(Skipped {
                source_id,
                reason: format!("page '{page}' is not in the file"),
            });
            continue;
        };
        let created_at = match c.created_at {
            Some(Ok(t)) => t,
            Some(Err(raw)) => {
                data.skipped.push(Skipped {
                    source_id,
                    reason: format!("created_at '{raw}' is not a date"),
                });
                continue;
            }
            None => {
                data.skipped.push(Skipped {
                    source_id,
                    reason: "no created_at".into(),
                });
                continue;
            }
        };
        let status = if c.deleted_at.is_some() {
            CommentStatus::Deleted
        } else if c.approved == Some(true) {
            CommentStatus::Approved
        } else {
            CommentStatus::Pending
        };
        threads[thread].comments.push(ImportComment {
            reactions: Default::default(),
            source_id,
            parent_source_id: c.parent_id.as_deref().and_then(non_empty),
            author: c
                .by_nickname
                .as_deref()
                .and_then(non_empty)
                .unwrap_or_else(|| "Anonymous".to_string()),
            email: c.by_email.as_deref().and_then(non_empty),
            website: None,
            ip: None,
            user_agent: None,
            created_at,
            edited_at: None,
            body: ImportBody::Markdown(c.content.unwrap_or_default()),
            rendered_html: None,
            status,
            kind: CommentKind::Comment,
            likes: 0,
            pinned: false,
            owner: c.moderator_id.as_deref().and_then(non_empty).is_some(),
            notify_replies: false,
            held_reason: None,
        });
    }
    data.threads = threads
        .into_iter()
        .filter(|t| !t.comments.is_empty())
        .collect();
    Ok(data)
}
