//! Importing into a site and exporting it, through the service and the CLI, on both backends.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use kith::db::DbConn;
use kith::domain::site::SiteSettings;
use kith::error::ErrorKind;
use kith::export;
use kith::import::{
    CommentKind, CommentStatus, Format, ImportBody, ImportComment, ImportData, ImportThread,
    summary,
};
use kith::service::export::{ExportFormat, export_site, read_site};
use kith::service::import::{HostRule, ImportOptions, import_file};
use kith::state::AppState;
use serde_json::Value;

use crate::both_backends;

#[path = "../../benches/support/big_wxr.rs"]
mod support;
use crate::helpers::TestApp;
use support::big_wxr;

type Conn = diesel::r2d2::PooledConnection<kith::db::pool::Manager>;

fn conn(app: &TestApp) -> Conn {
    app.state.pool.get().unwrap()
}

fn fixtures() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures"))
}

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(rel)).unwrap_or_else(|e| panic!("fixture {rel}: {e}"))
}

/// Creates an empty site.
fn new_site(state: &AppState, conn: &mut DbConn, slug: &str) {
    let now = chrono::Utc::now().naive_utc();
    let created =
        kith::db::sites::insert_if_absent(conn, slug, slug, &[], &SiteSettings::default(), now)
            .unwrap();
    assert!(created);
    state.sites.invalidate(slug);
}

fn site_data(app: &TestApp, conn: &mut DbConn, slug: &str) -> ImportData {
    let site = kith::service::sites::find(&app.state, conn, slug).unwrap();
    read_site(&app.state, conn, &site).unwrap()
}

fn options() -> ImportOptions {
    ImportOptions::default()
}

/// What each fixture must give, as the import unit tests and SOURCE.md state them:
/// (threads, comments, replies, max depth, approved, pending, spam, deleted, skipped),
/// or the text of the refusal.
enum Expect {
    Counts([usize; 9]),
    Refused(&'static str),
}

const FIXTURES: &[(&str, Expect)] = {
    use Expect::{Counts, Refused};
    &[
        ("isso/wordpress.xml", Counts([2, 8, 3, 2, 8, 0, 0, 0, 0])),
        ("isso/disqus.xml", Counts([2, 5, 2, 1, 4, 0, 0, 1, 1])),
        ("isso/generic.json", Counts([2, 2, 0, 0, 2, 0, 0, 0, 0])),
        ("remark42/disqus.xml", Counts([2, 5, 0, 0, 4, 0, 1, 0, 1])),
        (
            "remark42/disqus-deleted-post.xml",
            Counts([2, 5, 0, 0, 3, 0, 1, 1, 1]),
        ),
        (
            "remark42/disqus-deleted-thread.xml",
            Counts([2, 5, 0, 0, 2, 0, 1, 2, 1]),
        ),
        (
            "remark42/commento.json",
            Counts([2, 3, 1, 1, 3, 0, 0, 0, 0]),
        ),
        (
            "remark42/commento-api.json",
            Counts([1, 7, 2, 1, 7, 0, 0, 0, 0]),
        ),
        (
            "remark42/wordpress-xmlTestWP.xml",
            Counts([1, 4, 1, 1, 3, 1, 0, 0, 0]),
        ),
        (
            "remark42/wordpress-api-xmlTestWP.xml",
            Counts([1, 4, 1, 1, 3, 1, 0, 0, 0]),
        ),
        (
            "remark42/wordpress-xmlTestWPmd.xml",
            Refused("close tag `</rss>` does not match"),
        ),
        (
            "comentario/comentario-bad-format.json.gz",
            Refused("not valid JSON"),
        ),
        (
            "comentario/comentario-bad-version.json.gz",
            Refused("unsupported export version 481"),
        ),
        ("comentario/comentario-ok-empty-v1.json.gz", Counts([0; 9])),
        ("comentario/comentario-ok-empty-v3.json.gz", Counts([0; 9])),
        (
            "comentario/comentario-ok-single-v1.json.gz",
            Counts([1, 1, 0, 0, 1, 0, 0, 0, 0]),
        ),
        (
            "comentario/comentario-ok-single-v3.json.gz",
            Counts([1, 1, 0, 0, 1, 0, 0, 0, 0]),
        ),
        ("comentario/disqus-bad-format.xml.gz", Refused("truncated")),
        ("comentario/disqus-ok-empty.xml.gz", Counts([0; 9])),
        (
            "comentario/disqus-ok-single.xml.gz",
            Counts([1, 1, 0, 0, 1, 0, 0, 0, 0]),
        ),
        (
            "comentario/wordpress-bad-format.zip",
            Refused("expected `</wp:commentZ>`"),
        ),
        (
            "comentario/wordpress-bad-no-files.zip",
            Refused("no .xml or .json file"),
        ),
        (
            "comentario/wordpress-bad-two-files.zip",
            Refused("contains 2 files"),
        ),
        ("comentario/wordpress-ok-empty.zip", Counts([0; 9])),
        (
            "comentario/wordpress-ok-long.zip",
            Counts([1, 1, 0, 0, 1, 0, 0, 0, 0]),
        ),
        (
            "comentario/wordpress-ok-single.zip",
            Counts([1, 1, 0, 0, 1, 0, 0, 0, 0]),
        ),
        (
            "comentario/unpacked/comentario-bad-format.json",
            Refused("not valid JSON"),
        ),
        (
            "comentario/unpacked/comentario-bad-version.json",
            Refused("unsupported export version 481"),
        ),
        (
            "comentario/unpacked/comentario-ok-empty-v1.json",
            Counts([0; 9]),
        ),
        (
            "comentario/unpacked/comentario-ok-empty-v3.json",
            Counts([0; 9]),
        ),
        (
            "comentario/unpacked/comentario-ok-single-v1.json",
            Counts([1, 1, 0, 0, 1, 0, 0, 0, 0]),
        ),
        (
            "comentario/unpacked/comentario-ok-single-v3.json",
            Counts([1, 1, 0, 0, 1, 0, 0, 0, 0]),
        ),
        (
            "comentario/unpacked/disqus-bad-format.xml",
            Refused("truncated"),
        ),
        ("comentario/unpacked/disqus-ok-empty.xml", Counts([0; 9])),
        (
            "comentario/unpacked/disqus-ok-single.xml",
            Counts([1, 1, 0, 0, 1, 0, 0, 0, 0]),
        ),
        (
            "comentario/unpacked/wordpress-bad-format.xml",
            Refused("expected `</wp:commentZ>`"),
        ),
        ("comentario/unpacked/wordpress-ok-empty.xml", Counts([0; 9])),
        (
            "comentario/unpacked/wordpress-ok-long.xml",
            Counts([1, 1, 0, 0, 1, 0, 0, 0, 0]),
        ),
        (
            "comentario/unpacked/wordpress-ok-single.xml",
            Counts([1, 1, 0, 0, 1, 0, 0, 0, 0]),
        ),
        (
            "comentario/unpacked/wordpress-bad-two-files/wordpress-ok-empty.xml",
            Counts([0; 9]),
        ),
        (
            "comentario/unpacked/wordpress-bad-two-files/wordpress-ok-single.xml",
            Counts([1, 1, 0, 0, 1, 0, 0, 0, 0]),
        ),
    ]
};

fn files_under(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !name.starts_with("SOURCE") && !name.starts_with("LICENSE") {
                out.push(path);
            }
        }
    }
}

