//! The verification worker: claims due mentions atomically (safe in several processes at
//! once), fetches each source, and records the result; a fetch that fails for a reason that
//! may pass is retried with exponential backoff, up to `webmention.max_attempts`.

use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;
use url::Url;

use super::fetch::{FetchError, Fetched, Fetcher};
use super::page::Page;
use crate::db;
use crate::domain::webmention::{Mention, MentionId};
use crate::error::AppError;
use crate::service::{self, webmentions::Verified};
use crate::state::AppState;

/// Mentions claimed per look at the queue.
const BATCH: i64 = 20;
/// Longest wait between two attempts.
const MAX_BACKOFF_MS: u64 = 24 * 3600 * 1000;

/// A running worker; `stop()` lets the mention in flight finish, then ends it.
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    task: actix_web::rt::task::JoinHandle<()>,
}

impl WorkerHandle {
    /// Asks the worker to stop after the mention in flight and waits up to `grace`; then ends
    /// it. A mention it was verifying keeps its lease until the lease lapses, then any worker
    /// verifies it again: it is never lost.
    pub async fn stop_within(self, grace: Duration) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        match tokio::time::timeout(grace, &mut task).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "the webmention worker ended abnormally"),
            Err(_) => task.abort(),
        }
    }
}

/// Starts the worker; `None` when Webmentions or `webmention.worker` are off.
pub fn spawn(state: AppState) -> Option<WorkerHandle> {
    let config = &state.config.webmention;
    if !config.enabled || !config.worker {
        return None;
    }
    let fetcher = match Fetcher::new(config) {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "Webmention verification is off: no HTTP client");
            return None;
        }
    };
    let poll = Duration::from_millis(config.poll_interval_ms.max(10));
    let (stop, mut stopped) = watch::channel(false);
    let task = actix_web::rt::spawn(async move {
        loop {
            let worked = match step_with(&state, &fetcher).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "webmention worker: could not read the queue");
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
    Some(WorkerHandle { stop, task })
}

/// One pass over the queue: every due, unclaimed mention is claimed, verified and recorded.
/// Returns how many were attempted.
pub async fn step(state: &AppState) -> Result<usize, AppError> {
    let fetcher = Fetcher::new(&state.config.webmention).map_err(AppError::internal)?;
    step_with(state, &fetcher).await
}

async fn step_with(state: &AppState, fetcher: &Fetcher) -> Result<usize, AppError> {
    let due = service::now().naive_utc();
    let ids = service::blocking(state, move |_, conn| {
        db::webmentions::list_due_ids(conn, due, BATCH)
    })
    .await?;
    // Longer than a fetch can take, so a lease lapses only when its process died.
    let lease = chrono::Duration::seconds(
        i64::try_from(state.config.webmention.timeout_secs.saturating_mul(6))
            .unwrap_or(i64::MAX)
            .clamp(60, 3600),
    );
    let mut attempted = 0;
    for id in ids {
        let claimed = service::blocking(state, move |_, conn| claim(conn, id, lease)).await?;
        let Some(mention) = claimed else { continue };
        attempted += 1;
        verify(state, fetcher, mention).await?;
    }
    Ok(attempted)
}

fn claim(
    conn: &mut db::DbConn,
    id: MentionId,
    lease: chrono::Duration,
) -> Result<Option<Mention>, AppError> {
    let now = service::now().naive_utc();
    db::write_tx(conn, |conn| {
        if db::webmentions::claim(conn, id, now, now + lease)? {
            db::webmentions::find(conn, id)
        } else {
            Ok(None)
        }
    })
}

async fn verify(state: &AppState, fetcher: &Fetcher, mention: Mention) -> Result<(), AppError> {
    let fetched = match Url::parse(&mention.source) {
        Ok(source) => fetcher.fetch(&source).await,
        Err(_) => Err(FetchError {
            message: "the source is not a URL".into(),
            permanent: true,
        }),
    };
    let target = mention.target.clone();
    // Parsing a large page is CPU work: off the async executor.
    let found = match fetched {
        Ok(Fetched::Gone) => Ok(Verified::Gone),
        Ok(Fetched::Page { url, body, html }) => {
            Ok(
                actix_web::web::block(move || read(&url, &body, html, &target))
                    .await
                    .map_err(AppError::internal)?,
            )
        }
        Err(e) => Err(e),
    };
    let config = state.config.webmention.clone();
    service::blocking(state, move |state, conn| match found {
        Ok(verified) => {
            let recorded = service::webmentions::record(state, conn, &mention, verified)?;
            tracing::info!(
                id = mention.id.0,
                outcome = recorded.as_str(),
                "webmention verified"
            );
            Ok(())
        }
        Err(error) => {
            let attempts = mention.attempts.saturating_add(1);
            let next = if error.permanent {
                None
            } else {
                next_attempt(attempts, config.max_attempts, config.retry_base_ms)
            };
            tracing::info!(
                id = mention.id.0,
                attempts,
                retry = next.is_some(),
                error = %error,
                "webmention source not verified"
            );
            service::webmentions::record_failure(conn, &mention, next, &error.message)
        }
    })
    .await
}

/// Reads a fetched page: HTML is parsed; any other text counts as linking when it holds the
/// target URL itself.
fn read(url: &Url, body: &str, html: bool, target: &str) -> Verified {
    let Ok(target_url) = Url::parse(target) else {
        return Verified::NoLink;
    };
    if !html {
        return if body.contains(target) {
            Verified::Links(super::page::MentionContent {
                author_name: url.host_str().unwrap_or("").to_string(),
                author_url: None,
                content_html: None,
                content_text: format!("{} linked here", url.host_str().unwrap_or("")),
                published: None,
                from_h_entry: false,
            })
        } else {
            Verified::NoLink
        };
    }
    let page = Page::parse(body, url.clone());
    if page.links_to(&target_url) {
        Verified::Links(page.content())
    } else {
        Verified::NoLink
    }
}

/// When to try again after `attempts` failures, or `None` to give up.
fn next_attempt(
    attempts: i32,
    max_attempts: u32,
    retry_base_ms: u64,
) -> Option<chrono::DateTime<Utc>> {
    let attempts = u32::try_from(attempts).unwrap_or(u32::MAX);
    if attempts >= max_attempts {
        return None;
    }
    let factor = 1u64 << attempts.saturating_sub(1).min(30);
    let delay = retry_base_ms.saturating_mul(factor).min(MAX_BACKOFF_MS);
    Some(service::now() + chrono::Duration::milliseconds(i64::try_from(delay).unwrap_or(i64::MAX)))
}
