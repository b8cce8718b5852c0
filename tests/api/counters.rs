//! Comment counts come from a counter each thread keeps (`threads.approved_count`), changed in
//! the transaction of every change of a comment's status: after each kind of change, every
//! thread's counter equals a count of its approved comments, and the counts endpoint, the
//! thread page's total and the admin threads list say the same.

use futures_util::future::join_all;
use kith::domain::site::ModerationMode;
use serde_json::{Value, json};

use crate::admin_support::Admin;
use crate::both_backends;
use crate::helpers::{Db, TestApp, spawn_app_with};

fn id(posted: &Value) -> i64 {
    posted["comment"]["id"].as_i64().unwrap()
}

fn token(posted: &Value) -> &str {
    posted["edit_token"].as_str().unwrap()
}

/// The counts endpoint's number for one key, checked against the scan of every thread.
async fn count(app: &TestApp, key: &str) -> i64 {
    app.assert_counters_match_scan();
    app.counts(&[key]).await[key].as_i64().unwrap()
}

async fn moderate_one(admin: &Admin, id: i64, action: &str) {
    admin.moderate(&[id], action).await;
}

async fn author_delete(app: &TestApp, posted: &Value) {
    let response = app
        .client
        .delete(format!("{}/comments/{}", app.api, id(posted)))
        .header("x-edit-token", token(posted))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}

