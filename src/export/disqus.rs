//! Disqus XML writer: the shape of a Disqus export (`<disqus>` with `<category>`, `<thread>` and
//! `<post>` elements, ids in `dsq:id` attributes), which Disqus's importer and the many tools
//! that read Disqus exports (kith's own among them) accept.
//!
//! - One `<thread>` per thread: `<id>` is the thread key (Disqus's identifier), `<link>` its URL
//!   (its key when it has none), `<title>`, `<createdAt>` (its first comment's), `<isClosed>`.
//! - One `<post>` per comment, `dsq:id` numbered from 1 in file order, `<parent dsq:id>` for
//!   replies, `<message>` the body as HTML in CDATA (a `]]>` inside is split across two CDATA
//!   sections), `<author>` with name, e-mail and `isAnonymous`, `<ipAddress>`, `<isDeleted>`,
//!   `<isSpam>`, and `<isApproved>` (false for pending comments). The post's `<id>` carries
//!   the comment's import key, so importing the file back into kith adds nothing it has.
//! - Disqus has no place for likes, pins, owner, websites, user agents, edit times or the kind
//!   (pingbacks and trackbacks are written as posts).
//! - Characters XML 1.0 forbids are replaced by U+FFFD.

use std::collections::HashMap;
use std::io::Write;

use quick_xml::escape::escape;

use super::wordpress::{body_html, xml_safe};
use crate::import::{CommentStatus, ImportData, is_legacy_key, split_key};

const HEADER: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://disqus.com/api/schemas/1.0/disqus.xsd http://disqus.com/api/schemas/1.0/disqus-internals.xsd">
"#;

fn element(out: &mut impl Write, indent: &str, name: &str, value: &str) -> std::io::Result<()> {
    writeln!(
        out,
        "{indent}<{name}>{}</{name}>",
        escape(xml_safe(value).as_ref())
    )
}

/// `text` as CDATA: `]]>` cannot appear inside one section, so it is split across two.
fn cdata(text: &str) -> String {
    let safe = xml_safe(text);
    format!("<![CDATA[{}]]>", safe.replace("]]>", "]]]]><![CDATA[>"))
}

fn date(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn boolean(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// Writes `data` as a Disqus export of the forum `forum` (the site's slug).
pub fn write(data: &ImportData, forum: &str, out: impl Write) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(out);
    out.write_all(HEADER.as_bytes())?;
    writeln!(out, "  <category dsq:id=\"1\">")?;
    element(&mut out, "    ", "forum", forum)?;
    element(&mut out, "    ", "title", "General")?;
    element(&mut out, "    ", "isDefault", "true")?;
    writeln!(out, "  </category>")?;
    for (ti, t) in data.threads.iter().enumerate() {
        let created = t
            .comments
            .iter()
            .map(|c| c.created_at)
            .min()
            .unwrap_or(chrono::DateTime::UNIX_EPOCH);
        writeln!(out, "  <thread dsq:id=\"{}\">", ti + 1)?;
        element(&mut out, "    ", "id", &t.key)?;
        element(&mut out, "    ", "forum", forum)?;
        writeln!(out, "    <category dsq:id=\"1\"/>")?;
        element(&mut out, "    ", "link", t.url.as_deref().unwrap_or(&t.key))?;
        element(&mut out, "    ", "title", t.title.as_deref().unwrap_or(""))?;
        element(&mut out, "    ", "message", "")?;
        element(&mut out, "    ", "createdAt", &date(created))?;
        writeln!(out, "    <author>")?;
        element(&mut out, "      ", "name", forum)?;
        element(&mut out, "      ", "isAnonymous", "false")?;
        element(&mut out, "      ", "username", forum)?;
        writeln!(out, "    </author>")?;
        element(&mut out, "    ", "isClosed", boolean(t.closed))?;
        element(&mut out, "    ", "isDeleted", "false")?;
        writeln!(out, "  </thread>")?;
    }
    // Post ids are unique in the whole file.
    let mut next = 0u64;
    let mut ids: HashMap<(usize, &str), u64> = HashMap::new();
    for (ti, t) in data.threads.iter().enumerate() {
        for c in &t.comments {
            next += 1;
            ids.insert((ti, c.source_id.as_str()), next);
        }
    }
    for (ti, t) in data.threads.iter().enumerate() {
        for c in &t.comments {
            let id = ids.get(&(ti, c.source_id.as_str())).copied().unwrap_or(0);
            writeln!(out, "  <post dsq:id=\"{id}\">")?;
            let key = if split_key(&c.source_id).is_some() || is_legacy_key(&c.source_id) {
                c.source_id.as_str()
            } else {
                ""
            };
            element(&mut out, "    ", "id", key)?;
            writeln!(out, "    <message>{}</message>", cdata(&body_html(c)))?;
            element(&mut out, "    ", "createdAt", &date(c.created_at))?;
            element(
                &mut out,
                "    ",
                "isDeleted",
                boolean(c.status == CommentStatus::Deleted),
            )?;
            element(
                &mut out,
                "    ",
                "isSpam",
                boolean(c.status == CommentStatus::Spam),
            )?;
            element(
                &mut out,
                "    ",
                "isApproved",
                boolean(c.status != CommentStatus::Pending),
            )?;
            writeln!(out, "    <author>")?;
            element(
                &mut out,
                "      ",
                "email",
                c.email.as_deref().unwrap_or(""),
            )?;
            element(&mut out, "      ", "name", &c.author)?;
            element(&mut out, "      ", "isAnonymous", "true")?;
            element(&mut out, "      ", "username", "")?;
            writeln!(out, "    </author>")?;
            element(&mut out, "    ", "ipAddress", c.ip.as_deref().unwrap_or(""))?;
            writeln!(out, "    <thread dsq:id=\"{}\"/>", ti + 1)?;
            if let Some(parent) = c
                .parent_source_id
                .as_deref()
                .and_then(|p| ids.get(&(ti, p)))
            {
                writeln!(out, "    <parent dsq:id=\"{parent}\"/>")?;
            }
            writeln!(out, "  </post>")?;
        }
    }
    out.write_all(b"</disqus>\n")?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdata_splits_its_end_marker_and_replaces_forbidden_characters() {
        assert_eq!(cdata("a]]>b"), "<![CDATA[a]]]]><![CDATA[>b]]>");
        assert_eq!(
            cdata("]]>]]>"),
            "<![CDATA[]]]]><![CDATA[>]]]]><![CDATA[>]]>"
        );
        assert_eq!(cdata("x\u{1b}y"), "<![CDATA[x\u{fffd}y]]>");
        assert_eq!(cdata(""), "<![CDATA[]]>");
    }
}
