//! Webhooks end to end against a real HTTP receiver on loopback written here: every event is
//! delivered once with a valid signature (checked by the very snippet in docs/webhooks.md),
//! failing receivers are retried with backoff and recorded as failed, nothing is lost across
//! processes, private addresses are refused unless allowed, and the chat presets have the
//! shapes Slack and Discord document.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::helpers::{Db, TestApp, spawn_app_with};
use kith::config::Config;
use kith::domain::comment::CommentId;
use kith::domain::site::SiteId;
use kith::domain::webhook::{DeliveryStatus, EndpointUrl, PayloadFormat, WebhookEvent};

crate::each_on_both_backends!(
    webhooks_each_event_is_delivered_once_with_a_valid_signature,
    webhooks_failing_receiver_is_retried_with_backoff_then_recorded_failed,
    webhooks_client_errors_fail_at_once_but_408_and_429_are_retried,
    webhooks_timeout_slow_body_and_huge_body_fail_each_attempt,
    webhooks_nothing_is_lost_across_processes_sharing_the_database,
    webhooks_private_addresses_are_refused_unless_allowed,
    webhooks_slack_and_discord_presets_have_their_documented_shapes,
    webhooks_cli_adds_lists_reveals_and_removes_endpoints,
);

/// How the receiver answers.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Ok,
    Status500,
    /// Answers with this status and an empty body.
    Status(u16),
    /// Never answers (the sender's timeout ends the attempt).
    Silent,
    /// Sends the status line and headers, then never finishes the body.
    SlowBody,
    /// Answers 200 with a body far over the limit.
    Huge,
}

