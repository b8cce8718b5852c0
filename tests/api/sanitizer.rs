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

const TAGS: [&str; 12] = [
    "p",
    "br",
    "em",
    "strong",
    "a",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "del",
];

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
                ["href", "rel", "start"].contains(&attr),
                "attribute {attr} survived {input:?} -> {html}"
            );
            let value_part = attrs[eq + 1..].trim_start();
            assert!(value_part.starts_with('"'), "unquoted attribute in {html}");
            let close = value_part[1..]
                .find('"')
                .unwrap_or_else(|| panic!("open quote in {html}"));
            let value = &value_part[1..=close];
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
        assert_safe(&payload, renderer.html(&payload).as_str());
    }
}

both_backends! {
    async fn xss_vectors_posted_as_comments_come_back_sanitized(app: TestApp) {
        let vectors: Value = serde_json::from_str(&fixture("h5sc/vectors-expanded.derived.json")).unwrap();
        let mut texts = Vec::new();
        strings(&vectors, &mut texts);
        for text in texts.iter().filter(|t| !t.trim().is_empty()).take(60) {
            let response = app.post_comment(&serde_json::json!({"thread_key": "/xss/", "author": "X",
                "email": "x@example.com", "body": text})).await;
            assert!(response.status().as_u16() < 500);
        }
        let thread = app.thread("/xss/").await;
        for c in thread["comments"].as_array().unwrap() {
            assert_safe(c["body"].as_str().unwrap(), c["html"].as_str().unwrap());
        }
    }
}
