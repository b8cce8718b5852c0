//! Moderation rules applied when a comment is posted, bans, readers' reports, auto-close.

use reqwest::Method;
use serde_json::json;

use crate::admin_support::{Admin, client_from, post, post_from};
use crate::both_backends;
use crate::helpers::{TestApp, assert_error};
use kith::domain::site::ModerationMode;

async fn held_reason(admin: &Admin, id: i64) -> String {
    admin.get(&format!("/comments/{id}")).await["held_reason"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn report_from(app: &TestApp, ip: &str, id: i64) -> reqwest::Response {
    client_from(ip)
        .post(format!("{}/comments/{id}/report", app.api))
        .json(&json!({ "reason": format!("rude ({ip})") }))
        .send()
        .await
        .unwrap()
}

both_backends! {
    async fn modes_none_first_time_and_all(app: TestApp) {
        let admin = Admin::login(&app).await;
        app.set_settings(|s| s.moderation = ModerationMode::None).await;
        assert_eq!(post(&app, "/p/", "Ann", "ann@example.com", "a").await.1, "approved");
        app.set_settings(|s| s.moderation = ModerationMode::FirstTime).await;
        let (held, status) = post(&app, "/p/", "Bob", "bob@example.com", "b").await;
        assert_eq!(status, "pending");
        assert_eq!(held_reason(&admin, held).await, "first comment from this e-mail address");
        assert_eq!(post(&app, "/p/", "Ann", "ANN@example.com", "c").await.1, "approved", "known address");
        admin.moderate(&[held], "approve").await;
        assert_eq!(post(&app, "/p/", "Bob", "bob@example.com", "d").await.1, "approved", "approved once");
        app.set_settings(|s| s.moderation = ModerationMode::All).await;
        let (id, status) = post(&app, "/p/", "Ann", "ann@example.com", "e").await;
        assert_eq!(status, "pending");
        assert_eq!(held_reason(&admin, id).await, "all comments are held on this site");
    }

    async fn more_links_than_allowed_are_held(app: TestApp) {
        let admin = Admin::login(&app).await;
        let two = "see https://a.example and http://b.example";
        assert_eq!(post(&app, "/p/", "Ann", "ann@example.com", two).await.1, "approved");
        let three = "https://a.example https://b.example www.c.example";
        let (id, status) = post(&app, "/p/", "Ann", "ann@example.com", three).await;
        assert_eq!(status, "pending");
        assert_eq!(held_reason(&admin, id).await, "3 links (more than 2)");
        app.set_settings(|s| s.max_links = 0).await;
        let (id, status) = post(&app, "/p/", "Ann", "ann@example.com", "one https://a.example").await;
        assert_eq!(status, "pending");
        assert_eq!(held_reason(&admin, id).await, "1 links (more than 0)");
    }

    async fn hold_words_hold_and_reject_words_go_to_spam(app: TestApp) {
        let admin = Admin::login(&app).await;
        app.set_settings(|s| {
            s.hold_words = vec!["crypto".into()];
            s.reject_words = vec!["cheap pills".into()];
        }).await;
        let (id, status) = post(&app, "/p/", "Ann", "ann@example.com", "All about CRYPTO!").await;
        assert_eq!(status, "pending");
        assert_eq!(held_reason(&admin, id).await, "contains the held word \"crypto\"");
        assert_eq!(post(&app, "/p/", "Ann", "ann@example.com", "cryptography is fun").await.1, "approved", "whole words only");
        let (id, status) = post(&app, "/p/", "Cheap Pills Shop", "x@example.com", "hello").await;
        assert_eq!(status, "pending", "spam looks merely held to its sender");
        assert_eq!(admin.status(id).await, "spam", "the name counts too");
        assert_eq!(held_reason(&admin, id).await, "contains the rejected word \"cheap pills\"");
        assert_eq!(admin.queue_ids("spam", "").await, vec![id]);
        // Spam is never public.
        let thread = app.thread("/p/").await;
        assert!(!crate::helpers::all_ids(&thread["comments"]).contains(&id));
    }

    async fn an_e_mail_ban_sends_new_comments_to_spam_until_lifted(app: TestApp) {
        let admin = Admin::login(&app).await;
        let ban = admin.post("/bans", json!({"kind": "email", "value": "Troll@Example.com", "note": "rude"})).await;
        assert_eq!(ban["value"], "troll@example.com");
        let (id, status) = post(&app, "/p/", "T", "troll@EXAMPLE.com", "hi").await;
        assert_eq!(status, "pending", "spam looks merely held to its sender");
        assert_eq!(admin.status(id).await, "spam");
        assert_eq!(held_reason(&admin, id).await, "banned email: troll@example.com");
        assert_eq!(post(&app, "/p/", "Ann", "ann@example.com", "hi").await.1, "approved");
        let bans = admin.get("/bans").await;
        assert_eq!(bans["bans"].as_array().unwrap().len(), 1);
        assert_eq!(bans["bans"][0]["note"], "rude");
        let r = admin.send(Method::DELETE, &format!("/bans/{}", ban["id"]), None).await;
        assert_eq!(r.status(), 204);
        assert!(admin.get("/bans").await["bans"].as_array().unwrap().is_empty());
        assert_eq!(post(&app, "/p/", "T", "troll@example.com", "hi again").await.1, "approved");
        let r = admin.send(Method::DELETE, "/bans/999999", None).await;
        assert_error(r, 404, "not_found").await;
    }

    async fn ip_bans_match_single_addresses_and_cidr_ranges(app: TestApp) {
        let admin = Admin::login(&app).await;
        admin.post("/bans", json!({"kind": "ip", "value": "127.0.5.7"})).await;
        let (s, j) = post_from(&app, "127.0.5.7", "/p/", "A", "a@example.com", "x").await;
        assert_eq!(s, 201);
        assert_eq!(admin.status(j["comment"]["id"].as_i64().unwrap()).await, "spam");
        let (_, j) = post_from(&app, "127.0.5.8", "/p/", "A", "a@example.com", "x").await;
        assert_eq!(j["comment"]["status"], "approved");
        let range = admin.post("/bans", json!({"kind": "ip", "value": "127.0.6.99/24"})).await;
        assert_eq!(range["value"], "127.0.6.0/24");
        for ip in ["127.0.6.1", "127.0.6.250"] {
            let (_, j) = post_from(&app, ip, "/p/", "B", "b@example.com", "x").await;
            assert_eq!(admin.status(j["comment"]["id"].as_i64().unwrap()).await, "spam", "{ip}");
        }
        let (_, j) = post_from(&app, "127.0.7.1", "/p/", "B", "b@example.com", "x").await;
        assert_eq!(j["comment"]["status"], "approved");
        for bad in ["300.1.1.1", "127.0.0.1/40", "localhost"] {
            let r = admin.send(Method::POST, "/bans", Some(json!({"kind": "ip", "value": bad}))).await;
            let body = assert_error(r, 422, "invalid_field").await;
            assert_eq!(body["field"], "value");
        }
        let r = admin.send(Method::POST, "/bans", Some(json!({"kind": "planet", "value": "x"}))).await;
        assert_error(r, 422, "invalid_field").await;
    }

    async fn name_pattern_bans_match_with_wildcards(app: TestApp) {
        let admin = Admin::login(&app).await;
        admin.post("/bans", json!({"kind": "name", "value": "*casino*"})).await;
        assert_eq!(admin.status(post(&app, "/p/", "Best CASINO bonus", "c@example.com", "x").await.0).await, "spam");
        assert_eq!(post(&app, "/p/", "Cassie", "cassie@example.com", "x").await.1, "approved");
        let r = admin.send(Method::POST, "/bans", Some(json!({"kind": "name", "value": "*"}))).await;
        assert_error(r, 422, "invalid_field").await;
        // The page lists the ban and lifts it with its form.
        let (status, html) = admin.page("/admin/bans").await;
        assert_eq!(status, 200);
        assert!(html.contains("*casino*"));
        let id = admin.get("/bans").await["bans"][0]["id"].as_i64().unwrap();
        let r = admin.form(&format!("/admin/bans/{id}/lift"), &[("csrf", &admin.csrf)]).await;
        assert_eq!(r.status(), 303);
        assert_eq!(post(&app, "/p/", "Best casino bonus", "c@example.com", "x").await.1, "approved");
        // And adds one.
        let r = admin.form("/admin/bans", &[("csrf", &admin.csrf), ("kind", "email"), ("value", "z@example.com"), ("note", "")]).await;
        assert_eq!(r.status(), 303);
        assert_eq!(admin.status(post(&app, "/p/", "Z", "z@example.com", "x").await.0).await, "spam");
    }

    async fn reports_from_distinct_readers_hide_a_comment_at_the_threshold(app: TestApp) {
        let admin = Admin::login(&app).await;
        let (id, _) = post(&app, "/p/", "Ann", "ann@example.com", "controversial").await;
        for ip in ["127.0.8.1", "127.0.8.1", "127.0.8.2"] {
            assert_eq!(report_from(&app, ip, id).await.status(), 200);
        }
        assert!(crate::helpers::all_ids(&app.thread("/p/").await["comments"]).contains(&id), "two readers are not enough");
        let reported = admin.queue("reported", "").await;
        assert_eq!(reported["counts"]["reported"], 1);
        assert_eq!(reported["comments"][0]["id"], id);
        assert_eq!(reported["comments"][0]["reports"], 2, "the same reader counts once");
        assert_eq!(reported["comments"][0]["status"], "approved");
        assert_eq!(report_from(&app, "127.0.8.3", id).await.status(), 200);
        assert!(!crate::helpers::all_ids(&app.thread("/p/").await["comments"]).contains(&id), "hidden at 3");
        let c = admin.get(&format!("/comments/{id}")).await;
        assert_eq!(c["status"], "pending");
        assert_eq!(c["held_reason"], "reported by 3 readers");
        assert_eq!(c["report_reasons"].as_array().unwrap().len(), 3);
        assert_eq!(admin.queue_ids("reported", "").await, vec![id]);
        // The admin decides: approved again, out of the reported tab.
        admin.moderate(&[id], "approve").await;
        assert!(crate::helpers::all_ids(&app.thread("/p/").await["comments"]).contains(&id));
        assert!(admin.queue_ids("reported", "").await.is_empty());
        // Old reports are settled: one new report does not hide it again.
        assert_eq!(report_from(&app, "127.0.8.4", id).await.status(), 200);
        assert!(crate::helpers::all_ids(&app.thread("/p/").await["comments"]).contains(&id));
        assert_eq!(admin.queue_ids("reported", "").await, vec![id]);
        let (status, html) = admin.page("/admin/comments?status=reported").await;
        assert_eq!(status, 200);
        assert!(html.contains("Reported by 1 reader"));
    }

    async fn the_report_threshold_is_a_site_setting(app: TestApp) {
        app.set_settings(|s| s.report_threshold = 1).await;
        let (id, _) = post(&app, "/p/", "Ann", "ann@example.com", "hmm").await;
        assert_eq!(report_from(&app, "127.0.9.1", id).await.status(), 200);
        assert!(!crate::helpers::all_ids(&app.thread("/p/").await["comments"]).contains(&id));
        // A hidden comment cannot be reported again.
        let r = report_from(&app, "127.0.9.2", id).await;
        assert_error(r, 404, "comment_not_found").await;
    }

    async fn threads_close_automatically_after_the_sites_days(app: TestApp) {
        post(&app, "/old/", "Ann", "ann@example.com", "first").await;
        post(&app, "/new/", "Ann", "ann@example.com", "first").await;
        app.set_settings(|s| s.auto_close_days = 7).await;
        let eight_days_ago = (chrono::Utc::now() - chrono::Duration::days(8)).naive_utc();
        {
            use diesel::prelude::*;
            use kith::db::schema::threads;
            let mut conn = app.state.pool.get().unwrap();
            diesel::update(threads::table.filter(threads::key.eq("/old/")))
                .set(threads::created_at.eq(eight_days_ago))
                .execute(&mut conn)
                .unwrap();
        }
        assert_eq!(app.thread("/old/").await["thread"]["closed"], true);
        assert_eq!(app.thread("/new/").await["thread"]["closed"], false);
        let r = app.post_comment(&json!({"thread_key": "/old/", "author": "Bob", "email": "b@example.com", "body": "late"})).await;
        assert_error(r, 403, "thread_closed").await;
        post(&app, "/new/", "Bob", "b@example.com", "in time").await;
        app.set_settings(|s| s.auto_close_days = 0).await;
        post(&app, "/old/", "Bob", "b@example.com", "never closes now").await;
    }
}

both_backends! {
    async fn admin_decisions_teach_the_spam_score(app: TestApp) {
        let admin = Admin::login(&app).await;
        let spam = app.post_ok("/p/", "Seller", "cheap pills at pills.example", None).await;
        let ham = app.post_ok("/p/", "Ann", "thank you for writing this", None).await;
        admin.moderate(&[spam["comment"]["id"].as_i64().unwrap()], "spam").await;
        admin.moderate(&[ham["comment"]["id"].as_i64().unwrap()], "approve").await;
        let docs = kith::service::blocking(&app.state, |state, conn| {
            let site = kith::service::sites::find(state, conn, "default")?;
            let model = kith::db::spam::find_model(conn, site.id, &["pills".to_string()])?;
            Ok((model.spam_docs(), model.ham_docs()))
        })
        .await
        .unwrap();
        // Approving an already published comment teaches nothing; marking spam does.
        assert_eq!(docs, (1, 0));
    }
}
