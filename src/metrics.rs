//! Prometheus metrics: request counts and latencies per route pattern and status, counters the
//! handlers bump (rate-limited requests, where new comments went), and gauges read at scrape
//! time (pool, mail outbox, moderation queue). One registry per application, no globals, so
//! two apps in one test process count apart.

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

use crate::db::{self, DbPool};
use crate::domain::comment::CommentStatus;
use crate::error::AppError;
use crate::service::post_writer::PostWriter;

/// Latency buckets in seconds: a comment page is fast, an import may take a while.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Every metric of one application.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    rate_limited: IntCounterVec,
    public_reads: IntCounterVec,
    comments_posted: IntCounterVec,
    pool_waiting: IntGauge,
    pool_connections: IntGaugeVec,
    pool_max: IntGauge,
    outbox: IntGaugeVec,
    held: IntGauge,
    /// `kith_cache_lookups_total`, resolved once per label pair (the lookups are the hot path).
    cache_lookups: CacheLookups,
    post_batches: IntCounter,
    posts_batched: IntCounter,
    post_batches_failed: IntCounter,
}

/// Which in-memory cache a lookup went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheName {
    /// Rendered thread pages (`GET …/thread`, `…/thread.html`).
    Pages,
    /// Comment counts per thread key (`POST …/counts`).
    Counts,
}

