//! No unsafe link scheme reaches a page: hostile URLs in imported files (every URL-bearing
//! field) and in rows an older version left behind are dropped on the way in and on the way
//! out, in `thread.html`, the thread JSON, the admin pages, both exports and the mails. Every
//! importer gets a hostile file: WXR, kith JSON, Disqus XML, Isso JSON and its SQLite database,
//! Commento (version 1) and Comentario (version 3) JSON, with the hostile URLs in every field
//! that carries one (author website or link, thread link or URL).

use diesel::RunQueryDsl;
use kith::domain::link::is_safe_web_link;
use kith::service::export::{ExportFormat, export_site};
use kith::service::import::{ImportOptions, import_file};
use serde_json::{Value, json};

use crate::admin_support::Admin;
use crate::both_backends;
use crate::helpers::{TestApp, mail_config, spawn_app_with};
use crate::smtp::SmtpServer;
use kith::config::OwnerNotifications;
use kith::domain::site::ModerationMode;

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

/// The hostile URLs plus one real website, each with its author's number (from 1).
fn websites() -> Vec<(usize, &'static str)> {
    HOSTILE
        .iter()
        .copied()
        .chain(std::iter::once(FRIEND))
        .enumerate()
        .map(|(i, url)| (i + 1, url))
        .collect()
}

const FRIEND: &str = "https://friend.example/";

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;")
}

/// A Disqus export: Disqus authors carry no website, so the thread `<link>` is the hostile
/// field: one thread per hostile link (with an `<id>` too), and the real page.
fn disqus() -> Vec<u8> {
    let mut threads = String::from(
        r#"<thread dsq:id="1"><id>real</id><link>https://blog.example/hostile/</link><title>Hostile</title></thread>"#,
    );
    let mut posts = String::new();
    for (n, url) in websites() {
        threads.push_str(&format!(
            r#"<thread dsq:id="{t}"><id>hostile-{n}</id><link>{url}</link><title>T{n}</title></thread>"#,
            t = n + 100,
            url = xml_escape(url),
        ));
        for (id, thread) in [(n, 1), (n + 100, n + 100)] {
            posts.push_str(&format!(
                r#"<post dsq:id="{id}"><message><![CDATA[<p>Hello {id}</p>]]></message>
                <createdAt>2024-01-01T10:00:00Z</createdAt><isDeleted>false</isDeleted>
                <isSpam>false</isSpam><author><name>Mallory {n}</name>
                <email>m{id}@example.org</email><isAnonymous>false</isAnonymous></author>
                <thread dsq:id="{thread}"/></post>"#
            ));
        }
    }
    format!(
        r#"<?xml version="1.0"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
<category dsq:id="0"><forum>blog</forum><title>General</title></category>
{threads}{posts}</disqus>"#
    )
    .into_bytes()
}

/// Isso's JSON export: hostile author websites, and hostile thread ids (its page address).
fn isso_json() -> Vec<u8> {
    let comment = |n: usize, url: &str| {
        json!({"id": n, "author": format!("Mallory {n}"), "email": "", "website": url,
               "remote_addr": "0.0.0.0", "created": "2024-01-01 10:00:00", "text": "Hello"})
    };
    let mut threads = vec![json!({
        "id": "/hostile/",
        "title": "Hostile",
        "comments": websites().iter().map(|(n, url)| comment(*n, url)).collect::<Vec<_>>(),
    })];
    for (n, url) in websites() {
        threads.push(json!({"id": url, "title": "T", "comments": [comment(n, url)]}));
    }
    serde_json::to_vec(&threads).unwrap()
}

/// Isso's own SQLite database, the same content as [`isso_json`].
fn isso_db() -> Vec<u8> {
    use diesel::Connection;
    use diesel::connection::SimpleConnection;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("comments.db");
    let mut conn = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let mut sql = String::from(
        "CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256));
         CREATE TABLE comments (
            tid REFERENCES threads(id), id INTEGER PRIMARY KEY, parent INTEGER,
            created FLOAT NOT NULL, modified FLOAT, mode INTEGER, remote_addr VARCHAR,
            text VARCHAR, author VARCHAR, email VARCHAR, website VARCHAR,
            likes INTEGER DEFAULT 0, dislikes INTEGER DEFAULT 0, voters BLOB NOT NULL,
            notification INTEGER DEFAULT 0);
         INSERT INTO threads VALUES (1, '/hostile/', 'Hostile');",
    );
    for (n, url) in websites() {
        let t = n + 1;
        sql.push_str(&format!(
            "INSERT INTO threads VALUES ({t}, {url}, 'T');
             INSERT INTO comments VALUES (1, {n}, NULL, 1400000000.0, NULL, 1, '127.0.0.0', 'Hello', 'Mallory {n}', NULL, {url}, 0, 0, x'00', 0);
             INSERT INTO comments VALUES ({t}, {id}, NULL, 1400000000.0, NULL, 1, '127.0.0.0', 'Hello', 'Mallory {n}', NULL, {url}, 0, 0, x'00', 0);",
            id = n + 100,
            url = quote(url),
        ));
    }
    conn.batch_execute(&sql).unwrap();
    drop(conn);
    std::fs::read(&path).unwrap()
}

