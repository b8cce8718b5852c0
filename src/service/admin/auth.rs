//! Admin accounts and sessions. Only hashes of passwords, session tokens and setup tokens are
//! stored; login failures are counted in the database, so every process sharing it throttles
//! alike.

use std::net::IpAddr;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use chrono::Duration;

use crate::db::{self, DbConn, write_tx};
use crate::domain::admin::{AdminName, DisplayName, Password};
use crate::error::{AppError, ErrorKind};
use crate::secrets::{Purpose, hash_token, random_token};
use crate::service::now;
use crate::state::AppState;

/// The session cookie's name.
pub const COOKIE: &str = "kith_admin";
/// How long a session lasts.
pub const SESSION_TTL: Duration = Duration::days(7);
/// The window in which failed logins are counted.
pub const THROTTLE_WINDOW: Duration = Duration::minutes(15);
/// Failed logins for one account within the window before it is throttled.
pub const ACCOUNT_LIMIT: i64 = 5;
/// Failed logins from one IP address within the window before it is throttled.
pub const IP_LIMIT: i64 = 20;

/// A logged-in admin, as the handlers see them.
#[derive(Debug, Clone)]
pub struct AdminSession {
    pub admin_id: i64,
    pub name: String,
    /// The token every state-changing request must carry; derived from the session.
    pub csrf_token: String,
    token_hash: String,
}

/// A new session and the secret for its cookie.
pub struct LoggedIn {
    pub token: String,
    pub session: AdminSession,
}

fn session_of(state: &AppState, admin_id: i64, name: String, token_hash: String) -> AdminSession {
    let csrf_token = state.keys.sign(Purpose::AdminCsrf, &token_hash);
    AdminSession {
        admin_id,
        name,
        csrf_token,
        token_hash,
    }
}

/// Whether `presented` is this session's CSRF token (verified in constant time).
pub fn csrf_ok(state: &AppState, session: &AdminSession, presented: &str) -> bool {
    state
        .keys
        .verify(Purpose::AdminCsrf, &session.token_hash, presented)
}

pub fn hash_password(password: &Password) -> Result<String, AppError> {
    Argon2::default()
        .hash_password(password.expose().as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(anyhow::anyhow!("hashing a password failed: {e}")))
}