#[derive(Clone, Debug)]
struct Received {
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A small HTTP/1.1 server on loopback recording every request it reads.
struct Receiver {
    port: u16,
    mode: Arc<Mutex<Mode>>,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(mode: Mode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mode = Arc::new(Mutex::new(mode));
        let received = Arc::new(Mutex::new(Vec::new()));
        let (m, r) = (mode.clone(), received.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let (m, r) = (m.clone(), r.clone());
                tokio::spawn(async move {
                    let Some(request) = read_request(&mut stream).await else {
                        return;
                    };
                    r.lock().unwrap().push(request);
                    let mode = *m.lock().unwrap();
                    match mode {
                        Mode::Ok => {
                            let _ = stream
                                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                                .await;
                        }
                        Mode::Status500 => {
                            let _ = stream
                                .write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\nConnection: close\r\n\r\noops")
                                .await;
                        }
                        Mode::Status(code) => {
                            let head = format!(
                                "HTTP/1.1 {code} Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            );
                            let _ = stream.write_all(head.as_bytes()).await;
                        }
                        Mode::Silent => {
                            // Holds the connection until the sender gives up and closes it.
                            let mut sink = [0u8; 64];
                            while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
                        }
                        Mode::SlowBody => {
                            let _ = stream
                                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\nstart")
                                .await;
                            let mut sink = [0u8; 64];
                            while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
                        }
                        Mode::Huge => {
                            let body = vec![b'x'; 1 << 20];
                            let head = format!(
                                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                                body.len()
                            );
                            let _ = stream.write_all(head.as_bytes()).await;
                            let _ = stream.write_all(&body).await;
                        }
                    }
                });
            }
        });
        Self {
            port,
            mode,
            received,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<Received> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let headers: HashMap<String, String> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Received { headers, body })
}

/// Webhooks to loopback allowed, no background worker (the tests drive it), immediate retries.
fn hooks_config(config: &mut Config) {
    config.webhooks.allow_private = true;
    config.webhooks.worker = false;
    config.webhooks.retry_base_ms = 0;
    config.webhooks.timeout_secs = 1;
    config.webhooks.max_response_bytes = 1024;
    config.webhooks.max_attempts = 3;
}

async fn app_with(db: Db, adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_with(db, |c| {
        hooks_config(c);
        adjust(c);
    })
    .await
}

/// Adds an endpoint to the default site; returns its id and secret.
async fn add_endpoint(
    app: &TestApp,
    url: &str,
    format: PayloadFormat,
    events: &[WebhookEvent],
) -> (i64, String) {
    let url = EndpointUrl::parse(url).unwrap();
    let events = events.to_vec();
    kith::service::blocking(&app.state, move |state, conn| {
        let site = kith::service::sites::find(state, conn, "default")?;
        let (endpoint, secret) =
            kith::service::webhooks::create(state, conn, site.id, &url, format, &events)?;
        Ok((endpoint.id, secret))
    })
    .await
    .unwrap()
}

/// Adds an endpoint for `comment.posted` alone; returns its id and secret.
async fn on_posted(app: &TestApp, url: &str, format: PayloadFormat) -> (i64, String) {
    add_endpoint(app, url, format, &[WebhookEvent::Posted]).await
}

/// Runs the webhook worker's step until nothing is due; returns how many attempts it made.
async fn drain(app: &TestApp) -> usize {
    let mut total = 0;
    loop {
        let n = step_once(app).await;
        if n == 0 {
            return total;
        }
        total += n;
    }
}

/// One pass of the webhook worker.
async fn step_once(app: &TestApp) -> usize {
    let sender =
        kith::notify::webhooks::Sender::new(&app.state.config.webhooks, app.state.keys.clone())
            .unwrap();
    kith::notify::webhooks::step(&app.state.pool, &sender)
        .await
        .unwrap()
}

async fn deliveries(app: &TestApp) -> Vec<(kith::domain::webhook::Delivery, String)> {
    kith::service::blocking(&app.state, |_, conn| kith::db::webhooks::list_all(conn))
        .await
        .unwrap()
}

/// Runs the Python snippet of docs/webhooks.md, as written, on one received delivery.
fn verify_with_documented_snippet(secret: &str, request: &Received) -> bool {
    let doc = include_str!("../../docs/webhooks.md");
    let start = doc.find("```python\n").expect("a python snippet") + "```python\n".len();
    let snippet = &doc[start..start + doc[start..].find("\n```").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let body_path = dir.path().join("body");
    std::fs::write(&body_path, &request.body).unwrap();
    let script = format!(
        "{snippet}\n\nimport os, sys\nbody = open(sys.argv[1], 'rb').read()\n\
         sys.exit(0 if verify(os.environ['SECRET'], os.environ['SIG'], body) else 1)\n"
    );
    let script_path = dir.path().join("verify.py");
    std::fs::write(&script_path, script).unwrap();
    let status = std::process::Command::new("python3")
        .arg(&script_path)
        .arg(&body_path)
        .env("SECRET", secret)
        .env("SIG", request.headers.get("kith-signature").unwrap())
        .status()
        .unwrap();
    status.success()
}

async fn default_site(app: &TestApp) -> SiteId {
    kith::service::blocking(&app.state, |state, conn| {
        Ok(kith::service::sites::find(state, conn, "default")?.id)
    })
    .await
    .unwrap()
}

async fn webhooks_each_event_is_delivered_once_with_a_valid_signature(db: Db) {
    let receiver = Receiver::start(Mode::Ok).await;
    let app = app_with(db, |_| {}).await;
    let (_, secret) = add_endpoint(
        &app,
        &receiver.url(),
        PayloadFormat::Kith,
        &WebhookEvent::ALL,
    )
    .await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    app.set_settings(|s| s.moderation = kith::domain::site::ModerationMode::All)
        .await;

    // Posted through the API, held by the moderation rule.
    let posted = app.post_ok("/post/", "Ann", "Hello *there*", None).await;
    let id = posted["comment"]["id"].as_i64().unwrap();
    let token = posted["edit_token"].as_str().unwrap().to_string();
    // Approved in the admin area.
    kith::service::blocking(&app.state, move |state, conn| {
        kith::service::admin::moderate::apply(
            state,
            conn,
            &[CommentId(id)],
            kith::service::admin::moderate::Action::Approve,
        )
    })
    .await
    .unwrap();
    // Reported by a reader.
    let reported = app
        .client
        .post(format!("{}/comments/{id}/report", app.api))
        .json(&json!({"reason": "rude"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reported.status(), 200);
    // Deleted by its author.
    let deleted = app
        .client
        .delete(format!("{}/comments/{id}", app.api))
        .header("X-Edit-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200, "{}", deleted.text().await.unwrap());
    // Spam caught by the defences (here the honeypot) announces nothing.
    let spam = app
        .post_json_ok(json!({
            "thread_key": "/post/", "author": "Bot", "email": "bot@example.com",
            "body": "Cheap pills", "hp": "filled by a bot",
        }))
        .await;
    let spam_id = CommentId(spam["comment"]["id"].as_i64().unwrap());
    let stored = kith::service::blocking(&app.state, move |_, conn| {
        kith::db::comments::find(conn, spam_id)
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(stored.status, kith::domain::comment::CommentStatus::Spam);

    assert_eq!(drain(&app).await, 5);
    assert_eq!(drain(&app).await, 0, "nothing is sent twice");
    let requests = receiver.requests();
    let events: Vec<String> = requests
        .iter()
        .map(|r| r.headers["kith-event"].clone())
        .collect();
    assert_eq!(
        events,
        [
            "comment.posted",
            "comment.held",
            "comment.approved",
            "comment.reported",
            "comment.deleted"
        ]
    );
    let delivery_ids: std::collections::HashSet<&String> = requests
        .iter()
        .map(|r| &r.headers["kith-delivery"])
        .collect();
    assert_eq!(delivery_ids.len(), 5, "one delivery id each");
    for request in &requests {
        assert!(
            verify_with_documented_snippet(&secret, request),
            "signature of {:?}",
            request.headers
        );
        assert!(!verify_with_documented_snippet("whsec_wrong", request));
        let text = String::from_utf8_lossy(&request.body);
        assert!(!text.contains("ann@example.com"), "no e-mail: {text}");
        assert!(!text.contains("127.0.0.1"), "no IP: {text}");
        let body = request.json();
        assert_eq!(body["comment"]["id"], id);
        assert_eq!(body["site"]["slug"], "default");
        assert_eq!(body["thread"]["key"], "/post/");
        assert_eq!(body["thread"]["title"], "A post");
        assert_eq!(body["comment"]["author"], "Ann");
        assert_eq!(
            body["comment"]["permalink"],
            format!("https://blog.example/post/#comment-{id}")
        );
        assert_eq!(body["event"], request.headers["kith-event"].as_str());
    }
    assert_eq!(requests[0].json()["comment"]["status"], "pending");
    assert_eq!(
        requests[0].json()["comment"]["html"]
            .as_str()
            .unwrap()
            .trim(),
        "<p>Hello <em>there</em></p>"
    );
    assert_eq!(requests[2].json()["comment"]["status"], "approved");
    assert_eq!(requests[4].json()["comment"]["status"], "deleted");
    assert_eq!(requests[4].json()["comment"]["html"], "");
    // A tampered body no longer verifies.
    let mut tampered = requests[0].clone();
    tampered.body.extend_from_slice(b" ");
    assert!(!verify_with_documented_snippet(&secret, &tampered));
    assert!(
        deliveries(&app)
            .await
            .iter()
            .all(|(d, _)| d.status == DeliveryStatus::Sent && d.last_status == Some(200))
    );
}

async fn webhooks_failing_receiver_is_retried_with_backoff_then_recorded_failed(db: Db) {
    use diesel::prelude::*;
    use kith::db::schema::webhook_deliveries;
    let receiver = Receiver::start(Mode::Status500).await;
    let app = app_with(db, |c| c.webhooks.retry_base_ms = 60_000).await;
    on_posted(&app, &receiver.url(), PayloadFormat::Kith).await;
    app.post_ok("/post/", "Ann", "Refused", None).await;

    let make_due = || {
        kith::service::blocking(&app.state, |_, conn| {
            let past = (chrono::Utc::now() - chrono::Duration::seconds(1)).naive_utc();
            diesel::update(webhook_deliveries::table)
                .set(webhook_deliveries::next_attempt_at.eq(past))
                .execute(conn)?;
            Ok(())
        })
    };
    let mut delays = Vec::new();
    for attempt in 1..=2 {
        assert_eq!(step_once(&app).await, 1);
        assert_eq!(step_once(&app).await, 0, "not due again before the backoff");
        let (d, _) = deliveries(&app).await.remove(0);
        assert_eq!(d.status, DeliveryStatus::Pending);
        assert_eq!(d.attempts, attempt);
        assert_eq!(d.last_status, Some(500));
        assert!(
            d.last_error.as_deref().unwrap().contains("HTTP 500"),
            "{d:?}"
        );
        delays.push((d.next_attempt_at - chrono::Utc::now()).num_seconds());
        make_due().await.unwrap();
    }
    // 60 s, then 120 s.
    assert!((55..=60).contains(&delays[0]), "{delays:?}");
    assert!((115..=120).contains(&delays[1]), "{delays:?}");
    assert_eq!(step_once(&app).await, 1);
    let (d, _) = deliveries(&app).await.remove(0);
    assert_eq!(
        d.status,
        DeliveryStatus::Failed,
        "given up after max_attempts"
    );
    assert_eq!(d.attempts, 3);
    assert_eq!(receiver.requests().len(), 3);
    assert_eq!(step_once(&app).await, 0);
    // The admin area lists it with its last error.
    let site = default_site(&app).await;
    let overview = kith::service::blocking(&app.state, move |_, conn| {
        kith::service::webhooks::overview(conn, site)
    })
    .await
    .unwrap();
    assert_eq!(overview.deliveries[0].status, DeliveryStatus::Failed);
    // A receiver that recovers gets the next event.
    receiver.set_mode(Mode::Ok);
    app.post_ok("/post/", "Bob", "Accepted", None).await;
    assert_eq!(step_once(&app).await, 1);
    assert_eq!(deliveries(&app).await[1].0.status, DeliveryStatus::Sent);
}

async fn webhooks_client_errors_fail_at_once_but_408_and_429_are_retried(db: Db) {
    let receiver = Receiver::start(Mode::Status(404)).await;
    let app = app_with(db, |c| c.webhooks.retry_base_ms = 60_000).await;
    on_posted(&app, &receiver.url(), PayloadFormat::Kith).await;
    let codes = [404, 401, 410, 408, 429, 500];
    for (n, code) in codes.into_iter().enumerate() {
        receiver.set_mode(Mode::Status(code));
        app.post_ok("/post/", "Ann", &format!("Answered {code}"), None)
            .await;
        assert_eq!(step_once(&app).await, 1, "{code}");
        assert_eq!(step_once(&app).await, 0, "{code}: not due again at once");
        let (d, _) = deliveries(&app).await.remove(n);
        assert_eq!(d.attempts, 1, "{code}");
        assert_eq!(d.last_status, Some(i32::from(code)));
        let wanted = if matches!(code, 408 | 429 | 500) {
            DeliveryStatus::Pending
        } else {
            DeliveryStatus::Failed
        };
        assert_eq!(d.status, wanted, "{code}: {d:?}");
        assert!(
            d.last_error
                .as_deref()
                .unwrap()
                .contains(&format!("HTTP {code}")),
            "{d:?}"
        );
    }
    assert_eq!(receiver.requests().len(), codes.len());
}

async fn webhooks_timeout_slow_body_and_huge_body_fail_each_attempt(db: Db) {
    let silent = Receiver::start(Mode::Silent).await;
    let slow = Receiver::start(Mode::SlowBody).await;
    let huge = Receiver::start(Mode::Huge).await;
    let app = app_with(db, |c| c.webhooks.max_attempts = 2).await;
    for r in [&silent, &slow, &huge] {
        on_posted(&app, &r.url(), PayloadFormat::Kith).await;
    }
    app.post_ok("/post/", "Ann", "Nobody answers well", None)
        .await;
    assert_eq!(drain(&app).await, 6, "two attempts each");
    let rows = deliveries(&app).await;
    assert_eq!(rows.len(), 3);
    for (d, _) in &rows {
        assert_eq!(d.status, DeliveryStatus::Failed, "{d:?}");
        assert_eq!(d.attempts, 2);
    }
    let error = |i: usize| rows[i].0.last_error.clone().unwrap();
    assert!(error(0).contains("timed out"), "{}", error(0));
    assert!(
        error(1).contains("timed out") || error(1).contains("body"),
        "{}",
        error(1)
    );
    assert_eq!(
        rows[1].0.last_status,
        Some(200),
        "the status came, the body did not"
    );
    assert!(error(2).contains("longer than 1024 bytes"), "{}", error(2));
    for r in [&silent, &slow, &huge] {
        assert_eq!(r.requests().len(), 2);
    }
}

async fn webhooks_nothing_is_lost_across_processes_sharing_the_database(db: Db) {
    use diesel::prelude::*;
    use kith::db::schema::webhook_deliveries;
    let receiver = Receiver::start(Mode::Ok).await;
    let first = app_with(db, |_| {}).await;
    on_posted(&first, &receiver.url(), PayloadFormat::Kith).await;
    for n in 0..8 {
        first
            .post_ok("/post/", "Ann", &format!("Comment {n}"), None)
            .await;
    }
    let url = first.state.config.database.url.clone();
    let second = app_with(db, move |c| c.database.url = url).await;
    // One delivery is leased by a process that is still sending it: nobody else takes it.
    let leased_until = |secs: i64| {
        kith::service::blocking(&first.state, move |_, conn| {
            let first_id: i64 = webhook_deliveries::table
                .select(webhook_deliveries::id)
                .order(webhook_deliveries::id.asc())
                .first(conn)?;
            let until = (chrono::Utc::now() + chrono::Duration::seconds(secs)).naive_utc();
            diesel::update(webhook_deliveries::table.find(first_id))
                .set(webhook_deliveries::locked_until.eq(Some(until)))
                .execute(conn)?;
            Ok(())
        })
    };
    leased_until(600).await.unwrap();
    let (a, b) = tokio::join!(drain(&first), drain(&second));
    assert_eq!(
        a + b,
        7,
        "each delivery claimed by exactly one worker ({a} + {b})"
    );
    // That process died (a crash or restart): its lease lapses and the delivery goes.
    leased_until(-1).await.unwrap();
    assert_eq!(drain(&second).await, 1);
    let requests = receiver.requests();
    assert_eq!(requests.len(), 8);
    for n in 0..8 {
        let text = format!("<p>Comment {n}</p>");
        assert_eq!(
            requests
                .iter()
                .filter(|r| r.json()["comment"]["html"].as_str().unwrap().trim() == text)
                .count(),
            1,
            "{text}"
        );
    }
}

async fn webhooks_private_addresses_are_refused_unless_allowed(db: Db) {
    let receiver = Receiver::start(Mode::Ok).await;
    let app = app_with(db, |c| {
        c.webhooks.allow_private = false;
        c.webhooks.max_attempts = 1;
    })
    .await;
    on_posted(&app, &receiver.url(), PayloadFormat::Kith).await;
    let by_name = format!("http://localhost:{}/hook", receiver.port);
    on_posted(&app, &by_name, PayloadFormat::Slack).await;
    let mapped = format!("http://[::ffff:127.0.0.1]:{}/hook", receiver.port);
    on_posted(&app, &mapped, PayloadFormat::Kith).await;
    app.post_ok("/post/", "Ann", "To nowhere", None).await;
    assert_eq!(drain(&app).await, 3);
    assert!(
        receiver.requests().is_empty(),
        "nothing reached the loopback receiver"
    );
    for (d, _) in deliveries(&app).await {
        assert_eq!(d.status, DeliveryStatus::Failed);
        let error = d.last_error.unwrap();
        assert!(error.contains("not a public address"), "{error}");
        assert!(
            !error.contains("/hook"),
            "the URL is not in the error: {error}"
        );
    }
}

async fn webhooks_slack_and_discord_presets_have_their_documented_shapes(db: Db) {
    let slack = Receiver::start(Mode::Ok).await;
    let discord = Receiver::start(Mode::Ok).await;
    let app = app_with(db, |_| {}).await;
    on_posted(&app, &slack.url(), PayloadFormat::Slack).await;
    on_posted(&app, &discord.url(), PayloadFormat::Discord).await;
    app.post_ok("/post/", "Ann <b>", "Hi @everyone <script>", None)
        .await;
    assert_eq!(drain(&app).await, 2);

    let s = &slack.requests()[0];
    assert!(!s.headers.contains_key("kith-signature"), "not signed");
    let s = s.json();
    let text = s["text"].as_str().unwrap();
    assert!(text.contains("Ann &lt;b&gt;"), "mrkdwn escaped: {text}");
    assert!(
        text.contains("<https://blog.example/post/#comment-"),
        "{text}"
    );
    assert_eq!(s["blocks"][0]["type"], "section");
    assert_eq!(s["blocks"][0]["text"]["type"], "mrkdwn");
    assert_eq!(s["blocks"][1]["text"]["type"], "plain_text");
    assert_eq!(s["blocks"][1]["text"]["text"], "Hi @everyone <script>");

    let d = &discord.requests()[0];
    assert!(!d.headers.contains_key("kith-signature"), "not signed");
    let d = d.json();
    assert!(d["content"].as_str().unwrap().contains("A post"));
    assert_eq!(d["allowed_mentions"]["parse"], json!([]));
    let embed = &d["embeds"][0];
    assert_eq!(embed["title"], "A post");
    assert_eq!(embed["author"]["name"], "Ann <b>");
    assert_eq!(embed["description"], "Hi @everyone <script>");
    assert!(
        embed["url"]
            .as_str()
            .unwrap()
            .starts_with("https://blog.example/post/#comment-")
    );
    assert!(embed["timestamp"].as_str().unwrap().ends_with('Z'));
}

async fn webhooks_cli_adds_lists_reveals_and_removes_endpoints(db: Db) {
    let app = app_with(db, |_| {}).await;
    let kith = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kith"))
            .args(args)
            .env("KITH_DATABASE__URL", &app.state.config.database.url)
            .env("KITH_LOG__LEVEL", "warn")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, err) = kith(&[
        "site",
        "webhook-add",
        "default",
        "--url",
        "https://hooks.example/k",
        "--events",
        "posted,comment.deleted",
        "--format",
        "discord",
    ]);
    assert!(ok, "{out} {err}");
    let (id, secret) = out.trim().split_once('\t').unwrap();
    assert!(secret.starts_with("whsec_"));
    let (ok, listed, _) = kith(&["site", "webhooks", "default"]);
    assert!(ok);
    assert_eq!(
        listed.trim(),
        format!("{id}\tdiscord\tposted,deleted\thttps://hooks.example/k")
    );
    let (ok, shown, _) = kith(&["site", "webhook-secret", "default", id]);
    assert!(ok);
    assert_eq!(shown.trim(), secret, "the same secret, derived again");
    let (ok, rotated, _) = kith(&["site", "webhook-rotate", "default", id]);
    assert!(ok);
    assert_ne!(rotated.trim(), secret);
    let (ok, _, err) = kith(&[
        "site",
        "webhook-add",
        "default",
        "--url",
        "ftp://x",
        "--events",
        "posted",
    ]);
    assert!(!ok);
    assert!(err.contains("--url"), "{err}");
    let (ok, _, err) = kith(&[
        "site",
        "webhook-add",
        "default",
        "--url",
        "https://x.example",
        "--events",
        "liked",
    ]);
    assert!(!ok);
    assert!(err.contains("--events"), "{err}");
    let (ok, _, _) = kith(&["site", "webhook-remove", "default", id]);
    assert!(ok);
    let (_, listed, _) = kith(&["site", "webhooks", "default"]);
    assert!(listed.trim().is_empty(), "{listed}");
}
