//! Live updates: the raw Server-Sent Events stream of a thread, read with a real HTTP client, on
//! both backends; and two kith processes on one PostgreSQL, where a comment posted to one
//! reaches a stream open on the other.

use std::time::Duration;

use crate::both_backends;
use crate::helpers::*;
use crate::process::{Served, comment, database_url, open_default_site, write_config};
use kith::domain::comment::CommentId;
use kith::domain::site::ModerationMode;
use kith::service::admin::moderate::{self, Action};

/// A bound on how long an event may take to arrive (not a wait: the read returns as soon as
/// the event is there).
const EVENT_LIMIT: Duration = Duration::from_secs(20);

/// An open stream, read chunk by chunk.
pub(crate) struct Stream {
    response: reqwest::Response,
    /// What arrived and was not consumed yet.
    buffer: String,
}

impl Stream {
    pub(crate) async fn open(client: &reqwest::Client, api: &str, key: &str) -> Stream {
        let response = client
            .get(format!("{api}/thread/events?key={key}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        let mut stream = Stream {
            response,
            buffer: String::new(),
        };
        // The stream announces itself at once (retry interval and a comment).
        let first = stream
            .next_message()
            .await
            .expect("the stream's first lines");
        assert!(first.starts_with("retry: "), "{first}");
        stream
    }

    /// The next message (the lines up to a blank line), or None when the stream ended.
    async fn next_message(&mut self) -> Option<String> {
        tokio::time::timeout(EVENT_LIMIT, async {
            loop {
                if let Some(end) = self.buffer.find("\n\n") {
                    let message = self.buffer[..end].to_string();
                    self.buffer.drain(..end + 2);
                    return Some(message);
                }
                match self.response.chunk().await.unwrap() {
                    Some(bytes) => self.buffer.push_str(std::str::from_utf8(&bytes).unwrap()),
                    None => return None,
                }
            }
        })
        .await
        .expect("a message or the end of the stream within the limit")
    }

    /// The id of the next `comment` event, skipping heartbeats.
    pub(crate) async fn next_comment(&mut self) -> i64 {
        loop {
            let message = self.next_message().await.expect("the stream ended");
            if message.starts_with(':') {
                continue;
            }
            let data = message
                .strip_prefix("event: comment\ndata: ")
                .unwrap_or_else(|| panic!("not a comment event: {message:?}"));
            let data: serde_json::Value = serde_json::from_str(data).unwrap();
            return data["id"].as_i64().unwrap();
        }
    }
}

both_backends! {
    async fn a_published_comment_reaches_the_threads_stream_and_held_ones_never(app: TestApp) {
        let mut stream = Stream::open(&app.client, &app.api, "/live/").await;
        // Held (moderation for everything), then one in another thread, then one that is
        // published: the first event is the published one of this thread.
        app.set_settings(|s| s.moderation = ModerationMode::All).await;
        let held = app.post_ok("/live/", "Held Writer", "waiting for a moderator", None).await;
        let held_id = held["comment"]["id"].as_i64().unwrap();
        assert_eq!(held["comment"]["status"], "pending");
        app.set_settings(|s| s.moderation = ModerationMode::None).await;
        app.post_ok("/elsewhere/", "Other Writer", "another page", None).await;
        let published = app.post_ok("/live/", "Live Writer", "hello, readers", None).await;
        let published_id = published["comment"]["id"].as_i64().unwrap();
        assert_eq!(stream.next_comment().await, published_id);
        // The comment it names can be read at once.
        let thread = app.thread("/live/").await;
        assert_eq!(all_ids(&thread["comments"]), vec![published_id]);
        // Approving the held one publishes it: now it comes.
        kith::service::blocking(&app.state, move |state, conn| {
            moderate::apply(state, conn, &[CommentId(held_id)], Action::Approve)
        })
        .await
        .unwrap();
        assert_eq!(stream.next_comment().await, held_id);
    }

    async fn an_announced_comment_is_read_by_id_and_a_held_or_deleted_one_is_not_found(app: TestApp) {
        let settings: serde_json::Value =
            app.client.get(format!("{}/settings", app.api)).send().await.unwrap().json().await.unwrap();
        assert_eq!(settings["live"], true, "the embed learns that live updates are on");
        let root = app.post_ok("/by-id/", "Root Writer", "the first word", None).await;
        let root_id = root["comment"]["id"].as_i64().unwrap();
        let reply = app.post_ok("/by-id/", "Reply Writer", "an *answer*", Some(root_id)).await;
        let reply_id = reply["comment"]["id"].as_i64().unwrap();
        let read = app.client.get(format!("{}/comments/{reply_id}", app.api)).send().await.unwrap();
        assert_eq!(read.status(), 200);
        let read: serde_json::Value = read.json().await.unwrap();
        assert_eq!(read["id"], reply_id);
        assert_eq!(read["parent_id"], root_id);
        assert_eq!(read["author"], "Reply Writer");
        assert!(read["html"].as_str().unwrap().contains("<em>answer</em>"), "{read}");
        assert_eq!(read["status"], "approved");
        // As on thread pages: no source, no e-mail.
        assert!(read.get("body").is_none() && read.get("email").is_none(), "{read}");

        app.set_settings(|s| s.moderation = ModerationMode::All).await;
        let held = app.post_ok("/by-id/", "Held Writer", "not yet", None).await;
        let held_id = held["comment"]["id"].as_i64().unwrap();
        let unseen = app.client.get(format!("{}/comments/{held_id}", app.api)).send().await.unwrap();
        assert_error(unseen, 404, "comment_not_found").await;
        // Deleted by its author: gone too.
        let token = reply["edit_token"].as_str().unwrap().to_owned();
        let deleted = app
            .client
            .delete(format!("{}/comments/{reply_id}", app.api))
            .header("X-Edit-Token", token)
            .send()
            .await
            .unwrap();
        assert_eq!(deleted.status(), 200);
        let gone = app.client.get(format!("{}/comments/{reply_id}", app.api)).send().await.unwrap();
        assert_error(gone, 404, "comment_not_found").await;
        // Another site's id space is not this one's.
        let other = app
            .client
            .get(format!("{}/api/v1/sites/nope/comments/{root_id}", app.address))
            .send()
            .await
            .unwrap();
        assert_error(other, 404, "site_not_found").await;
    }

    async fn a_stream_is_refused_for_a_bad_key_or_an_unknown_site(app: TestApp) {
        let bad = app.client.get(format!("{}/thread/events?key=no-slash", app.api)).send().await.unwrap();
        assert_error(bad, 422, "invalid_field").await;
        let missing = app.client.get(format!("{}/thread/events", app.api)).send().await.unwrap();
        assert_eq!(missing.status(), 400);
        let unknown = app
            .client
            .get(format!("{}/api/v1/sites/nope/thread/events?key=/a/", app.address))
            .send()
            .await
            .unwrap();
        assert_error(unknown, 404, "site_not_found").await;
    }

    async fn another_sites_page_may_open_a_stream_when_the_site_allows_its_origin(app: TestApp) {
        let allowed = app
            .client
            .get(format!("{}/thread/events?key=/cors/", app.api))
            .header("Origin", "http://localhost:4000")
            .send()
            .await
            .unwrap();
        assert_eq!(allowed.status(), 200);
        assert_eq!(allowed.headers()["access-control-allow-origin"], "http://localhost:4000");
        let refused = app
            .client
            .get(format!("{}/thread/events?key=/cors/", app.api))
            .header("Origin", "https://evil.example")
            .send()
            .await
            .unwrap();
        assert_error(refused, 403, "origin_not_allowed").await;
    }
}

crate::each_on_both_backends!(
    streams_are_capped_per_address_and_per_process,
    no_stream_when_live_updates_are_off
);

async fn streams_are_capped_per_address_and_per_process(db: Db) {
    let app = spawn_app_with(db, |c| {
        c.live.max_streams_per_ip = 1;
        c.live.max_streams = 2;
    })
    .await;
    let url = format!("{}/thread/events?key=/capped/", app.api);
    let open = |ip: &'static str| app.client.get(&url).header("X-Forwarded-For", ip).send();
    let first = open("192.0.2.1").await.unwrap();
    assert_eq!(first.status(), 200);
    assert_error(open("192.0.2.1").await.unwrap(), 429, "too_many_streams").await;
    let second = open("192.0.2.2").await.unwrap();
    assert_eq!(second.status(), 200);
    let full = open("192.0.2.3").await.unwrap();
    assert!(full.headers().contains_key("retry-after"));
    assert_error(full, 503, "live_unavailable").await;
    drop((first, second));
}

async fn no_stream_when_live_updates_are_off(db: Db) {
    let app = spawn_app_with(db, |c| c.live.enabled = false).await;
    let settings: serde_json::Value = app
        .client
        .get(format!("{}/settings", app.api))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        settings["live"], false,
        "the embed does not even try a stream"
    );
    let refused = app
        .client
        .get(format!("{}/thread/events?key=/a/", app.api))
        .send()
        .await
        .unwrap();
    assert_error(refused, 503, "live_unavailable").await;
}

