//! The one outbox worker behind the mail outbox (`notify::worker`), webhook deliveries
//! (`notify::webhooks`) and Webmention verification (`webmention::worker`).
//!
//! It looks at its table every poll interval, leases due rows one at a time with a conditional
//! update in the database (`db::outbox`: safe in several processes sharing one database; a row
//! leased by a process that died is due again once its lease lapses), hands each row to its
//! deliver function, and records the outcome: done, or failed and due again after a backoff
//! that doubles with every attempt, or given up after the last attempt or at once when the
//! failure is permanent. On shutdown it finishes the row in flight and claims no further one;
//! when that takes longer than the grace period it is ended and the row's lease released, so
//! another process (or the next start) takes it at once (it may then be delivered twice; it
//! is never lost).
//!
//! A user implements [`Outbox`] (its table's queries, how to deliver one row, how to record the
//! outcome) and starts it with [`spawn`]; [`step`] makes one pass (tests and tools).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use tokio::sync::watch;

use crate::db::outbox::Leases;
use crate::db::{DbConn, DbPool, write_tx};
use crate::domain::comment::truncate_to_micros;
use crate::error::AppError;

/// Rows claimed per look at the table.
const BATCH: i64 = 20;
/// How often rows past their usefulness are deleted (for outboxes that delete any).
const CLEANUP_INTERVAL: Duration = Duration::from_secs(3600);
/// Longest wait between two attempts of one row.
const MAX_BACKOFF_MS: u64 = 24 * 3600 * 1000;

/// The words an outbox's log lines use.
pub struct Names {
    /// The worker's name: "the {worker} worker ended abnormally".
    pub worker: &'static str,
    /// What its table is called: "{worker} worker: could not read the {queue}".
    pub queue: &'static str,
    /// One row: "released the lease of an unsent {unit}".
    pub unit: &'static str,
    /// The rows [`Outbox::clean_up`] deletes ("deleted {old_rows}"), or `None` when it deletes
    /// none (then it is never called).
    pub old_rows: Option<&'static str>,
}

/// How long a lease lasts and how often a row is tried.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Longer than one attempt can take, so a lease lapses only when its process died.
    pub lease: chrono::Duration,
    /// Attempts before a row is given up.
    pub max_attempts: u32,
    /// The wait after the first failed attempt, doubled after each further one.
    pub retry_base_ms: u64,
}

impl Policy {
    /// A lease of `timeout_secs × factor` seconds, kept within `min_secs..=max_secs`.
    pub fn lease_of(
        timeout_secs: u64,
        factor: u64,
        min_secs: i64,
        max_secs: i64,
    ) -> chrono::Duration {
        chrono::Duration::seconds(
            i64::try_from(timeout_secs.saturating_mul(factor))
                .unwrap_or(i64::MAX)
                .clamp(min_secs, max_secs),
        )
    }
}

/// A table of queued work and what to do with one row of it.
pub trait Outbox: Send + Sync + 'static {
    /// A claimed row, as the deliver function needs it.
    type Item: Send + 'static;
    /// What a successful delivery tells the record.
    type Sent: Send + 'static;
    /// Why a delivery failed.
    type Failure: Send + 'static;

    const NAMES: &'static Names;
    /// The table's lease queries (`db::<table>::LEASES`, made by `db::outbox::lease_queries!`).
    const LEASES: Leases;

    fn policy(&self) -> Policy;

    /// The row with this id, read in the transaction that claimed it.
    fn find(conn: &mut DbConn, id: i64) -> Result<Option<Self::Item>, AppError>;

    /// The attempts the row has had before this one.
    fn attempts(item: &Self::Item) -> i32;

    /// Delivers one row (sends the mail, posts the webhook, verifies the mention).
    fn deliver(
        &self,
        item: &Self::Item,
    ) -> impl Future<Output = Result<Self::Sent, Self::Failure>> + Send;

    /// Whether trying again cannot help: the row is given up at once.
    fn is_permanent(failure: &Self::Failure) -> bool;

    /// Records a delivered row (done, its lease cleared), in a transaction of its own.
    fn record_sent(
        &self,
        conn: &mut DbConn,
        item: Self::Item,
        sent: Self::Sent,
        now: NaiveDateTime,
    ) -> Result<(), AppError>;

    /// Records a failed attempt, in a transaction of its own: due again at `next`, or given up
    /// when `next` is `None`; `attempts` counts this one. Logs the failure.
    fn record_failure(
        &self,
        conn: &mut DbConn,
        item: Self::Item,
        failure: Self::Failure,
        attempts: i32,
        next: Option<NaiveDateTime>,
    ) -> Result<(), AppError>;

    /// Deletes rows past their usefulness (hourly, from the worker's start); how many. Called
    /// only when [`Names::old_rows`] is set.
    fn clean_up(&self, _conn: &mut DbConn, _now: NaiveDateTime) -> Result<usize, AppError> {
        Ok(0)
    }
}

