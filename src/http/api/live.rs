//! `GET /api/v1/sites/{site}/thread/events?key=…`: a thread's live updates as Server-Sent
//! Events (see [`crate::live`]).
//!
//! The stream starts with a `retry:` line and a comment, then sends
//! `event: comment` / `data: {"id":…}` for each comment published in the thread, and a comment
//! line every `live.heartbeat_secs` so that proxies keep the idle connection open. It holds no
//! worker thread while it waits, and ends when the server shuts down.

use std::time::Duration;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use futures_util::stream;
use serde::Deserialize;

use crate::domain::thread::ThreadKey;
use crate::error::{AppError, ErrorKind};
use crate::http::client::Client;
use crate::live::{Event, Refusal, Subscription};
use crate::service::{self, sites};
use crate::state::AppState;

/// Milliseconds a browser waits before reconnecting a stream that dropped.
const RETRY_MS: u64 = 10_000;
/// Seconds a refused client is asked to wait.
const REFUSED_RETRY_AFTER_SECS: u64 = 60;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// The thread's key: the page's path, starting with `/`.
    key: String,
}

/// `GET /api/v1/sites/{site}/thread/events?key=…`
#[utoipa::path(get, path = "/api/v1/sites/{site}/thread/events", tag = "threads",
    params(("site" = String, Path, description = "The site's slug"), EventsQuery),
    responses(
        (status = 200, description = "A Server-Sent Events stream (`text/event-stream`): \
            `event: comment` with `data: {\"id\": n}` for each comment published in the thread \
            from now on (held and spam comments never), `event: resync` when some may have \
            been missed (fetch the thread again), comment lines as heartbeats",
            content_type = "text/event-stream", body = String),
        (status = 429, description = "This address has `live.max_streams_per_ip` streams open \
            (`too_many_streams`); see Retry-After"),
        (status = 503, description = "Live updates are off, the server is shutting down, or \
            it has `live.max_streams` streams open (`live_unavailable`); see Retry-After")))]
pub async fn thread_events(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<EventsQuery>,
    Client(client): Client,
) -> Result<HttpResponse, AppError> {
    let slug = path.into_inner();
    let key = ThreadKey::parse(&query.key, state.config.limits.thread_key)
        .map_err(|e| AppError::from(e).with_field("key"))?;
    let site =
        service::blocking(&state, move |state, conn| sites::find(state, conn, &slug)).await?;
    let subscription = state.live.subscribe(client.ip).map_err(|refusal| {
        let (kind, message) = match refusal {
            Refusal::Off => (ErrorKind::LiveUnavailable, "live updates are not available"),
            Refusal::ProcessFull => (
                ErrorKind::LiveUnavailable,
                "this server has as many live streams open as it serves",
            ),
            Refusal::AddressFull => (
                ErrorKind::TooManyStreams,
                "this address has as many live streams open as it may",
            ),
        };
        let mut error = AppError::new(kind, message);
        error.retry_after_secs = Some(REFUSED_RETRY_AFTER_SECS);
        error
    })?;
    // Subscribed to the change bus before the answer starts: every comment published from then
    // on reaches the stream, on whichever process it was posted (the bus listens to PostgreSQL
    // from startup on).
    let stream = events(subscription, site.id, key.as_str().to_owned());
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache, no-transform"))
        // Sent as it comes: no compression (which would hold small events back) and no
        // buffering by nginx.
        .insert_header((header::CONTENT_ENCODING, "identity"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream))
}

/// What one stream is waiting on.
struct Open {
    subscription: Subscription,
    heartbeat: tokio::time::Interval,
    site: crate::domain::site::SiteId,
    key: String,
    started: bool,
}

fn events(
    subscription: Subscription,
    site: crate::domain::site::SiteId,
    key: String,
) -> impl futures_util::Stream<Item = Result<Bytes, actix_web::Error>> {
    let every = Duration::from_secs(subscription.config().heartbeat_secs);
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let open = Open {
        subscription,
        heartbeat,
        site,
        key,
        started: false,
    };
    stream::unfold(open, |mut open| async move {
        if !open.started {
            open.started = true;
            let hello = format!("retry: {RETRY_MS}\n: live updates of this thread\n\n");
            return Some((Ok(Bytes::from(hello)), open));
        }
        loop {
            if *open.subscription.closed.borrow() {
                return None;
            }
            tokio::select! {
                changed = open.subscription.closed.changed() => {
                    // Shut down (or the hub is gone): the stream ends.
                    let _ = changed;
                    return None;
                }
                received = crate::changes::next(&mut open.subscription.changes) => match received {
                    Some(change) => match crate::live::event_for(&change, open.site, &open.key) {
                        Some(Event::Comment(id)) => {
                            let message = format!("event: comment\ndata: {{\"id\":{}}}\n\n", id.0);
                            return Some((Ok(Bytes::from(message)), open));
                        }
                        Some(Event::Resync) => {
                            // Some announcements may have been missed: the client fetches the
                            // thread again.
                            return Some((Ok(Bytes::from_static(b"event: resync\ndata: {}\n\n")), open));
                        }
                        None => {}
                    },
                    None => return None,
                },
                _ = open.heartbeat.tick() => {
                    return Some((Ok(Bytes::from_static(b": heartbeat\n\n")), open));
                }
            }
        }
    })
}
