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

use std::io::Write;
use std::sync::Arc;

use actix_web::http::header::{self, HeaderMap};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use moka::sync::Cache;
use sha2::{Digest, Sha256};

use crate::changes::Stamp;
use crate::config::CacheConfig;
use crate::domain::site::Site;
use crate::domain::thread::Sort;

/// Pages smaller than this are sent as they are: compressing them gains nothing.
const COMPRESS_FROM: usize = 512;
/// Brotli quality for pages: most of the gain for little time (11 takes ~50x longer).
const BROTLI_QUALITY: u32 = 5;
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

    content_type: &'static str,
    /// The ETag's opaque part (identity); encodings add a suffix.
    tag: String,
    identity: Bytes,
    gzip: Option<Bytes>,
    brotli: Option<Bytes>,
}

impl Page {
    /// Renders `body` into every encoding. `stamp` and `site` as they were before the
    /// database was read.
    pub fn new(
        stamp: Stamp,
        site: Arc<Site>,
        valid_until: Option<DateTime<Utc>>,
        content_type: &'static str,
        body: Vec<u8>,
    ) -> Self {
        let tag = hex::encode(&Sha256::digest(&body)[..12]);
        let (gzip, brotli) = if body.len() >= COMPRESS_FROM {
            (gzip(&body), brotli(&body))
        } else {
            (None, None)
        };
        Self {
            stamp,
            site,
            valid_until,
            content_type,
            tag,
            identity: Bytes::from(body),
            gzip,
            brotli,
        }
    }

    fn weight(&self) -> usize {
        self.identity.len()
            + self.gzip.as_ref().map_or(0, Bytes::len)
            + self.brotli.as_ref().map_or(0, Bytes::len)
            + ENTRY_OVERHEAD
    }

    fn etag(&self, encoding: Encoding) -> String {
        match encoding {
            Encoding::Identity => format!("\"{}\"", self.tag),
            Encoding::Gzip => format!("\"{}-gz\"", self.tag),
            Encoding::Brotli => format!("\"{}-br\"", self.tag),
        }
    }

    /// The response for `req`: 304 when its `If-None-Match` names this page, else the page in
    /// the best encoding it accepts.
    pub fn respond(
        &self,
        req: &HttpRequest,
        extra: &[(header::HeaderName, &'static str)],
    ) -> HttpResponse {
        let encoding = match negotiate(req.headers()) {
            Encoding::Brotli if self.brotli.is_some() => Encoding::Brotli,
            Encoding::Brotli | Encoding::Gzip if self.gzip.is_some() => Encoding::Gzip,
            _ => Encoding::Identity,
        };
        let etag = self.etag(encoding);
        let mut response = if self.matches(req.headers()) {
            HttpResponse::NotModified()
        } else {
            HttpResponse::Ok()
        };
        response
            .insert_header((header::ETAG, etag))
            // Readers may keep it, but must ask (and get a 304) before they use it again.
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .insert_header((header::VARY, "Accept-Encoding"));
        for (name, value) in extra {
            response.insert_header((name.clone(), *value));
        }
        if self.matches(req.headers()) {
            return response.finish();
        }
        let body = match encoding {
            Encoding::Brotli => self.brotli.clone(),
            Encoding::Gzip => self.gzip.clone(),
            Encoding::Identity => None,
        };
        match body {
            Some(body) => response
                .insert_header((header::CONTENT_ENCODING, encoding.name()))
                .content_type(self.content_type)
                .body(body),
            None => response
                .content_type(self.content_type)
                .body(self.identity.clone()),
        }
    }

    /// Whether `If-None-Match` names this page in any of its encodings (the representations
    /// differ only in encoding; the comparison is the weak one RFC 9110 asks for).
    fn matches(&self, headers: &HeaderMap) -> bool {
        headers
            .get_all(header::IF_NONE_MATCH)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| {
                t == "*"
                    || [Encoding::Identity, Encoding::Gzip, Encoding::Brotli]
                        .iter()
                        .any(|e| self.etag(*e) == t)
            })
    }
}

/// The cache of one application.
#[derive(Clone)]
pub struct PageCache {
    pages: Option<Cache<PageKey, Arc<Page>>>,
}

impl PageCache {
    pub fn new(config: &CacheConfig) -> Self {
        if config.pages_max_entries == 0 {
            return Self { pages: None };
        }
        let floor = usize::try_from(config.pages_max_bytes / config.pages_max_entries)
            .unwrap_or(usize::MAX);
        let pages = Cache::builder()
            .max_capacity(config.pages_max_bytes)
            .weigher(move |_key: &PageKey, page: &Arc<Page>| {
                u32::try_from(page.weight().max(floor)).unwrap_or(u32::MAX)
            })
            .build();
        Self { pages: Some(pages) }
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl Encoding {
    fn name(self) -> &'static str {
        match self {
            Self::Identity => "identity",
            Self::Gzip => "gzip",
            Self::Brotli => "br",
        }
    }
}

/// The best encoding `Accept-Encoding` allows: the highest q, brotli before gzip on a tie.
fn negotiate(headers: &HeaderMap) -> Encoding {
    let mut best = (0.0f32, Encoding::Identity);
    for value in headers
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|v| v.to_str().ok())
    {
        for item in value.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .filter_map(|q| q.trim().parse::<f32>().ok())
                .next()
                .unwrap_or(1.0);
            let encoding = match name.as_str() {
                "br" => Encoding::Brotli,
                "gzip" | "x-gzip" => Encoding::Gzip,
                "*" => Encoding::Brotli,
                _ => continue,
            };
            let better = q > best.0 || (q == best.0 && q > 0.0 && encoding == Encoding::Brotli);
            if q > 0.0 && better {
                best = (q, encoding);
            }
        }
    }
    best.1
}

fn gzip(body: &[u8]) -> Option<Bytes> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(body).ok()?;
    encoder.finish().ok().map(Bytes::from)
}

fn brotli(body: &[u8]) -> Option<Bytes> {
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 4096, BROTLI_QUALITY, 22);
        writer.write_all(body).ok()?;
        writer.flush().ok()?;
    }
    Some(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn negotiated(accept: &str) -> Encoding {
        let req = TestRequest::default()
            .insert_header((header::ACCEPT_ENCODING, accept))
            .to_http_request();
        negotiate(req.headers())
    }

    #[test]
    fn accept_encoding_picks_the_best_allowed_encoding() {
        assert_eq!(negotiated("gzip, deflate, br"), Encoding::Brotli);
        assert_eq!(negotiated("gzip"), Encoding::Gzip);
        assert_eq!(negotiated("br;q=0, gzip;q=0.5"), Encoding::Gzip);
        assert_eq!(negotiated("br;q=0.2, gzip;q=0.8"), Encoding::Gzip);
        assert_eq!(negotiated("identity"), Encoding::Identity);
        assert_eq!(negotiated("gzip;q=0"), Encoding::Identity);
        assert_eq!(negotiated("*"), Encoding::Brotli);
        let none = TestRequest::default().to_http_request();
        assert_eq!(negotiate(none.headers()), Encoding::Identity);
    }
}