/// A Commento (version 1) export: hostile commenter links and comment page URLs.
fn commento_v1() -> Vec<u8> {
    let mut commenters = Vec::new();
    let mut comments = Vec::new();
    for (n, url) in websites() {
        commenters.push(
            json!({"commenterHex": format!("c{n}"), "name": format!("Mallory {n}"),
                               "email": format!("m{n}@example.org"), "link": url}),
        );
        let comment = |hex: String, path: Option<&str>, url: &str| {
            json!({"commentHex": hex, "commenterHex": format!("c{n}"), "parentHex": "root",
                   "domain": "blog.example", "path": path, "url": url, "markdown": "Hello",
                   "state": "approved", "creationDate": "2024-01-01T10:00:00Z", "deleted": false})
        };
        comments.push(comment(format!("a{n}"), Some("/hostile/"), url));
        comments.push(comment(format!("b{n}"), None, url));
    }
    serde_json::to_vec(&json!({"version": 1, "commenters": commenters, "comments": comments}))
        .unwrap()
}

/// A Comentario (version 3) export: hostile commenter `websiteUrl`s and comment `url`s.
fn comentario_v3() -> Vec<u8> {
    let mut commenters = Vec::new();
    let mut comments = Vec::new();
    for (n, url) in websites() {
        commenters.push(
            json!({"id": format!("u{n}"), "name": format!("Mallory {n}"),
                               "email": format!("m{n}@example.org"), "websiteUrl": url}),
        );
        comments.push(json!({"id": format!("c{n}"), "pageId": "p1", "url": url,
                             "markdown": "Hello", "isApproved": true, "isPending": false,
                             "isDeleted": false, "createdTime": "2024-01-01T10:00:00.000Z",
                             "userCreated": format!("u{n}")}));
    }
    serde_json::to_vec(&json!({
        "version": 3,
        "pages": [{"id": "p1", "path": "/hostile/", "title": "Hostile"}],
        "commenters": commenters,
        "comments": comments,
    }))
    .unwrap()
}

/// Imports `bytes` into the default site, checks that only the real website was kept on
/// `/hostile/` (when the format carries websites at all), then renders everything.
async fn import_hostile(app: &TestApp, bytes: &[u8], has_websites: bool) {
    let mut conn = app.state.pool.get().unwrap();
    let summary = import_file(
        &app.state,
        &mut conn,
        "default",
        bytes,
        &ImportOptions::default(),
    )
    .unwrap();
    assert!(summary.comments > HOSTILE.len(), "{summary:?}");
    drop(conn);
    let thread = app.thread("/hostile/").await;
    let comments = thread["comments"].as_array().unwrap();
    assert_eq!(comments.len(), HOSTILE.len() + 1, "{thread}");
    let websites: Vec<&Value> = comments
        .iter()
        .map(|c| &c["website"])
        .filter(|w| !w.is_null())
        .collect();
    if has_websites {
        assert_eq!(websites, vec![&Value::from(FRIEND)]);
    } else {
        assert!(websites.is_empty(), "{websites:?}");
    }
    assert_everything_safe(app, "/hostile/").await;
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

/// Every thread key stored for the default site.
fn stored_keys(app: &TestApp) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Key {
        #[diesel(sql_type = diesel::sql_types::Text)]
        key: String,
    }
    let mut conn = app.state.pool.get().unwrap();
    diesel::sql_query("SELECT key FROM threads ORDER BY id")
        .load::<Key>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|k| k.key)
        .collect()
}

