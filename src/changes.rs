//! The change bus: every write that changes what readers see announces it here, once it has
//! committed. Subscribers in this process get the announcements through a tokio broadcast
//! channel ([`ChangeBus::subscribe`]); caches compare a [`Stamp`] taken before they read the
//! database with the current one ([`ChangeBus::stamp`]), so a change published while a page
//! was being rendered makes that page stale at once.
//!
//! On PostgreSQL the same announcements also travel through `NOTIFY` inside the write's
//! transaction and a listener in every kith process (`db::changes`), which publishes what other
//! processes wrote on this bus and a [`Change::Resync`] whenever it may have missed some (after
//! reconnecting). SQLite has one process per database file, so the bus stays in the process.
//!
//! This module knows nothing of the database or HTTP: `db::changes` carries announcements
//! between processes, `http::page_cache` keeps pages.

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::broadcast;

use crate::domain::comment::{Comment, CommentId, CommentStatus};
use crate::domain::site::SiteId;
use crate::domain::thread::{Thread, ThreadId};

/// How many announcements a slow subscriber may fall behind before it is told to resync.
const CHANNEL_CAPACITY: usize = 1024;

/// Threads are spread over this many generation counters: a change makes stale every cached
/// page of the threads that share its counter (rarely more than its own thread).
const BUCKETS: usize = 1024;

/// What changed for readers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// What readers see of one thread changed (a comment appeared, was edited, liked, hidden,
    /// deleted, pinned; the thread was closed or reopened).
    Thread {
        site: SiteId,
        thread: ThreadId,
        /// The thread's key as stored (the page's path).
        key: String,
        /// A comment that has just become visible to readers (posted and published, approved,
        /// restored), for live updates; `None` for every other change.
        comment: Option<CommentId>,
    },
    /// A site's settings, or many of its threads at once (an import), changed.
    Site { site: SiteId },
    /// Announcements may have been missed (the database connection was lost, or a subscriber
    /// fell behind): drop everything derived from the database.
    Resync,
}

/// A snapshot of the generation counters that cover one thread. A page rendered after
/// taking a stamp is current while [`ChangeBus::stamp`] still returns an equal one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    epoch: u64,
    bucket: u64,
}

/// The bus of one application (every clone shares it). Cheap to clone.
#[derive(Clone)]
pub struct ChangeBus {
    inner: Arc<Inner>,
}

struct Inner {
    sender: broadcast::Sender<Change>,
    /// Bumped by site-wide changes and resyncs: every stamp taken before is stale.
    epoch: AtomicU64,
    buckets: Box<[AtomicU64]>,
    /// This process among the others on one PostgreSQL: the listener skips its own
    /// notifications, which were published here on commit already.
    origin: u64,
    /// Announcements that came from other processes, and resyncs (for metrics and tests).
    received: AtomicU64,
    resyncs: AtomicU64,
}

impl std::fmt::Debug for ChangeBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeBus")
            .field("origin", &self.inner.origin)
            .finish_non_exhaustive()
    }
}

impl Default for ChangeBus {
    fn default() -> Self {
        Self::new()
    }
}

impl ChangeBus {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(CHANNEL_CAPACITY);
        Self {
            inner: Arc::new(Inner {
                sender,
                epoch: AtomicU64::new(0),
                buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
                origin: rand::random(),
                received: AtomicU64::new(0),
                resyncs: AtomicU64::new(0),
            }),
        }
    }

    /// Every announcement from now on. A receiver that falls more than the channel's capacity
    /// behind gets `RecvError::Lagged`: read it with [`next`], which turns that into
    /// [`Change::Resync`].
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.inner.sender.subscribe()
    }

    /// Publishes committed changes in this process: stamps first (so a cache is stale before
    /// any subscriber hears of it), then the broadcast.
    pub fn publish(&self, change: Change) {
        match &change {
            Change::Thread { site, key, .. } => {
                self.inner.buckets[bucket(*site, key)].fetch_add(1, Ordering::SeqCst);
            }
            Change::Site { .. } => {
                self.inner.epoch.fetch_add(1, Ordering::SeqCst);
            }
            Change::Resync => {
                self.inner.resyncs.fetch_add(1, Ordering::Relaxed);
                self.inner.epoch.fetch_add(1, Ordering::SeqCst);
            }
        }
        // No subscriber is not an error.
        let _ = self.inner.sender.send(change);
    }

    /// Publishes a change another process made (from the PostgreSQL listener).
    pub fn publish_remote(&self, change: Change) {
        self.inner.received.fetch_add(1, Ordering::Relaxed);
        self.publish(change);
    }

    /// The current generation of the thread `key` of `site`.
    pub fn stamp(&self, site: SiteId, key: &str) -> Stamp {
        Stamp {
            epoch: self.inner.epoch.load(Ordering::SeqCst),
            bucket: self.inner.buckets[bucket(site, key)].load(Ordering::SeqCst),
        }
    }

    /// The generation of site-wide changes: moves with every [`Change::Site`] and
    /// [`Change::Resync`] (caches of sites compare it).
    pub fn epoch(&self) -> u64 {
        self.inner.epoch.load(Ordering::SeqCst)
    }

    /// This process's id in notifications.
    pub fn origin(&self) -> u64 {
        self.inner.origin
    }

    /// Announcements received from other processes so far.
    pub fn received(&self) -> u64 {
        self.inner.received.load(Ordering::Relaxed)
    }

    /// Resyncs so far (reconnections of the listener included).
    pub fn resyncs(&self) -> u64 {
        self.inner.resyncs.load(Ordering::Relaxed)
    }

    /// A handle that does not keep the bus alive: the listener stops when the application
    /// that owns the bus is gone.
    pub fn downgrade(&self) -> WeakBus {
        WeakBus {
            inner: Arc::downgrade(&self.inner),
        }
    }
}