/// The current time at the precision both databases keep.
fn now() -> NaiveDateTime {
    truncate_to_micros(Utc::now()).naive_utc()
}

/// Runs database work off the async executor.
async fn blocking<T, F>(pool: &DbPool, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await
    .map_err(AppError::internal)?
}

/// A running worker; `stop()` lets the row in flight finish, then ends it.
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    pool: DbPool,
    /// The id of the row the worker holds a lease on, 0 when none.
    leased: Arc<AtomicI64>,
    names: &'static Names,
    release_lease: fn(&mut DbConn, i64) -> Result<(), AppError>,
}

impl WorkerHandle {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::warn!(error = %e, "the {} worker ended abnormally", self.names.worker);
        }
    }

    /// Asks the worker to stop after the row in flight (it claims no further one) and waits
    /// up to `grace`; then ends it and releases the lease of the row it was delivering, so
    /// another process (or the next start) delivers it without waiting for the lease to
    /// lapse. That row may then be delivered twice; it is never lost.
    pub async fn stop_within(self, grace: Duration) {
        let _ = self.stop.send(true);
        let names = self.names;
        let mut task = self.task;
        match tokio::time::timeout(grace, &mut task).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "the {} worker ended abnormally", names.worker)
            }
            Err(_) => {
                task.abort();
                let _ = task.await;
                let id = self.leased.swap(0, Ordering::SeqCst);
                if id != 0 {
                    let release = self.release_lease;
                    match blocking(&self.pool, move |conn| release(conn, id)).await {
                        Ok(()) => {
                            tracing::info!(id, "released the lease of an unsent {}", names.unit)
                        }
                        Err(e) => tracing::warn!(
                            id,
                            error = %e,
                            "could not release a {} lease",
                            names.worker
                        ),
                    }
                }
            }
        }
    }
}

/// Starts a worker that looks at the table every `poll` (at once again after a pass that found
/// work).
pub fn spawn<O: Outbox>(pool: DbPool, outbox: O, poll: Duration) -> WorkerHandle {
    let outbox = Arc::new(outbox);
    let (stop, mut stopped) = watch::channel(false);
    let leased = Arc::new(AtomicI64::new(0));
    let task_leased = leased.clone();
    let task_pool = pool.clone();
    let task = tokio::spawn(async move {
        let pool = task_pool;
        let leased = task_leased;
        let names = O::NAMES;
        let poll = poll.max(Duration::from_millis(10));
        let mut next_cleanup = tokio::time::Instant::now();
        loop {
            if let Some(old_rows) = names.old_rows
                && tokio::time::Instant::now() >= next_cleanup
            {
                next_cleanup += CLEANUP_INTERVAL;
                clean_up(&pool, &outbox, old_rows).await;
            }
            let worked = match step_until(&pool, &outbox, &stopped, &leased).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(
                        error = %e,
                        "{} worker: could not read the {}",
                        names.worker,
                        names.queue
                    );
                    0
                }
            };
            if *stopped.borrow() {
                break;
            }
            if worked > 0 {
                continue;
            }
            tokio::select! {
                _ = stopped.changed() => break,
                () = tokio::time::sleep(poll) => {}
            }
        }
    });
    WorkerHandle {
        stop,
        task,
        pool,
        leased,
        names: O::NAMES,
        release_lease: O::LEASES.release_lease,
    }
}

