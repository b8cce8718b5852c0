//! The mail outbox: claims due mails atomically, sends them, retries with exponential
//! backoff, and gives up after the last attempt or at once when the server refuses a mail for
//! good (a 5xx reply). Safe to run in several processes at once. It needs only the pool and
//! the mail settings (nothing from `service`); the claim, lease, retry and shutdown loop is
//! the shared [`crate::outbox`].

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;

use super::mailer::{Mailer, Outgoing, SendError};
use crate::config::MailConfig;
use crate::db::mail::OutboxRow;
use crate::db::outbox::Leases;
use crate::db::{self, DbConn, DbPool, write_tx};
use crate::error::AppError;
use crate::outbox::{Names, Outbox, Policy};

pub use crate::outbox::WorkerHandle;

/// The mail outbox: the SMTP client and the settings it sends with.
struct MailOutbox {
    mailer: Mailer,
    config: MailConfig,
}

impl Outbox for MailOutbox {
    type Item = OutboxRow;
    type Sent = String;
    type Failure = SendError;

    const NAMES: &'static Names = &Names {
        worker: "mail",
        queue: "outbox",
        unit: "mail",
        old_rows: Some("old sent mails"),
    };
    const LEASES: Leases = db::mail::LEASES;

    fn policy(&self) -> Policy {
        Policy {
            // Longer than any one send can take (each SMTP step has its own timeout), so a
            // lease only lapses when its process died; then another worker sends the mail.
            lease: Policy::lease_of(self.config.timeout_secs, 10, 120, 24 * 3600),
            max_attempts: self.config.max_attempts,
            retry_base_ms: self.config.retry_base_ms,
        }
    }

    fn find(conn: &mut DbConn, id: i64) -> Result<Option<OutboxRow>, AppError> {
        db::mail::find_outbox(conn, id)
    }

    fn attempts(row: &OutboxRow) -> i32 {
        row.attempts
    }

    async fn deliver(&self, row: &OutboxRow) -> Result<String, SendError> {
        self.mailer
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
            .await
    }

    fn is_permanent(error: &SendError) -> bool {
        error.permanent
    }

    fn record_sent(
        &self,
        conn: &mut DbConn,
        row: OutboxRow,
        _reply: String,
        now: NaiveDateTime,
    ) -> Result<(), AppError> {
        write_tx(conn, |conn| db::mail::update_sent(conn, row.id, now))
    }

    fn record_failure(
        &self,
        conn: &mut DbConn,
        row: OutboxRow,
        error: SendError,
        attempts: i32,
        next: Option<NaiveDateTime>,
    ) -> Result<(), AppError> {
        let id = row.id;
        if next.is_none() {
            tracing::warn!(id, kind = %row.kind, error = %error, "mail given up");
        } else {
            tracing::info!(id, attempts, error = %error, "mail not sent; will retry");
        }
        write_tx(conn, |conn| {
            db::mail::update_attempt_failed(conn, id, attempts, next, &error.message)
        })
    }

    /// Deletes sent mails once their links can no longer matter (a day past the link expiry,
    /// which also bounds how long a confirmation mail holds back the next one).
    fn clean_up(&self, conn: &mut DbConn, now: NaiveDateTime) -> Result<usize, AppError> {
        let keep = chrono::Duration::days(i64::from(self.config.link_expiry_days) + 1);
        write_tx(conn, |conn| db::mail::delete_sent_before(conn, now - keep))
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
    let poll = Duration::from_millis(config.poll_interval_ms);
    Some(crate::outbox::spawn(
        pool,
        MailOutbox { mailer, config },
        poll,
    ))
}

/// One pass over the outbox: every due, unclaimed mail is claimed, sent and recorded.
/// Returns how many mails were attempted.
pub async fn step(pool: &DbPool, config: &MailConfig, mailer: &Mailer) -> Result<usize, AppError> {
    let outbox = Arc::new(MailOutbox {
        mailer: mailer.clone(),
        config: config.clone(),
    });
    crate::outbox::step(pool, &outbox).await
}
