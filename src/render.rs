//! Markdown → sanitized HTML. `SafeHtml` can only be made here (or read back from storage,
//! which only ever holds values made here), so no unsanitized HTML reaches a page.

use std::collections::HashSet;

use ammonia::{Builder, UrlRelative};
use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};
use regex_lite::Regex;
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

/// Tags WordPress allows in comments (`$allowedtags` in `kses.php`), with the same attributes,
/// plus what kith's markdown renderer produces. Everything else is removed (its text kept).
pub const ALLOWED_TAGS: [&str; 20] = [
    // WordPress's comment allowlist
    "a",
    "abbr",
    "acronym",
    "b",
    "blockquote",
    "cite",
    "code",
    "del",
    "em",
    "i",
    "q",
    "s",
    "strike",
    "strong",
    // what markdown adds
    "p",
    "br",
    "pre",
    "ul",
    "ol",
    "li",
];

/// `(tag, attribute)` pairs kept. `href` and `cite` must be absolute http(s) (or `mailto:` for
/// `href`) URLs; the rest are plain text.
pub const ALLOWED_ATTRIBUTES: [(&str, &str); 8] = [
    ("a", "href"),
    ("a", "title"),
    ("abbr", "title"),
    ("acronym", "title"),
    ("blockquote", "cite"),
    ("del", "datetime"),
    ("q", "cite"),
    ("ol", "start"),
];

impl Renderer {
    pub fn new() -> Self {
        let tags: HashSet<&'static str> = ALLOWED_TAGS.into_iter().collect();
        let mut cleaner = Builder::empty();
        cleaner
            .tags(tags)
            // `Builder::empty` empties the tags only: ammonia's default attributes (`lang` and
            // `title` anywhere, `hreflang`, …) go too, so only the list below is kept.
            .generic_attributes(HashSet::new())
            .tag_attributes(std::collections::HashMap::new())
            .url_schemes(["http", "https", "mailto"].into_iter().collect())
            .url_relative(UrlRelative::Deny)
            .link_rel(Some("nofollow ugc noopener"))
            .clean_content_tags(["script", "style"].into_iter().collect())
            .strip_comments(true)
            // ammonia checks `href` itself; `cite` is a URL it does not know about.
            .attribute_filter(|_element, attribute, value| {
                if attribute == "cite" && !crate::domain::link::is_safe_web_link(value.trim()) {
                    None
                } else {
                    Some(value.into())
                }
            });
        for (tag, attribute) in ALLOWED_ATTRIBUTES {
            cleaner.add_tag_attributes(tag, [attribute]);
        }
        Self { cleaner }
    }

    /// Renders a comment's markdown. Raw HTML in the markdown is shown as text, never passed
    /// through; single line breaks are kept, as readers expect in comments.
    pub fn markdown(&self, source: &str) -> SafeHtml {
        self.render_markdown(source, false)
    }

    /// Markdown as Isso and Commento render it: kith's rules plus bare `http(s)://` addresses
    /// turned into links (both run their markdown with autolinking on).
    pub fn markdown_autolinked(&self, source: &str) -> SafeHtml {
        self.render_markdown(source, true)
    }

    fn render_markdown(&self, source: &str, autolink: bool) -> SafeHtml {
        let mut options = Options::empty();
        options.insert(Options::ENABLE_STRIKETHROUGH);
        let mut in_link = 0usize;
        let mut in_code = 0usize;
        let events = Parser::new_ext(source, options).flat_map(|event| {
            match &event {
                Event::Start(Tag::Link { .. }) => in_link += 1,
                Event::End(TagEnd::Link) => in_link = in_link.saturating_sub(1),
                Event::Start(Tag::CodeBlock(_)) => in_code += 1,
                Event::End(TagEnd::CodeBlock) => in_code = in_code.saturating_sub(1),
                _ => {}
            }
            let linkify = autolink && in_link == 0 && in_code == 0;
            match event {
                Event::Text(text) if linkify => linkified(&text),
                Event::Html(raw) | Event::InlineHtml(raw) => vec![Event::Text(raw)],
                Event::SoftBreak => vec![Event::HardBreak],
                other => vec![other],
            }
        });
        let mut html = String::with_capacity(source.len() * 3 / 2);
        pulldown_cmark::html::push_html(&mut html, events);
        SafeHtml(self.cleaner.clean(&html).to_string())
    }

    /// Sanitizes HTML from another system (imports).
    pub fn html(&self, html: &str) -> SafeHtml {
        SafeHtml(self.cleaner.clean(html).to_string())
    }

    /// A WordPress comment as WordPress shows it: [`wpautop`] (blank line → paragraph, single
    /// newline → `<br>`), then the sanitizer. Trailing white space is dropped.
    pub fn wordpress(&self, text: &str) -> SafeHtml {
        let html = self.cleaner.clean(&wpautop(text)).to_string();
        SafeHtml(html.trim_end().to_string())
    }
}

