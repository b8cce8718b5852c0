//! WordPress eXtended RSS (WXR 1.0, 1.1, 1.2).
//!
//! `wp:` elements are matched by local name when their namespace is
//! `http(s)://wordpress.org/export/1.x/` (or when the `wp` prefix is used unbound). Each item with
//! comments becomes one thread keyed by the item's `<link>`. Comment ids only need to be unique
//! within an item: parents resolve within the same item.

use chrono::{DateTime, NaiveDateTime, Utc};

use super::xml::{self, Element};
use super::{
    CommentKind, CommentStatus, ImportBody, ImportComment, ImportData, ImportError, ImportThread,
    Skipped, non_empty,
};

const WHAT: &str = "WordPress WXR";

fn is_wp(e: &Element) -> bool {
    match &e.ns {
        Some(ns) => {
            let rest = ns
                .strip_prefix("http://wordpress.org/export/")
                .or_else(|| ns.strip_prefix("https://wordpress.org/export/"));
            // `…/export/1.2/` is wp:, `…/export/1.2/excerpt/` is excerpt:.
            rest.is_some_and(|r| r.trim_end_matches('/').split('/').count() == 1)
        }
        None => e.prefix.as_deref() == Some("wp"),
    }
}

fn wp_child<'a>(e: &'a Element, local: &str) -> Option<&'a Element> {
    e.children.iter().find(|c| c.is(local) && is_wp(c))
}

fn wp_text<'a>(e: &'a Element, local: &str) -> &'a str {
    wp_child(e, local).map_or("", |c| c.text.trim())
}

/// A plain (non-namespaced) RSS child such as `<title>` or `<link>`.
fn rss_text<'a>(e: &'a Element, local: &str) -> &'a str {
    e.children
        .iter()
        .find(|c| c.is(local) && c.prefix.is_none())
        .map_or("", |c| c.text.trim())
}

/// The meta key under which kith's WXR export carries a comment's import key.
pub const IMPORT_KEY_META: &str = "_kith_import_key";

