//! Comment rows.
//!
//! Every change of what a comment counts as (inserting, changing its status, removing it)
//! happens here, and each adjusts its thread's approved-comment counter
//! (`threads.approved_count`) in the same statement's transaction: [`insert`],
//! [`insert_of_kind`], [`insert_imported_batch`], [`update_status`] and [`remove`]. Deleting a
//! thread or a site takes its counter with it.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::DbConn;
use super::schema::{comments, threads};
use crate::domain::comment::{BodyFormat, Comment, CommentId, CommentKind, CommentStatus};
use crate::domain::reader::{Provider, ReaderId};
use crate::domain::site::SiteId;
use crate::domain::thread::{Cursor, Sort, ThreadId};
use crate::error::AppError;
use crate::render::SafeHtml;

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>);

/// Statuses a reader can see: approved comments and placeholders of deleted ones.
const VISIBLE: [CommentStatus; 2] = [CommentStatus::Approved, CommentStatus::Deleted];

/// A comment as stored; read through [`Comment`] outside `db`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = comments)]
pub(super) struct CommentRow {
    pub id: i64,
    pub thread_id: i64,
    pub parent_id: Option<i64>,
    pub root_id: Option<i64>,
    pub depth: i32,
    pub author_name: String,
    pub email: Option<String>,
    /// `None` unless the stored URL passes the link check ([`crate::domain::link`]).
    #[diesel(deserialize_as = super::columns::OptionalLinkColumn)]
    pub website: Option<String>,
    pub body_markdown: String,
    pub body_html: String,
    pub status: CommentStatus,
    pub held_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub edited_at: Option<NaiveDateTime>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    pub like_count: i64,
    pub notify_replies: bool,
    pub pinned: bool,
    pub is_owner: bool,
    /// `format:source id` of an imported comment, unique per thread.
    pub import_key: Option<String>,
    pub kind: CommentKind,
    /// What `body_markdown` holds: Markdown (written here) or HTML (imported source HTML).
    pub body_format: BodyFormat,
    /// The signed-in reader who wrote it.
    pub reader_id: Option<i64>,
    /// The provider that reader had signed in with (`email`, `github`, …).
    pub signed_in_with: Option<String>,
}

/// The columns every stored comment is given, written here or imported. `None` is written as
/// NULL (not `DEFAULT`), so each `INSERT` below is one statement whatever the values.
#[derive(Debug, Insertable)]
#[diesel(table_name = comments, treat_none_as_default_value = false)]
pub struct CommentColumns<'a> {
    pub thread_id: i64,
    pub parent_id: Option<i64>,
    pub root_id: Option<i64>,
    pub depth: i32,
    pub author_name: &'a str,
    pub email: Option<&'a str>,
    pub website: Option<&'a str>,
    pub body_markdown: &'a str,
    pub body_html: &'a str,
    pub status: CommentStatus,
    pub held_reason: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub client_ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub edit_token_hash: &'a str,
    pub notify_replies: bool,
    pub is_owner: bool,
}

/// A comment about to be stored; its HTML is already sanitized. The same `INSERT` for every
/// comment, so the connection keeps it prepared (diesel does not cache an insert whose SQL
/// varies).
#[derive(Debug, Insertable)]
#[diesel(table_name = comments, treat_none_as_default_value = false)]
pub struct NewCommentRow<'a> {
    #[diesel(embed)]
    pub columns: CommentColumns<'a>,
    pub fingerprint: Option<&'a str>,
    /// The signed-in reader writing it (`None`: anonymous, the owner, a webmention).
    pub reader_id: Option<i64>,
    /// The provider that reader signed in with.
    pub signed_in_with: Option<&'a str>,
}

/// An imported comment: every column is given (times, likes, pins come from the source), so a
/// batch is one multi-row `INSERT` on both backends.
#[derive(Debug, Insertable)]
#[diesel(table_name = comments, treat_none_as_default_value = false)]
pub struct ImportedCommentRow<'a> {
    #[diesel(embed)]
    pub columns: CommentColumns<'a>,
    pub edited_at: Option<NaiveDateTime>,
    pub like_count: i64,
    pub pinned: bool,
    pub import_key: Option<&'a str>,
    pub kind: CommentKind,
    pub body_format: BodyFormat,
}

