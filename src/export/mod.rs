//! Exporters: neutral [`crate::import::ImportData`] → files.
//!
//! The caller fills `ImportData` from the database; these functions only write.

pub mod disqus;
pub mod kith;
pub mod wordpress;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use chrono::{DateTime, Utc};

    use crate::import::{
        CommentKind, CommentStatus, Format, ImportBody, ImportComment, ImportData, ImportThread,
        detect, parse, summary,
    };

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn comment(id: &str, parent: Option<&str>) -> ImportComment {
        ImportComment {
            reactions: Default::default(),
            source_id: id.into(),
            parent_source_id: parent.map(Into::into),
            author: "Zoë <script>alert(1)</script> & \"friends\"".into(),
            email: Some("zoe@example.org".into()),
            website: Some("https://zoe.example/?a=1&b=2".into()),
            ip: Some("2001:db8::1".into()),
            user_agent: Some("Mozilla/5.0 (X11; Linux)".into()),
            created_at: at("2024-02-29T23:59:58Z"),
            edited_at: None,
            body: ImportBody::Html("<p>Body ]]> with CDATA end &amp; entities &nbsp;</p>".into()),
            rendered_html: None,
            status: CommentStatus::Approved,
            kind: CommentKind::Comment,
            likes: 0,
            pinned: false,
            owner: false,
            notify_replies: false,
            held_reason: None,
        }
    }

    /// Every field WXR can carry, varied.
    fn wxr_sample() -> ImportData {
        let mut a = vec![
            comment("1", None),
            comment("2", Some("1")),
            comment("3", Some("2")),
            comment("4", Some("3")),
            comment("5", None),
            comment("6", None),
        ];
        a[1].status = CommentStatus::Pending;
        a[2].status = CommentStatus::Spam;
        a[3].status = CommentStatus::Deleted;
        a[4].kind = CommentKind::Pingback;
        a[5].kind = CommentKind::Trackback;
        a[5].email = None;
        a[5].website = None;
        a[5].ip = None;
        a[5].user_agent = None;
        a[0].body = ImportBody::Html("multi\nline\n\n<p>text</p>".into());
        let mut b = vec![comment("7", None), comment("8", Some("7"))];
        b[1].created_at = at("1999-12-31T00:00:00Z");
        ImportData {
            threads: vec![
                ImportThread {
                    key: "https://example.com/posts/hello/".into(),
                    url: Some("https://example.com/posts/hello/".into()),
                    title: Some("Hello & welcome".into()),
                    closed: false,
                    comments: a,
                },
                ImportThread {
                    key: "https://example.com/закрыто/".into(),
                    url: Some("https://example.com/закрыто/".into()),
                    title: Some("Closed".into()),
                    closed: true,
                    comments: b,
                },
            ],
            ..ImportData::default()
        }
    }

    /// Everything kith carries, including what WXR cannot.
    fn kith_sample() -> ImportData {
        let mut data = wxr_sample();
        let c = &mut data.threads[0].comments[0];
        c.edited_at = Some(at("2024-03-01T10:00:00.123456Z"));
        c.body = ImportBody::Markdown("**bold** and `code`".into());
        c.rendered_html = Some("<p><strong>bold</strong> and <code>code</code></p>".into());
        c.likes = -3;
        c.pinned = true;
        c.owner = true;
        c.notify_replies = true;
        let p = &mut data.threads[0].comments[1];
        p.held_reason = Some("contains links".into());
        p.source_id = "uuid-like-0001".into();
        data.threads[0].comments[2].parent_source_id = Some("uuid-like-0001".into());
        data.threads.push(ImportThread {
            key: "/no-url/".into(),
            url: None,
            title: None,
            closed: false,
            comments: vec![],
        });
        data
    }

    fn write_kith(data: &ImportData) -> Vec<u8> {
        let mut out = Vec::new();
        super::kith::write(data, &mut out).unwrap();
        out
    }

    fn write_wxr(data: &ImportData) -> Vec<u8> {
        let mut out = Vec::new();
        super::wordpress::write(data, "My <site>", "https://example.com", &mut out).unwrap();
        out
    }

    #[test]
    fn kith_round_trip_is_lossless() {
        let data = kith_sample();
        let bytes = write_kith(&data);
        assert_eq!(detect(&bytes), Some(Format::Kith));
        let back = parse(&bytes, Format::Kith).unwrap();
        assert_eq!(back, data);
        // and again, byte for byte apart from the export time
        let again = parse(&write_kith(&back), Format::Kith).unwrap();
        assert_eq!(again, data);
    }

    #[test]
    fn kith_gzipped_reads_too() {
        use std::io::Write;
        let data = kith_sample();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&write_kith(&data)).unwrap();
        let bytes = gz.finish().unwrap();
        assert_eq!(detect(&bytes), Some(Format::Kith));
        assert_eq!(parse(&bytes, Format::Kith).unwrap(), data);
    }

    #[test]
    fn kith_refuses_other_versions_unknown_fields_and_dangling_parents() {
        let err = parse(
            br#"{"format":"kith","version":2,"threads":[]}"#,
            Format::Kith,
        )
        .unwrap_err();
        assert!(err.message.contains("unsupported version 2"), "{err}");
        let err = parse(
            br#"{"format":"kith","version":1,"threads":[],"extra":1}"#,
            Format::Kith,
        )
        .unwrap_err();
        assert!(err.message.contains("extra"), "{err}");
        assert!(err.position.is_some());
        let mut data = kith_sample();
        data.threads[1].comments[1].parent_source_id = Some("nope".into());
        let err = parse(&write_kith(&data), Format::Kith).unwrap_err();
        assert!(err.message.contains("replies to nope"), "{err}");
        let err = parse(br#"{"format":"kith","version":1,"threads":[{"key":"/a","comments":[{"source_id":"1"}]}]}"#, Format::Kith).unwrap_err();
        assert!(err.message.contains("missing field"), "{err}");
        assert!(
            err.position.as_deref().unwrap().starts_with("line 1"),
            "{err}"
        );
    }

    #[test]
    fn kith_to_wxr_to_kith_keeps_every_wxr_field() {
        let data = wxr_sample();
        let wxr = write_wxr(&data);
        assert_eq!(detect(&wxr), Some(Format::WordPress));
        let back = parse(&wxr, Format::WordPress).unwrap();
        assert!(back.skipped.is_empty() && back.notes.is_empty());
        assert_eq!(summary(&back), summary(&data));
        // WXR carries every field of wxr_sample: equal as a whole
        assert_eq!(back.threads, data.threads);
        // and the channel link names the blog
        assert_eq!(back.source.as_deref(), Some("example.com"));
        // through kith and back again
        let via_kith = parse(&write_kith(&back), Format::Kith).unwrap();
        assert_eq!(via_kith.threads, data.threads);
    }

    #[test]
    fn wxr_export_keeps_numeric_ids_numbers_the_rest_after_them_and_uses_rendered_html() {
        let data = kith_sample();
        let back = parse(&write_wxr(&data), Format::WordPress).unwrap();
        assert_eq!(summary(&back), {
            let mut s = summary(&data);
            s.threads -= 1; // the thread without comments has no item comments
            s
        });
        let t = &back.threads[0];
        let ids: Vec<_> = t.comments.iter().map(|c| c.source_id.as_str()).collect();
        assert_eq!(ids, ["1", "9", "3", "4", "5", "6"]);
        assert_eq!(t.comments[2].parent_source_id.as_deref(), Some("9"));
        assert_eq!(
            t.comments[0].body,
            ImportBody::Html("<p><strong>bold</strong> and <code>code</code></p>".into())
        );
        // what WXR cannot carry is dropped
        assert_eq!((t.comments[0].likes, t.comments[0].pinned), (0, false));
        assert_eq!(t.comments[0].edited_at, None);
        // the second thread keeps its ids too
        assert_eq!(back.threads[1].comments[0].source_id, "7");
    }

    #[test]
    fn wxr_export_replaces_characters_xml_forbids() {
        let mut data = wxr_sample();
        data.threads[0].comments[0].body = ImportBody::Html("a\u{0}b\u{1b}c\u{fffe}d\té".into());
        data.threads[0].comments[0].author = "x\u{8}y".into();
        let wxr = write_wxr(&data);
        let back = parse(&wxr, Format::WordPress).unwrap();
        let c = &back.threads[0].comments[0];
        assert_eq!(c.body.text(), "a\u{fffd}b\u{fffd}c\u{fffd}d\té");
        assert_eq!(c.author, "x\u{fffd}y");
    }

    #[test]
    fn markdown_without_rendering_is_rendered_and_raw_html_escaped() {
        let mut data = wxr_sample();
        data.threads[0].comments[0].body =
            ImportBody::Markdown("*hi* <script>alert(1)</script>".into());
        let back = parse(&write_wxr(&data), Format::WordPress).unwrap();
        let html = back.threads[0].comments[0].body.text().to_string();
        assert!(html.contains("<em>hi</em>"), "{html}");
        assert!(!html.contains("<script>"), "{html}");
    }
}
