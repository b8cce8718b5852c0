//! Bad input gets a clear 4xx JSON error and changes nothing.

use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{TestApp, assert_error};

fn valid() -> Value {
    json!({"thread_key": "/p/", "author": "Ann", "email": "ann@example.com",
           "website": "https://ann.example", "body": "hello"})
}

both_backends! {
    async fn each_bad_field_is_named_in_a_422(app: TestApp) {
        let cases: Vec<(&str, Value)> = vec![
            ("author", json!("")),
            ("author", json!(" Ann")),
            ("author", json!("a".repeat(101))),
            ("author", json!("An\u{0}n")),
            ("email", json!("not-an-address")),
            ("email", json!("")),
            ("website", json!("javascript:alert(1)")),
            ("website", json!("ann.example")),
            ("body", json!("   \n ")),
            ("body", json!("x".repeat(10_001))),
            ("body", json!("nul\u{0}byte")),
            ("thread_key", json!("no-slash")),
            ("thread_title", json!("t".repeat(301))),
            ("thread_url", json!("ftp://x.org/")),
        ];
        for (field, value) in cases {
            let mut body = valid();
            body[field] = value.clone();
            let response = app.post_comment(&body).await;
            let error = assert_error(response, 422, "invalid_field").await;
            assert_eq!(error["field"], field, "for {field} = {value}");
        }
        assert_eq!(app.thread("/p/").await["total"], 0, "nothing was stored");
    }

    async fn malformed_json_is_a_400(app: TestApp) {
        let response = app.client.post(format!("{}/comments", app.api))
            .header("content-type", "application/json")
            .body("{\"thread_key\": ").send().await.unwrap();
        assert_error(response, 400, "malformed_json").await;
        let response = app.client.post(format!("{}/comments", app.api))
            .header("content-type", "application/json")
            .body("{\"thread_key\": 5, \"body\": []}").send().await.unwrap();
        assert_error(response, 400, "malformed_json").await;
    }

    async fn wrong_content_type_is_a_415(app: TestApp) {
        let response = app.client.post(format!("{}/comments", app.api))
            .header("content-type", "text/plain").body("hi").send().await.unwrap();
        assert_error(response, 415, "unsupported_media_type").await;
    }

    async fn oversized_body_is_a_413(app: TestApp) {
        let mut body = valid();
        body["body"] = json!("x".repeat(70_000));
        let response = app.post_comment(&body).await;
        assert_error(response, 413, "payload_too_large").await;
    }

    async fn unknown_site_comment_and_route_are_404s(app: TestApp) {
        let response = app.client.get(format!("{}/api/v1/sites/nope/settings", app.address)).send().await.unwrap();
        assert_error(response, 404, "site_not_found").await;
        let response = app.client.post(format!("{}/comments/999999/like", app.api)).send().await.unwrap();
        assert_error(response, 404, "comment_not_found").await;
        let response = app.client.get(format!("{}/api/v1/nothing", app.address)).send().await.unwrap();
        assert_error(response, 404, "not_found").await;
        let response = app.client.post(format!("{}/comments/abc/like", app.api)).send().await.unwrap();
        assert_error(response, 404, "not_found").await;
    }

    async fn bad_query_strings_are_400s(app: TestApp) {
        app.post_ok("/p/", "Ann", "x", None).await;
        assert_error(app.get_thread("key=/p/&sort=sideways").await, 400, "malformed_query").await;
        assert_error(app.get_thread("key=/p/&limit=0").await, 400, "malformed_query").await;
        assert_error(app.get_thread("key=/p/&cursor=garbage").await, 400, "malformed_query").await;
        assert_error(app.get_thread("sort=top").await, 400, "malformed_query").await;
        let error = assert_error(app.get_thread("key=nope").await, 422, "invalid_field").await;
        assert_eq!(error["field"], "key");
    }
}
