//! Disqus XML export.
//!
//! `<thread dsq:id>` elements carry the page (`<link>`, `<title>`, `<isClosed>`, `<isDeleted>`),
//! `<post dsq:id>` elements the comments, pointing at their thread and optional parent by
//! `dsq:id`. Ids are compared as strings exactly as given (leading zeros matter).
//!
//! Decisions:
//! - a post whose thread is missing (or has neither link nor identifier) is skipped with a reason;
//! - a post whose parent is missing or was skipped is kept as top-level, with a note;
//! - a post with an unusable date or boolean is skipped with a reason;
//! - a post without `dsq:id` is kept under a made-up id `post-N` (N = its position), with a note;
//! - posts of a deleted thread are imported as deleted (spam stays spam), with a note;
//! - threads without posts are not listed;
//! - `<isApproved>false</isApproved>` (kith's Disqus export writes it for held comments) →
//!   pending, unless the post is deleted or spam;
//! - a post whose `<id>` is a kith import key (kith's Disqus export writes them) keeps that
//!   key, so a kith export imported again adds nothing.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::xml::{self, Element};
use super::{
    CommentKind, CommentStatus, ImportBody, ImportComment, ImportData, ImportError, ImportThread,
    Skipped, non_empty, split_key,
};

const WHAT: &str = "Disqus XML";

fn parse_bool(s: &str, field: &str) -> Result<bool, String> {
    match s.trim() {
        "" | "false" | "0" => Ok(false),
        "true" | "1" => Ok(true),
        other => Err(format!("<{field}> is '{other}', expected true or false")),
    }
}

struct ThreadInfo {
    key: Option<String>,
    url: Option<String>,
    title: Option<String>,
    closed: bool,
    deleted: bool,
}

pub(crate) fn parse(bytes: &[u8]) -> Result<ImportData, ImportError> {
    let doc = xml::parse_document(bytes, WHAT)?;
    let root = &doc.root;
    if !root.is("disqus") {
        return Err(ImportError::at(
            format!(
                "{WHAT}: the root element is <{}>, expected <disqus>",
                root.local
            ),
            doc.position(root.pos),
        ));
    }
    let mut data = ImportData {
        // One export is one forum.
        source: root
            .children_named("thread")
            .find_map(|t| super::source_name(t.child_text("forum"))),
        ..ImportData::default()
    };

    // Threads may be declared after the posts that use them: collect them first.
    let mut threads: HashMap<String, ThreadInfo> = HashMap::new();
    for t in root.children_named("thread") {
        let Some(id) = t.attr("id") else { continue };
        let link = t.child_text("link");
        let ident = t.child_text("id");
        let closed = parse_bool(t.child_text("isClosed"), "isClosed").map_err(|e| {
            ImportError::at(format!("{WHAT}: thread {id}: {e}"), doc.position(t.pos))
        })?;
        let deleted = parse_bool(t.child_text("isDeleted"), "isDeleted").map_err(|e| {
            ImportError::at(format!("{WHAT}: thread {id}: {e}"), doc.position(t.pos))
        })?;
        threads.insert(
            id.to_string(),
            ThreadInfo {
                key: non_empty(link).or_else(|| non_empty(ident)),
                url: non_empty(link),
                title: non_empty(t.child_text("title")),
                closed,
                deleted,
            },
        );
    }

    // Group posts by thread, in document order of first use.
    let mut order: Vec<String> = Vec::new();
    // Per thread: (dsq:id, carried import key).
    let mut keys: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let mut grouped: HashMap<String, Vec<ImportComment>> = HashMap::new();
    for (n, p) in root.children_named("post").enumerate() {
        let source_id = match p.attr("id").map(str::trim) {
            Some(id) if !id.is_empty() => id.to_string(),
            _ => {
                let made_up = format!("post-{}", n + 1);
                data.notes.push(format!(
                    "post at {} has no dsq:id; imported as {made_up}",
                    doc.position(p.pos)
                ));
                made_up
            }
        };
        let skip = |reason: String| Skipped {
            source_id: source_id.clone(),
            reason: format!("{reason} (post at {})", doc.position(p.pos)),
        };
        let Some(thread_id) = p.child("thread").and_then(|t| t.attr("id")) else {
            data.skipped
                .push(skip("post names no thread (<thread dsq:id>)".into()));
            continue;
        };
        let Some(info) = threads.get(thread_id) else {
            data.skipped
                .push(skip(format!("thread {thread_id} does not exist")));
            continue;
        };
        if info.key.is_none() {
            data.skipped.push(skip(format!(
                "thread {thread_id} has neither <link> nor <id> to key it"
            )));
            continue;
        }
        let mut comment = match post(p, source_id.clone()) {
            Ok(c) => c,
            Err(reason) => {
                data.skipped.push(skip(reason));
                continue;
            }
        };
        if info.deleted && comment.status != CommentStatus::Spam {
            comment.status = CommentStatus::Deleted;
        }
        let carried = p.child_text("id").trim();
        if split_key(carried).is_some() || super::is_legacy_key(carried) {
            keys.entry(thread_id.to_string())
                .or_default()
                .push((comment.source_id.clone(), carried.to_string()));
        }
        if !grouped.contains_key(thread_id) {
            order.push(thread_id.to_string());
        }
        grouped
            .entry(thread_id.to_string())
            .or_default()
            .push(comment);
    }

    for thread_id in order {
        let (Some(info), Some(mut comments)) =
            (threads.get(&thread_id), grouped.remove(&thread_id))
        else {
            continue;
        };
        if let Some(renames) = keys.remove(&thread_id) {
            use_carried_keys(&mut comments, renames);
        }
        let Some(key) = info.key.clone() else {
            continue;
        };
        if info.deleted {
            data.notes.push(format!(
                "thread {thread_id} ('{key}') is deleted in Disqus; its posts are imported as deleted (spam stays spam)"
            ));
        }
        data.threads.push(ImportThread {
            key,
            url: info.url.clone(),
            title: info.title.clone(),
            closed: info.closed,
            comments,
        });
    }
    Ok(data)
}

