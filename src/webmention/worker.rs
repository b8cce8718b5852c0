//! The verification worker: claims due mentions atomically (safe in several processes at
//! once), fetches each source, and records the result; a fetch that fails for a reason that
//! may pass is retried with exponential backoff, up to `webmention.max_attempts`. The claim,
//! lease, retry and shutdown loop is the shared [`crate::outbox`].

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use url::Url;

use super::fetch::{FetchError, Fetched, Fetcher};
use super::page::Page;
use crate::db::outbox::Leases;
use crate::db::{self, DbConn};
use crate::domain::webmention::{Mention, MentionId};
use crate::error::AppError;
use crate::outbox::{Names, Outbox, Policy};
use crate::service::{self, webmentions::Verified};
use crate::state::AppState;

pub use crate::outbox::WorkerHandle;

/// The queue of received mentions: the state the service records with, and the HTTP client.
struct MentionQueue {
    state: AppState,
    fetcher: Fetcher,
}

impl Outbox for MentionQueue {
    type Item = Mention;
    type Sent = Verified;
    type Failure = FetchError;

    const NAMES: &'static Names = &Names {
        worker: "webmention",
        queue: "queue",
        unit: "webmention",
        old_rows: None,
    };
    const LEASES: Leases = db::webmentions::LEASES;

    fn policy(&self) -> Policy {
        let config = &self.state.config.webmention;
        Policy {
            // Longer than a fetch can take, so a lease lapses only when its process died.
            lease: Policy::lease_of(config.timeout_secs, 6, 60, 3600),
            max_attempts: config.max_attempts,
            retry_base_ms: config.retry_base_ms,
        }
    }

    fn find(conn: &mut DbConn, id: i64) -> Result<Option<Mention>, AppError> {
        db::webmentions::find(conn, MentionId(id))
    }

    fn attempts(mention: &Mention) -> i32 {
        mention.attempts
    }

    async fn deliver(&self, mention: &Mention) -> Result<Verified, FetchError> {
        let fetched = match Url::parse(&mention.source) {
            Ok(source) => self.fetcher.fetch(&source).await?,
            Err(_) => {
                return Err(FetchError {
                    message: "the source is not a URL".into(),
                    permanent: true,
                });
            }
        };
        match fetched {
            Fetched::Gone => Ok(Verified::Gone),
            Fetched::Page { url, body, html } => {
                let target = mention.target.clone();
                // Parsing a large page is CPU work: off the async executor.
                tokio::task::spawn_blocking(move || read(&url, &body, html, &target))
                    .await
                    .map_err(|e| FetchError {
                        message: format!("reading the source page failed: {e}"),
                        permanent: false,
                    })
            }
        }
    }

    fn is_permanent(error: &FetchError) -> bool {
        error.permanent
    }

    fn record_sent(
        &self,
        conn: &mut DbConn,
        mention: Mention,
        verified: Verified,
        _now: NaiveDateTime,
    ) -> Result<(), AppError> {
        let recorded = service::webmentions::record(&self.state, conn, &mention, verified)?;
        tracing::info!(
            id = mention.id.0,
            outcome = recorded.as_str(),
            "webmention verified"
        );
        Ok(())
    }

    fn record_failure(
        &self,
        conn: &mut DbConn,
        mention: Mention,
        error: FetchError,
        attempts: i32,
        next: Option<NaiveDateTime>,
    ) -> Result<(), AppError> {
        tracing::info!(
            id = mention.id.0,
            attempts,
            retry = next.is_some(),
            error = %error,
            "webmention source not verified"
        );
        service::webmentions::record_failure(
            conn,
            &mention,
            next.map(|n| n.and_utc()),
            &error.message,
        )
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
    let poll = Duration::from_millis(config.poll_interval_ms);
    let pool = state.pool.clone();
    Some(crate::outbox::spawn(
        pool,
        MentionQueue { state, fetcher },
        poll,
    ))
}

/// One pass over the queue: every due, unclaimed mention is claimed, verified and recorded.
/// Returns how many were attempted.
pub async fn step(state: &AppState) -> Result<usize, AppError> {
    let fetcher = Fetcher::new(&state.config.webmention).map_err(AppError::internal)?;
    let queue = Arc::new(MentionQueue {
        state: state.clone(),
        fetcher,
    });
    crate::outbox::step(&state.pool, &queue).await
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
