//! Live updates: readers who have a thread open hear about each comment published in it, as
//! Server-Sent Events (`GET /api/v1/sites/{site}/thread/events`, see `http::api::live`).
//!
//! One broadcast channel per process carries every published comment (its site, thread key and
//! id, nothing a reader may not see); each stream keeps those of its own thread. Comments this
//! process publishes are sent once their transaction has committed; on PostgreSQL, those of
//! other processes arrive through the change bus. Open streams are counted per process and per
//! client address, within `live.max_streams` and `live.max_streams_per_ip`; `close()` (at
//! shutdown) ends every stream.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};

use crate::config::LiveConfig;
use crate::domain::comment::CommentId;
use crate::domain::site::SiteId;

/// Published comments a slow stream may fall behind by before it skips some.
const CHANNEL_CAPACITY: usize = 256;

/// A comment that became visible to readers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub site: SiteId,
    pub thread_key: String,
    pub comment: CommentId,
}

/// [`Published`] as it travels between processes (a PostgreSQL notification's payload).
#[derive(Serialize, Deserialize)]
struct Wire {
    site: i64,
    key: String,
    id: i64,
}

impl Published {
    pub fn encode(&self) -> String {
        serde_json::json!({"site": self.site.0, "key": self.thread_key, "id": self.comment.0})
            .to_string()
    }

    /// None for a payload that is not one (a notification from something else).
    pub fn decode(payload: &str) -> Option<Self> {
        let wire: Wire = serde_json::from_str(payload).ok()?;
        Some(Self {
            site: SiteId(wire.site),
            thread_key: wire.key,
            comment: CommentId(wire.id),
        })
    }
}

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

/// The process's live-update hub. Cheap to share (`Arc`).
pub struct LiveHub {
    config: LiveConfig,
    sender: broadcast::Sender<Published>,
    open: Mutex<OpenStreams>,
    closed: watch::Sender<bool>,
    /// Starts listening for other processes' comments; run when the first stream opens, so
    /// that a process nobody streams from holds no listening connection.
    listener: Mutex<Option<Box<dyn FnOnce() + Send>>>,
    /// Whether other processes' comments arrive: always with no listener (SQLite), else while
    /// the listening connection is up.
    listening: watch::Sender<bool>,
}

#[derive(Default)]
struct OpenStreams {
    total: usize,
    by_ip: HashMap<IpAddr, usize>,
}

impl LiveHub {
    pub fn new(config: LiveConfig) -> Self {
        let (sender, _) = broadcast::channel(CHANNEL_CAPACITY);
        let (closed, _) = watch::channel(false);
        Self {
            config,
            sender,
            open: Mutex::new(OpenStreams::default()),
            closed,
            listener: Mutex::new(None),
            listening: watch::channel(true).0,
        }
    }

    /// Sets what starts the listener for other processes' comments (see the field); until it
    /// reports [`LiveHub::set_listening`], new streams wait.
    pub fn set_listener(&self, start: Box<dyn FnOnce() + Send>) {
        if let Ok(mut listener) = self.listener.lock() {
            *listener = Some(start);
            self.listening.send_replace(false);
        }
    }

    /// The listener says whether it is listening now.
    pub fn set_listening(&self, listening: bool) {
        self.listening.send_replace(listening);
    }

    /// Whether the hub is closed (the server is shutting down).
    pub fn is_closed(&self) -> bool {
        *self.closed.borrow()
    }

    pub fn config(&self) -> &LiveConfig {
        &self.config
    }

    /// Tells this process's streams about a published comment (nobody listening is fine).
    pub fn publish(&self, event: Published) {
        let _ = self.sender.send(event);
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
        if let Some(start) = self.listener.lock().ok().and_then(|mut l| l.take()) {
            start();
        }
        Ok(Subscription {
            events: self.sender.subscribe(),
            closed: self.closed.subscribe(),
            listening: self.listening.subscribe(),
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

/// One open stream's share of the hub: its events, the shutdown signal, and its slot.
pub struct Subscription {
    pub events: broadcast::Receiver<Published>,
    pub closed: watch::Receiver<bool>,
    listening: watch::Receiver<bool>,
    slot: Slot,
}

impl Subscription {
    /// Resolves once comments from every process reach this stream (at once on SQLite; on
    /// PostgreSQL once the listening connection is up); false if that took longer than `within`.
    pub async fn ready(&mut self, within: std::time::Duration) -> bool {
        tokio::time::timeout(within, self.listening.wait_for(|listening| *listening))
            .await
            .is_ok_and(|result| result.is_ok())
    }

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
        Arc::new(LiveHub::new(LiveConfig {
            max_streams,
            max_streams_per_ip,
            ..LiveConfig::default()
        }))
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

    #[test]
    fn a_published_comment_survives_the_trip_between_processes() {
        let event = Published {
            site: SiteId(3),
            thread_key: "/a \"b\"/".into(),
            comment: CommentId(42),
        };
        assert_eq!(Published::decode(&event.encode()), Some(event));
        assert_eq!(Published::decode("cache:site:1"), None);
    }

    #[test]
    fn subscribers_receive_what_is_published_after_they_subscribed() {
        let hub = hub(10, 10);
        let mut open = hub.subscribe(A).unwrap();
        let event = Published {
            site: SiteId(1),
            thread_key: "/a/".into(),
            comment: CommentId(7),
        };
        hub.publish(event.clone());
        assert_eq!(open.events.try_recv().unwrap(), event);
    }
}
