//! Markdown → sanitized HTML. `SafeHtml` can only be made here (or read back from storage,
//! which only ever holds values made here), so no unsanitized HTML reaches a page.

use std::collections::HashSet;

use ammonia::{Builder, UrlRelative};
use pulldown_cmark::{Event, Options, Parser};
use serde::Serialize;

/// HTML that went through the sanitizer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct SafeHtml(String);

impl SafeHtml {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }

    /// The empty fragment (deleted placeholders).
    pub fn empty() -> Self {
        Self(String::new())
    }

    /// Wraps HTML read back from the database, where only `SafeHtml` values are ever written.
    ///
    /// Only `db/` may call this (when it turns a row into a domain value); everything else gets
    /// its `SafeHtml` from the [`Renderer`] or from a value `db` handed out. Rust cannot scope a
    /// function to a sibling module, so `storage_html_is_wrapped_only_in_db` below checks it.
    pub(crate) fn from_storage(html: String) -> Self {
        Self(html)
    }
}

/// The one sanitizer, built at start-up and shared.
pub struct Renderer {
    cleaner: Builder<'static>,
}

impl Default for Renderer {
    fn default() -> Self {
        Self::new()
    }
}

impl Renderer {
    pub fn new() -> Self {
        let tags: HashSet<&'static str> = [
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
        ]
        .into_iter()
        .collect();
        let mut cleaner = Builder::empty();
        cleaner
            .tags(tags)
            .add_tag_attributes("a", ["href"])
            .add_tag_attributes("ol", ["start"])
            .url_schemes(["http", "https", "mailto"].into_iter().collect())
            .url_relative(UrlRelative::Deny)
            .link_rel(Some("nofollow ugc noopener"))
            .clean_content_tags(["script", "style"].into_iter().collect())
            .strip_comments(true);
        Self { cleaner }
    }

    /// Renders a comment's markdown. Raw HTML in the markdown is shown as text, never passed
    /// through; single line breaks are kept, as readers expect in comments.
    pub fn markdown(&self, source: &str) -> SafeHtml {
        let mut options = Options::empty();
        options.insert(Options::ENABLE_STRIKETHROUGH);
        let events = Parser::new_ext(source, options).map(|event| match event {
            Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
            Event::SoftBreak => Event::HardBreak,
            other => other,
        });
        let mut html = String::with_capacity(source.len() * 3 / 2);
        pulldown_cmark::html::push_html(&mut html, events);
        SafeHtml(self.cleaner.clean(&html).to_string())
    }

    /// Sanitizes HTML from another system (imports).
    pub fn html(&self, html: &str) -> SafeHtml {
        SafeHtml(self.cleaner.clean(html).to_string())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders_allowed_elements() {
        let r = Renderer::new();
        let html = r.markdown("*hi* **there** `x` ~~no~~\n> quote\n\n- a\n- b");
        for tag in [
            "<em>",
            "<strong>",
            "<code>",
            "<del>",
            "<blockquote>",
            "<ul>",
            "<li>",
        ] {
            assert!(
                html.as_str().contains(tag),
                "{tag} missing in {}",
                html.as_str()
            );
        }
    }

    #[test]
    fn raw_html_is_escaped_not_passed() {
        let r = Renderer::new();
        let html = r.markdown("<script>alert(1)</script> <img src=x onerror=alert(1)>");
        assert!(!html.as_str().contains("<script"));
        assert!(!html.as_str().contains("<img"));
        assert!(html.as_str().contains("&lt;script&gt;"));
    }

    #[test]
    fn links_get_rel_and_only_safe_schemes() {
        let r = Renderer::new();
        let html = r.markdown("[a](https://x.org) [b](javascript:alert(1)) [c](/relative)");
        assert!(html.as_str().contains(r#"href="https://x.org""#));
        assert!(html.as_str().contains(r#"rel="nofollow ugc noopener""#));
        assert!(!html.as_str().contains("javascript:"));
        assert!(!html.as_str().contains("/relative"));
    }

    #[test]
    fn images_become_nothing_but_their_text() {
        let r = Renderer::new();
        let html = r.markdown("![alt text](https://x.org/i.png)");
        assert!(!html.as_str().contains("<img"));
    }

    #[test]
    fn storage_html_is_wrapped_only_in_db() {
        fn visit(dir: &std::path::Path, offenders: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    if !path.ends_with("db") {
                        visit(&path, offenders);
                    }
                } else if path.extension().is_some_and(|e| e == "rs")
                    && !path.ends_with("render.rs")
                    && std::fs::read_to_string(&path)
                        .unwrap()
                        .contains("from_storage(")
                {
                    offenders.push(path.display().to_string());
                }
            }
        }
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut offenders = Vec::new();
        visit(&src, &mut offenders);
        assert!(src.join("db").is_dir());
        assert_eq!(
            offenders,
            Vec::<String>::new(),
            "SafeHtml::from_storage outside db/"
        );
    }
}
