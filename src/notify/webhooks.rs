//! Webhook deliveries: the worker that leases due deliveries from the webhook outbox, sends
//! them over HTTP(S) with a timeout and a cap on the answer's size, signs kith payloads, and
//! retries with exponential backoff until the last attempt, when the delivery is recorded as
//! failed (listed with its last error in the admin area); a `4xx` answer other than 408 and
//! 429 is recorded as failed at once. Safe in several processes at once: the claim, lease,
//! retry and shutdown loop is the shared [`crate::outbox`].
//!
//! Non-public addresses (loopback, private, link-local, …) are refused unless
//! `webhooks.allow_private` is on: every address a host resolves to is checked when the
//! delivery is made (a resolver that answers a public address first and a private one later
//! gains nothing), an address written in the URL is checked before connecting, and every
//! redirect target is checked the same way. No proxy from the environment is used, so the
//! check sees the address actually connected to.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDateTime, Utc};

use crate::address::{PublicResolver, is_public};
use crate::config::WebhooksConfig;
use crate::db::outbox::Leases;
use crate::db::webhooks::Outgoing;
use crate::db::{self, DbConn, DbPool, write_tx};
use crate::domain::webhook::PayloadFormat;
use crate::error::AppError;
use crate::outbox::{Names, Outbox, Policy};
use crate::secrets::{self, Keys};

pub use crate::outbox::WorkerHandle;

/// The header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "Kith-Signature";
/// The header naming the event (`comment.posted`, …).
pub const EVENT_HEADER: &str = "Kith-Event";
/// The header carrying the delivery's id, the same on every retry (for de-duplication).
pub const DELIVERY_HEADER: &str = "Kith-Delivery";

/// How long sent deliveries are kept.
const KEEP_SENT_DAYS: i64 = 7;

fn refused(ip: IpAddr) -> String {
    format!("refused: {ip} is not a public address (set webhooks.allow_private to allow it)")
}

/// The reason to refuse a URL before connecting: a non-public address written in it, or a
/// scheme other than http(s).
fn check_url(url: &reqwest::Url, allow_private: bool) -> Option<String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Some(format!("refused: {} is not http or https", url.scheme()));
    }
    if allow_private {
        return None;
    }
    let ip = match url.host()? {
        url::Host::Ipv4(v4) => IpAddr::V4(v4),
        url::Host::Ipv6(v6) => IpAddr::V6(v6),
        url::Host::Domain(_) => return None,
    };
    (!is_public(ip)).then(|| refused(ip))
}

/// One attempt's outcome.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub http_status: Option<i32>,
}

impl Failure {
    /// Whether sending again cannot help: the receiver answered with a client error (`4xx`)
    /// other than `408 Request Timeout` and `429 Too Many Requests`, which say "later".
    pub fn is_permanent(&self) -> bool {
        self.http_status
            .is_some_and(|s| (400..500).contains(&s) && s != 408 && s != 429)
    }
}

/// Sends deliveries: one HTTP client (connection pool) per worker.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    config: WebhooksConfig,
    keys: Arc<Keys>,
}

impl Sender {
    pub fn new(config: &WebhooksConfig, keys: Arc<Keys>) -> Result<Self, AppError> {
        let allow_private = config.allow_private;
        let max_redirects = usize::try_from(config.max_redirects).unwrap_or(usize::MAX);
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > max_redirects {
                return attempt.error(format!("more than {max_redirects} redirects"));
            }
            match check_url(attempt.url(), allow_private) {
                Some(reason) => attempt.error(reason),
                None => attempt.follow(),
            }
        });
        let timeout = Duration::from_secs(config.timeout_secs.max(1));
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(policy)
            .no_proxy()
            .user_agent(concat!("kith-webhooks/", env!("CARGO_PKG_VERSION")));
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(PublicResolver {
                allow_private: false,
            }));
        }
        let client = builder.build().map_err(AppError::internal)?;
        Ok(Self {
            client,
            config: config.clone(),
            keys,
        })
    }

    /// Sends one delivery; `Ok(status)` for a 2xx answer read within the size limit.
    pub async fn send(&self, delivery: &Outgoing) -> Result<i32, Failure> {
        let failure = |message: String, http_status: Option<i32>| Failure {
            message,
            http_status,
        };
        let url = reqwest::Url::parse(&delivery.url)
            .map_err(|e| failure(format!("bad endpoint URL: {e}"), None))?;
        if let Some(reason) = check_url(&url, self.config.allow_private) {
            return Err(failure(reason, None));
        }
        let mut request = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(delivery.body.clone());
        if delivery.format == PayloadFormat::Kith {
            let secret = self.keys.webhook_secret(&delivery.secret_salt);
            let timestamp = Utc::now().timestamp();
            let signature =
                secrets::webhook_signature(&secret, timestamp, delivery.body.as_bytes());
            request = request
                .header(EVENT_HEADER, &delivery.event)
                .header(DELIVERY_HEADER, delivery.id.to_string())
                .header(SIGNATURE_HEADER, format!("t={timestamp},v1={signature}"));
        }
        let mut response = request
            .send()
            .await
            .map_err(|e| failure(describe(&e), None))?;
        let status = i32::from(response.status().as_u16());
        let limit = self.config.max_response_bytes;
        let mut read: u64 = 0;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    read = read.saturating_add(chunk.len() as u64);
                    if read > limit {
                        return Err(failure(
                            format!("the answer is longer than {limit} bytes"),
                            Some(status),
                        ));
                    }
                }
                Ok(None) => break,
                Err(e) => return Err(failure(describe(&e), Some(status))),
            }
        }
        if (200..300).contains(&status) {
            Ok(status)
        } else {
            Err(failure(
                format!("the receiver answered HTTP {status}"),
                Some(status),
            ))
        }
    }
}