/// Renames posts to the import keys they carry (when each key is used once in the thread and
/// names no other post), and their replies' parents with them.
fn use_carried_keys(comments: &mut [ImportComment], renames: Vec<(String, String)>) {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for (_, key) in &renames {
        *count.entry(key.as_str()).or_default() += 1;
    }
    let ids: std::collections::HashSet<&str> =
        comments.iter().map(|c| c.source_id.as_str()).collect();
    let map: HashMap<String, String> = renames
        .iter()
        .filter(|(_, key)| count.get(key.as_str()) == Some(&1) && !ids.contains(key.as_str()))
        .map(|(id, key)| (id.clone(), key.clone()))
        .collect();
    for c in comments.iter_mut() {
        if let Some(key) = map.get(&c.source_id) {
            c.source_id = key.clone();
        }
        if let Some(key) = c.parent_source_id.as_ref().and_then(|p| map.get(p)) {
            c.parent_source_id = Some(key.clone());
        }
    }
}

fn post(p: &Element, source_id: String) -> Result<ImportComment, String> {
    let created_raw = p.child_text("createdAt");
    let created_at = DateTime::parse_from_rfc3339(created_raw)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| format!("<createdAt> '{created_raw}' is not a date"))?;
    let deleted = parse_bool(p.child_text("isDeleted"), "isDeleted")?;
    let spam = parse_bool(p.child_text("isSpam"), "isSpam")?;
    // absent means approved: Disqus's own exports list published posts
    let approved = p.child_text("isApproved").trim().is_empty()
        || parse_bool(p.child_text("isApproved"), "isApproved")?;
    let status = if deleted {
        CommentStatus::Deleted
    } else if spam {
        CommentStatus::Spam
    } else if !approved {
        CommentStatus::Pending
    } else {
        CommentStatus::Approved
    };
    let author_el = p.child("author");
    let author = author_el
        .and_then(|a| {
            non_empty(a.child_text("name")).or_else(|| non_empty(a.child_text("username")))
        })
        .unwrap_or_else(|| "Anonymous".to_string());
    let email = author_el.and_then(|a| non_empty(a.child_text("email")));
    let parent_source_id = p
        .child("parent")
        .and_then(|e| e.attr("id"))
        .and_then(non_empty);
    Ok(ImportComment {
        reactions: Default::default(),
        source_id,
        parent_source_id,
        author,
        email,
        website: None,
        ip: non_empty(p.child_text("ipAddress")),
        user_agent: None,
        created_at,
        edited_at: None,
        body: ImportBody::Html(p.child_text("message").to_string()),
        rendered_html: None,
        status,
        kind: CommentKind::Comment,
        likes: 0,
        pinned: false,
        owner: false,
        notify_replies: false,
        held_reason: None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::test_support::fixture;
    use super::super::{Format, ImportData, detect, parse as parse_any, summary};
    use super::*;

    fn dq(rel: &str) -> ImportData {
        let bytes = fixture(rel);
        assert_eq!(detect(&bytes), Some(Format::Disqus), "{rel}");
        parse_any(&bytes, Format::Disqus).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    fn get<'a>(data: &'a ImportData, id: &str) -> &'a ImportComment {
        data.threads
            .iter()
            .flat_map(|t| &t.comments)
            .find(|c| c.source_id == id)
            .unwrap_or_else(|| panic!("no post {id}"))
    }

    #[test]
    fn isso_disqus_counts_orphan_and_deleted_parent() {
        let data = dq("isso/disqus.xml");
        let s = summary(&data);
        assert_eq!(s.threads, 2);
        assert_eq!(s.comments, 5);
        assert_eq!(s.replies, 2);
        assert_eq!(s.max_depth, 1);
        assert_eq!(s.by_status.approved, 4);
        assert_eq!(s.by_status.deleted, 1);
        assert_eq!(s.by_status.spam, 0);
        // post 6 references missing thread 1337
        assert_eq!(data.skipped.len(), 1);
        assert_eq!(data.skipped[0].source_id, "6");
        assert!(data.skipped[0].reason.contains("1337"));
        assert_eq!(get(&data, "5").parent_source_id.as_deref(), Some("4"));
        // reply to a deleted post keeps its parent
        assert_eq!(get(&data, "11").parent_source_id.as_deref(), Some("9"));
        assert_eq!(get(&data, "9").status, CommentStatus::Deleted);
        assert_eq!(get(&data, "5").body.text(), "<p>Hello, World.</p>");
        assert_eq!(get(&data, "4").email.as_deref(), Some("foo@bar.com"));
        assert_eq!(get(&data, "4").ip.as_deref(), Some("127.0.0.1"));
        // thread 7: empty title, declared after its posts
        let t7 = data
            .threads
            .iter()
            .find(|t| t.key == "http://localhost:4000/blog/2013/02/12/redacted/index.html")
            .unwrap();
        assert_eq!(t7.title, None);
        assert_eq!(t7.comments.len(), 1);
        let t2 = data
            .threads
            .iter()
            .find(|t| t.key == "http://example.org/")
            .unwrap();
        assert_eq!(t2.title.as_deref(), Some("Hello, World!"));
    }

    #[test]
    fn remark42_disqus_variants() {
        // Not well-formed (a backtick before <?xml, an unquoted attribute): read leniently.
        let data = dq("remark42/disqus.xml");
        let s = summary(&data);
        assert_eq!(s.threads, 2);
        assert_eq!(s.comments, 5);
        assert_eq!(s.replies, 0);
        assert_eq!(s.max_depth, 0);
        // remark42 imports 4: spam and the broken post excluded
        assert_eq!(s.by_status.approved, 4);
        assert_eq!(s.by_status.spam, 1);
        assert_eq!(data.skipped.len(), 1);
        assert_eq!(data.skipped[0].source_id, "x299986073");
        assert!(
            data.skipped[0].reason.contains("createdAt"),
            "{:?}",
            data.skipped
        );
        assert_eq!(get(&data, "post-4").body.text(), "This comment had no ID");
        let closed = data
            .threads
            .iter()
            .find(|t| t.key == "https://radio-t.com/p/2011/03/05/podcast-229/")
            .unwrap();
        assert!(closed.closed);
        assert_eq!(closed.title.as_deref(), Some("Радио-Т: Радио-Т 229"));
        assert_eq!(get(&data, "299619020").email, None);

        let data = dq("remark42/disqus-deleted-post.xml");
        let s = summary(&data);
        assert_eq!((s.comments, s.by_status.approved), (5, 3));
        assert_eq!(s.by_status.deleted, 1);
        assert_eq!(get(&data, "299619020").status, CommentStatus::Deleted);

        let data = dq("remark42/disqus-deleted-thread.xml");
        let s = summary(&data);
        assert_eq!((s.comments, s.by_status.approved), (5, 2));
        assert_eq!((s.by_status.deleted, s.by_status.spam), (2, 1));
    }

    #[test]
    fn comentario_disqus_files() {
        let data = dq("comentario/disqus-ok-single.xml.gz");
        let s = summary(&data);
        assert_eq!((s.threads, s.comments), (1, 1));
        let c = &data.threads[0].comments[0];
        assert_eq!(c.source_id, "040506");
        assert_eq!(c.author, "Bugs Bunny");
        assert_eq!(c.body.text(), "<p>Yay, imported</p>");
        assert_eq!(data.threads[0].key, "http://example.com/");

        let empty = dq("comentario/disqus-ok-empty.xml.gz");
        assert_eq!(summary(&empty), summary(&ImportData::default()));
        for rel in [
            "comentario/unpacked/disqus-ok-single.xml",
            "comentario/unpacked/disqus-ok-empty.xml",
        ] {
            dq(rel);
        }

        for rel in [
            "comentario/disqus-bad-format.xml.gz",
            "comentario/unpacked/disqus-bad-format.xml",
        ] {
            let err = parse_any(&fixture(rel), Format::Disqus).unwrap_err();
            assert!(err.message.contains("<disqus>"), "{err}");
            assert!(err.message.contains("truncated"), "{err}");
            assert!(err.position.is_some(), "{err}");
        }
    }

    #[test]
    fn leading_zero_thread_ids_are_strings() {
        let xml = br#"<disqus xmlns:dsq="http://disqus.com/disqus-internals">
            <thread dsq:id="0102"><link>/a</link></thread>
            <thread dsq:id="102"><link>/b</link></thread>
            <post dsq:id="1"><createdAt>2020-01-01T00:00:00Z</createdAt><thread dsq:id="102"/></post>
            <post dsq:id="2"><createdAt>2020-01-01T00:00:00Z</createdAt><thread dsq:id="0102"/><parent dsq:id="77"/></post>
        </disqus>"#;
        let data = parse_any(xml, Format::Disqus).unwrap();
        let keys: Vec<_> = data.threads.iter().map(|t| t.key.as_str()).collect();
        assert_eq!(keys, ["/b", "/a"]);
        // missing parent: kept as top-level, noted
        assert_eq!(data.threads[1].comments[0].parent_source_id, None);
        assert_eq!(data.notes.len(), 1, "{:?}", data.notes);
        assert_eq!(data.threads[0].comments[0].author, "Anonymous");
    }

    #[test]
    fn wrong_root_is_refused() {
        let err = parse_any(b"<rss><channel/></rss>", Format::Disqus).unwrap_err();
        assert!(err.message.contains("expected <disqus>"), "{err}");
        assert_eq!(err.position.as_deref(), Some("line 1, column 1"));
    }
}
