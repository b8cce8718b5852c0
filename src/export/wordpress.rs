//! WordPress eXtended RSS 1.2 writer.
//!
//! One `<item>` per thread: `<link>` is the thread's URL (its key when it has none), `<guid>` its
//! key, `<wp:comment_status>` says whether it is closed. Comments carry id, parent, author,
//! email, URL, IP, user agent, date (both `comment_date` and `comment_date_gmt` in UTC, to the
//! second), content, status (`1`, `0`, `spam`, `trash`) and type (`comment`, `pingback`,
//! `trackback`). WXR has no place for likes, pins, owner, reply notifications, held reasons or
//! edit times; those are not written.
//!
//! WordPress needs numeric comment ids unique in the file: source ids are kept when they all
//! are, otherwise every comment is numbered 1..N in file order (parents follow).
//!
//! Bodies: the stored rendered HTML when there is one, an HTML body as is, a Markdown body
//! rendered with pulldown-cmark (raw HTML in it escaped, not passed through).

use std::collections::{HashMap, HashSet};
use std::io::Write;

use quick_xml::escape::escape;

use crate::import::{CommentKind, CommentStatus, ImportBody, ImportComment, ImportData};

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

fn body_html(c: &ImportComment) -> String {
    if let Some(html) = &c.rendered_html {
        return html.clone();
    }
    match &c.body {
        ImportBody::Html(s) => s.clone(),
        ImportBody::Markdown(s) => markdown_to_html(s),
    }
}

/// Chooses WordPress comment ids: (thread index, source id) → id.
fn comment_ids(data: &ImportData) -> HashMap<(usize, &str), String> {
    let mut seen = HashSet::new();
    let numeric = data.threads.iter().flat_map(|t| &t.comments).all(|c| {
        c.source_id.parse::<u64>().is_ok_and(|n| n > 0)
            && !c.source_id.starts_with('0')
            && seen.insert(c.source_id.as_str())
    });
    let mut ids = HashMap::new();
    let mut next = 0u64;
    for (ti, t) in data.threads.iter().enumerate() {
        for c in &t.comments {
            let id = if numeric {
                c.source_id.clone()
            } else {
                next += 1;
                next.to_string()
            };
            ids.insert((ti, c.source_id.as_str()), id);
        }
    }
    ids
}

/// Replaces characters that XML 1.0 forbids even as references (most C0 controls, lone
/// surrogates cannot occur in a `str`, U+FFFE/U+FFFF) with U+FFFD, so strict readers such as
/// WordPress's libxml2-based importer accept the file.
fn xml_safe(s: &str) -> std::borrow::Cow<'_, str> {
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

/// Writes `data` as WXR 1.2. `site_title` becomes the channel title.
pub fn write(data: &ImportData, site_title: &str, out: impl Write) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(out);
    out.write_all(HEADER.as_bytes())?;
    element(&mut out, "\t", "title", site_title)?;
    element(&mut out, "\t", "description", "")?;
    element(&mut out, "\t", "wp:wxr_version", "1.2")?;
    element(&mut out, "\t", "generator", "kith")?;
    let ids = comment_ids(data);
    for (ti, t) in data.threads.iter().enumerate() {
        writeln!(out, "\t<item>")?;
        element(&mut out, "\t\t", "title", t.title.as_deref().unwrap_or(""))?;
        element(&mut out, "\t\t", "link", t.url.as_deref().unwrap_or(&t.key))?;
        writeln!(
            out,
            "\t\t<guid isPermaLink=\"false\">{}</guid>",
            escape(xml_safe(&t.key).as_ref())
        )?;
        element(&mut out, "\t\t", "wp:post_id", &(ti + 1).to_string())?;
        element(
            &mut out,
            "\t\t",
            "wp:comment_status",
            if t.closed { "closed" } else { "open" },
        )?;
        element(&mut out, "\t\t", "wp:status", "publish")?;
        element(&mut out, "\t\t", "wp:post_type", "post")?;
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
            writeln!(out, "\t\t</wp:comment>")?;
        }
        writeln!(out, "\t</item>")?;
    }
    out.write_all(b"</channel>\n</rss>\n")?;
    out.flush()
}
