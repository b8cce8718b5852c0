//! `GET /metrics`: off by default, on the main port or a separate listener, in the Prometheus
//! text format, and its counters move with what the server does.

use std::collections::HashMap;

use kith::domain::site::ModerationMode;
use kith::spam::limiter::Quota;
use serde_json::json;

use crate::helpers::{Db, TestApp, spawn_app_with};

/// Samples of a Prometheus text exposition: `name{labels}` (labels as written) → value.
/// Refuses lines that are not comments, blank or `series value`.
fn parse(text: &str) -> HashMap<String, f64> {
    let mut samples = HashMap::new();
    let mut typed = HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
            typed.insert(name.to_string(), kind.to_string());
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("series value");
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("a number in {line}"));
        let name = series.split('{').next().unwrap();
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| typed.contains_key(*f)))
            .unwrap_or(name);
        assert!(typed.contains_key(family), "no # TYPE for {line}");
        samples.insert(series.to_string(), value);
    }
    samples
}

async fn scrape(app: &TestApp, url: &str) -> HashMap<String, f64> {
    let response = app.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    parse(&response.text().await.unwrap())
}

fn get(samples: &HashMap<String, f64>, series: &str) -> f64 {
    *samples
        .get(series)
        .unwrap_or_else(|| panic!("no series {series} in {:?}", samples.keys()))
}

const POSTED: &str =
    r#"kith_http_requests_total{method="POST",route="/api/v1/sites/{site}/comments",status="201"}"#;
const POSTED_COUNT: &str = r#"kith_http_request_duration_seconds_count{method="POST",route="/api/v1/sites/{site}/comments",status="201"}"#;

