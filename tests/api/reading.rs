//! Sorting, counts, likes, preview and settings.

use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{TestApp, assert_error};

both_backends! {
    async fn sorts_oldest_newest_and_top(app: TestApp) {
        let a = app.post_ok("/p/", "A", "a", None).await["comment"]["id"].as_i64().unwrap();
        let b = app.post_ok("/p/", "B", "b", None).await["comment"]["id"].as_i64().unwrap();
        let c = app.post_ok("/p/", "C", "c", None).await["comment"]["id"].as_i64().unwrap();
        app.client.post(format!("{}/comments/{b}/like", app.api)).send().await.unwrap();
        let ids = |v: Value| v["comments"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect::<Vec<_>>();
        assert_eq!(ids(app.get_thread("key=/p/").await.json().await.unwrap()), vec![a, b, c]);
        assert_eq!(ids(app.get_thread("key=/p/&sort=newest").await.json().await.unwrap()), vec![c, b, a]);
        assert_eq!(ids(app.get_thread("key=/p/&sort=top").await.json().await.unwrap()), vec![b, a, c]);
    }

    async fn a_reader_likes_a_comment_once(app: TestApp) {
        let id = app.post_ok("/p/", "A", "a", None).await["comment"]["id"].as_i64().unwrap();
        for _ in 0..3 {
            let response = app.client.post(format!("{}/comments/{id}/like", app.api)).send().await.unwrap();
            assert_eq!(response.status(), 200);
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["likes"], 1);
        }
        assert_eq!(app.thread("/p/").await["comments"][0]["likes"], 1);
    }

    async fn reports_are_accepted_once_per_reader(app: TestApp) {
        let id = app.post_ok("/p/", "A", "a", None).await["comment"]["id"].as_i64().unwrap();
        for _ in 0..2 {
            let response = app.client.post(format!("{}/comments/{id}/report", app.api))
                .json(&json!({"reason": "rude"})).send().await.unwrap();
            assert_eq!(response.status(), 200);
        }
        let count = kith::service::blocking(&app.state, move |_, conn| {
            kith::db::votes::count(conn, kith::domain::comment::CommentId(id), kith::db::votes::VoteKind::Report)
        }).await.unwrap();
        assert_eq!(count, 1);
    }

    async fn counts_many_pages_in_one_request(app: TestApp) {
        app.post_ok("/a/", "A", "1", None).await;
        app.post_ok("/a/", "B", "2", None).await;
        app.post_ok("/b/", "C", "3", None).await;
        let response = app.client.post(format!("{}/counts", app.api))
            .json(&json!({"keys": ["/a/", "/b/", "/none/", "not a key"]})).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["counts"], json!({"/a/": 2, "/b/": 1, "/none/": 0, "not a key": 0}));
        let too_many: Vec<String> = (0..101).map(|i| format!("/{i}/")).collect();
        let response = app.client.post(format!("{}/counts", app.api))
            .json(&json!({"keys": too_many})).send().await.unwrap();
        assert_error(response, 422, "invalid_field").await;
    }

    async fn preview_renders_without_storing(app: TestApp) {
        let response = app.client.post(format!("{}/preview", app.api))
            .json(&json!({"body": "_hi_ <b>x</b>"})).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["html"], "<p><em>hi</em> &lt;b&gt;x&lt;/b&gt;</p>\n");
        let response = app.client.post(format!("{}/preview", app.api))
            .json(&json!({"body": "  "})).send().await.unwrap();
        assert_error(response, 422, "invalid_field").await;
    }

    async fn settings_are_public_and_carry_no_secrets(app: TestApp) {
        let response = app.client.get(format!("{}/settings", app.api)).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["max_depth"], 5);
        assert_eq!(body["edit_window_secs"], 900);
        assert_eq!(body["moderation"], "none");
        assert_eq!(body["limits"]["body"], 10_000);
        assert!(!body.to_string().contains("allowed_origins"));
    }

    async fn thread_html_fragment_renders_for_readers_without_javascript(app: TestApp) {
        let id = app.post_ok("/p/", "Ann <b>", "Hello **world**", None).await["comment"]["id"].as_i64().unwrap();
        app.post_ok("/p/", "Bob", "reply", Some(id)).await;
        let response = app.client.get(format!("{}/thread.html?key=/p/", app.api)).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let html = response.text().await.unwrap();
        assert!(html.contains("2 comments"));
        assert!(html.contains("<strong>world</strong>"));
        assert!(html.contains("Ann &#60;b&#62;") || html.contains("Ann &lt;b&gt;"), "{html}");
        assert!(html.contains(&format!("id=\"comment-{id}\"")));
        assert!(html.contains("kith-replies"));
        let empty = app.client.get(format!("{}/thread.html?key=/none/", app.api)).send().await.unwrap();
        assert_eq!(empty.status(), 200);
        assert!(empty.text().await.unwrap().contains("No comments yet"));
    }
}