/// A thread as stored, read back: every field but ids.
fn max_stored_depth(conn: &mut DbConn, app: &TestApp, slug: &str) -> i32 {
    let site = kith::service::sites::find(&app.state, conn, slug).unwrap();
    kith::db::comments::list_for_site(conn, site.id)
        .unwrap()
        .iter()
        .map(|c| c.depth)
        .max()
        .unwrap_or(0)
}

/// A sample with everything kith carries: markdown and HTML bodies, every status and kind,
/// likes, pins, owner, notifications, held reasons, edit times, a deep reply chain, a closed
/// thread and a thread without comments. Times are whole seconds so WXR keeps them.
fn kith_sample() -> ImportData {
    let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    let comment = |id: &str, parent: Option<&str>| ImportComment {
        reactions: Default::default(),
        source_id: id.into(),
        parent_source_id: parent.map(Into::into),
        author: format!("Zoë {id} <b>&</b>"),
        email: Some(format!("z{id}@example.org")),
        website: Some("https://zoe.example/?a=1&b=2".into()),
        ip: Some("2001:db8::1".into()),
        user_agent: Some("Mozilla/5.0 (X11; Linux)".into()),
        created_at: at("2024-02-29T23:59:58Z"),
        edited_at: None,
        body: ImportBody::Markdown(format!("**comment** {id} with `code`\nand a line")),
        rendered_html: None,
        status: CommentStatus::Approved,
        kind: CommentKind::Comment,
        likes: 0,
        pinned: false,
        owner: false,
        notify_replies: false,
        held_reason: None,
    };
    let mut a: Vec<ImportComment> = (1..=8)
        .map(|i| {
            let parent = (i > 1 && i <= 7).then(|| (i - 1).to_string());
            comment(&i.to_string(), parent.as_deref())
        })
        .collect();
    a[1].status = CommentStatus::Pending;
    a[1].held_reason = Some("contains links".into());
    a[2].status = CommentStatus::Spam;
    a[3].status = CommentStatus::Deleted;
    a[0].likes = 7;
    a[0].pinned = true;
    a[0].owner = true;
    a[0].notify_replies = true;
    a[0].edited_at = Some(at("2024-03-01T10:00:00.123456Z"));
    a[4].body = ImportBody::Html("<p>html <em>body</em><script>alert(1)</script></p>".into());
    a[7].kind = CommentKind::Pingback;
    a[7].email = None;
    a[7].website = None;
    a[7].ip = None;
    a[7].user_agent = None;
    let mut b = vec![
        comment("uuid-0001", None),
        comment("uuid-0002", Some("uuid-0001")),
    ];
    b[1].kind = CommentKind::Trackback;
    b[1].created_at = at("1999-12-31T00:00:00Z");
    ImportData {
        threads: vec![
            ImportThread {
                key: "https://blog.example/posts/hello/".into(),
                url: Some("https://blog.example/posts/hello/".into()),
                title: Some("Hello & welcome".into()),
                closed: false,
                comments: a,
            },
            ImportThread {
                key: "/закрыто/".into(),
                url: Some("https://blog.example/закрыто/".into()),
                title: Some("Closed".into()),
                closed: true,
                comments: b,
            },
            ImportThread {
                key: "/empty/".into(),
                url: None,
                title: None,
                closed: false,
                comments: vec![],
            },
        ],
        ..ImportData::default()
    }
}

fn kith_bytes(data: &ImportData) -> Vec<u8> {
    let mut out = Vec::new();
    export::kith::write(data, &mut out).unwrap();
    out
}

fn exported(app: &TestApp, conn: &mut DbConn, slug: &str, format: ExportFormat) -> Vec<u8> {
    let mut out = Vec::new();
    export_site(&app.state, conn, slug, format, &mut out).unwrap();
    out
}

