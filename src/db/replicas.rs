//! PostgreSQL streaming replicas for public reads (`database.replica_urls`): one pool per
//! replica, taken in turn (round robin). A replica that cannot give a connection or fails a
//! query is skipped for [`REPLICA_PAUSE`] and its reads go to the next replica or to the
//! primary, so a stopped or broken replica costs a reader at most one short wait
//! ([`REPLICA_ACQUIRE_TIMEOUT`]) in each pause.

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;

use diesel::r2d2::Pool;

use super::DbConn;
use super::pool::{Backend, DbPool, Manager, OpenError};
use crate::error::AppError;

/// How long a replica that failed is left out before it is tried again.
pub const REPLICA_PAUSE: Duration = Duration::from_secs(10);

/// How long a read waits for a replica's connection before it goes elsewhere.
pub const REPLICA_ACQUIRE_TIMEOUT: Duration = Duration::from_millis(500);

struct Replica {
    pool: DbPool,
    /// How the replica is named in logs (its URL with the password masked).
    shown: String,
    /// Microseconds since the Unix epoch until which the replica is left out.
    paused_until_us: AtomicI64,
}

/// The replicas of one process; empty when none are configured.
#[derive(Default)]
pub struct Replicas {
    replicas: Vec<Replica>,
    next: AtomicUsize,
}

impl std::fmt::Debug for Replicas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.replicas.iter().map(|r| &r.shown))
            .finish()
    }
}

impl Replicas {
    /// Pools for `urls` (each a `postgres://` URL, shown in logs as its `shown` twin). A
    /// replica that is down at start does not stop kith: its pool connects when it can.
    pub fn connect(urls: &[(String, String)], size: u32) -> Result<Self, OpenError> {
        let mut replicas = Vec::with_capacity(urls.len());
        for (url, shown) in urls {
            if Backend::of(url) != Some(Backend::Postgres) {
                return Err(OpenError::ReplicaScheme(shown.clone()));
            }
            let pool = Pool::builder()
                .max_size(size)
                .min_idle(Some(1))
                .connection_timeout(REPLICA_ACQUIRE_TIMEOUT)
                // Failures are logged once per pause (above), not per reconnection attempt.
                .error_handler(Box::new(diesel::r2d2::NopErrorHandler))
                .build_unchecked(Manager::postgres(url));
            replicas.push(Replica {
                pool,
                shown: shown.clone(),
                paused_until_us: AtomicI64::new(0),
            });
        }
        Ok(Self {
            replicas,
            next: AtomicUsize::new(0),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.replicas.is_empty()
    }

    pub fn len(&self) -> usize {
        self.replicas.len()
    }

    /// Runs `read` on the next replica that is not paused, going on to the others when one
    /// cannot give a connection or fails with an outage (a lost connection, a query cancelled
    /// by recovery). `None` when no replica could answer: the caller reads from the primary.
    /// An answer that is not an outage (not found, say) is the replica's answer.
    pub fn read<T>(
        &self,
        now_us: i64,
        mut read: impl FnMut(&mut DbConn) -> Result<T, AppError>,
    ) -> Option<Result<T, AppError>> {
        let count = self.replicas.len();
        if count == 0 {
            return None;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for offset in 0..count {
            let Some(replica) = self.replicas.get((start.wrapping_add(offset)) % count) else {
                continue;
            };
            if replica.paused_until_us.load(Ordering::Relaxed) > now_us {
                continue;
            }
            let failure = match replica.pool.get() {
                Ok(mut conn) => match read(&mut conn) {
                    Err(e) if e.kind.is_outage() => e.to_string(),
                    answer => return Some(answer),
                },
                Err(e) => e.to_string(),
            };
            let pause_us = i64::try_from(REPLICA_PAUSE.as_micros()).unwrap_or(i64::MAX);
            replica
                .paused_until_us
                .store(now_us.saturating_add(pause_us), Ordering::Relaxed);
            tracing::warn!(
                replica = %replica.shown,
                error = %failure,
                "a read replica failed; reading elsewhere and leaving it out for {} s",
                REPLICA_PAUSE.as_secs()
            );
        }
        None
    }
}