/// An RSS date (`pubDate`, RFC 2822).
fn parse_rss_date(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(s.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// The date of a post: `wp:post_date_gmt`, else `wp:post_date` (read as UTC), else `pubDate`.
fn post_date(item: &Element) -> Option<DateTime<Utc>> {
    parse_wp_date(wp_text(item, "post_date_gmt"))
        .or_else(|| parse_wp_date(wp_text(item, "post_date")))
        .or_else(|| parse_rss_date(rss_text(item, "pubDate")))
}

fn parse_wp_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() || s.starts_with("0000-00-00") {
        return None;
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|d| d.and_utc())
}

pub(crate) fn parse(bytes: &[u8]) -> Result<ImportData, ImportError> {
    let doc = xml::parse_document(bytes, WHAT)?;
    let root = &doc.root;
    if !root.is("rss") {
        return Err(ImportError::at(
            format!(
                "{WHAT}: the root element is <{}>, expected <rss>",
                root.local
            ),
            doc.position(root.pos),
        ));
    }
    let Some(channel) = root.child("channel") else {
        return Err(ImportError::at(
            format!("{WHAT}: <rss> has no <channel> element"),
            doc.position(root.pos),
        ));
    };
    let mut data = ImportData {
        source: [
            rss_text(channel, "link"),
            wp_text(channel, "base_blog_url"),
            wp_text(channel, "base_site_url"),
        ]
        .into_iter()
        .find_map(super::source_name),
        ..ImportData::default()
    };
    // A comment without a date takes its post's, else the file's, else the import's.
    let file_date = parse_rss_date(rss_text(channel, "pubDate"))
        .or_else(|| channel.children_named("item").find_map(post_date))
        .unwrap_or_else(Utc::now);
    for (item_no, item) in channel.children_named("item").enumerate() {
        let comments: Vec<&Element> = item
            .children
            .iter()
            .filter(|c| c.is("comment") && is_wp(c))
            .collect();
        if comments.is_empty() {
            continue;
        }
        let link = rss_text(item, "link");
        let guid = rss_text(item, "guid");
        let post_id = wp_text(item, "post_id");
        let key = if !link.is_empty() {
            link.to_string()
        } else if !guid.is_empty() {
            guid.to_string()
        } else if !post_id.is_empty() {
            format!("?p={post_id}")
        } else {
            for c in &comments {
                data.skipped.push(Skipped {
                    source_id: wp_text(c, "comment_id").to_string(),
                    reason: format!(
                        "item {} (at {}) has no <link>, <guid> or <wp:post_id> to key its thread",
                        item_no + 1,
                        doc.position(item.pos)
                    ),
                });
            }
            continue;
        };
        let mut thread = ImportThread {
            key,
            url: non_empty(link),
            title: non_empty(rss_text(item, "title")),
            closed: wp_text(item, "comment_status") == "closed",
            comments: Vec::with_capacity(comments.len()),
        };
        let date = post_date(item).unwrap_or(file_date);
        for c in comments {
            match comment(c, date) {
                Ok((comment, dated)) => {
                    data.dated_from_post += usize::from(dated);
                    thread.comments.push(comment);
                }
                Err(reason) => data.skipped.push(Skipped {
                    source_id: wp_text(c, "comment_id").to_string(),
                    reason: format!(
                        "{reason} (comment at {} in thread '{}')",
                        doc.position(c.pos),
                        thread.key
                    ),
                }),
            }
        }
        use_import_keys(&mut thread, &comments_meta(item));
        if !thread.comments.is_empty() {
            data.threads.push(thread);
        }
    }
    Ok(data)
}

/// `comment id → import key` for the comments of an item that carry kith's meta key.
fn comments_meta(item: &Element) -> std::collections::HashMap<String, String> {
    item.children
        .iter()
        .filter(|c| c.is("comment") && is_wp(c))
        .filter_map(|c| {
            let key = c
                .children
                .iter()
                .filter(|m| m.is("commentmeta") && is_wp(m))
                .find(|m| wp_text(m, "meta_key") == IMPORT_KEY_META)
                .map(|m| wp_text(m, "meta_value"))
                .filter(|k| super::split_key(k).is_some() || super::is_legacy_key(k))?;
            Some((wp_text(c, "comment_id").to_string(), key.to_string()))
        })
        .collect()
}

/// Comments exported by kith carry their import key: it becomes their id (parents follow), so
/// the comment is recognized wherever the file is imported.
fn use_import_keys(thread: &mut ImportThread, keys: &std::collections::HashMap<String, String>) {
    if keys.is_empty() {
        return;
    }
    for c in &mut thread.comments {
        if let Some(key) = keys.get(&c.source_id) {
            c.source_id.clone_from(key);
        }
        if let Some(key) = c.parent_source_id.as_ref().and_then(|p| keys.get(p)) {
            c.parent_source_id = Some(key.clone());
        }
    }
}

/// One comment, and whether it took the post's date for want of its own.
fn comment(c: &Element, post_date: DateTime<Utc>) -> Result<(ImportComment, bool), String> {
    let id = wp_text(c, "comment_id");
    if id.is_empty() {
        return Err("comment has no <wp:comment_id>".into());
    }
    let kind = match wp_text(c, "comment_type") {
        "" | "comment" | "review" => CommentKind::Comment,
        "pingback" => CommentKind::Pingback,
        "trackback" => CommentKind::Trackback,
        "webmention" => CommentKind::Webmention,
        other => return Err(format!("comment_type '{other}' is not a public comment")),
    };
    let own_date = parse_wp_date(wp_text(c, "comment_date_gmt"))
        .or_else(|| parse_wp_date(wp_text(c, "comment_date")));
    let created_at = own_date.unwrap_or(post_date);
    let status = match wp_text(c, "comment_approved") {
        "1" | "approve" | "approved" | "" => CommentStatus::Approved,
        "0" | "hold" => CommentStatus::Pending,
        "spam" => CommentStatus::Spam,
        "trash" | "post-trashed" => CommentStatus::Deleted,
        other => return Err(format!("unknown comment_approved value '{other}'")),
    };
    let parent = wp_text(c, "comment_parent");
    let parent_source_id = match parent {
        "" | "0" => None,
        p => Some(p.to_string()),
    };
    let author = match wp_text(c, "comment_author") {
        "" => "Anonymous".to_string(),
        a => a.to_string(),
    };
    Ok((
        ImportComment {
            reactions: Default::default(),
            source_id: id.to_string(),
            parent_source_id,
            author,
            email: non_empty(wp_text(c, "comment_author_email")),
            website: non_empty(wp_text(c, "comment_author_url")),
            ip: non_empty(wp_text(c, "comment_author_IP")),
            user_agent: non_empty(wp_text(c, "comment_agent")),
            created_at,
            edited_at: None,
            body: ImportBody::Html(wp_text(c, "comment_content").to_string()),
            rendered_html: None,
            status,
            kind,
            likes: 0,
            pinned: false,
            owner: false,
            notify_replies: false,
            held_reason: None,
        },
        own_date.is_none(),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::test_support::fixture;
    use super::super::{CommentStatus, Format, ImportData, detect, parse as parse_any, summary};
    use super::*;

    fn wp(rel: &str) -> ImportData {
        let bytes = fixture(rel);
        assert_eq!(detect(&bytes), Some(Format::WordPress), "{rel}");
        parse_any(&bytes, Format::WordPress).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    fn find<'a>(data: &'a ImportData, key: &str, id: &str) -> &'a ImportComment {
        data.threads
            .iter()
            .find(|t| t.key == key)
            .and_then(|t| t.comments.iter().find(|c| c.source_id == id))
            .unwrap_or_else(|| panic!("no comment {id} in {key}"))
    }

    #[test]
    fn isso_wxr_1_0_counts_and_fields() {
        let data = wp("isso/wordpress.xml");
        let s = summary(&data);
        assert_eq!(s.threads, 2);
        assert_eq!(s.comments, 8);
        assert_eq!(s.replies, 3);
        assert_eq!(s.max_depth, 2);
        assert_eq!(s.by_status.approved, 8);
        assert_eq!(s.skipped, 0);
        assert!(data.notes.is_empty(), "{:?}", data.notes);
        let t = &data.threads[0];
        assert_eq!(t.key, "http://example.tld/2014/test/");
        assert_eq!(t.title.as_deref(), Some("Hello, World…"));
        let first = find(&data, "http://example.tld/2014/test/", "2");
        assert_eq!(first.email.as_deref(), Some("test@example.org"));
        assert_eq!(first.body, ImportBody::Html("Erster!1".into()));
        assert_eq!(first.ip.as_deref(), Some("::ffff:82.119.20.0"));
        assert_eq!(first.website.as_deref(), Some("http://example.tld/"));
        // comment 7 lacks comment_date and comment_type
        let seven = find(&data, "http://example.tld/2014/test/", "7");
        assert_eq!(seven.parent_source_id.as_deref(), Some("6"));
        assert_eq!(seven.kind, CommentKind::Comment);
        assert_eq!(seven.body, ImportBody::Html("Drölfter!".into()));
        assert_eq!(seven.created_at.to_rfc3339(), "2014-04-29T15:21:35+00:00");
        // GMT wins over local time
        let ten = find(&data, "http://example.tld/2014/test/", "10");
        assert_eq!(ten.created_at.to_rfc3339(), "2022-06-06T02:13:14+00:00");
        assert_eq!(
            ten.body.text(),
            "When you have a comment with multiple lines:\nWordPress exports it like this."
        );
        // id 11 exists in both items, each in its own thread
        assert_eq!(
            find(&data, "http://example.tld/?p=4", "11").author,
            "Anonymous"
        );
        assert_eq!(
            find(&data, "http://example.tld/2014/test/", "11").author,
            "Letzter :/"
        );
    }

    #[test]
    fn remark42_wxr_1_2_counts_statuses_and_types() {
        for rel in [
            "remark42/wordpress-xmlTestWP.xml",
            "remark42/wordpress-api-xmlTestWP.xml",
        ] {
            let data = wp(rel);
            let s = summary(&data);
            assert_eq!(s.threads, 1, "{rel}");
            assert_eq!(s.comments, 4, "{rel}");
            assert_eq!(s.replies, 1, "{rel}");
            assert_eq!(s.max_depth, 1, "{rel}");
            assert_eq!(s.by_status.approved, 3, "{rel}");
            assert_eq!(s.by_status.pending, 1, "{rel}");
            let key = "https://realmenweardress.es/2010/07/do-you-rp/";
            assert_eq!(find(&data, key, "9").status, CommentStatus::Pending);
            let ping = find(&data, key, "13");
            assert_eq!(ping.kind, CommentKind::Pingback);
            assert_eq!(
                ping.author,
                "Wednesday Reading &laquo; Cynwise&#039;s Battlefield Manual"
            );
            assert_eq!(ping.email, None);
            assert_eq!(
                find(&data, key, "14").parent_source_id.as_deref(),
                Some("13")
            );
        }
        let api = wp("remark42/wordpress-api-xmlTestWP.xml");
        let body = find(&api, "https://realmenweardress.es/2010/07/do-you-rp/", "14")
            .body
            .text()
            .to_string();
        assert!(body.contains("'''\nset base-url"), "{body}");
    }

    #[test]
    fn remark42_partial_wxr_is_refused_with_position() {
        let bytes = fixture("remark42/wordpress-xmlTestWPmd.xml");
        let err = parse_any(&bytes, Format::WordPress).unwrap_err();
        assert!(err.message.contains("not well-formed"), "{err}");
        assert!(
            err.position.as_deref().unwrap().starts_with("line 60"),
            "{err}"
        );
    }

    #[test]
    fn comentario_wordpress_zips() {
        let single = wp("comentario/wordpress-ok-single.zip");
        let s = summary(&single);
        assert_eq!(
            (s.threads, s.comments, s.replies, s.max_depth),
            (1, 1, 0, 0)
        );
        let c = &single.threads[0].comments[0];
        assert_eq!(c.source_id, "42");
        assert_eq!(c.author, "Luke Skywalker");
        assert_eq!(c.created_at.to_rfc3339(), "2000-01-02T02:16:00+00:00");

        let long = wp("comentario/wordpress-ok-long.zip");
        let s = summary(&long);
        assert_eq!((s.threads, s.comments, s.by_status.approved), (1, 1, 1));
        assert!(long.threads[0].comments[0].body.text().len() > 30_000);

        let empty = wp("comentario/wordpress-ok-empty.zip");
        assert_eq!(summary(&empty).comments, 0);
        assert_eq!(summary(&empty).threads, 0);

        // the same files unpacked
        for rel in [
            "comentario/unpacked/wordpress-ok-single.xml",
            "comentario/unpacked/wordpress-ok-long.xml",
        ] {
            assert_eq!(summary(&wp(rel)).comments, 1, "{rel}");
        }
        assert_eq!(
            summary(&wp("comentario/unpacked/wordpress-ok-empty.xml")).comments,
            0
        );
    }

    #[test]
    fn comentario_bad_wordpress_files_are_refused() {
        let err = parse_any(
            &fixture("comentario/wordpress-bad-format.zip"),
            Format::WordPress,
        )
        .unwrap_err();
        assert!(err.message.contains("not well-formed"), "{err}");
        assert!(err.position.is_some(), "{err}");
        let err = parse_any(
            &fixture("comentario/unpacked/wordpress-bad-format.xml"),
            Format::WordPress,
        )
        .unwrap_err();
        assert!(err.message.contains("not well-formed"), "{err}");
        assert!(
            err.position.as_deref().unwrap().starts_with("line 1"),
            "{err}"
        );

        let err = parse_any(
            &fixture("comentario/wordpress-bad-no-files.zip"),
            Format::WordPress,
        )
        .unwrap_err();
        assert!(err.message.contains("no .xml or .json file"), "{err}");
        let err = parse_any(
            &fixture("comentario/wordpress-bad-two-files.zip"),
            Format::WordPress,
        )
        .unwrap_err();
        assert!(err.message.contains("2 files"), "{err}");
        // the two members, each on its own, are fine
        assert_eq!(
            summary(&wp(
                "comentario/unpacked/wordpress-bad-two-files/wordpress-ok-empty.xml"
            ))
            .comments,
            0
        );
        assert_eq!(
            summary(&wp(
                "comentario/unpacked/wordpress-bad-two-files/wordpress-ok-single.xml"
            ))
            .comments,
            1
        );
    }

    const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:wp="NS"><channel>"#;

    fn doc(ns: &str, items: &str) -> Vec<u8> {
        format!("{}{items}</channel></rss>", HEAD.replace("NS", ns)).into_bytes()
    }

    fn comment_xml(id: &str, parent: &str, approved: &str, ty: &str, gmt: &str) -> String {
        format!(
            "<wp:comment><wp:comment_id>{id}</wp:comment_id><wp:comment_author>A</wp:comment_author>\
             <wp:comment_date>2020-01-01 10:00:00</wp:comment_date><wp:comment_date_gmt>{gmt}</wp:comment_date_gmt>\
             <wp:comment_content>x</wp:comment_content><wp:comment_approved>{approved}</wp:comment_approved>\
             {ty}<wp:comment_parent>{parent}</wp:comment_parent></wp:comment>"
        )
    }

    #[test]
    fn every_namespace_version_statuses_types_and_zero_gmt() {
        for ns in [
            "http://wordpress.org/export/1.0/",
            "http://wordpress.org/export/1.1/",
            "http://wordpress.org/export/1.2/",
            "https://wordpress.org/export/1.2/",
        ] {
            let items = format!(
                "<item><title>T</title><link>/p</link>{}{}{}{}{}{}</item>",
                comment_xml("1", "0", "1", "", "2020-01-01 09:00:00"),
                comment_xml(
                    "2",
                    "1",
                    "0",
                    "<wp:comment_type>comment</wp:comment_type>",
                    "0000-00-00 00:00:00"
                ),
                comment_xml(
                    "3",
                    "2",
                    "spam",
                    "<wp:comment_type>pingback</wp:comment_type>",
                    ""
                ),
                comment_xml(
                    "4",
                    "3",
                    "trash",
                    "<wp:comment_type>trackback</wp:comment_type>",
                    "2020-01-01 09:00:00"
                ),
                comment_xml(
                    "5",
                    "4",
                    "1",
                    "<wp:comment_type></wp:comment_type>",
                    "2020-01-01 09:00:00"
                ),
                comment_xml(
                    "6",
                    "0",
                    "1",
                    "<wp:comment_type>order_note</wp:comment_type>",
                    "2020-01-01 09:00:00"
                ),
            );
            let data = parse_any(&doc(ns, &items), Format::WordPress).unwrap();
            let s = summary(&data);
            assert_eq!((s.comments, s.replies, s.max_depth), (5, 4, 4), "{ns}");
            assert_eq!(s.skipped, 1, "{ns}");
            let cs = &data.threads[0].comments;
            assert_eq!(cs[0].created_at.to_rfc3339(), "2020-01-01T09:00:00+00:00");
            // zero or empty GMT falls back to comment_date, read as UTC
            assert_eq!(cs[1].created_at.to_rfc3339(), "2020-01-01T10:00:00+00:00");
            assert_eq!(cs[2].created_at.to_rfc3339(), "2020-01-01T10:00:00+00:00");
            let statuses: Vec<_> = cs.iter().map(|c| c.status).collect();
            assert_eq!(
                statuses,
                [
                    CommentStatus::Approved,
                    CommentStatus::Pending,
                    CommentStatus::Spam,
                    CommentStatus::Deleted,
                    CommentStatus::Approved
                ]
            );
            let kinds: Vec<_> = cs.iter().map(|c| c.kind).collect();
            assert_eq!(
                kinds,
                [
                    CommentKind::Comment,
                    CommentKind::Comment,
                    CommentKind::Pingback,
                    CommentKind::Trackback,
                    CommentKind::Comment
                ]
            );
        }
    }

    #[test]
    fn duplicate_ids_across_and_within_items_keep_parents() {
        let g = "2020-01-01 09:00:00";
        let items = format!(
            "<item><link>/a</link>{}{}</item><item><link>/b</link>{}{}{}</item>",
            comment_xml("1", "0", "1", "", g),
            comment_xml("2", "1", "1", "", g),
            comment_xml("1", "0", "1", "", g),
            comment_xml("1", "0", "1", "", g),
            comment_xml("3", "1", "1", "", g),
        );
        let data = parse_any(
            &doc("http://wordpress.org/export/1.2/", &items),
            Format::WordPress,
        )
        .unwrap();
        assert_eq!(data.threads.len(), 2);
        let a = &data.threads[0].comments;
        assert_eq!(a[1].parent_source_id.as_deref(), Some("1"));
        let b = &data.threads[1].comments;
        let ids: Vec<_> = b.iter().map(|c| c.source_id.as_str()).collect();
        assert_eq!(ids, ["1", "1#2", "3"]);
        assert_eq!(b[2].parent_source_id.as_deref(), Some("1"));
        assert_eq!(data.notes.len(), 1, "{:?}", data.notes);
    }

    #[test]
    fn missing_parent_is_kept_top_level_with_a_note() {
        let items = format!(
            "<item><link>/a</link>{}</item>",
            comment_xml("5", "4", "1", "", "2020-01-01 09:00:00")
        );
        let data = parse_any(
            &doc("http://wordpress.org/export/1.2/", &items),
            Format::WordPress,
        )
        .unwrap();
        assert_eq!(data.threads[0].comments[0].parent_source_id, None);
        assert_eq!(data.notes.len(), 1);
    }

    #[test]
    fn excerpt_namespace_is_not_wp() {
        let bytes = br#"<rss xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"><channel><item><link>/a</link>
            <excerpt:comment><excerpt:comment_id>1</excerpt:comment_id></excerpt:comment></item></channel></rss>"#;
        let data = parse_any(bytes, Format::WordPress).unwrap();
        assert!(data.threads.is_empty());
    }

    /// Builds a WXR with `n` comments over `n / 100` items, a third of them replies.
    pub(crate) fn big_wxr(n: usize) -> Vec<u8> {
        use std::fmt::Write as _;
        let mut s = String::with_capacity(n * 600);
        s.push_str(&HEAD.replace("NS", "http://wordpress.org/export/1.2/"));
        let per_item = 100;
        for item in 0..n.div_ceil(per_item) {
            let _ = write!(
                s,
                "<item><title>Post {item}</title><link>https://example.com/p/{item}/</link>"
            );
            for j in 0..per_item.min(n - item * per_item) {
                let id = item * per_item + j + 1;
                let parent = if j % 3 == 2 { id - 1 } else { 0 };
                let _ = write!(
                    s,
                    "<wp:comment><wp:comment_id>{id}</wp:comment_id><wp:comment_author><![CDATA[Author {id}]]></wp:comment_author>\
                     <wp:comment_author_email>a{id}@example.com</wp:comment_author_email><wp:comment_author_url>https://example.com/</wp:comment_author_url>\
                     <wp:comment_author_IP>192.0.2.1</wp:comment_author_IP><wp:comment_date>2020-01-01 10:00:00</wp:comment_date>\
                     <wp:comment_date_gmt>2020-01-01 09:00:00</wp:comment_date_gmt><wp:comment_content><![CDATA[<p>Comment {id} &amp; more</p>]]></wp:comment_content>\
                     <wp:comment_approved>1</wp:comment_approved><wp:comment_type>comment</wp:comment_type><wp:comment_parent>{parent}</wp:comment_parent></wp:comment>"
                );
            }
            s.push_str("</item>");
        }
        s.push_str("</channel></rss>");
        s.into_bytes()
    }

    #[test]
    fn a_hundred_thousand_comments_parse() {
        let bytes = big_wxr(100_000);
        let data = parse_any(&bytes, Format::WordPress).unwrap();
        let s = summary(&data);
        assert_eq!(s.threads, 1000);
        assert_eq!(s.comments, 100_000);
        assert_eq!(s.replies, 33_000);
        assert_eq!(s.max_depth, 1);
    }
}