fn verify_password(hash: &str, password: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// Creates an admin account (the CLI and the setup page); 409 when the name is taken.
pub fn create_admin(
    conn: &mut DbConn,
    name: &AdminName,
    password: &Password,
) -> Result<i64, AppError> {
    let hash = hash_password(password)?;
    write_tx(conn, |conn| {
        if db::admins::find_by_name(conn, name.as_str())?.is_some() {
            return Err(AppError::new(
                ErrorKind::AlreadyExists,
                format!("an admin named `{}` already exists", name.as_str()),
            ));
        }
        let id = db::admins::insert(conn, name.as_str(), &hash, now().naive_utc())?;
        db::admins::delete_setup_tokens(conn)?;
        Ok(id)
    })
}

/// When no admin exists yet, stores a fresh one-time setup token and returns it (for the
/// setup link logged at start); `None` when an admin exists.
pub fn issue_setup_token(conn: &mut DbConn) -> Result<Option<String>, AppError> {
    write_tx(conn, |conn| {
        if db::admins::count(conn)? > 0 {
            return Ok(None);
        }
        let token = random_token();
        db::admins::insert_setup_token(conn, &hash_token(&token), now().naive_utc())?;
        Ok(Some(token))
    })
}

/// Whether `token` is an unused setup token and no admin exists yet.
pub fn setup_token_valid(conn: &mut DbConn, token: &str) -> Result<bool, AppError> {
    Ok(db::admins::count(conn)? == 0 && db::admins::setup_token_exists(conn, &hash_token(token))?)
}

/// Sets the name readers see on `admin_id`'s replies (empty: the site's name).
pub fn set_display_name(
    conn: &mut DbConn,
    admin_id: i64,
    name: &DisplayName,
) -> Result<(), AppError> {
    db::admins::update_display_name(conn, admin_id, name.as_str())
}

/// The name readers see on `admin_id`'s replies (empty: the site's name).
pub fn display_name(conn: &mut DbConn, admin_id: i64) -> Result<String, AppError> {
    Ok(db::admins::find_display_name(conn, admin_id)?.unwrap_or_default())
}

/// Creates the first admin with a setup token, which is used up, and logs them in.
pub fn complete_setup(
    state: &AppState,
    conn: &mut DbConn,
    token: &str,
    name: &AdminName,
    password: &Password,
) -> Result<LoggedIn, AppError> {
    let hash = hash_password(password)?;
    let session_token = random_token();
    let session_hash = hash_token(&session_token);
    let now = now().naive_utc();
    let admin_id = write_tx(conn, |conn| {
        if db::admins::count(conn)? > 0
            || !db::admins::setup_token_exists(conn, &hash_token(token))?
        {
            return Err(AppError::new(
                ErrorKind::InvalidSetupToken,
                "this setup link is not valid (it was used, or an admin exists already)",
            ));
        }
        let id = db::admins::insert(conn, name.as_str(), &hash, now)?;
        db::admins::delete_setup_tokens(conn)?;
        db::admins::insert_session(conn, &session_hash, id, now, now + SESSION_TTL)?;
        Ok(id)
    })?;
    Ok(LoggedIn {
        token: session_token,
        session: session_of(state, admin_id, name.as_str().to_string(), session_hash),
    })
}

fn account_scope(name: &str) -> String {
    format!("account:{}", name.to_lowercase())
}

fn ip_scope(ip: IpAddr) -> String {
    format!("ip:{ip}")
}

/// Checks a name and password and opens a session. Refused with 429 after too many recent
/// failures for the account or from the address, with 401 for a wrong name or password.
///
/// Counting and checking are one atomic step: before the password is checked, one
/// transaction counts the recent failures of the account and of the address and, when both
/// are under their limits, records this attempt as a failure of each (PostgreSQL locks the
/// table for that short transaction, SQLite's `BEGIN IMMEDIATE` serializes it). A correct
/// password then takes the records back. So however many requests arrive at once, at most
/// the limit of them reach the password check.
///
/// Takes connections from the pool only around the two short transactions, not while the
/// password hash is computed (tens of milliseconds), so a burst of logins cannot starve the
/// pool.
pub fn login(
    state: &AppState,
    name: &str,
    password: &str,
    ip: IpAddr,
) -> Result<LoggedIn, AppError> {
    let now = now().naive_utc();
    let since = now - THROTTLE_WINDOW;
    let account = account_scope(name);
    let ip = ip_scope(ip);
    let (admin, attempt) = {
        let mut conn = crate::service::conn(state)?;
        let attempt = write_tx(&mut conn, |conn| {
            db::admins::lock_failures(conn)?;
            db::admins::delete_failures_before(conn, since)?;
            if db::admins::count_failures_since(conn, &account, since)? >= ACCOUNT_LIMIT
                || db::admins::count_failures_since(conn, &ip, since)? >= IP_LIMIT
            {
                return Ok(None);
            }
            let account_attempt = db::admins::insert_failure(conn, &account, now)?;
            let ip_attempt = db::admins::insert_failure(conn, &ip, now)?;
            Ok(Some([account_attempt, ip_attempt]))
        })?;
        let Some(attempt) = attempt else {
            return Err(AppError::login_throttled(
                THROTTLE_WINDOW.num_seconds().unsigned_abs(),
            ));
        };
        (db::admins::find_by_name(&mut conn, name)?, attempt)
    };
    let ok = match &admin {
        Some(a) => verify_password(&a.password_hash, password),
        None => {
            // Same work for unknown names, so timing does not tell which names exist.
            let _ = verify_password(DUMMY_HASH, password);
            false
        }
    };
    let Some(admin) = admin.filter(|_| ok) else {
        // The attempt stays recorded as a failure of the account and of the address.
        return Err(AppError::new(
            ErrorKind::InvalidCredentials,
            "wrong name or password",
        ));
    };
    let token = random_token();
    let token_hash = hash_token(&token);
    let mut conn = crate::service::conn(state)?;
    write_tx(&mut conn, |conn| {
        db::admins::delete_failures(conn, &account)?;
        db::admins::delete_failures_by_id(conn, &attempt)?;
        db::admins::delete_expired_sessions(conn, now)?;
        db::admins::insert_session(conn, &token_hash, admin.id, now, now + SESSION_TTL)
    })?;
    Ok(LoggedIn {
        token,
        session: session_of(state, admin.id, admin.name, token_hash),
    })
}

/// An argon2 hash of a random password, verified against when the name is unknown.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2Ya3XzIu8dY0p7sQv3qvX7m3bQ2rS9XbqYbnH1C6Wl8";

/// The live session behind a cookie value, if any.
pub fn session(
    state: &AppState,
    conn: &mut DbConn,
    token: &str,
) -> Result<Option<AdminSession>, AppError> {
    if token.is_empty() || token.len() > 128 {
        return Ok(None);
    }
    let hash = hash_token(token);
    Ok(
        db::admins::find_session_admin(conn, &hash, now().naive_utc())?
            .map(|(id, name)| session_of(state, id, name, hash)),
    )
}

/// Ends a session on the server.
pub fn logout(conn: &mut DbConn, session: &AdminSession) -> Result<(), AppError> {
    write_tx(conn, |conn| {
        db::admins::delete_session(conn, &session.token_hash)
    })
}

/// Sets a new password for an admin and ends all their sessions (the CLI's `admin password`).
pub fn set_password(
    conn: &mut DbConn,
    name: &AdminName,
    password: &Password,
) -> Result<(), AppError> {
    let hash = hash_password(password)?;
    write_tx(conn, |conn| {
        let admin = db::admins::find_by_name(conn, name.as_str())?.ok_or_else(|| {
            AppError::new(
                ErrorKind::NotFound,
                format!("no admin named `{}`", name.as_str()),
            )
        })?;
        db::admins::update_password(conn, admin.id, &hash)?;
        db::admins::delete_sessions_of(conn, admin.id)?;
        Ok(())
    })
}
