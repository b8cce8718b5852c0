//! Atom feeds per thread and per site, read with a real feed parser (Python's feedparser, in a
//! venv that `tests/support/feedparser.sh` creates on first use), on both backends.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use kith::domain::comment::{CommentId, CommentStatus};
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// The venv's Python, installed once per test process (the script locks against other ones).
fn python() -> &'static str {
    static PYTHON: OnceLock<String> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/feedparser.sh");
        let out = Command::new("bash").arg(script).output().unwrap();
        assert!(
            out.status.success(),
            "installing feedparser failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    })
}

/// What feedparser reads in `xml` (see tests/support/parse_feed.py).
fn feedparser(xml: &str) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/parse_feed.py");
    let mut child = Command::new(python())
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(xml.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "feedparser: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parsed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        parsed["bozo"], false,
        "not a well-formed feed: {parsed}\n{xml}"
    );
    assert_eq!(parsed["version"], "atom10");
    parsed
}

async fn get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app.client.get(format!("{}{path}", app.api));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

async fn feed_text(app: &TestApp, path: &str) -> String {
    let response = get(app, path, &[]).await;
    assert_eq!(response.status(), 200, "{path}");
    assert_eq!(
        response.headers()["content-type"],
        "application/atom+xml; charset=utf-8"
    );
    response.text().await.unwrap()
}

async fn set_status(app: &TestApp, id: i64, status: CommentStatus) {
    kith::service::blocking(&app.state, move |_, conn| {
        kith::db::comments::update_status(conn, &[CommentId(id)], status, None)
    })
    .await
    .unwrap();
}

async fn post(app: &TestApp, key: &str, author: &str, body: &str, parent: Option<i64>) -> i64 {
    let response = app
        .post_comment(&json!({
            "thread_key": key,
            "thread_title": format!("Title of {key}"),
            "thread_url": format!("https://blog.example{key}"),
            "parent_id": parent,
            "author": author,
            "email": format!("{}@secret-mail.example", author.len()),
            "body": body,
        }))
        .await;
    let status = response.status();
    let value: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{value}");
    value["comment"]["id"]
        .as_i64()
        .or_else(|| value["id"].as_i64())
        .unwrap()
}