async fn author_edit(app: &TestApp, posted: &Value, body: &str) {
    let response = app
        .client
        .patch(format!("{}/comments/{}", app.api, id(posted)))
        .header("x-edit-token", token(posted))
        .json(&json!({ "body": body }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

both_backends! {
    async fn posting_counts_approved_comments_and_not_held_ones(app: TestApp) {
        app.post_ok("/p/", "Ann", "one", None).await;
        let first = app.post_ok("/p/", "Bob", "two", None).await;
        app.post_ok("/p/", "Cy", "reply", Some(id(&first))).await;
        assert_eq!(count(&app, "/p/").await, 3);
        app.set_settings(|s| s.moderation = ModerationMode::All).await;
        let held = app.post_ok("/p/", "Dee", "held", None).await;
        assert_eq!(held["comment"]["status"], "pending");
        assert_eq!(count(&app, "/p/").await, 3);
        assert_eq!(app.thread("/p/").await["total"], 3);
        assert_eq!(app.counts(&["/p/", "/none/"]).await, json!({"/p/": 3, "/none/": 0}));
    }

    async fn counter_follows_every_moderation_action(app: TestApp) {
        let admin = Admin::login(&app).await;
        app.set_settings(|s| s.moderation = ModerationMode::All).await;
        let mut held = Vec::new();
        for i in 0..4 {
            held.push(id(&app.post_ok("/m/", &format!("A{i}"), "text", None).await));
        }
        assert_eq!(count(&app, "/m/").await, 0);
        admin.moderate(&held, "approve").await;
        assert_eq!(count(&app, "/m/").await, 4);
        // Approving what is approved already counts nothing twice.
        admin.moderate(&held[..2], "approve").await;
        assert_eq!(count(&app, "/m/").await, 4);
        admin.moderate(&held[..1], "spam").await;
        assert_eq!(count(&app, "/m/").await, 3);
        admin.moderate(&held[1..2], "delete").await;
        assert_eq!(count(&app, "/m/").await, 2);
        // Spam of a deleted one changes no count.
        admin.moderate(&held[1..2], "spam").await;
        assert_eq!(count(&app, "/m/").await, 2);
        admin.moderate(&held[..2], "restore").await;
        assert_eq!(count(&app, "/m/").await, 4);
        admin.moderate(&held, "pin").await;
        admin.moderate(&held, "unpin").await;
        assert_eq!(count(&app, "/m/").await, 4);
        // The owner's reply is published at once.
        admin.post(&format!("/comments/{}/reply", held[0]), json!({"body": "Thanks"})).await;
        assert_eq!(count(&app, "/m/").await, 5);
        let threads = admin.get("/threads").await;
        let listed = threads["threads"].as_array().unwrap().iter()
            .find(|t| t["key"] == "/m/").cloned().unwrap_or_else(|| panic!("{threads}"));
        assert_eq!(listed["comments"], 5, "{listed}");
    }

    async fn bulk_moderation_across_threads_and_delete_by_author(app: TestApp) {
        let admin = Admin::login(&app).await;
        let mut ids = Vec::new();
        for i in 0..6 {
            let key = format!("/b{}/", i % 3);
            ids.push(id(&app.post_ok(&key, "Same Author", &format!("text {i}"), None).await));
        }
        app.post_ok("/b0/", "Other", "stays", None).await;
        assert_eq!(count(&app, "/b0/").await, 3);
        admin.moderate(&ids[..4], "spam").await;
        assert_eq!(app.counts(&["/b0/", "/b1/", "/b2/"]).await, json!({"/b0/": 1, "/b1/": 1, "/b2/": 1}));
        app.assert_counters_match_scan();
        admin.moderate(&ids, "approve").await;
        assert_eq!(app.counts(&["/b0/", "/b1/", "/b2/"]).await, json!({"/b0/": 3, "/b1/": 2, "/b2/": 2}));
        admin.post(&format!("/comments/{}/delete-by-author", ids[0]), json!({})).await;
        assert_eq!(app.counts(&["/b0/", "/b1/", "/b2/"]).await, json!({"/b0/": 1, "/b1/": 0, "/b2/": 0}));
        app.assert_counters_match_scan();
    }

    async fn counter_follows_the_authors_own_deletes_and_edits(app: TestApp) {
        let parent = app.post_ok("/e/", "Ann", "parent", None).await;
        let reply = app.post_ok("/e/", "Bob", "reply", Some(id(&parent))).await;
        let leaf = app.post_ok("/e/", "Cy", "leaf", None).await;
        let edited = app.post_ok("/e/", "Dee", "fine words", None).await;
        assert_eq!(count(&app, "/e/").await, 4);
        author_delete(&app, &leaf).await;
        assert_eq!(count(&app, "/e/").await, 3);
        // With a reply it stays as a placeholder, which is not counted.
        author_delete(&app, &parent).await;
        assert_eq!(count(&app, "/e/").await, 2);
        author_edit(&app, &reply, "still fine").await;
        assert_eq!(count(&app, "/e/").await, 2);
        app.set_settings(|s| s.hold_words = vec!["casino".into()]).await;
        author_edit(&app, &edited, "visit my casino").await;
        assert_eq!(count(&app, "/e/").await, 1);
        author_delete(&app, &edited).await;
        assert_eq!(count(&app, "/e/").await, 1);
        author_delete(&app, &reply).await;
        assert_eq!(count(&app, "/e/").await, 0);
        assert_eq!(app.thread("/e/").await["total"], 0);
    }

    async fn reports_past_the_threshold_take_a_comment_out_of_the_count(app: TestApp) {
        app.set_settings(|s| s.report_threshold = 2).await;
        let posted = app.post_ok("/r/", "Ann", "text", None).await;
        app.post_ok("/r/", "Bob", "text", None).await;
        // The second report holds it (a held comment cannot be reported any more).
        for reader in ["198.51.100.1", "198.51.100.2"] {
            let response = app.client
                .post(format!("{}/comments/{}/report", app.api, id(&posted)))
                .header("x-forwarded-for", reader)
                .json(&json!({"reason": "rude"}))
                .send().await.unwrap();
            assert!(response.status().is_success(), "{}", response.status());
        }
        assert_eq!(count(&app, "/r/").await, 1);
    }

    async fn an_import_counts_what_it_adds(app: TestApp) {
        app.post_ok("/i/", "Ann", "before", None).await;
        // Both counts are kept (the second as a page without comments) before the import.
        assert_eq!(app.counts(&["/i/", "/i-new/"]).await, json!({"/i/": 1, "/i-new/": 0}));
        let mut conn = app.state.pool.get().unwrap();
        let data = kith::import::ImportData {
            threads: vec![
                kith::import::ImportThread {
                    key: "/i/".into(),
                    url: None,
                    title: None,
                    closed: false,
                    comments: ["approved", "pending", "approved", "spam", "deleted", "approved"]
                        .iter()
                        .enumerate()
                        .map(|(i, status)| imported(i, status))
                        .collect(),
                },
                kith::import::ImportThread {
                    key: "/i-new/".into(),
                    url: None,
                    title: None,
                    closed: false,
                    comments: vec![imported(10, "approved"), imported(11, "pending")],
                },
            ],
            ..kith::import::ImportData::default()
        };
        let site = kith::service::sites::find(&app.state, &mut conn, "default").unwrap();
        kith::service::import::import_data(
            &app.state,
            &mut conn,
            &site,
            kith::import::Format::Kith,
            data,
            &kith::service::import::ImportOptions::default(),
        )
        .unwrap();
        drop(conn);
        assert_eq!(count(&app, "/i/").await, 4);
        assert_eq!(count(&app, "/i-new/").await, 1);
    }
}

fn imported(i: usize, status: &str) -> kith::import::ImportComment {
    use kith::import::CommentStatus;
    kith::import::ImportComment {
        reactions: Default::default(),
        source_id: format!("c{i}"),
        parent_source_id: None,
        author: format!("Imported {i}"),
        email: None,
        website: None,
        ip: None,
        user_agent: None,
        created_at: chrono::Utc::now(),
        edited_at: None,
        body: kith::import::ImportBody::Markdown(format!("imported {i}")),
        rendered_html: None,
        status: match status {
            "approved" => CommentStatus::Approved,
            "pending" => CommentStatus::Pending,
            "spam" => CommentStatus::Spam,
            _ => CommentStatus::Deleted,
        },
        kind: kith::import::CommentKind::Comment,
        likes: 0,
        pinned: false,
        owner: false,
        notify_replies: false,
        held_reason: None,
    }
}

async fn concurrent_posts_and_moderation_end_with_the_exact_count(db: Db) {
    // Many requests wait for a connection at once on two shared cores: a bound, not a wait.
    let app = spawn_app_with(db, |c| {
        c.database.pool_size = 8;
        c.database.acquire_timeout_secs = 60;
    })
    .await;
    let admin = Admin::login(&app).await;
    let seeded: Vec<i64> = join_all((0..10).map(|i| {
        let app = &app;
        async move { id(&app.post_ok("/c/", &format!("Seed {i}"), "seed", None).await) }
    }))
    .await;
    let posts = (0..40).map(|i| {
        let app = &app;
        async move {
            app.post_ok("/c/", &format!("Writer {i}"), &format!("text {i}"), None)
                .await;
        }
    });
    // Each seeded comment is marked spam by two racing requests, then approved by two.
    let twice: Vec<i64> = seeded.iter().flat_map(|c| [*c, *c]).collect();
    let moderation = join_all(twice.iter().map(|c| moderate_one(&admin, *c, "spam")));
    futures_util::future::join(join_all(posts), moderation).await;
    assert_eq!(count(&app, "/c/").await, 40);
    join_all(twice.iter().map(|c| moderate_one(&admin, *c, "approve"))).await;
    assert_eq!(count(&app, "/c/").await, 50);
    assert_eq!(app.thread("/c/").await["total"], 50);
}

crate::each_on_both_backends!(concurrent_posts_and_moderation_end_with_the_exact_count);