/// Splits a text event at bare `http://` and `https://` addresses and links them. An address
/// ends at white space or `<`; trailing punctuation (`.,;:!?)'"`) stays text, as autolinkers do.
fn linkified(text: &str) -> Vec<Event<'static>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = find_address(rest) {
        let tail = &rest[start..];
        let mut end = tail
            .find(|c: char| c.is_whitespace() || c == '<' || c == '>')
            .unwrap_or(tail.len());
        while end > 0 && tail[..end].ends_with(['.', ',', ';', ':', '!', '?', ')', '\'', '"']) {
            end -= 1;
        }
        let url = &tail[..end];
        if url.len() <= "https://".len() {
            out.push(Event::Text(CowStr::from(
                rest[..start + end.max(1)].to_string(),
            )));
            rest = &rest[start + end.max(1)..];
            continue;
        }
        if start > 0 {
            out.push(Event::Text(CowStr::from(rest[..start].to_string())));
        }
        let dest = CowStr::from(url.to_string());
        out.push(Event::Start(Tag::Link {
            link_type: LinkType::Autolink,
            dest_url: dest.clone(),
            title: CowStr::from(""),
            id: CowStr::from(""),
        }));
        out.push(Event::Text(dest));
        out.push(Event::End(TagEnd::Link));
        rest = &tail[end..];
    }
    if !rest.is_empty() {
        out.push(Event::Text(CowStr::from(rest.to_string())));
    }
    out
}

fn find_address(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    let http = lower.find("http://");
    let https = lower.find("https://");
    match (http, https) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Block elements as WordPress's `wpautop` knows them.
const ALLBLOCKS: &str = "(?:table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre|form|map|area|blockquote|address|style|p|h[1-6]|hr|fieldset|legend|section|article|aside|hgroup|header|footer|nav|figure|figcaption|details|menu|summary)";

struct Autop {
    brs: Regex,
    block_open: Regex,
    block_close: Regex,
    hr: Regex,
    newlines: Regex,
    paragraph_split: Regex,
    empty_p: Regex,
    unclosed_p: Regex,
    wrapped_block: Regex,
    wrapped_li: Regex,
    p_blockquote: Regex,
    p_before_block: Regex,
    p_after_block: Regex,
    br_after_block: Regex,
    br_before_block: Regex,
    tag: Regex,
}

#[expect(
    clippy::expect_used,
    reason = "constant patterns, compiled once; a typo fails every test at once"
)]
fn autop() -> &'static Autop {
    static AUTOP: std::sync::OnceLock<Autop> = std::sync::OnceLock::new();
    AUTOP.get_or_init(|| {
        let re = |p: &str| Regex::new(&p.replace("ALLBLOCKS", ALLBLOCKS)).expect("valid pattern");
        Autop {
            brs: re(r"<br\s*/?>\s*<br\s*/?>"),
            block_open: re(r"(<ALLBLOCKS[\s/>])"),
            block_close: re(r"(</ALLBLOCKS>)"),
            hr: re(r"(<hr\s*?/?>)"),
            newlines: re("\n\n+"),
            paragraph_split: re(r"\n\s*\n"),
            empty_p: re(r"<p>\s*</p>"),
            unclosed_p: re(r"<p>([^<]+)</(div|address|form)>"),
            wrapped_block: re(r"<p>\s*(</?ALLBLOCKS[^>]*>)\s*</p>"),
            wrapped_li: re(r"<p>(<li.+?)</p>"),
            p_blockquote: re(r"(?i)<p><blockquote([^>]*)>"),
            p_before_block: re(r"<p>\s*(</?ALLBLOCKS[^>]*>)"),
            p_after_block: re(r"(</?ALLBLOCKS[^>]*>)\s*</p>"),
            br_after_block: re(r"(</?ALLBLOCKS[^/]*>)\s*<br />"),
            br_before_block: re(r"<br />(\s*</?(?:p|li|div|dl|dd|dt|th|pre|td|ul|ol)[^>]*>)"),
            tag: re(r"<[^>]*>"),
        }
    })
}