/// An error with its causes, without the URL (a chat webhook's URL is its secret).
fn describe(error: &reqwest::Error) -> String {
    let mut message = if error.is_timeout() {
        "timed out".to_string()
    } else if error.is_redirect() {
        "redirect refused".to_string()
    } else if error.is_connect() {
        "could not connect".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message.chars().take(500).collect()
}

impl Outbox for Sender {
    type Item = Outgoing;
    type Sent = i32;
    type Failure = Failure;

    const NAMES: &'static Names = &Names {
        worker: "webhook",
        queue: "outbox",
        unit: "webhook delivery",
        old_rows: Some("old webhook deliveries"),
    };
    const LEASES: Leases = db::webhooks::LEASES;

    fn policy(&self) -> Policy {
        Policy {
            lease: Policy::lease_of(self.config.timeout_secs, 6, 60, 3600),
            max_attempts: self.config.max_attempts,
            retry_base_ms: self.config.retry_base_ms,
        }
    }

    fn find(conn: &mut DbConn, id: i64) -> Result<Option<Outgoing>, AppError> {
        db::webhooks::find_outgoing(conn, id)
    }

    fn attempts(delivery: &Outgoing) -> i32 {
        delivery.attempts
    }

    fn deliver(
        &self,
        delivery: &Outgoing,
    ) -> impl std::future::Future<Output = Result<i32, Failure>> + Send {
        self.send(delivery)
    }

    fn is_permanent(failure: &Failure) -> bool {
        failure.is_permanent()
    }

    fn record_sent(
        &self,
        conn: &mut DbConn,
        delivery: Outgoing,
        status: i32,
        now: NaiveDateTime,
    ) -> Result<(), AppError> {
        write_tx(conn, |conn| {
            db::webhooks::update_sent(conn, delivery.id, status, now)
        })
    }

    fn record_failure(
        &self,
        conn: &mut DbConn,
        delivery: Outgoing,
        failure: Failure,
        attempts: i32,
        next: Option<NaiveDateTime>,
    ) -> Result<(), AppError> {
        let id = delivery.id;
        if next.is_none() {
            tracing::warn!(id, error = %failure.message, "webhook delivery given up");
        } else {
            tracing::info!(id, attempts, error = %failure.message, "webhook not delivered; will retry");
        }
        write_tx(conn, |conn| {
            db::webhooks::update_attempt_failed(
                conn,
                id,
                attempts,
                next,
                &failure.message,
                failure.http_status,
            )
        })
    }

    /// Deletes sent deliveries older than a week.
    fn clean_up(&self, conn: &mut DbConn, now: NaiveDateTime) -> Result<usize, AppError> {
        let before = now - chrono::Duration::days(KEEP_SENT_DAYS);
        write_tx(conn, |conn| db::webhooks::delete_sent_before(conn, before))
    }
}

/// Starts the worker, unless `webhooks.worker` is false.
pub fn spawn(pool: DbPool, config: WebhooksConfig, keys: Arc<Keys>) -> Option<WorkerHandle> {
    if !config.worker {
        return None;
    }
    let sender = match Sender::new(&config, keys) {
        Ok(sender) => sender,
        Err(e) => {
            tracing::error!(error = %e, "webhooks are off: no HTTP client");
            return None;
        }
    };
    let poll = Duration::from_millis(config.poll_interval_ms);
    Some(crate::outbox::spawn(pool, sender, poll))
}

/// One pass over the outbox: every due, unleased delivery is claimed, sent and recorded.
/// Returns how many were attempted.
pub async fn step(pool: &DbPool, sender: &Sender) -> Result<usize, AppError> {
    crate::outbox::step(pool, &Arc::new(sender.clone())).await
}
