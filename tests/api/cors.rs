//! Cross-origin requests are answered only for the site's allowed origins.

use crate::both_backends;
use crate::helpers::{TestApp, assert_error};

both_backends! {
    async fn preflight_from_an_allowed_origin_is_answered(app: TestApp) {
        let response = app.client.request(reqwest::Method::OPTIONS, format!("{}/comments", app.api))
            .header("origin", "http://localhost:4000")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send().await.unwrap();
        assert_eq!(response.status(), 204);
        let h = response.headers();
        assert_eq!(h["access-control-allow-origin"], "http://localhost:4000");
        assert!(h["access-control-allow-methods"].to_str().unwrap().contains("PATCH"));
        assert!(h["access-control-allow-headers"].to_str().unwrap().contains("x-edit-token"));
    }

    async fn other_origins_are_refused(app: TestApp) {
        // A preflight gets no CORS headers: nothing that needs one goes through.
        let response = app.client.request(reqwest::Method::OPTIONS, format!("{}/comments", app.api))
            .header("origin", "https://evil.example")
            .header("access-control-request-method", "POST")
            .send().await.unwrap();
        assert!(response.headers().get("access-control-allow-origin").is_none());
        assert_error(response, 403, "origin_not_allowed").await;
        // A simple request gets a 403 that the page can read, so the embed can say what to do.
        for path in ["settings", "thread?key=/a/"] {
            let response = app.client.get(format!("{}/{path}", app.api))
                .header("origin", "https://blog.example").send().await.unwrap();
            assert_eq!(response.headers()["access-control-allow-origin"], "https://blog.example");
            let body = assert_error(response, 403, "origin_not_allowed").await;
            assert!(body["message"].as_str().unwrap().contains("https://blog.example"), "{body}");
        }
        let response = app.client.post(format!("{}/comments", app.api))
            .header("origin", "https://blog.example")
            .json(&serde_json::json!({"thread_key": "/a/", "author": "A", "body": "hi"}))
            .send().await.unwrap();
        assert_error(response, 403, "origin_not_allowed").await;
        assert_eq!(app.thread("/a/").await["total"], 0, "nothing was stored");
    }

    async fn allowed_cross_origin_requests_carry_cors_headers(app: TestApp) {
        let response = app.client.get(format!("{}/settings", app.api))
            .header("origin", "http://localhost:4000").send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["access-control-allow-origin"], "http://localhost:4000");
        assert_eq!(response.headers()["vary"], "Origin");
    }

    async fn an_unknown_site_is_a_readable_404_for_any_page(app: TestApp) {
        let response = app.client.get(format!("{}/api/v1/sites/nope/settings", app.address))
            .header("origin", "https://blog.example").send().await.unwrap();
        assert_eq!(response.headers()["access-control-allow-origin"], "https://blog.example");
        assert_error(response, 404, "site_not_found").await;
        let preflight = app.client.request(reqwest::Method::OPTIONS, format!("{}/api/v1/sites/nope/comments", app.address))
            .header("origin", "https://blog.example")
            .header("access-control-request-method", "POST").send().await.unwrap();
        assert!(preflight.headers().get("access-control-allow-origin").is_none());
    }

    async fn same_origin_requests_need_no_cors(app: TestApp) {
        let response = app.client.get(format!("{}/settings", app.api))
            .header("origin", &app.address).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers().get("access-control-allow-origin").is_none());
    }
}

/// Error answers reach an allowed page's script: the embed can show what went wrong.
async fn error_responses_carry_cors_headers_for_an_allowed_origin(db: crate::helpers::Db) {
    let app = crate::helpers::spawn_app_with(db, |config| {
        config.rate_limits.post = kith::spam::limiter::Quota::new(1, 1);
        config.server.trusted_proxies = Vec::new();
    })
    .await;
    let origin = "http://localhost:4000";
    let client = &app.client;
    let huge = "x".repeat(70_000);
    let cases: Vec<(u16, &str, reqwest::RequestBuilder)> = vec![
        (404, "comment_not_found", client.post(format!("{}/comments/999999/like", app.api))),
        (404, "not_found", client.get(format!("{}/nothing-here", app.api))),
        (422, "invalid_field", client.post(format!("{}/preview", app.api))
            .json(&serde_json::json!({"body": "  "}))),
        (413, "payload_too_large", client.post(format!("{}/comments", app.api))
            .json(&serde_json::json!({"thread_key": "/c/", "author": "A", "body": huge}))),
        (201, "", client.post(format!("{}/comments", app.api))
            .json(&serde_json::json!({"thread_key": "/c/", "author": "A", "email": "a@example.com", "body": "first"}))),
        (429, "rate_limited", client.post(format!("{}/comments", app.api))
            .json(&serde_json::json!({"thread_key": "/c/", "author": "A", "email": "a@example.com", "body": "second"}))),
    ];
    for (status, code, request) in cases {
        let response = request.header("origin", origin).send().await.unwrap();
        assert_eq!(
            response
                .headers()
                .get("access-control-allow-origin")
                .map(|v| v.to_str().unwrap()),
            Some(origin),
            "{status} {code}"
        );
        if status == 429 {
            let exposed = response.headers()["access-control-expose-headers"]
                .to_str()
                .unwrap();
            assert!(exposed.to_lowercase().contains("retry-after"), "{exposed}");
        }
        if code.is_empty() {
            assert_eq!(response.status(), status);
        } else {
            assert_error(response, status, code).await;
        }
    }
}

#[actix_web::test]
async fn error_responses_carry_cors_headers_for_an_allowed_origin_sqlite() {
    error_responses_carry_cors_headers_for_an_allowed_origin(crate::helpers::Db::Sqlite).await;
}

#[actix_web::test]
async fn error_responses_carry_cors_headers_for_an_allowed_origin_postgres() {
    error_responses_carry_cors_headers_for_an_allowed_origin(crate::helpers::Db::Postgres).await;
}
