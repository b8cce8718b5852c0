//! WordPress eXtended RSS 1.2 writer.
//!
//! One `<item>` per thread: `<link>` is the thread's URL (its key when it has none), `<guid>` its
//! key, `<wp:comment_status>` says whether it is closed. Comments carry id, parent, author,
//! email, URL, IP, user agent, date (both `comment_date` and `comment_date_gmt` in UTC, to the
//! second), content, status (`1`, `0`, `spam`, `trash`) and type (`comment`, `pingback`,
//! `trackback`). WXR has no place for likes, pins, owner, reply notifications, held reasons or
//! edit times; those are not written.
//!
//! Every field WordPress's importer reads for a post and a comment is written (see
//! [`POST_FIELDS`], [`COMMENT_FIELDS`]); a post's date is its first comment's, its content a
//! link to the page. Comment ids: a comment that came from WordPress keeps its WordPress id
//! (`wordpress@blog#42` → 42), as do numeric ids; the others are numbered after the highest
//! id kept. Each comment also carries its import key in the comment meta
//! `_kith_import_key`, so importing the file back into kith adds nothing it already holds.
//!
//! Bodies: the stored rendered HTML when there is one, an HTML body as is, a Markdown body
//! rendered with pulldown-cmark (raw HTML in it escaped, not passed through).

use std::collections::HashMap;
use std::io::Write;

use quick_xml::escape::escape;

use crate::import::IMPORT_KEY_META;

use crate::import::{
    CommentKind, CommentStatus, Format, ImportBody, ImportComment, ImportData, is_legacy_key,
    split_key,
};

/// What WordPress's importer (`WXR_Parser`) reads for each `<item>`, all written here.
pub const POST_FIELDS: [&str; 19] = [
    "title",
    "link",
    "pubDate",
    "dc:creator",
    "guid",
    "description",
    "content:encoded",
    "excerpt:encoded",
    "wp:post_id",
    "wp:post_date",
    "wp:post_date_gmt",
    "wp:comment_status",
    "wp:ping_status",
    "wp:post_name",
    "wp:status",
    "wp:post_parent",
    "wp:menu_order",
    "wp:post_type",
    "wp:post_password",
];

/// What it reads for each `<wp:comment>`, all written here.
pub const COMMENT_FIELDS: [&str; 14] = [
    "wp:comment_id",
    "wp:comment_author",
    "wp:comment_author_email",
    "wp:comment_author_url",
    "wp:comment_author_IP",
    "wp:comment_date",
    "wp:comment_date_gmt",
    "wp:comment_content",
    "wp:comment_approved",
    "wp:comment_agent",
    "wp:comment_type",
    "wp:comment_parent",
    "wp:comment_user_id",
    "wp:commentmeta",
];

const HEADER: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"
	xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
	xmlns:content="http://purl.org/rss/1.0/modules/content/"
	xmlns:wfw="http://wellformedweb.org/CommentAPI/"
	xmlns:dc="http://purl.org/dc/elements/1.1/"
	xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
"#;

fn markdown_to_html(md: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser, html};
    let parser = Parser::new_ext(md, Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES).map(
        |e| match e {
            Event::Html(s) | Event::InlineHtml(s) => Event::Text(s),
            other => other,
        },
    );
    let mut out = String::with_capacity(md.len() + md.len() / 4);
    html::push_html(&mut out, parser);
    out.trim_end().to_string()
}

pub(crate) fn body_html(c: &ImportComment) -> String {
    if let Some(html) = &c.rendered_html {
        return html.clone();
    }
    match &c.body {
        ImportBody::Html(s) => s.clone(),
        ImportBody::Markdown(s) => markdown_to_html(s),
    }
}

/// The WordPress id a source id asks for: `wordpress@blog#42` and plain `42` → 42.
fn wanted_id(source_id: &str) -> Option<u64> {
    let id = match split_key(source_id) {
        Some((Format::WordPress, _, id)) => id,
        Some(_) => return None,
        None => source_id,
    };
    id.parse::<u64>()
        .ok()
        .filter(|n| *n > 0 && !id.starts_with('0'))
}

