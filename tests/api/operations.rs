//! Operations and hardening (issue 13): health endpoints, login throttling under parallel
//! requests, the login rate limit, slow bodies, long addresses, huge bodies, preflights from
//! the server's own origin, and migrations that have not run.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use kith::spam::limiter::Quota;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::admin_support::{Admin, PASSWORD, create_admin};
use crate::both_backends;
use crate::helpers::{Db, TestApp, assert_error, spawn_app_with};

/// Sends `head` and `body` on a fresh connection, then reads until the server closes it.
/// Returns what was read and how long the server took to close.
async fn raw_exchange(app: &TestApp, head: &str, body: &[u8]) -> (String, Duration) {
    let address = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    // The bound only turns a hang into a failure; the test waits for the server to close.
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection")
        .unwrap();
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

fn status_line(answer: &str) -> &str {
    answer.lines().next().unwrap_or("")
}

async fn login_from(app: &TestApp, name: &str, password: &str, ip: &str) -> u16 {
    app.client
        .post(format!("{}/admin/api/login", app.address))
        .header("x-forwarded-for", ip)
        .json(&json!({ "name": name, "password": password }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

/// An app whose requests wait long for a database connection: 40-60 logins at once queue on
/// the throttle's lock, and on a loaded machine the default 2 s wait would answer some of them
/// 503 (overload, which is not what these tests are about).
async fn throttling_app(db: Db) -> TestApp {
    spawn_app_with(db, |config| config.database.acquire_timeout_secs = 120).await
}

async fn parallel_wrong_passwords_for_one_account_reach_the_check_only_up_to_the_limit(db: Db) {
    let app = throttling_app(db).await;
    create_admin(&app, "admin").await;
    let attempts = (0..40).map(|i| {
        let app = &app;
        async move {
            login_from(
                app,
                "admin",
                "wrong password",
                &format!("203.0.113.{}", i + 1),
            )
            .await
        }
    });
    let statuses = join_all(attempts).await;
    let limit = usize::try_from(kith::service::admin::auth::ACCOUNT_LIMIT).unwrap();
    assert_eq!(count(&statuses, 401), limit, "{statuses:?}");
    assert_eq!(count(&statuses, 429), 40 - limit, "{statuses:?}");
    // The right password is throttled too now, from an address that never failed.
    assert_eq!(
        login_from(&app, "admin", PASSWORD, "198.51.100.7").await,
        429
    );
}

async fn parallel_wrong_passwords_from_one_address_reach_the_check_only_up_to_the_limit(db: Db) {
    let app = throttling_app(db).await;
    let attempts = (0..60).map(|i| {
        let app = &app;
        async move { login_from(app, &format!("guess{i}"), "wrong password", "203.0.113.9").await }
    });
    let statuses = join_all(attempts).await;
    let limit = usize::try_from(kith::service::admin::auth::IP_LIMIT).unwrap();
    assert_eq!(count(&statuses, 401), limit, "{statuses:?}");
    assert_eq!(count(&statuses, 429), 60 - limit, "{statuses:?}");
}

crate::on_both!(
    parallel_wrong_passwords_for_one_account_reach_the_check_only_up_to_the_limit,
    parallel_wrong_passwords_from_one_address_reach_the_check_only_up_to_the_limit,
);

both_backends! {
    async fn healthz_and_readyz_answer_ok(app: TestApp) {
        let health = app.client.get(format!("{}/healthz", app.address)).send().await.unwrap();
        assert_eq!(health.status(), 200);
        assert_eq!(health.json::<Value>().await.unwrap(), json!({"status": "ok"}));
        let ready = app.client.get(format!("{}/readyz", app.address)).send().await.unwrap();
        assert_eq!(ready.status(), 200);
        assert_eq!(ready.json::<Value>().await.unwrap(), json!({"status": "ready"}));
    }

    async fn readyz_fails_while_a_migration_has_not_run(app: TestApp) {
        let removed = kith::service::blocking(&app.state, |_, conn| {
            use diesel::RunQueryDsl;
            Ok(diesel::sql_query(
                "DELETE FROM __diesel_schema_migrations WHERE version = \
                 (SELECT MAX(version) FROM __diesel_schema_migrations)",
            )
            .execute(conn)?)
        })
        .await
        .unwrap();
        assert_eq!(removed, 1);
        let ready = app.client.get(format!("{}/readyz", app.address)).send().await.unwrap();
        let body = assert_error(ready, 503, "migrations_pending").await;
        assert!(body["message"].as_str().unwrap().contains("1 database migration"), "{body}");
        let health = app.client.get(format!("{}/healthz", app.address)).send().await.unwrap();
        assert_eq!(health.status(), 200);
    }

    async fn a_correct_password_does_not_count_as_a_failure_of_its_address(app: TestApp) {
        create_admin(&app, "admin").await;
        for _ in 0..kith::service::admin::auth::IP_LIMIT {
            assert_eq!(login_from(&app, "admin", PASSWORD, "203.0.113.5").await, 200);
        }
        assert_eq!(login_from(&app, "admin", PASSWORD, "203.0.113.5").await, 200);
    }

    async fn preflight_from_the_servers_own_origin_is_answered(app: TestApp) {
        let response = app
            .client
            .request(Method::OPTIONS, format!("{}/comments", app.api))
            .header("origin", &app.address)
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
        assert!(response.headers()["allow"].to_str().unwrap().contains("POST"));
    }

    async fn a_method_without_a_route_gets_an_error_in_the_shape_of_its_area(app: TestApp) {
        let response = app.client.put(format!("{}/settings", app.api)).send().await.unwrap();
        assert_error(response, 404, "not_found").await;
        let page = app.client.put(format!("{}/admin/login", app.address)).send().await.unwrap();
        assert_eq!(page.status(), 404);
        assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        // Outside the admin area and the API, too.
        let page = app.client.get(format!("{}/no/such/page", app.address)).send().await.unwrap();
        assert_eq!(page.status(), 404);
        assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(page.headers().contains_key("content-security-policy"));
    }

    async fn a_very_long_address_gets_414_in_the_shape_of_its_area(app: TestApp) {
        let long = "a".repeat(20_000);
        let response = app.client.get(format!("{}/thread?key=/a/&x={long}", app.api)).send().await.unwrap();
        assert_error(response, 414, "uri_too_long").await;
        let response = app.client.get(format!("{}/admin/login?x={long}", app.address)).send().await.unwrap();
        assert_eq!(response.status(), 414);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        // Just under the limit still works.
        let fits = 8192 - "/api/v1/sites/default/thread?key=/a/&x=".len();
        let response = app.client.get(format!("{}/thread?key=/a/&x={}", app.api, "a".repeat(fits))).send().await.unwrap();
        assert_eq!(response.status(), 200, "not refused for its length");
    }

    async fn ten_megabyte_bodies_get_413_as_json_or_as_a_page(app: TestApp) {
        let admin = Admin::login(&app).await;
        let big = vec![b'a'; 10 * 1024 * 1024];
        for (path, json_area) in [
            ("/api/v1/sites/default/comments", true),
            ("/admin/api/comments/moderate", true),
            ("/admin/login", false),
            ("/admin/comments", false),
            ("/mail/unsubscribe/token", false),
            ("/mail/manage/token/delete", false),
        ] {
            let content_type = if json_area { "application/json" } else { "application/x-www-form-urlencoded" };
            let response = app
                .client
                .post(format!("{}{path}", app.address))
                .header("cookie", &admin.cookie)
                .header("x-csrf-token", &admin.csrf)
                .header("origin", &app.address)
                .header("content-type", content_type)
                .body(big.clone())
                .send()
                .await
                .unwrap();
            if json_area {
                assert_error(response, 413, "payload_too_large").await;
            } else {
                assert_eq!(response.status(), 413, "{path}");
                let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
                assert!(content_type.starts_with("text/html"), "{path}: {content_type}");
                assert!(response.text().await.unwrap().contains("payload_too_large"), "{path}");
            }
        }
    }
}

mod login_rate_limit {
    use super::*;

    async fn check(db: Db) {
        let app = spawn_app_with(db, |c| c.rate_limits.login = Quota::new(1, 3)).await;
        create_admin(&app, "admin").await;
        for _ in 0..3 {
            assert_eq!(
                login_from(&app, "admin", "wrong", "203.0.113.20").await,
                401
            );
        }
        let response = app
            .client
            .post(format!("{}/admin/api/login", app.address))
            .header("x-forwarded-for", "203.0.113.20")
            .json(&json!({ "name": "admin", "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert!(response.headers().contains_key("retry-after"));
        assert_error(response, 429, "rate_limited").await;
        // The login page says so too, as a page.
        let page = app
            .client
            .post(format!("{}/admin/login", app.address))
            .header("x-forwarded-for", "203.0.113.20")
            .header("origin", &app.address)
            .form(&[("name", "admin"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 429);
        assert!(page.headers().contains_key("retry-after"));
        assert!(page.text().await.unwrap().contains("too many requests"));
        // Another address is not affected.
        assert_eq!(
            login_from(&app, "admin", PASSWORD, "198.51.100.20").await,
            200
        );
    }

    #[actix_web::test]
    async fn sqlite() {
        check(Db::Sqlite).await;
    }

    #[actix_web::test]
    async fn postgres() {
        check(Db::Postgres).await;
    }
}

mod slow_bodies {
    use super::*;

    async fn check(db: Db) {
        let app = spawn_app_with(db, |c| c.server.body_timeout_secs = 1).await;
        for (path, content_type, json_area) in [
            ("/api/v1/sites/default/comments", "application/json", true),
            ("/admin/login", "application/x-www-form-urlencoded", false),
        ] {
            let head = format!(
                "POST {path} HTTP/1.1\r\nHost: {}\r\nOrigin: {}\r\nContent-Type: {content_type}\r\n\
                 Content-Length: 100\r\n\r\n",
                app.address.trim_start_matches("http://"),
                app.address,
            );
            let (answer, took) = raw_exchange(&app, &head, b"{\"bo").await;
            assert!(
                status_line(&answer).starts_with("HTTP/1.1 408"),
                "{path}: {answer}"
            );
            assert!(
                took >= Duration::from_millis(900),
                "{path}: closed after {took:?}"
            );
            assert!(
                took < Duration::from_secs(8),
                "{path}: closed after {took:?}"
            );
            if json_area {
                assert!(answer.contains("\"error\":\"request_timeout\""), "{answer}");
            } else {
                assert!(
                    answer.to_lowercase().contains("content-type: text/html"),
                    "{answer}"
                );
            }
        }
        // A body that arrives in time is served as usual.
        let body = json!({"body": "*hi*"}).to_string();
        let head = format!(
            "POST /api/v1/sites/default/preview HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let (answer, _) = raw_exchange(&app, &head, body.as_bytes()).await;
        assert!(status_line(&answer).starts_with("HTTP/1.1 200"), "{answer}");
    }

    #[actix_web::test]
    async fn sqlite() {
        check(Db::Sqlite).await;
    }

    #[actix_web::test]
    async fn postgres() {
        check(Db::Postgres).await;
    }
}