fn entry_ids(feed: &Value) -> Vec<String> {
    feed["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

fn entry_links(feed: &Value) -> Vec<String> {
    feed["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["link"].as_str().unwrap_or_default().to_string())
        .collect()
}

const XSS: &str = "Look: <script>alert(1)</script><img src=x onerror=alert(2)> \
                   [x](javascript:alert(3)) ]]> & <b onclick=alert(4)>**bold**</b> [ok](https://ok.example/)";

/// The tags of an HTML text (what is between `<` and `>`): text may mention `onerror`, only
/// markup could run it.
fn tags(html: &str) -> Vec<String> {
    html.split('<')
        .skip(1)
        .map(|rest| {
            rest.split('>')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase()
        })
        .collect()
}

crate::both_backends! {
    async fn feeds_list_approved_comments_newest_first_with_names_only(app: TestApp) {
        let first = post(&app, "/post/", "Alice", "First **bold** comment", None).await;
        let xss = post(&app, "/post/", "Eve <img src=x onerror=alert(1)>", XSS, Some(first)).await;
        let held = post(&app, "/post/", "Held", "HELD-TEXT", None).await;
        let spam = post(&app, "/post/", "Spam", "SPAM-TEXT", None).await;
        let deleted = post(&app, "/post/", "Deleted", "DELETED-TEXT", Some(first)).await;
        let other = post(&app, "/other/", "Olga", "On another page", None).await;
        set_status(&app, held, CommentStatus::Pending).await;
        set_status(&app, spam, CommentStatus::Spam).await;
        set_status(&app, deleted, CommentStatus::Deleted).await;

        let raw = feed_text(&app, "/thread.atom?key=/post/").await;
        for hidden in ["HELD-TEXT", "SPAM-TEXT", "DELETED-TEXT", "secret-mail.example", "@"] {
            assert!(!raw.contains(hidden), "{hidden} in the feed:\n{raw}");
        }
        let feed = feedparser(&raw);
        assert_eq!(feed["feed"]["title"], "Comments on Title of /post/");
        assert!(feed["feed"]["links"].as_array().unwrap().iter().any(|l| l["rel"] == "self"
            && l["href"].as_str().unwrap().ends_with("/api/v1/sites/default/thread.atom?key=/post/")));
        let entries = feed["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 2, "{feed}");
        // newest first; the permalink is the page's address and the embed's #comment-{id}
        assert_eq!(
            entry_links(&feed),
            [
                format!("https://blog.example/post/#comment-{xss}"),
                format!("https://blog.example/post/#comment-{first}"),
            ]
        );
        let alice = &entries[1];
        assert_eq!(alice["author"], "Alice");
        assert_eq!(alice["author_detail"], json!({"name": "Alice"}), "no e-mail, no link");
        assert_eq!(alice["title"], "Alice on Title of /post/");
        assert_eq!(alice["content"][0]["type"], "text/html");
        assert!(alice["content"][0]["value"].as_str().unwrap().contains("<strong>bold</strong>"));
        assert!(alice["published"].as_str().unwrap().starts_with(&chrono::Utc::now().format("%Y-").to_string()));
        // hostile content arrives sanitized, the name as text
        let eve = &entries[0];
        assert_eq!(eve["author"], "Eve <img src=x onerror=alert(1)>");
        let html = eve["content"][0]["value"].as_str().unwrap();
        for tag in tags(html) {
            for bad in ["onerror", "onclick", "javascript:"] {
                assert!(!tag.contains(bad), "{bad} in <{tag}> of {html}");
            }
            assert!(!tag.starts_with("script") && !tag.starts_with("img"), "<{tag}> in {html}");
        }
        assert!(html.contains("<strong>bold</strong>"), "{html}");
        assert!(html.contains(r#"<a href="https://ok.example/" rel="nofollow ugc noopener">ok</a>"#), "{html}");

        // ids are stable: the same on every read, and the same entry in the site feed
        let again = feedparser(&feed_text(&app, "/thread.atom?key=/post/").await);
        assert_eq!(entry_ids(&again), entry_ids(&feed));
        assert!(entry_ids(&feed).iter().all(|id| id.starts_with("urn:uuid:")));
        let site = feedparser(&feed_text(&app, "/feed.atom").await);
        assert_eq!(site["feed"]["title"], "Comments on kith demo");
        let site_links = entry_links(&site);
        assert_eq!(site_links.len(), 3, "{site}");
        assert_eq!(site_links[0], format!("https://blog.example/other/#comment-{other}"));
        assert_eq!(entry_ids(&site)[1..], entry_ids(&feed)[..]);
        assert_eq!(site["entries"][0]["title"], "Olga on Title of /other/");
        assert_ne!(site["feed"]["id"], feed["feed"]["id"]);

        // a page nobody commented on is an empty feed
        let empty = feedparser(&feed_text(&app, "/thread.atom?key=/nothing-yet/").await);
        assert_eq!(empty["entries"].as_array().unwrap().len(), 0);
    }

    async fn feeds_answer_304_to_matching_validators_until_they_change(app: TestApp) {
        let first = post(&app, "/post/", "Alice", "one", None).await;
        let path = "/thread.atom?key=/post/";
        let response = get(&app, path, &[]).await;
        assert_eq!(response.status(), 200);
        let etag = response.headers()["etag"].to_str().unwrap().to_string();
        let modified = response.headers()["last-modified"].to_str().unwrap().to_string();
        assert!(etag.starts_with('"') && etag.len() > 10, "{etag}");
        assert_eq!(response.headers()["cache-control"], "no-cache");

        let same = get(&app, path, &[("if-none-match", &etag)]).await;
        assert_eq!(same.status(), 304);
        assert_eq!(same.headers()["etag"].to_str().unwrap(), etag);
        assert!(same.bytes().await.unwrap().is_empty());
        let weak = format!("W/{etag}");
        let listed = format!("\"other\", {weak}");
        assert_eq!(get(&app, path, &[("if-none-match", &listed)]).await.status(), 304);
        assert_eq!(get(&app, path, &[("if-none-match", "\"stale\"")]).await.status(), 200);
        assert_eq!(get(&app, path, &[("if-modified-since", &modified)]).await.status(), 304);
        assert_eq!(
            get(&app, path, &[("if-modified-since", "Mon, 01 Jan 2001 00:00:00 GMT")]).await.status(),
            200
        );
        // If-None-Match wins over If-Modified-Since
        assert_eq!(
            get(&app, path, &[("if-none-match", "\"stale\""), ("if-modified-since", &modified)]).await.status(),
            200
        );
        assert_eq!(get(&app, path, &[("if-modified-since", "not a date")]).await.status(), 200);

        // a new comment changes the feed
        let second = post(&app, "/post/", "Bob", "two", Some(first)).await;
        let changed = get(&app, path, &[("if-none-match", &etag)]).await;
        assert_eq!(changed.status(), 200);
        let etag2 = changed.headers()["etag"].to_str().unwrap().to_string();
        assert_ne!(etag2, etag);
        // so does holding one: it leaves the feed
        set_status(&app, second, CommentStatus::Pending).await;
        let held = get(&app, path, &[("if-none-match", &etag2)]).await;
        assert_eq!(held.status(), 200);
        assert_eq!(held.headers()["etag"].to_str().unwrap(), etag, "back to the first feed");
        assert!(!held.text().await.unwrap().contains("Bob"));

        // the site feed has its own validators
        let site = get(&app, "/feed.atom", &[]).await;
        let site_tag = site.headers()["etag"].to_str().unwrap().to_string();
        assert_eq!(get(&app, "/feed.atom", &[("if-none-match", &site_tag)]).await.status(), 304);
    }

    async fn feeds_refuse_unknown_sites_and_bad_keys(app: TestApp) {
        let response = app
            .client
            .get(format!("{}/api/v1/sites/nowhere/feed.atom", app.address))
            .send()
            .await
            .unwrap();
        crate::helpers::assert_error(response, 404, "site_not_found").await;
        let response = get(&app, "/thread.atom?key=no-slash", &[]).await;
        let body = crate::helpers::assert_error(response, 422, "invalid_field").await;
        assert_eq!(body["field"], "key");
        let response = get(&app, "/thread.atom", &[]).await;
        assert_eq!(response.status(), 400);
    }

    async fn thread_html_links_to_the_threads_feed(app: TestApp) {
        post(&app, "/post/", "Alice", "one", None).await;
        let html = app.page_text(&format!("{}/thread.html?key=/post/", app.api)).await;
        let feed = format!("{}/thread.atom?key=%2Fpost%2F", app.api);
        assert!(
            html.contains(&format!(r#"<a href="{feed}" rel="alternate" type="application/atom+xml">"#)),
            "{html}"
        );
        assert!(html.contains(&format!(r#"data-kith-feed="{feed}""#)), "{html}");
        // and the link works
        let parsed = feedparser(&app.page_text(&feed).await);
        assert_eq!(parsed["entries"][0]["author"], "Alice");
    }
}
