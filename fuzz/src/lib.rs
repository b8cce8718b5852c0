//! The bodies of kith's fuzz targets: each takes arbitrary bytes, must never panic, and checks
//! a property that holds for every input. `fuzz_targets/*.rs` hand them to libFuzzer
//! (`cargo fuzz run NAME`, nightly); the integration tests replay `fuzz/corpus/NAME/*` through
//! the same functions on stable (`cargo test --test api fuzz_corpus`), so a crash once found
//! and saved in the corpus stays fixed.

use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use kith::domain::thread::{Cursor, ThreadKey};
use kith::import::Format;
use kith::notify::links::Link;
use kith::render::Renderer;
use kith::secrets::Keys;
use kith::spam::{form_token, pow};

/// A target's body.
pub type Target = fn(&[u8]);

/// Every target, by name: the corpus folders and `cargo fuzz` binaries have these names.
pub const TARGETS: &[(&str, Target)] = &[
    ("markdown", markdown),
    ("sanitizer", sanitizer),
    ("import_wordpress", import_wordpress),
    ("import_disqus", import_disqus),
    ("import_isso", import_isso),
    ("import_commento", import_commento),
    ("import_kith", import_kith),
    ("thread_key", thread_key),
    ("tokens", tokens),
];

fn renderer() -> &'static Renderer {
    static RENDERER: OnceLock<Renderer> = OnceLock::new();
    RENDERER.get_or_init(Renderer::new)
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys::new(vec![7; 32]).unwrap_or_else(|e| panic!("{e}")))
}

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// Markdown from a reader becomes HTML with only the allowed tags and attributes.
pub fn markdown(data: &[u8]) {
    let html = renderer().markdown(&text(data));
    assert_only_allowed_html(html.as_str());
}

/// HTML from another system (imports), and WordPress comment text, are cleaned to the same
/// allowed set.
pub fn sanitizer(data: &[u8]) {
    let source = text(data);
    assert_only_allowed_html(renderer().html(&source).as_str());
    assert_only_allowed_html(renderer().wordpress(&source).as_str());
}

/// Walks the HTML: every `<` opens a tag of the renderer's allowlist with allowlisted, quoted
/// attributes; and, whatever the allowlist says, no event handler, no style, and links only to
/// http(s) or mailto. Text between tags cannot hold a raw `<`.
pub fn assert_only_allowed_html(html: &str) {
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let end = after
            .find('>')
            .unwrap_or_else(|| panic!("unclosed tag in {html:?}"));
        let tag = &after[..end];
        let tag = tag.strip_prefix('/').unwrap_or(tag);
        let tag = tag.strip_suffix('/').unwrap_or(tag);
        let (name, mut attributes) = tag.split_once(' ').unwrap_or((tag, ""));
        assert!(
            kith::render::ALLOWED_TAGS.contains(&name),
            "tag <{name}> in {html:?}"
        );
        while !attributes.trim().is_empty() {
            let attr = attributes.trim_start();
            let (attr_name, value) = attr
                .split_once("=\"")
                .unwrap_or_else(|| panic!("unquoted attribute in {html:?}"));
            let allowed = kith::render::ALLOWED_ATTRIBUTES.contains(&(name, attr_name))
                || (name, attr_name) == ("a", "rel");
            assert!(allowed, "attribute {attr_name} on <{name}> in {html:?}");
            let lower_name = attr_name.to_ascii_lowercase();
            assert!(
                !lower_name.starts_with("on") && lower_name != "style",
                "attribute {attr_name} in {html:?}"
            );
            let close = value
                .find('"')
                .unwrap_or_else(|| panic!("unclosed attribute in {html:?}"));
            let value = &value[..close];
            if matches!(attr_name, "href" | "cite") {
                let lower = value.to_ascii_lowercase();
                assert!(
                    ["http:", "https:", "mailto:"]
                        .iter()
                        .any(|s| lower.starts_with(s)),
                    "href {value:?} in {html:?}"
                );
            }
            attributes = &attr[attr_name.len() + 2 + close + 1..];
        }
        rest = &after[end + 1..];
    }
}

fn import(format: Format, data: &[u8]) {
    let _ = kith::import::detect(data);
    let Ok(imported) = kith::import::parse(data, format) else {
        return;
    };
    let _ = kith::import::summary(&imported);
    // After the repair every parent is a comment of the same thread.
    for thread in &imported.threads {
        for comment in &thread.comments {
            if let Some(parent) = &comment.parent_source_id {
                assert!(
                    thread.comments.iter().any(|c| &c.source_id == parent),
                    "comment {} in {} has a missing parent {parent}",
                    comment.source_id,
                    thread.key
                );
            }
        }
    }
}

pub fn import_wordpress(data: &[u8]) {
    import(Format::WordPress, data);
}

pub fn import_disqus(data: &[u8]) {
    import(Format::Disqus, data);
}

pub fn import_isso(data: &[u8]) {
    import(Format::Isso, data);
}

pub fn import_commento(data: &[u8]) {
    import(Format::Commento, data);
}

pub fn import_kith(data: &[u8]) {
    import(Format::Kith, data);
}

/// A thread key is a bounded path; a parsed key parses to itself.
pub fn thread_key(data: &[u8]) {
    const MAX: usize = 500;
    let Ok(key) = ThreadKey::parse(&text(data), MAX) else {
        return;
    };
    let key = key.as_str();
    assert!(key.starts_with('/'), "{key:?}");
    assert!(key.chars().count() <= MAX, "{key:?}");
    assert!(!key.chars().any(char::is_control), "{key:?}");
    let again = ThreadKey::parse(key, MAX).unwrap_or_else(|e| panic!("{key:?}: {e}"));
    assert_eq!(again.as_str(), key);
}

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

/// Tokens from outside: none verifies unless this server signed it, a changed character breaks
/// a real one, and cursors round-trip.
pub fn tokens(data: &[u8]) {
    let token = text(data);
    let now = at(1_800_000_000);
    assert!(
        Link::verify(&token, keys(), 1_800_000_000).is_err(),
        "{token:?}"
    );
    assert!(
        form_token::verify(
            keys(),
            1,
            &token,
            now,
            Duration::ZERO,
            form_token::DEFAULT_MAX_AGE
        )
        .is_err()
    );
    let (challenge, nonce) = token.split_once(' ').unwrap_or((&token, ""));
    assert!(pow::verify(keys(), 1, challenge, nonce, now, pow::DEFAULT_MAX_AGE).is_err());
    if let Some(cursor) = Cursor::parse(&token) {
        assert_eq!(Cursor::parse(&cursor.encode()), Some(cursor));
    }
    // One character of a real form token changed: refused.
    if let [position, replacement, ..] = data {
        let real = form_token::issue(keys(), 1, at(1_799_999_000));
        let mut changed: Vec<u8> = real.clone().into_bytes();
        let i = usize::from(*position) % changed.len();
        if changed[i] != *replacement {
            changed[i] = *replacement;
            let changed = String::from_utf8_lossy(&changed);
            let verdict = form_token::verify(
                keys(),
                1,
                &changed,
                now,
                Duration::ZERO,
                form_token::DEFAULT_MAX_AGE,
            );
            assert!(verdict.is_err(), "{changed:?} passed");
        }
        let verdict = form_token::verify(
            keys(),
            1,
            &real,
            now,
            Duration::ZERO,
            form_token::DEFAULT_MAX_AGE,
        );
        assert!(verdict.is_ok(), "{verdict:?}");
    }
}
