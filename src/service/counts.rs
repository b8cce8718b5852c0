//! Comment counts per thread key (`POST …/counts`, the embed's count script on list pages),
//! answered from memory.
//!
//! Each (site, thread key) keeps its count with the change bus's [`Stamp`] of that thread,
//! taken before the database was read, exactly as a cached page does (`http::page_cache`): a
//! count is current while the stamp has not moved. Every write that changes a thread's count
//! announces that thread on the bus after it committed (from this process, or from another one
//! through PostgreSQL `LISTEN/NOTIFY`), an import or a site change moves every stamp of the
//! site, and a listener that may have missed announcements moves them all (a resync). So a
//! count that is served is never older than the last announcement, and a counts request whose
//! keys are all current needs no database at all, on either backend. A count is also kept only
//! with the cached copy of its site it was read with (see `Counted::site`).
//!
//! Keys nobody has commented on (no thread) are kept too, as "no thread": list pages ask for
//! every post, most without comments, and a flood of made-up keys must not cost a query each.
//! They live in a cache of their own with a quarter of the limits, so that unknown keys can
//! never push out the counts of real threads. Both caches are bounded by entries and bytes:
//! each entry weighs its key plus [`ENTRY_OVERHEAD`], but at least `max_bytes / max_entries`
//! (moka's one weighted capacity then keeps both limits).
//!
//! With read replicas a count read from a replica may be older than the announcement that made
//! its predecessor stale (the replica replays a little after the primary commits), so such
//! counts are kept only for `database.read_your_writes_secs`, like pages read from replicas.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use moka::sync::Cache;

use super::reads::{self, ReadFrom};
use super::sites;
use crate::changes::Stamp;
use crate::config::CacheConfig;
use crate::db;
use crate::domain::fields::FieldError;
use crate::domain::site::{Site, SiteId};
use crate::domain::thread::ThreadKey;
use crate::error::AppError;
use crate::metrics::CacheName;
use crate::state::AppState;

/// Most keys one counts request may ask for.
pub const MAX_COUNT_KEYS: usize = 100;

/// What an entry costs besides its key's bytes (the key's allocation, the stamp, the count,
/// moka's bookkeeping).
const ENTRY_OVERHEAD: usize = 200;

/// One kept count.
#[derive(Debug, Clone)]
struct Counted {
    stamp: Stamp,
    /// The cached site it was read with: another process writing the same SQLite file (`kith
    /// import` while serving) announces nothing here, but the site's copy is read again within
    /// its lifetime, which makes the counts read with the older copy stale (as pages).
    site: Arc<Site>,
    /// `None`: no thread has this key.
    count: Option<i64>,
    /// Read from a replica: current only until then.
    valid_until: Option<DateTime<Utc>>,
}

type Key = (SiteId, String);

/// The counts of known threads and the keys without a thread, apart (see the module's text).
#[derive(Clone)]
pub struct CountCache {
    known: Option<Cache<Key, Counted>>,
    unknown: Option<Cache<Key, Counted>>,
}

fn bounded(max_entries: u64, max_bytes: u64) -> Cache<Key, Counted> {
    let floor = usize::try_from(max_bytes / max_entries.max(1)).unwrap_or(usize::MAX);
    Cache::builder()
        .max_capacity(max_bytes)
        .weigher(move |key: &Key, _: &Counted| {
            u32::try_from((key.1.len() + ENTRY_OVERHEAD).max(floor)).unwrap_or(u32::MAX)
        })
        .build()
}

impl CountCache {
    pub fn new(config: &CacheConfig) -> Self {
        if config.counts_max_entries == 0 {
            return Self {
                known: None,
                unknown: None,
            };
        }
        Self {
            known: Some(bounded(config.counts_max_entries, config.counts_max_bytes)),
            unknown: Some(bounded(
                (config.counts_max_entries / 4).max(1),
                config.counts_max_bytes / 4,
            )),
        }
    }

    /// The count kept for `key` if it is still current: `Some(None)` for a key without a
    /// thread, `None` when nothing current is kept.
    fn get(
        &self,
        key: &Key,
        current: Stamp,
        site: &Arc<Site>,
        now: DateTime<Utc>,
    ) -> Option<Option<i64>> {
        for cache in [&self.known, &self.unknown].into_iter().flatten() {
            if let Some(kept) = cache.get(key) {
                if kept.stamp == current
                    && Arc::ptr_eq(&kept.site, site)
                    && kept.valid_until.is_none_or(|until| now < until)
                {
                    return Some(kept.count);
                }
                cache.invalidate(key);
            }
        }
        None
    }

    fn put(&self, key: Key, counted: Counted) {
        let cache = if counted.count.is_some() {
            &self.known
        } else {
            &self.unknown
        };
        if let Some(cache) = cache {
            cache.insert(key, counted);
        }
    }