/// Export JSON without the export time.
fn without_time(bytes: &[u8]) -> Value {
    let mut value: Value = serde_json::from_slice(bytes).unwrap();
    value.as_object_mut().unwrap().remove("exported_at");
    value
}

both_backends! {
    async fn every_fixture_imports_with_its_stated_counts_or_is_refused_with_nothing_written(app: TestApp) {
        let mut conn = conn(&app);
        let root = fixtures();
        let mut files = Vec::new();
        for dir in ["isso", "remark42", "comentario"] {
            files_under(&root.join(dir), &mut files);
        }
        assert_eq!(files.len(), FIXTURES.len(), "a fixture has no expectation");
        for (n, (rel, expect)) in FIXTURES.iter().enumerate() {
            let slug = format!("fixture-{n}");
            new_site(&app.state, &mut conn, &slug);
            let result = import_file(&app.state, &mut conn, &slug, &fixture(rel), &options());
            let stored = site_data(&app, &mut conn, &slug);
            let s = summary(&stored);
            match (result, expect) {
                (Ok(report), Expect::Counts(want)) => {
                    let b = s.by_status;
                    let got = [
                        s.threads,
                        s.comments,
                        s.replies,
                        s.max_depth,
                        b.approved,
                        b.pending,
                        b.spam,
                        b.deleted,
                        report.skipped.len(),
                    ];
                    assert_eq!(&got, want, "{rel}: stored {s}; reported {report}");
                    // the report says what was stored, and depths are stored as computed
                    assert_eq!(report.comments, s.comments, "{rel}");
                    assert_eq!(report.replies, s.replies, "{rel}");
                    assert_eq!(report.max_depth, s.max_depth, "{rel}");
                    assert_eq!(report.by_status, s.by_status, "{rel}");
                    assert_eq!(report.threads, s.threads, "{rel}");
                    assert_eq!(max_stored_depth(&mut conn, &app, &slug) as usize, s.max_depth, "{rel}");
                }
                (Err(e), Expect::Refused(needle)) => {
                    assert_eq!(e.kind, ErrorKind::InvalidImport, "{rel}: {e}");
                    assert!(e.message.contains(needle), "{rel}: {e}");
                    if rel.contains("bad-format") || rel.contains("xmlTestWPmd") {
                        assert!(e.message.contains("line "), "{rel}: no position in {e}");
                    }
                    assert_eq!((s.threads, s.comments), (0, 0), "{rel}: something was written");
                }
                (Ok(report), Expect::Refused(_)) => panic!("{rel}: accepted: {report}"),
                (Err(e), Expect::Counts(_)) => panic!("{rel}: refused: {e}"),
            }
        }
        assert!(crate::helpers::assert_counters_match_scan(&mut conn) > 0);
    }

    async fn importing_the_same_file_twice_adds_nothing(app: TestApp) {
        let mut conn = conn(&app);
        let bytes = fixture("isso/wordpress.xml");
        let first = import_file(&app.state, &mut conn, "default", &bytes, &options()).unwrap();
        assert_eq!((first.comments, first.new_threads, first.already_present), (8, 2, 0));
        let before = site_data(&app, &mut conn, "default");
        let second = import_file(&app.state, &mut conn, "default", &bytes, &options()).unwrap();
        assert_eq!((second.comments, second.new_threads, second.already_present), (0, 0, 8));
        assert_eq!(site_data(&app, &mut conn, "default"), before);
        // the same comments through a kith export are recognized too
        let kith = exported(&app, &mut conn, "default", ExportFormat::Kith);
        let third = import_file(&app.state, &mut conn, "default", &kith, &options()).unwrap();
        assert_eq!((third.comments, third.already_present), (0, 8), "{third}");
        crate::helpers::assert_counters_match_scan(&mut conn);
    }

    async fn a_dry_run_reports_and_writes_nothing(app: TestApp) {
        let mut conn = conn(&app);
        let bytes = fixture("remark42/wordpress-xmlTestWP.xml");
        let dry = ImportOptions { dry_run: true, ..options() };
        let report = import_file(&app.state, &mut conn, "default", &bytes, &dry).unwrap();
        assert!(report.dry_run);
        assert_eq!((report.threads, report.comments, report.pingbacks), (1, 4, 1));
        assert_eq!(summary(&site_data(&app, &mut conn, "default")).threads, 0);
        let real = import_file(&app.state, &mut conn, "default", &bytes, &options()).unwrap();
        assert_eq!(
            (real.comments, real.replies, real.max_depth, real.by_status),
            (report.comments, report.replies, report.max_depth, report.by_status)
        );
    }

    async fn pingbacks_are_kept_and_marked_or_skipped(app: TestApp) {
        let mut conn = conn(&app);
        let data = kith_sample();
        let skip = ImportOptions { skip_pingbacks: true, ..options() };
        let report = import_file(&app.state, &mut conn, "default", &kith_bytes(&data), &skip).unwrap();
        assert_eq!(report.comments, 8);
        assert_eq!(report.skipped.len(), 2);
        assert!(report.skipped.iter().all(|s| s.reason.contains("--skip-pingbacks")));
        let stored = site_data(&app, &mut conn, "default");
        assert!(stored.threads.iter().flat_map(|t| &t.comments).all(|c| c.kind == CommentKind::Comment));
        new_site(&app.state, &mut conn, "kept");
        import_file(&app.state, &mut conn, "kept", &kith_bytes(&data), &options()).unwrap();
        let kinds: Vec<CommentKind> = site_data(&app, &mut conn, "kept")
            .threads.iter().flat_map(|t| &t.comments).map(|c| c.kind).collect();
        assert_eq!(kinds.iter().filter(|k| **k == CommentKind::Pingback).count(), 1);
        assert_eq!(kinds.iter().filter(|k| **k == CommentKind::Trackback).count(), 1);
    }

    async fn imported_html_is_sanitized_and_depth_is_not_capped(app: TestApp) {
        let mut conn = conn(&app);
        import_file(&app.state, &mut conn, "default", &kith_bytes(&kith_sample()), &options()).unwrap();
        let stored = site_data(&app, &mut conn, "default");
        let html: Vec<&str> = stored.threads[0].comments.iter().filter_map(|c| c.rendered_html.as_deref()).collect();
        assert!(html.iter().all(|h| !h.contains("<script")), "{html:?}");
        assert!(html.iter().any(|h| h.contains("<em>body</em>")), "{html:?}");
        assert!(html.iter().any(|h| h.contains("<strong>comment</strong>")), "{html:?}");
        // a chain of 7 under a site whose max_depth is 5: kept as it was
        assert_eq!(summary(&stored).max_depth, 6);
        assert_eq!(max_stored_depth(&mut conn, &app, "default"), 6);
        // the page shows the approved top-level comment and reads the thread from its path
        let thread = app.thread("/posts/hello/").await;
        assert_eq!(thread["comments"][0]["likes"], 7);
    }

    async fn a_very_deep_thread_keeps_32_levels_and_attaches_the_rest(app: TestApp) {
        let mut conn = conn(&app);
        let mut data = kith_sample();
        let template = data.threads[0].comments[0].clone();
        data.threads[0].comments = (0..2000)
            .map(|i| ImportComment {
                reactions: Default::default(),
                source_id: i.to_string(),
                parent_source_id: (i > 0).then(|| (i - 1).to_string()),
                ..template.clone()
            })
            .collect();
        let bytes = kith_bytes(&data);
        let dry = ImportOptions { dry_run: true, ..options() };
        let planned = import_file(&app.state, &mut conn, "default", &bytes, &dry).unwrap();
        let report = import_file(&app.state, &mut conn, "default", &bytes, &options()).unwrap();
        assert_eq!((report.comments, report.max_depth), (2002, 31), "{report}");
        assert_eq!(planned.max_depth, report.max_depth);
        assert!(report.notes.iter().any(|n| n.contains("1968 replies nested deeper than 32")), "{:?}", report.notes);
        assert_eq!(max_stored_depth(&mut conn, &app, "default"), 31);
        let thread = app.thread("/posts/hello/").await;
        assert_eq!(crate::helpers::all_ids(&thread["comments"]).len(), 2000);
    }

    async fn nul_characters_and_impossible_dates_do_not_break_either_database(app: TestApp) {
        let mut conn = conn(&app);
        let mut data = kith_sample();
        data.threads[0].url = Some("https://blog.example/posts/hello/\0".into());
        data.threads[0].title = Some("a\0b".into());
        let c = &mut data.threads[0].comments[0];
        c.source_id = "1\0".into();
        c.author = "nul\0author".into();
        c.body = ImportBody::Html("<p>x\0y</p>".into());
        data.threads[0].comments[1].parent_source_id = Some("1\0".into());
        data.threads[1].comments[0].created_at =
            DateTime::from_timestamp(-300_000_000_000, 0).unwrap();
        let site = kith::service::sites::find(&app.state, &mut conn, "default").unwrap();
        let report = kith::service::import::import_data(
            &app.state,
            &mut conn,
            &site,
            Format::Kith,
            data,
            &options(),
        )
        .unwrap();
        assert_eq!(report.comments, 9, "{report}");
        assert!(report.skipped.iter().any(|s| s.reason.contains("outside the years")), "{report:?}");
        let stored = site_data(&app, &mut conn, "default");
        let first = &stored.threads[0];
        assert_eq!(first.title.as_deref(), Some("a b"));
        assert_eq!(first.url, None);
        assert_eq!(first.comments[0].author, "nul\u{fffd}author");
        // the reply to the skipped comment became top-level
        assert_eq!(stored.threads[1].comments.len(), 1);
        assert_eq!(stored.threads[1].comments[0].parent_source_id, None);
    }

    async fn thread_keys_follow_the_host_rule(app: TestApp) {
        let mut conn = conn(&app);
        let bytes = kith_bytes(&kith_sample());
        let map = ImportOptions {
            host: HostRule::parse_map("https://blog.example/posts=https://new.example").unwrap(),
            ..options()
        };
        import_file(&app.state, &mut conn, "default", &bytes, &map).unwrap();
        let stored = site_data(&app, &mut conn, "default");
        assert_eq!(stored.threads[0].key, "/hello/");
        assert_eq!(stored.threads[0].url.as_deref(), Some("https://new.example/hello/"));
        new_site(&app.state, &mut conn, "stripped");
        let strip = ImportOptions { host: HostRule::Strip, ..options() };
        import_file(&app.state, &mut conn, "stripped", &bytes, &strip).unwrap();
        let stored = site_data(&app, &mut conn, "stripped");
        assert_eq!(stored.threads[0].key, "/posts/hello/");
        assert_eq!(stored.threads[0].url, None);
    }

    async fn unknown_site_and_unknown_format_are_clear_errors(app: TestApp) {
        let mut conn = conn(&app);
        let e = import_file(&app.state, &mut conn, "nope", &fixture("isso/wordpress.xml"), &options()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::SiteNotFound);
        let e = import_file(&app.state, &mut conn, "default", b"hello", &options()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidImport);
        assert!(e.message.contains("cannot tell the format"), "{e}");
        let mut out = Vec::new();
        let e = export_site(&app.state, &mut conn, "nope", ExportFormat::Kith, &mut out).unwrap_err();
        assert_eq!(e.kind, ErrorKind::SiteNotFound);
    }

    async fn kith_to_kith_round_trip_is_identical(app: TestApp) {
        let mut conn = conn(&app);
        import_file(&app.state, &mut conn, "default", &kith_bytes(&kith_sample()), &options()).unwrap();
        // and comments written here, with their microsecond times
        let posted = app.post_ok("/posts/hello/", "Native", "written *here*", None).await;
        let parent = posted["comment"]["id"].as_i64();
        assert!(parent.is_some());
        app.post_ok("/posts/hello/", "Reply", "a reply", parent).await;
        let first = exported(&app, &mut conn, "default", ExportFormat::Kith);
        new_site(&app.state, &mut conn, "copy");
        let report = import_file(&app.state, &mut conn, "copy", &first, &options()).unwrap();
        assert_eq!((report.threads, report.comments), (3, 12), "{report}");
        let second = exported(&app, &mut conn, "copy", ExportFormat::Kith);
        assert_eq!(without_time(&first), without_time(&second));
    }

    async fn kith_to_wxr_to_kith_keeps_every_field_wxr_carries(app: TestApp) {
        let mut conn = conn(&app);
        import_file(&app.state, &mut conn, "default", &kith_bytes(&kith_sample()), &options()).unwrap();
        let original = site_data(&app, &mut conn, "default");
        let wxr = exported(&app, &mut conn, "default", ExportFormat::WordPress);
        new_site(&app.state, &mut conn, "back");
        let report = import_file(&app.state, &mut conn, "back", &wxr, &options()).unwrap();
        assert_eq!(report.format, Format::WordPress);
        let back = site_data(&app, &mut conn, "back");
        // the thread without comments has no item comments in WXR
        assert_eq!(back.threads.len(), original.threads.len() - 1);
        for (a, b) in original.threads.iter().zip(&back.threads) {
            assert_eq!((&a.key, &a.url, &a.title, a.closed), (&b.key, &b.url, &b.title, b.closed));
            assert_eq!(a.comments.len(), b.comments.len());
            let parent = |t: &ImportThread, c: &ImportComment| {
                c.parent_source_id.as_ref().map(|p| t.comments.iter().position(|x| &x.source_id == p).unwrap())
            };
            for (x, y) in a.comments.iter().zip(&b.comments) {
                assert_eq!(
                    (&x.author, &x.email, &x.website, &x.ip, &x.user_agent, x.created_at, x.status, x.kind),
                    (&y.author, &y.email, &y.website, &y.ip, &y.user_agent, y.created_at, y.status, y.kind),
                );
                // WXR readers trim the content's surrounding white space
                assert_eq!(
                    x.rendered_html.as_deref().map(str::trim),
                    y.rendered_html.as_deref().map(str::trim)
                );
                assert_eq!(parent(a, x), parent(b, y));
            }
        }
    }

    async fn a_generated_100_000_comment_wxr_imports(app: TestApp) {
        let mut conn = conn(&app);
        let bytes = big_wxr(100_000);
        let report = import_file(&app.state, &mut conn, "default", &bytes, &options()).unwrap();
        assert_eq!((report.threads, report.comments, report.replies), (1000, 100_000, 33_000));
        let site = kith::service::sites::find(&app.state, &mut conn, "default").unwrap();
        assert_eq!(kith::db::comments::list_for_site(&mut conn, site.id).unwrap().len(), 100_000);
    }
}