/// WordPress's `wpautop` (as `comment_text` runs it): double newlines become paragraphs,
/// single newlines `<br />`, block elements are not wrapped, `<pre>` blocks are left alone.
/// The output still needs the sanitizer.
pub fn wpautop(text: &str) -> String {
    if text.trim().is_empty() {
        return String::new();
    }
    let a = autop();
    let mut text = format!("{text}\n");
    // <pre> blocks are set aside and put back at the end.
    let mut pre_tags: Vec<(String, String)> = Vec::new();
    if text.contains("<pre") {
        let mut parts: Vec<&str> = text.split("</pre>").collect();
        let last = parts.pop().unwrap_or_default();
        let mut rebuilt = String::with_capacity(text.len());
        for part in parts {
            match part.find("<pre") {
                None => rebuilt.push_str(part),
                Some(start) => {
                    let name = format!("<pre wp-pre-tag-{}></pre>", pre_tags.len());
                    pre_tags.push((name.clone(), format!("{}</pre>", &part[start..])));
                    rebuilt.push_str(&part[..start]);
                    rebuilt.push_str(&name);
                }
            }
        }
        rebuilt.push_str(last);
        text = rebuilt;
    }
    let text = a.brs.replace_all(&text, "\n\n");
    let text = a.block_open.replace_all(&text, "\n\n$1");
    let text = a.block_close.replace_all(&text, "$1\n\n");
    let text = a.hr.replace_all(&text, "$1\n\n");
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    // Newlines inside tags are not line breaks.
    let text = a
        .tag
        .replace_all(&text, |c: &regex_lite::Captures<'_>| {
            c[0].replace('\n', " <!-- wpnl --> ")
        })
        .into_owned();
    let text = a.newlines.replace_all(&text, "\n\n");
    let mut out = String::with_capacity(text.len() + 32);
    for paragraph in a.paragraph_split.split(&text) {
        if paragraph.is_empty() {
            continue;
        }
        out.push_str("<p>");
        out.push_str(paragraph.trim_matches('\n'));
        out.push_str("</p>\n");
    }
    let text = a.empty_p.replace_all(&out, "");
    let text = a.unclosed_p.replace_all(&text, "<p>$1</p></$2>");
    let text = a.wrapped_block.replace_all(&text, "$1");
    let text = a.wrapped_li.replace_all(&text, "$1");
    let text = a.p_blockquote.replace_all(&text, "<blockquote$1><p>");
    let text = text.replace("</blockquote></p>", "</p></blockquote>");
    let text = a.p_before_block.replace_all(&text, "$1");
    let text = a.p_after_block.replace_all(&text, "$1");
    let text = text.replace("<br>", "<br />").replace("<br/>", "<br />");
    let text = newlines_to_br(&text);
    let text = a.br_after_block.replace_all(&text, "$1");
    let text = a.br_before_block.replace_all(&text, "$1");
    let mut text = text.into_owned();
    if text.ends_with("\n</p>\n") {
        // `\n</p>$` in PHP also matches before a final newline
        text.truncate(text.len() - "\n</p>\n".len());
        text.push_str("</p>\n");
    }
    for (name, pre) in pre_tags {
        text = text.replacen(&name, &pre, 1);
    }
    text.replace(" <!-- wpnl --> ", "\n")
        .replace("<!-- wpnl -->", "\n")
}

/// `(?<!<br />)\s*\n` → `<br />\n`: every newline not already preceded by `<br />` (white space
/// before it is dropped) becomes a line break.
fn newlines_to_br(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            // the previous line ended with a newline: its trailing white space was a `\s*`
            let trimmed_len = out.trim_end().len();
            let before = &out[..trimmed_len];
            if before.ends_with("<br />") && trimmed_len == out.len() {
                out.push('\n');
            } else {
                out.truncate(trimmed_len);
                out.push_str("<br />\n");
            }
        }
        out.push_str(line);
    }
    out
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
    fn wpautop_makes_paragraphs_and_line_breaks_like_wordpress() {
        let r = Renderer::new();
        assert_eq!(
            r.wordpress("one\ntwo\n\nthree").as_str(),
            "<p>one<br>\ntwo</p>\n<p>three</p>"
        );
        assert_eq!(
            r.wordpress("a\r\n\r\n\r\n\r\nb").as_str(),
            "<p>a</p>\n<p>b</p>"
        );
        // block elements are not wrapped, <pre> is untouched
        assert_eq!(
            r.wordpress("x\n<ul><li>a</li></ul>\n<pre>p\n\nq</pre>")
                .as_str(),
            "<p>x</p>\n<ul>\n<li>a</li>\n</ul>\n<pre>p\n\nq</pre>"
        );
        // HTML bodies keep their structure, and running it again changes nothing
        let once = r.wordpress("<p>a</p>\n<p>b<br>\nc</p>");
        assert_eq!(once.as_str(), "<p>a</p>\n<p>b<br>\nc</p>");
        assert_eq!(r.wordpress(once.as_str()), once);
        assert_eq!(wpautop("  \n "), "");
    }

    #[test]
    fn isso_and_commento_markdown_link_bare_addresses() {
        let r = Renderer::new();
        let html = r.markdown_autolinked(
            "see https://x.example/a?b=1. and [t](https://y.example/)\n`https://z.example/`",
        );
        assert!(
            html.as_str().contains(
                r#"<a href="https://x.example/a?b=1" rel="nofollow ugc noopener">https://x.example/a?b=1</a>."#
            ),
            "{}",
            html.as_str()
        );
        assert_eq!(html.as_str().matches("<a ").count(), 2, "{}", html.as_str());
        assert!(
            !r.markdown("see https://x.example/")
                .as_str()
                .contains("<a ")
        );
        assert!(
            !r.markdown_autolinked("javascript:alert(1) http://")
                .as_str()
                .contains("<a ")
        );
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