    /// Entries and bytes kept now (after pending evictions ran): known threads, then keys
    /// without a thread. For tests and metrics.
    pub fn usage(&self) -> [(u64, u64); 2] {
        [&self.known, &self.unknown].map(|cache| match cache {
            Some(cache) => {
                cache.run_pending_tasks();
                (cache.entry_count(), cache.weighted_size())
            }
            None => (0, 0),
        })
    }
}

/// Approved-comment counts of `site` for each requested key (as sent; a key that is not a
/// valid thread key, or has no thread, counts 0). Reads the database only for the keys whose
/// count is not kept or no longer current.
///
/// # Errors
/// 422 when more than [`MAX_COUNT_KEYS`] keys are asked for; 404 `site_not_found`.
pub async fn counts(
    state: &AppState,
    slug: String,
    requested: Vec<String>,
) -> Result<HashMap<String, i64>, AppError> {
    if requested.len() > MAX_COUNT_KEYS {
        return Err(AppError::from(FieldError::new(
            "keys",
            format!("at most {MAX_COUNT_KEYS} keys per request"),
        )));
    }
    let max_key = state.config.limits.thread_key;
    let asked: Vec<(String, Option<String>)> = requested
        .into_iter()
        .map(|raw| {
            let key = ThreadKey::parse(&raw, max_key)
                .ok()
                .map(|k| k.as_str().to_owned());
            (raw, key)
        })
        .collect();
    let now = super::now();
    if let Some(site) = sites::cached(state, &slug)
        && let Some(answer) = from_cache(state, &site, &asked, now)
    {
        return Ok(answer);
    }
    let lifetime = if state.replicas.is_empty() {
        None
    } else {
        Some(chrono::Duration::seconds(i64::from(
            state.config.database.read_your_writes_secs,
        )))
    };
    let asked = Arc::new(asked);
    let answer = {
        let asked = asked.clone();
        reads::read(state, ReadFrom::Replica, move |state, conn| {
            let site = sites::find(state, conn, &slug)?;
            let now = super::now();
            let mut counts = HashMap::with_capacity(asked.len());
            let mut missing: Vec<(String, Stamp)> = Vec::new();
            let mut hits = 0;
            for (_, key) in asked.iter() {
                let Some(key) = key else { continue };
                if counts.contains_key(key) || missing.iter().any(|(k, _)| k == key) {
                    continue;
                }
                // Before reading: a change committed from here on makes this count stale.
                let stamp = state.changes.stamp(site.id, key);
                match state.counts.get(&(site.id, key.clone()), stamp, &site, now) {
                    Some(count) => {
                        hits += 1;
                        counts.insert(key.clone(), count.unwrap_or(0));
                    }
                    None => missing.push((key.clone(), stamp)),
                }
            }
            state.metrics.cache_lookups(CacheName::Counts, true, hits);
            state
                .metrics
                .cache_lookups(CacheName::Counts, false, missing.len() as u64);
            if !missing.is_empty() {
                let keys: Vec<String> = missing.iter().map(|(k, _)| k.clone()).collect();
                let found: HashMap<String, i64> =
                    db::threads::count_approved_by_key(conn, site.id, &keys)?
                        .into_iter()
                        .collect();
                let valid_until = lifetime.map(|lifetime| now + lifetime);
                for (key, stamp) in missing {
                    let count = found.get(&key).copied();
                    state.counts.put(
                        (site.id, key.clone()),
                        Counted {
                            stamp,
                            site: site.clone(),
                            count,
                            valid_until,
                        },
                    );
                    counts.insert(key, count.unwrap_or(0));
                }
            }
            Ok(counts)
        })
        .await?
    };
    Ok(answer_for(&asked, &answer))
}

/// The answer when every asked key's count is kept and current; `None` at the first that is
/// not (the request then goes to the database for those).
fn from_cache(
    state: &AppState,
    site: &Arc<Site>,
    asked: &[(String, Option<String>)],
    now: DateTime<Utc>,
) -> Option<HashMap<String, i64>> {
    let mut answer = HashMap::with_capacity(asked.len());
    let mut hits = 0;
    for (raw, key) in asked {
        let count = match key {
            None => 0,
            Some(key) => {
                let stamp = state.changes.stamp(site.id, key);
                let count = state
                    .counts
                    .get(&(site.id, key.clone()), stamp, site, now)?;
                hits += 1;
                count.unwrap_or(0)
            }
        };
        answer.insert(raw.clone(), count);
    }
    state.metrics.cache_lookups(CacheName::Counts, true, hits);
    Some(answer)
}

/// Each asked key (as sent) with the count of the thread key it names.
fn answer_for(
    asked: &[(String, Option<String>)],
    counts: &HashMap<String, i64>,
) -> HashMap<String, i64> {
    asked
        .iter()
        .map(|(raw, key)| {
            let count = key
                .as_ref()
                .and_then(|k| counts.get(k).copied())
                .unwrap_or(0);
            (raw.clone(), count)
        })
        .collect()
}
