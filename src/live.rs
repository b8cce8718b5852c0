//! Live updates: readers who have a thread open hear about each comment published in it, as
//! Server-Sent Events (`GET /api/v1/sites/{site}/thread/events`, see `http::api::live`).
//!
//! Streams listen to the change bus ([`crate::changes`]): a [`Change::Thread`] that names a
//! comment (one that has just become visible: posted and approved, approved, restored; never a
//! held or spam one) reaches the streams of that thread once its transaction has committed, on
//! every process sharing one PostgreSQL (the bus's own listening connection carries it; live
//! updates open none of their own). Open streams are counted per process and per client
//! address, within `live.max_streams` and `live.max_streams_per_ip`; `close()` (at shutdown)
//! ends every stream.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, watch};

use crate::changes::{Change, ChangeBus};
use crate::config::LiveConfig;
use crate::domain::comment::CommentId;
use crate::domain::site::SiteId;

/// Why a stream was not opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Live updates are off (`live.enabled = false`) or the server is shutting down.
    Off,
    /// The process has `live.max_streams` streams open.
    ProcessFull,
    /// This address has `live.max_streams_per_ip` streams open.
    AddressFull,
}

/// What a stream of one thread is told about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A comment of the thread became visible.
    Comment(CommentId),
    /// Announcements may have been missed: the client should fetch the thread again.
    Resync,
}

/// What `change` means for the stream of thread `key` of `site`, if anything.
pub fn event_for(change: &Change, site: SiteId, key: &str) -> Option<Event> {
    match change {
        Change::Thread {
            site: changed,
            key: changed_key,
            comment: Some(comment),
            ..
        } if *changed == site && changed_key == key => Some(Event::Comment(*comment)),
        Change::Resync => Some(Event::Resync),
        Change::Thread { .. } | Change::Site { .. } => None,
    }
}

/// The process's live-update hub. Cheap to share (`Arc`).
pub struct LiveHub {
    config: LiveConfig,
    changes: ChangeBus,
    open: Mutex<OpenStreams>,
    closed: watch::Sender<bool>,
}

#[derive(Default)]
struct OpenStreams {
    total: usize,
    by_ip: HashMap<IpAddr, usize>,
}

impl LiveHub {
    pub fn new(config: LiveConfig, changes: ChangeBus) -> Self {
        let (closed, _) = watch::channel(false);
        Self {
            config,
            changes,
            open: Mutex::new(OpenStreams::default()),
            closed,
        }
    }

    /// Whether the hub is closed (the server is shutting down).
    pub fn is_closed(&self) -> bool {
        *self.closed.borrow()
    }

    pub fn config(&self) -> &LiveConfig {
        &self.config
    }

    /// Opens a stream for `ip`, counted until the [`Subscription`] is dropped.
    pub fn subscribe(self: &Arc<Self>, ip: IpAddr) -> Result<Subscription, Refusal> {
        if !self.config.enabled || *self.closed.borrow() {
            return Err(Refusal::Off);
        }
        let mut open = self.open.lock().map_err(|_| Refusal::Off)?;
        if open.total >= self.config.max_streams {
            return Err(Refusal::ProcessFull);
        }
        let of_ip = open.by_ip.entry(ip).or_insert(0);
        if *of_ip >= self.config.max_streams_per_ip {
            return Err(Refusal::AddressFull);
        }
        *of_ip += 1;
        open.total += 1;
        drop(open);
        Ok(Subscription {
            changes: self.changes.subscribe(),
            closed: self.closed.subscribe(),
            slot: Slot {
                hub: Arc::clone(self),
                ip,
            },
        })
    }

    /// Streams open now.
    pub fn open_streams(&self) -> usize {
        self.open.lock().map(|open| open.total).unwrap_or(0)
    }

    /// Ends every stream and refuses new ones (the server is shutting down).
    pub fn close(&self) {
        self.closed.send_replace(true);
    }
}

/// One open stream's share of the hub: the change bus, the shutdown signal, and its slot.
pub struct Subscription {
    /// Read with [`crate::changes::next`] (a stream that fell behind gets a resync).
    pub changes: broadcast::Receiver<Change>,
    pub closed: watch::Receiver<bool>,
    slot: Slot,
}

impl Subscription {
    /// The hub's settings (heartbeat interval).
    pub fn config(&self) -> &LiveConfig {
        &self.slot.hub.config
    }
}

/// Frees the stream's place in the counts when dropped.
struct Slot {
    hub: Arc<LiveHub>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.hub.open.lock() {
            open.total = open.total.saturating_sub(1);
            if let Some(count) = open.by_ip.get_mut(&self.ip) {
                *count -= 1;
                if *count == 0 {
                    open.by_ip.remove(&self.ip);
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn hub(max_streams: usize, max_streams_per_ip: usize) -> Arc<LiveHub> {
        Arc::new(LiveHub::new(
            LiveConfig {
                max_streams,
                max_streams_per_ip,
                ..LiveConfig::default()
            },
            ChangeBus::new(),
        ))
    }

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn an_address_gets_at_most_its_share_and_a_closed_stream_frees_its_place() {
        let hub = hub(10, 2);
        let first = hub.subscribe(A).unwrap();
        let _second = hub.subscribe(A).unwrap();
        assert_eq!(hub.subscribe(A).err(), Some(Refusal::AddressFull));
        assert!(hub.subscribe(B).is_ok());
        drop(first);
        assert!(hub.subscribe(A).is_ok());
    }

    #[test]
    fn the_process_cap_holds_across_addresses() {
        let hub = hub(2, 5);
        let _a = hub.subscribe(A).unwrap();
        let _b = hub.subscribe(B).unwrap();
        assert_eq!(hub.subscribe(B).err(), Some(Refusal::ProcessFull));
        assert_eq!(hub.open_streams(), 2);
    }

    #[test]
    fn closing_refuses_new_streams_and_signals_open_ones() {
        let hub = hub(10, 10);
        let open = hub.subscribe(A).unwrap();
        hub.close();
        assert!(*open.closed.borrow());
        assert_eq!(hub.subscribe(B).err(), Some(Refusal::Off));
    }

    fn thread(site: i64, key: &str, comment: Option<i64>) -> Change {
        Change::Thread {
            site: SiteId(site),
            thread: crate::domain::thread::ThreadId(9),
            key: key.into(),
            comment: comment.map(CommentId),
        }
    }

    #[test]
    fn a_stream_hears_only_comments_made_visible_in_its_own_thread() {
        let site = SiteId(1);
        assert_eq!(
            event_for(&thread(1, "/a/", Some(7)), site, "/a/"),
            Some(Event::Comment(CommentId(7)))
        );
        // Edits, votes, hidden comments: no id, nothing to announce.
        assert_eq!(event_for(&thread(1, "/a/", None), site, "/a/"), None);
        assert_eq!(event_for(&thread(1, "/b/", Some(7)), site, "/a/"), None);
        assert_eq!(event_for(&thread(2, "/a/", Some(7)), site, "/a/"), None);
        assert_eq!(event_for(&Change::Site { site }, site, "/a/"), None);
        assert_eq!(event_for(&Change::Resync, site, "/a/"), Some(Event::Resync));
    }

    #[test]
    fn subscribers_receive_what_the_bus_publishes_after_they_subscribed() {
        let bus = ChangeBus::new();
        let hub = Arc::new(LiveHub::new(LiveConfig::default(), bus.clone()));
        let mut open = hub.subscribe(A).unwrap();
        bus.publish(thread(1, "/a/", Some(7)));
        assert_eq!(open.changes.try_recv().unwrap(), thread(1, "/a/", Some(7)));
    }
}
