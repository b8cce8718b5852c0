//! The Remark42, Artalk and Cusdis importers and the Disqus export, through the service, the
//! CLI and the admin API, on both backends. Fixtures of our own making in each format's
//! documented shape live in `tests/data/` (see its README).

use chrono::{DateTime, Utc};
use kith::db::DbConn;
use kith::domain::site::SiteSettings;
use kith::error::ErrorKind;
use kith::import::{
    CommentKind, CommentStatus, Format, ImportBody, ImportComment, ImportData, ImportThread,
    detect, summary,
};
use kith::service::export::{ExportFormat, export_site, read_site};
use kith::service::import::{ImportOptions, import_file};
use kith::state::AppState;
use reqwest::Method;
use serde_json::Value;

use crate::admin_support::Admin;
use crate::helpers::{Db, TestApp, assert_error};

type Conn = diesel::r2d2::PooledConnection<kith::db::pool::Manager>;

fn conn(app: &TestApp) -> Conn {
    app.state.pool.get().unwrap()
}

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn new_site(state: &AppState, conn: &mut DbConn, slug: &str) {
    let now = Utc::now().naive_utc();
    assert!(
        kith::db::sites::insert_if_absent(conn, slug, slug, &[], &SiteSettings::default(), now)
            .unwrap()
    );
    state.sites.invalidate(slug);
}

fn stored(app: &TestApp, conn: &mut DbConn, slug: &str) -> ImportData {
    let site = kith::service::sites::find(&app.state, conn, slug).unwrap();
    read_site(&app.state, conn, &site).unwrap()
}

/// (threads, comments, replies, max depth, approved, pending, spam, deleted)
fn counts(data: &ImportData) -> [usize; 8] {
    let s = summary(data);
    let b = s.by_status;
    [
        s.threads,
        s.comments,
        s.replies,
        s.max_depth,
        b.approved,
        b.pending,
        b.spam,
        b.deleted,
    ]
}

fn by_author<'a>(data: &'a ImportData, author: &str) -> &'a ImportComment {
    data.threads
        .iter()
        .flat_map(|t| &t.comments)
        .find(|c| c.author == author)
        .unwrap_or_else(|| panic!("no comment by {author}"))
}

fn thread_of<'a>(data: &'a ImportData, author: &str) -> &'a ImportThread {
    data.threads
        .iter()
        .find(|t| t.comments.iter().any(|c| c.author == author))
        .unwrap_or_else(|| panic!("no thread with {author}"))
}

/// The parent's author of the comment by `author`.
fn parent_author<'a>(data: &'a ImportData, author: &str) -> Option<&'a str> {
    let thread = thread_of(data, author);
    let c = by_author(data, author);
    let parent = c.parent_source_id.as_deref()?;
    thread
        .comments
        .iter()
        .find(|p| p.source_id == parent)
        .map(|p| p.author.as_str())
}

fn html(c: &ImportComment) -> &str {
    c.rendered_html.as_deref().unwrap_or_default()
}

/// The tags of an HTML text (what is between `<` and `>`): text may mention `onerror`, only
/// markup could run it.
fn tags(html: &str) -> Vec<String> {
    html.split('<')
        .skip(1)
        .map(|rest| {
            rest.split('>')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase()
        })
        .collect()
}

fn assert_no_script(data: &ImportData) {
    for c in data.threads.iter().flat_map(|t| &t.comments) {
        for tag in tags(html(c)) {
            for bad in ["onerror", "onclick", "javascript:"] {
                assert!(
                    !tag.contains(bad),
                    "{bad} survived in <{tag}> of {}",
                    html(c)
                );
            }
            assert!(
                !tag.starts_with("script") && !tag.starts_with("img"),
                "<{tag}> in {}",
                html(c)
            );
        }
        if let Some(w) = &c.website {
            assert!(w.starts_with("http"), "website {w}");
        }
    }
}

/// (fixture, format, counts as [`counts`] gives them, skipped)
const FILES: [(&str, Format, [usize; 8], usize); 3] = [
    (
        "remark42-backup.json",
        Format::Remark42,
        [2, 5, 2, 2, 3, 1, 0, 1],
        2,
    ),
    (
        "artalk-artrans.json",
        Format::Artalk,
        [2, 4, 2, 2, 3, 1, 0, 0],
        1,
    ),
    (
        "cusdis-dump.json",
        Format::Cusdis,
        [2, 4, 2, 2, 2, 1, 0, 1],
        2,
    ),
];

