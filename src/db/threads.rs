//! Thread rows.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use super::DbConn;
use super::schema::threads;
use crate::domain::site::SiteId;
use crate::domain::thread::{Thread, ThreadId, ThreadKey, ThreadMeta};
use crate::error::AppError;

/// A thread as stored; read through [`Thread`] outside `db`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = threads)]
pub(super) struct ThreadRow {
    pub id: i64,
    pub site_id: i64,
    pub key: String,
    pub title: String,
    /// Empty unless the stored URL passes the link check ([`crate::domain::link`]).
    #[diesel(deserialize_as = super::columns::LinkColumn)]
    pub url: String,
    pub created_at: NaiveDateTime,
    pub closed: bool,
    pub approved_count: i64,
}

impl From<ThreadRow> for Thread {
    fn from(row: ThreadRow) -> Self {
        Thread {
            id: ThreadId(row.id),
            site_id: SiteId(row.site_id),
            key: row.key,
            title: row.title,
            url: row.url,
            created_at: row.created_at.and_utc(),
            closed: row.closed,
            approved_count: row.approved_count,
        }
    }
}

pub fn find_by_key(
    conn: &mut DbConn,
    site: SiteId,
    key: &ThreadKey,
) -> Result<Option<Thread>, AppError> {
    // At most one row (unique site and key), read without `LIMIT`: SQLite prepares a statement
    // with a bound LIMIT again at every execution.
    Ok(threads::table
        .filter(threads::site_id.eq(site.0))
        .filter(threads::key.eq(key.as_str()))
        .select(ThreadRow::as_select())
        .get_result::<ThreadRow>(conn)
        .optional()?
        .map(Thread::from))
}

/// Every thread of a site, oldest first.
pub fn list_for_site(conn: &mut DbConn, site: SiteId) -> Result<Vec<Thread>, AppError> {
    Ok(threads::table
        .filter(threads::site_id.eq(site.0))
        .order(threads::id.asc())
        .select(ThreadRow::as_select())
        .load::<ThreadRow>(conn)?
        .into_iter()
        .map(Thread::from)
        .collect())
}

pub fn find_by_id(conn: &mut DbConn, id: ThreadId) -> Result<Option<Thread>, AppError> {
    Ok(threads::table
        .find(id.0)
        .select(ThreadRow::as_select())
        .first::<ThreadRow>(conn)
        .optional()?
        .map(Thread::from))
}

/// The thread for `key`, created with `meta` when it does not exist yet (safe under
/// concurrent first comments).
pub fn find_or_insert(
    conn: &mut DbConn,
    site: SiteId,
    key: &ThreadKey,
    meta: &ThreadMeta,
    now: NaiveDateTime,
) -> Result<Thread, AppError> {
    // Most comments go to a thread that exists: one query then.
    if let Some(thread) = find_by_key(conn, site, key)? {
        return Ok(thread);
    }
    diesel::sql_query(
        "INSERT INTO threads (site_id, key, title, url, created_at, closed) \
         VALUES ($1, $2, $3, $4, $5, FALSE) ON CONFLICT (site_id, key) DO NOTHING",
    )
    .bind::<BigInt, _>(site.0)
    .bind::<Text, _>(key.as_str())
    .bind::<Text, _>(&meta.title)
    .bind::<Text, _>(&meta.url)
    .bind::<Timestamp, _>(now)
    .execute(conn)?;
    find_by_key(conn, site, key)?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("thread vanished after insert")))
}

/// Fills in a title or URL the thread was created without.
pub fn update_missing_meta(
    conn: &mut DbConn,
    thread: &Thread,
    meta: &ThreadMeta,
) -> Result<(), AppError> {
    if thread.title.is_empty() && !meta.title.is_empty() {
        diesel::update(threads::table.find(thread.id.0))
            .set(threads::title.eq(&meta.title))
            .execute(conn)?;
    }
    if thread.url.is_empty() && !meta.url.is_empty() {
        diesel::update(threads::table.find(thread.id.0))
            .set(threads::url.eq(&meta.url))
            .execute(conn)?;
    }
    Ok(())
}

/// Approved comment counts for the given keys of one site, read from the threads' counters;
/// keys without a thread are absent.
pub fn count_approved_by_key(
    conn: &mut DbConn,
    site: SiteId,
    keys: &[String],
) -> Result<Vec<(String, i64)>, AppError> {
    Ok(threads::table
        .filter(threads::site_id.eq(site.0))
        .filter(threads::key.eq_any(keys))
        .select((threads::key, threads::approved_count))
        .load(conn)?)
}

/// Adds `delta` to the approved-comment counter of each thread, in thread id order (so that
/// concurrent transactions lock the rows in one order). Only `db::comments`, which makes every
/// change of a comment's status, calls it, inside the transaction that makes the change.
pub(super) fn add_to_approved_counts(
    conn: &mut DbConn,
    deltas: impl IntoIterator<Item = (i64, i64)>,
) -> Result<(), AppError> {
    let mut by_thread = std::collections::BTreeMap::<i64, i64>::new();
    for (thread, delta) in deltas {
        *by_thread.entry(thread).or_default() += delta;
    }
    for (thread, delta) in by_thread {
        if delta != 0 {
            diesel::update(threads::table.find(thread))
                .set(threads::approved_count.eq(threads::approved_count + delta))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Opens or closes a thread to new comments.
pub fn update_closed(conn: &mut DbConn, id: ThreadId, closed: bool) -> Result<(), AppError> {
    diesel::update(threads::table.find(id.0))
        .set(threads::closed.eq(closed))
        .execute(conn)?;
    Ok(())
}

/// The oldest thread of a site whose page URL is `url`.
pub fn find_by_url(conn: &mut DbConn, site: SiteId, url: &str) -> Result<Option<Thread>, AppError> {
    Ok(threads::table
        .filter(threads::site_id.eq(site.0))
        .filter(threads::url.eq(url))
        .order(threads::id.asc())
        .select(ThreadRow::as_select())
        .first::<ThreadRow>(conn)
        .optional()?
        .map(Thread::from))
}