/// Chooses WordPress comment ids: (thread index, source id) → id. Wanted ids are kept when
/// unique in the file; the rest are numbered after the highest kept.
fn comment_ids(data: &ImportData) -> HashMap<(usize, &str), String> {
    let mut count: HashMap<u64, usize> = HashMap::new();
    for c in data.threads.iter().flat_map(|t| &t.comments) {
        if let Some(n) = wanted_id(&c.source_id) {
            *count.entry(n).or_default() += 1;
        }
    }
    let mut next = count
        .iter()
        .filter(|(_, n)| **n == 1)
        .map(|(id, _)| *id)
        .max()
        .unwrap_or(0);
    let mut ids = HashMap::new();
    for (ti, t) in data.threads.iter().enumerate() {
        for c in &t.comments {
            let id = match wanted_id(&c.source_id) {
                Some(n) if count.get(&n) == Some(&1) => n,
                _ => {
                    next += 1;
                    next
                }
            };
            ids.insert((ti, c.source_id.as_str()), id.to_string());
        }
    }
    ids
}

/// A post slug from a page address: its last path segment (`/2014/hello-world/` →
/// `hello-world`), else `post-N`.
fn post_name(key: &str, n: usize) -> String {
    let path = key.split(['?', '#']).next().unwrap_or("");
    let path = path
        .split_once("://")
        .map_or(path, |(_, rest)| rest.find('/').map_or("", |i| &rest[i..]));
    match path.trim_end_matches('/').rsplit('/').next() {
        Some(segment) if !segment.is_empty() => segment.to_string(),
        _ => format!("post-{n}"),
    }
}

/// Replaces characters that XML 1.0 forbids even as references (most C0 controls, lone
/// surrogates cannot occur in a `str`, U+FFFE/U+FFFF) with U+FFFD, so strict readers such as
/// WordPress's libxml2-based importer accept the file.
pub(crate) fn xml_safe(s: &str) -> std::borrow::Cow<'_, str> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r')
            || ('\u{20}'..='\u{D7FF}').contains(&c)
            || ('\u{E000}'..='\u{FFFD}').contains(&c)
            || c >= '\u{10000}'
    };
    if s.chars().all(allowed) {
        std::borrow::Cow::Borrowed(s)
    } else {
        std::borrow::Cow::Owned(
            s.chars()
                .map(|c| if allowed(c) { c } else { '\u{FFFD}' })
                .collect(),
        )
    }
}

fn element(out: &mut impl Write, indent: &str, name: &str, value: &str) -> std::io::Result<()> {
    writeln!(
        out,
        "{indent}<{name}>{}</{name}>",
        escape(xml_safe(value).as_ref())
    )
}

/// The author kith's posts are attributed to (`dc:creator`), declared in the channel.
const AUTHOR: &str = "kith";

