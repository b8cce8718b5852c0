//! The change bus across processes (see `crate::changes`): a write transaction that changes
//! what readers see sends its changes with `NOTIFY` before it commits (PostgreSQL delivers a
//! notification only if, and when, its transaction commits, to every listening connection),
//! and publishes them on this process's bus once it has committed. A listener thread in every
//! serving process (one dedicated connection, outside the pool) publishes what the other
//! processes wrote, and a resync after every (re)connection, since notifications sent while
//! it was away are lost.
//!
//! The listener uses diesel's `PgConnection::notifications_iter`, which reads what has
//! arrived without waiting (`PQconsumeInput`, then `PQnotifies`): the thread looks every
//! [`LISTEN_POLL`] and sleeps in between. That keeps one PostgreSQL client (libpq, with the
//! same URL, TLS and authentication options as the pool) instead of adding an async one for a
//! single connection; the cost is at most [`LISTEN_POLL`] of delay and a non-blocking read
//! per poll.
//!
//! SQLite: one process per database file, so the bus stays in the process.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, Text};
use serde::{Deserialize, Serialize};

use super::schema::{comments, threads};
use super::{DbConn, write_tx as plain_write_tx};
use crate::changes::{Change, ChangeBus, Changes, WeakBus};
use crate::domain::comment::CommentId;
use crate::domain::site::SiteId;
use crate::domain::thread::ThreadId;
use crate::error::AppError;

/// The PostgreSQL channel every kith process listens on.
pub const CHANNEL: &str = "kith_changes";

/// How often the listener looks for notifications.
pub const LISTEN_POLL: Duration = Duration::from_millis(5);

/// How often the listener checks that its connection still works when nothing arrives.
const LISTEN_CHECK: Duration = Duration::from_secs(5);

/// Waits between reconnection attempts, doubling up to the last.
const RECONNECT_BACKOFF: [Duration; 4] = [
    Duration::from_millis(100),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
];

/// Runs `f` in one write transaction (`db::write_tx`) and announces the changes it collected:
/// with `NOTIFY` inside the transaction on PostgreSQL, and on `bus` after the commit.
/// Nothing is announced when `f` fails (the transaction rolls back).
pub fn write_tx<T>(
    conn: &mut DbConn,
    bus: &ChangeBus,
    f: impl FnOnce(&mut DbConn, &mut Changes) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let mut changes = Changes::default();
    let value = plain_write_tx(conn, |conn| {
        let value = f(conn, &mut changes)?;
        notify(conn, bus.origin(), changes.as_slice())?;
        Ok(value)
    })?;
    for change in changes.into_vec() {
        bus.publish(change);
    }
    Ok(value)
}

/// One piece of work of a [`write_batch`]; it may run twice (see there), so it must not keep
/// anything of a first run that was rolled back.
pub type BatchJob<'a, T> = Box<dyn Fn(&mut DbConn, &mut Changes) -> Result<T, AppError> + 'a>;

