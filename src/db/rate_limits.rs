//! The rate-limit quota shared by every kith process on one database: GCRA buckets, one row
//! per key in `rate_limit_buckets`, each spent with one atomic upsert.
//!
//! A request spends from two buckets, its address's and its network's, and from the network's
//! only when the address's let it through (a flooding address spends nothing from its
//! neighbours' budget). On PostgreSQL both happen in one statement (two data-modifying CTEs);
//! SQLite runs the same upsert twice (kith does not share quotas on SQLite, which has one
//! process, but the queries work there too).
//!
//! Times are microseconds since the Unix epoch from the caller's clock, so the machines of one
//! deployment need synchronized clocks (NTP); a skew of a second lets at most one second's
//! worth of cells through early.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use diesel::prelude::*;
use diesel::r2d2::Pool;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use moka::sync::Cache;

use super::DbConn;
use super::pool::{DbPool, Manager};
use crate::error::AppError;
use crate::spam::limiter::{SharedBucket, SharedVerdict};

/// Connections of the shared quota's own pool. Its statements take well under a millisecond,
/// so two serve thousands of requests a second; being apart from the request pool, they never
/// queue behind a request that holds its connection for long (a login's password hash).
pub const QUOTA_POOL_SIZE: u32 = 2;

/// How long a request waits for a quota connection before it is judged by the process's own
/// limiter alone.
pub const QUOTA_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);

/// How long a process relies on its in-memory limiter alone after the database failed to
/// answer a shared-quota statement (so an outage does not add a wait to every request).
pub const QUOTA_PAUSE: Duration = Duration::from_secs(5);

/// The quota shared through the database, as one process uses it: its own small pool (none when
/// sharing is off: SQLite, or `rate_limits.shared = false`) and the pause after a failure.
pub struct SharedQuota {
    pool: Option<DbPool>,
    /// Microseconds since the Unix epoch until which the shared quota is skipped.
    paused_until_us: AtomicI64,
    /// Cells this process took from the database ahead of use (see [`lease_cells`]), by the
    /// exact bucket's key.
    credits: Cache<String, Arc<Credit>>,
    /// One lease renewal at a time per key: requests that found the lease spent at the same
    /// moment wait for one statement and spend its cells, instead of each taking a lease.
    renewals: Cache<String, Arc<Mutex<()>>>,
}

/// Cells taken from the shared buckets ahead of use: spent here without a statement until
/// they run out or lapse.
struct Credit {
    left: AtomicI64,
    /// When the cells would have been spent at the sustained rate, but not before
    /// [`MIN_LEASE_US`]: after that they are dropped (a process must not save a client's quota
    /// up for later).
    until_us: i64,
}

/// The shortest life of a lease. For very generous limits (100 million a minute: 64 cells are
/// 38 µs of the sustained rate) a lease would lapse before its next request came, and every
/// request would cost a statement again. A lease's cells were charged to the bucket when it
/// was taken, so keeping them 100 ms shifts a client's use by at most that, never adds to it.
const MIN_LEASE_US: i64 = 100_000;

/// How many cells to take from a shared bucket at once: one per request while the burst is
/// small (posts: a few a minute), up to 64 for generous limits (counts, reads), a sixteenth of
/// the burst, so that a busy client costs the database one statement per lease rather than
/// per request. Cells leased and not used lapse unused: with N processes a client may lose up
/// to N leases' worth (at most N/16 of its burst) within a burst period, never gain any.
fn lease_cells(bucket: &SharedBucket) -> i64 {
    let burst_cells = bucket.burst_us / bucket.emission_us.max(1);
    (burst_cells / 16).clamp(1, MAX_LEASE)
}

/// The most cells one lease takes.
const MAX_LEASE: i64 = 64;

/// Clients whose leases one process remembers (bounded; a forgotten lease only lapses early).
const CREDIT_ENTRIES: u64 = 10_000;

/// The bucket spending `cells` at once: the same row, `cells` times the emission.
fn times(bucket: &SharedBucket, cells: i64) -> SharedBucket {
    SharedBucket {
        key: bucket.key.clone(),
        emission_us: bucket.emission_us.saturating_mul(cells),
        burst_us: bucket.burst_us,
    }
}

impl std::fmt::Debug for SharedQuota {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedQuota")
            .field("enabled", &self.enabled())
            .finish_non_exhaustive()
    }
}

impl SharedQuota {
    /// Not shared: every request is judged by the process's own limiter.
    pub fn off() -> Self {
        Self {
            pool: None,
            paused_until_us: AtomicI64::new(0),
            credits: Cache::new(CREDIT_ENTRIES),
            renewals: Cache::new(CREDIT_ENTRIES),
        }
    }

