//! Remark42 backup (its "native" export, what `backup` writes and the admin's export gives).
//!
//! The first line is a header, `{"version":1,"users":[…],"posts":[…]}` (version 0 is read too,
//! as Remark42 does); every further line is one comment as Remark42 stores it:
//! `{"id", "pid", "text", "orig", "user":{"name","id","admin","block",…}, "locator":{"site","url"},
//! "score", "time", "edit":{"time","summary"}, "pin", "delete", "title"}`. Backups are usually
//! gzipped; the archive layer unpacks them.
//!
//! Decisions:
//! - the page is `locator.url`; `title` (any comment's) is its title; a `posts` entry with
//!   `read_only` closes it;
//! - `text` is the HTML Remark42 rendered and showed (it goes through kith's sanitizer);
//!   `orig`, its Markdown source in Remark42's dialect, is not used;
//! - `delete` → deleted; comments of a user the header lists as blocked → pending (Remark42 hid
//!   them; the owner decides again), with a note; Remark42 has no moderation queue otherwise;
//! - `user.name` is stored HTML-escaped by Remark42 and decoded once here; `user.ip` is a hash,
//!   not an address, and is not kept; `user.email` is kept (private) when a backup has it;
//! - `score` → likes, `pin` → pinned, `user.admin` → owner, `edit.time` → edited;
//! - a comment without `locator.url` or with an unusable `time` is skipped with a reason;
//! - the file is refused (with the line) when a line is not JSON or a field has the wrong type.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{
    CommentKind, CommentStatus, ImportBody, ImportComment, ImportData, ImportError, ImportThread,
    Skipped, decode_entities, json_error, non_empty,
};

const WHAT: &str = "Remark42 backup";

#[derive(Deserialize)]
struct Header {
    version: Option<serde_json::Value>,
    #[serde(default)]
    users: Option<Vec<UserMeta>>,
    #[serde(default)]
    posts: Option<Vec<PostMeta>>,
}

#[derive(Deserialize)]
struct UserMeta {
    #[serde(default)]
    id: String,
    #[serde(default)]
    blocked: Option<Blocked>,
}

#[derive(Deserialize)]
struct Blocked {
    #[serde(default)]
    status: bool,
}

#[derive(Deserialize)]
struct PostMeta {
    #[serde(default)]
    url: String,
    #[serde(default)]
    read_only: bool,
}

#[derive(Deserialize)]
struct Record {
    #[serde(default)]
    id: String,
    #[serde(default)]
    pid: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    user: User,
    #[serde(default)]
    locator: Locator,
    #[serde(default)]
    score: i64,
    #[serde(default)]
    time: String,
    #[serde(default)]
    edit: Option<Edit>,
    #[serde(default)]
    pin: bool,
    #[serde(default)]
    delete: bool,
    #[serde(default)]
    title: String,
}

#[derive(Deserialize, Default)]
struct User {
    #[serde(default)]
    name: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    admin: bool,
    #[serde(default)]
    block: bool,
    #[serde(default)]
    email: Option<String>,
}

#[derive(Deserialize, Default)]
struct Locator {
    #[serde(default)]
    site: String,
    #[serde(default)]
    url: String,
}

#[derive(Deserialize)]
struct Edit {
    #[serde(default)]
    time: String,
}

fn line_of(bytes: &[u8], offset: usize) -> usize {
    1 + bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
}

