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
        assert_eq!(app.thread("/p/").await["comments"][0]["html"], "<p><strong>first</strong></p>\n");
    }

    async fn wrong_or_missing_token_is_refused(app: TestApp) {
        let posted = app.post_ok("/p/", "Ann", "mine", None).await;
        let id = &posted["comment"]["id"];
        assert_error(patch(&app, id, "not-the-token", "hacked").await, 403, "invalid_edit_token").await;
        assert_error(delete(&app, id, "not-the-token").await, 403, "invalid_edit_token").await;
        let response = app.client.delete(format!("{}/comments/{id}", app.api)).send().await.unwrap();
        assert_error(response, 403, "invalid_edit_token").await;
        assert_eq!(app.thread("/p/").await["comments"][0]["html"], "<p>mine</p>\n");
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
        assert_eq!(app.thread("/p/").await["comments"][0]["html"], "<p>mine</p>\n");
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

/// The comment's status and held reason as stored.
async fn stored_status(app: &TestApp, id: i64) -> (String, Option<String>) {
    let mut conn = app.state.pool.get().unwrap();
    let row = kith::db::comments::find(&mut conn, kith::domain::comment::CommentId(id))
        .unwrap()
        .unwrap();
    (row.status.as_str().to_owned(), row.held_reason)
}

both_backends! {
    async fn an_edit_that_breaks_the_rules_sends_a_published_comment_back_to_the_queue(app: TestApp) {
        // Published at once, then the site turns to first-time moderation (max_links 2).
        let posted = app.post_ok("/p/", "Ann", "A kind word", None).await;
        app.set_settings(|s| s.moderation = kith::domain::site::ModerationMode::FirstTime).await;
        let id = posted["comment"]["id"].as_i64().unwrap();
        let token = posted["edit_token"].as_str().unwrap();

        // A harmless edit keeps it published.
        let response = patch(&app, &posted["comment"]["id"], token, "A kinder word").await;
        assert_eq!(response.status(), 200);
        assert_eq!(stored_status(&app, id).await.0, "approved");

        let spammy = "Buy https://a.example https://b.example https://c.example now";
        let response = patch(&app, &posted["comment"]["id"], token, spammy).await;
        assert_eq!(response.status(), 200);
        let edited: Value = response.json().await.unwrap();
        assert_eq!(edited["comment"]["status"], "pending", "{edited}");
        let (status, reason) = stored_status(&app, id).await;
        assert_eq!(status, "pending");
        assert_eq!(reason.as_deref(), Some("after an edit: 3 links (more than 2)"));
        assert_eq!(app.thread("/p/").await["total"], 0, "readers no longer see it");

        // Back in the queue, a harmless edit does not publish it again.
        let response = patch(&app, &posted["comment"]["id"], token, "Sorry, only words").await;
        assert_eq!(response.status(), 200);
        assert_eq!(stored_status(&app, id).await.0, "pending");
    }

    async fn an_edit_with_a_reject_word_or_by_a_banned_author_goes_to_spam(app: TestApp) {
        app.set_settings(|s| s.reject_words = vec!["casino".into()]).await;
        let first = app.post_ok("/p/", "Ann", "Nice post", None).await;
        let response = patch(&app, &first["comment"]["id"], first["edit_token"].as_str().unwrap(), "Visit my casino").await;
        assert_eq!(response.status(), 200);
        let (status, reason) = stored_status(&app, first["comment"]["id"].as_i64().unwrap()).await;
        assert_eq!(status, "spam");
        assert_eq!(reason.as_deref(), Some("after an edit: contains the rejected word \"casino\""));

        let second = app.post_ok("/p/", "Bob", "Hello", None).await;
        let mut conn = app.state.pool.get().unwrap();
        diesel::RunQueryDsl::execute(
            diesel::sql_query("INSERT INTO bans (kind, value, note, created_at) VALUES ('email', 'bob@example.com', '', '2024-01-01 00:00:00')"),
            &mut conn,
        ).unwrap();
        drop(conn);
        let response = patch(&app, &second["comment"]["id"], second["edit_token"].as_str().unwrap(), "Hello again").await;
        assert_eq!(response.status(), 200);
        let (status, reason) = stored_status(&app, second["comment"]["id"].as_i64().unwrap()).await;
        assert_eq!(status, "spam");
        assert!(reason.unwrap().starts_with("after an edit: banned email"));
        assert_eq!(app.thread("/p/").await["total"], 0);
    }
}