    /// Shared through the PostgreSQL database at `url`. The pool connects lazily: a database
    /// that is down only pauses the sharing.
    pub fn postgres(url: &str) -> Self {
        let pool = Pool::builder()
            .max_size(QUOTA_POOL_SIZE)
            // No connection made ahead in the pool's background thread: a short command
            // (`kith import`) could otherwise exit while that thread is inside libpq and its TLS
            // library, which can crash the process at exit (seen once in CI: an import exited
            // with a failure and no error message after printing its report: likely this).
            .min_idle(Some(0))
            .connection_timeout(QUOTA_ACQUIRE_TIMEOUT)
            // Failures are logged once per pause, not per reconnection attempt.
            .error_handler(Box::new(diesel::r2d2::NopErrorHandler))
            .build_unchecked(Manager::postgres(url));
        Self {
            pool: Some(pool),
            paused_until_us: AtomicI64::new(0),
            credits: Cache::new(CREDIT_ENTRIES),
            renewals: Cache::new(CREDIT_ENTRIES),
        }
    }

    /// Whether requests spend from the database's quota at all.
    pub fn enabled(&self) -> bool {
        self.pool.is_some()
    }

    /// Whether the sharing is paused at `now_us` after a failure.
    pub fn paused_at(&self, now_us: i64) -> bool {
        self.paused_until_us.load(Ordering::Relaxed) > now_us
    }

    /// Spends one cell of a lease this process holds for `exact` (no database); false when it
    /// holds none, or it ran out or lapsed.
    pub fn spend_leased(&self, now_us: i64, exact: &SharedBucket) -> bool {
        self.credits.get(&exact.key).is_some_and(|credit| {
            credit.until_us > now_us && credit.left.fetch_sub(1, Ordering::Relaxed) > 0
        })
    }

    /// Spends one cell at `now_us` (see [`spend`]); `Ok(None)` when sharing is off. On a
    /// failure the sharing pauses for [`QUOTA_PAUSE`].
    pub fn spend(
        &self,
        now_us: i64,
        exact: &SharedBucket,
        prefix: &SharedBucket,
    ) -> Result<Option<SharedVerdict>, AppError> {
        let Some(pool) = &self.pool else {
            return Ok(None);
        };
        if self.spend_leased(now_us, exact) {
            return Ok(Some(SharedVerdict::Allowed));
        }
        let cells = lease_cells(exact).min(lease_cells(prefix));
        let renewal = (cells > 1).then(|| {
            self.renewals
                .get_with_by_ref(&exact.key, || Arc::new(Mutex::new(())))
        });
        let _turn = renewal
            .as_ref()
            .map(|turn| turn.lock().unwrap_or_else(PoisonError::into_inner));
        // Another request renewed the lease while this one waited for its turn.
        if renewal.is_some() && self.spend_leased(now_us, exact) {
            return Ok(Some(SharedVerdict::Allowed));
        }
        let spent = pool.get().map_err(AppError::from).and_then(|mut conn| {
            if cells > 1 {
                let leased = spend(
                    &mut conn,
                    now_us,
                    &times(exact, cells),
                    &times(prefix, cells),
                )?;
                if leased == SharedVerdict::Allowed {
                    self.credits.insert(
                        exact.key.clone(),
                        Arc::new(Credit {
                            left: AtomicI64::new(cells - 1),
                            until_us: now_us.saturating_add(
                                exact.emission_us.saturating_mul(cells).max(MIN_LEASE_US),
                            ),
                        }),
                    );
                    return Ok(leased);
                }
                // Not room for a whole lease: perhaps for this one request.
            }
            spend(&mut conn, now_us, exact, prefix)
        });
        if spent.is_err() {
            let pause_us = i64::try_from(QUOTA_PAUSE.as_micros()).unwrap_or(i64::MAX);
            self.paused_until_us
                .store(now_us.saturating_add(pause_us), Ordering::Relaxed);
        }
        spent.map(Some)
    }
}

/// The upsert of one bucket. `$now` is `excluded.tat_us - excluded.emission_us` (the new row's
/// values are `now + emission`), so each parameter appears once, in order, on both backends.
macro_rules! spend_one {
    ($values:literal) => {
        concat!(
            "INSERT INTO rate_limit_buckets AS b (bucket, tat_us, emission_us, burst_us, allowed) ",
            $values,
            " ON CONFLICT (bucket) DO UPDATE SET \
               tat_us = CASE WHEN ",
            next_tat!(),
            " - ",
            now!(),
            " <= excluded.burst_us \
                 THEN ",
            next_tat!(),
            " ELSE b.tat_us END, \
               allowed = (",
            next_tat!(),
            " - ",
            now!(),
            " <= excluded.burst_us), \
               emission_us = excluded.emission_us, \
               burst_us = excluded.burst_us \
             RETURNING tat_us, allowed"
        )
    };
}

macro_rules! now {
    () => {
        "(excluded.tat_us - excluded.emission_us)"
    };
}

