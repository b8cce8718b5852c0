//! Exporting a site: its threads and comments back into [`ImportData`], written as kith JSON
//! (lossless: importing it into an empty site gives the same content) or WordPress WXR.
//!
//! Source ids in the file: a comment imported earlier keeps the id it had in its source (so
//! exporting, importing elsewhere and exporting again gives the same file, and importing the
//! file twice adds nothing); other comments are named by their kith id. A name already used in
//! the thread gets `#<kith id>` appended. Comments are listed oldest first, then by source id.

use std::collections::{HashMap, HashSet};
use std::io::Write;

use crate::db::{self, DbConn};
use crate::domain::comment::{BodyFormat, Comment, CommentId};
use crate::domain::site::Site;
use crate::domain::thread::ThreadId;
use crate::error::AppError;
use crate::import::{ImportBody, ImportComment, ImportData, ImportThread};
use crate::state::AppState;

/// The formats a site can be exported to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExportFormat {
    #[default]
    Kith,
    WordPress,
}

impl std::str::FromStr for ExportFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "kith" => Ok(Self::Kith),
            "wordpress" | "wxr" => Ok(Self::WordPress),
            other => Err(format!(
                "unknown export format `{other}`: expected kith or wordpress"
            )),
        }
    }
}

/// Writes every thread and comment of the site `site_slug` to `out`.
pub fn export_site(
    state: &AppState,
    conn: &mut DbConn,
    site_slug: &str,
    format: ExportFormat,
    out: impl Write,
) -> Result<(), AppError> {
    let site = super::sites::find(state, conn, site_slug)?;
    let data = read_site(conn, &site)?;
    let written = match format {
        ExportFormat::Kith => crate::export::kith::write(&data, out),
        ExportFormat::WordPress => crate::export::wordpress::write(&data, &site.name, out),
    };
    written.map_err(|e| AppError::internal(anyhow::anyhow!("cannot write the export: {e}")))
}

/// The site's threads (oldest first) and their comments (by id), as neutral data.
pub fn read_site(conn: &mut DbConn, site: &Site) -> Result<ImportData, AppError> {
    let threads = db::threads::list_for_site(conn, site.id)?;
    let comments = db::comments::list_for_site(conn, site.id)?;
    let mut by_thread: HashMap<ThreadId, Vec<Comment>> = HashMap::new();
    for c in comments {
        by_thread.entry(c.thread_id).or_default().push(c);
    }
    let threads = threads
        .into_iter()
        .map(|t| {
            let rows = by_thread.remove(&t.id).unwrap_or_default();
            Ok(ImportThread {
                key: t.key,
                url: (!t.url.is_empty()).then_some(t.url),
                title: (!t.title.is_empty()).then_some(t.title),
                closed: t.closed,
                comments: thread_comments(rows)?,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(ImportData {
        threads,
        ..ImportData::default()
    })
}

fn thread_comments(rows: Vec<Comment>) -> Result<Vec<ImportComment>, AppError> {
    let mut used = HashSet::with_capacity(rows.len());
    let names: HashMap<CommentId, String> = rows
        .iter()
        .map(|r| {
            let mut name = source_name(r);
            if !used.insert(name.clone()) {
                name = format!("{name}#{}", r.id.0);
                used.insert(name.clone());
            }
            (r.id, name)
        })
        .collect();
    let mut comments = rows
        .into_iter()
        .map(|r| {
            let source_id = names.get(&r.id).cloned().unwrap_or_default();
            let parent_source_id = r.parent_id.and_then(|p| names.get(&p).cloned());
            Ok(ImportComment {
                source_id,
                parent_source_id,
                author: r.author,
                email: r.email,
                website: r.website,
                ip: r.client_ip,
                user_agent: r.user_agent,
                created_at: r.created_at,
                edited_at: r.edited_at,
                body: match r.body_format {
                    BodyFormat::Html => ImportBody::Html(r.body_markdown),
                    BodyFormat::Markdown => ImportBody::Markdown(r.body_markdown),
                },
                rendered_html: Some(r.body_html.into_inner()),
                status: r.status,
                kind: r.kind,
                likes: r.like_count,
                pinned: r.pinned,
                owner: r.owner,
                notify_replies: r.notify_replies,
                held_reason: r.held_reason,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    // Oldest first, then by source id: the same order wherever the comments were imported
    // (kith ids differ from site to site).
    comments.sort_by(|a, b| (a.created_at, &a.source_id).cmp(&(b.created_at, &b.source_id)));
    Ok(comments)
}

/// The id a comment had in its source (`kith:17` → `17`; other formats keep their prefix,
/// `wordpress:42`, so ids of different sources cannot meet), else its kith id.
fn source_name(r: &Comment) -> String {
    match r.import_key.as_deref() {
        Some(key) => super::import::kith_source_id(key).to_string(),
        None => r.id.0.to_string(),
    }
}
