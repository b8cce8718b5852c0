//! Receiving Webmentions end to end: the endpoint checks a request at once and answers 202;
//! the worker fetches the source from a real HTTP server started here (including hostile
//! ones: huge, drip-fed, redirect loops, links hidden in comments or scripts, private
//! addresses), verifies the link, reads the h-entry, moderates and stores a `webmention`
//! comment, and honours updates and 410 Gone. On both backends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::helpers::{Db, TestApp, assert_error, spawn_app_with};
use kith::config::Config;
use kith::domain::site::SiteId;
use kith::domain::webmention::{Mention, MentionStatus};

crate::each_on_both_backends!(
    wm_h_entry_mention_is_verified_and_shown,
    wm_plain_page_falls_back_to_title_and_host,
    wm_script_and_handlers_in_h_entry_content_are_removed,
    wm_link_only_in_a_comment_script_or_text_is_refused,
    wm_wrong_target_on_the_source_is_refused,
    wm_repeated_mention_updates_the_comment,
    wm_source_gone_or_no_longer_linking_deletes_the_comment,
    wm_huge_slow_and_looping_sources_are_refused,
    wm_private_addresses_are_refused_unless_allowed,
    wm_transient_failures_are_retried_then_given_up,
    wm_bad_requests_are_refused_at_once,
    wm_concurrent_workers_verify_a_mention_once,
    wm_moderation_rules_apply_to_mentions,
    wm_worker_stopped_mid_fetch_releases_its_lease,
);

const TARGET: &str = "https://blog.example/post/";

/// What the source server answers on a path.
#[derive(Clone)]
enum Reply {
    Html(String),
    Status(u16),
    Redirect(String),
    /// A 200 whose body goes on for this many bytes, with no Content-Length.
    Huge(usize),
    /// A 200 whose body trickles a byte every 100 ms until the client hangs up (at most 60 s).
    Drip,
}

/// A small HTTP/1.1 server for source pages; counts the requests per path.
struct Sources {
    port: u16,
    replies: Arc<Mutex<HashMap<String, Reply>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    /// Signalled on every request (a permit is kept until someone waits).
    arrived: Arc<tokio::sync::Notify>,
}