/// Inserts a batch of imported comments in one statement; returns `(id, thread_id,
/// import_key)` of each row (in no promised order).
pub fn insert_imported_batch(
    conn: &mut DbConn,
    rows: &[ImportedCommentRow<'_>],
) -> Result<Vec<(i64, i64, Option<String>)>, AppError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let returning = (comments::id, comments::thread_id, comments::import_key);
    // Multi-row inserts do not go through the MultiConnection enum: the same DSL per backend.
    let inserted = match conn {
        DbConn::Pg(c) => diesel::insert_into(comments::table)
            .values(rows)
            .returning(returning)
            .get_results(c)?,
        DbConn::Sqlite(c) => diesel::insert_into(comments::table)
            .values(rows)
            .returning(returning)
            .get_results(c)?,
    };
    super::threads::add_to_approved_counts(
        conn,
        rows.iter()
            .filter(|r| r.columns.status == CommentStatus::Approved)
            .map(|r| (r.columns.thread_id, 1)),
    )?;
    Ok(inserted)
}

/// Where a comment sits: `(import_key, id, root_id, depth)`.
pub type Place = (Option<String>, i64, Option<i64>, i32);

/// Every comment of a thread with its import key (`None` for comments written here), for an
/// import to find what it already holds.
pub fn list_places(conn: &mut DbConn, thread: ThreadId) -> Result<Vec<Place>, AppError> {
    Ok(comments::table
        .filter(comments::thread_id.eq(thread.0))
        .select((
            comments::import_key,
            comments::id,
            comments::root_id,
            comments::depth,
        ))
        .load(conn)?)
}

/// Every comment of a site, by thread then id (for exports).
pub fn list_for_site(conn: &mut DbConn, site: SiteId) -> Result<Vec<Comment>, AppError> {
    Ok(comments::table
        .inner_join(threads::table)
        .filter(threads::site_id.eq(site.0))
        .order((comments::thread_id.asc(), comments::id.asc()))
        .select(CommentRow::as_select())
        .load::<CommentRow>(conn)?
        .into_iter()
        .map(Comment::from)
        .collect())
}

impl From<CommentRow> for Comment {
    fn from(row: CommentRow) -> Self {
        Comment {
            id: CommentId(row.id),
            thread_id: ThreadId(row.thread_id),
            parent_id: row.parent_id.map(CommentId),
            root_id: row.root_id.map(CommentId),
            depth: row.depth,
            author: row.author_name,
            email: row.email,
            website: row.website,
            body_markdown: row.body_markdown,
            body_html: SafeHtml::from_storage(row.body_html),
            status: row.status,
            held_reason: row.held_reason,
            created_at: utc(row.created_at),
            edited_at: row.edited_at.map(utc),
            like_count: row.like_count,
            pinned: row.pinned,
            owner: row.is_owner,
            kind: row.kind,
            body_format: row.body_format,
            client_ip: row.client_ip,
            user_agent: row.user_agent,
            notify_replies: row.notify_replies,
            import_key: row.import_key,
            reader_id: row.reader_id.map(ReaderId),
            signed_in_with: row
                .signed_in_with
                .as_deref()
                .and_then(|p| Provider::parse(p).ok()),
        }
    }
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

pub fn insert(conn: &mut DbConn, row: &NewCommentRow<'_>) -> Result<Comment, AppError> {
    let stored = insert_row(conn, row)?;
    counted_insert(conn, row)?;
    Ok(stored)
}

/// New comments not yet in their threads' counters: [`insert_counted_later`] adds to it, and
/// [`PendingCounts::apply`] must run in the same transaction, before its commit.
///
/// Why: a batch of posts (`service::post_writer`) adds to each thread's counter once, at its
/// end and in thread id order, so that it holds a thread's row lock only for its commit and
/// two batches never wait for each other's rows in opposite orders.
#[derive(Debug, Default)]
pub struct PendingCounts(Vec<(i64, i64)>);

impl PendingCounts {
    /// Counts `comment` (inserted with [`insert_counted_later`] and kept: call it once the work
    /// that inserted it can no longer be rolled back alone).
    pub fn add(&mut self, comment: &Comment) {
        if comment.status == CommentStatus::Approved {
            self.0.push((comment.thread_id.0, 1));
        }
    }