/// See [`ChangeBus::downgrade`].
#[derive(Clone)]
pub struct WeakBus {
    inner: std::sync::Weak<Inner>,
}

impl WeakBus {
    pub fn upgrade(&self) -> Option<ChangeBus> {
        self.inner.upgrade().map(|inner| ChangeBus { inner })
    }
}

/// The next announcement for a subscriber; a subscriber that fell behind gets
/// [`Change::Resync`] (it missed some). `None` once the bus is gone.
pub async fn next(receiver: &mut broadcast::Receiver<Change>) -> Option<Change> {
    match receiver.recv().await {
        Ok(change) => Some(change),
        Err(broadcast::error::RecvError::Lagged(_)) => Some(Change::Resync),
        Err(broadcast::error::RecvError::Closed) => None,
    }
}

fn bucket(site: SiteId, key: &str) -> usize {
    // Fixed keys: the same thread lands in the same bucket for the life of the process, which
    // is all that matters (buckets are never compared across processes).
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    site.0.hash(&mut hasher);
    key.hash(&mut hasher);
    usize::try_from(hasher.finish() % BUCKETS as u64).unwrap_or(0)
}

/// The changes of one write transaction, published when it commits
/// (`db::changes::write_tx`). Repeats are dropped.
#[derive(Debug, Default)]
pub struct Changes {
    list: Vec<Change>,
}

impl Changes {
    /// What readers see of a thread changed; `comment` is a comment that became visible.
    pub fn thread(
        &mut self,
        site: SiteId,
        thread: ThreadId,
        key: &str,
        comment: Option<CommentId>,
    ) {
        self.push(Change::Thread {
            site,
            thread,
            key: key.to_owned(),
            comment,
        });
    }

    /// A comment was stored in `thread`: the thread changed (a held comment changes only its
    /// title and address, and the first comment creates it); the comment itself is announced
    /// only when it is published.
    pub fn comment_stored(&mut self, site: SiteId, thread: &Thread, comment: &Comment) {
        let visible = comment.status == CommentStatus::Approved;
        self.thread(site, thread.id, &thread.key, visible.then_some(comment.id));
    }

    /// A site's settings (or many of its threads) changed.
    pub fn site(&mut self, site: SiteId) {
        self.push(Change::Site { site });
    }

    pub fn push(&mut self, change: Change) {
        if !self.list.contains(&change) {
            self.list.push(change);
        }
    }

    pub fn as_slice(&self) -> &[Change] {
        &self.list
    }

    pub fn into_vec(self) -> Vec<Change> {
        self.list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread_change(key: &str) -> Change {
        Change::Thread {
            site: SiteId(1),
            thread: ThreadId(7),
            key: key.into(),
            comment: None,
        }
    }

    #[test]
    fn a_thread_change_makes_that_threads_stamp_stale_and_is_broadcast() {
        let bus = ChangeBus::new();
        let mut rx = bus.subscribe();
        let before = bus.stamp(SiteId(1), "/a/");
        bus.publish(thread_change("/a/"));
        assert_ne!(bus.stamp(SiteId(1), "/a/"), before);
        assert_eq!(rx.try_recv().ok(), Some(thread_change("/a/")));
    }

    #[test]
    fn a_site_change_or_resync_makes_every_stamp_stale() {
        let bus = ChangeBus::new();
        let a = bus.stamp(SiteId(1), "/a/");
        bus.publish(Change::Site { site: SiteId(2) });
        assert_ne!(bus.stamp(SiteId(1), "/a/"), a);
        let b = bus.stamp(SiteId(1), "/a/");
        bus.publish(Change::Resync);
        assert_ne!(bus.stamp(SiteId(1), "/a/"), b);
        assert_eq!(bus.resyncs(), 1);
    }

    #[tokio::test]
    async fn a_subscriber_that_falls_behind_is_told_to_resync() {
        let bus = ChangeBus::new();
        let mut rx = bus.subscribe();
        for _ in 0..=CHANNEL_CAPACITY {
            bus.publish(thread_change("/a/"));
        }
        assert_eq!(next(&mut rx).await, Some(Change::Resync));
        assert_eq!(next(&mut rx).await, Some(thread_change("/a/")));
    }

    #[test]
    fn repeated_changes_of_one_transaction_are_announced_once() {
        let mut changes = Changes::default();
        changes.thread(SiteId(1), ThreadId(7), "/a/", None);
        changes.thread(SiteId(1), ThreadId(7), "/a/", None);
        changes.site(SiteId(1));
        assert_eq!(changes.as_slice().len(), 2);
    }
}
