//! What admins read and change: comments across threads and sites, reports, threads.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};

use super::DbConn;
use super::comments::CommentRow;
use super::schema::{comment_votes, comments, report_reviews, sites, threads};
use crate::domain::comment::{Comment, CommentId, CommentStatus};
use crate::domain::link;
use crate::domain::site::SiteId;
use crate::domain::thread::ThreadId;
use crate::error::AppError;

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>);

/// A comment with where it was posted.
#[derive(Debug, Clone)]
pub struct QueuedComment {
    pub comment: Comment,
    pub thread_key: String,
    pub thread_title: String,
    pub thread_url: String,
    pub site_slug: String,
}

/// Which comments a queue page shows.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// Statuses to show (none means any).
    pub statuses: Vec<CommentStatus>,
    /// Only these ids (the "reported" tab).
    pub ids: Option<Vec<CommentId>>,
    pub site_id: Option<SiteId>,
    pub text: Option<String>,
    pub author: Option<String>,
    pub email: Option<String>,
    pub ip: Option<String>,
    pub page: Option<String>,
    pub thread_id: Option<ThreadId>,
}

fn raw_ids(ids: &[CommentId]) -> Vec<i64> {
    ids.iter().map(|id| id.0).collect()
}

/// `%term%` with LIKE's wildcards in `term` escaped by `\`.
fn contains_pattern(term: &str) -> String {
    let escaped = term
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Newest first.
pub fn list(
    conn: &mut DbConn,
    filter: &QueueFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<QueuedComment>, AppError> {
    let mut query = comments::table
        .inner_join(threads::table.inner_join(sites::table))
        .select((
            CommentRow::as_select(),
            threads::key,
            threads::title,
            threads::url,
            sites::slug,
        ))
        .order((comments::created_at.desc(), comments::id.desc()))
        .limit(limit)
        .offset(offset)
        .into_boxed();
    if !filter.statuses.is_empty() {
        query = query.filter(comments::status.eq_any(filter.statuses.clone()));
    }
    if let Some(ids) = &filter.ids {
        query = query.filter(comments::id.eq_any(raw_ids(ids)));
    }
    if let Some(site) = filter.site_id {
        query = query.filter(threads::site_id.eq(site.0));
    }
    if let Some(thread) = filter.thread_id {
        query = query.filter(comments::thread_id.eq(thread.0));
    }
    if let Some(text) = &filter.text {
        query = query.filter(
            lower(comments::body_markdown.nullable())
                .like(contains_pattern(text))
                .escape('\\'),
        );
    }
    if let Some(author) = &filter.author {
        query = query.filter(
            lower(comments::author_name.nullable())
                .like(contains_pattern(author))
                .escape('\\'),
        );
    }
    if let Some(email) = &filter.email {
        query = query.filter(
            lower(comments::email)
                .like(contains_pattern(email))
                .escape('\\'),
        );
    }
    if let Some(ip) = &filter.ip {
        query = query.filter(
            lower(comments::client_ip)
                .like(contains_pattern(ip))
                .escape('\\'),
        );
    }
    if let Some(page) = &filter.page {
        query = query.filter(
            lower(threads::key.nullable())
                .like(contains_pattern(page))
                .escape('\\'),
        );
    }
    let rows: Vec<(CommentRow, String, String, String, String)> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(comment, thread_key, thread_title, thread_url, site_slug)| QueuedComment {
                comment: comment.into(),
                thread_key,
                thread_title,
                thread_url: link::safe_web_link_or_empty(thread_url),
                site_slug,
            },
        )
        .collect())
}