struct CacheLookups {
    pages_hit: IntCounter,
    pages_miss: IntCounter,
    counts_hit: IntCounter,
    counts_miss: IntCounter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "kith_http_requests_total",
                "HTTP requests answered, by method, route pattern and status",
            ),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "kith_http_request_duration_seconds",
                "Time to answer an HTTP request, by method, route pattern and status",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["method", "route", "status"],
        )?;
        let rate_limited = IntCounterVec::new(
            Opts::new(
                "kith_rate_limited_total",
                "Requests refused with 429 by a rate limit, by action",
            ),
            &["action"],
        )?;
        let public_reads = IntCounterVec::new(
            Opts::new(
                "kith_db_public_reads_total",
                "Public reads (threads, counts, settings) by the database that answered: \
                 replica, primary, or fresh (the primary, for a reader's own recent write)",
            ),
            &["source"],
        )?;
        let comments_posted = IntCounterVec::new(
            Opts::new(
                "kith_comments_posted_total",
                "New comments by where the moderation and spam checks put them \
                 (approved, pending = held for review, spam)",
            ),
            &["status"],
        )?;
        let pool_waiting = IntGauge::new(
            "kith_db_pool_waiting",
            "Requests waiting for a database connection",
        )?;
        let pool_connections = IntGaugeVec::new(
            Opts::new(
                "kith_db_pool_connections",
                "Database connections in the pool, by state (in_use, idle)",
            ),
            &["state"],
        )?;
        let pool_max = IntGauge::new("kith_db_pool_max", "The pool's maximum size")?;
        let outbox = IntGaugeVec::new(
            Opts::new(
                "kith_mail_outbox",
                "Mails in the outbox, by status (pending = backlog, failed = given up)",
            ),
            &["status"],
        )?;
        let held = IntGauge::new(
            "kith_comments_held",
            "Comments waiting in the moderation queue",
        )?;
        let lookups = IntCounterVec::new(
            Opts::new(
                "kith_cache_lookups_total",
                "Lookups in the in-memory caches, by cache (pages: one per thread page \
                 request; counts: one per thread key asked for) and result (hit: answered \
                 without the database; miss: read from the database)",
            ),
            &["cache", "result"],
        )?;
        let cache_lookups = CacheLookups {
            pages_hit: lookups.with_label_values(&["pages", "hit"]),
            pages_miss: lookups.with_label_values(&["pages", "miss"]),
            counts_hit: lookups.with_label_values(&["counts", "hit"]),
            counts_miss: lookups.with_label_values(&["counts", "miss"]),
        };
        registry.register(Box::new(lookups))?;
        let post_batches = IntCounter::new(
            "kith_post_batches_total",
            "Write transactions the post writer committed new comments in (or tried to)",
        )?;
        let posts_batched = IntCounter::new(
            "kith_posts_batched_total",
            "New comments the post writer took into those transactions (divided by \
             kith_post_batches_total: the average batch)",
        )?;
        let post_batches_failed = IntCounter::new(
            "kith_post_batches_failed_total",
            "Batches of several new comments that failed as a whole, whose comments were \
             then stored one by one",
        )?;
        registry.register(Box::new(post_batches.clone()))?;
        registry.register(Box::new(posts_batched.clone()))?;
        registry.register(Box::new(post_batches_failed.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(rate_limited.clone()))?;
        registry.register(Box::new(public_reads.clone()))?;
        registry.register(Box::new(comments_posted.clone()))?;
        registry.register(Box::new(pool_waiting.clone()))?;
        registry.register(Box::new(pool_connections.clone()))?;
        registry.register(Box::new(pool_max.clone()))?;
        registry.register(Box::new(outbox.clone()))?;
        registry.register(Box::new(held.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            rate_limited,
            public_reads,
            comments_posted,
            pool_waiting,
            pool_connections,
            pool_max,
            outbox,
            held,
            cache_lookups,
            post_batches,
            posts_batched,
            post_batches_failed,
        })
    }

    /// Counts `n` lookups in `cache` that were hits (`hit`) or misses.
    pub fn cache_lookups(&self, cache: CacheName, hit: bool, n: u64) {
        let counter = match (cache, hit) {
            (CacheName::Pages, true) => &self.cache_lookups.pages_hit,
            (CacheName::Pages, false) => &self.cache_lookups.pages_miss,
            (CacheName::Counts, true) => &self.cache_lookups.counts_hit,
            (CacheName::Counts, false) => &self.cache_lookups.counts_miss,
        };
        counter.inc_by(n);
    }

    /// Counts one answered request. `route` is the matched pattern (`/api/v1/sites/{site}/…`),
    /// never the raw path, so the label set stays bounded.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency
            .with_label_values(&labels)
            .observe(elapsed.as_secs_f64());
    }

    pub fn rate_limited(&self, action: &str) {
        self.rate_limited.with_label_values(&[action]).inc();
    }

    /// Counts one public read by where it was answered: `replica`, `primary` or `fresh`.
    pub fn public_read(&self, source: &str) {
        self.public_reads.with_label_values(&[source]).inc();
    }

    pub fn comment_posted(&self, status: CommentStatus) {
        self.comments_posted
            .with_label_values(&[status.as_str()])
            .inc();
    }

    /// Marks one caller as waiting for a pool connection until the guard is dropped.
    pub fn waiting_for_connection(&self) -> WaitingGuard<'_> {
        self.pool_waiting.inc();
        WaitingGuard(&self.pool_waiting)
    }

    /// Reads the gauges that live in the database and the pool, and the post writer's counts,
    /// then renders everything in the Prometheus text format. Blocking: call it off the async
    /// executor.
    pub fn render(&self, pool: &DbPool, posts: Option<&PostWriter>) -> Result<String, AppError> {
        if let Some(writer) = posts {
            let (batches, _) = writer.batches();
            catch_up(&self.post_batches, batches);
            catch_up(&self.posts_batched, writer.posts_taken());
            catch_up(&self.post_batches_failed, writer.failed_batches());
        }
        let pool_state = pool.state();
        let idle = i64::from(pool_state.idle_connections);
        let total = i64::from(pool_state.connections);
        self.pool_connections
            .with_label_values(&["in_use"])
            .set(total - idle);
        self.pool_connections.with_label_values(&["idle"]).set(idle);
        self.pool_max.set(i64::from(pool.max_size()));
        let mut conn = {
            let _waiting = self.waiting_for_connection();
            pool.get()?
        };
        let (pending, failed) = db::mail::count_outbox_backlog(&mut conn)?;
        self.outbox.with_label_values(&["pending"]).set(pending);
        self.outbox.with_label_values(&["failed"]).set(failed);
        let by_status = db::queue::count_by_status(&mut conn, None)?;
        self.held
            .set(by_status.get(&CommentStatus::Pending).copied().unwrap_or(0));
        let mut text = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut text)
            .map_err(AppError::internal)?;
        String::from_utf8(text).map_err(AppError::internal)
    }
}

/// Brings a counter that mirrors a count kept elsewhere up to `now` (counters only grow).
fn catch_up(counter: &IntCounter, now: usize) {
    let now = u64::try_from(now).unwrap_or(u64::MAX);
    counter.inc_by(now.saturating_sub(counter.get()));
}

/// Decrements the waiting gauge when dropped.
pub struct WaitingGuard<'a>(&'a IntGauge);

impl Drop for WaitingGuard<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}
