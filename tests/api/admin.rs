//! The admin area: access control (sessions, CSRF, throttling, setup), queue actions, search,
//! threads, sites and the dashboard.

use reqwest::Method;
use serde_json::json;

use crate::admin_support::{
    Admin, PASSWORD, client_from, create_admin, login_raw, post, session_cookie,
};
use crate::both_backends;
use crate::helpers::{TestApp, assert_error};

both_backends! {
    async fn admin_api_without_a_session_is_401_and_pages_lead_to_login(app: TestApp) {
        let client = client_from("127.0.0.1");
        for (method, path) in [
            (Method::GET, "/admin/api/comments"),
            (Method::GET, "/admin/api/dashboard"),
            (Method::POST, "/admin/api/comments/moderate"),
            (Method::GET, "/admin/api/bans"),
            (Method::GET, "/admin/api/sites"),
            (Method::POST, "/admin/api/threads/1/close"),
        ] {
            let response = client
                .request(method.clone(), format!("{}{path}", app.address))
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            assert_error(response, 401, "unauthorized").await;
        }
        for path in ["/admin", "/admin/comments", "/admin/bans", "/admin/sites/default"] {
            let response = client.get(format!("{}{path}", app.address)).send().await.unwrap();
            assert_eq!(response.status(), 303, "{path}");
            assert_eq!(response.headers()["location"], "/admin/login");
        }
        let login = client.get(format!("{}/admin/login", app.address)).send().await.unwrap();
        assert_eq!(login.status(), 200);
        let html = login.text().await.unwrap();
        assert!(html.contains("name=\"password\""));
        // A made-up cookie is no session either.
        let response = client
            .get(format!("{}/admin/api/comments", app.address))
            .header("cookie", "kith_admin=0123456789abcdef")
            .send()
            .await
            .unwrap();
        assert_error(response, 401, "unauthorized").await;
    }

    async fn login_sets_a_strict_http_only_cookie_and_wrong_passwords_are_401(app: TestApp) {
        create_admin(&app, "admin").await;
        let wrong = login_raw(&app, "admin", "not the password", "127.0.0.1").await;
        assert!(session_cookie(&wrong).is_none());
        assert_error(wrong, 401, "invalid_credentials").await;
        let unknown = login_raw(&app, "nobody", PASSWORD, "127.0.0.1").await;
        assert_error(unknown, 401, "invalid_credentials").await;
        let ok = login_raw(&app, "admin", PASSWORD, "127.0.0.1").await;
        assert_eq!(ok.status(), 200);
        let header = ok.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(header.contains("HttpOnly"), "{header}");
        assert!(header.contains("SameSite=Strict"), "{header}");
        assert!(header.contains("Path=/admin"), "{header}");
        assert!(!header.contains("Secure"), "plain http is not Secure: {header}");
        let token = header.split(';').next().unwrap().trim_start_matches("kith_admin=").to_string();
        // Only a hash of the token is stored.
        let stored: Vec<String> = {
            use diesel::prelude::*;
            use kith::db::schema::admin_sessions;
            let mut conn = app.state.pool.get().unwrap();
            admin_sessions::table.select(admin_sessions::token_hash).load(&mut conn).unwrap()
        };
        assert_eq!(stored.len(), 1);
        assert_ne!(stored[0], token);
        // The login form refuses a post from another site's page (login CSRF).
        let forged = client_from("127.0.0.1")
            .post(format!("{}/admin/login", app.address))
            .header("origin", "https://evil.example")
            .form(&[("name", "admin"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 403);
        assert!(session_cookie(&forged).is_none());
        let own_origin = app.address.clone();
        let form_login = client_from("127.0.0.1")
            .post(format!("{}/admin/login", app.address))
            .header("origin", own_origin)
            .form(&[("name", "admin"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(form_login.status(), 303);
        assert!(session_cookie(&form_login).is_some());
        let admin = Admin::login_as(&app, "admin").await;
        let me = admin.get("/session").await;
        assert_eq!(me["name"], "admin");
    }

    async fn login_is_throttled_per_account_after_five_failures(app: TestApp) {
        create_admin(&app, "admin").await;
        create_admin(&app, "other").await;
        for i in 0..5 {
            let ip = format!("127.0.1.{}", i + 1);
            let r = login_raw(&app, "admin", "wrong password!", &ip).await;
            assert_eq!(r.status(), 401);
        }
        let r = login_raw(&app, "admin", PASSWORD, "127.0.2.1").await;
        let body = assert_error(r, 429, "login_throttled").await;
        assert!(body["message"].as_str().unwrap().contains("try again"));
        // Another account is not affected.
        let r = login_raw(&app, "other", PASSWORD, "127.0.2.1").await;
        assert_eq!(r.status(), 200);
    }

    async fn login_is_throttled_per_ip_address(app: TestApp) {
        create_admin(&app, "admin").await;
        for i in 0..20 {
            let r = login_raw(&app, &format!("guess{i}"), "wrong password!", "127.0.3.1").await;
            assert_eq!(r.status(), 401);
        }
        let r = login_raw(&app, "admin", PASSWORD, "127.0.3.1").await;
        assert_eq!(r.headers()["retry-after"], "900");
        assert_error(r, 429, "login_throttled").await;
        let r = login_raw(&app, "admin", PASSWORD, "127.0.3.2").await;
        assert_eq!(r.status(), 200, "another address may still log in");
    }

    async fn state_changing_calls_need_the_sessions_csrf_token(app: TestApp) {
        let admin = Admin::login(&app).await;
        let (id, _) = post(&app, "/p/", "Ann", "ann@example.com", "Hello").await;
        let url = format!("{}/comments/moderate", admin.base);
        for token in [None, Some("wrong"), Some("")] {
            let mut request = admin
                .client
                .post(&url)
                .header("cookie", &admin.cookie)
                .json(&json!({ "ids": [id], "action": "spam" }));
            if let Some(token) = token {
                request = request.header("x-csrf-token", token);
            }
            assert_error(request.send().await.unwrap(), 403, "csrf_failed").await;
        }
        // Another session's token does not fit this one.
        let other = Admin::login_as(&app, "admin").await;
        let r = admin
            .client
            .post(&url)
            .header("cookie", &admin.cookie)
            .header("x-csrf-token", &other.csrf)
            .json(&json!({ "ids": [id], "action": "spam" }))
            .send()
            .await
            .unwrap();
        assert_error(r, 403, "csrf_failed").await;
        // Forms too.
        let r = admin
            .form("/admin/comments", &[("csrf", "forged"), ("action", "spam"), ("ids", &id.to_string())])
            .await;
        assert_eq!(r.status(), 403);
        assert!(admin.queue_ids("spam", "").await.is_empty(), "nothing changed");
        let r = admin
            .form("/admin/comments", &[("csrf", &admin.csrf), ("action", "spam"), ("ids", &id.to_string())])
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(admin.queue_ids("spam", "").await, vec![id]);
    }

    async fn an_expired_session_is_refused(app: TestApp) {
        let admin = Admin::login(&app).await;
        admin.get("/comments").await;
        let past = (chrono::Utc::now() - chrono::Duration::minutes(1)).naive_utc();
        kith::service::blocking(&app.state, move |_, conn| {
            kith::db::admins::update_session_expiry(conn, past)
        })
        .await
        .unwrap();
        let r = admin.send(Method::GET, "/comments", None).await;
        assert_error(r, 401, "unauthorized").await;
        let (status, _) = admin.page("/admin/comments").await;
        assert_eq!(status, 303);
    }

    async fn logout_ends_the_session_on_the_server(app: TestApp) {
        let admin = Admin::login(&app).await;
        let r = admin.send(Method::POST, "/logout", None).await;
        assert_eq!(r.status(), 204);
        // The old cookie, replayed, no longer works.
        let r = admin.send(Method::GET, "/comments", None).await;
        assert_error(r, 401, "unauthorized").await;
        // The page form logs out too.
        let again = Admin::login_as(&app, "admin").await;
        let r = again.form("/admin/logout", &[("csrf", &again.csrf)]).await;
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/admin/login");
        let r = again.send(Method::GET, "/comments", None).await;
        assert_error(r, 401, "unauthorized").await;
    }

    async fn changing_the_password_with_the_cli_ends_every_old_session(app: TestApp) {
        use std::io::Write;
        let admin = Admin::login(&app).await;
        let second = Admin::login_as(&app, "admin").await;
        create_admin(&app, "other").await;
        let bystander = Admin::login_as(&app, "other").await;
        admin.get("/comments").await;
        let new_password = "a brand new password";
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kith"))
            .args(["admin", "password", "admin"])
            .env("KITH_DATABASE__URL", &app.state.config.database.url)
            .env("KITH_LOG__LEVEL", "warn")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(format!("{new_password}\n").as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        // Both of the admin's sessions are refused: API, pages and forms.
        for old in [&admin, &second] {
            assert_error(old.send(Method::GET, "/comments", None).await, 401, "unauthorized").await;
            let (status, _) = old.page("/admin/comments").await;
            assert_eq!(status, 303);
            let r = old.form("/admin/bans", &[("csrf", &old.csrf), ("kind", "name"), ("value", "X")]).await;
            assert_eq!(r.status(), 303);
            assert_eq!(r.headers()["location"], "/admin/login");
        }
        assert!(bystander.get("/bans").await["bans"].as_array().unwrap().is_empty(), "no ban was added");
        // Another admin's session is untouched; the old password no longer logs in.
        bystander.get("/comments").await;
        assert_error(login_raw(&app, "admin", PASSWORD, "127.0.0.1").await, 401, "invalid_credentials").await;
        assert_eq!(login_raw(&app, "admin", new_password, "127.0.0.1").await.status(), 200);
    }

    async fn the_setup_link_creates_the_first_admin_once(app: TestApp) {
        let token = kith::service::blocking(&app.state, |_, conn| {
            kith::service::admin::auth::issue_setup_token(conn)
        })
        .await
        .unwrap()
        .expect("no admin yet, so a token");
        let client = client_from("127.0.0.1");
        let bad = client.get(format!("{}/admin/setup?token=nope", app.address)).send().await.unwrap();
        assert_eq!(bad.status(), 403);
        let page = client
            .get(format!("{}/admin/setup?token={token}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("Set up kith"));
        let short = client
            .post(format!("{}/admin/setup", app.address))
            .form(&[("token", token.as_str()), ("name", "owner"), ("password", "short"), ("password2", "short"),
                ("site_name", "Quiet Corner"), ("blog_url", "https://blog.example/about/"), ("display_name", "Jo")])
            .send()
            .await
            .unwrap();
        assert_eq!(short.status(), 422);
        let html = short.text().await.unwrap();
        // What was typed stays (but never a password), and the message uses the form's words.
        for kept in ["value=\"Quiet Corner\"", "value=\"https://blog.example/about/\"", "value=\"owner\"", "value=\"Jo\""] {
            assert!(html.contains(kept), "{kept} in {html}");
        }
        assert!(!html.contains("value=\"short\""));
        let mismatch = client
            .post(format!("{}/admin/setup", app.address))
            .form(&[("token", token.as_str()), ("name", "owner"), ("password", PASSWORD), ("password2", "another long password"),
                ("site_name", "Quiet Corner")])
            .send().await.unwrap();
        assert_eq!(mismatch.status(), 422);
        let html = mismatch.text().await.unwrap();
        assert!(html.contains("Password again: the two passwords differ"), "{html}");
        assert!(!html.contains("password2:"), "no internal field names");
        let form = [("token", token.as_str()), ("name", "owner"), ("password", PASSWORD), ("password2", PASSWORD),
            ("site_name", "Quiet Corner"), ("blog_url", "https://blog.example/about/"), ("display_name", "Jo from Quiet Corner")];
        let done = client.post(format!("{}/admin/setup", app.address)).form(&form).send().await.unwrap();
        assert_eq!(done.status(), 303);
        let cookie = session_cookie(&done).expect("logged in after setup");
        let dashboard = client
            .get(format!("{}/admin", app.address))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(dashboard.status(), 200);
        // The site is named and the blog's origin may show the comments.
        let settings = app.client.get(format!("{}/settings", app.api))
            .header("origin", "https://blog.example").send().await.unwrap();
        assert_eq!(settings.status(), 200);
        let settings: serde_json::Value = settings.json().await.unwrap();
        assert_eq!(settings["name"], "Quiet Corner");
        // Replies from the admin area carry the display name, never the login name.
        let (id, _) = post(&app, "/setup/", "Ann", "ann@example.com", "Hello").await;
        let admin = Admin::login_as(&app, "owner").await;
        let reply = admin.post(&format!("/comments/{id}/reply"), serde_json::json!({"body": "Welcome!"})).await;
        assert_eq!(reply["author"], "Jo from Quiet Corner", "{reply}");
        // Used up.
        let again = client.post(format!("{}/admin/setup", app.address)).form(&form).send().await.unwrap();
        assert_eq!(again.status(), 403);
        let r = login_raw(&app, "owner", PASSWORD, "127.0.0.1").await;
        assert_eq!(r.status(), 200);
        // With an admin, no new setup token is issued.
        let none = kith::service::blocking(&app.state, |_, conn| {
            kith::service::admin::auth::issue_setup_token(conn)
        })
        .await
        .unwrap();
        assert!(none.is_none());
    }

    async fn the_cli_creates_an_admin_with_the_password_from_stdin(app: TestApp) {
        use std::io::Write;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kith"))
            .args(["admin", "create", "cli-admin"])
            .env("KITH_DATABASE__URL", &app.state.config.database.url)
            .env("KITH_LOG__LEVEL", "warn")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(format!("{PASSWORD}\n").as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stdout} {stderr}");
        assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD), "the password is never printed");
        let r = login_raw(&app, "cli-admin", PASSWORD, "127.0.0.1").await;
        assert_eq!(r.status(), 200);
    }

    async fn queue_tabs_show_counts_newest_first_with_every_detail(app: TestApp) {
        let admin = Admin::login(&app).await;
        app.set_settings(|s| s.moderation = kith::domain::site::ModerationMode::All).await;
        let (a, status) = post(&app, "/one/", "Ann", "ann@example.com", "First *held*").await;
        assert_eq!(status, "pending");
        let (b, _) = post(&app, "/two/", "Bob", "bob@example.com", "Second").await;
        let queue = admin.queue("pending", "").await;
        assert_eq!(queue["counts"]["pending"], 2);
        assert_eq!(queue["counts"]["approved"], 0);
        let ids: Vec<i64> = queue["comments"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, vec![b, a], "newest first");
        let first = &queue["comments"][1];
        assert_eq!(first["author"], "Ann");
        assert_eq!(first["email"], "ann@example.com");
        assert_eq!(first["ip"], "127.0.0.1");
        assert_eq!(first["thread_key"], "/one/");
        assert_eq!(first["held_reason"], "all comments are held on this site");
        assert_eq!(first["html"].as_str().unwrap().trim_end(), "<p>First <em>held</em></p>");
        // The page shows the same.
        let (status, html) = admin.page("/admin/comments?status=pending").await;
        assert_eq!(status, 200);
        assert!(html.contains("Held because: all comments are held on this site"));
        assert!(html.contains("ann@example.com") && html.contains("127.0.0.1"));
        assert!(html.contains("<p>First <em>held</em></p>"));
        assert!(html.contains("Pending <span class=\"count\">2</span>"));
    }

    async fn approve_spam_delete_restore_and_bulk_actions_move_comments(app: TestApp) {
        let admin = Admin::login(&app).await;
        app.set_settings(|s| s.moderation = kith::domain::site::ModerationMode::All).await;
        let mut ids = Vec::new();
        for i in 0..4 {
            ids.push(post(&app, "/p/", &format!("Reader {i}"), &format!("r{i}@example.com"), "Hi").await.0);
        }
        assert_eq!(app.thread_or_empty("/p/").await, Vec::<i64>::new());
        admin.moderate(&[ids[0]], "approve").await;
        assert_eq!(app.thread_or_empty("/p/").await, vec![ids[0]], "approved comments are public");
        let changed = admin.moderate(&ids[1..4], "spam").await;
        assert_eq!(changed["changed"], 3);
        assert_eq!(admin.queue_ids("spam", "").await.len(), 3);
        admin.moderate(&[ids[1]], "delete").await;
        assert_eq!(admin.queue_ids("deleted", "").await, vec![ids[1]]);
        admin.moderate(&[ids[1], ids[2]], "restore").await;
        let mut public = app.thread_or_empty("/p/").await;
        public.sort_unstable();
        assert_eq!(public, vec![ids[0], ids[1], ids[2]]);
        let counts = admin.queue("pending", "").await["counts"].clone();
        assert_eq!(counts, json!({"pending": 0, "reported": 0, "approved": 3, "spam": 1, "deleted": 0}));
        // Unknown ids and actions are refused.
        let r = admin.send(Method::POST, "/comments/moderate", Some(json!({"ids": [999999], "action": "approve"}))).await;
        assert_error(r, 404, "comment_not_found").await;
        let r = admin.send(Method::POST, "/comments/moderate", Some(json!({"ids": [ids[0]], "action": "bless"}))).await;
        assert_error(r, 422, "invalid_field").await;
        let r = admin.send(Method::POST, "/comments/moderate", Some(json!({"ids": [], "action": "approve"}))).await;
        assert_error(r, 422, "invalid_field").await;
    }

    async fn pin_edit_and_reply_as_owner_show_in_the_embed(app: TestApp) {
        let admin = Admin::login(&app).await;
        let (first, _) = post(&app, "/p/", "Ann", "ann@example.com", "Old one").await;
        let (second, _) = post(&app, "/p/", "Bob", "bob@example.com", "Newer").await;
        admin.moderate(&[second], "pin").await;
        let thread = app.thread("/p/").await;
        assert_eq!(thread["comments"][0]["id"], second, "pinned comes first");
        assert_eq!(thread["comments"][0]["pinned"], true);
        let edited = admin.send(Method::PATCH, &format!("/comments/{first}"), Some(json!({"body": "Fixed **typo**"}))).await;
        assert_eq!(edited.status(), 200);
        let reply = admin.post(&format!("/comments/{first}/reply"), json!({"body": "Thanks, Ann!"})).await;
        assert_eq!(reply["owner"], true);
        assert_eq!(reply["status"], "approved");
        // No display name chosen: the site's name, never the login name.
        assert_eq!(reply["author"], "kith demo");
        let thread = app.thread("/p/").await;
        let ann = thread["comments"].as_array().unwrap().iter().find(|c| c["id"] == first).unwrap().clone();
        assert_eq!(ann["html"].as_str().unwrap().trim_end(), "<p>Fixed <strong>typo</strong></p>");
        assert_eq!(ann["replies"][0]["owner"], true);
        assert!(ann["replies"][0]["html"].as_str().unwrap().contains("Thanks, Ann!"));
        admin.moderate(&[second], "unpin").await;
        assert_eq!(app.thread("/p/").await["comments"][0]["id"], first);
        // Editing needs a body.
        let r = admin.send(Method::PATCH, &format!("/comments/{first}"), Some(json!({"body": "  "}))).await;
        assert_error(r, 422, "invalid_field").await;
    }

    async fn search_finds_comments_by_text_author_email_ip_and_page(app: TestApp) {
        let admin = Admin::login(&app).await;
        let (a, _) = post(&app, "/recipes/soup/", "Ann Lee", "ann@example.com", "Lovely soup, 100% good").await;
        let (b, _) = post(&app, "/travel/", "Bob", "bob@mail.example", "Nice trip").await;
        let (status, json) = crate::admin_support::post_from(&app, "127.0.0.9", "/travel/", "Cy", "cy@example.com", "From elsewhere").await;
        assert_eq!(status, 201);
        let c = json["comment"]["id"].as_i64().unwrap();
        assert_eq!(admin.queue_ids("approved", "&q=SOUP").await, vec![a]);
        assert_eq!(admin.queue_ids("approved", "&q=100%25").await, vec![a], "LIKE wildcards are literal");
        assert_eq!(admin.queue_ids("approved", "&q=_").await, Vec::<i64>::new());
        assert_eq!(admin.queue_ids("approved", "&author=ann").await, vec![a]);
        assert_eq!(admin.queue_ids("approved", "&email=mail.example").await, vec![b]);
        assert_eq!(admin.queue_ids("approved", "&ip=127.0.0.9").await, vec![c]);
        assert_eq!(admin.queue_ids("approved", "&page=travel").await, vec![c, b]);
        assert_eq!(admin.queue_ids("approved", "&page=travel&author=bob").await, vec![b]);
        assert_eq!(admin.queue_ids("approved", "&site=default&q=trip").await, vec![b]);
        let r = admin.send(Method::GET, "/comments?site=nope", None).await;
        assert_error(r, 404, "site_not_found").await;
        let (status, html) = admin.page("/admin/comments?status=approved&author=ann").await;
        assert_eq!(status, 200);
        assert!(html.contains("Lovely soup") && !html.contains("Nice trip"));
    }

    async fn delete_all_comments_by_an_author(app: TestApp) {
        let admin = Admin::login(&app).await;
        let (a1, _) = post(&app, "/a/", "Troll", "troll@example.com", "one").await;
        let (a2, _) = post(&app, "/b/", "Troll II", "TROLL@example.com", "two").await;
        let (keep, _) = post(&app, "/a/", "Ann", "ann@example.com", "kind words").await;
        let r = admin.post(&format!("/comments/{a1}/delete-by-author"), json!({})).await;
        assert_eq!(r["deleted"], 2);
        let mut deleted = admin.queue_ids("deleted", "").await;
        deleted.sort_unstable();
        assert_eq!(deleted, vec![a1, a2]);
        assert_eq!(admin.queue_ids("approved", "").await, vec![keep]);
    }

    async fn closing_a_thread_stops_new_comments_until_reopened(app: TestApp) {
        let admin = Admin::login(&app).await;
        post(&app, "/p/", "Ann", "ann@example.com", "first").await;
        let threads = admin.get("/threads").await;
        let thread = threads["threads"][0].clone();
        assert_eq!(thread["key"], "/p/");
        assert_eq!(thread["comments"], 1);
        let id = thread["id"].as_i64().unwrap();
        admin.post(&format!("/threads/{id}/close"), json!({})).await;
        assert_eq!(app.thread("/p/").await["thread"]["closed"], true);
        let r = app.post_comment(&json!({"thread_key": "/p/", "author": "Bob", "email": "b@example.com", "body": "late"})).await;
        assert_error(r, 403, "thread_closed").await;
        // The page form reopens it.
        let r = admin.form(&format!("/admin/threads/{id}/closed"), &[("csrf", &admin.csrf), ("closed", "false")]).await;
        assert_eq!(r.status(), 303);
        assert_eq!(app.thread("/p/").await["thread"]["closed"], false);
        post(&app, "/p/", "Bob", "b@example.com", "now open").await;
        let r = admin.send(Method::POST, "/threads/999999/close", None).await;
        assert_error(r, 404, "thread_not_found").await;
    }

    async fn sites_are_created_and_edited_and_changes_apply_at_once(app: TestApp) {
        let admin = Admin::login(&app).await;
        let form = json!({
            "slug": "blog", "name": "My blog", "allowed_origins": "https://blog.example\nhttp://localhost:*",
            "moderation": "all", "edit_window_secs": "600", "max_depth": "3", "require_name": true,
            "require_email": false, "hold_words": "casino\n", "reject_words": "", "max_links": "1",
            "report_threshold": "2", "auto_close_days": "0", "language": "de"
        });
        let created = admin.post("/sites", form.clone()).await;
        assert_eq!(created["slug"], "blog");
        assert_eq!(created["settings"]["max_depth"], 3);
        assert_eq!(created["settings"]["hold_words"], json!(["casino"]));
        let settings: serde_json::Value = app.client.get(format!("{}/api/v1/sites/blog/settings", app.address)).send().await.unwrap().json().await.unwrap();
        assert_eq!(settings["language"], "de");
        assert_eq!(settings["require_email"], false);
        let r = admin.send(Method::POST, "/sites", Some(form.clone())).await;
        assert_error(r, 409, "already_exists").await;
        // Read once so the cache holds the site, then edit: the change shows at once.
        let mut edit = form.clone();
        edit["name"] = json!("Renamed");
        edit["edit_window_secs"] = json!("60");
        let r = admin.send(Method::PUT, "/sites/blog", Some(edit.clone())).await;
        assert_eq!(r.status(), 200);
        let settings: serde_json::Value = app.client.get(format!("{}/api/v1/sites/blog/settings", app.address)).send().await.unwrap().json().await.unwrap();
        assert_eq!(settings["name"], "Renamed");
        assert_eq!(settings["edit_window_secs"], 60);
        for (field, value) in [("max_depth", "0"), ("moderation", "some"), ("allowed_origins", "ftp://x"), ("name", ""), ("report_threshold", "0")] {
            let mut bad = edit.clone();
            bad[field] = json!(value);
            let r = admin.send(Method::PUT, "/sites/blog", Some(bad)).await;
            let body = assert_error(r, 422, "invalid_field").await;
            assert_eq!(body["field"], field);
        }
        let r = admin.send(Method::PUT, "/sites/nope", Some(edit)).await;
        assert_error(r, 404, "site_not_found").await;
        // The page form edits the default site.
        let (status, html) = admin.page("/admin/sites/default").await;
        assert_eq!(status, 200);
        assert!(html.contains("name=\"report_threshold\""));
        assert!(html.contains("name=\"checkboxes\""), "the page sends the whole-form marker");
        let r = admin.form("/admin/sites/default", &[
            ("csrf", &admin.csrf), ("checkboxes", "1"), ("name", "Default"), ("allowed_origins", "http://localhost:*"),
            ("moderation", "first-time"), ("edit_window_secs", "900"), ("max_depth", "5"),
            ("require_name", "on"), ("hold_words", ""), ("reject_words", "spamword"), ("max_links", "2"),
            ("report_threshold", "3"), ("auto_close_days", "0"), ("language", "en"),
        ]).await;
        assert_eq!(r.status(), 303);
        let site = admin.get("/sites/default").await;
        assert_eq!(site["settings"]["reject_words"], json!(["spamword"]));
        assert_eq!(site["settings"]["require_email"], false);
        assert_eq!(site["settings"]["moderation"], "first-time");
    }

    async fn the_dashboard_counts_comments_per_day_and_draws_a_chart(app: TestApp) {
        let admin = Admin::login(&app).await;
        post(&app, "/p/", "Ann", "ann@example.com", "one").await;
        post(&app, "/p/", "Bob", "bob@example.com", "two").await;
        let d = admin.get("/dashboard").await;
        let days = d["per_day"].as_array().unwrap();
        assert_eq!(days.len(), 30);
        assert_eq!(days[29]["day"], chrono::Utc::now().date_naive().to_string());
        assert_eq!(days[29]["comments"], 2);
        assert_eq!(d["counts"]["approved"], 2);
        assert_eq!(d["latest"].as_array().unwrap().len(), 2);
        let (status, html) = admin.page("/admin").await;
        assert_eq!(status, 200);
        assert!(html.contains("<svg role=\"img\""));
        assert_eq!(html.matches("<rect class=\"bar\"").count(), 30);
        assert!(html.contains("2 comments in 30 days"));
    }
}

impl TestApp {
    /// Public comment ids of a thread (empty when it has none yet).
    pub async fn thread_or_empty(&self, key: &str) -> Vec<i64> {
        let response = self.get_thread(&format!("key={key}&limit=100")).await;
        if response.status() == 404 {
            return Vec::new();
        }
        let body: serde_json::Value = response.json().await.unwrap();
        crate::helpers::all_ids(&body["comments"])
            .into_iter()
            .collect()
    }
}

both_backends! {
    async fn the_comment_page_edits_replies_bans_and_deletes_by_author(app: TestApp) {
        let admin = Admin::login(&app).await;
        let (id, _) = post(&app, "/p/", "Mallory", "mallory@example.com", "Firts post").await;
        let (other, _) = post(&app, "/q/", "Mallory", "mallory@example.com", "Again").await;
        let (status, html) = admin.page(&format!("/admin/comments/{id}")).await;
        assert_eq!(status, 200);
        assert!(html.contains("Ban the e-mail mallory@example.com"));
        assert!(html.contains("Ban the IP 127.0.0.1"));
        let r = admin.form(&format!("/admin/comments/{id}/edit"), &[("csrf", &admin.csrf), ("body", "First post")]).await;
        assert_eq!(r.status(), 303);
        let r = admin.form(&format!("/admin/comments/{id}/reply"), &[("csrf", &admin.csrf), ("body", "Welcome!")]).await;
        assert_eq!(r.status(), 303);
        let thread = app.thread("/p/").await;
        assert_eq!(thread["comments"][0]["html"], "<p>First post</p>\n");
        assert_eq!(thread["comments"][0]["replies"][0]["owner"], true);
        let r = admin.form("/admin/bans", &[("csrf", &admin.csrf), ("kind", "name"), ("value", "Mallory"), ("note", "from comment")]).await;
        assert_eq!(r.status(), 303);
        assert_eq!(admin.status(post(&app, "/p/", "mallory", "new@example.com", "x").await.0).await, "spam");
        let r = admin.form(&format!("/admin/comments/{id}/delete-by-author"), &[("csrf", &admin.csrf)]).await;
        assert_eq!(r.status(), 303);
        let mut deleted = admin.queue_ids("deleted", "").await;
        deleted.sort_unstable();
        assert_eq!(deleted, vec![id, other]);
        // A wrong token changes nothing.
        let r = admin.form(&format!("/admin/comments/{other}/edit"), &[("csrf", "nope"), ("body", "hacked")]).await;
        assert_eq!(r.status(), 403);
        assert_eq!(admin.get(&format!("/comments/{other}")).await["body"], "Again");
        let (status, _) = admin.page("/admin/comments/999999").await;
        assert_eq!(status, 404);
    }

    async fn sites_are_created_with_the_page_form(app: TestApp) {
        let admin = Admin::login(&app).await;
        let (status, html) = admin.page("/admin/sites/new").await;
        assert_eq!(status, 200);
        assert!(html.contains("name=\"slug\""));
        let fields = [
            ("csrf", admin.csrf.as_str()), ("slug", "news"), ("name", "News"), ("allowed_origins", "https://news.example"),
            ("moderation", "none"), ("edit_window_secs", "900"), ("max_depth", "5"), ("require_name", "on"),
            ("require_email", "on"), ("hold_words", ""), ("reject_words", ""), ("max_links", "2"),
            ("report_threshold", "3"), ("auto_close_days", "30"), ("language", "en"),
        ];
        let r = admin.form("/admin/sites", &fields).await;
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/admin/sites/news?done=saved");
        assert_eq!(admin.get("/sites/news").await["settings"]["auto_close_days"], 30);
        // A mistake shows the form again with the message.
        let mut bad = fields;
        bad[1] = ("slug", "Bad Slug");
        let r = admin.form("/admin/sites", &bad).await;
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("role=\"alert\""));
    }

    async fn a_partial_site_form_post_keeps_the_checkboxes_it_does_not_send(app: TestApp) {
        let admin = Admin::login(&app).await;
        let boxes = ["require_name", "require_email", "honeypot", "require_form_token", "reactions",
            "anonymous_allowed", "signed_in_skip_moderation"];
        let settings = |site: serde_json::Value| boxes.map(|b| site["settings"][b].as_bool().unwrap());
        app.set_settings(|s| {
            s.require_form_token = true;
            s.signed_in_skip_moderation = true;
        }).await;
        let before = settings(admin.get("/sites/default").await);
        assert_eq!(before, [true; 7]);
        let base = [
            ("csrf", admin.csrf.as_str()), ("name", "Default"), ("allowed_origins", "http://localhost:*"),
            ("moderation", "none"), ("edit_window_secs", "900"), ("max_depth", "5"), ("hold_words", ""),
            ("reject_words", ""), ("max_links", "2"), ("report_threshold", "3"), ("auto_close_days", "0"),
            ("language", "en"),
        ];
        // Without the marker (a script, an older page) an absent box keeps its setting...
        let r = admin.form("/admin/sites/default", &base).await;
        assert_eq!(r.status(), 303);
        assert_eq!(settings(admin.get("/sites/default").await), before);
        assert_eq!(app.post_comment(&json!({"thread_key": "/anon/", "author": "Ann", "email": "ann@example.com", "body": "still open"})).await.status(), 201);
        // ...and a box sent as false, off or 0 turns it off.
        let mut off = base.to_vec();
        off.extend([("anonymous_allowed", "false"), ("reactions", "off"), ("honeypot", "0")]);
        let r = admin.form("/admin/sites/default", &off).await;
        assert_eq!(r.status(), 303);
        assert_eq!(settings(admin.get("/sites/default").await), [true, true, false, true, false, false, true]);
        let r = admin.form("/admin/sites/default", &[base.as_slice(), &[("anonymous_allowed", "on")]].concat()).await;
        assert_eq!(r.status(), 303);
        assert_eq!(settings(admin.get("/sites/default").await), [true, true, false, true, false, true, true]);
        // With the marker the post is the whole page: an unticked box (not sent) is off.
        let mut whole = base.to_vec();
        whole.extend([("checkboxes", "1"), ("require_name", "on"), ("reactions", "on")]);
        let r = admin.form("/admin/sites/default", &whole).await;
        assert_eq!(r.status(), 303);
        assert_eq!(settings(admin.get("/sites/default").await), [true, false, false, false, true, false, false]);
        let refused = app.post_comment(&json!({"thread_key": "/anon/", "author": "Ann", "email": "ann@example.com", "body": "closed now"})).await;
        assert_error(refused, 403, "sign_in_required").await;
        // The page shows what is stored.
        let (_, html) = admin.page("/admin/sites/default").await;
        assert!(html.contains("name=\"require_name\" checked"), "{html}");
        assert!(!html.contains("name=\"anonymous_allowed\" checked"), "{html}");
    }
}

mod secure_cookie {
    use super::*;

    #[actix_web::test]
    async fn the_session_cookie_is_secure_behind_https() {
        let app = crate::helpers::spawn_app_with(crate::helpers::Db::Sqlite, |c| {
            c.server.public_url = "https://comments.example".into();
        })
        .await;
        create_admin(&app, "admin").await;
        let r = login_raw(&app, "admin", PASSWORD, "127.0.0.1").await;
        assert_eq!(r.status(), 200);
        let header = r.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(header.contains("; Secure"), "{header}");
    }
}

both_backends! {
    async fn an_admin_chooses_the_name_readers_see_on_replies(app: TestApp) {
        let admin = Admin::login(&app).await;
        assert_eq!(admin.get("/account").await["display_name"], "");
        let set = admin.send(Method::PUT, "/account", Some(json!({"display_name": "  Jo  "}))).await;
        assert_eq!(set.status(), 200);
        assert_eq!(admin.get("/account").await["display_name"], "Jo");
        let bad = admin.send(Method::PUT, "/account", Some(json!({"display_name": "x".repeat(101)}))).await;
        let body = assert_error(bad, 422, "invalid_field").await;
        assert_eq!(body["field"], "display_name");
        let (id, _) = post(&app, "/acct/", "Ann", "ann@example.com", "Hi").await;
        let reply = admin.post(&format!("/comments/{id}/reply"), json!({"body": "Hello Ann"})).await;
        assert_eq!(reply["author"], "Jo");
        // The page form sets it too; a failed save keeps what was typed.
        let r = admin.form("/admin/account", &[("csrf", &admin.csrf), ("display_name", "Jo B.")]).await;
        assert_eq!(r.status(), 303);
        assert_eq!(admin.get("/account").await["display_name"], "Jo B.");
        let long = "y".repeat(101);
        let r = admin.form("/admin/account", &[("csrf", &admin.csrf), ("display_name", &long)]).await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains(&long) && html.contains("Your name on your replies: must be"), "{html}");
    }
}

both_backends! {
    async fn the_comment_page_approves_spams_and_deletes_and_returns_to_itself(app: TestApp) {
        let admin = Admin::login(&app).await;
        let (id, _) = post(&app, "/p/", "Ann", "ann@example.com", "Hello").await;
        admin.moderate(&[id], "spam").await;
        let (_, html) = admin.page(&format!("/admin/comments/{id}")).await;
        assert!(html.contains(&format!("value=\"approve:{id}\"")), "{html}");
        assert!(html.contains(&format!("value=\"delete:{id}\"")));
        assert!(!html.contains(&format!("value=\"spam:{id}\"")), "a spam comment offers no Spam");
        let back = format!("/admin/comments/{id}");
        for (action, status) in [("approve", "approved"), ("spam", "spam"), ("delete", "deleted")] {
            let row = format!("{action}:{id}");
            let r = admin.form("/admin/comments", &[("csrf", &admin.csrf), ("back", &back), ("row", &row)]).await;
            assert_eq!(r.status(), 303);
            assert_eq!(r.headers()["location"], format!("{back}?done={action}"));
            assert_eq!(admin.status(id).await, status);
        }
        let (_, html) = admin.page(&format!("/admin/comments/{id}?done=delete")).await;
        assert!(html.contains("Deleted."));
        assert!(html.contains(&format!("value=\"restore:{id}\"")));
    }

    async fn the_queue_shows_what_a_reply_answers(app: TestApp) {
        let admin = Admin::login(&app).await;
        let parent = app.post_ok("/p/", "Ann", "First line of Ann\n\nmore text", None).await["comment"]["id"].as_i64().unwrap();
        let reply = app.post_ok("/p/", "Bob", "I agree", Some(parent)).await["comment"]["id"].as_i64().unwrap();
        let (_, html) = admin.page("/admin/comments?status=approved").await;
        let start = html.find(&format!("id=\"c-{reply}\"")).unwrap();
        let end = html[start..].find("</li>").unwrap() + start;
        let row = &html[start..end];
        assert!(row.contains(&format!("In reply to <a href=\"/admin/comments/{parent}\">Ann</a>: <q>First line of Ann</q>")), "{row}");
        assert!(!row.contains("more text"));
        // The top-level comment answers nothing.
        let start = html.find(&format!("id=\"c-{parent}\"")).unwrap();
        let end = html[start..].find("</li>").unwrap() + start;
        assert!(!html[start..end].contains("In reply to"));
        let (_, html) = admin.page(&format!("/admin/comments/{reply}")).await;
        assert!(html.contains("In reply to"));
    }

    async fn the_site_form_names_fields_by_their_labels_and_lists_languages(app: TestApp) {
        let admin = Admin::login(&app).await;
        let (_, html) = admin.page("/admin/sites/new").await;
        assert!(html.contains("<option value=\"de\">Deutsch (German)</option>"), "{html}");
        assert!(html.contains("<option value=\"zh\">"));
        let fields = [
            ("csrf", admin.csrf.as_str()), ("slug", "news"), ("name", "News"), ("allowed_origins", ""),
            ("moderation", "none"), ("edit_window_secs", "900"), ("max_depth", "99"), ("max_links", "2"),
            ("report_threshold", "3"), ("auto_close_days", "0"), ("language", "fr"),
        ];
        let r = admin.form("/admin/sites", &fields).await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("Levels of nesting: must be a whole number from 1 to 20"), "{html}");
        assert!(!html.contains("max_depth:"));
        assert!(html.contains("<option value=\"fr\" selected>"), "the typed language is kept");
    }

    async fn admin_pages_have_a_favicon_and_count_in_words(app: TestApp) {
        let admin = Admin::login(&app).await;
        post(&app, "/p/", "Ann", "ann@example.com", "Hello").await;
        let (_, html) = admin.page("/admin").await;
        assert!(html.contains("<link rel=\"icon\" href=\"/admin/favicon.svg\""));
        assert!(html.contains("1 comment in 30 days; at most 1 comment in a day."), "{html}");
        let icon = reqwest::get(format!("{}/admin/favicon.svg", app.address)).await.unwrap();
        assert_eq!(icon.status(), 200);
        assert_eq!(icon.headers()["content-type"], "image/svg+xml");
        assert!(icon.text().await.unwrap().starts_with("<svg"));
    }
}