/// The `kith` binary against a temporary SQLite database.
fn cli(db: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_kith"))
        .args(args)
        .env("KITH_DATABASE__URL", format!("sqlite://{}", db.display()))
        .env("KITH_LOG__LEVEL", "warn")
        .env_remove("KITH_CONFIG")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

#[test]
fn the_cli_imports_exports_and_refuses_broken_files() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kith.db");
    let file = fixtures().join("isso/wordpress.xml");
    let file = file.to_str().unwrap();
    let count = |db: &std::path::Path| {
        let out = cli(db, &["export", "--site", "default"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let value: Value = serde_json::from_slice(&out.stdout).unwrap();
        value["threads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["comments"].as_array().unwrap().len())
            .sum::<usize>()
    };

    let out = cli(&db, &["import", file, "--site", "default", "--dry-run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("dry run"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stdout).contains("8 comments to add"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(count(&db), 0);

    let out = cli(
        &db,
        &["import", file, "--site", "default", "--format", "wordpress"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("8 comments added"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(count(&db), 8);

    let out = cli(&db, &["import", file, "--site", "default"]);
    assert!(
        text(&out.stdout).contains("8 already present"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(count(&db), 8);

    let broken = fixtures().join("comentario/unpacked/wordpress-bad-format.xml");
    let out = cli(
        &db,
        &["import", broken.to_str().unwrap(), "--site", "default"],
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("expected `</wp:commentZ>`") && err.contains("line 1"),
        "{err}"
    );
    assert_eq!(count(&db), 8);

    let out = cli(&db, &["import", file, "--site", "nope"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no site named `nope`"),
        "{}",
        text(&out.stderr)
    );

    let out = cli(
        &db,
        &["import", file, "--site", "default", "--format", "blogger"],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("unknown import format 'blogger'"),
        "{}",
        text(&out.stderr)
    );
    let out = cli(
        &db,
        &["import", file, "--site", "default", "--map-host", "nothing"],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("OLD=NEW"),
        "{}",
        text(&out.stderr)
    );
    let out = cli(
        &db,
        &[
            "import",
            file,
            "--site",
            "default",
            "--map-host",
            "a=b",
            "--strip-host",
        ],
    );
    assert!(!out.status.success());

    let out = cli(
        &db,
        &["export", "--site", "default", "--format", "wordpress"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("<?xml"));
    let out = cli(&db, &["export", "--site", "nope"]);
    assert!(!out.status.success());
}

#[test]
fn the_cli_imports_an_isso_database_file_as_is() {
    use diesel::Connection;
    use diesel::connection::SimpleConnection;
    let dir = tempfile::tempdir().unwrap();
    let isso = dir.path().join("comments.db");
    {
        let mut conn = diesel::SqliteConnection::establish(isso.to_str().unwrap()).unwrap();
        conn.batch_execute(
            "CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256));
             CREATE TABLE comments (
                tid REFERENCES threads(id), id INTEGER PRIMARY KEY, parent INTEGER,
                created FLOAT NOT NULL, modified FLOAT, mode INTEGER, remote_addr VARCHAR,
                text VARCHAR, author VARCHAR, email VARCHAR, website VARCHAR,
                likes INTEGER DEFAULT 0, dislikes INTEGER DEFAULT 0, voters BLOB NOT NULL,
                notification INTEGER DEFAULT 0);
             INSERT INTO threads VALUES (1, '/posts/hello/', 'Hello');
             INSERT INTO comments VALUES (1, 1, NULL, 1400000000.25, NULL, 1, '127.0.0.0', 'First *post*', 'Alice', 'alice@example.org', 'https://alice.example', 3, 1, x'00', 1);
             INSERT INTO comments VALUES (1, 2, 1, 1400000100.0, 1400000200.5, 1, '::1', 'Reply <script>x</script>', NULL, NULL, NULL, 0, 0, x'00', 0);
             INSERT INTO comments VALUES (1, 3, 2, 1400000300.0, NULL, 2, '10.0.0.0', 'Waiting', 'Bob', NULL, NULL, 0, 0, x'00', 0);",
        )
        .unwrap();
    }
    let db = dir.path().join("kith.db");
    let out = cli(
        &db,
        &["import", isso.to_str().unwrap(), "--site", "default"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(report.starts_with("isso: 1 thread (1 new), 3 comments added (2 replies, max depth 2): 2 approved, 1 pending"), "{report}");
    let out = cli(&db, &["export", "--site", "default"]);
    let value: Value = serde_json::from_slice(&out.stdout).unwrap();
    let comments = value["threads"][0]["comments"].as_array().unwrap();
    assert_eq!(comments[0]["rendered_html"], "<p>First <em>post</em></p>\n");
    assert_eq!(comments[0]["created_at"], "2014-05-13T16:53:20.250Z");
    assert_eq!(comments[0]["likes"], 3);
    assert_eq!(comments[0]["notify_replies"], true);
    assert_eq!(comments[0]["ip"], "127.0.0.0");
    assert_eq!(comments[1]["edited_at"], "2014-05-13T16:56:40.500Z");
    assert!(
        !comments[1]["rendered_html"]
            .as_str()
            .unwrap()
            .contains("<script")
    );
    assert_eq!(comments[2]["status"], "pending");
}

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The `/?p=12` thread's comments (JSON), flattened, by author.
async fn comments_by_author(app: &TestApp, key: &str) -> std::collections::HashMap<String, Value> {
    let encoded = key
        .replace('/', "%2F")
        .replace('?', "%3F")
        .replace('=', "%3D");
    let thread = app.thread(&encoded).await;
    let mut out = std::collections::HashMap::new();
    let mut stack: Vec<Value> = thread["comments"].as_array().unwrap().clone();
    while let Some(c) = stack.pop() {
        stack.extend(c["replies"].as_array().unwrap().iter().cloned());
        out.insert(c["author"].as_str().unwrap().to_string(), c);
    }
    out
}

/// Every import key stored on the default site.
fn stored_keys(app: &TestApp, conn: &mut DbConn) -> Vec<String> {
    let site = kith::service::sites::find(&app.state, conn, "default").unwrap();
    let mut keys: Vec<String> = kith::db::comments::list_for_site(conn, site.id)
        .unwrap()
        .into_iter()
        .filter_map(|c| c.import_key)
        .collect();
    keys.sort();
    keys
}

both_backends! {
    async fn wordpress_comments_read_as_they_did_on_the_blog(app: TestApp) {
        let mut conn = conn(&app);
        let report = import_file(&app.state, &mut conn, "default", &data("wordpress-blog-a.xml"), &options()).unwrap();
        assert_eq!((report.threads, report.comments, report.pingbacks), (2, 7, 2), "{report}");
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);
        assert_eq!(report.dated_from_post, 2, "{report}");
        assert_eq!(report.plain_permalinks, 2, "{report}");
        assert!(report.to_string().contains("plain permalinks"), "{report}");
        // plain permalinks are two threads, not one `/`
        let stored = site_data(&app, &mut conn, "default");
        let keys: Vec<&str> = stored.threads.iter().map(|t| t.key.as_str()).collect();
        assert_eq!(keys, ["/?p=12", "/?p=13"]);
        assert_eq!(stored.threads[0].title.as_deref(), Some("Hello & welcome"));
        let c = comments_by_author(&app, "/?p=12").await;
        // wpautop: paragraphs and line breaks
        assert_eq!(c["Ann"]["html"], "<p>First paragraph<br>\nsecond line</p>\n<p>Second paragraph</p>");
        assert_eq!(c["Ann"]["website"], "https://ann.example/?a=1&b=2");
        // every tag and attribute of WordPress's allowlist survives
        let tags = c["Tag Tester"]["html"].as_str().unwrap();
        for expected in [
            r#"<a href="https://x.example/" title="a title" rel="nofollow ugc noopener">a</a>"#,
            r#"<abbr title="abbreviation">abbr</abbr>"#,
            r#"<acronym title="acronym">acr</acronym>"#,
            "<b>b</b>",
            // wpautop puts a blockquote's text in a paragraph, as WordPress shows it
            r#"<blockquote cite="https://source.example/"><p>bq</p></blockquote>"#,
            "<cite>cite</cite>",
            "<code>code</code>",
            r#"<del datetime="2020-01-01T00:00:00Z">del</del>"#,
            "<em>em</em>",
            "<i>i</i>",
            r#"<q cite="https://q.example/">q</q>"#,
            "<s>s</s>",
            "<strike>strike</strike>",
            "<strong>strong</strong>",
        ] {
            assert!(tags.contains(expected), "{expected} missing in {tags}");
        }
        // <pre> is left alone
        assert!(c["Coder"]["html"].as_str().unwrap().contains("<pre>line one\n\nline three</pre>"), "{}", c["Coder"]["html"]);
        // names are text: entities decoded once
        let ping = &c["Ping 1 « What’s up"];
        assert_eq!(ping["kind"], "pingback");
        assert_eq!(c["Track & Field"]["kind"], "trackback");
        assert_eq!(c["Ann"]["kind"], "comment");
        assert_eq!(ping["html"], "<p>[…] a post that links here […]</p>");
        // a dateless comment took its post's date; on a post without one, the file's
        assert_eq!(c["No Date"]["created_at"], "2020-01-05T08:00:00Z");
        let late = comments_by_author(&app, "/?p=13").await;
        assert_eq!(late["Late"]["created_at"], "2020-03-02T10:00:00Z");
        // counts include pingbacks and trackbacks, as WordPress's do
        let thread = app.thread("%2F%3Fp%3D12").await;
        assert_eq!(thread["total"], 6, "{thread}");
        // thread.html: the linkbacks listed apart, names escaped once
        let html = app.page_text(&format!("{}/thread.html?key=%2F%3Fp%3D12", app.api)).await;
        assert!(html.contains("Mentions, pingbacks and trackbacks"), "{html}");
        assert!(html.contains(r#"data-kind="pingback""#) && html.contains(r#"data-kind="trackback""#), "{html}");
        assert!(html.contains("Ping 1 « What’s up"), "{html}");
        // `&` escaped once when the page is made (askama writes `&#38;`)
        assert!(html.contains("Track &#38; Field") || html.contains("Track &amp; Field"), "{html}");
        assert!(!html.contains("&amp;laquo;") && !html.contains("&laquo;"), "{html}");
    }

    async fn the_same_id_from_two_blogs_is_two_comments_and_each_file_adds_once(app: TestApp) {
        let mut conn = conn(&app);
        let a = data("wordpress-blog-a.xml");
        let b = data("wordpress-blog-b.xml");
        assert_eq!(import_file(&app.state, &mut conn, "default", &a, &options()).unwrap().comments, 7);
        let second = import_file(&app.state, &mut conn, "default", &b, &options()).unwrap();
        assert_eq!((second.comments, second.already_present), (1, 0), "{second}");
        let c = comments_by_author(&app, "/?p=12").await;
        assert!(c.contains_key("Ann") && c.contains_key("Bob"));
        for (bytes, n) in [(&a, 7), (&b, 1)] {
            let again = import_file(&app.state, &mut conn, "default", bytes, &options()).unwrap();
            assert_eq!((again.comments, again.already_present), (0, n), "{again}");
        }
        let keys = stored_keys(&app, &mut conn);
        assert!(keys.contains(&"wordpress@blog-a.example#101".to_string()), "{keys:?}");
        assert!(keys.contains(&"wordpress@blog-b.example#101".to_string()), "{keys:?}");
    }

    async fn a_database_imported_by_the_previous_version_adds_nothing_on_reimport(app: TestApp) {
        use diesel::RunQueryDsl;
        let mut conn = conn(&app);
        let a = data("wordpress-blog-a.xml");
        import_file(&app.state, &mut conn, "default", &a, &options()).unwrap();
        // rewrite the keys the way kith 0.1 wrote them: `wordpress:<id>`
        for key in stored_keys(&app, &mut conn) {
            let (_, id) = key.rsplit_once('#').unwrap();
            diesel::sql_query(format!("UPDATE comments SET import_key = 'wordpress:{id}' WHERE import_key = '{key}'"))
                .execute(&mut *conn)
                .unwrap();
        }
        assert!(stored_keys(&app, &mut conn).iter().all(|k| k.starts_with("wordpress:")));
        let again = import_file(&app.state, &mut conn, "default", &a, &options()).unwrap();
        assert_eq!((again.comments, again.already_present), (0, 7), "{again}");
    }

    async fn both_exports_reimported_into_the_same_site_add_nothing(app: TestApp) {
        let mut conn = conn(&app);
        import_file(&app.state, &mut conn, "default", &data("wordpress-blog-a.xml"), &options()).unwrap();
        let posted = app.post_ok("/?p=12", "Native", "written *here*", None).await;
        assert!(posted["comment"]["id"].as_i64().is_some());
        for format in [ExportFormat::Kith, ExportFormat::WordPress] {
            let file = exported(&app, &mut conn, "default", format);
            let again = import_file(&app.state, &mut conn, "default", &file, &options()).unwrap();
            assert_eq!((again.comments, again.already_present), (0, 8), "{format:?}: {again}");
        }
        // into another site: everything, once
        let wxr = exported(&app, &mut conn, "default", ExportFormat::WordPress);
        new_site(&app.state, &mut conn, "copy");
        let copy = import_file(&app.state, &mut conn, "copy", &wxr, &options()).unwrap();
        assert_eq!(copy.comments, 8, "{copy}");
        assert_eq!(import_file(&app.state, &mut conn, "copy", &wxr, &options()).unwrap().comments, 0);
        // the WXR keeps WordPress's comment ids and has every field WordPress's importer reads
        let text = String::from_utf8(wxr).unwrap();
        for id in 101..=107 {
            assert!(text.contains(&format!("<wp:comment_id>{id}</wp:comment_id>")), "id {id}");
        }
        let items = text.matches("<item>").count();
        let comments = text.matches("<wp:comment>").count();
        let text = &text[text.find("<item>").unwrap()..];
        assert_eq!((items, comments), (2, 8));
        for field in export::wordpress::POST_FIELDS {
            let found = text.matches(&format!("<{field}>")).count()
                + text.matches(&format!("<{field} ")).count();
            assert_eq!(found, items, "post field {field}");
        }
        for field in export::wordpress::COMMENT_FIELDS {
            let open = format!("<{field}>");
            assert_eq!(text.matches(&open).count(), comments, "comment field {field}");
        }
        assert!(text.contains("<wp:post_type>post</wp:post_type>") && text.contains("<wp:status>publish</wp:status>"));
    }

    async fn kith_json_import_then_export_equals_the_original_file_field_by_field(app: TestApp) {
        let mut conn = conn(&app);
        let original_bytes = data("kith-original.json");
        let report = import_file(&app.state, &mut conn, "default", &original_bytes, &options()).unwrap();
        assert_eq!((report.threads, report.comments), (3, 5), "{report}");
        let original = without_time(&original_bytes);
        let exported = without_time(&exported(&app, &mut conn, "default", ExportFormat::Kith));
        let (a, b) = (original["threads"].as_array().unwrap(), exported["threads"].as_array().unwrap());
        assert_eq!(a.len(), b.len());
        for (ta, tb) in a.iter().zip(b) {
            for field in ["key", "url", "title", "closed"] {
                assert_eq!(ta[field], tb[field], "thread {}: {field}", ta["key"]);
            }
            let (ca, cb) = (ta["comments"].as_array().unwrap(), tb["comments"].as_array().unwrap());
            assert_eq!(ca.len(), cb.len(), "thread {}", ta["key"]);
            for (x, y) in ca.iter().zip(cb) {
                let fields = x.as_object().unwrap();
                assert_eq!(fields.len(), y.as_object().unwrap().len(), "{x} vs {y}");
                for (field, value) in fields {
                    assert_eq!(value, &y[field], "comment {}: {field}", x["source_id"]);
                }
            }
        }
        assert_eq!(original, exported);
    }

    async fn an_import_failing_midway_leaves_nothing_behind(app: TestApp) {
        let mut conn = conn(&app);
        let bytes = big_wxr(2500);
        let written = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let seen = written.clone();
        let failing = ImportOptions {
            progress: Some(std::sync::Arc::new(move |done, _total| {
                seen.store(done, std::sync::atomic::Ordering::SeqCst);
                if done >= 1000 { Err("disk full (injected)".to_string()) } else { Ok(()) }
            })),
            ..options()
        };
        let e = import_file(&app.state, &mut conn, "default", &bytes, &failing).unwrap_err();
        assert!(e.message.contains("disk full (injected)"), "{e}");
        // a batch of 1000 was written before the failure, and none of it stays
        assert_eq!(written.load(std::sync::atomic::Ordering::SeqCst), 1000);
        let stored = summary(&site_data(&app, &mut conn, "default"));
        assert_eq!((stored.threads, stored.comments), (0, 0));
        // and the same file then imports whole
        let report = import_file(&app.state, &mut conn, "default", &bytes, &options()).unwrap();
        assert_eq!(report.comments, 2500);
    }
}

#[test]
fn a_cli_dry_run_writes_no_file_no_site_and_no_row() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kith.db");
    let file = format!(
        "{}/tests/data/wordpress-blog-a.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = cli(&db, &["import", &file, "--site", "default", "--dry-run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("7 comments to add"),
        "{}",
        text(&out.stdout)
    );
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(files.is_empty(), "a dry run created {files:?}");
    // an existing database: its files are byte for byte as before
    let out = cli(&db, &["import", &file, "--site", "default"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let snapshot = |dir: &std::path::Path| {
        let mut all: Vec<(std::ffi::OsString, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (e.file_name(), std::fs::read(e.path()).unwrap())
            })
            .collect();
        all.sort();
        all
    };
    let before = snapshot(dir.path());
    let other = format!(
        "{}/tests/data/wordpress-blog-b.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = cli(&db, &["import", &other, "--site", "default", "--dry-run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("1 comment to add"),
        "{}",
        text(&out.stdout)
    );
    let out = cli(&db, &["import", &file, "--site", "default", "--dry-run"]);
    assert!(
        text(&out.stdout).contains("7 already present"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(snapshot(dir.path()), before);
}
