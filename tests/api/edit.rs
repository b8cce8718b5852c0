//! Authors edit and delete their own comments with the edit token, inside the window.

use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{TestApp, all_ids, assert_error};

async fn patch(app: &TestApp, id: &Value, token: &str, body: &str) -> reqwest::Response {
    app.client
        .patch(format!("{}/comments/{id}", app.api))
        .header("x-edit-token", token)
        .json(&json!({ "body": body }))
        .send()
        .await
        .unwrap()
}

async fn delete(app: &TestApp, id: &Value, token: &str) -> reqwest::Response {
    app.client
        .delete(format!("{}/comments/{id}", app.api))
        .header("x-edit-token", token)
        .send()
        .await
        .unwrap()
}

both_backends! {
    async fn author_edits_with_token(app: TestApp) {
        let posted = app.post_ok("/p/", "Ann", "frist", None).await;
        let token = posted["edit_token"].as_str().unwrap();
        let response = patch(&app, &posted["comment"]["id"], token, "**first**").await;
        assert_eq!(response.status(), 200);
        let edited: Value = response.json().await.unwrap();
        assert_eq!(edited["comment"]["html"], "<p><strong>first</strong></p>\n");
        assert!(edited["comment"]["edited_at"].is_string());
        assert_eq!(app.thread("/p/").await["comments"][0]["body"], "**first**");
    }

    async fn wrong_or_missing_token_is_refused(app: TestApp) {
        let posted = app.post_ok("/p/", "Ann", "mine", None).await;
        let id = &posted["comment"]["id"];
        assert_error(patch(&app, id, "not-the-token", "hacked").await, 403, "invalid_edit_token").await;
        assert_error(delete(&app, id, "not-the-token").await, 403, "invalid_edit_token").await;
        let response = app.client.delete(format!("{}/comments/{id}", app.api)).send().await.unwrap();
        assert_error(response, 403, "invalid_edit_token").await;
        assert_eq!(app.thread("/p/").await["comments"][0]["body"], "mine");
    }

    async fn edit_window_closes(app: TestApp) {
        app.set_settings(|s| s.edit_window_secs = 0).await;
        let posted = app.post_ok("/p/", "Ann", "mine", None).await;
        let token = posted["edit_token"].as_str().unwrap();
        let id = &posted["comment"]["id"];
        assert_error(patch(&app, id, token, "late").await, 403, "edit_window_closed").await;
        assert_error(delete(&app, id, token).await, 403, "edit_window_closed").await;
    }

    async fn a_one_second_edit_window_runs_out(app: TestApp) {
        app.set_settings(|s| s.edit_window_secs = 1).await;
        let posted = app.post_ok("/p/", "Ann", "mine", None).await;
        let token = posted["edit_token"].as_str().unwrap();
        let id = &posted["comment"]["id"];
        let created: chrono::DateTime<chrono::Utc> = posted["comment"]["created_at"].as_str().unwrap().parse().unwrap();
        let until: chrono::DateTime<chrono::Utc> = posted["editable_until"].as_str().unwrap().parse().unwrap();
        assert_eq!(until - created, chrono::Duration::seconds(1), "the window is the site's one second");
        // Wait once until the deadline the server announced has passed (same clock), then ask.
        let left = (until - chrono::Utc::now() + chrono::Duration::milliseconds(20)).to_std().unwrap_or_default();
        tokio::time::sleep(left).await;
        assert!(chrono::Utc::now() > until);
        assert_error(patch(&app, id, token, "late").await, 403, "edit_window_closed").await;
        assert_error(delete(&app, id, token).await, 403, "edit_window_closed").await;
        assert_eq!(app.thread("/p/").await["comments"][0]["body"], "mine");
        // The token itself is good: with a longer window the same edit goes through.
        app.set_settings(|s| s.edit_window_secs = 3600).await;
        assert_eq!(patch(&app, id, token, "in time").await.status(), 200);
    }

    async fn deleting_a_leaf_removes_it(app: TestApp) {
        app.post_ok("/p/", "Ann", "stays", None).await;
        let posted = app.post_ok("/p/", "Bob", "goes", None).await;
        let response = delete(&app, &posted["comment"]["id"], posted["edit_token"].as_str().unwrap()).await;
        assert_eq!(response.status(), 200);
        let thread = app.thread("/p/").await;
        assert_eq!(thread["total"], 1);
        assert_eq!(all_ids(&thread["comments"]).len(), 1);
    }

    async fn deleting_a_comment_with_replies_leaves_a_placeholder(app: TestApp) {
        let parent = app.post_ok("/p/", "Ann", "secret text", None).await;
        let pid = parent["comment"]["id"].as_i64().unwrap();
        app.post_ok("/p/", "Bob", "reply", Some(pid)).await;
        let response = delete(&app, &parent["comment"]["id"], parent["edit_token"].as_str().unwrap()).await;
        assert_eq!(response.status(), 200);
        let thread = app.thread("/p/").await;
        let placeholder = &thread["comments"][0];
        assert_eq!(placeholder["status"], "deleted");
        assert_eq!(placeholder["author"], "");
        assert_eq!(placeholder["html"], "");
        assert!(!thread.to_string().contains("secret text"));
        assert_eq!(placeholder["replies"][0]["author"], "Bob");
        assert_eq!(thread["total"], 1);
    }
}