/// Comments per status, optionally for one site.
pub fn count_by_status(
    conn: &mut DbConn,
    site_id: Option<SiteId>,
) -> Result<HashMap<CommentStatus, i64>, AppError> {
    let mut query = comments::table
        .inner_join(threads::table)
        .group_by(comments::status)
        .select((comments::status, diesel::dsl::count(comments::id)))
        .into_boxed();
    if let Some(site) = site_id {
        query = query.filter(threads::site_id.eq(site.0));
    }
    let rows: Vec<(CommentStatus, i64)> = query.load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Comments (approved or pending) with reports newer than an admin's last decision on them,
/// with the number of distinct readers behind those reports.
pub fn unreviewed_reports(conn: &mut DbConn) -> Result<Vec<(CommentId, i64)>, AppError> {
    let votes: Vec<(i64, NaiveDateTime)> = comment_votes::table
        .inner_join(comments::table)
        .filter(comment_votes::kind.eq("report"))
        .filter(comments::status.eq_any([CommentStatus::Approved, CommentStatus::Pending]))
        .select((comment_votes::comment_id, comment_votes::created_at))
        .load(conn)?;
    let ids: Vec<i64> = votes.iter().map(|(id, _)| *id).collect();
    let reviews: HashMap<i64, NaiveDateTime> = report_reviews::table
        .filter(report_reviews::comment_id.eq_any(ids))
        .select((report_reviews::comment_id, report_reviews::reviewed_at))
        .load::<(i64, NaiveDateTime)>(conn)?
        .into_iter()
        .collect();
    let mut counts: HashMap<i64, i64> = HashMap::new();
    for (id, at) in votes {
        if reviews.get(&id).is_none_or(|reviewed| at > *reviewed) {
            *counts.entry(id).or_default() += 1;
        }
    }
    let mut out: Vec<(CommentId, i64)> = counts
        .into_iter()
        .map(|(id, n)| (CommentId(id), n))
        .collect();
    out.sort_unstable();
    Ok(out)
}

/// Distinct readers who reported one comment since an admin last decided on it.
pub fn count_unreviewed_reports(conn: &mut DbConn, id: CommentId) -> Result<i64, AppError> {
    let id = id.0;
    let reviewed: Option<NaiveDateTime> = report_reviews::table
        .find(id)
        .select(report_reviews::reviewed_at)
        .first(conn)
        .optional()?;
    let mut query = comment_votes::table
        .filter(comment_votes::comment_id.eq(id))
        .filter(comment_votes::kind.eq("report"))
        .count()
        .into_boxed();
    if let Some(at) = reviewed {
        query = query.filter(comment_votes::created_at.gt(at));
    }
    Ok(query.get_result(conn)?)
}

/// Report reasons of some comments, newest first.
pub fn report_reasons(
    conn: &mut DbConn,
    ids: &[CommentId],
) -> Result<HashMap<CommentId, Vec<String>>, AppError> {
    let rows: Vec<(i64, Option<String>)> = comment_votes::table
        .filter(comment_votes::kind.eq("report"))
        .filter(comment_votes::comment_id.eq_any(raw_ids(ids)))
        .order(comment_votes::created_at.desc())
        .select((comment_votes::comment_id, comment_votes::reason))
        .load(conn)?;
    let mut out: HashMap<CommentId, Vec<String>> = HashMap::new();
    for (id, reason) in rows {
        if let Some(r) = reason.filter(|r| !r.is_empty()) {
            out.entry(CommentId(id)).or_default().push(r);
        }
    }
    Ok(out)
}

/// Records that an admin decided on these comments now (their reports are settled).
pub fn upsert_reviews(
    conn: &mut DbConn,
    ids: &[CommentId],
    now: NaiveDateTime,
) -> Result<(), AppError> {
    for id in ids {
        diesel::sql_query(
            "INSERT INTO report_reviews (comment_id, reviewed_at) VALUES ($1, $2) \
             ON CONFLICT (comment_id) DO UPDATE SET reviewed_at = excluded.reviewed_at",
        )
        .bind::<BigInt, _>(id.0)
        .bind::<Timestamp, _>(now)
        .execute(conn)?;
    }
    Ok(())
}

/// The ids among `ids` that exist.
pub fn existing_ids(conn: &mut DbConn, ids: &[CommentId]) -> Result<Vec<CommentId>, AppError> {
    Ok(comments::table
        .filter(comments::id.eq_any(raw_ids(ids)))
        .select(comments::id)
        .load::<i64>(conn)?
        .into_iter()
        .map(CommentId)
        .collect())
}

pub fn update_pinned(
    conn: &mut DbConn,
    ids: &[CommentId],
    pinned: bool,
) -> Result<usize, AppError> {
    Ok(
        diesel::update(comments::table.filter(comments::id.eq_any(raw_ids(ids))))
            .set(comments::pinned.eq(pinned))
            .execute(conn)?,
    )
}

/// Ids of a site's comments written by an author: same e-mail (any case) when known, else the
/// same name among comments without an e-mail.
pub fn ids_by_author(
    conn: &mut DbConn,
    site_id: SiteId,
    email: Option<&str>,
    name: &str,
) -> Result<Vec<CommentId>, AppError> {
    let base = comments::table
        .inner_join(threads::table)
        .filter(threads::site_id.eq(site_id.0))
        .select(comments::id)
        .into_boxed();
    let query = match email {
        Some(email) => base.filter(lower(comments::email).eq(email.to_lowercase())),
        None => base
            .filter(comments::email.is_null())
            .filter(comments::author_name.eq(name.to_string())),
    };
    Ok(query
        .load::<i64>(conn)?
        .into_iter()
        .map(CommentId)
        .collect())
}

/// Creation times of a site's (or every site's) comments since `since`, for the chart.
pub fn created_since(
    conn: &mut DbConn,
    site_id: Option<SiteId>,
    since: NaiveDateTime,
) -> Result<Vec<NaiveDateTime>, AppError> {
    let mut query = comments::table
        .inner_join(threads::table)
        .filter(comments::created_at.ge(since))
        .select(comments::created_at)
        .into_boxed();
    if let Some(site) = site_id {
        query = query.filter(threads::site_id.eq(site.0));
    }
    Ok(query.load(conn)?)
}

/// A thread with its comment count, for the threads page.
#[derive(Debug, Clone)]
pub struct ThreadSummary {
    pub id: ThreadId,
    pub site_slug: String,
    pub key: String,
    pub title: String,
    pub url: String,
    pub created_at: DateTime<Utc>,
    pub closed: bool,
    pub comments: i64,
}

pub fn list_threads(
    conn: &mut DbConn,
    site_id: Option<SiteId>,
    key_contains: Option<&str>,
    limit: i64,
) -> Result<Vec<ThreadSummary>, AppError> {
    let mut query = threads::table
        .inner_join(sites::table)
        .select((
            threads::id,
            sites::slug,
            threads::key,
            threads::title,
            threads::url,
            threads::created_at,
            threads::closed,
            threads::approved_count,
        ))
        .order((threads::created_at.desc(), threads::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some(site) = site_id {
        query = query.filter(threads::site_id.eq(site.0));
    }
    if let Some(key) = key_contains {
        query = query.filter(
            lower(threads::key.nullable())
                .like(contains_pattern(key))
                .escape('\\'),
        );
    }
    type Row = (
        i64,
        String,
        String,
        String,
        String,
        NaiveDateTime,
        bool,
        i64,
    );
    let rows: Vec<Row> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, site_slug, key, title, url, created_at, closed, comments)| ThreadSummary {
                comments,
                id: ThreadId(id),
                site_slug,
                key,
                title,
                url: link::safe_web_link_or_empty(url),
                created_at: created_at.and_utc(),
                closed,
            },
        )
        .collect())
}
