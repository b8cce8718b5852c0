//! Attack corpora through the sanitizer: no script, no handler, no javascript: URL survives.

use kith::render::Renderer;
use serde_json::Value;

use crate::both_backends;
use crate::helpers::TestApp;

fn fixture(path: &str) -> String {
    let full = format!("{}/../shared/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// Every string value anywhere in a JSON document.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

fn payloads() -> Vec<String> {
    let mut out = Vec::new();
    for file in [
        "h5sc/vectors-expanded.derived.json",
        "h5sc/payloads.derived.json",
        "dompurify/expect.derived.json",
        "bleach/bleach-regressions.derived.json",
    ] {
        let json: Value = serde_json::from_str(&fixture(file)).unwrap();
        strings(&json, &mut out);
    }
    out.retain(|s| !s.trim().is_empty());
    assert!(out.len() > 400, "corpora loaded ({} payloads)", out.len());
    out
}

/// kith's allowlist: WordPress's comment allowlist plus what markdown produces.
const TAGS: [&str; 20] = kith::render::ALLOWED_TAGS;

/// Checks sanitized output: only allowed tags and attributes, and links only to http(s) and
/// mailto. (Text may mention `javascript:`; it is escaped text, not a URL.)
fn assert_safe(input: &str, html: &str) {
    assert!(
        !html.to_ascii_lowercase().contains("<script"),
        "script survived {input:?} -> {html}"
    );
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let end = after
            .find('>')
            .unwrap_or_else(|| panic!("unclosed tag in {html}"));
        let tag = &after[..end];
        rest = &after[end + 1..];
        let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
        let name = tag[..name_end]
            .trim_start_matches('/')
            .trim_end_matches('/');
        assert!(
            TAGS.contains(&name),
            "tag <{name}> survived {input:?} -> {html}"
        );
        let mut attrs = tag[name_end..].trim();
        while !attrs.is_empty() {
            let eq = attrs
                .find('=')
                .unwrap_or_else(|| panic!("bare attribute in <{tag}> from {input:?}"));
            let attr = attrs[..eq].trim();
            assert!(
                attr == "rel" || kith::render::ALLOWED_ATTRIBUTES.contains(&(name, attr)),
                "attribute {attr} on <{name}> survived {input:?} -> {html}"
            );
            let value_part = attrs[eq + 1..].trim_start();
            assert!(value_part.starts_with('"'), "unquoted attribute in {html}");
            let close = value_part[1..]
                .find('"')
                .unwrap_or_else(|| panic!("open quote in {html}"));
            let value = &value_part[1..=close];
            if attr == "cite" {
                let v = value.to_ascii_lowercase();
                assert!(
                    v.starts_with("http://") || v.starts_with("https://"),
                    "unsafe cite {value} from {input:?}"
                );
            }
            if attr == "href" {
                let v = value.to_ascii_lowercase();
                assert!(
                    v.starts_with("http://")
                        || v.starts_with("https://")
                        || v.starts_with("mailto:"),
                    "unsafe link {value} from {input:?}"
                );
            }
            attrs = value_part[close + 2..].trim_start();
        }
    }
}

#[test]
fn attack_corpora_render_harmless_as_markdown_and_as_imported_html() {
    let renderer = Renderer::new();
    for payload in payloads() {
        assert_safe(&payload, renderer.markdown(&payload).as_str());
        assert_safe(&payload, renderer.markdown_autolinked(&payload).as_str());
        assert_safe(&payload, renderer.html(&payload).as_str());
        assert_safe(&payload, renderer.wordpress(&payload).as_str());
    }
}

/// WordPress's comment allowlist, tag by tag and attribute by attribute: each survives with
/// its attribute, and nothing else rides along.
#[test]
fn every_tag_and_attribute_wordpress_allows_in_comments_is_kept() {
    let renderer = Renderer::new();
    let cases: [(&str, &str); 14] = [
        (
            r#"<a href="https://x.example/" title="T">a</a>"#,
            r#"<a href="https://x.example/" title="T" rel="nofollow ugc noopener">a</a>"#,
        ),
        (r#"<abbr title="T">a</abbr>"#, r#"<abbr title="T">a</abbr>"#),
        (
            r#"<acronym title="T">a</acronym>"#,
            r#"<acronym title="T">a</acronym>"#,
        ),
        ("<b>a</b>", "<b>a</b>"),
        (
            r#"<blockquote cite="https://c.example/">a</blockquote>"#,
            r#"<blockquote cite="https://c.example/">a</blockquote>"#,
        ),
        ("<cite>a</cite>", "<cite>a</cite>"),
        ("<code>a</code>", "<code>a</code>"),
        (
            r#"<del datetime="2020-01-01">a</del>"#,
            r#"<del datetime="2020-01-01">a</del>"#,
        ),
        ("<em>a</em>", "<em>a</em>"),
        ("<i>a</i>", "<i>a</i>"),
        (
            r#"<q cite="https://c.example/">a</q>"#,
            r#"<q cite="https://c.example/">a</q>"#,
        ),
        ("<s>a</s>", "<s>a</s>"),
        ("<strike>a</strike>", "<strike>a</strike>"),
        ("<strong>a</strong>", "<strong>a</strong>"),
    ];
    for (input, expected) in cases {
        assert_eq!(renderer.html(input).as_str(), expected, "{input}");
        // with an attribute WordPress does not allow: dropped, the tag kept
        let extra = input.replacen('>', r#" style="color:red" onclick="x()">"#, 1);
        assert_eq!(renderer.html(&extra).as_str(), expected, "{extra}");
    }
    // cite is a URL: only http(s)
    for bad in ["javascript:alert(1)", "/relative", "data:text/html,x"] {
        let html = renderer.html(&format!(
            r#"<q cite="{bad}">a</q><blockquote cite="{bad}">b</blockquote>"#
        ));
        assert_eq!(html.as_str(), "<q>a</q><blockquote>b</blockquote>", "{bad}");
    }
    // still stripped (text kept): tags outside both lists
    assert_eq!(
        renderer
            .html("<u>u</u><span>s</span><img src=x><h1>h</h1>")
            .as_str(),
        "usH".replace('H', "h")
    );
}

/// The 149 html5sec vectors themselves (the `vector` of each item).
fn html5sec_vectors() -> Vec<String> {
    let items: Value =
        serde_json::from_str(&fixture("h5sc/vectors-expanded.derived.json")).unwrap();
    let vectors: Vec<String> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["vector"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(vectors.len(), 149, "every html5sec vector");
    vectors
}

#[derive(diesel::QueryableByName)]
struct Stored {
    #[diesel(sql_type = diesel::sql_types::Text)]
    body_markdown: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    body_html: String,
}

both_backends! {
    async fn every_html5sec_vector_posted_as_a_comment_is_stored_sanitized(app: TestApp) {
        let mut accepted = 0;
        let mut sources = std::collections::HashMap::new();
        for (i, vector) in html5sec_vectors().iter().enumerate() {
            let response = app.post_comment(&serde_json::json!({"thread_key": "/xss/", "author": "X",
                "email": "x@example.com", "body": vector})).await;
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            assert!(status == 201 || (400..500).contains(&status), "vector {i}: {status} {body}");
            if status == 201 {
                accepted += 1;
                assert_safe(vector, body["comment"]["html"].as_str().unwrap());
                sources.insert(body["comment"]["id"].as_i64().unwrap(), vector.to_string());
            }
        }
        // Vectors are refused only for what any body is refused for (control characters).
        assert!(accepted >= 140, "{accepted} of 149 accepted");
        // What was stored, not only what was answered.
        let mut conn = app.state.pool.get().unwrap();
        let stored: Vec<Stored> = diesel::RunQueryDsl::load(
            diesel::sql_query("SELECT body_markdown, body_html FROM comments"),
            &mut conn,
        )
        .unwrap();
        assert_eq!(stored.len(), accepted);
        for row in &stored {
            assert_safe(&row.body_markdown, &row.body_html);
        }
        drop(conn);
        let thread = app.thread("/xss/").await;
        for c in thread["comments"].as_array().unwrap() {
            assert_safe(&sources[&c["id"].as_i64().unwrap()], c["html"].as_str().unwrap());
        }
    }
}
