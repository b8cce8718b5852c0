//! Use-cases, one transaction each. Called from handlers on the blocking pool.

pub mod admin;
pub mod comments;
pub mod counts;
pub mod digests;
pub mod email_signin;
pub mod export;
pub mod feeds;
pub mod import;
pub mod mail_links;
pub mod notifications;
pub mod post_writer;
pub mod rate_limits;
pub mod reactions;
pub mod readers;
pub mod reads;
pub mod signin;
pub mod sites;
pub mod spam;
pub mod threads;
pub mod votes;
pub mod webhooks;
pub mod webmentions;

use chrono::{DateTime, Utc};

use crate::db::DbConn;
use crate::domain::comment::truncate_to_micros;
use crate::error::AppError;
use crate::state::AppState;

type PooledConn = diesel::r2d2::PooledConnection<crate::db::pool::Manager>;

/// A connection from the pool.
pub fn conn(state: &AppState) -> Result<PooledConn, AppError> {
    let _waiting = state.metrics.waiting_for_connection();
    Ok(state.pool.get()?)
}

/// The current time at the precision both databases keep.
pub fn now() -> DateTime<Utc> {
    truncate_to_micros(Utc::now())
}

/// Runs CPU-heavy service code that needs no connection off the async executor.
pub async fn compute<T, F>(state: &AppState, f: F) -> Result<T, AppError>
where
    F: FnOnce(&AppState) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let state = state.clone();
    actix_web::web::block(move || f(&state)).await?
}

/// Runs blocking service code off the async executor.
pub async fn blocking<T, F>(state: &AppState, f: F) -> Result<T, AppError>
where
    F: FnOnce(&AppState, &mut DbConn) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let state = state.clone();
    actix_web::web::block(move || {
        let mut conn = conn(&state)?;
        f(&state, &mut conn)
    })
    .await?
}
