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

    async fn same_origin_requests_need_no_cors(app: TestApp) {
        let response = app.client.get(format!("{}/settings", app.api))
            .header("origin", &app.address).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers().get("access-control-allow-origin").is_none());
    }
}