macro_rules! next_tat {
    () => {
        concat!(
            "(CASE WHEN b.tat_us > ",
            now!(),
            " THEN b.tat_us ELSE ",
            now!(),
            " END + excluded.emission_us)"
        )
    };
}

const SPEND_ONE: &str = spend_one!("VALUES ($1, $2, $3, $4, TRUE)");

const SPEND_BOTH_PG: &str = concat!(
    "WITH exact AS (",
    spend_one!("VALUES ($1, $2, $3, $4, TRUE)"),
    "), prefix AS (",
    spend_one!("SELECT $5, $6, $7, $8, TRUE FROM exact WHERE exact.allowed"),
    ") SELECT exact.tat_us, exact.allowed, prefix.tat_us AS prefix_tat_us, \
       prefix.allowed AS prefix_allowed FROM exact LEFT JOIN prefix ON TRUE"
);

#[derive(QueryableByName)]
struct Spent {
    #[diesel(sql_type = BigInt)]
    tat_us: i64,
    #[diesel(sql_type = Bool)]
    allowed: bool,
}

#[derive(QueryableByName)]
struct SpentBoth {
    #[diesel(sql_type = BigInt)]
    tat_us: i64,
    #[diesel(sql_type = Bool)]
    allowed: bool,
    #[diesel(sql_type = Nullable<BigInt>)]
    prefix_tat_us: Option<i64>,
    #[diesel(sql_type = Nullable<Bool>)]
    prefix_allowed: Option<bool>,
}

fn spend_one(conn: &mut DbConn, now_us: i64, bucket: &SharedBucket) -> Result<Spent, AppError> {
    Ok(diesel::sql_query(SPEND_ONE)
        .bind::<Text, _>(&bucket.key)
        .bind::<BigInt, _>(now_us.saturating_add(bucket.emission_us))
        .bind::<BigInt, _>(bucket.emission_us)
        .bind::<BigInt, _>(bucket.burst_us)
        .get_result(conn)?)
}

/// Spends one cell at `now_us` from `exact`, and from `prefix` if `exact` let it through.
/// Refused by either: how long to wait.
pub fn spend(
    conn: &mut DbConn,
    now_us: i64,
    exact: &SharedBucket,
    prefix: &SharedBucket,
) -> Result<SharedVerdict, AppError> {
    let (exact_spent, prefix_spent) = match conn {
        DbConn::Pg(_) => {
            let both: SpentBoth = diesel::sql_query(SPEND_BOTH_PG)
                .bind::<Text, _>(&exact.key)
                .bind::<BigInt, _>(now_us.saturating_add(exact.emission_us))
                .bind::<BigInt, _>(exact.emission_us)
                .bind::<BigInt, _>(exact.burst_us)
                .bind::<Text, _>(&prefix.key)
                .bind::<BigInt, _>(now_us.saturating_add(prefix.emission_us))
                .bind::<BigInt, _>(prefix.emission_us)
                .bind::<BigInt, _>(prefix.burst_us)
                .get_result(conn)?;
            let prefix_spent = match (both.prefix_tat_us, both.prefix_allowed) {
                (Some(tat_us), Some(allowed)) => Some(Spent { tat_us, allowed }),
                _ => None,
            };
            let exact_spent = Spent {
                tat_us: both.tat_us,
                allowed: both.allowed,
            };
            (exact_spent, prefix_spent)
        }
        DbConn::Sqlite(_) => {
            let exact_spent = spend_one(conn, now_us, exact)?;
            let prefix_spent = if exact_spent.allowed {
                Some(spend_one(conn, now_us, prefix)?)
            } else {
                None
            };
            (exact_spent, prefix_spent)
        }
    };
    let verdict = SharedVerdict::of_bucket(now_us, exact_spent.tat_us, exact, exact_spent.allowed);
    match (verdict, prefix_spent) {
        (SharedVerdict::Allowed, Some(spent)) => Ok(SharedVerdict::of_bucket(
            now_us,
            spent.tat_us,
            prefix,
            spent.allowed,
        )),
        (verdict, _) => Ok(verdict),
    }
}

/// Deletes the buckets that are full again at `now_us` (a missing row is a full bucket, so
/// nothing is lost). Any process may run it at any time.
pub fn delete_full(conn: &mut DbConn, now_us: i64) -> Result<usize, AppError> {
    Ok(
        diesel::sql_query("DELETE FROM rate_limit_buckets WHERE tat_us <= $1")
            .bind::<BigInt, _>(now_us)
            .execute(conn)?,
    )
}

/// How many bucket rows there are (for tests and diagnostics).
pub fn count(conn: &mut DbConn) -> Result<i64, AppError> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let row: Count =
        diesel::sql_query("SELECT COUNT(*) AS n FROM rate_limit_buckets").get_result(conn)?;
    Ok(row.n)
}