/// The start of the next JSON value at or after `offset` (skipping white space).
fn value_start(bytes: &[u8], offset: usize) -> usize {
    let mut i = offset;
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

fn time(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if raw.is_empty() || raw.starts_with("0001-01-01") {
        return None;
    }
    DateTime::parse_from_rfc3339(raw)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

pub(crate) fn parse(bytes: &[u8]) -> Result<ImportData, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<serde_json::Value>();
    let header = match stream.next() {
        None => {
            return Err(ImportError::new(format!(
                "{WHAT}: the file is empty; the first line must be the {{\"version\": 1, …}} header"
            )));
        }
        Some(Err(e)) => return Err(json_error(WHAT, &e)),
        Some(Ok(v)) => v,
    };
    let header: Header = serde_json::from_value(header).map_err(|e| {
        ImportError::at(
            format!("{WHAT}: the first line is not the backup header: {e}"),
            "line 1",
        )
    })?;
    match header.version.as_ref().and_then(serde_json::Value::as_i64) {
        Some(0 | 1) => {}
        Some(other) => {
            return Err(ImportError::new(format!(
                "{WHAT}: unsupported backup version {other}; kith reads version 1 (and 0)"
            )));
        }
        None => {
            return Err(ImportError::at(
                format!("{WHAT}: the first line has no \"version\"; is this a Remark42 backup?"),
                "line 1",
            ));
        }
    }
    let blocked: HashSet<String> = header
        .users
        .unwrap_or_default()
        .into_iter()
        .filter(|u| u.blocked.as_ref().is_some_and(|b| b.status))
        .map(|u| u.id)
        .collect();
    let read_only: HashSet<String> = header
        .posts
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.read_only)
        .map(|p| p.url)
        .collect();

    let mut data = ImportData::default();
    let mut order: Vec<String> = Vec::new();
    let mut threads: HashMap<String, ImportThread> = HashMap::new();
    let mut held_for_block = 0usize;
    loop {
        let start = value_start(bytes, stream.byte_offset());
        let line = line_of(bytes, start);
        let value = match stream.next() {
            None => break,
            Some(Err(e)) => {
                let mut err = json_error(WHAT, &e);
                err.message = format!("{} (in the comment starting on line {line})", err.message);
                return Err(err);
            }
            Some(Ok(v)) => v,
        };
        let record: Record = serde_json::from_value(value).map_err(|e| {
            ImportError::at(
                format!("{WHAT}: the comment on line {line} is not a Remark42 comment: {e}"),
                format!("line {line}"),
            )
        })?;
        let source_id = match non_empty(&record.id) {
            Some(id) => id,
            None => {
                let made_up = format!("line-{line}");
                data.notes.push(format!(
                    "the comment on line {line} has no id; imported as {made_up}"
                ));
                made_up
            }
        };
        let Some(url) = non_empty(&record.locator.url) else {
            data.skipped.push(Skipped {
                source_id,
                reason: format!("no page (locator.url) (line {line})"),
            });
            continue;
        };
        let Some(created_at) = time(&record.time) else {
            data.skipped.push(Skipped {
                source_id,
                reason: format!("\"time\" '{}' is not a date (line {line})", record.time),
            });
            continue;
        };
        if data.source.is_none() {
            data.source = super::source_name(&record.locator.site);
        }
        let status = if record.delete {
            CommentStatus::Deleted
        } else if record.user.block || blocked.contains(&record.user.id) {
            held_for_block += 1;
            CommentStatus::Pending
        } else {
            CommentStatus::Approved
        };
        let author = non_empty(&decode_entities(&record.user.name))
            .unwrap_or_else(|| "Anonymous".to_string());
        let comment = ImportComment {
            reactions: Default::default(),
            source_id,
            parent_source_id: non_empty(&record.pid),
            author,
            email: record.user.email.as_deref().and_then(non_empty),
            website: None,
            ip: None,
            user_agent: None,
            created_at,
            edited_at: record.edit.as_ref().and_then(|e| time(&e.time)),
            body: ImportBody::Html(record.text),
            rendered_html: None,
            status,
            kind: CommentKind::Comment,
            likes: record.score,
            pinned: record.pin,
            owner: record.user.admin,
            notify_replies: false,
            held_reason: (status == CommentStatus::Pending)
                .then(|| "the author was blocked in Remark42".to_string()),
        };
        let thread = threads.entry(url.clone()).or_insert_with(|| {
            order.push(url.clone());
            ImportThread {
                key: url.clone(),
                url: Some(url.clone()),
                title: None,
                closed: read_only.contains(&url),
                comments: Vec::new(),
            }
        });
        if thread.title.is_none() {
            thread.title = non_empty(&record.title);
        }
        thread.comments.push(comment);
    }
    if held_for_block > 0 {
        data.notes.push(format!(
            "{held_for_block} comments of users blocked in Remark42 are imported as pending"
        ));
    }
    data.threads = order
        .into_iter()
        .filter_map(|url| threads.remove(&url))
        .collect();
    Ok(data)
}