/// Renders everything a person or a tool sees of the default site and checks each.
async fn assert_everything_safe(app: &TestApp, key: &str) {
    for other in stored_keys(app) {
        let response = app
            .client
            .get(format!("{}/thread.html", app.api))
            .query(&[("key", other.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "thread.html for {other:?}");
        assert_page_safe(
            &format!("thread.html {other:?}"),
            &response.text().await.unwrap(),
        );
    }
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

    async fn hostile_thread_links_in_a_disqus_import_never_become_links(app: TestApp) {
        import_hostile(&app, &disqus(), false).await;
    }

    async fn hostile_urls_in_an_isso_json_import_never_become_links(app: TestApp) {
        import_hostile(&app, &isso_json(), true).await;
    }

    async fn hostile_urls_in_an_isso_database_import_never_become_links(app: TestApp) {
        import_hostile(&app, &isso_db(), true).await;
    }

    async fn hostile_urls_in_a_commento_import_never_become_links(app: TestApp) {
        import_hostile(&app, &commento_v1(), true).await;
    }

    async fn hostile_urls_in_a_comentario_import_never_become_links(app: TestApp) {
        import_hostile(&app, &comentario_v3(), true).await;
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

/// Mails about a comment whose stored website and page URL are hostile (rows an older version
/// or a hand edit left): the reply notification (sent when the owner approves the comment) and
/// the owner's alert carry no unsafe link in their HTML part.
async fn mails_about_hostile_rows_link_nowhere_unsafe(db: crate::helpers::Db) {
    use kith::domain::comment::CommentId;
    let smtp = SmtpServer::start().await;
    let port = smtp.port;
    let app = spawn_app_with(db, move |config| {
        mail_config(config, port);
        config.mail.owner_notifications = OwnerNotifications::All;
    })
    .await;
    let ann = app
        .post_json_ok(json!({
            "thread_key": "/post/", "thread_title": "A post",
            "thread_url": "https://blog.example/post/", "author": "Ann",
            "email": "ann@example.com", "body": "Ann's question", "notify_replies": true,
        }))
        .await;
    app.drain_outbox().await;
    let confirm = smtp
        .to("ann@example.com")
        .iter()
        .find_map(|m| m.link("/mail/confirm/"))
        .expect("a confirmation mail to Ann");
    assert_eq!(
        app.client.post(&confirm).send().await.unwrap().status(),
        200
    );
    app.set_settings(|s| s.moderation = ModerationMode::All)
        .await;
    let reply = app
        .post_json_ok(json!({
            "thread_key": "/post/", "parent_id": ann["comment"]["id"], "author": "Mallory",
            "email": "mallory@example.com", "website": FRIEND, "body": "Mallory's reply",
        }))
        .await;
    let reply = reply["comment"]["id"].as_i64().unwrap();
    app.drain_outbox().await;
    let mut conn = app.state.pool.get().unwrap();
    diesel::sql_query(format!(
        "UPDATE comments SET website = 'javascript:alert(document.domain)' WHERE id = {reply}"
    ))
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query("UPDATE threads SET url = 'javascript:alert(document.domain)'")
        .execute(&mut conn)
        .unwrap();
    drop(conn);
    let before = smtp.messages().len();
    // The reply notification: composed when the owner approves the held reply.
    Admin::login(&app).await.moderate(&[reply], "approve").await;
    // The owner's alert is composed when a comment is posted, and the API refuses hostile
    // websites; so run the step a post runs, with the hostile row as stored.
    kith::service::blocking(&app.state, move |state, conn| {
        let comment = kith::db::comments::find(conn, CommentId(reply))?.expect("the reply");
        let thread = kith::db::threads::find_by_id(conn, comment.thread_id)?.expect("its thread");
        let site = kith::db::sites::find_by_id(conn, thread.site_id)?.expect("its site");
        kith::service::notifications::comment_posted(state, conn, &site, &thread, &comment, false)
    })
    .await
    .unwrap();
    app.drain_outbox().await;
    let mails = smtp.messages();
    let new = &mails[before..];
    let to_ann: Vec<_> = new
        .iter()
        .filter(|m| m.text().contains("Mallory's reply"))
        .collect();
    assert!(
        to_ann
            .iter()
            .any(|m| m.text().contains("replied to your comment")),
        "a reply notification to Ann"
    );
    assert!(
        new.iter().any(|m| m
            .header("To")
            .is_some_and(|t| t.contains("owner@blog.example"))),
        "an owner alert"
    );
    for mail in new {
        let html = mail.html();
        assert!(html.contains("<a "), "an HTML part with links: {html}");
        assert_page_safe(&format!("mail {:?}", mail.header("Subject")), &html);
    }
}

mod mails_about_hostile_rows_link_nowhere_unsafe {
    #[actix_web::test]
    async fn sqlite() {
        super::mails_about_hostile_rows_link_nowhere_unsafe(crate::helpers::Db::Sqlite).await
    }
    #[actix_web::test]
    async fn postgres() {
        super::mails_about_hostile_rows_link_nowhere_unsafe(crate::helpers::Db::Postgres).await
    }
}
