//! Admin accounts, sessions (only token hashes), setup tokens and failed logins.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{admin_sessions, admin_setup_tokens, admins, login_failures};
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = admins)]
pub struct AdminRow {
    pub id: i64,
    pub name: String,
    pub password_hash: String,
    pub created_at: NaiveDateTime,
    /// What readers see on the admin's replies; empty: the site's name.
    pub display_name: String,
}

/// The name readers see on admin `id`'s replies (empty when none was chosen).
pub fn find_display_name(conn: &mut DbConn, id: i64) -> Result<Option<String>, AppError> {
    Ok(admins::table
        .find(id)
        .select(admins::display_name)
        .first(conn)
        .optional()?)
}

pub fn update_display_name(conn: &mut DbConn, id: i64, display_name: &str) -> Result<(), AppError> {
    diesel::update(admins::table.find(id))
        .set(admins::display_name.eq(display_name))
        .execute(conn)?;
    Ok(())
}

pub fn count(conn: &mut DbConn) -> Result<i64, AppError> {
    Ok(admins::table.count().get_result(conn)?)
}

pub fn insert(
    conn: &mut DbConn,
    name: &str,
    password_hash: &str,
    now: NaiveDateTime,
) -> Result<i64, AppError> {
    Ok(diesel::insert_into(admins::table)
        .values((
            admins::name.eq(name),
            admins::password_hash.eq(password_hash),
            admins::created_at.eq(now),
        ))
        .returning(admins::id)
        .get_result(conn)?)
}

pub fn find_by_name(conn: &mut DbConn, name: &str) -> Result<Option<AdminRow>, AppError> {
    Ok(admins::table
        .filter(admins::name.eq(name))
        .select(AdminRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn update_password(conn: &mut DbConn, id: i64, password_hash: &str) -> Result<(), AppError> {
    diesel::update(admins::table.find(id))
        .set(admins::password_hash.eq(password_hash))
        .execute(conn)?;
    Ok(())
}

pub fn insert_session(
    conn: &mut DbConn,
    token_hash: &str,
    admin_id: i64,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<(), AppError> {
    diesel::insert_into(admin_sessions::table)
        .values((
            admin_sessions::token_hash.eq(token_hash),
            admin_sessions::admin_id.eq(admin_id),
            admin_sessions::created_at.eq(now),
            admin_sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The admin `(id, name)` behind a live session.
pub fn find_session_admin(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
) -> Result<Option<(i64, String)>, AppError> {
    Ok(admin_sessions::table
        .inner_join(admins::table)
        .filter(admin_sessions::token_hash.eq(token_hash))
        .filter(admin_sessions::expires_at.gt(now))
        .select((admins::id, admins::name))
        .first(conn)
        .optional()?)
}

pub fn delete_session(conn: &mut DbConn, token_hash: &str) -> Result<(), AppError> {
    diesel::delete(admin_sessions::table.filter(admin_sessions::token_hash.eq(token_hash)))
        .execute(conn)?;
    Ok(())
}

/// Ends every session of an admin (password change, "log out everywhere").
pub fn delete_sessions_of(conn: &mut DbConn, admin_id: i64) -> Result<usize, AppError> {
    Ok(
        diesel::delete(admin_sessions::table.filter(admin_sessions::admin_id.eq(admin_id)))
            .execute(conn)?,
    )
}

pub fn delete_expired_sessions(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize, AppError> {
    Ok(
        diesel::delete(admin_sessions::table.filter(admin_sessions::expires_at.le(now)))
            .execute(conn)?,
    )
}

/// Makes every session of every admin expire at `at` (tests and emergency revocation).
pub fn update_session_expiry(conn: &mut DbConn, at: NaiveDateTime) -> Result<usize, AppError> {
    Ok(diesel::update(admin_sessions::table)
        .set(admin_sessions::expires_at.eq(at))
        .execute(conn)?)
}

pub fn insert_setup_token(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    diesel::insert_into(admin_setup_tokens::table)
        .values((
            admin_setup_tokens::token_hash.eq(token_hash),
            admin_setup_tokens::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn setup_token_exists(conn: &mut DbConn, token_hash: &str) -> Result<bool, AppError> {
    let found: Option<String> = admin_setup_tokens::table
        .filter(admin_setup_tokens::token_hash.eq(token_hash))
        .select(admin_setup_tokens::token_hash)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

pub fn delete_setup_tokens(conn: &mut DbConn) -> Result<(), AppError> {
    diesel::delete(admin_setup_tokens::table).execute(conn)?;
    Ok(())
}

pub fn count_failures_since(
    conn: &mut DbConn,
    scope: &str,
    since: NaiveDateTime,
) -> Result<i64, AppError> {
    Ok(login_failures::table
        .filter(login_failures::scope.eq(scope))
        .filter(login_failures::created_at.gt(since))
        .count()
        .get_result(conn)?)
}

/// Records a failed (or not yet checked) login of `scope`; returns its id.
pub fn insert_failure(conn: &mut DbConn, scope: &str, now: NaiveDateTime) -> Result<i64, AppError> {
    Ok(diesel::insert_into(login_failures::table)
        .values((
            login_failures::scope.eq(scope),
            login_failures::created_at.eq(now),
        ))
        .returning(login_failures::id)
        .get_result(conn)?)
}

pub fn delete_failures_by_id(conn: &mut DbConn, ids: &[i64]) -> Result<(), AppError> {
    diesel::delete(login_failures::table.filter(login_failures::id.eq_any(ids))).execute(conn)?;
    Ok(())
}

/// Makes the rest of the current write transaction the only one counting or recording login
/// failures, so that counting and recording are one step. PostgreSQL needs a table lock (its
/// transactions would otherwise each count without seeing the others' new rows); on SQLite
/// the write transaction (`BEGIN IMMEDIATE`) already excludes every other writer.
pub fn lock_failures(conn: &mut DbConn) -> Result<(), AppError> {
    use diesel::connection::SimpleConnection;
    match conn {
        DbConn::Pg(c) => c.batch_execute("LOCK TABLE login_failures IN EXCLUSIVE MODE")?,
        DbConn::Sqlite(_) => {}
    }
    Ok(())
}

pub fn delete_failures(conn: &mut DbConn, scope: &str) -> Result<(), AppError> {
    diesel::delete(login_failures::table.filter(login_failures::scope.eq(scope))).execute(conn)?;
    Ok(())
}

pub fn delete_failures_before(conn: &mut DbConn, before: NaiveDateTime) -> Result<(), AppError> {
    diesel::delete(login_failures::table.filter(login_failures::created_at.le(before)))
        .execute(conn)?;
    Ok(())
}