    /// Adds everything counted to the threads' counters.
    pub fn apply(self, conn: &mut DbConn) -> Result<(), AppError> {
        super::threads::add_to_approved_counts(conn, self.0)
    }
}

/// [`insert`] without touching the thread's counter: the caller counts the comment with
/// [`PendingCounts`] in the same transaction.
pub fn insert_counted_later(
    conn: &mut DbConn,
    row: &NewCommentRow<'_>,
) -> Result<Comment, AppError> {
    insert_row(conn, row)
}

fn insert_row(conn: &mut DbConn, row: &NewCommentRow<'_>) -> Result<Comment, AppError> {
    // The stored row in the same statement; a returned `Selectable` does not go through the
    // MultiConnection enum: the same DSL per backend.
    let stored: CommentRow = match conn {
        DbConn::Pg(c) => diesel::insert_into(comments::table)
            .values(row)
            .returning(CommentRow::as_returning())
            .get_result(c)?,
        DbConn::Sqlite(c) => diesel::insert_into(comments::table)
            .values(row)
            .returning(CommentRow::as_returning())
            .get_result(c)?,
    };
    Ok(stored.into())
}

/// Counts a just inserted comment in its thread's counter.
fn counted_insert(conn: &mut DbConn, row: &NewCommentRow<'_>) -> Result<(), AppError> {
    if row.columns.status == CommentStatus::Approved {
        super::threads::add_to_approved_counts(conn, [(row.columns.thread_id, 1)])?;
    }
    Ok(())
}

fn find_existing(conn: &mut DbConn, id: i64) -> Result<Comment, AppError> {
    let row: CommentRow = comments::table
        .find(id)
        .select(CommentRow::as_select())
        .first(conn)?;
    Ok(row.into())
}

/// The stored hash of a comment's edit token.
pub fn find_edit_token_hash(conn: &mut DbConn, id: CommentId) -> Result<Option<String>, AppError> {
    Ok(comments::table
        .find(id.0)
        .select(comments::edit_token_hash)
        .first(conn)
        .optional()?)
}

pub fn find(conn: &mut DbConn, id: CommentId) -> Result<Option<Comment>, AppError> {
    Ok(comments::table
        .find(id.0)
        .select(CommentRow::as_select())
        .first::<CommentRow>(conn)
        .optional()?
        .map(Comment::from))
}

/// A comment, only if it belongs to a thread of `site`.
pub fn find_in_site(
    conn: &mut DbConn,
    site: SiteId,
    id: CommentId,
) -> Result<Option<Comment>, AppError> {
    Ok(comments::table
        .inner_join(threads::table)
        .filter(comments::id.eq(id.0))
        .filter(threads::site_id.eq(site.0))
        .select(CommentRow::as_select())
        .first::<CommentRow>(conn)
        .optional()?
        .map(Comment::from))
}

/// `(id, depth)` of a comment and its ancestors, nearest first.
pub fn ancestry(conn: &mut DbConn, id: CommentId) -> Result<Vec<(CommentId, i32)>, AppError> {
    let mut chain = Vec::new();
    let mut next = Some(id.0);
    while let Some(current) = next {
        let (parent, depth): (Option<i64>, i32) = comments::table
            .find(current)
            .select((comments::parent_id, comments::depth))
            .first(conn)?;
        chain.push((CommentId(current), depth));
        next = parent;
        if chain.len() > 64 {
            break;
        }
    }
    Ok(chain)
}

/// Pinned top-level comments of a thread (they head the first page).
pub fn list_pinned_roots(conn: &mut DbConn, thread: ThreadId) -> Result<Vec<Comment>, AppError> {
    Ok(comments::table
        .filter(comments::thread_id.eq(thread.0))
        .filter(comments::parent_id.is_null())
        .filter(comments::pinned.eq(true))
        .filter(comments::status.eq_any(VISIBLE))
        .order((comments::created_at.asc(), comments::id.asc()))
        .select(CommentRow::as_select())
        .load::<CommentRow>(conn)?
        .into_iter()
        .map(Comment::from)
        .collect())
}

/// One page of unpinned top-level comments in `sort` order, after `cursor`.
pub fn list_roots_page(
    conn: &mut DbConn,
    thread: ThreadId,
    sort: Sort,
    cursor: Option<Cursor>,
    limit: i64,
) -> Result<Vec<Comment>, AppError> {
    let mut query = comments::table
        .filter(comments::thread_id.eq(thread.0))
        .filter(comments::parent_id.is_null())
        .filter(comments::pinned.eq(false))
        .filter(comments::status.eq_any(VISIBLE))
        .select(CommentRow::as_select())
        .limit(limit)
        .into_boxed();
    query = match sort {
        Sort::Oldest => query.order((comments::created_at.asc(), comments::id.asc())),
        Sort::Newest => query.order((comments::created_at.desc(), comments::id.desc())),
        Sort::Top => query.order((comments::like_count.desc(), comments::id.asc())),
    };
    if let Some(cursor) = cursor {
        let id = cursor.id;
        query = match sort {
            Sort::Oldest | Sort::Newest => {
                let at = DateTime::from_timestamp_micros(cursor.value)
                    .map(|t| t.naive_utc())
                    .unwrap_or_default();
                if sort == Sort::Oldest {
                    query.filter(
                        comments::created_at
                            .gt(at)
                            .or(comments::created_at.eq(at).and(comments::id.gt(id))),
                    )
                } else {
                    query.filter(
                        comments::created_at
                            .lt(at)
                            .or(comments::created_at.eq(at).and(comments::id.lt(id))),
                    )
                }
            }
            Sort::Top => query.filter(
                comments::like_count
                    .lt(cursor.value)
                    .or(comments::like_count
                        .eq(cursor.value)
                        .and(comments::id.gt(id))),
            ),
        };
    }
    Ok(query
        .load::<CommentRow>(conn)?
        .into_iter()
        .map(Comment::from)
        .collect())
}

/// Visible replies (any depth) below the given top-level comments.
pub fn list_replies_of_roots(
    conn: &mut DbConn,
    thread: ThreadId,
    roots: &[CommentId],
) -> Result<Vec<Comment>, AppError> {
    if roots.is_empty() {
        return Ok(Vec::new());
    }
    let roots: Vec<i64> = roots.iter().map(|r| r.0).collect();
    Ok(comments::table
        .filter(comments::thread_id.eq(thread.0))
        .filter(comments::root_id.eq_any(roots))
        .filter(comments::status.eq_any(VISIBLE))
        .select(CommentRow::as_select())
        .load::<CommentRow>(conn)?
        .into_iter()
        .map(Comment::from)
        .collect())
}

/// An approved comment for a feed, with the page it is on.
#[derive(Debug, Clone)]
pub struct FeedItem {
    pub comment: Comment,
    pub thread_key: String,
    pub thread_title: String,
    pub thread_url: String,
}

/// The newest `limit` approved comments of a site, or of one of its threads, newest first.
pub fn list_newest_approved(
    conn: &mut DbConn,
    site: SiteId,
    thread: Option<ThreadId>,
    limit: i64,
) -> Result<Vec<FeedItem>, AppError> {
    let mut query = comments::table
        .inner_join(threads::table)
        .filter(threads::site_id.eq(site.0))
        .filter(comments::status.eq(CommentStatus::Approved))
        .order((comments::created_at.desc(), comments::id.desc()))
        .select((
            CommentRow::as_select(),
            threads::key,
            threads::title,
            threads::url,
        ))
        .limit(limit)
        .into_boxed();
    if let Some(thread) = thread {
        query = query.filter(comments::thread_id.eq(thread.0));
    }
    Ok(query
        .load::<(CommentRow, String, String, String)>(conn)?
        .into_iter()
        .map(|(row, thread_key, thread_title, thread_url)| FeedItem {
            comment: Comment::from(row),
            thread_key,
            thread_title,
            thread_url,
        })
        .collect())
}

/// Whether the address (compared case-insensitively) has an approved comment on the site.
pub fn email_has_approved(
    conn: &mut DbConn,
    site: SiteId,
    email_lowercase: &str,
) -> Result<bool, AppError> {
    let found: Option<i64> = comments::table
        .inner_join(threads::table)
        .filter(threads::site_id.eq(site.0))
        .filter(comments::status.eq(CommentStatus::Approved))
        .filter(lower(comments::email).eq(email_lowercase))
        .select(comments::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

pub fn has_replies(conn: &mut DbConn, id: CommentId) -> Result<bool, AppError> {
    let found: Option<i64> = comments::table
        .filter(comments::parent_id.eq(id.0))
        .select(comments::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

pub fn update_body(
    conn: &mut DbConn,
    id: CommentId,
    markdown: &str,
    html: &SafeHtml,
    edited_at: NaiveDateTime,
) -> Result<Comment, AppError> {
    diesel::update(comments::table.find(id.0))
        .set((
            comments::body_markdown.eq(markdown),
            comments::body_html.eq(html.as_str()),
            comments::edited_at.eq(Some(edited_at)),
            comments::body_format.eq(BodyFormat::Markdown),
        ))
        .execute(conn)?;
    find_existing(conn, id.0)
}

/// Takes a comment down (its author, or the page that mentioned, asked for it to go): deleted
/// outright, or a contentless "deleted" placeholder when it has replies, so that they keep their
/// place. Only a comment without replies is deleted, so no reply goes with it.
pub fn remove(conn: &mut DbConn, id: CommentId) -> Result<(), AppError> {
    if has_replies(conn, id)? {
        update_status(conn, &[id], CommentStatus::Deleted, None)?;
        diesel::update(comments::table.find(id.0))
            .set((
                comments::author_name.eq(""),
                comments::email.eq(None::<String>),
                comments::website.eq(None::<String>),
                comments::body_markdown.eq(""),
                comments::body_html.eq(""),
                comments::client_ip.eq(None::<String>),
                comments::user_agent.eq(None::<String>),
                comments::notify_replies.eq(false),
            ))
            .execute(conn)?;
    } else {
        let gone: Option<(i64, CommentStatus)> = diesel::delete(comments::table.find(id.0))
            .returning((comments::thread_id, comments::status))
            .get_result(conn)
            .optional()?;
        if let Some((thread, CommentStatus::Approved)) = gone {
            super::threads::add_to_approved_counts(conn, [(thread, -1)])?;
        }
    }
    Ok(())
}

/// Sets the status (and the reason shown) of the given comments and adjusts their threads'
/// counters; returns how many it found. Each statement picks rows by their current status,
/// and PostgreSQL re-checks that condition on a row another transaction changed meanwhile, so
/// two transactions approving (or deleting) the same comment count it once.
pub fn update_status(
    conn: &mut DbConn,
    ids: &[CommentId],
    status: CommentStatus,
    held_reason: Option<&str>,
) -> Result<usize, AppError> {
    let raw: Vec<i64> = ids.iter().map(|id| id.0).collect();
    if raw.is_empty() {
        return Ok(0);
    }
    let set = || {
        (
            comments::status.eq(status),
            comments::held_reason.eq(held_reason),
        )
    };
    let approved = |yes: bool, except: &[i64]| {
        comments::table
            .filter(comments::id.eq_any(raw.clone()))
            .filter(comments::id.ne_all(except.to_vec()))
            .filter(comments::status.eq(CommentStatus::Approved).eq(yes))
    };
    // First the rows that cross the line of "approved" (counted), then the others, but not
    // the rows just crossed. A row another transaction changed meanwhile is picked by the
    // statement its new status matches, so a comment two transactions spam at once is
    // found by both.
    let to_approved = status == CommentStatus::Approved;
    let crossed: Vec<(i64, i64)> = diesel::update(approved(!to_approved, &[]))
        .set(set())
        .returning((comments::id, comments::thread_id))
        .get_results(conn)?;
    let crossed_ids: Vec<i64> = crossed.iter().map(|(id, _)| *id).collect();
    let kept = diesel::update(approved(to_approved, &crossed_ids))
        .set(set())
        .execute(conn)?;
    let delta = if to_approved { 1 } else { -1 };
    super::threads::add_to_approved_counts(conn, crossed.iter().map(|(_, t)| (*t, delta)))?;
    Ok(kept + crossed.len())
}

pub fn update_like_count(conn: &mut DbConn, id: CommentId, delta: i64) -> Result<i64, AppError> {
    Ok(diesel::update(comments::table.find(id.0))
        .set(comments::like_count.eq(comments::like_count + delta))
        .returning(comments::like_count)
        .get_result(conn)?)
}

/// Erases client IPs and user agents stored before `before`; returns how many rows changed.
pub fn erase_client_data_before(
    conn: &mut DbConn,
    before: NaiveDateTime,
) -> Result<usize, AppError> {
    Ok(diesel::update(
        comments::table
            .filter(comments::created_at.lt(before))
            .filter(
                comments::client_ip
                    .is_not_null()
                    .or(comments::user_agent.is_not_null()),
            ),
    )
    .set((
        comments::client_ip.eq(None::<String>),
        comments::user_agent.eq(None::<String>),
    ))
    .execute(conn)?)
}

/// Stores a comment of another kind than a written one (a received Webmention), whose source
/// is HTML or text from elsewhere.
pub fn insert_of_kind(
    conn: &mut DbConn,
    row: &NewCommentRow<'_>,
    kind: CommentKind,
    format: BodyFormat,
) -> Result<Comment, AppError> {
    let id: i64 = diesel::insert_into(comments::table)
        .values((
            row,
            comments::kind.eq(kind),
            comments::body_format.eq(format),
        ))
        .returning(comments::id)
        .get_result(conn)?;
    counted_insert(conn, row)?;
    find_existing(conn, id)
}

/// Replaces what a received mention says (its source page changed); the status is set apart.
pub fn update_mention(
    conn: &mut DbConn,
    id: CommentId,
    author: &str,
    website: Option<&str>,
    source: &str,
    html: &SafeHtml,
    edited_at: NaiveDateTime,
) -> Result<Comment, AppError> {
    diesel::update(comments::table.find(id.0))
        .set((
            comments::author_name.eq(author),
            comments::website.eq(website),
            comments::body_markdown.eq(source),
            comments::body_html.eq(html.as_str()),
            comments::edited_at.eq(Some(edited_at)),
        ))
        .execute(conn)?;
    find_existing(conn, id.0)
}
