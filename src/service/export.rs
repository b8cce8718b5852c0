//! Exporting a site: its threads and comments back into [`ImportData`], written as kith JSON
//! (lossless: importing it into an empty site gives the same content, reaction counts
//! included, though not who reacted), WordPress WXR or Disqus XML.
//!
//! Source ids in the file are import keys (`wordpress@blog.example#42`): a comment imported
//! earlier keeps the key it was imported under, a comment written here is
//! `kith@{site}#{kith id}` (see [`super::import::own_source`]). So exporting, importing
//! elsewhere and exporting again gives the same file, and importing either export into the same
//! site, or again into the site that imported it, adds nothing. Comments are listed oldest
//! first, then by source id.

use std::collections::{HashMap, HashSet};
use std::io::Write;

use crate::db::{self, DbConn};
use crate::domain::comment::{BodyFormat, Comment, CommentId};
use crate::domain::reaction::ReactionCounts;
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
    Disqus,
}

impl std::str::FromStr for ExportFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "kith" => Ok(Self::Kith),
            "wordpress" | "wxr" => Ok(Self::WordPress),
            "disqus" => Ok(Self::Disqus),
            other => Err(format!(
                "unknown export format `{other}`: expected kith, wordpress or disqus"
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
    let data = read_site(state, conn, &site)?;
    let written = match format {
        ExportFormat::Kith => crate::export::kith::write(&data, out),
        ExportFormat::WordPress => {
            crate::export::wordpress::write(&data, &site.name, &site_link(&data), out)
        }
        ExportFormat::Disqus => crate::export::disqus::write(&data, &site.slug, out),
    };
    written.map_err(|e| AppError::internal(anyhow::anyhow!("cannot write the export: {e}")))
}

/// The address of the site the pages are on: the origin of the first page with a URL.
fn site_link(data: &ImportData) -> String {
    data.threads
        .iter()
        .filter_map(|t| t.url.as_deref())
        .find_map(|u| url::Url::parse(u).ok())
        .map(|u| u.origin().ascii_serialization())
        .filter(|o| o != "null")
        .unwrap_or_default()
}

/// The site's threads (oldest first) and their comments (by id), as neutral data.
pub fn read_site(state: &AppState, conn: &mut DbConn, site: &Site) -> Result<ImportData, AppError> {
    let own = super::import::own_source(state, site);
    let threads = db::threads::list_for_site(conn, site.id)?;
    let comments = db::comments::list_for_site(conn, site.id)?;
    let mut reactions = db::reactions::list_counts_for_site(conn, site.id)?;
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
                comments: thread_comments(&own, rows, &mut reactions)?,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(ImportData {
        threads,
        ..ImportData::default()
    })
}

fn thread_comments(
    own: &str,
    rows: Vec<Comment>,
    reactions: &mut HashMap<CommentId, ReactionCounts>,
) -> Result<Vec<ImportComment>, AppError> {
    let mut used = HashSet::with_capacity(rows.len());
    let names: HashMap<CommentId, String> = rows
        .iter()
        .map(|r| {
            let mut name = super::import::export_key(own, r.import_key.as_deref(), r.id.0);
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
            let counts = reactions.remove(&r.id).unwrap_or_default();
            Ok(ImportComment {
                reactions: counts
                    .iter()
                    .map(|(reaction, n)| (reaction.id().to_string(), n))
                    .collect(),
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