/// Two `kith serve` processes on one PostgreSQL database: a comment posted to A reaches the
/// stream open on B, and SIGTERM ends B's stream and B itself.
#[actix_web::test]
async fn a_comment_posted_on_one_process_reaches_a_stream_open_on_another() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(Db::Postgres, dir.path());
    let config = write_config(dir.path(), &url, "");
    open_default_site(&config);
    let a = Served::start(&config).await;
    let b = Served::start(&config).await;
    let client = reqwest::Client::new();
    let api = |served: &Served| format!("{}/api/v1/sites/default", served.address);
    let mut stream = Stream::open(&client, &api(&b), "/two/").await;
    let posted = client
        .post(format!("{}/comments", api(&a)))
        .json(&comment("/two/", 1))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 201);
    let posted: serde_json::Value = posted.json().await.unwrap();
    assert_eq!(posted["comment"]["status"], "approved", "{posted}");
    let id = posted["comment"]["id"].as_i64().unwrap();
    assert_eq!(stream.next_comment().await, id);

    // SIGTERM: B's stream ends (it would otherwise hold the shutdown for its whole grace time).
    let pid = b.child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    loop {
        match stream.next_message().await {
            Some(message) if message.starts_with(':') => continue,
            Some(message) => panic!("unexpected message after SIGTERM: {message:?}"),
            None => break,
        }
    }
    let mut b = b;
    let status = tokio::time::timeout(EVENT_LIMIT, b.child.wait())
        .await
        .expect("B exits once its streams ended")
        .unwrap();
    assert!(status.success(), "{status:?}");
    drop(a);
    drop_postgres_database(&url);
}
