//! The rendered-page cache and the change bus: ETags and 304s, gzip and brotli, a cached page
//! dropped by every kind of write that changes what readers see, nothing per reader shared,
//! bounded memory, and two applications on one PostgreSQL (a write on one is readable on the
//! other at once; the other's cache is dropped when the database restarts).

use std::io::Read;
use std::time::Duration;

use kith::changes::{self, Change};
use kith::domain::site::ModerationMode;
use reqwest::Method;
use serde_json::{Value, json};

use crate::admin_support::Admin;
use crate::helpers::{Db, TestApp, all_ids, spawn_app_with};
use crate::pg_cluster::Cluster;

/// How long an announcement may take to cross to another application (a bound, not a wait).
const CROSS_LIMIT: Duration = Duration::from_secs(20);

async fn get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app.client.get(format!("{}{path}", app.api));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(bytes, 4096)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The thread at `key` as readers see it now (the cache is filled by the first read).
async fn thread(app: &TestApp, key: &str) -> Value {
    app.thread(key).await
}

fn first(thread: &Value) -> &Value {
    &thread["comments"][0]
}

async fn patch_own(app: &TestApp, id: i64, token: &str, body: &str) -> reqwest::Response {
    app.client
        .patch(format!("{}/comments/{id}", app.api))
        .header("x-edit-token", token)
        .json(&json!({ "body": body }))
        .send()
        .await
        .unwrap()
}

