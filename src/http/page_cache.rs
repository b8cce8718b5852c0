//! Rendered thread pages (`GET …/thread` as JSON and `…/thread.html`), kept precompressed
//! (identity, gzip, brotli) with a strong ETag, and served by `Accept-Encoding` with 304s on
//! `If-None-Match`.
//!
//! A page is current while the change bus's stamp of its thread has not moved since it was
//! rendered (the stamp is taken before the database is read, so a write that commits during
//! the rendering makes the page stale at once), the cached site it was rendered with is still
//! the cached one (site settings), and its thread has not auto-closed since. Only what is the
//! same for every reader is cached: the CORS headers (per origin) are added outside, by the
//! middleware, on every response.
//!
//! Bounded by entries and bytes: each page weighs its bytes, but at least
//! `pages_max_bytes / pages_max_entries`, so the one limit (moka's weighted capacity) keeps
//! both.

use std::sync::Arc;

use actix_web::http::header::{self, HeaderName};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use moka::sync::Cache;

use tokio::sync::{Semaphore, SemaphorePermit};

use super::compressed::Compressed;
use crate::changes::Stamp;
use crate::config::CacheConfig;
use crate::domain::site::Site;
use crate::domain::thread::Sort;
use crate::error::AppError;

/// What a page costs besides its bytes (key, headers, bookkeeping).
const ENTRY_OVERHEAD: usize = 256;

/// The two renderings of a thread.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Format {
    Json,
    /// `base`: this server's address as the page names it (the feed link).
    Html {
        base: String,
    },
}

/// Everything that changes a page's bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub format: Format,
    pub site: String,
    pub thread_key: String,
    pub sort: Sort,
    pub limit: i64,
    pub cursor: Option<String>,
    /// Read from the primary (always, without replicas); pages read from a replica are kept
    /// apart, for readers who may read a replica.
    pub primary: bool,
}

/// A rendered page in every encoding.
pub struct Page {
    stamp: Stamp,
    site: Arc<Site>,
    /// When the page stops being current by itself: its thread auto-closes (the `closed` flag
    /// changes), or, for a page read from a replica, the replica may have lagged.
    valid_until: Option<DateTime<Utc>>,
    body: Compressed,
}

impl Page {
    pub fn new(
        stamp: Stamp,
        site: Arc<Site>,
        valid_until: Option<DateTime<Utc>>,
        content_type: &'static str,
        body: Vec<u8>,
    ) -> Self {
        Self {
            stamp,
            site,
            valid_until,
            body: Compressed::new(content_type, body),
        }
    }

    fn weight(&self) -> usize {
        self.body.weight() + ENTRY_OVERHEAD
    }

    /// The response for `req` (see [`Compressed::respond`]); pages are revalidated each time.
    pub fn respond(&self, req: &HttpRequest, extra: &[(HeaderName, &'static str)]) -> HttpResponse {
        let mut headers = vec![(header::CACHE_CONTROL, "no-cache")];
        headers.extend(extra.iter().cloned());
        self.body.respond(req, &headers)
    }
}

#[derive(Clone)]
pub struct PageCache {
    pages: Option<Cache<PageKey, Arc<Page>>>,
    /// Renderings in flight: a rendering holds its page three times over (identity, gzip,
    /// brotli) plus the compressors' state, so many requests missing at once (a popular thread
    /// just changed) must not each render it: they queue here, and those behind the first find
    /// its page in the cache.
    renders: Arc<Semaphore>,
}

impl PageCache {
    pub fn new(config: &CacheConfig) -> Self {
        let renders = Arc::new(Semaphore::new(
            std::thread::available_parallelism().map_or(2, |n| n.get() * 2),
        ));
        if config.pages_max_entries == 0 {
            return Self {
                pages: None,
                renders,
            };
        }
        let floor = usize::try_from(config.pages_max_bytes / config.pages_max_entries)
            .unwrap_or(usize::MAX);
        let pages = Cache::builder()
            .max_capacity(config.pages_max_bytes)
            .weigher(move |_key: &PageKey, page: &Arc<Page>| {
                u32::try_from(page.weight().max(floor)).unwrap_or(u32::MAX)
            })
            .build();
        Self {
            pages: Some(pages),
            renders,
        }
    }

    /// The page for `key` if it is still current for a reader now.
    pub fn get(
        &self,
        key: &PageKey,
        current: Stamp,
        site: &Arc<Site>,
        now: DateTime<Utc>,
    ) -> Option<Arc<Page>> {
        let pages = self.pages.as_ref()?;
        let page = pages.get(key)?;
        let current = page.stamp == current
            && Arc::ptr_eq(&page.site, site)
            && page.valid_until.is_none_or(|until| now < until);
        if current {
            Some(page)
        } else {
            pages.invalidate(key);
            None
        }
    }

    /// Waits for a turn to render a page (see `renders`); the turn ends when it is dropped.
    pub async fn render_turn(&self) -> Result<SemaphorePermit<'_>, AppError> {
        self.renders.acquire().await.map_err(AppError::internal)
    }

    pub fn put(&self, key: PageKey, page: Arc<Page>) {
        if let Some(pages) = &self.pages {
            pages.insert(key, page);
        }
    }

    /// Pages and bytes held now (after pending evictions ran), for metrics and tests.
    pub fn usage(&self) -> (u64, u64) {
        match &self.pages {
            Some(pages) => {
                pages.run_pending_tasks();
                let bytes = pages.iter().map(|(_, p)| p.weight() as u64).sum();
                (pages.entry_count(), bytes)
            }
            None => (0, 0),
        }
    }
}