/// Runs `jobs` in ONE write transaction (`db::write_tx`); a job that fails is rolled back
/// alone and its error is its result, while the others commit together; then `finish` (in the
/// transaction, after the last job). The changes of the jobs that succeeded are announced as
/// [`write_tx`] does: with `NOTIFY` before the commit, on `bus` after it. `Err` when the
/// transaction itself could not begin or commit, or `finish` failed; then nothing of any job
/// was stored.
///
/// Most batches have no failing job, so the jobs first run one after the other without
/// savepoints (a savepoint is a statement, a round trip on PostgreSQL, per job). Only when one
/// fails is that transaction rolled back and the batch run again with a savepoint around each
/// job; `again` is called before that second run, to forget what the first one kept.
pub fn write_batch<T>(
    conn: &mut DbConn,
    bus: &ChangeBus,
    jobs: &[BatchJob<'_, T>],
    mut again: impl FnMut(),
    mut finish: impl FnMut(&mut DbConn) -> Result<(), AppError>,
) -> Result<Vec<Result<T, AppError>>, AppError> {
    let (results, changes) = match run_batch(conn, bus, jobs, false, &mut finish)? {
        Batch::Done(results, changes) => (results, changes),
        // One job: its error, nothing to run again.
        Batch::Refused(e) if jobs.len() == 1 => return Ok(vec![Err(e)]),
        Batch::Refused(_) => {
            again();
            match run_batch(conn, bus, jobs, true, &mut finish)? {
                Batch::Done(results, changes) => (results, changes),
                // With savepoints a failing job is a result, never a refusal of the batch.
                Batch::Refused(e) => return Err(e),
            }
        }
    };
    for change in changes.into_vec() {
        bus.publish(change);
    }
    Ok(results)
}

/// What one run of a [`write_batch`] came to.
enum Batch<T> {
    /// Committed: each job's result, and the changes of those that succeeded.
    Done(Vec<Result<T, AppError>>, Changes),
    /// Without savepoints, a job failed (its error): the transaction was rolled back.
    Refused(AppError),
}

/// One run of a [`write_batch`]: with `savepoints`, each job in a savepoint of its own (a job
/// that succeeded leaves its savepoint open, and the next job releases it and opens its own in
/// the same round trip); without, the first job that fails rolls everything back.
fn run_batch<T>(
    conn: &mut DbConn,
    bus: &ChangeBus,
    jobs: &[BatchJob<'_, T>],
    savepoints: bool,
    finish: &mut impl FnMut(&mut DbConn) -> Result<(), AppError>,
) -> Result<Batch<T>, AppError> {
    let mut refused = None;
    let mut changes = Changes::default();
    let committed = plain_write_tx(conn, |conn| {
        let mut results = Vec::with_capacity(jobs.len());
        let mut open = false;
        for job in jobs {
            if savepoints {
                conn.batch_execute(if open {
                    "RELEASE SAVEPOINT kith_batch_job; SAVEPOINT kith_batch_job"
                } else {
                    "SAVEPOINT kith_batch_job"
                })?;
            }
            let mut own = Changes::default();
            match job(conn, &mut own) {
                Ok(value) => {
                    open = savepoints;
                    for change in own.into_vec() {
                        changes.push(change);
                    }
                    results.push(Ok(value));
                }
                Err(e) if savepoints => {
                    open = false;
                    conn.batch_execute(
                        "ROLLBACK TO SAVEPOINT kith_batch_job; RELEASE SAVEPOINT kith_batch_job",
                    )?;
                    results.push(Err(e));
                }
                Err(e) => {
                    refused = Some(e);
                    return Err(AppError::internal(anyhow::anyhow!(
                        "a job of the batch failed"
                    )));
                }
            }
        }
        if open {
            conn.batch_execute("RELEASE SAVEPOINT kith_batch_job")?;
        }
        finish(conn)?;
        notify(conn, bus.origin(), changes.as_slice())?;
        Ok(results)
    });
    match (committed, refused) {
        (Ok(results), _) => Ok(Batch::Done(results, changes)),
        (Err(_), Some(e)) => Ok(Batch::Refused(e)),
        (Err(e), None) => Err(e),
    }
}

/// Sends `changes` to the other processes, inside the caller's transaction (PostgreSQL only):
/// one notification per change, all in one statement (a batch of posts announces its changes in
/// one round trip).
fn notify(conn: &mut DbConn, origin: u64, changes: &[Change]) -> Result<(), AppError> {
    let DbConn::Pg(conn) = conn else {
        return Ok(());
    };
    if changes.is_empty() {
        return Ok(());
    }
    let payloads = changes
        .iter()
        .map(|change| serde_json::to_string(&Wire::of(origin, change)))
        .collect::<Result<Vec<String>, _>>()
        .map_err(AppError::internal)?;
    diesel::sql_query("SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload")
        .bind::<Text, _>(CHANNEL)
        .bind::<Array<Text>, _>(payloads)
        .execute(conn)?;
    Ok(())
}

/// Announces that what readers see of the threads holding `ids` changed. With
/// `visible = true` each comment is announced as newly visible. Call it while the comments
/// still exist (before deleting them).
pub fn comments_changed(
    conn: &mut DbConn,
    changes: &mut Changes,
    ids: &[CommentId],
    visible: bool,
) -> Result<(), AppError> {
    if ids.is_empty() {
        return Ok(());
    }
    let raw: Vec<i64> = ids.iter().map(|id| id.0).collect();
    let rows: Vec<(i64, i64, i64, String)> = comments::table
        .inner_join(threads::table)
        .filter(comments::id.eq_any(&raw))
        .select((comments::id, threads::site_id, threads::id, threads::key))
        .load(conn)?;
    for (comment, site, thread, key) in rows {
        changes.thread(
            SiteId(site),
            ThreadId(thread),
            &key,
            visible.then_some(CommentId(comment)),
        );
    }
    Ok(())
}

/// Announces that what readers see of thread `id` changed (closed, reopened, …).
pub fn thread_changed(
    conn: &mut DbConn,
    changes: &mut Changes,
    id: ThreadId,
) -> Result<(), AppError> {
    let found: Option<(i64, String)> = threads::table
        .find(id.0)
        .select((threads::site_id, threads::key))
        .first(conn)
        .optional()?;
    if let Some((site, key)) = found {
        changes.thread(SiteId(site), id, &key, None);
    }
    Ok(())
}

/// A change as it travels in a notification's payload (at most 8000 bytes: a thread key is
/// far shorter).
#[derive(Debug, Serialize, Deserialize)]
struct Wire {
    /// The sending process ([`ChangeBus::origin`]).
    o: u64,
    /// `t` thread, `s` site.
    w: char,
    s: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    t: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    k: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    c: Option<i64>,
}

impl Wire {
    fn of(origin: u64, change: &Change) -> Self {
        match change {
            Change::Thread {
                site,
                thread,
                key,
                comment,
            } => Wire {
                o: origin,
                w: 't',
                s: site.0,
                t: Some(thread.0),
                k: Some(key.clone()),
                c: comment.map(|c| c.0),
            },
            Change::Site { site } => Wire {
                o: origin,
                w: 's',
                s: site.0,
                t: None,
                k: None,
                c: None,
            },
            // Never sent: a resync is each listener's own conclusion.
            Change::Resync => Wire {
                o: origin,
                w: 'r',
                s: 0,
                t: None,
                k: None,
                c: None,
            },
        }
    }

    fn change(self) -> Change {
        match (self.w, self.t, self.k) {
            ('t', Some(thread), Some(key)) => Change::Thread {
                site: SiteId(self.s),
                thread: ThreadId(thread),
                key,
                comment: self.c.map(CommentId),
            },
            ('s', _, _) => Change::Site {
                site: SiteId(self.s),
            },
            // Something this version does not understand: safest to drop everything.
            _ => Change::Resync,
        }
    }
}

/// Starts listening for a PostgreSQL `url`: connects at once (so that nothing announced from
/// then on is missed), then a thread publishes on `bus` what other processes announce, and
/// stops once the application that owns `bus` is gone. When the first connection fails, the
/// thread keeps trying (and resyncs once connected).
pub fn spawn_listener(url: String, bus: &ChangeBus) -> std::io::Result<()> {
    let weak = bus.downgrade();
    let first = match connect(&url) {
        Ok(conn) => Some(conn),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for changes from other processes; retrying");
            None
        }
    };
    std::thread::Builder::new()
        .name("kith-changes".into())
        .spawn(move || listen(&url, first, &weak))?;
    Ok(())
}

fn listen(url: &str, mut first: Option<PgConnection>, weak: &WeakBus) {
    let mut failures = 0usize;
    loop {
        let Some(origin) = weak.upgrade().map(|bus| bus.origin()) else {
            return;
        };
        let connected = match first.take() {
            Some(conn) => Ok(conn),
            None => connect(url).inspect(|_| {
                // Whatever was announced while no connection listened is lost.
                if let Some(bus) = weak.upgrade() {
                    bus.publish(Change::Resync);
                }
            }),
        };
        match connected {
            Ok(mut conn) => {
                failures = 0;
                if let Err(e) = receive(&mut conn, origin, weak) {
                    tracing::warn!(error = %e, "lost the connection that listens for changes; reconnecting");
                }
            }
            Err(e) => {
                if failures == 0 {
                    tracing::warn!(error = %e, "cannot listen for changes from other processes; retrying");
                }
                let wait = RECONNECT_BACKOFF[failures.min(RECONNECT_BACKOFF.len() - 1)];
                failures += 1;
                std::thread::sleep(wait);
            }
        }
    }
}

fn connect(url: &str) -> Result<PgConnection, AppError> {
    let mut conn = PgConnection::establish(&super::pool::postgres_target(url))
        .map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?;
    conn.batch_execute(&format!("LISTEN {CHANNEL}"))?;
    Ok(conn)
}

/// Publishes notifications until the connection fails (`Err`) or the bus is gone (`Ok`).
fn receive(conn: &mut PgConnection, origin: u64, weak: &WeakBus) -> Result<(), AppError> {
    let mut checked = Instant::now();
    loop {
        let Some(bus) = weak.upgrade() else {
            return Ok(());
        };
        let mut any = false;
        for notification in conn.notifications_iter() {
            let notification = notification?;
            any = true;
            let wire: Option<Wire> = serde_json::from_str(&notification.payload).ok();
            match wire {
                Some(wire) if wire.o == origin => {}
                Some(wire) => bus.publish_remote(wire.change()),
                None => bus.publish_remote(Change::Resync),
            }
        }
        drop(bus);
        if any {
            checked = Instant::now();
        } else if checked.elapsed() >= LISTEN_CHECK {
            conn.batch_execute("SELECT 1")?;
            checked = Instant::now();
        }
        std::thread::sleep(LISTEN_POLL);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn a_change_survives_the_payload_round_trip() {
        let change = Change::Thread {
            site: SiteId(3),
            thread: ThreadId(9),
            key: "/a \"quoted\" päth/".into(),
            comment: Some(CommentId(12)),
        };
        let text = serde_json::to_string(&Wire::of(5, &change)).unwrap();
        let wire: Wire = serde_json::from_str(&text).unwrap();
        assert_eq!(wire.o, 5);
        assert_eq!(wire.change(), change);
        let site = Change::Site { site: SiteId(4) };
        let text = serde_json::to_string(&Wire::of(5, &site)).unwrap();
        let wire: Wire = serde_json::from_str(&text).unwrap();
        assert_eq!(wire.change(), site);
    }
}
