//! Commento JSON export (version 1) and Comentario JSON export (version 3).
//!
//! Version 1 (Commento, Comentario 2.x): `{"version": 1, "comments": [...], "commenters": [...]}`,
//! comments keyed by `commentHex`, replies by `parentHex` (`"root"` for top level), the page by
//! `url` (older) or `path` (newer), the body in `markdown`, moderation in `state`
//! (`approved` | `unapproved` | `flagged`) and `deleted`.
//!
//! Version 3 (Comentario 3.x): `{"version": 3, "pages": [...], "comments": [...],
//! "commenters": [...]}` with UUID ids, `pageId`, `parentId`, `isApproved`/`isPending`/
//! `isDeleted`, `isSticky`, and pages carrying `path`, `title`, `isReadonly`.
//!
//! Any other version is refused. Placeholder values (`"undefined"` emails and links, zero
//! `0001-01-01` times) are read as absent.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{
    CommentKind, CommentStatus, ImportBody, ImportComment, ImportData, ImportError, ImportThread,
    Skipped, json_error, non_empty,
};

const WHAT: &str = "Commento/Comentario JSON";

#[derive(Deserialize)]
struct Probe {
    version: Option<serde_json::Value>,
}

fn placeholder(s: Option<&str>) -> Option<String> {
    s.and_then(non_empty)
        .filter(|v| v != "undefined" && v != "null")
}

