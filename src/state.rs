//! What every handler gets: the pool, the configuration and the shared helpers. No globals.

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;

use crate::changes::ChangeBus;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::DbPool;
use crate::db::rate_limits::SharedQuota;
use crate::db::replicas::Replicas;
use crate::domain::site::Site;
use crate::http::page_cache::PageCache;
use crate::metrics::Metrics;
use crate::notify::layout::MailLayout;
use crate::notify::texts::Locales;
use crate::render::Renderer;
pub use crate::secrets::Keys;
use crate::spam::client_ip::TrustedProxies;
use crate::spam::limiter::Limiters;

/// Shared application state, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The primary database: every write, the admin area, and reads that must be current.
    pub pool: DbPool,
    /// PostgreSQL streaming replicas for public reads (`database.replica_urls`; often none).
    pub replicas: Arc<Replicas>,
    pub config: Arc<Config>,
    pub renderer: Arc<Renderer>,
    pub keys: Arc<Keys>,
    pub sites: SiteCache,
    pub limiters: Arc<Limiters>,
    /// Whether (and when not) requests also spend from the quota shared through PostgreSQL.
    pub shared_quota: Arc<SharedQuota>,
    pub trusted_proxies: Arc<TrustedProxies>,
    /// Server texts (mails, mail-link pages) in every language, parsed at start.
    pub texts: Arc<Locales>,
    /// The mail layout (built in, or `mail.templates_dir`'s, read at start).
    pub mail_layout: Arc<MailLayout>,
    pub log_once: LogOnce,
    /// Prometheus counters and gauges (served only when `metrics.enabled`).
    pub metrics: Arc<Metrics>,
    /// Live updates: published comments told to the streams open on this process.
    pub live: Arc<crate::live::LiveHub>,
    /// Announcements of what changed for readers (this process's writes and, on PostgreSQL,
    /// the other processes').
    pub changes: ChangeBus,
    /// Rendered thread pages, current while the bus says their thread has not changed.
    pub pages: PageCache,
    /// Comment counts per thread key, current likewise.
    pub counts: crate::service::counts::CountCache,
    /// The embed's files, compressed once.
    pub assets: Arc<crate::http::assets::EmbedFiles>,
    /// The queue through which new comments are committed in batches (`database.post_batch`,
    /// one writer on SQLite, `database.post_writers` on PostgreSQL); `None` when
    /// `post_batch = 0`, each post in a transaction of its own.
    pub posts: Option<crate::service::post_writer::PostWriter>,
    /// The time digests go by (the system clock, or a test's).
    pub clock: Clock,
    /// The configured sign-in providers (OpenID Connect, GitHub) and their cached metadata.
    pub signin: Arc<crate::oidc::Providers>,
}

/// Remembers which warnings this process logged lately, so that a warning repeated by every
/// request (an origin that is not allowed, say) reaches the log at most once per `period`.
#[derive(Clone)]
pub struct LogOnce {
    seen: Cache<String, ()>,
}

impl LogOnce {
    pub fn new(period: Duration) -> Self {
        Self {
            seen: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(period)
                .build(),
        }
    }

    /// True the first time `key` is seen in the period (the caller then logs).
    pub fn first(&self, key: &str) -> bool {
        let entry = self.seen.entry(key.to_owned()).or_insert(());
        entry.is_fresh()
    }
}

/// Sites by slug, cached briefly, and dropped as soon as the change bus announces a change of
/// a site (from this process or, on PostgreSQL, another): each entry keeps the bus's epoch of
/// when it was read, and is stale once the epoch moved.
#[derive(Clone)]
pub struct SiteCache {
    cache: Cache<String, (Arc<Site>, u64)>,
}

impl SiteCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            cache: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(ttl)
                .build(),
        }
    }

    /// The site, if it was read since the last announced site change (`epoch`).
    pub fn get_current(&self, slug: &str, epoch: u64) -> Option<Arc<Site>> {
        self.cache
            .get(slug)
            .filter(|(_, read_at)| *read_at == epoch)
            .map(|(site, _)| site)
    }

    /// `epoch`: the bus's epoch taken before the site was read.
    pub fn put(&self, site: Arc<Site>, epoch: u64) {
        self.cache.insert(site.slug.clone(), (site, epoch));
    }

    pub fn invalidate(&self, slug: &str) {
        self.cache.invalidate(slug);
    }
}