impl Sources {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let replies: Arc<Mutex<HashMap<String, Reply>>> = Arc::default();
        let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let arrived: Arc<tokio::sync::Notify> = Arc::default();
        let (r, h, a) = (replies.clone(), hits.clone(), arrived.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (r, h, a) = (r.clone(), h.clone(), a.clone());
                tokio::spawn(serve(stream, r, h, a));
            }
        });
        Self {
            port,
            replies,
            hits,
            arrived,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn set(&self, path: &str, reply: Reply) {
        self.replies.lock().unwrap().insert(path.to_string(), reply);
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

async fn serve(
    mut stream: tokio::net::TcpStream,
    replies: Arc<Mutex<HashMap<String, Reply>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    arrived: Arc<tokio::sync::Notify>,
) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16_384 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    *hits.lock().unwrap().entry(path.clone()).or_default() += 1;
    arrived.notify_one();
    let reply = replies
        .lock()
        .unwrap()
        .get(&path)
        .cloned()
        .unwrap_or(Reply::Status(404));
    let _ = match reply {
        Reply::Html(body) => {
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(response.as_bytes()).await
        }
        Reply::Status(code) => {
            let response =
                format!("HTTP/1.1 {code} Status\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            stream.write_all(response.as_bytes()).await
        }
        Reply::Redirect(to) => {
            let response = format!(
                "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            stream.write_all(response.as_bytes()).await
        }
        Reply::Huge(size) => {
            let start =
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<p>";
            if stream.write_all(start.as_bytes()).await.is_err() {
                return;
            }
            let chunk = vec![b'a'; 64 * 1024];
            let mut sent = 0;
            while sent < size {
                if stream.write_all(&chunk).await.is_err() {
                    return;
                }
                sent += chunk.len();
            }
            Ok(())
        }
        Reply::Drip => {
            let start = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n";
            if stream.write_all(start.as_bytes()).await.is_err() {
                return;
            }
            for _ in 0..600 {
                if stream.write_all(b"a").await.is_err() || stream.flush().await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(())
        }
    };
}

/// An h-entry page linking to the target.
fn h_entry(author: &str, content: &str) -> String {
    format!(
        r#"<!doctype html><html><head><title>A reply</title></head><body>
        <article class="h-entry">
          <a class="p-author h-card" href="https://ann.example/"><span class="p-name">{author}</span></a>
          <time class="dt-published" datetime="2026-11-01T10:00:00Z">1 November</time>
          <div class="e-content">{content}</div>
          <p>In reply to <a class="u-in-reply-to" href="{TARGET}">the post</a>.</p>
        </article></body></html>"#
    )
}

fn config(allow_private: bool) -> impl FnOnce(&mut Config) {
    move |c: &mut Config| {
        c.default_site.allowed_origins = vec!["https://blog.example".into()];
        c.webmention.worker = false;
        c.webmention.allow_private_addresses = allow_private;
        c.webmention.timeout_secs = 2;
        c.webmention.max_bytes = 100_000;
        c.webmention.max_redirects = 3;
        c.webmention.max_attempts = 1;
    }
}

async fn setup(db: Db) -> (TestApp, Sources) {
    let app = spawn_app_with(db, config(true)).await;
    (app, Sources::start().await)
}

async fn send(app: &TestApp, source: &str, target: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/webmention", app.api))
        .form(&[("source", source), ("target", target)])
        .send()
        .await
        .unwrap()
}

async fn send_ok(app: &TestApp, source: &str) {
    let response = send(app, source, TARGET).await;
    assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
}

async fn step(app: &TestApp) -> usize {
    kith::webmention::worker::step(&app.state).await.unwrap()
}

fn mention(app: &TestApp, source: &str) -> Mention {
    let mut conn = app.state.pool.get().unwrap();
    kith::db::webmentions::find_by_urls(&mut conn, SiteId(1), source, TARGET)
        .unwrap()
        .expect("the mention is stored")
}

fn comment_status(app: &TestApp, source: &str) -> kith::domain::comment::CommentStatus {
    let id = mention(app, source).comment_id.expect("a comment");
    let mut conn = app.state.pool.get().unwrap();
    kith::db::comments::find(&mut conn, id)
        .unwrap()
        .unwrap()
        .status
}

/// Published webmentions of the target's thread.
async fn mentions(app: &TestApp) -> Vec<Value> {
    let thread = app.thread("/post/").await;
    thread["comments"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c["kind"] == "webmention")
        .collect()
}

async fn wm_h_entry_mention_is_verified_and_shown(db: Db) {
    let (app, sources) = setup(db).await;
    sources.set(
        "/reply",
        Reply::Html(h_entry("Ann Author", "<p>Great <em>post</em>!</p>")),
    );
    send_ok(&app, &sources.url("/reply")).await;
    // Accepted, not yet verified: nothing fetched, nothing shown.
    assert_eq!(sources.hits("/reply"), 0);
    assert!(mentions(&app).await.is_empty());
    assert_eq!(
        mention(&app, &sources.url("/reply")).status,
        MentionStatus::Pending
    );

    assert_eq!(step(&app).await, 1);
    let shown = mentions(&app).await;
    assert_eq!(shown.len(), 1, "{shown:?}");
    let m = &shown[0];
    assert_eq!(m["author"], "Ann Author");
    assert_eq!(m["website"], "https://ann.example/");
    assert_eq!(m["html"], "<p>Great <em>post</em>!</p>");
    assert!(
        m["created_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-01T10:00:00"),
        "{m}"
    );
    let stored = mention(&app, &sources.url("/reply"));
    assert_eq!(stored.status, MentionStatus::Done);
    assert_eq!(stored.outcome.as_deref(), Some("stored"));
    assert_eq!(stored.comment_id.map(|c| c.0), m["id"].as_i64());
    // Nothing more to do.
    assert_eq!(step(&app).await, 0);
    assert_eq!(sources.hits("/reply"), 1);

    // The HTML fragment lists it with the linkbacks and advertises the endpoint.
    let html = app
        .page_text(&format!("{}/thread.html?key=/post/", app.api))
        .await;
    assert!(html.contains(r#"data-kind="webmention""#), "{html}");
    assert!(
        html.contains("Mentions, pingbacks and trackbacks"),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            r#"<link rel="webmention" href="{}/webmention">"#,
            app.api
        )),
        "{html}"
    );
    app.assert_counters_match_scan();
}

async fn wm_plain_page_falls_back_to_title_and_host(db: Db) {
    let (app, sources) = setup(db).await;
    sources.set(
        "/plain",
        Reply::Html(format!(
            "<html><head><title>Bob's &lt;notes&gt;</title></head><body><p>I liked <a href=\"{TARGET}\">this</a></p></body></html>"
        )),
    );
    send_ok(&app, &sources.url("/plain")).await;
    assert_eq!(step(&app).await, 1);
    let shown = mentions(&app).await;
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0]["author"], "127.0.0.1");
    assert_eq!(shown[0]["html"], "<p>Bob's &lt;notes&gt;</p>");
}

async fn wm_script_and_handlers_in_h_entry_content_are_removed(db: Db) {
    let (app, sources) = setup(db).await;
    sources.set(
        "/xss",
        Reply::Html(h_entry(
            "<img src=x onerror=alert(1)>Eve",
            r#"<p onclick="alert(1)">Hi<script>alert(2)</script><img src="x" onerror="alert(3)">
               <a href="javascript:alert(4)">click</a> <a href="https://eve.example/">site</a>
               <iframe src="https://eve.example/"></iframe><style>body{display:none}</style></p>"#,
        )),
    );
    send_ok(&app, &sources.url("/xss")).await;
    assert_eq!(step(&app).await, 1);
    let shown = mentions(&app).await;
    assert_eq!(shown.len(), 1);
    let html = shown[0]["html"].as_str().unwrap();
    for bad in [
        "<script",
        "onclick",
        "onerror",
        "javascript:",
        "<iframe",
        "<img",
        "<style",
        "alert(2)",
    ] {
        assert!(!html.contains(bad), "{bad} in {html}");
    }
    assert!(
        html.contains(r#"<a href="https://eve.example/" rel="nofollow ugc noopener">site</a>"#),
        "{html}"
    );
    // The author's name is text: the markup in it became text, never an element.
    assert_eq!(shown[0]["author"], "Eve");
}

async fn wm_link_only_in_a_comment_script_or_text_is_refused(db: Db) {
    let (app, sources) = setup(db).await;
    let pages = [
        (
            "/comment",
            format!("<p>hi</p><!-- <a href=\"{TARGET}\">x</a> -->"),
        ),
        (
            "/script",
            format!("<script>var a = '<a href=\"{TARGET}\">x</a>';</script>"),
        ),
        ("/text", format!("<p>I read {TARGET} today</p>")),
    ];
    for (path, body) in &pages {
        sources.set(path, Reply::Html(body.clone()));
        send_ok(&app, &sources.url(path)).await;
    }
    assert_eq!(step(&app).await, 3);
    assert!(mentions(&app).await.is_empty());
    for (path, _) in &pages {
        let m = mention(&app, &sources.url(path));
        assert_eq!(m.status, MentionStatus::Done);
        assert_eq!(
            m.outcome.as_deref(),
            Some("refused: the source does not link to the target"),
            "{path}"
        );
        assert_eq!(m.comment_id, None);
    }
}

async fn wm_wrong_target_on_the_source_is_refused(db: Db) {
    let (app, sources) = setup(db).await;
    sources.set(
        "/other",
        Reply::Html(r#"<a href="https://blog.example/another-post/">x</a>"#.into()),
    );
    send_ok(&app, &sources.url("/other")).await;
    assert_eq!(step(&app).await, 1);
    assert!(mentions(&app).await.is_empty());
    assert_eq!(mention(&app, &sources.url("/other")).comment_id, None);
}

async fn wm_repeated_mention_updates_the_comment(db: Db) {
    let (app, sources) = setup(db).await;
    let source = sources.url("/reply");
    sources.set(
        "/reply",
        Reply::Html(h_entry("Ann", "<p>First version</p>")),
    );
    send_ok(&app, &source).await;
    step(&app).await;
    let before = mentions(&app).await;
    assert_eq!(before.len(), 1);
    sources.set(
        "/reply",
        Reply::Html(h_entry("Ann B.", "<p>Second version</p>")),
    );
    send_ok(&app, &source).await;
    assert_eq!(step(&app).await, 1);
    let after = mentions(&app).await;
    assert_eq!(after.len(), 1, "updated, not added: {after:?}");
    assert_eq!(after[0]["id"], before[0]["id"]);
    assert_eq!(after[0]["html"], "<p>Second version</p>");
    assert_eq!(after[0]["author"], "Ann B.");
    assert_eq!(mention(&app, &source).outcome.as_deref(), Some("updated"));
    assert_eq!(mention(&app, &source).requests, 2);
    app.assert_counters_match_scan();
}

async fn wm_source_gone_or_no_longer_linking_deletes_the_comment(db: Db) {
    let (app, sources) = setup(db).await;
    for path in ["/gone", "/unlinked"] {
        sources.set(path, Reply::Html(h_entry("Ann", &format!("<p>{path}</p>"))));
        send_ok(&app, &sources.url(path)).await;
    }
    assert_eq!(step(&app).await, 2);
    assert_eq!(mentions(&app).await.len(), 2);
    app.assert_counters_match_scan();
    sources.set("/gone", Reply::Status(410));
    sources.set("/unlinked", Reply::Html("<p>I changed my mind.</p>".into()));
    for path in ["/gone", "/unlinked"] {
        send_ok(&app, &sources.url(path)).await;
    }
    assert_eq!(step(&app).await, 2);
    assert!(mentions(&app).await.is_empty());
    for path in ["/gone", "/unlinked"] {
        let m = mention(&app, &sources.url(path));
        assert_eq!(m.outcome.as_deref(), Some("deleted"), "{path}");
        assert_eq!(m.comment_id, None);
    }
    app.assert_counters_match_scan();
}

async fn wm_huge_slow_and_looping_sources_are_refused(db: Db) {
    let (app, sources) = setup(db).await;
    sources.set("/huge", Reply::Huge(5_000_000));
    sources.set("/slow", Reply::Drip);
    sources.set("/loop", Reply::Redirect("/loop".into()));
    sources.set("/far", Reply::Redirect("/far1".into()));
    sources.set("/far1", Reply::Redirect("/far2".into()));
    sources.set("/far2", Reply::Redirect("/far3".into()));
    sources.set("/far3", Reply::Redirect("/far4".into()));
    sources.set("/far4", Reply::Html(h_entry("Ann", "<p>too far</p>")));
    sources.set("/near", Reply::Redirect("/near1".into()));
    sources.set(
        "/near1",
        Reply::Html(h_entry("Ann", "<p>redirected once</p>")),
    );
    for path in ["/huge", "/slow", "/loop", "/far", "/near"] {
        send_ok(&app, &sources.url(path)).await;
    }
    assert_eq!(step(&app).await, 5);
    let expected = [
        ("/huge", "larger than 100000 bytes"),
        ("/slow", "did not answer in full within 2 s"),
        ("/loop", "more than 3 redirects"),
        ("/far", "more than 3 redirects"),
    ];
    for (path, error) in expected {
        let m = mention(&app, &sources.url(path));
        assert_eq!(m.status, MentionStatus::Failed, "{path}");
        let last = m.last_error.unwrap_or_default();
        assert!(last.contains(error), "{path}: {last}");
    }
    // The loop was followed only as far as the limit.
    assert_eq!(sources.hits("/loop"), 4);
    let shown = mentions(&app).await;
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_eq!(shown[0]["html"], "<p>redirected once</p>");
}

async fn wm_private_addresses_are_refused_unless_allowed(db: Db) {
    let app = spawn_app_with(db, config(false)).await;
    let sources = Sources::start().await;
    sources.set("/reply", Reply::Html(h_entry("Ann", "<p>hi</p>")));
    let by_address = sources.url("/reply");
    let by_name = format!("http://localhost:{}/reply", sources.port);
    send_ok(&app, &by_address).await;
    send_ok(&app, &by_name).await;
    assert_eq!(step(&app).await, 2);
    assert_eq!(sources.hits("/reply"), 0, "a private address was fetched");
    for source in [&by_address, &by_name] {
        let m = mention(&app, source);
        assert_eq!(m.status, MentionStatus::Failed);
        let last = m.last_error.unwrap_or_default();
        assert!(last.contains("is not a public address"), "{source}: {last}");
    }
    assert!(mentions(&app).await.is_empty());
}

async fn wm_transient_failures_are_retried_then_given_up(db: Db) {
    let app = spawn_app_with(db, |c| {
        config(true)(c);
        c.webmention.max_attempts = 2;
        c.webmention.retry_base_ms = 0;
    })
    .await;
    let sources = Sources::start().await;
    let source = sources.url("/flaky");
    sources.set("/flaky", Reply::Status(503));
    send_ok(&app, &source).await;
    assert_eq!(step(&app).await, 1);
    let m = mention(&app, &source);
    assert_eq!((m.status, m.attempts), (MentionStatus::Pending, 1));
    // The second attempt succeeds.
    sources.set("/flaky", Reply::Html(h_entry("Ann", "<p>back</p>")));
    assert_eq!(step(&app).await, 1);
    assert_eq!(mentions(&app).await.len(), 1);
    // A source that keeps failing is given up after the last attempt.
    let down = sources.url("/down");
    sources.set("/down", Reply::Status(500));
    send_ok(&app, &down).await;
    assert_eq!(step(&app).await, 1);
    assert_eq!(step(&app).await, 1);
    let m = mention(&app, &down);
    assert_eq!((m.status, m.attempts), (MentionStatus::Failed, 2));
    assert_eq!(step(&app).await, 0);
}

async fn wm_bad_requests_are_refused_at_once(db: Db) {
    let (app, sources) = setup(db).await;
    let owned = sources.url("/reply");
    let source = owned.as_str();
    let cases: [(&[(&str, &str)], &str); 7] = [
        (&[("target", TARGET)], "source"),
        (&[("source", source)], "target"),
        (
            &[("source", "ftp://elsewhere.example/a"), ("target", TARGET)],
            "source",
        ),
        (
            &[("source", "javascript:alert(1)"), ("target", TARGET)],
            "source",
        ),
        (&[("source", TARGET), ("target", TARGET)], "different"),
        (
            &[
                ("source", source),
                ("target", "https://not-this-site.example/post/"),
            ],
            "not a page of this site",
        ),
        (
            &[("source", source), ("target", "http://blog.example/post/")],
            "not a page of this site",
        ),
    ];
    for (form, needle) in cases {
        let response = app
            .client
            .post(format!("{}/webmention", app.api))
            .form(form)
            .send()
            .await
            .unwrap();
        let body = assert_error(response, 400, "invalid_webmention").await;
        assert!(
            body["message"].as_str().unwrap().contains(needle),
            "{form:?}: {body}"
        );
    }
    let response = app
        .client
        .post(format!("{}/api/v1/sites/nope/webmention", app.address))
        .form(&[("source", source), ("target", TARGET)])
        .send()
        .await
        .unwrap();
    assert_error(response, 404, "site_not_found").await;
    // Nothing was queued, nothing fetched.
    assert_eq!(step(&app).await, 0);
    assert_eq!(sources.hits("/reply"), 0);
}

async fn wm_concurrent_workers_verify_a_mention_once(db: Db) {
    let (app, sources) = setup(db).await;
    for n in 0..4 {
        let path = format!("/reply{n}");
        sources.set(&path, Reply::Html(h_entry("Ann", &format!("<p>{n}</p>"))));
        send_ok(&app, &sources.url(&path)).await;
    }
    let (a, b, c) = tokio::join!(step(&app), step(&app), step(&app));
    assert_eq!(a + b + c, 4, "each mention verified by exactly one worker");
    for n in 0..4 {
        assert_eq!(sources.hits(&format!("/reply{n}")), 1);
    }
    assert_eq!(mentions(&app).await.len(), 4);
}

async fn wm_moderation_rules_apply_to_mentions(db: Db) {
    let smtp = crate::smtp::SmtpServer::start().await;
    let port = smtp.port;
    let app = spawn_app_with(db, move |c| {
        crate::helpers::mail_config(c, port);
        c.mail.owner_notifications = kith::config::OwnerNotifications::Held;
        config(true)(c);
    })
    .await;
    app.set_settings(|s| {
        s.moderation = kith::domain::site::ModerationMode::FirstTime;
        s.reject_words = vec!["casino".into()];
    })
    .await;
    let sources = Sources::start().await;
    sources.set("/first", Reply::Html(h_entry("Ann", "<p>Nice post</p>")));
    sources.set(
        "/spam",
        Reply::Html(h_entry("Sam", "<p>Best casino bonus</p>")),
    );
    send_ok(&app, &sources.url("/first")).await;
    send_ok(&app, &sources.url("/spam")).await;
    assert_eq!(step(&app).await, 2);
    // Neither is public: one waits for the owner, one is spam.
    assert!(mentions(&app).await.is_empty());
    use kith::domain::comment::CommentStatus;
    assert_eq!(
        comment_status(&app, &sources.url("/first")),
        CommentStatus::Pending
    );
    assert_eq!(
        comment_status(&app, &sources.url("/spam")),
        CommentStatus::Spam
    );
    let mut conn = app.state.pool.get().unwrap();
    // The owner hears about the held one, as about a held comment.
    let outbox = kith::db::mail::list_outbox(&mut conn).unwrap();
    let owner: Vec<_> = outbox
        .iter()
        .filter(|m| m.recipient == "owner@blog.example")
        .collect();
    assert_eq!(owner.len(), 1, "{outbox:?}");
    assert!(
        owner[0].body_text.contains("Nice post"),
        "{}",
        owner[0].body_text
    );
    app.assert_counters_match_scan();
}

/// The lease of a mention (`None` when no worker holds it).
fn locked_until(app: &TestApp, source: &str) -> Option<chrono::NaiveDateTime> {
    use diesel::prelude::*;
    use kith::db::schema::webmentions;
    let mut conn = app.state.pool.get().unwrap();
    webmentions::table
        .filter(webmentions::source.eq(source))
        .select(webmentions::locked_until)
        .first(&mut conn)
        .unwrap()
}

async fn wm_worker_stopped_mid_fetch_releases_its_lease(db: Db) {
    let app = spawn_app_with(db, |c| {
        config(true)(c);
        c.webmention.timeout_secs = 60;
    })
    .await;
    let sources = Sources::start().await;
    sources.set("/slow", Reply::Drip);
    let source = sources.url("/slow");
    send_ok(&app, &source).await;
    // A background worker (the app's own is off in these tests) starts fetching the source.
    let mut config = (*app.state.config).clone();
    config.webmention.worker = true;
    config.webmention.poll_interval_ms = 10;
    let mut state = app.state.clone();
    state.config = Arc::new(config);
    let worker = kith::webmention::worker::spawn(state).expect("the worker runs");
    tokio::time::timeout(Duration::from_secs(30), sources.arrived.notified())
        .await
        .expect("the worker fetches the source");
    assert!(
        locked_until(&app, &source).is_some(),
        "leased while fetched"
    );
    // Shutdown with a grace period shorter than the fetch: the worker is ended and its lease
    // released, the mention still pending with no attempt counted.
    worker.stop_within(Duration::from_millis(50)).await;
    assert_eq!(locked_until(&app, &source), None);
    let m = mention(&app, &source);
    assert_eq!(m.status, MentionStatus::Pending);
    assert_eq!(m.attempts, 0);
    // So the next worker takes it at once instead of after the lease lapses.
    sources.set("/slow", Reply::Html(h_entry("Ann", "<p>hi</p>")));
    assert_eq!(step(&app).await, 1);
    assert_eq!(mention(&app, &source).status, MentionStatus::Done);
}