crate::both_backends! {
    async fn a_thread_page_answers_304_to_its_etag_until_the_thread_changes(app: TestApp) {
        app.post_ok("/etag/", "Ann", "First", None).await;
        let response = get(&app, "/thread?key=/etag/", &[]).await;
        assert_eq!(response.status(), 200);
        let etag = header(&response, "etag");
        assert!(etag.starts_with('"') && etag.ends_with('"'), "a strong ETag: {etag}");
        assert_eq!(header(&response, "cache-control"), "no-cache");
        assert!(header(&response, "vary").contains("Accept-Encoding"));

        let again = get(&app, "/thread?key=/etag/", &[("if-none-match", &etag)]).await;
        assert_eq!(again.status(), 304);
        assert_eq!(header(&again, "etag"), etag);
        assert!(again.bytes().await.unwrap().is_empty());
        // Another format of the same thread is another representation.
        let other = get(&app, "/thread.html?key=/etag/", &[("if-none-match", &etag)]).await;
        assert_eq!(other.status(), 200);

        app.post_ok("/etag/", "Bo", "Second", None).await;
        let changed = get(&app, "/thread?key=/etag/", &[("if-none-match", &etag)]).await;
        assert_eq!(changed.status(), 200);
        assert_ne!(header(&changed, "etag"), etag);
        let body: Value = changed.json().await.unwrap();
        assert_eq!(body["total"], 2);
    }

    async fn gzip_and_brotli_pages_decompress_to_the_identity_page(app: TestApp) {
        for n in 0..10 {
            app.post_ok("/enc/", "Ann", &format!("comment {n} with some words to compress"), None).await;
        }
        for path in ["/thread?key=/enc/", "/thread.html?key=/enc/"] {
            let plain = get(&app, path, &[]).await;
            assert_eq!(header(&plain, "content-encoding"), "");
            let plain_tag = header(&plain, "etag");
            let plain = plain.bytes().await.unwrap().to_vec();
            assert!(plain.len() > 1000);

            let gz = get(&app, path, &[("accept-encoding", "gzip")]).await;
            assert_eq!(header(&gz, "content-encoding"), "gzip");
            let gz_tag = header(&gz, "etag");
            let gz = gz.bytes().await.unwrap().to_vec();
            assert!(gz.len() < plain.len());
            assert_eq!(gunzip(&gz), plain);

            let br = get(&app, path, &[("accept-encoding", "gzip, deflate, br")]).await;
            assert_eq!(header(&br, "content-encoding"), "br");
            let br_tag = header(&br, "etag");
            let br = br.bytes().await.unwrap().to_vec();
            assert!(br.len() < plain.len());
            assert_eq!(unbrotli(&br), plain);

            // Each encoding has its own strong ETag, and each revalidates.
            assert!(plain_tag != gz_tag && gz_tag != br_tag && plain_tag != br_tag);
            let revalidated = get(&app, path, &[("accept-encoding", "br"), ("if-none-match", &br_tag)]).await;
            assert_eq!(revalidated.status(), 304);
            let refused = get(&app, path, &[("accept-encoding", "br;q=0, gzip;q=0")]).await;
            assert_eq!(header(&refused, "content-encoding"), "");
        }
    }

    async fn other_api_json_is_compressed_when_asked(app: TestApp) {
        let keys: Vec<String> = (0..100).map(|n| format!("/a-long-page-path-number-{n}/")).collect();
        let response = app
            .client
            .post(format!("{}/counts", app.api))
            .header("accept-encoding", "br")
            .json(&json!({ "keys": keys }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "content-encoding"), "br");
        let body: Value = serde_json::from_slice(&unbrotli(&response.bytes().await.unwrap())).unwrap();
        assert_eq!(body["counts"].as_object().unwrap().len(), 100);
    }

    async fn the_thread_json_carries_no_markdown_source_but_its_author_can_fetch_it(app: TestApp) {
        let posted = app.post_ok("/src/", "Ann", "Some *markdown*", None).await;
        let id = posted["comment"]["id"].as_i64().unwrap();
        let token = posted["edit_token"].as_str().unwrap();
        let page = thread(&app, "/src/").await;
        assert!(first(&page).get("body").is_none(), "{page}");
        assert!(first(&page).get("depth").is_none(), "{page}");
        assert!(first(&page)["html"].as_str().unwrap().contains("<em>markdown</em>"));

        let source = app
            .client
            .get(format!("{}/comments/{id}/source", app.api))
            .header("x-edit-token", token)
            .send()
            .await
            .unwrap();
        assert_eq!(source.status(), 200);
        assert_eq!(header(&source, "cache-control"), "no-store");
        let source: Value = source.json().await.unwrap();
        assert_eq!(source["body"], "Some *markdown*");

        let refused = app
            .client
            .get(format!("{}/comments/{id}/source", app.api))
            .header("x-edit-token", "not-the-token")
            .send()
            .await
            .unwrap();
        crate::helpers::assert_error(refused, 403, "invalid_edit_token").await;
    }

    async fn what_differs_per_reader_is_never_shared(app: TestApp) {
        // The default site allows http://localhost on any port.
        app.post_ok("/cors/", "Ann", "Public", None).await;
        let one = get(&app, "/thread?key=/cors/", &[("origin", "http://localhost:4001")]).await;
        assert_eq!(header(&one, "access-control-allow-origin"), "http://localhost:4001");
        let vary = header(&one, "vary");
        assert!(vary.contains("Origin") && vary.contains("Accept-Encoding"), "{vary}");
        // The second reader is served the cached page, with its own CORS headers.
        let two = get(&app, "/thread?key=/cors/", &[("origin", "http://localhost:4002")]).await;
        assert_eq!(header(&two, "access-control-allow-origin"), "http://localhost:4002");
        assert_eq!(header(&one, "etag"), header(&two, "etag"));
        let none = get(&app, "/thread?key=/cors/", &[]).await;
        assert_eq!(header(&none, "access-control-allow-origin"), "");

        // A held comment is shown to its author (in the answer to the post) and to nobody
        // else, cached page or not.
        app.set_settings(|s| s.moderation = ModerationMode::All).await;
        let held = app.post_ok("/cors/", "Bo", "Held", None).await;
        assert_eq!(held["comment"]["status"], "pending");
        let page = thread(&app, "/cors/").await;
        assert_eq!(page["total"], 1);
        assert!(!all_ids(&page["comments"]).contains(&held["comment"]["id"].as_i64().unwrap()));
    }

    async fn posting_a_published_comment_refreshes_the_page(app: TestApp) {
        app.post_ok("/w/", "Ann", "One", None).await;
        assert_eq!(thread(&app, "/w/").await["total"], 1);
        app.post_ok("/w/", "Bo", "Two", None).await;
        assert_eq!(thread(&app, "/w/").await["total"], 2);
        // The first comment of a page creates it: an empty page is cached too.
        assert_eq!(thread(&app, "/new/").await["total"], 0);
        app.post_ok("/new/", "Cy", "First here", None).await;
        assert_eq!(thread(&app, "/new/").await["total"], 1);
        let html = get(&app, "/thread.html?key=/new/", &[]).await.text().await.unwrap();
        assert!(html.contains("First here"));
    }

    async fn an_authors_edit_and_delete_refresh_the_page(app: TestApp) {
        let posted = app.post_ok("/w/", "Ann", "Before", None).await;
        let id = posted["comment"]["id"].as_i64().unwrap();
        let token = posted["edit_token"].as_str().unwrap();
        let html = get(&app, "/thread.html?key=/w/", &[]).await.text().await.unwrap();
        assert!(html.contains("Before"));
        assert!(first(&thread(&app, "/w/").await)["html"].as_str().unwrap().contains("Before"));
        assert_eq!(patch_own(&app, id, token, "After").await.status(), 200);
        assert!(first(&thread(&app, "/w/").await)["html"].as_str().unwrap().contains("After"));
        let html = get(&app, "/thread.html?key=/w/", &[]).await.text().await.unwrap();
        assert!(html.contains("After") && !html.contains("Before"));
        let deleted = app
            .client
            .delete(format!("{}/comments/{id}", app.api))
            .header("x-edit-token", token)
            .send()
            .await
            .unwrap();
        assert_eq!(deleted.status(), 200);
        assert_eq!(thread(&app, "/w/").await["total"], 0);
    }

    async fn a_like_and_a_report_that_hides_refresh_the_page(app: TestApp) {
        app.set_settings(|s| s.report_threshold = 1).await;
        let posted = app.post_ok("/w/", "Ann", "Likeable", None).await;
        let id = posted["comment"]["id"].as_i64().unwrap();
        assert_eq!(first(&thread(&app, "/w/").await)["likes"], 0);
        let liked = app.client.post(format!("{}/comments/{id}/like", app.api)).send().await.unwrap();
        assert_eq!(liked.status(), 200);
        assert_eq!(first(&thread(&app, "/w/").await)["likes"], 1);
        let reported = app
            .client
            .post(format!("{}/comments/{id}/report", app.api))
            .json(&json!({ "reason": "spam" }))
            .send()
            .await
            .unwrap();
        assert!(reported.status().is_success(), "{}", reported.status());
        assert_eq!(thread(&app, "/w/").await["total"], 0);
    }

    async fn admin_decisions_refresh_the_page(app: TestApp) {
        let admin = Admin::login(&app).await;
        app.set_settings(|s| s.moderation = ModerationMode::All).await;
        let held = app.post_ok("/w/", "Ann", "Held first", None).await;
        let id = held["comment"]["id"].as_i64().unwrap();
        assert_eq!(thread(&app, "/w/").await["total"], 0);
        admin.moderate(&[id], "approve").await;
        assert_eq!(thread(&app, "/w/").await["total"], 1);
        admin.moderate(&[id], "pin").await;
        assert_eq!(first(&thread(&app, "/w/").await)["pinned"], true);
        admin.moderate(&[id], "unpin").await;
        assert_ne!(first(&thread(&app, "/w/").await)["pinned"], true);
        let edited = admin.send(Method::PATCH, &format!("/comments/{id}"), Some(json!({ "body": "Edited by the owner" }))).await;
        assert_eq!(edited.status(), 200);
        assert!(first(&thread(&app, "/w/").await)["html"].as_str().unwrap().contains("Edited by the owner"));
        admin.moderate(&[id], "spam").await;
        assert_eq!(thread(&app, "/w/").await["total"], 0);
        admin.moderate(&[id], "restore").await;
        assert_eq!(thread(&app, "/w/").await["total"], 1);
        admin.post(&format!("/comments/{id}/reply"), json!({ "body": "Owner reply" })).await;
        let page = thread(&app, "/w/").await;
        assert_eq!(page["total"], 2);
        assert_eq!(first(&page)["replies"][0]["owner"], true);
        admin.moderate(&[id], "delete").await;
        assert_eq!(thread(&app, "/w/").await["total"], 1);
    }

    async fn deleting_by_author_and_closing_a_thread_refresh_the_page(app: TestApp) {
        let admin = Admin::login(&app).await;
        let posted = app.post_ok("/w/", "Ann", "One", None).await;
        app.post_ok("/w/", "Ann", "Two", None).await;
        let id = posted["comment"]["id"].as_i64().unwrap();
        assert_eq!(thread(&app, "/w/").await["thread"]["closed"], false);
        let threads = admin.get("/threads").await;
        let thread_id = threads["threads"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["key"] == "/w/")
            .map(|t| t["id"].as_i64().unwrap())
            .unwrap();
        admin.post(&format!("/threads/{thread_id}/close"), json!({})).await;
        assert_eq!(thread(&app, "/w/").await["thread"]["closed"], true);
        admin.post(&format!("/threads/{thread_id}/reopen"), json!({})).await;
        assert_eq!(thread(&app, "/w/").await["thread"]["closed"], false);
        assert_eq!(thread(&app, "/w/").await["total"], 2);
        admin.post(&format!("/comments/{id}/delete-by-author"), json!({})).await;
        assert_eq!(thread(&app, "/w/").await["total"], 0);
    }

    async fn an_import_and_site_settings_refresh_the_pages(app: TestApp) {
        let admin = Admin::login(&app).await;
        assert_eq!(thread(&app, "/posts/1/").await["total"], 0);
        let isso = json!([{ "id": "/posts/1/", "title": "A post", "comments": [
            { "id": 1, "author": "Imported", "email": "", "website": "", "remote_addr": "0.0.0.0",
              "created": "2020-01-02 03:04:05", "text": "From elsewhere" }
        ]}]);
        let response = admin
            .client
            .post(format!("{}/sites/default/import?format=isso", admin.base))
            .header("cookie", &admin.cookie)
            .header("x-csrf-token", &admin.csrf)
            .body(isso.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert!(status.is_success(), "{status}: {}", response.text().await.unwrap());
        assert_eq!(thread(&app, "/posts/1/").await["total"], 1);

        // Site settings can change any page (auto-closing old threads): they are announced
        // site-wide, and every cached page is stale.
        let site = kith::service::sites::cached(&app.state, "default").unwrap().id;
        let before = app.state.changes.stamp(site, "/posts/1/");
        let mut receiver = app.state.changes.subscribe();
        app.set_settings(|s| s.auto_close_days = 30).await;
        let announced = changes::next(&mut receiver).await.unwrap();
        assert_eq!(announced, Change::Site { site });
        assert_ne!(app.state.changes.stamp(site, "/posts/1/"), before);
        assert_eq!(thread(&app, "/posts/1/").await["total"], 1);
    }

    async fn moderation_and_manage_links_in_mails_refresh_the_page(app: TestApp) {
        // The links' own tests (tests/api/mail.rs) send real mails; here the same services run
        // with links signed by the application's keys.
        use kith::notify::links::Link;
        app.set_settings(|s| s.moderation = ModerationMode::All).await;
        let held = app.post_ok("/w/", "Ann", "Held", None).await;
        let id = held["comment"]["id"].as_i64().unwrap();
        assert_eq!(thread(&app, "/w/").await["total"], 0);
        let token = Link::Moderate {
            action: kith::notify::links::ModAction::Approve,
            comment: kith::domain::comment::CommentId(id),
            nonce: "once".into(),
            expires: chrono::Utc::now().timestamp() + 3600,
        }
        .sign(&app.state.keys);
        kith::service::blocking(&app.state, move |state, conn| {
            kith::service::mail_links::moderate(state, conn, &token)
        })
        .await
        .unwrap();
        assert_eq!(thread(&app, "/w/").await["total"], 1);
    }

    async fn the_cache_keeps_within_its_entry_and_byte_limits(app: TestApp) {
        let _ = &app;
        for (entries, bytes, comments) in [(5u64, 1u64 << 30, 1usize), (1000, 65_536, 30)] {
            let small = spawn_app_with(app_db(&app), |c| {
                c.cache.pages_max_entries = entries;
                c.cache.pages_max_bytes = bytes;
            })
            .await;
            for t in 0..12 {
                let key = format!("/many-{t}/");
                for n in 0..comments {
                    small.post_ok(&key, "Ann", &format!("comment {n} of thread {t}, {}", "words ".repeat(40)), None).await;
                }
                assert_eq!(thread(&small, &key).await["total"], comments);
            }
            let (held, weight) = small.state.pages.usage();
            assert!(held > 0, "pages are kept at all");
            assert!(held <= entries, "{held} pages kept, limit {entries}");
            assert!(weight <= bytes, "{weight} bytes kept, limit {bytes}");
        }
    }
}

fn app_db(app: &TestApp) -> Db {
    if app.state.config.database.url.starts_with("sqlite") {
        Db::Sqlite
    } else {
        Db::Postgres
    }
}

/// Waits (at most `CROSS_LIMIT`) for `receiver` to hear an announcement `wanted` accepts.
async fn heard(
    receiver: &mut tokio::sync::broadcast::Receiver<Change>,
    wanted: impl Fn(&Change) -> bool,
) -> Change {
    tokio::time::timeout(CROSS_LIMIT, async {
        loop {
            let change = changes::next(receiver).await.expect("the bus is open");
            if wanted(&change) {
                return change;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("nothing heard within {CROSS_LIMIT:?}"))
}

/// Two applications on one PostgreSQL database, as two processes behind a load balancer
/// would be: each with its own pool, bus, page cache and listener.
async fn two_on(url: &str) -> (TestApp, TestApp) {
    let a_url = url.to_string();
    let a = spawn_app_with(Db::Postgres, move |c| c.database.url = a_url).await;
    let b_url = url.to_string();
    let b = spawn_app_with(Db::Postgres, move |c| c.database.url = b_url).await;
    (a, b)
}

#[actix_web::test]
async fn a_post_and_an_admin_decision_on_one_process_are_read_on_another_at_once() {
    let url = crate::helpers::fresh_postgres_database();
    let (a, b) = two_on(&url).await;
    let mut on_b = b.state.changes.subscribe();
    let first = a.post_ok("/both/", "Ann", "First", None).await;
    let first_id = first["comment"]["id"].as_i64().unwrap();
    heard(
        &mut on_b,
        |c| matches!(c, Change::Thread { comment: Some(c), .. } if c.0 == first_id),
    )
    .await;
    assert_eq!(thread(&b, "/both/").await["total"], 1);
    // B keeps the counts too, of a page nobody has commented on as well.
    let counts = b.counts(&["/both/", "/later/"]).await;
    assert_eq!(counts, serde_json::json!({"/both/": 1, "/later/": 0}));

    // B has the page cached; a post on A reaches B as an announcement naming the comment,
    // and B's next read shows it.
    let posted = a.post_ok("/both/", "Bo", "Second", None).await;
    let id = posted["comment"]["id"].as_i64().unwrap();
    let change = heard(&mut on_b, |c| matches!(c, Change::Thread { .. })).await;
    match change {
        Change::Thread { key, comment, .. } => {
            assert_eq!(key, "/both/");
            assert_eq!(comment.map(|c| c.0), Some(id));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(thread(&b, "/both/").await["total"], 2);
    // A first comment on A for the page B knew without comments.
    let later = a.post_ok("/later/", "Eve", "Later", None).await;
    let later_id = later["comment"]["id"].as_i64().unwrap();
    heard(
        &mut on_b,
        |c| matches!(c, Change::Thread { comment: Some(c), .. } if c.0 == later_id),
    )
    .await;
    let counts = b.counts(&["/both/", "/later/"]).await;
    assert_eq!(counts, serde_json::json!({"/both/": 2, "/later/": 1}));

    // An admin's decision on A (approving a held comment) likewise. B's embed settings are
    // answered from its site cache (kept since this read), so the change must reach it too.
    assert_ne!(b.settings().await["moderation"], "all");
    a.set_settings(|s| s.moderation = ModerationMode::All).await;
    heard(&mut on_b, |c| matches!(c, Change::Site { .. })).await;
    assert_eq!(b.settings().await["moderation"], "all");
    let held = a.post_ok("/both/", "Cy", "Held", None).await;
    let held_id = held["comment"]["id"].as_i64().unwrap();
    heard(&mut on_b, |c| matches!(c, Change::Thread { .. })).await;
    assert_eq!(thread(&b, "/both/").await["total"], 2);
    let admin = Admin::login(&a).await;
    admin.moderate(&[held_id], "approve").await;
    heard(
        &mut on_b,
        |c| matches!(c, Change::Thread { comment: Some(c), .. } if c.0 == held_id),
    )
    .await;
    assert_eq!(thread(&b, "/both/").await["total"], 3);
    assert_eq!(b.counts(&["/both/"]).await["/both/"], 3);
    // The site setting reached B's site cache too: B holds new comments now.
    let on_b_held = b.post_ok("/both/", "Di", "Held on B", None).await;
    assert_eq!(on_b_held["comment"]["status"], "pending");
}

#[actix_web::test]
async fn after_the_database_restarts_the_other_process_drops_its_cache() {
    let cluster = Cluster::create();
    let url = cluster.url();
    let (a, b) = two_on(&url).await;
    let mut on_b = b.state.changes.subscribe();
    let posted = a.post_ok("/restart/", "Ann", "Original text", None).await;
    let id = posted["comment"]["id"].as_i64().unwrap();
    // B caches the page only once it heard of the post: an announcement arriving after the
    // page was cached would rightly make B read it again, and then see the sneaked change
    // below (what failed once under load).
    heard(
        &mut on_b,
        |c| matches!(c, Change::Thread { comment: Some(c), .. } if c.0 == id),
    )
    .await;
    assert!(
        first(&thread(&b, "/restart/").await)["html"]
            .as_str()
            .unwrap()
            .contains("Original")
    );

    // A change no process announces (written past kith): B keeps serving its cached page.
    let sneak = |text: &str| {
        use diesel::{Connection, RunQueryDsl};
        let mut conn = diesel::PgConnection::establish(&url).unwrap();
        diesel::sql_query(format!(
            "UPDATE comments SET body_html = '<p>{text}</p>' WHERE id = {id}"
        ))
        .execute(&mut conn)
        .unwrap();
    };
    sneak("Changed behind kith");
    assert!(
        first(&thread(&b, "/restart/").await)["html"]
            .as_str()
            .unwrap()
            .contains("Original")
    );

    // The database restarts: B's listener loses its connection, may have missed
    // announcements, and drops everything once it is back.
    let resyncs = b.state.changes.resyncs();
    cluster.stop();
    cluster.start();
    heard(&mut on_b, |c| *c == Change::Resync).await;
    assert!(b.state.changes.resyncs() > resyncs);
    assert!(
        first(&thread(&b, "/restart/").await)["html"]
            .as_str()
            .unwrap()
            .contains("Changed behind kith")
    );
    drop(a);
}