async fn counters_move_with_requests(db: Db) {
    let app = spawn_app_with(db, |c| {
        c.metrics.enabled = true;
        c.rate_limits.preview = Quota {
            per_minute: 1,
            burst: 2,
        };
    })
    .await;
    let url = format!("{}/metrics", app.address);
    app.post_ok("/metrics", "Ada", "first", None).await;
    let before = scrape(&app, &url).await;
    assert_eq!(get(&before, POSTED), 1.0);
    assert_eq!(get(&before, POSTED_COUNT), 1.0);
    assert_eq!(
        get(&before, r#"kith_comments_posted_total{status="approved"}"#),
        1.0
    );
    assert_eq!(get(&before, "kith_comments_held"), 0.0);
    assert_eq!(get(&before, r#"kith_mail_outbox{status="pending"}"#), 0.0);
    assert_eq!(get(&before, r#"kith_mail_outbox{status="failed"}"#), 0.0);
    assert_eq!(get(&before, "kith_db_pool_max"), 4.0);
    assert!(get(&before, r#"kith_db_pool_connections{state="in_use"}"#) >= 0.0);
    assert!(get(&before, r#"kith_db_pool_connections{state="idle"}"#) >= 0.0);
    assert_eq!(get(&before, "kith_db_pool_waiting"), 0.0);

    // A comment held for review, one classified as spam, a refused preview, an unknown path.
    app.set_settings(|s| s.moderation = ModerationMode::All)
        .await;
    app.post_ok("/metrics", "Bea", "second", None).await;
    let mut spam = json!({"thread_key": "/metrics", "author": "Cy", "email": "cy@example.com",
        "body": "buy now", "hp": "http://spam.example"});
    assert_eq!(app.post_comment(&spam).await.status(), 201);
    spam["body"] = json!("buy again");
    assert_eq!(app.post_comment(&spam).await.status(), 201);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let r = app
            .client
            .post(format!("{}/preview", app.api))
            .json(&json!({"body": "hi"}))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    let refused = statuses.iter().filter(|s| **s == 429).count() as f64;
    let r = app
        .client
        .get(format!("{}/no/such/page/123", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    kith::service::blocking(&app.state, |_, conn| {
        let now = kith::service::now().naive_utc();
        kith::db::mail::insert_outbox(
            conn,
            &kith::db::mail::NewOutboxRow {
                kind: "test",
                recipient: "a@example.com",
                subject: "s",
                body_text: "t",
                body_html: "",
                unsubscribe_url: None,
                sender_name: "kith",
                comment_id: None,
                status: kith::db::mail::PENDING,
                attempts: 0,
                next_attempt_at: now,
                created_at: now,
            },
        )
    })
    .await
    .unwrap();

    let after = scrape(&app, &url).await;
    assert_eq!(get(&after, POSTED), 4.0);
    assert_eq!(get(&after, POSTED_COUNT), 4.0);
    assert!(
        get(
            &after,
            r#"kith_http_request_duration_seconds_sum{method="POST",route="/api/v1/sites/{site}/comments",status="201"}"#
        ) > 0.0
    );
    assert_eq!(
        get(
            &after,
            r#"kith_http_request_duration_seconds_bucket{method="POST",route="/api/v1/sites/{site}/comments",status="201",le="+Inf"}"#
        ),
        4.0
    );
    assert_eq!(
        get(&after, r#"kith_comments_posted_total{status="approved"}"#),
        1.0
    );
    assert_eq!(
        get(&after, r#"kith_comments_posted_total{status="pending"}"#),
        1.0
    );
    assert_eq!(
        get(&after, r#"kith_comments_posted_total{status="spam"}"#),
        2.0
    );
    assert_eq!(get(&after, "kith_comments_held"), 1.0);
    // Four posts one after the other: four transactions of the post writer, one post each.
    assert_eq!(get(&after, "kith_post_batches_total"), 4.0);
    assert_eq!(get(&after, "kith_posts_batched_total"), 4.0);
    assert_eq!(get(&after, "kith_post_batches_failed_total"), 0.0);
    assert_eq!(
        get(&after, r#"kith_rate_limited_total{action="preview"}"#),
        refused
    );
    assert_eq!(
        get(
            &after,
            r#"kith_http_requests_total{method="POST",route="/api/v1/sites/{site}/preview",status="429"}"#
        ),
        refused
    );
    // Unknown paths share one label, so scanners cannot grow the series.
    assert_eq!(
        get(
            &after,
            r#"kith_http_requests_total{method="GET",route="unmatched",status="404"}"#
        ),
        1.0
    );
    assert!(!after.keys().any(|k| k.contains("/no/such/page")));
    assert_eq!(get(&after, r#"kith_mail_outbox{status="pending"}"#), 1.0);
    // The first scrape is counted too.
    assert_eq!(
        get(
            &after,
            r#"kith_http_requests_total{method="GET",route="/metrics",status="200"}"#
        ),
        1.0
    );
}

const PAGES_HIT: &str = r#"kith_cache_lookups_total{cache="pages",result="hit"}"#;
const PAGES_MISS: &str = r#"kith_cache_lookups_total{cache="pages",result="miss"}"#;
const COUNTS_HIT: &str = r#"kith_cache_lookups_total{cache="counts",result="hit"}"#;
const COUNTS_MISS: &str = r#"kith_cache_lookups_total{cache="counts",result="miss"}"#;

/// The page and counts caches count their hits and misses: a page per request, counts per
/// key asked for; a post makes its thread's page and count miss once more, and no other.
async fn cache_hits_and_misses_are_counted(db: Db) {
    let app = spawn_app_with(db, |c| c.metrics.enabled = true).await;
    let url = format!("{}/metrics", app.address);
    let lookups = |samples: &HashMap<String, f64>| {
        [PAGES_HIT, PAGES_MISS, COUNTS_HIT, COUNTS_MISS].map(|series| get(samples, series))
    };
    assert_eq!(lookups(&scrape(&app, &url).await), [0.0; 4]);
    app.post_ok("/cached/", "Ada", "first", None).await;
    for _ in 0..2 {
        assert_eq!(app.thread("/cached/").await["total"], 1);
        assert_eq!(
            app.counts(&["/cached/", "/uncommented/"]).await,
            json!({"/cached/": 1, "/uncommented/": 0})
        );
    }
    assert_eq!(lookups(&scrape(&app, &url).await), [1.0, 1.0, 2.0, 2.0]);
    app.post_ok("/cached/", "Bea", "second", None).await;
    assert_eq!(app.thread("/cached/").await["total"], 2);
    assert_eq!(
        app.counts(&["/cached/", "/uncommented/"]).await,
        json!({"/cached/": 2, "/uncommented/": 0})
    );
    assert_eq!(lookups(&scrape(&app, &url).await), [1.0, 2.0, 3.0, 3.0]);
}

async fn off_by_default(db: Db) {
    let app = spawn_app_with(db, |_| {}).await;
    let r = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

/// With `metrics.listen`, `/metrics` answers there and not on the public port.
async fn separate_listener(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = crate::helpers::test_config(db, &dir);
    config.metrics.enabled = true;
    config.metrics.listen = "127.0.0.1:0".into();
    let app = kith::startup::Application::build(config).await.unwrap();
    let main = format!("http://127.0.0.1:{}", app.port());
    let metrics = format!("http://127.0.0.1:{}", app.metrics_port().unwrap());
    let state = app.state().clone();
    actix_web::rt::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let r = client
        .get(format!("{main}/api/v1/sites/default/settings"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        client
            .get(format!("{main}/metrics"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let r = client
        .get(format!("{metrics}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let samples = parse(&r.text().await.unwrap());
    assert_eq!(
        get(
            &samples,
            r#"kith_http_requests_total{method="GET",route="/api/v1/sites/{site}/settings",status="200"}"#
        ),
        1.0
    );
    assert_eq!(
        client
            .get(format!("{metrics}/api/v1/sites/default/settings"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    if db == Db::Postgres {
        crate::helpers::drop_postgres_database(&state.config.database.url);
    }
}

crate::on_both!(
    counters_move_with_requests,
    cache_hits_and_misses_are_counted,
    off_by_default,
    separate_listener
);