async fn clean_up<O: Outbox>(pool: &DbPool, outbox: &Arc<O>, old_rows: &str) {
    let outbox = Arc::clone(outbox);
    match blocking(pool, move |conn| outbox.clean_up(conn, now())).await {
        Ok(0) => {}
        Ok(deleted) => tracing::info!(deleted, "deleted {old_rows}"),
        Err(e) => tracing::warn!(error = %e, "could not delete {old_rows}"),
    }
}

/// One pass over the table: every due, unleased row is claimed, delivered and recorded.
/// Returns how many rows were attempted.
pub async fn step<O: Outbox>(pool: &DbPool, outbox: &Arc<O>) -> Result<usize, AppError> {
    let (_keep, running) = watch::channel(false);
    step_until(pool, outbox, &running, &AtomicI64::new(0)).await
}

/// [`step`] that claims no further row once `stop` turns true, and keeps the id of the row it
/// holds a lease on in `leased` (0 when none).
async fn step_until<O: Outbox>(
    pool: &DbPool,
    outbox: &Arc<O>,
    stop: &watch::Receiver<bool>,
    leased: &AtomicI64,
) -> Result<usize, AppError> {
    let due = now();
    let ids = blocking(pool, move |conn| (O::LEASES.list_due_ids)(conn, due, BATCH)).await?;
    let policy = outbox.policy();
    let mut attempted = 0;
    for id in ids {
        if *stop.borrow() {
            break;
        }
        let claimed_at = now();
        let claimed = blocking(pool, move |conn| {
            write_tx(conn, |conn| {
                if (O::LEASES.claim)(conn, id, claimed_at, claimed_at + policy.lease)? {
                    O::find(conn, id)
                } else {
                    Ok(None)
                }
            })
        })
        .await?;
        let Some(item) = claimed else { continue };
        leased.store(id, Ordering::SeqCst);
        attempted += 1;
        let result = outbox.deliver(&item).await;
        let attempts = O::attempts(&item).saturating_add(1);
        let outbox = Arc::clone(outbox);
        blocking(pool, move |conn| {
            let done_at = now();
            match result {
                Ok(sent) => outbox.record_sent(conn, item, sent, done_at),
                Err(failure) => {
                    let next = if O::is_permanent(&failure) {
                        None
                    } else {
                        next_attempt(done_at, attempts, policy.max_attempts, policy.retry_base_ms)
                    };
                    outbox.record_failure(conn, item, failure, attempts, next)
                }
            }
        })
        .await?;
        leased.store(0, Ordering::SeqCst);
    }
    Ok(attempted)
}

/// When to try again after `attempts` failures, or `None` to give up.
fn next_attempt(
    now: NaiveDateTime,
    attempts: i32,
    max_attempts: u32,
    retry_base_ms: u64,
) -> Option<NaiveDateTime> {
    let attempts = u32::try_from(attempts).unwrap_or(u32::MAX);
    if attempts >= max_attempts {
        return None;
    }
    let factor = 1u64 << attempts.saturating_sub(1).min(30);
    let delay = retry_base_ms.saturating_mul(factor).min(MAX_BACKOFF_MS);
    Some(now + chrono::Duration::milliseconds(i64::try_from(delay).unwrap_or(i64::MAX)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_gives_up_after_the_last_attempt() {
        let now = chrono::DateTime::from_timestamp(0, 0).unwrap().naive_utc();
        let at = |n| next_attempt(now, n, 4, 1000).map(|t| (t - now).num_milliseconds());
        assert_eq!(at(1), Some(1000));
        assert_eq!(at(2), Some(2000));
        assert_eq!(at(3), Some(4000));
        assert_eq!(at(4), None);
    }

    #[test]
    fn a_lease_is_the_timeout_times_the_factor_within_its_bounds() {
        assert_eq!(Policy::lease_of(30, 10, 120, 86_400).num_seconds(), 300);
        assert_eq!(Policy::lease_of(1, 10, 120, 86_400).num_seconds(), 120);
        assert_eq!(Policy::lease_of(u64::MAX, 6, 60, 3600).num_seconds(), 3600);
    }
}
