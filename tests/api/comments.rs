//! Posting comments and replies.

use serde_json::json;

use crate::both_backends;
use crate::helpers::{TestApp, all_ids, assert_error};

both_backends! {
    async fn first_comment_creates_the_thread_with_its_title_and_url(app: TestApp) {
        // A page nobody has commented on is an empty thread (200), not an error.
        let empty = app.get_thread("key=/hello/").await;
        assert_eq!(empty.status(), 200);
        let empty: serde_json::Value = empty.json().await.unwrap();
        assert_eq!(empty["total"], 0);
        assert_eq!(empty["comments"], serde_json::json!([]));
        assert_eq!(empty["thread"]["key"], "/hello/");
        let posted = app.post_ok("/hello/", "Ann", "Hello *there*", None).await;
        assert_eq!(posted["comment"]["status"], "approved");
        assert_eq!(posted["comment"]["html"], "<p>Hello <em>there</em></p>\n");
        assert_eq!(posted["comment"]["body"], "Hello *there*");
        assert_eq!(posted["edit_token"].as_str().unwrap().len(), 64);
        let thread = app.thread("/hello/").await;
        assert_eq!(thread["thread"]["title"], "A post");
        assert_eq!(thread["thread"]["url"], "https://blog.example/post/");
        assert_eq!(thread["total"], 1);
        assert_eq!(thread["comments"][0]["author"], "Ann");
    }

    async fn responses_never_carry_email_or_ip(app: TestApp) {
        let posted = app.post_ok("/p/", "Ann", "hi", None).await;
        let thread = app.thread("/p/").await;
        for text in [posted.to_string(), thread.to_string()] {
            assert!(!text.contains("ann@example.com"), "{text}");
            assert!(!text.contains("127.0.0.1"), "{text}");
            assert!(!text.contains("edit_token_hash"), "{text}");
        }
    }

    async fn reply_nests_under_its_parent(app: TestApp) {
        let parent = app.post_ok("/p/", "Ann", "first", None).await["comment"]["id"].as_i64().unwrap();
        let reply = app.post_ok("/p/", "Bob", "reply", Some(parent)).await;
        assert_eq!(reply["comment"]["parent_id"], parent);
        assert_eq!(reply["comment"]["depth"], 1);
        let thread = app.thread("/p/").await;
        assert_eq!(thread["total"], 2);
        assert_eq!(thread["comments"].as_array().unwrap().len(), 1);
        assert_eq!(thread["comments"][0]["replies"][0]["author"], "Bob");
    }

    async fn reply_to_comment_in_other_thread_is_rejected(app: TestApp) {
        let other = app.post_ok("/other/", "Ann", "x", None).await["comment"]["id"].as_i64().unwrap();
        app.post_ok("/p/", "Ann", "y", None).await;
        let response = app
            .post_comment(&json!({"thread_key": "/p/", "parent_id": other, "author": "Bob",
                "email": "bob@example.com", "body": "reply"}))
            .await;
        let body = assert_error(response, 422, "parent_not_found").await;
        assert_eq!(body["field"], "parent_id");
    }

    async fn reply_to_pending_comment_is_rejected(app: TestApp) {
        app.set_settings(|s| s.moderation = kith::domain::site::ModerationMode::All).await;
        let held = app.post_ok("/p/", "Ann", "x", None).await;
        assert_eq!(held["comment"]["status"], "pending");
        let response = app
            .post_comment(&json!({"thread_key": "/p/", "parent_id": held["comment"]["id"],
                "author": "Bob", "email": "bob@example.com", "body": "reply"}))
            .await;
        assert_error(response, 422, "parent_not_found").await;
    }

    async fn replies_past_max_depth_attach_to_the_deepest_allowed_ancestor(app: TestApp) {
        app.set_settings(|s| s.max_depth = 3).await;
        let a = app.post_ok("/p/", "A", "0", None).await["comment"]["id"].as_i64().unwrap();
        let b = app.post_ok("/p/", "B", "1", Some(a)).await["comment"]["id"].as_i64().unwrap();
        let c = app.post_ok("/p/", "C", "2", Some(b)).await;
        assert_eq!(c["comment"]["depth"], 2);
        let c = c["comment"]["id"].as_i64().unwrap();
        let d = app.post_ok("/p/", "D", "3", Some(c)).await;
        assert_eq!(d["comment"]["depth"], 2, "no deeper than max_depth allows");
        assert_eq!(d["comment"]["parent_id"], b, "re-parented to the depth-1 ancestor");
        let thread = app.thread("/p/").await;
        assert_eq!(all_ids(&thread["comments"]).len(), 4);
        assert_eq!(thread["comments"][0]["replies"][0]["replies"].as_array().unwrap().len(), 2);
    }

    async fn first_time_mode_holds_new_authors_and_trusts_approved_ones(app: TestApp) {
        app.set_settings(|s| s.moderation = kith::domain::site::ModerationMode::FirstTime).await;
        let first = app.post_ok("/p/", "Ann", "hello", None).await;
        assert_eq!(first["comment"]["status"], "pending");
        assert_eq!(app.get_thread("key=/p/").await.json::<serde_json::Value>().await.unwrap()["total"], 0);
        kith::service::blocking(&app.state, move |_, conn| {
            use diesel::prelude::*;
            use kith::db::schema::comments;
            diesel::update(comments::table).set(comments::status.eq("approved")).execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
        let second = app.post_ok("/p/", "Ann", "again", None).await;
        assert_eq!(second["comment"]["status"], "approved");
    }

    async fn closed_thread_refuses_comments(app: TestApp) {
        app.post_ok("/p/", "Ann", "x", None).await;
        kith::service::blocking(&app.state, |state, conn| {
            let site = kith::service::sites::find(state, conn, "default")?;
            let key = kith::domain::thread::ThreadKey::parse("/p/", 500).unwrap();
            let thread = kith::db::threads::find_by_key(conn, site.id, &key)?.unwrap();
            kith::db::threads::update_closed(conn, thread.id, true)
        })
        .await
        .unwrap();
        assert_eq!(app.thread("/p/").await["thread"]["closed"], true);
        let response = app
            .post_comment(&json!({"thread_key": "/p/", "author": "Bob", "email": "b@example.com", "body": "x"}))
            .await;
        assert_error(response, 403, "thread_closed").await;
    }

    async fn optional_name_and_email_follow_site_settings(app: TestApp) {
        let response = app.post_comment(&json!({"thread_key": "/p/", "body": "anon"})).await;
        let body = assert_error(response, 422, "invalid_field").await;
        assert_eq!(body["field"], "author");
        app.set_settings(|s| { s.require_name = false; s.require_email = false; }).await;
        let response = app.post_comment(&json!({"thread_key": "/p/", "body": "anon"})).await;
        assert_eq!(response.status(), 201);
    }

    async fn full_urls_and_paths_name_the_same_thread(app: TestApp) {
        app.post_ok("https://blog.example/p/?utm=x#comments", "Ann", "x", None).await;
        app.post_ok("/p/", "Bob", "y", None).await;
        assert_eq!(app.thread("/p/").await["total"], 2);
    }

    async fn ip_and_user_agent_are_erased_after_retention(app: TestApp) {
        app.post_ok("/p/", "Ann", "x", None).await;
        let erased = kith::service::blocking(&app.state, |_, conn| {
            let future = kith::service::now() + chrono::Duration::days(1);
            kith::db::comments::erase_client_data_before(conn, future.naive_utc())
        })
        .await
        .unwrap();
        assert_eq!(erased, 1);
        let ip = kith::service::blocking(&app.state, |_, conn| {
            use diesel::prelude::*;
            use kith::db::schema::comments;
            Ok(comments::table.select(comments::client_ip).first::<Option<String>>(conn)?)
        })
        .await
        .unwrap();
        assert_eq!(ip, None);
    }
}
