//! Webhook deliveries: the worker that leases due deliveries from the webhook outbox, sends
//! them over HTTP(S) with a timeout and a cap on the answer's size, signs kith payloads, and
//! retries with exponential backoff until the last attempt, when the delivery is recorded as
//! failed (listed with its last error in the admin area); a `4xx` answer other than 408 and
//! 429 is recorded as failed at once. Safe in several processes at once.
//!
//! Non-public addresses (loopback, private, link-local, …) are refused unless
//! `webhooks.allow_private` is on: every address a host resolves to is checked when the
//! delivery is made (a resolver that answers a public address first and a private one later
//! gains nothing), an address written in the URL is checked before connecting, and every
//! redirect target is checked the same way. No proxy from the environment is used, so the
//! check sees the address actually connected to.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use tokio::sync::watch;

use crate::config::WebhooksConfig;
use crate::db::webhooks::Outgoing;
use crate::db::{self, DbConn, DbPool, write_tx};
use crate::domain::comment::truncate_to_micros;
use crate::domain::webhook::PayloadFormat;
use crate::error::AppError;
use crate::secrets::{self, Keys};

/// The header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "Kith-Signature";
/// The header naming the event (`comment.posted`, …).
pub const EVENT_HEADER: &str = "Kith-Event";
/// The header carrying the delivery's id, the same on every retry (for de-duplication).
pub const DELIVERY_HEADER: &str = "Kith-Delivery";

/// Deliveries claimed per look at the outbox.
const BATCH: i64 = 20;
/// How often sent deliveries older than a week are deleted.
const CLEANUP_INTERVAL: Duration = Duration::from_secs(3600);
const KEEP_SENT_DAYS: i64 = 7;

fn now() -> NaiveDateTime {
    truncate_to_micros(Utc::now()).naive_utc()
}

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

/// Whether an address is one the public internet routes to (the ones a webhook may reach
/// without `webhooks.allow_private`).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            is_public_v6(v6)
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier-grade NAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (first == 0x2001 && ip.segments()[1] == 0x0db8) // documentation
        || (first == 0x0064 && ip.segments()[1] == 0xff9b) // NAT64, may reach private IPv4
        || ip.to_ipv4().is_some_and(|v4| !is_public_v4(v4) && ip.segments()[..6] == [0; 6]))
}

fn refused(ip: IpAddr) -> String {
    format!("refused: {ip} is not a public address (set webhooks.allow_private to allow it)")
}

/// Resolves hosts and refuses the whole lookup when any address is not public.
struct CheckedResolver;

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() {
                return Err(format!("{host} has no address").into());
            }
            if let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
                return Err(refused(bad.ip()).into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
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
            builder = builder.dns_resolver(Arc::new(CheckedResolver));
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

/// A running worker; `stop_within` ends it like the mail worker's handle.
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    pool: DbPool,
    leased: Arc<AtomicI64>,
}

impl WorkerHandle {
    /// Stops after the delivery in flight, waiting up to `grace`; a delivery still in flight
    /// then gets its lease released so another process sends it (maybe twice, never lost).
    pub async fn stop_within(self, grace: Duration) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        match tokio::time::timeout(grace, &mut task).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "the webhook worker ended abnormally"),
            Err(_) => {
                task.abort();
                let _ = task.await;
                let id = self.leased.swap(0, Ordering::SeqCst);
                if id != 0 {
                    let released = blocking(&self.pool, move |conn| {
                        db::webhooks::release_lease(conn, id)
                    })
                    .await;
                    if let Err(e) = released {
                        tracing::warn!(id, error = %e, "could not release a webhook lease");
                    }
                }
            }
        }
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
    let (stop, mut stopped) = watch::channel(false);
    let leased = Arc::new(AtomicI64::new(0));
    let task_leased = leased.clone();
    let task_pool = pool.clone();
    let task = tokio::spawn(async move {
        let pool = task_pool;
        let poll = Duration::from_millis(config.poll_interval_ms.max(10));
        let mut next_cleanup = tokio::time::Instant::now();
        loop {
            if tokio::time::Instant::now() >= next_cleanup {
                next_cleanup += CLEANUP_INTERVAL;
                let result = blocking(&pool, |conn| {
                    let before = now() - chrono::Duration::days(KEEP_SENT_DAYS);
                    write_tx(conn, |conn| db::webhooks::delete_sent_before(conn, before))
                })
                .await;
                if let Err(e) = result {
                    tracing::warn!(error = %e, "could not delete old webhook deliveries");
                }
            }
            let worked = match step_until(&pool, &sender, &stopped, &task_leased).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook worker: could not read the outbox");
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

/// One pass over the outbox: every due, unleased delivery is claimed, sent and recorded.
/// Returns how many were attempted.
pub async fn step(pool: &DbPool, sender: &Sender) -> Result<usize, AppError> {
    let (_keep, running) = watch::channel(false);
    step_until(pool, sender, &running, &AtomicI64::new(0)).await
}

async fn step_until(
    pool: &DbPool,
    sender: &Sender,
    stop: &watch::Receiver<bool>,
    leased: &AtomicI64,
) -> Result<usize, AppError> {
    let due = now();
    let ids = blocking(pool, move |conn| {
        db::webhooks::list_due_ids(conn, due, BATCH)
    })
    .await?;
    // Longer than one attempt can take, so a lease lapses only when its process died.
    let lease = chrono::Duration::seconds(
        i64::try_from(sender.config.timeout_secs.saturating_mul(6))
            .unwrap_or(i64::MAX)
            .clamp(60, 3600),
    );
    let mut attempted = 0;
    for id in ids {
        if *stop.borrow() {
            break;
        }
        let claimed_at = now();
        let claimed = blocking(pool, move |conn| {
            write_tx(conn, |conn| {
                if db::webhooks::claim(conn, id, claimed_at, claimed_at + lease)? {
                    db::webhooks::find_outgoing(conn, id)
                } else {
                    Ok(None)
                }
            })
        })
        .await?;
        let Some(delivery) = claimed else { continue };
        leased.store(id, Ordering::SeqCst);
        attempted += 1;
        let result = sender.send(&delivery).await;
        let attempts = delivery.attempts.saturating_add(1);
        let max_attempts = sender.config.max_attempts;
        let retry_base = sender.config.retry_base_ms;
        blocking(pool, move |conn| {
            let done_at = now();
            write_tx(conn, |conn| match &result {
                Ok(status) => db::webhooks::update_sent(conn, id, *status, done_at),
                Err(failure) => {
                    let next = if failure.is_permanent() {
                        None
                    } else {
                        super::worker::next_attempt(done_at, attempts, max_attempts, retry_base)
                    };
                    if next.is_none() {
                        tracing::warn!(id, error = %failure.message, "webhook delivery given up");
                    } else {
                        tracing::info!(id, attempts, error = %failure.message, "webhook not delivered; will retry");
                    }
                    db::webhooks::update_attempt_failed(
                        conn,
                        id,
                        attempts,
                        next,
                        &failure.message,
                        failure.http_status,
                    )
                }
            })
        })
        .await?;
        leased.store(0, Ordering::SeqCst);
    }
    Ok(attempted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            let ip: IpAddr = private.parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
            assert!(!is_public(ip), "{private}");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            let ip: IpAddr = public.parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
            assert!(is_public(ip), "{public}");
        }
    }
}
