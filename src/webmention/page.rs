//! Reading a fetched source page: does it really link to the target, and what does it say
//! (microformats2 `h-entry`: author, content, published date), parsed with html5ever as a
//! browser would, so a link inside an HTML comment, a script or a style is no link.

use std::rc::Rc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use url::Url;

use super::dom::{self, Handle, Kind};

/// Elements and attributes whose URL makes a link to the target.
const LINK_ATTRIBUTES: [(&str, &str); 9] = [
    ("a", "href"),
    ("area", "href"),
    ("link", "href"),
    ("img", "src"),
    ("audio", "src"),
    ("video", "src"),
    ("source", "src"),
    ("blockquote", "cite"),
    ("q", "cite"),
];

/// Longest content HTML kept from an `h-entry`; a longer one is shown as a text excerpt.
const MAX_CONTENT_HTML: usize = 20_000;
/// Length of a text excerpt, in characters.
const EXCERPT_CHARS: usize = 500;

/// A parsed source page.
pub struct Page {
    document: Handle,
    base: Url,
}

/// What a mention says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct MentionContent {
    pub author_name: String,
    pub author_url: Option<String>,
    /// Unsanitized HTML (from an `e-content`) or `None` when only text is known.
    pub content_html: Option<String>,
    /// The content as plain text, for moderation and as the body when there is no HTML.
    pub content_text: String,
    pub published: Option<DateTime<Utc>>,
    /// Whether an `h-entry` was found.
    pub from_h_entry: bool,
}

impl Page {
    pub fn parse(html: &str, base: Url) -> Self {
        Self {
            document: dom::parse_document(html),
            base,
        }
    }

    /// Whether an element of the page links to `target` (the same URL once resolved against
    /// the page's address, fragments aside).
    pub fn links_to(&self, target: &Url) -> bool {
        let mut wanted = target.clone();
        wanted.set_fragment(None);
        let mut found = false;
        walk(&self.document, &mut |node| {
            if found {
                return false;
            }
            let Some(tag) = tag_name(node) else {
                return true;
            };
            for (element, attribute) in LINK_ATTRIBUTES {
                if tag == element
                    && let Some(value) = attr(node, attribute)
                    && let Ok(mut url) = self.base.join(value.trim())
                {
                    url.set_fragment(None);
                    if url == wanted {
                        found = true;
                    }
                }
            }
            true
        });
        found
    }

    /// The mention's author, text and date: from the first `h-entry` when there is one, else
    /// from the page's `<title>` and the source's host.
    pub fn content(&self) -> MentionContent {
        let host = self.base.host_str().unwrap_or("").to_string();
        match find_first(&self.document, &|n| has_class(n, "h-entry")) {
            Some(entry) => self.entry_content(&entry, host),
            None => {
                let title = find_first(&self.document, &|n| tag_name(n) == Some("title"))
                    .map(|t| text_of(&t))
                    .filter(|t| !t.is_empty());
                MentionContent {
                    author_name: host.clone(),
                    author_url: Some(origin_url(&self.base)),
                    content_html: None,
                    content_text: title.unwrap_or_else(|| format!("{host} linked here")),
                    published: None,
                    from_h_entry: false,
                }
            }
        }
    }

    fn entry_content(&self, entry: &Handle, host: String) -> MentionContent {
        let property = |class: &str| find_property(entry, class);
        let (author_name, author_url) = match property("p-author").or_else(|| property("u-author"))
        {
            Some(author) => {
                let card = has_class(&author, "h-card");
                let name = if card {
                    find_property(&author, "p-name").map(|n| text_of(&n))
                } else {
                    None
                }
                .unwrap_or_else(|| text_of(&author));
                let url = if card {
                    find_property(&author, "u-url").and_then(|u| self.url_of(&u))
                } else {
                    None
                }
                .or_else(|| self.url_of(&author));
                (name, url)
            }
            None => (String::new(), None),
        };
        let author_name = if author_name.is_empty() {
            host
        } else {
            author_name
        };
        let author_url = author_url.or_else(|| Some(origin_url(&self.base)));
        let content = property("e-content");
        let (content_html, content_text) = match &content {
            Some(node) => {
                let text = text_of(node);
                let html = Some(dom::inner_html(node)).filter(|h| h.len() <= MAX_CONTENT_HTML);
                (html, text)
            }
            None => {
                let text = property("p-summary")
                    .or_else(|| property("p-content"))
                    .or_else(|| property("p-name"))
                    .map(|n| text_of(&n))
                    .unwrap_or_default();
                (None, text)
            }
        };
        let content_text = if content_text.is_empty() {
            format!("{author_name} linked here")
        } else {
            content_text
        };
        let published = property("dt-published").and_then(|n| parse_date(&date_value(&n)));
        MentionContent {
            author_name,
            author_url,
            content_html,
            content_text,
            published,
            from_h_entry: true,
        }
    }

    /// An element's URL value (`href`, `src`), resolved against the page.
    fn url_of(&self, node: &Handle) -> Option<String> {
        let value = attr(node, "href").or_else(|| attr(node, "src"))?;
        let url = self.base.join(value.trim()).ok()?;
        crate::domain::link::is_safe_web_link(url.as_str()).then(|| url.to_string())
    }
}

/// A text excerpt of at most [`EXCERPT_CHARS`] characters.
pub fn excerpt(text: &str) -> String {
    let mut chars = text.chars();
    let short: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    if chars.next().is_some() {
        format!("{short}…")
    } else {
        short
    }
}

fn origin_url(url: &Url) -> String {
    let mut origin = url.clone();
    origin.set_path("/");
    origin.set_query(None);
    origin.set_fragment(None);
    origin.to_string()
}