/// Writes `data` as WXR 1.2. `site_title` becomes the channel title, `site_link` (the site's
/// address, may be empty) the channel link.
pub fn write(
    data: &ImportData,
    site_title: &str,
    site_link: &str,
    out: impl Write,
) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(out);
    out.write_all(HEADER.as_bytes())?;
    element(&mut out, "\t", "title", site_title)?;
    element(&mut out, "\t", "link", site_link)?;
    element(&mut out, "\t", "description", "")?;
    element(&mut out, "\t", "pubDate", &chrono::Utc::now().to_rfc2822())?;
    element(&mut out, "\t", "wp:wxr_version", "1.2")?;
    element(&mut out, "\t", "wp:base_site_url", site_link)?;
    element(&mut out, "\t", "wp:base_blog_url", site_link)?;
    writeln!(out, "\t<wp:author>")?;
    element(&mut out, "\t\t", "wp:author_id", "1")?;
    element(&mut out, "\t\t", "wp:author_login", AUTHOR)?;
    element(&mut out, "\t\t", "wp:author_email", "")?;
    element(&mut out, "\t\t", "wp:author_display_name", AUTHOR)?;
    writeln!(out, "\t</wp:author>")?;
    element(&mut out, "\t", "generator", "kith")?;
    let ids = comment_ids(data);
    for (ti, t) in data.threads.iter().enumerate() {
        let link = t.url.as_deref().unwrap_or(&t.key);
        let title = t.title.as_deref().unwrap_or("");
        // WordPress keeps the post's date; kith knows its first comment's.
        let date = t
            .comments
            .iter()
            .map(|c| c.created_at)
            .min()
            .unwrap_or(chrono::DateTime::UNIX_EPOCH);
        let post_date = date.format("%Y-%m-%d %H:%M:%S").to_string();
        writeln!(out, "\t<item>")?;
        element(&mut out, "\t\t", "title", title)?;
        element(&mut out, "\t\t", "link", link)?;
        element(&mut out, "\t\t", "pubDate", &date.to_rfc2822())?;
        element(&mut out, "\t\t", "dc:creator", AUTHOR)?;
        writeln!(
            out,
            "\t\t<guid isPermaLink=\"false\">{}</guid>",
            escape(xml_safe(&t.key).as_ref())
        )?;
        element(&mut out, "\t\t", "description", "")?;
        let content = if link.starts_with("http://") || link.starts_with("https://") {
            format!(
                "<p>Comments imported from <a href=\"{}\">{}</a>.</p>",
                escape(link),
                escape(if title.is_empty() { link } else { title })
            )
        } else {
            String::new()
        };
        element(&mut out, "\t\t", "content:encoded", &content)?;
        element(&mut out, "\t\t", "excerpt:encoded", "")?;
        element(&mut out, "\t\t", "wp:post_id", &(ti + 1).to_string())?;
        element(&mut out, "\t\t", "wp:post_date", &post_date)?;
        element(&mut out, "\t\t", "wp:post_date_gmt", &post_date)?;
        element(
            &mut out,
            "\t\t",
            "wp:comment_status",
            if t.closed { "closed" } else { "open" },
        )?;
        element(&mut out, "\t\t", "wp:ping_status", "open")?;
        element(&mut out, "\t\t", "wp:post_name", &post_name(&t.key, ti + 1))?;
        element(&mut out, "\t\t", "wp:status", "publish")?;
        element(&mut out, "\t\t", "wp:post_parent", "0")?;
        element(&mut out, "\t\t", "wp:menu_order", "0")?;
        element(&mut out, "\t\t", "wp:post_type", "post")?;
        element(&mut out, "\t\t", "wp:post_password", "")?;
        element(&mut out, "\t\t", "wp:is_sticky", "0")?;
        for c in &t.comments {
            let id = ids
                .get(&(ti, c.source_id.as_str()))
                .cloned()
                .unwrap_or_default();
            let parent = c
                .parent_source_id
                .as_deref()
                .and_then(|p| ids.get(&(ti, p)))
                .map_or("0", String::as_str);
            let date = c.created_at.format("%Y-%m-%d %H:%M:%S").to_string();
            let approved = match c.status {
                CommentStatus::Approved => "1",
                CommentStatus::Pending => "0",
                CommentStatus::Spam => "spam",
                CommentStatus::Deleted => "trash",
            };
            let kind = match c.kind {
                CommentKind::Comment => "comment",
                CommentKind::Pingback => "pingback",
                CommentKind::Trackback => "trackback",
                // The type the WordPress Webmention plugin gives received mentions.
                CommentKind::Webmention => "webmention",
            };
            let i = "\t\t\t";
            writeln!(out, "\t\t<wp:comment>")?;
            element(&mut out, i, "wp:comment_id", &id)?;
            element(&mut out, i, "wp:comment_author", &c.author)?;
            element(
                &mut out,
                i,
                "wp:comment_author_email",
                c.email.as_deref().unwrap_or(""),
            )?;
            element(
                &mut out,
                i,
                "wp:comment_author_url",
                c.website.as_deref().unwrap_or(""),
            )?;
            element(
                &mut out,
                i,
                "wp:comment_author_IP",
                c.ip.as_deref().unwrap_or(""),
            )?;
            element(&mut out, i, "wp:comment_date", &date)?;
            element(&mut out, i, "wp:comment_date_gmt", &date)?;
            element(&mut out, i, "wp:comment_content", &body_html(c))?;
            element(&mut out, i, "wp:comment_approved", approved)?;
            element(
                &mut out,
                i,
                "wp:comment_agent",
                c.user_agent.as_deref().unwrap_or(""),
            )?;
            element(&mut out, i, "wp:comment_type", kind)?;
            element(&mut out, i, "wp:comment_parent", parent)?;
            element(&mut out, i, "wp:comment_user_id", "0")?;
            if split_key(&c.source_id).is_some() || is_legacy_key(&c.source_id) {
                writeln!(out, "\t\t\t<wp:commentmeta>")?;
                element(&mut out, "\t\t\t\t", "wp:meta_key", IMPORT_KEY_META)?;
                element(&mut out, "\t\t\t\t", "wp:meta_value", &c.source_id)?;
                writeln!(out, "\t\t\t</wp:commentmeta>")?;
            }
            writeln!(out, "\t\t</wp:comment>")?;
        }
        writeln!(out, "\t</item>")?;
    }
    out.write_all(b"</channel>\n</rss>\n")?;
    out.flush()
}
