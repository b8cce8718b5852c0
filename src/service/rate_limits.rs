//! Rate limits: this process's in-memory limiters first, then (on PostgreSQL) the quota shared
//! by every process on the database, so N processes behind a load balancer do not give a client
//! N times its quota.
//!
//! The shared quota costs one statement per request that passed the in-memory limiter
//! ([`db::rate_limits::spend`]), on a small pool of its own
//! ([`db::rate_limits::QUOTA_POOL_SIZE`] connections), so that it never waits behind requests
//! holding their connections; a request the in-memory limiter refuses never reaches the
//! database, so a flood costs the database at most N times the quota.
//!
//! When the database cannot answer (down, saturated, a broken table), the request is judged
//! by the in-memory limiter alone: the limit is a defence, not a reason to refuse service, and
//! a route that needs the database answers 503 `database_unavailable` on its own. After such a
//! failure this process skips the shared quota for [`db::rate_limits::QUOTA_PAUSE`], so an outage does not
//! add a connection timeout to every limited request; a warning is logged at most once an hour.

use std::net::IpAddr;

use crate::db;
use crate::error::AppError;
use crate::service;
use crate::spam::limiter::{Action, RetryAfter};
use crate::state::AppState;

fn now_us() -> i64 {
    service::now().timestamp_micros()
}

/// Spends one cell of `action` for `ip`: from this process's limiters, then from the shared
/// quota.
///
/// # Errors
/// 429 `rate_limited` with the wait when either refuses.
pub async fn check(state: &AppState, action: Action, ip: IpAddr) -> Result<(), AppError> {
    let refused = |retry: RetryAfter| {
        state.metrics.rate_limited(action.as_str());
        AppError::rate_limited(retry.secs())
    };
    state.limiters.check(action, ip).map_err(refused)?;
    let shared = &state.shared_quota;
    if !shared.enabled() || shared.paused_at(now_us()) {
        return Ok(());
    }
    let (exact, prefix) = state.config.rate_limits.shared_buckets(action, ip);
    // A cell of a lease in hand needs no database, hence no hop to the blocking pool.
    if shared.spend_leased(now_us(), &exact) {
        return Ok(());
    }
    let quota_state = state.clone();
    let spent =
        actix_web::web::block(move || quota_state.shared_quota.spend(now_us(), &exact, &prefix))
            .await
            .map_err(AppError::from)
            .and_then(|spent| spent);
    match spent {
        Ok(None) => Ok(()),
        Ok(Some(verdict)) => match verdict.retry_after() {
            None => Ok(()),
            Some(retry) => Err(refused(retry)),
        },
        Err(e) => {
            if state.log_once.first("shared-quota-unavailable") {
                tracing::warn!(
                    error = %e,
                    "the shared rate-limit quota is unavailable; limiting by this process's \
                     own limits until the database answers again"
                );
            }
            Ok(())
        }
    }
}

/// Deletes the shared buckets that are full again. Every process runs this once a minute;
/// it is idempotent, so no process needs to be the one in charge.
pub fn sweep(conn: &mut db::DbConn) -> Result<usize, AppError> {
    db::rate_limits::delete_full(conn, now_us())
}
