//! The outbox worker: claims due mails atomically, sends them, retries with exponential
//! backoff, and gives up after the last attempt or at once when the server refuses a mail for
//! good (a 5xx reply). Safe to run in several processes at once. It needs only the pool and
//! the mail settings (nothing from `service`).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use tokio::sync::watch;

use super::mailer::{Mailer, Outgoing};
use crate::config::MailConfig;
use crate::db::{self, DbConn, DbPool, write_tx};
use crate::domain::comment::truncate_to_micros;
use crate::error::AppError;

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

/// Mails claimed per look at the outbox.
const BATCH: i64 = 20;
/// How often sent mails past their usefulness are deleted.
const CLEANUP_INTERVAL: Duration = Duration::from_secs(3600);
/// Longest wait between two attempts of one mail.
const MAX_BACKOFF_MS: u64 = 24 * 3600 * 1000;

/// A running worker; `stop()` lets the mail in flight finish, then ends it.
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    pool: DbPool,
    /// The id of the mail the worker holds a lease on, 0 when none.
    leased: Arc<AtomicI64>,
}

impl WorkerHandle {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::warn!(error = %e, "the mail worker ended abnormally");
        }
    }

    /// Asks the worker to stop after the mail in flight (it claims no further one) and waits
    /// up to `grace`; then ends it and releases the lease of the mail it was sending, so
    /// another process (or the next start) sends it without waiting for the lease to lapse.
    /// That mail may then go out twice; it is never lost.
    pub async fn stop_within(self, grace: Duration) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        match tokio::time::timeout(grace, &mut task).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "the mail worker ended abnormally"),
            Err(_) => {
                task.abort();
                let _ = task.await;
                let id = self.leased.swap(0, Ordering::SeqCst);
                if id != 0 {
                    let released =
                        blocking(&self.pool, move |conn| db::mail::release_lease(conn, id)).await;
                    match released {
                        Ok(()) => tracing::info!(id, "released the lease of an unsent mail"),
                        Err(e) => tracing::warn!(id, error = %e, "could not release a mail lease"),
                    }
                }
            }
        }
    }
}

/// Starts the worker; `None` when mail is off or `mail.worker` is false.
pub fn spawn(pool: DbPool, config: MailConfig) -> Option<WorkerHandle> {
    if !config.worker {
        return None;
    }
    spawn_always(pool, config)
}

/// Starts a worker even when `mail.worker` is false (tests, tools); `None` when mail is off.
pub fn spawn_always(pool: DbPool, config: MailConfig) -> Option<WorkerHandle> {
    let mailer = match Mailer::from_config(&config) {
        Ok(Some(mailer)) => mailer,
        Ok(None) => {
            tracing::info!("mail is off (no mail.smtp_host configured)");
            return None;
        }
        Err(e) => {
            tracing::error!(error = %e, "mail is off: the SMTP settings are not usable");
            return None;
        }
    };
    let (stop, mut stopped) = watch::channel(false);
    let leased = Arc::new(AtomicI64::new(0));
    let task_leased = leased.clone();
    let task_pool = pool.clone();
    let task = tokio::spawn(async move {
        let pool = task_pool;
        let leased = task_leased;
        let poll = Duration::from_millis(config.poll_interval_ms.max(10));
        let mut next_cleanup = tokio::time::Instant::now();
        loop {
            if tokio::time::Instant::now() >= next_cleanup {
                next_cleanup += CLEANUP_INTERVAL;
                clean_up(&pool, &config).await;
            }
            let worked = match step_until(&pool, &config, &mailer, &stopped, &leased).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "mail worker: could not read the outbox");
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
    Some(WorkerHandle {
        stop,
        task,
        pool,
        leased,
    })
}

/// Deletes sent mails once their links can no longer matter (a day past the link expiry,
/// which also bounds how long a confirmation mail holds back the next one).
async fn clean_up(pool: &DbPool, config: &MailConfig) {
    let keep = chrono::Duration::days(i64::from(config.link_expiry_days) + 1);
    let result = blocking(pool, move |conn| {
        let before = now() - keep;
        write_tx(conn, |conn| db::mail::delete_sent_before(conn, before))
    })
    .await;
    match result {
        Ok(0) => {}
        Ok(deleted) => tracing::info!(deleted, "deleted old sent mails"),
        Err(e) => tracing::warn!(error = %e, "could not delete old sent mails"),
    }
}

/// One pass over the outbox: every due, unclaimed mail is claimed, sent and recorded.
/// Returns how many mails were attempted.
pub async fn step(pool: &DbPool, config: &MailConfig, mailer: &Mailer) -> Result<usize, AppError> {
    let (_keep, running) = watch::channel(false);
    step_until(pool, config, mailer, &running, &AtomicI64::new(0)).await
}

/// [`step`] that claims no further mail once `stop` turns true, and keeps the id of the mail
/// it holds a lease on in `leased` (0 when none).
async fn step_until(
    pool: &DbPool,
    config: &MailConfig,
    mailer: &Mailer,
    stop: &watch::Receiver<bool>,
    leased: &AtomicI64,
) -> Result<usize, AppError> {
    let due = now();
    let ids = blocking(pool, move |conn| db::mail::list_due_ids(conn, due, BATCH)).await?;
    // Longer than any one send can take (each SMTP step has its own timeout), so a lease only
    // lapses when its process died; then another worker sends the mail.
    let lease = chrono::Duration::seconds(
        i64::try_from(config.timeout_secs.saturating_mul(10))
            .unwrap_or(i64::MAX)
            .clamp(120, 24 * 3600),
    );
    let mut attempted = 0;
    for id in ids {
        if *stop.borrow() {
            break;
        }
        let claimed_at = now();
        let claimed = blocking(pool, move |conn| {
            write_tx(conn, |conn| {
                if db::mail::claim(conn, id, claimed_at, claimed_at + lease)? {
                    db::mail::find_outbox(conn, id)
                } else {
                    Ok(None)
                }
            })
        })
        .await?;
        let Some(row) = claimed else { continue };
        leased.store(id, Ordering::SeqCst);
        attempted += 1;
        let result = mailer
            .send(&Outgoing {
                to: &row.recipient,
                subject: &row.subject,
                text: &row.body_text,
                html: &row.body_html,
                unsubscribe_url: row.unsubscribe_url.as_deref(),
                sender_name: &row.sender_name,
                message_id: Some(format!(
                    "kith.{}.{}",
                    row.id,
                    row.created_at.and_utc().timestamp_micros()
                )),
            })
            .await;
        let attempts = row.attempts.saturating_add(1);
        let max_attempts = config.max_attempts;
        let retry_base = config.retry_base_ms;
        blocking(pool, move |conn| {
            let done_at = now();
            write_tx(conn, |conn| match &result {
                Ok(_) => db::mail::update_sent(conn, id, done_at),
                Err(error) => {
                    let next = if error.permanent {
                        None
                    } else {
                        next_attempt(done_at, attempts, max_attempts, retry_base)
                    };
                    if next.is_none() {
                        tracing::warn!(id, kind = %row.kind, error = %error, "mail given up");
                    } else {
                        tracing::info!(id, attempts, error = %error, "mail not sent; will retry");
                    }
                    db::mail::update_attempt_failed(conn, id, attempts, next, &error.message)
                }
            })
        })
        .await?;
        leased.store(0, Ordering::SeqCst);
    }
    Ok(attempted)
}

/// When to try again after `attempts` failures, or `None` to give up (mail and webhooks).
pub(crate) fn next_attempt(
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
}