/// Visits every node in document order; `visit` returns false to skip a node's children.
/// Iterative, so a deeply nested hostile page cannot overflow the stack.
fn walk(root: &Handle, visit: &mut dyn FnMut(&Handle) -> bool) {
    let mut stack = vec![root.clone()];
    while let Some(node) = stack.pop() {
        if visit(&node) {
            let children = node.children.borrow();
            stack.extend(children.iter().rev().cloned());
        }
    }
}

fn find_first(root: &Handle, matches: &dyn Fn(&Handle) -> bool) -> Option<Handle> {
    let mut found = None;
    walk(root, &mut |node| {
        if found.is_some() {
            return false;
        }
        if matches(node) {
            found = Some(node.clone());
            return false;
        }
        true
    });
    found
}

/// The first descendant of `root` with class `class` that belongs to `root` itself: the search
/// does not go into nested microformats (`h-*`), whose properties are theirs, though a nested
/// one may itself be the property (`p-author h-card`).
fn find_property(root: &Handle, class: &str) -> Option<Handle> {
    let mut found = None;
    let root_ptr = Rc::as_ptr(root);
    walk(root, &mut |node| {
        if found.is_some() {
            return false;
        }
        if Rc::as_ptr(node) == root_ptr {
            return true;
        }
        if has_class(node, class) {
            found = Some(node.clone());
            return false;
        }
        !classes(node).iter().any(|c| c.starts_with("h-"))
    });
    found
}

fn tag_name(node: &Handle) -> Option<&str> {
    node.tag()
}

fn attr(node: &Handle, name: &str) -> Option<String> {
    node.attr(name)
}

fn classes(node: &Handle) -> Vec<String> {
    attr(node, "class")
        .map(|c| c.split_ascii_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

fn has_class(node: &Handle, class: &str) -> bool {
    classes(node).iter().any(|c| c == class)
}

/// The text of a node, white space collapsed, scripts and styles left out.
fn text_of(node: &Handle) -> String {
    let mut text = String::new();
    walk(node, &mut |n| match &n.kind {
        Kind::Text(contents) => {
            text.push_str(&contents.borrow());
            false
        }
        Kind::Element { .. } => {
            let tag: &str = &n.name.local;
            if matches!(tag, "p" | "br" | "div" | "li") {
                text.push(' ');
            }
            !matches!(tag, "script" | "style" | "template")
        }
        _ => true,
    });
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A `dt-` property's value: `datetime` of `time`/`ins`/`del`, `title` of `abbr`, else text.
fn date_value(node: &Handle) -> String {
    let from_attr = match tag_name(node) {
        Some("time" | "ins" | "del") => attr(node, "datetime"),
        Some("abbr") => attr(node, "title"),
        _ => None,
    };
    from_attr.unwrap_or_else(|| text_of(node))
}

fn parse_date(value: &str) -> Option<DateTime<Utc>> {
    let value = value.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some(t.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%d %H:%M:%S%z",
        "%Y-%m-%d %H:%M%z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(value, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(value, format) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn page(html: &str) -> Page {
        Page::parse(html, Url::parse("https://source.example/posts/1").unwrap())
    }

    fn target() -> Url {
        Url::parse("https://blog.example/post/").unwrap()
    }

    #[test]
    fn a_link_in_an_anchor_counts_and_relative_links_resolve() {
        assert!(
            page(r#"<p>See <a href="https://blog.example/post/#c1">this</a></p>"#)
                .links_to(&target())
        );
        let p = Page::parse(
            r#"<a href="/post/">here</a>"#,
            Url::parse("https://blog.example/other/").unwrap(),
        );
        assert!(p.links_to(&target()));
    }

    #[test]
    fn links_in_comments_scripts_and_text_do_not_count() {
        for html in [
            r#"<!-- <a href="https://blog.example/post/">x</a> -->"#,
            r#"<script>document.write('<a href="https://blog.example/post/">x</a>')</script>"#,
            r#"<style>a[href="https://blog.example/post/"]{}</style>"#,
            r#"<p>https://blog.example/post/</p>"#,
            r#"<a href="https://blog.example/post/other">x</a>"#,
            r#"<textarea><a href="https://blog.example/post/">x</a></textarea>"#,
        ] {
            assert!(!page(html).links_to(&target()), "{html}");
        }
    }

    #[test]
    fn h_entry_gives_author_content_and_date() {
        let c = page(
            r#"<article class="h-entry">
                 <a class="p-author h-card" href="https://ann.example/"><span class="p-name">Ann</span></a>
                 <time class="dt-published" datetime="2026-11-01T10:00:00+01:00">1 Nov</time>
                 <div class="e-content"><p>Great <b>post</b></p></div>
                 <a href="https://blog.example/post/">re</a>
               </article>"#,
        )
        .content();
        assert!(c.from_h_entry);
        assert_eq!(c.author_name, "Ann");
        assert_eq!(c.author_url.as_deref(), Some("https://ann.example/"));
        assert_eq!(c.content_html.as_deref(), Some("<p>Great <b>post</b></p>"));
        assert_eq!(c.content_text, "Great post");
        assert_eq!(
            c.published.unwrap().to_rfc3339(),
            "2026-11-01T09:00:00+00:00"
        );
    }

    #[test]
    fn a_plain_page_falls_back_to_title_and_host() {
        let c = page("<title>Bob's notes</title><p>text</p>").content();
        assert!(!c.from_h_entry);
        assert_eq!(c.author_name, "source.example");
        assert_eq!(c.author_url.as_deref(), Some("https://source.example/"));
        assert_eq!(c.content_text, "Bob's notes");
        assert_eq!(c.content_html, None);
    }

    #[test]
    fn a_deeply_nested_page_does_not_overflow() {
        let html = "<div>".repeat(3_000);
        assert!(!page(&html).links_to(&target()));
    }
}