fn time(s: Option<&str>) -> Option<DateTime<Utc>> {
    let s = s?.trim();
    if s.is_empty() || s.starts_with("0001-01-01") {
        return None;
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

pub(crate) fn parse(bytes: &[u8]) -> Result<ImportData, ImportError> {
    let probe: Probe = serde_json::from_slice(bytes).map_err(|e| json_error(WHAT, &e))?;
    match probe.version.as_ref().and_then(serde_json::Value::as_i64) {
        Some(1) => v1(bytes),
        Some(3) => v3(bytes),
        Some(other) => Err(ImportError::new(format!(
            "{WHAT}: unsupported export version {other}; kith reads version 1 (Commento) and version 3 (Comentario)"
        ))),
        None => Err(ImportError::new(match probe.version {
            None => {
                format!("{WHAT}: no \"version\" field; is this a Commento or Comentario export?")
            }
            Some(v) => format!("{WHAT}: \"version\" is {v}, expected a number (1 or 3)"),
        })),
    }
}

// ---- version 1 ----

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V1 {
    #[serde(default)]
    comments: Vec<V1Comment>,
    #[serde(default)]
    commenters: Vec<V1Commenter>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V1Comment {
    comment_hex: String,
    #[serde(default)]
    domain: Option<String>,
    #[serde(default)]
    commenter_hex: Option<String>,
    #[serde(default)]
    parent_hex: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    markdown: Option<String>,
    #[serde(default)]
    score: Option<i64>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    creation_date: Option<String>,
    #[serde(default)]
    deleted: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V1Commenter {
    commenter_hex: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    link: Option<String>,
    #[serde(default)]
    is_moderator: Option<bool>,
}

/// A commenter as both versions list them (placeholders read as absent).
struct Person {
    name: Option<String>,
    email: Option<String>,
    website: Option<String>,
    moderator: bool,
}

impl Person {
    fn new(
        name: Option<String>,
        email: Option<String>,
        website: Option<String>,
        moderator: Option<bool>,
    ) -> Self {
        Person {
            name: placeholder(name.as_deref()),
            email: placeholder(email.as_deref()),
            website: placeholder(website.as_deref()),
            moderator: moderator.unwrap_or(false),
        }
    }
}

/// A comment skipped because its creation time (`field`, holding `raw`) is not a date.
fn not_a_date(source_id: String, field: &str, raw: Option<String>) -> Skipped {
    Skipped {
        source_id,
        reason: format!("\"{field}\" {:?} is not a date", raw.unwrap_or_default()),
    }
}

fn v1(bytes: &[u8]) -> Result<ImportData, ImportError> {
    let doc: V1 =
        serde_json::from_slice(bytes).map_err(|e| json_error("Commento JSON (version 1)", &e))?;
    let people: HashMap<String, Person> = doc
        .commenters
        .into_iter()
        .map(|c| {
            (
                c.commenter_hex,
                Person::new(c.name, c.email, c.link, c.is_moderator),
            )
        })
        .collect();
    let mut data = ImportData {
        source: doc
            .comments
            .iter()
            .find_map(|c| c.domain.as_deref().and_then(super::source_name)),
        ..ImportData::default()
    };
    let mut order: Vec<String> = Vec::new();
    let mut threads: HashMap<String, ImportThread> = HashMap::new();
    for c in doc.comments {
        let Some(key) = c
            .path
            .as_deref()
            .and_then(non_empty)
            .or_else(|| c.url.as_deref().and_then(non_empty))
        else {
            data.skipped.push(Skipped {
                source_id: c.comment_hex,
                reason: "comment has neither \"path\" nor \"url\"".into(),
            });
            continue;
        };
        let Some(created_at) = time(c.creation_date.as_deref()) else {
            data.skipped
                .push(not_a_date(c.comment_hex, "creationDate", c.creation_date));
            continue;
        };
        let status = if c.deleted.unwrap_or(false) {
            CommentStatus::Deleted
        } else {
            match c.state.as_deref().unwrap_or("approved") {
                "approved" => CommentStatus::Approved,
                "flagged" => CommentStatus::Spam,
                _ => CommentStatus::Pending,
            }
        };
        let person = c.commenter_hex.as_deref().and_then(|h| people.get(h));
        let comment = ImportComment {
            reactions: Default::default(),
            source_id: c.comment_hex,
            parent_source_id: c
                .parent_hex
                .as_deref()
                .and_then(non_empty)
                .filter(|p| p != "root"),
            author: person
                .and_then(|p| p.name.clone())
                .unwrap_or_else(|| "Anonymous".into()),
            email: person.and_then(|p| p.email.clone()),
            website: person.and_then(|p| p.website.clone()),
            ip: None,
            user_agent: None,
            created_at,
            edited_at: None,
            body: ImportBody::Markdown(c.markdown.unwrap_or_default()),
            rendered_html: None,
            status,
            kind: CommentKind::Comment,
            likes: c.score.unwrap_or(0),
            pinned: false,
            owner: person.is_some_and(|p| p.moderator),
            notify_replies: false,
            held_reason: None,
        };
        let thread = threads.entry(key.clone()).or_insert_with(|| {
            order.push(key.clone());
            ImportThread {
                key,
                url: None,
                title: None,
                closed: false,
                comments: Vec::new(),
            }
        });
        thread.comments.push(comment);
    }
    data.threads = order
        .into_iter()
        .filter_map(|k| threads.remove(&k))
        .collect();
    Ok(data)
}

// ---- version 3 ----

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V3 {
    #[serde(default)]
    pages: Vec<V3Page>,
    #[serde(default)]
    comments: Vec<V3Comment>,
    #[serde(default)]
    commenters: Vec<V3Commenter>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V3Page {
    id: String,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    is_readonly: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V3Comment {
    id: String,
    #[serde(default)]
    url: Option<String>,
    page_id: String,
    #[serde(default)]
    parent_id: Option<String>,
    #[serde(default)]
    markdown: Option<String>,
    #[serde(default)]
    score: Option<i64>,
    #[serde(default)]
    is_approved: Option<bool>,
    #[serde(default)]
    is_pending: Option<bool>,
    #[serde(default)]
    is_deleted: Option<bool>,
    #[serde(default)]
    is_sticky: Option<bool>,
    #[serde(default)]
    created_time: Option<String>,
    #[serde(default)]
    edited_time: Option<String>,
    #[serde(default)]
    user_created: Option<String>,
    #[serde(default)]
    author_name: Option<String>,
    #[serde(default)]
    author_ip: Option<String>,
    #[serde(default)]
    pending_reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct V3Commenter {
    id: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    website_url: Option<String>,
    #[serde(default)]
    is_moderator: Option<bool>,
}

fn v3(bytes: &[u8]) -> Result<ImportData, ImportError> {
    let doc: V3 =
        serde_json::from_slice(bytes).map_err(|e| json_error("Comentario JSON (version 3)", &e))?;
    let people: HashMap<String, Person> = doc
        .commenters
        .into_iter()
        .map(|c| {
            (
                c.id,
                Person::new(c.name, c.email, c.website_url, c.is_moderator),
            )
        })
        .collect();
    let mut data = ImportData {
        source: doc
            .comments
            .iter()
            .find_map(|c| c.url.as_deref().and_then(super::url_host)),
        ..ImportData::default()
    };
    let mut page_index: HashMap<String, usize> = HashMap::new();
    let mut threads: Vec<ImportThread> = Vec::new();
    for p in doc.pages {
        let Some(key) = p.path.as_deref().and_then(non_empty) else {
            data.notes.push(format!(
                "page {} has no path; its comments are skipped",
                p.id
            ));
            continue;
        };
        page_index.insert(p.id, threads.len());
        threads.push(ImportThread {
            key,
            url: None,
            title: p.title.as_deref().and_then(non_empty),
            closed: p.is_readonly.unwrap_or(false),
            comments: Vec::new(),
        });
    }
    for c in doc.comments {
        let Some(&ti) = page_index.get(&c.page_id) else {
            data.skipped.push(Skipped {
                source_id: c.id,
                reason: format!("page {} does not exist", c.page_id),
            });
            continue;
        };
        let Some(created_at) = time(c.created_time.as_deref()) else {
            data.skipped
                .push(not_a_date(c.id, "createdTime", c.created_time));
            continue;
        };
        let status = if c.is_deleted.unwrap_or(false) {
            CommentStatus::Deleted
        } else if c.is_approved.unwrap_or(false) {
            CommentStatus::Approved
        } else if c.is_pending.unwrap_or(false) {
            CommentStatus::Pending
        } else {
            // Neither approved nor pending: rejected by a moderator.
            CommentStatus::Spam
        };
        let person = c.user_created.as_deref().and_then(|h| people.get(h));
        let author = person
            .and_then(|p| p.name.clone())
            .or_else(|| c.author_name.as_deref().and_then(non_empty))
            .unwrap_or_else(|| "Anonymous".into());
        threads[ti].comments.push(ImportComment {
            reactions: Default::default(),
            source_id: c.id,
            parent_source_id: c.parent_id.as_deref().and_then(non_empty),
            author,
            email: person.and_then(|p| p.email.clone()),
            website: person.and_then(|p| p.website.clone()),
            ip: placeholder(c.author_ip.as_deref()),
            user_agent: None,
            created_at,
            edited_at: time(c.edited_time.as_deref()),
            body: ImportBody::Markdown(c.markdown.unwrap_or_default()),
            rendered_html: None,
            status,
            kind: CommentKind::Comment,
            likes: c.score.unwrap_or(0),
            pinned: c.is_sticky.unwrap_or(false),
            owner: person.is_some_and(|p| p.moderator),
            notify_replies: false,
            held_reason: if status == CommentStatus::Pending {
                c.pending_reason.as_deref().and_then(non_empty)
            } else {
                None
            },
        });
    }
    data.threads = threads
        .into_iter()
        .filter(|t| !t.comments.is_empty())
        .collect();
    Ok(data)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::test_support::fixture;
    use super::super::{Format, ImportData, detect, parse as parse_any, summary};
    use super::*;

    fn cm(rel: &str) -> ImportData {
        let bytes = fixture(rel);
        assert_eq!(detect(&bytes), Some(Format::Commento), "{rel}");
        parse_any(&bytes, Format::Commento).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    #[test]
    fn remark42_commento_v1() {
        let data = cm("remark42/commento.json");
        let s = summary(&data);
        assert_eq!(
            (s.threads, s.comments, s.replies, s.max_depth),
            (2, 3, 1, 1)
        );
        assert_eq!(s.by_status.approved, 3);
        let keys: Vec<_> = data.threads.iter().map(|t| t.key.as_str()).collect();
        assert_eq!(keys, ["/blog/post/2", "/blog/post/1"]);
        let anon = &data.threads[0].comments[0];
        assert_eq!(anon.author, "Anonymous");
        assert_eq!(anon.likes, 1);
        assert_eq!(
            anon.body,
            ImportBody::Markdown("Example comment created by user.".into())
        );
        let reply = &data.threads[1].comments[1];
        assert_eq!(reply.author, "Saturnin Uf");
        assert_eq!(reply.email.as_deref(), Some("moregreatmail@gmail.com"));
        assert_eq!(
            reply.website.as_deref(),
            Some("https://example.com/profile/259")
        );
        assert_eq!(
            reply.parent_source_id.as_deref(),
            Some("7d77e39fcd813241d6281478cc8f21ab5f807d043c750bc1a936bc23b34fb854")
        );

        let api = cm("remark42/commento-api.json");
        let s = summary(&api);
        assert_eq!(
            (s.threads, s.comments, s.replies, s.max_depth),
            (1, 7, 2, 1)
        );
        assert_eq!(s.by_status.approved, 7);
        let c = &api.threads[0].comments[0];
        assert_eq!(c.author, "blank");
        assert_eq!(c.email, None, "\"undefined\" is a placeholder");
        assert_eq!(c.website, None);
    }

    #[test]
    fn comentario_v1_and_v3() {
        for rel in [
            "comentario/comentario-ok-single-v1.json.gz",
            "comentario/unpacked/comentario-ok-single-v1.json",
        ] {
            let data = cm(rel);
            let s = summary(&data);
            assert_eq!((s.threads, s.comments, s.by_status.approved), (1, 1, 1));
            let c = &data.threads[0].comments[0];
            assert_eq!(c.author, "Bugs Bunny");
            assert_eq!(c.body.text(), "Yay, imported");
            assert_eq!(c.likes, 23);
            assert_eq!(data.threads[0].key, "/");
        }
        for rel in [
            "comentario/comentario-ok-single-v3.json.gz",
            "comentario/unpacked/comentario-ok-single-v3.json",
        ] {
            let data = cm(rel);
            let s = summary(&data);
            assert_eq!((s.threads, s.comments, s.by_status.approved), (1, 1, 1));
            let t = &data.threads[0];
            assert_eq!((t.key.as_str(), t.title.as_deref()), ("/", Some("Home")));
            let c = &t.comments[0];
            assert_eq!(c.author, "Bugs Bunny");
            assert_eq!(c.email.as_deref(), Some("bugsy@bigsy"));
            assert_eq!(c.created_at.to_rfc3339(), "2023-11-14T20:15:12+00:00");
            assert_eq!(c.body, ImportBody::Markdown("Yay, imported".into()));
        }
        for rel in [
            "comentario/comentario-ok-empty-v1.json.gz",
            "comentario/comentario-ok-empty-v3.json.gz",
            "comentario/unpacked/comentario-ok-empty-v1.json",
            "comentario/unpacked/comentario-ok-empty-v3.json",
        ] {
            let s = summary(&cm(rel));
            assert_eq!((s.threads, s.comments, s.skipped), (0, 0, 0), "{rel}");
        }
    }

    #[test]
    fn comentario_bad_files_are_refused() {
        for rel in [
            "comentario/comentario-bad-version.json.gz",
            "comentario/unpacked/comentario-bad-version.json",
        ] {
            let err = cm_err(rel);
            assert!(
                err.message.contains("unsupported export version 481"),
                "{err}"
            );
        }
        for rel in [
            "comentario/comentario-bad-format.json.gz",
            "comentario/unpacked/comentario-bad-format.json",
        ] {
            let err = cm_err(rel);
            assert!(err.message.contains("not valid JSON"), "{err}");
            assert_eq!(err.position.as_deref(), Some("line 1, column 23"), "{err}");
        }
    }

    fn cm_err(rel: &str) -> ImportError {
        let bytes = fixture(rel);
        assert_eq!(detect(&bytes), Some(Format::Commento), "{rel}");
        parse_any(&bytes, Format::Commento).unwrap_err()
    }

    #[test]
    fn v3_statuses_parents_and_missing_pages() {
        let json = br#"{"version":3,
          "pages":[{"id":"p1","path":"/a","title":"A","isReadonly":true}],
          "comments":[
            {"id":"c1","pageId":"p1","markdown":"x","isApproved":true,"createdTime":"2023-01-01T00:00:00Z","isSticky":true},
            {"id":"c2","pageId":"p1","parentId":"c1","markdown":"y","isPending":true,"createdTime":"2023-01-02T00:00:00Z","editedTime":"2023-01-03T00:00:00Z","authorName":"Guest"},
            {"id":"c3","pageId":"p1","parentId":"c2","isApproved":false,"isPending":false,"createdTime":"2023-01-02T00:00:00Z"},
            {"id":"c4","pageId":"p1","isDeleted":true,"createdTime":"2023-01-02T00:00:00Z"},
            {"id":"c5","pageId":"nope","createdTime":"2023-01-02T00:00:00Z"}
          ]}"#;
        let data = parse_any(json, Format::Commento).unwrap();
        let s = summary(&data);
        assert_eq!(
            (s.comments, s.replies, s.max_depth, s.skipped),
            (4, 2, 2, 1)
        );
        assert_eq!(
            (
                s.by_status.approved,
                s.by_status.pending,
                s.by_status.spam,
                s.by_status.deleted
            ),
            (1, 1, 1, 1)
        );
        let t = &data.threads[0];
        assert!(t.closed);
        assert!(t.comments[0].pinned);
        assert_eq!(t.comments[1].author, "Guest");
        assert!(t.comments[1].edited_at.is_some());
    }

    #[test]
    fn missing_or_odd_version_is_refused() {
        let err = parse_any(br#"{"comments":[]}"#, Format::Commento).unwrap_err();
        assert!(err.message.contains("no \"version\""), "{err}");
        let err = parse_any(br#"{"version":"1"}"#, Format::Commento).unwrap_err();
        assert!(err.message.contains("expected a number"), "{err}");
        let err = parse_any(
            br#"{"version":1,"comments":[{"commentHex":1}]}"#,
            Format::Commento,
        )
        .unwrap_err();
        assert!(err.position.is_some(), "{err}");
    }
}
