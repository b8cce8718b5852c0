//! Readers who signed in, their sessions (only token hashes) and pending e-mail-link sign-ins.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::DbConn;
use super::schema::{reader_sessions, reader_signin_requests, readers};
use crate::domain::reader::{Identity, Reader, ReaderId};
use crate::domain::site::SiteId;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = readers)]
struct ReaderRow {
    id: i64,
    site_id: i64,
    provider: String,
    subject: String,
    email: Option<String>,
    display_name: String,
    created_at: NaiveDateTime,
    last_seen_at: NaiveDateTime,
}

impl ReaderRow {
    fn into_reader(self) -> Result<Reader, AppError> {
        let identity = Identity::parse(&self.provider, &self.subject).map_err(|e| {
            AppError::internal(anyhow::anyhow!("reader {}: stored identity: {e}", self.id))
        })?;
        Ok(Reader {
            id: ReaderId(self.id),
            site_id: SiteId(self.site_id),
            identity,
            email: self.email,
            display_name: self.display_name,
            created_at: self.created_at.and_utc(),
            last_seen_at: self.last_seen_at.and_utc(),
        })
    }
}

/// Inserts the reader with this identity, or updates its name, address and last sighting;
/// returns the stored reader.
pub fn upsert(
    conn: &mut DbConn,
    site: SiteId,
    identity: &Identity,
    email: Option<&str>,
    display_name: &str,
    now: NaiveDateTime,
) -> Result<Reader, AppError> {
    let row: ReaderRow = diesel::sql_query(
        "INSERT INTO readers (site_id, provider, subject, email, display_name, created_at, last_seen_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (site_id, provider, subject) DO UPDATE SET \
         email = excluded.email, display_name = excluded.display_name, last_seen_at = excluded.last_seen_at \
         RETURNING id, site_id, provider, subject, email, display_name, created_at, last_seen_at",
    )
    .bind::<BigInt, _>(site.0)
    .bind::<Text, _>(identity.provider.as_str())
    .bind::<Text, _>(&identity.subject)
    .bind::<Nullable<Text>, _>(email)
    .bind::<Text, _>(display_name)
    .bind::<Timestamp, _>(now)
    .bind::<Timestamp, _>(now)
    .get_result(conn)?;
    row.into_reader()
}

pub fn find(conn: &mut DbConn, id: ReaderId) -> Result<Option<Reader>, AppError> {
    readers::table
        .find(id.0)
        .select(ReaderRow::as_select())
        .first(conn)
        .optional()?
        .map(ReaderRow::into_reader)
        .transpose()
}

pub fn find_by_identity(
    conn: &mut DbConn,
    site: SiteId,
    identity: &Identity,
) -> Result<Option<Reader>, AppError> {
    readers::table
        .filter(readers::site_id.eq(site.0))
        .filter(readers::provider.eq(identity.provider.as_str()))
        .filter(readers::subject.eq(&identity.subject))
        .select(ReaderRow::as_select())
        .first(conn)
        .optional()?
        .map(ReaderRow::into_reader)
        .transpose()
}

/// Readers by id (for showing how comments' authors were identified).
pub fn list_by_ids(conn: &mut DbConn, ids: &[ReaderId]) -> Result<Vec<Reader>, AppError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = ids.iter().map(|r| r.0).collect();
    readers::table
        .filter(readers::id.eq_any(ids))
        .select(ReaderRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ReaderRow::into_reader)
        .collect()
}

/// Sets the reader's `last_seen_at` to `now` if it is older than `stale_before`; whether it
/// wrote (of several requests racing past the same stale value, one writes).
pub fn update_last_seen_before(
    conn: &mut DbConn,
    id: ReaderId,
    now: NaiveDateTime,
    stale_before: NaiveDateTime,
) -> Result<bool, AppError> {
    Ok(diesel::update(
        readers::table
            .find(id.0)
            .filter(readers::last_seen_at.le(stale_before)),
    )
    .set(readers::last_seen_at.eq(now))
    .execute(conn)?
        > 0)
}

