//! No unsafe link scheme reaches a page: hostile URLs in imported files (every URL-bearing
//! field) and in rows an older version left behind are dropped on the way in and on the way
//! out, in `thread.html`, the thread JSON, the admin pages and both exports.

use diesel::RunQueryDsl;
use kith::domain::link::is_safe_web_link;
use kith::service::export::{ExportFormat, export_site};
use kith::service::import::{ImportOptions, import_file};
use serde_json::Value;

use crate::admin_support::Admin;
use crate::both_backends;
use crate::helpers::TestApp;

/// Author websites and page links an attacker would try.
const HOSTILE: &[&str] = &[
    "javascript:alert(document.domain)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java&#9;script:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "javascript://example.org/%0Aalert(1)",
];

fn wxr(author_url: &str) -> Vec<u8> {
    let comments: String = HOSTILE
        .iter()
        .chain(std::iter::once(&author_url))
        .enumerate()
        .map(|(i, url)| {
            format!(
                "<wp:comment><wp:comment_id>{id}</wp:comment_id>\
                 <wp:comment_author>Mallory {id}</wp:comment_author>\
                 <wp:comment_author_url>{url}</wp:comment_author_url>\
                 <wp:comment_date_gmt>2024-01-0{d} 10:00:00</wp:comment_date_gmt>\
                 <wp:comment_content>Hello {id}</wp:comment_content>\
                 <wp:comment_approved>1</wp:comment_approved>\
                 <wp:comment_parent>0</wp:comment_parent></wp:comment>",
                id = i + 1,
                d = i % 9 + 1,
                url = url.replace('&', "&amp;"),
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><link>https://blog.example</link>
<item><title>Hostile</title><link>https://blog.example/hostile/</link>
<wp:post_id>7</wp:post_id>{comments}</item>
</channel></rss>"#
    )
    .into_bytes()
}

/// Every `href` and `src` value in `html` (entities for `&` undone).
fn link_targets(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\""] {
        for (at, _) in html.match_indices(attr) {
            let rest = &html[at + attr.len()..];
            let end = rest.find('"').unwrap_or(rest.len());
            out.push(rest[..end].replace("&amp;", "&").replace("&#x3a;", ":"));
        }
    }
    out
}

fn assert_page_safe(what: &str, html: &str) {
    let lower = html.to_lowercase();
    for scheme in ["javascript:", "vbscript:", "data:text"] {
        assert!(!lower.contains(scheme), "{what} contains {scheme}: {html}");
    }
    for target in link_targets(html) {
        let local = target.starts_with('/') && !target.starts_with("//")
            || target.starts_with('#')
            || target.starts_with('?');
        assert!(
            local || is_safe_web_link(&target),
            "{what} links to {target:?}"
        );
    }
}

/// Renders everything a person or a tool sees of the default site and checks each.
async fn assert_everything_safe(app: &TestApp, key: &str) {
    let html = app
        .client
        .get(format!("{}/thread.html?key={key}", app.api))
        .send()
        .await
        .unwrap();
    assert_eq!(html.status(), 200);
    let csp = html
        .headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(csp.contains("default-src 'none'"), "fragment CSP: {csp}");
    let html = html.text().await.unwrap();
    assert!(html.contains("Mallory 1"), "{html}");
    assert_page_safe("thread.html", &html);

    let thread = app.thread(key).await;
    for c in thread["comments"].as_array().unwrap() {
        if let Some(site) = c["website"].as_str() {
            assert!(is_safe_web_link(site), "thread JSON website {site}");
        }
    }
    assert_page_safe("thread JSON", &thread.to_string());

    let admin = Admin::login(app).await;
    let ids = admin.queue_ids("approved", "").await;
    assert!(!ids.is_empty());
    for path in [
        "/admin/comments?status=approved".to_string(),
        "/admin/threads".to_string(),
        "/admin".to_string(),
        format!("/admin/comments/{}", ids[0]),
        format!("/admin/comments/{}", ids[ids.len() - 1]),
    ] {
        let (status, page) = admin.page(&path).await;
        assert_eq!(status, 200, "{path}");
        assert_page_safe(&path, &page);
    }
    let queue = admin.queue("approved", "").await;
    assert_page_safe("admin API queue", &queue.to_string());

    let mut conn = app.state.pool.get().unwrap();
    for format in [ExportFormat::Kith, ExportFormat::WordPress] {
        let mut out = Vec::new();
        export_site(&app.state, &mut conn, "default", format, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_page_safe("export", &text);
    }
}

both_backends! {
    async fn hostile_author_urls_in_a_wxr_import_never_become_links(app: TestApp) {
        let mut conn = app.state.pool.get().unwrap();
        let summary = import_file(
            &app.state,
            &mut conn,
            "default",
            &wxr("https://friend.example/"),
            &ImportOptions::default(),
        )
        .unwrap();
        assert_eq!(summary.comments, HOSTILE.len() + 1, "{summary:?}");
        drop(conn);
        let thread = app.thread("/hostile/").await;
        let websites: Vec<&Value> = thread["comments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| &c["website"])
            .filter(|w| !w.is_null())
            .collect();
        // Only the one real website survives.
        assert_eq!(websites, vec![&Value::from("https://friend.example/")]);
        assert_everything_safe(&app, "/hostile/").await;
    }

    async fn hostile_urls_in_a_kith_file_are_dropped_at_import(app: TestApp) {
        app.post_ok("/hostile/", "Mallory 1", "Hello", None).await;
        let mut conn = app.state.pool.get().unwrap();
        let mut out = Vec::new();
        export_site(&app.state, &mut conn, "default", ExportFormat::Kith, &mut out).unwrap();
        let mut file: Value = serde_json::from_slice(&out).unwrap();
        let thread = &mut file["threads"][0];
        thread["url"] = Value::from(HOSTILE[0]);
        let comment = thread["comments"][0].clone();
        let mut comments = Vec::new();
        for (i, url) in HOSTILE.iter().enumerate() {
            let mut c = comment.clone();
            c["source_id"] = Value::from(format!("hostile-{i}"));
            c["website"] = Value::from(*url);
            comments.push(c);
        }
        thread["comments"] = Value::from(comments);
        diesel::sql_query("DELETE FROM comments").execute(&mut conn).unwrap();
        diesel::sql_query("DELETE FROM threads").execute(&mut conn).unwrap();
        let bytes = serde_json::to_vec(&file).unwrap();
        let summary =
            import_file(&app.state, &mut conn, "default", &bytes, &ImportOptions::default())
                .unwrap();
        assert_eq!(summary.comments, HOSTILE.len(), "{summary:?}");
        for table in ["comments WHERE website IS NOT NULL", "threads WHERE url <> ''"] {
            #[derive(diesel::QueryableByName)]
            struct Count {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            let n = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
                .get_result::<Count>(&mut conn)
                .unwrap()
                .n;
            assert_eq!(n, 0, "stored hostile URLs in {table}");
        }
        drop(conn);
        assert_everything_safe(&app, "/hostile/").await;
    }

    async fn hostile_urls_already_stored_are_not_rendered_as_links(app: TestApp) {
        for i in 1..=3 {
            app.post_ok("/old/", &format!("Mallory {i}"), "Hello", None).await;
        }
        let mut conn = app.state.pool.get().unwrap();
        // What an older version, or a hand edit of the database, may have left.
        diesel::sql_query("UPDATE comments SET website = 'javascript:alert(document.domain)'")
            .execute(&mut conn)
            .unwrap();
        diesel::sql_query("UPDATE threads SET url = 'javascript:alert(document.domain)'")
            .execute(&mut conn)
            .unwrap();
        drop(conn);
        assert_everything_safe(&app, "/old/").await;
    }
}