crate::both_backends! {
    async fn remark42_artalk_and_cusdis_files_import_once_with_their_counts(app: TestApp) {
        let mut conn = conn(&app);
        for (n, (file, format, want, skipped)) in FILES.iter().enumerate() {
            let bytes = data(file);
            assert_eq!(detect(&bytes), Some(*format), "{file}");
            let slug = format!("s{n}");
            new_site(&app.state, &mut conn, &slug);
            // dry run: the same report, nothing written
            let dry = ImportOptions { dry_run: true, ..ImportOptions::default() };
            let planned = import_file(&app.state, &mut conn, &slug, &bytes, &dry).unwrap();
            assert_eq!(counts(&stored(&app, &mut conn, &slug))[1], 0, "{file}: dry run wrote");
            let report =
                import_file(&app.state, &mut conn, &slug, &bytes, &ImportOptions::default()).unwrap();
            assert_eq!(report.format, *format);
            let data = stored(&app, &mut conn, &slug);
            assert_eq!(&counts(&data), want, "{file}: {report}");
            assert_eq!(report.skipped.len(), *skipped, "{file}: {:?}", report.skipped);
            assert_eq!(
                (planned.comments, planned.by_status, planned.replies),
                (report.comments, report.by_status, report.replies),
                "{file}"
            );
            assert_no_script(&data);
            // idempotent: the same file again adds nothing
            let again =
                import_file(&app.state, &mut conn, &slug, &bytes, &ImportOptions::default()).unwrap();
            assert_eq!((again.comments, again.already_present), (0, want[1]), "{file}: {again}");
            assert_eq!(stored(&app, &mut conn, &slug), data, "{file}");
            // the format can be named too
            let named = ImportOptions { format: Some(*format), ..ImportOptions::default() };
            let third = import_file(&app.state, &mut conn, &slug, &bytes, &named).unwrap();
            assert_eq!(third.comments, 0);
        }
    }

    async fn remark42_fields_threading_and_statuses_are_kept(app: TestApp) {
        let mut conn = conn(&app);
        import_file(&app.state, &mut conn, "default", &data("remark42-backup.json"), &ImportOptions::default()).unwrap();
        let data = stored(&app, &mut conn, "default");
        // the name Remark42 stored escaped is text again
        let zoe = by_author(&data, "Zoë <the admin> & co");
        assert!(zoe.pinned && zoe.owner);
        assert_eq!(zoe.likes, 3);
        assert_eq!(zoe.email.as_deref(), Some("zoe@blog.example"));
        assert_eq!(zoe.created_at, "2023-05-01T08:00:00.123456Z".parse::<DateTime<Utc>>().unwrap());
        assert!(html(zoe).contains("<strong>world</strong> — ünïcödé, 日本語, emoji 🎉"), "{}", html(zoe));
        // Remark42's user.ip is a hash, not an address: not kept
        assert_eq!(zoe.ip, None);
        let bob = by_author(&data, "Bob");
        assert_eq!(parent_author(&data, "Bob"), Some("Zoë <the admin> & co"));
        assert_eq!(bob.edited_at, Some("2023-05-01T11:45:00Z".parse().unwrap()));
        assert_eq!(bob.likes, -1);
        assert!(html(bob).contains(r#"<a href="https://good.example/" rel="nofollow ugc noopener">good link</a>"#), "{}", html(bob));
        assert!(html(bob).contains("click me"), "{}", html(bob));
        let deleted = by_author(&data, "deleted");
        assert_eq!(deleted.status, CommentStatus::Deleted);
        assert_eq!(parent_author(&data, "deleted"), Some("Bob"));
        // a user blocked in Remark42: held for the owner
        let spammy = by_author(&data, "Spammy");
        assert_eq!(spammy.status, CommentStatus::Pending);
        assert!(spammy.held_reason.as_deref().unwrap().contains("blocked"));
        // read_only posts are closed; titles come from the comments
        let closed = thread_of(&data, "Ана");
        assert!(closed.closed);
        assert_eq!(closed.title.as_deref(), Some("An old post"));
        assert_eq!(closed.key, "/posts/closed/");
        assert_eq!(thread_of(&data, "Bob").title.as_deref(), Some("Hello, world"));
        assert!(html(by_author(&data, "Ана")).contains("<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>"));
        // the reader's API never shows the e-mail address
        let thread = app.thread("/posts/hello/").await.to_string();
        assert!(thread.contains("good link") && !thread.contains("zoe@blog.example"), "{thread}");
    }

    async fn artalk_fields_threading_and_statuses_are_kept(app: TestApp) {
        let mut conn = conn(&app);
        import_file(&app.state, &mut conn, "default", &data("artalk-artrans.json"), &ImportOptions::default()).unwrap();
        let data = stored(&app, &mut conn, "default");
        let q = by_author(&data, "qwqcode");
        assert!(q.pinned);
        assert_eq!(q.likes, 4);
        assert_eq!(q.website.as_deref(), Some("https://qwqaq.example"));
        assert_eq!(q.email.as_deref(), Some("qwqcode@artalk.example"));
        assert_eq!(q.ip.as_deref(), Some("203.0.113.7"));
        assert_eq!(q.user_agent.as_deref(), Some("Mozilla/5.0 (X11; Linux x86_64)"));
        assert_eq!(q.created_at, "2021-10-28T12:50:15Z".parse::<DateTime<Utc>>().unwrap());
        assert!(html(q).contains("<strong>Artalk</strong> 你好"), "{}", html(q));
        // Markdown is rendered as Artalk showed it: bare addresses are links
        assert!(html(q).contains(r#"href="https://artalk.example/docs""#), "{}", html(q));
        let m = by_author(&data, "Mallory <b>");
        assert_eq!(m.website, None, "a javascript: website is dropped");
        assert_eq!(m.likes, -2);
        assert_eq!(parent_author(&data, "Mallory <b>"), Some("qwqcode"));
        let held = by_author(&data, "Ünïcödé Ñame");
        assert_eq!(held.status, CommentStatus::Pending);
        assert_eq!(parent_author(&data, "Ünïcödé Ñame"), Some("Mallory <b>"));
        // numbers and booleans from converters; a relative page_key gets the site's address
        let conv = thread_of(&data, "Converter");
        assert_eq!(conv.key, "/posts/relative/");
        assert_eq!(conv.url.as_deref(), Some("https://blog.example/posts/relative/"));
        assert!(conv.closed, "page_admin_only closes the thread");
        assert_eq!(by_author(&data, "Converter").likes, 2);
        let hello = thread_of(&data, "qwqcode");
        assert_eq!(hello.title.as_deref(), Some("Hello, Artalk"));
        // the password hash is nowhere
        let export = String::from_utf8(exported(&app, &mut conn, ExportFormat::Kith)).unwrap();
        assert!(!export.contains("secret-hash"));
    }

    async fn cusdis_fields_threading_and_statuses_are_kept(app: TestApp) {
        let mut conn = conn(&app);
        import_file(&app.state, &mut conn, "default", &data("cusdis-dump.json"), &ImportOptions::default()).unwrap();
        let data = stored(&app, &mut conn, "default");
        let reader = by_author(&data, "Reader 読者");
        assert_eq!(reader.status, CommentStatus::Approved);
        assert_eq!(reader.email.as_deref(), Some("reader@mail.example"));
        assert_eq!(reader.created_at, "2022-03-01T10:00:00.123Z".parse::<DateTime<Utc>>().unwrap());
        assert!(html(reader).contains(r#"href="https://example.org/page""#), "{}", html(reader));
        let owner = by_author(&data, "The Owner");
        assert!(owner.owner, "a moderator's reply is the owner's");
        assert_eq!(owner.created_at, DateTime::from_timestamp_millis(1_646_128_800_000).unwrap());
        assert!(html(owner).contains("<strong>Thanks!</strong>"), "{}", html(owner));
        assert_eq!(parent_author(&data, "The Owner"), Some("Reader 読者"));
        assert_eq!(by_author(&data, "Waiting").status, CommentStatus::Pending);
        assert_eq!(parent_author(&data, "Waiting"), Some("The Owner"));
        assert_eq!(by_author(&data, "Gone").status, CommentStatus::Deleted);
        let second = thread_of(&data, "Gone");
        assert_eq!(second.key, "/posts/second/");
        assert_eq!(thread_of(&data, "Reader 読者").title.as_deref(), Some("Hello, Cusdis"));
    }

    async fn broken_files_are_refused_with_their_position_and_nothing_written(app: TestApp) {
        let mut conn = conn(&app);
        let remark = String::from_utf8(data("remark42-backup.json")).unwrap();
        let mut lines: Vec<&str> = remark.lines().collect();
        lines[3] = r#"{"id":"broken","pid":"","text":"<p>cut off"#;
        let broken_remark = lines.join("\n");
        let wrong_type = remark.replacen(r#""score":3"#, r#""score":"three""#, 1);
        let artalk = data("artalk-artrans.json");
        let cut_artalk = artalk[..artalk.len() / 2].to_vec();
        let cusdis = String::from_utf8(data("cusdis-dump.json")).unwrap();
        let bad_bool = cusdis.replacen(r#""approved": false"#, r#""approved": "maybe""#, 1);
        let cases: [(&str, Vec<u8>, Format, &str); 5] = [
            ("remark42 line", broken_remark.into_bytes(), Format::Remark42, "line 4"),
            ("remark42 type", wrong_type.into_bytes(), Format::Remark42, "line 2"),
            ("artalk", cut_artalk, Format::Artalk, "line "),
            ("cusdis", bad_bool.into_bytes(), Format::Cusdis, "line 9"),
            (
                "remark42 version",
                remark.replacen(r#""version":1"#, r#""version":7"#, 1).into_bytes(),
                Format::Remark42,
                "unsupported backup version 7",
            ),
        ];
        for (what, bytes, format, needle) in cases {
            let options = ImportOptions { format: Some(format), ..ImportOptions::default() };
            let err = import_file(&app.state, &mut conn, "default", &bytes, &options).unwrap_err();
            assert_eq!(err.kind, ErrorKind::InvalidImport, "{what}: {err}");
            assert!(err.message.contains(needle), "{what}: {}", err.message);
            assert_eq!(counts(&stored(&app, &mut conn, "default"))[1], 0, "{what}: something was written");
        }
    }

    async fn a_disqus_export_round_trips_through_the_disqus_importer(app: TestApp) {
        let mut conn = conn(&app);
        let original = hostile_sample();
        let bytes = kith_bytes(&original);
        import_file(&app.state, &mut conn, "default", &bytes, &ImportOptions::default()).unwrap();
        let before = stored(&app, &mut conn, "default");
        let xml = exported(&app, &mut conn, ExportFormat::Disqus);
        assert_well_formed(&xml);
        let text = String::from_utf8(xml.clone()).unwrap();
        // a `]]>` in a body reaches the CDATA section escaped by the sanitizer (the writer also
        // splits a raw one: src/export/disqus.rs tests), so the section ends where it should
        assert!(text.contains("<![CDATA[<p>Body ]]&gt; with"), "{text}");
        assert_eq!(detect(&xml), Some(Format::Disqus));

        // into another site: the same comments
        new_site(&app.state, &mut conn, "copy");
        let report = import_file(&app.state, &mut conn, "copy", &xml, &ImportOptions::default()).unwrap();
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);
        let after = stored(&app, &mut conn, "copy");
        assert_eq!(counts(&after), counts(&before), "{report}");
        for (t0, t1) in before.threads.iter().zip(&after.threads) {
            assert_eq!((&t0.key, &t0.title, t0.closed), (&t1.key, &t1.title, t1.closed));
            assert_eq!(t0.comments.len(), t1.comments.len());
            for (a, b) in t0.comments.iter().zip(&t1.comments) {
                assert_eq!(a.author, b.author);
                assert_eq!(a.status, b.status, "{}", a.author);
                assert_eq!(a.email, b.email);
                assert_eq!(a.created_at.timestamp(), b.created_at.timestamp());
                // XML cannot carry U+001B: the export writes U+FFFD instead
                assert_eq!(html(a).replace('\u{1b}', "\u{fffd}"), html(b), "{}", a.author);
                // the same parent, named by author
                assert_eq!(parent_author(&before, &a.author), parent_author(&after, &b.author));
            }
        }
        // back into the site it came from: the import keys it carries are recognized
        let again = import_file(&app.state, &mut conn, "default", &xml, &ImportOptions::default()).unwrap();
        assert_eq!((again.comments, again.already_present), (0, counts(&before)[1]), "{again}");
    }
}

/// Threads with replies three deep, every status, hostile names and bodies.
fn hostile_sample() -> ImportData {
    let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    let c = |id: &str, parent: Option<&str>, author: &str, body: &str| ImportComment {
        reactions: Default::default(),
        source_id: id.into(),
        parent_source_id: parent.map(Into::into),
        author: author.into(),
        email: Some(format!("{id}@mail.example")),
        website: None,
        ip: Some("192.0.2.1".into()),
        user_agent: None,
        created_at: at("2024-02-29T23:59:58Z"),
        edited_at: None,
        body: ImportBody::Html(body.into()),
        rendered_html: None,
        status: CommentStatus::Approved,
        kind: CommentKind::Comment,
        likes: 0,
        pinned: false,
        owner: false,
        notify_replies: false,
        held_reason: None,
    };
    let mut a = vec![
        c(
            "1",
            None,
            "Zoë <script>alert(1)</script> & \"friends\"",
            "<p>Body ]]> with <abbr title=\"CDATA ends ]]> here\">CDATA</abbr> &amp; more ]]]]> and <b>bold</b></p>",
        ),
        c(
            "2",
            Some("1"),
            "Reply ]]> two",
            "<p>second <a href=\"https://x.example/?a=1&amp;b=2\">link</a></p>",
        ),
        c("3", Some("2"), "Deep 日本語", "<p>third</p>"),
        c("4", Some("3"), "Held", "<p>pending one</p>"),
        c("5", None, "Spammer", "<p>spam</p>"),
        c("6", None, "Gone", "<p>deleted</p>"),
    ];
    a[1].created_at = at("2024-03-01T00:00:00Z");
    a[2].created_at = at("2024-03-02T00:00:00Z");
    a[3].status = CommentStatus::Pending;
    a[3].created_at = at("2024-03-03T00:00:00Z");
    a[4].status = CommentStatus::Spam;
    a[4].created_at = at("2024-03-04T00:00:00Z");
    a[5].status = CommentStatus::Deleted;
    a[5].created_at = at("2024-03-05T00:00:00Z");
    let mut b = vec![c("7", None, "Other <page>", "<p>x\u{1b}y</p>")];
    b[0].created_at = at("1999-12-31T00:00:00Z");
    ImportData {
        threads: vec![
            ImportThread {
                key: "/posts/hello/".into(),
                url: Some("https://blog.example/posts/hello/".into()),
                title: Some("Hello & <welcome> ]]>".into()),
                closed: false,
                comments: a,
            },
            ImportThread {
                key: "https://blog.example/закрыто/".into(),
                url: Some("https://blog.example/закрыто/".into()),
                title: Some("Closed".into()),
                closed: true,
                comments: b,
            },
        ],
        ..ImportData::default()
    }
}

fn kith_bytes(data: &ImportData) -> Vec<u8> {
    let mut out = Vec::new();
    kith::export::kith::write(data, &mut out).unwrap();
    out
}

fn exported(app: &TestApp, conn: &mut DbConn, format: ExportFormat) -> Vec<u8> {
    let mut out = Vec::new();
    export_site(&app.state, conn, "default", format, &mut out).unwrap();
    out
}

/// Reads the whole document with a strict XML reader: it must be well-formed.
fn assert_well_formed(xml: &[u8]) {
    let mut reader = quick_xml::Reader::from_reader(xml);
    reader.config_mut().check_end_names = true;
    let mut buf = Vec::new();
    let mut depth = 0i64;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Start(_)) => depth += 1,
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Text(t)) => {
                let _ = t.xml10_content();
            }
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well-formed at byte {}: {e}", reader.buffer_position()),
        }
        buf.clear();
    }
    assert_eq!(depth, 0);
}

// ---- the CLI and the admin API ----

fn cli(url: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_kith"))
        .args(args)
        .env("KITH_DATABASE__URL", url)
        .env("KITH_LOG__LEVEL", "warn")
        .env_remove("KITH_CONFIG")
        .output()
        .unwrap()
}

crate::each_on_both_backends!(
    the_cli_imports_each_new_format_and_exports_disqus,
    the_admin_api_imports_each_new_format_and_downloads_disqus,
);

async fn the_cli_imports_each_new_format_and_exports_disqus(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let url = match db {
        Db::Sqlite => format!("sqlite://{}", dir.path().join("kith.db").display()),
        Db::Postgres => crate::helpers::fresh_postgres_database(),
    };
    let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
    for (file, format, want, _) in FILES {
        let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
        let out = cli(
            &url,
            &[
                "import",
                &path,
                "--site",
                "default",
                "--format",
                format.name(),
            ],
        );
        assert!(out.status.success(), "{file}: {}", text(&out.stderr));
        let line = text(&out.stdout);
        assert!(
            line.contains(&format!("{} comments added", want[1])),
            "{file}: {line}"
        );
        let out = cli(&url, &["import", &path, "--site", "default"]);
        assert!(out.status.success(), "{file}: {}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains(&format!("{} already present", want[1])),
            "{}",
            text(&out.stdout)
        );
    }
    let out = cli(&url, &["export", "--site", "default", "--format", "disqus"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("<?xml"));
    assert_well_formed(&out.stdout);
    let back = kith::import::parse(&out.stdout, Format::Disqus).unwrap();
    assert_eq!(
        summary(&back).comments,
        FILES.iter().map(|f| f.2[1]).sum::<usize>()
    );
    // a broken file: refused with its line, nothing more written
    let broken = dir.path().join("broken.json");
    std::fs::write(
        &broken,
        "{\"version\":1,\"users\":[],\"posts\":[]}\n{\"id\":",
    )
    .unwrap();
    let out = cli(
        &url,
        &[
            "import",
            broken.to_str().unwrap(),
            "--site",
            "default",
            "--format",
            "remark42",
        ],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("line 2"),
        "{}",
        text(&out.stderr)
    );
    if let Db::Postgres = db {
        crate::helpers::drop_postgres_database(&url);
    }
}

async fn the_admin_api_imports_each_new_format_and_downloads_disqus(db: Db) {
    let app = crate::helpers::spawn_app(db).await;
    let admin = Admin::login(&app).await;
    let mut total = 0;
    for (file, format, want, skipped) in FILES {
        let response = admin
            .client
            .post(format!(
                "{}/sites/default/import?format={}",
                admin.base,
                format.name()
            ))
            .header("cookie", &admin.cookie)
            .header("x-csrf-token", &admin.csrf)
            .body(data(file))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{file}");
        let report: Value = response.json().await.unwrap();
        assert_eq!(report["comments"], want[1], "{file}: {report}");
        assert_eq!(
            report["skipped"].as_array().unwrap().len(),
            skipped,
            "{report}"
        );
        assert_eq!(report["format"], format.name());
        total += want[1];
    }
    let response = admin
        .send(Method::GET, "/sites/default/export?format=disqus", None)
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xml")
    );
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("-disqus.xml")
    );
    let body = response.bytes().await.unwrap();
    assert_well_formed(&body);
    let back = kith::import::parse(&body, Format::Disqus).unwrap();
    assert_eq!(summary(&back).comments, total);
    // a broken upload: 422 with the position, nothing written
    let response = admin
        .client
        .post(format!("{}/sites/default/import?format=artalk", admin.base))
        .header("cookie", &admin.cookie)
        .header("x-csrf-token", &admin.csrf)
        .body("[{\"id\": \"1\", \"page_key\": ")
        .send()
        .await
        .unwrap();
    let body = assert_error(response, 422, "invalid_import").await;
    assert!(
        body["message"].as_str().unwrap().contains("line 1"),
        "{body}"
    );
    let mut conn = conn(&app);
    assert_eq!(summary(&stored(&app, &mut conn, "default")).comments, total);
}