pub fn insert_session(
    conn: &mut DbConn,
    token_hash: &str,
    reader: ReaderId,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<(), AppError> {
    diesel::insert_into(reader_sessions::table)
        .values((
            reader_sessions::token_hash.eq(token_hash),
            reader_sessions::reader_id.eq(reader.0),
            reader_sessions::created_at.eq(now),
            reader_sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The reader behind a live session.
pub fn find_session_reader(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
) -> Result<Option<Reader>, AppError> {
    reader_sessions::table
        .inner_join(readers::table)
        .filter(reader_sessions::token_hash.eq(token_hash))
        .filter(reader_sessions::expires_at.gt(now))
        .select(ReaderRow::as_select())
        .first(conn)
        .optional()?
        .map(ReaderRow::into_reader)
        .transpose()
}

/// Ends one session; returns whether there was one.
pub fn delete_session(conn: &mut DbConn, token_hash: &str) -> Result<bool, AppError> {
    Ok(
        diesel::delete(reader_sessions::table.filter(reader_sessions::token_hash.eq(token_hash)))
            .execute(conn)?
            > 0,
    )
}

/// Ends every session of a reader (a ban, say).
pub fn delete_sessions_of(conn: &mut DbConn, reader: ReaderId) -> Result<usize, AppError> {
    Ok(
        diesel::delete(reader_sessions::table.filter(reader_sessions::reader_id.eq(reader.0)))
            .execute(conn)?,
    )
}

pub fn delete_expired(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize, AppError> {
    let sessions =
        diesel::delete(reader_sessions::table.filter(reader_sessions::expires_at.le(now)))
            .execute(conn)?;
    let requests = diesel::delete(
        reader_signin_requests::table.filter(reader_signin_requests::expires_at.le(now)),
    )
    .execute(conn)?;
    Ok(sessions + requests)
}

/// Makes every session of a reader expire at `at` (tests and emergency revocation).
pub fn update_session_expiry(
    conn: &mut DbConn,
    reader: ReaderId,
    at: NaiveDateTime,
) -> Result<usize, AppError> {
    Ok(
        diesel::update(reader_sessions::table.filter(reader_sessions::reader_id.eq(reader.0)))
            .set(reader_sessions::expires_at.eq(at))
            .execute(conn)?,
    )
}

/// The live sessions of a reader (tests and the admin area count them).
pub fn count_sessions(conn: &mut DbConn, reader: ReaderId) -> Result<i64, AppError> {
    Ok(reader_sessions::table
        .filter(reader_sessions::reader_id.eq(reader.0))
        .count()
        .get_result(conn)?)
}

/// A pending e-mail-link sign-in.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = reader_signin_requests)]
pub struct SigninRequest {
    pub id: i64,
    pub site_id: i64,
    pub email: String,
    pub display_name: String,
    pub origin: String,
    pub browser_hash: String,
    pub code_hash: Option<String>,
    pub failures: i32,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    /// The page the reader asked from (on `origin`), where the link's page sends them back.
    pub page: Option<String>,
}

/// What a new e-mail-link sign-in request stores.
pub struct NewSigninRequest<'a> {
    pub site: SiteId,
    pub email: &'a str,
    pub display_name: &'a str,
    pub origin: &'a str,
    pub page: Option<&'a str>,
    pub browser_hash: &'a str,
    pub now: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn insert_signin_request(
    conn: &mut DbConn,
    new: &NewSigninRequest<'_>,
) -> Result<i64, AppError> {
    Ok(diesel::insert_into(reader_signin_requests::table)
        .values((
            reader_signin_requests::site_id.eq(new.site.0),
            reader_signin_requests::email.eq(new.email),
            reader_signin_requests::display_name.eq(new.display_name),
            reader_signin_requests::origin.eq(new.origin),
            reader_signin_requests::page.eq(new.page),
            reader_signin_requests::browser_hash.eq(new.browser_hash),
            reader_signin_requests::created_at.eq(new.now),
            reader_signin_requests::expires_at.eq(new.expires_at),
        ))
        .returning(reader_signin_requests::id)
        .get_result(conn)?)
}

pub fn find_signin_request(conn: &mut DbConn, id: i64) -> Result<Option<SigninRequest>, AppError> {
    Ok(reader_signin_requests::table
        .find(id)
        .select(SigninRequest::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_signin_request_by_browser(
    conn: &mut DbConn,
    browser_hash: &str,
) -> Result<Option<SigninRequest>, AppError> {
    Ok(reader_signin_requests::table
        .filter(reader_signin_requests::browser_hash.eq(browser_hash))
        .select(SigninRequest::as_select())
        .first(conn)
        .optional()?)
}

/// Records the hash of the one-time code shown when the mailed link was opened.
pub fn update_signin_code(conn: &mut DbConn, id: i64, code_hash: &str) -> Result<(), AppError> {
    diesel::update(reader_signin_requests::table.find(id))
        .set(reader_signin_requests::code_hash.eq(code_hash))
        .execute(conn)?;
    Ok(())
}

/// Counts a wrong code; returns the new count.
pub fn increment_signin_failures(conn: &mut DbConn, id: i64) -> Result<i32, AppError> {
    Ok(diesel::update(reader_signin_requests::table.find(id))
        .set(reader_signin_requests::failures.eq(reader_signin_requests::failures + 1))
        .returning(reader_signin_requests::failures)
        .get_result(conn)?)
}

pub fn delete_signin_request(conn: &mut DbConn, id: i64) -> Result<(), AppError> {
    diesel::delete(reader_signin_requests::table.find(id)).execute(conn)?;
    Ok(())
}

/// How many sign-in requests for an address are still pending on a site (a cap on mails).
pub fn count_pending_requests(
    conn: &mut DbConn,
    site: SiteId,
    email: &str,
    now: NaiveDateTime,
) -> Result<i64, AppError> {
    Ok(reader_signin_requests::table
        .filter(reader_signin_requests::site_id.eq(site.0))
        .filter(reader_signin_requests::email.eq(email))
        .filter(reader_signin_requests::expires_at.gt(now))
        .count()
        .get_result(conn)?)
}

/// Every comment a reader posted on their site (deleted ones aside), oldest first.
pub fn list_comments(
    conn: &mut DbConn,
    reader: ReaderId,
) -> Result<
    Vec<(
        crate::domain::comment::Comment,
        crate::domain::thread::Thread,
    )>,
    AppError,
> {
    use super::comments::CommentRow;
    use super::schema::{comments, threads};
    use super::threads::ThreadRow;
    let rows: Vec<(CommentRow, ThreadRow)> = comments::table
        .inner_join(threads::table)
        .filter(comments::reader_id.eq(reader.0))
        .filter(comments::status.ne(crate::domain::comment::CommentStatus::Deleted))
        .order((comments::created_at.asc(), comments::id.asc()))
        .select((CommentRow::as_select(), ThreadRow::as_select()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(comment, thread)| (comment.into(), thread.into()))
        .collect())
}
