//! Isso: its SQLite database file, or Isso's "generic" JSON import format.
//!
//! Database: tables `threads(id, uri, title)` and `comments(tid, id, parent, created, modified,
//! mode, remote_addr, text, author, email, website, likes, dislikes, voters, notification)`;
//! `mode` 1 = approved, 2 = pending, 4 = deleted; `text` is Markdown; times are unix floats.
//! Columns that older Isso versions lack are read as absent. The bytes are copied to a private
//! temporary directory that is removed afterwards; the original is never opened. (A database
//! in WAL mode must be checkpointed, or Isso stopped, before copying: the -wal file is not read.)
//!
//! Generic JSON: `[{"id": uri, "title": url-encoded title, "comments": [{"id", "author",
//! "email", "website", "remote_addr", "created": "YYYY-MM-DD HH:MM:SS", "text"}]}]`.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Text};
use serde::Deserialize;

use super::{
    CommentKind, CommentStatus, ImportBody, ImportComment, ImportData, ImportError, ImportThread,
    Skipped, json_error, non_empty,
};

const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";

pub(crate) fn parse(bytes: &[u8]) -> Result<ImportData, ImportError> {
    if bytes.starts_with(SQLITE_MAGIC) {
        return database(bytes);
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(64)]);
    if head
        .trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('[')
    {
        return generic_json(bytes);
    }
    Err(ImportError::new(
        "Isso: expected an Isso SQLite database (comments.db) or Isso generic JSON (an array of threads)",
    ))
}

// ---- SQLite database ----

#[derive(QueryableByName)]
struct ThreadRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Nullable<Text>)]
    uri: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    title: Option<String>,
}

#[derive(QueryableByName)]
struct CommentRow {
    #[diesel(sql_type = Nullable<BigInt>)]
    tid: Option<i64>,
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    parent: Option<i64>,
    #[diesel(sql_type = Nullable<Double>)]
    created: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    modified: Option<f64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    mode: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    remote_addr: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    text: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    author: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    email: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    website: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    likes: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    notification: Option<i64>,
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    name: String,
}

fn db_error(what: &str, e: impl std::fmt::Display) -> ImportError {
    ImportError::new(format!("Isso database: {what}: {e}"))
}

fn columns(conn: &mut SqliteConnection, table: &str) -> Result<HashSet<String>, ImportError> {
    let rows: Vec<ColumnRow> =
        diesel::sql_query(format!("SELECT name FROM pragma_table_info('{table}')"))
            .load(conn)
            .map_err(|e| db_error(&format!("cannot read the columns of {table}"), e))?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

fn unix(t: f64) -> Option<DateTime<Utc>> {
    if !t.is_finite() {
        return None;
    }
    let secs = t.floor();
    // Truncated to microseconds, as the database keeps them.
    let micros = ((t - secs) * 1_000_000.0).round().min(999_999.0);
    DateTime::from_timestamp(secs as i64, (micros as u32) * 1000)
}

fn database(bytes: &[u8]) -> Result<ImportData, ImportError> {
    // A private directory, so that SQLite's -wal/-shm/-journal side files go with it.
    let dir = tempfile::Builder::new()
        .prefix("kith-isso-import-")
        .tempdir()
        .map_err(|e| db_error("cannot create a temporary directory", e))?;
    let db_path = dir.path().join("comments.db");
    std::fs::File::create(&db_path)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.flush()))
        .map_err(|e| db_error("cannot write a temporary copy", e))?;
    let path = db_path.to_string_lossy().into_owned();
    let mut conn = SqliteConnection::establish(&path).map_err(|e| db_error("cannot open", e))?;
    conn.batch_execute("PRAGMA query_only = ON;")
        .map_err(|e| db_error("cannot open read-only", e))?;

    let thread_cols = columns(&mut conn, "threads")?;
    let comment_cols = columns(&mut conn, "comments")?;
    for (table, cols, needed) in [
        ("threads", &thread_cols, &["id", "uri"][..]),
        ("comments", &comment_cols, &["tid", "id", "created"][..]),
    ] {
        if cols.is_empty() {
            return Err(ImportError::new(format!(
                "Isso database: there is no table '{table}'; is this an Isso comments.db?"
            )));
        }
        for col in needed {
            if !cols.contains(*col) {
                return Err(ImportError::new(format!(
                    "Isso database: table '{table}' has no column '{col}'"
                )));
            }
        }
    }
    let pick = |col: &str| {
        if comment_cols.contains(col) {
            col.to_string()
        } else {
            format!("NULL AS {col}")
        }
    };
    let title = if thread_cols.contains("title") {
        "title"
    } else {
        "NULL AS title"
    };
    let threads: Vec<ThreadRow> =
        diesel::sql_query(format!("SELECT id, uri, {title} FROM threads ORDER BY id"))
            .load(&mut conn)
            .map_err(|e| db_error("cannot read threads", e))?;
    let select: Vec<String> = [
        "tid",
        "id",
        "parent",
        "created",
        "modified",
        "mode",
        "remote_addr",
        "text",
        "author",
        "email",
        "website",
        "likes",
        "notification",
    ]
    .iter()
    .map(|c| pick(c))
    .collect();
    let comments: Vec<CommentRow> = diesel::sql_query(format!(
        "SELECT {} FROM comments ORDER BY tid, created, id",
        select.join(", ")
    ))
    .load(&mut conn)
    .map_err(|e| db_error("cannot read comments", e))?;
    drop(conn);
    drop(dir);

    let mut data = ImportData::default();
    let mut by_tid: BTreeMap<i64, ImportThread> = BTreeMap::new();
    for t in threads {
        let Some(uri) = t.uri.as_deref().and_then(non_empty) else {
            continue;
        };
        by_tid.insert(
            t.id,
            ImportThread {
                key: uri,
                url: None,
                title: t.title.as_deref().and_then(non_empty),
                closed: false,
                comments: Vec::new(),
            },
        );
    }
    for c in comments {
        let source_id = c.id.to_string();
        let Some(thread) = c.tid.and_then(|tid| by_tid.get_mut(&tid)) else {
            data.skipped.push(Skipped {
                source_id,
                reason: format!(
                    "thread {} does not exist (or has no uri)",
                    c.tid.map_or_else(|| "NULL".to_string(), |t| t.to_string())
                ),
            });
            continue;
        };
        let Some(created_at) = c.created.and_then(unix) else {
            data.skipped.push(Skipped {
                source_id,
                reason: format!("'created' {:?} is not a time", c.created),
            });
            continue;
        };
        let status = match c.mode.unwrap_or(1) {
            1 => CommentStatus::Approved,
            2 => CommentStatus::Pending,
            4 => CommentStatus::Deleted,
            other => {
                data.skipped.push(Skipped {
                    source_id,
                    reason: format!("unknown mode {other}"),
                });
                continue;
            }
        };
        thread.comments.push(ImportComment {
            reactions: Default::default(),
            source_id,
            parent_source_id: c.parent.map(|p| p.to_string()),
            author: c
                .author
                .as_deref()
                .and_then(non_empty)
                .unwrap_or_else(|| "Anonymous".into()),
            email: c.email.as_deref().and_then(non_empty),
            website: c.website.as_deref().and_then(non_empty),
            ip: c.remote_addr.as_deref().and_then(non_empty),
            user_agent: None,
            created_at,
            edited_at: c.modified.and_then(unix),
            body: ImportBody::Markdown(c.text.unwrap_or_default()),
            rendered_html: None,
            status,
            kind: CommentKind::Comment,
            likes: c.likes.unwrap_or(0),
            pinned: false,
            owner: false,
            notify_replies: c.notification.unwrap_or(0) != 0,
            held_reason: None,
        });
    }
    data.threads = by_tid
        .into_values()
        .filter(|t| !t.comments.is_empty())
        .collect();
    // Isso keeps paths; a page address with a host names the blog.
    data.source = data.threads.iter().find_map(|t| super::url_host(&t.key));
    Ok(data)
}

// ---- generic JSON ----

#[derive(Deserialize)]
struct GenericThread {
    id: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    comments: Vec<GenericComment>,
}

#[derive(Deserialize)]
struct GenericComment {
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default)]
    parent: Option<serde_json::Value>,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    website: Option<String>,
    #[serde(default)]
    remote_addr: Option<String>,
    created: serde_json::Value,
    #[serde(default)]
    text: Option<String>,
}

/// `+` → space and `%XX` decoding, as Isso's generic export writes titles.
fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn id_string(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => non_empty(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn generic_json(bytes: &[u8]) -> Result<ImportData, ImportError> {
    let threads: Vec<GenericThread> =
        serde_json::from_slice(bytes).map_err(|e| json_error("Isso generic JSON", &e))?;
    let mut data = ImportData::default();
    for t in threads {
        let Some(key) = non_empty(&t.id) else {
            data.skipped.push(Skipped {
                source_id: String::new(),
                reason: format!(
                    "a thread has an empty id; its {} comments are skipped",
                    t.comments.len()
                ),
            });
            continue;
        };
        let mut thread = ImportThread {
            key,
            url: None,
            title: t
                .title
                .as_deref()
                .map(form_decode)
                .as_deref()
                .and_then(non_empty),
            closed: false,
            comments: Vec::new(),
        };
        for (n, c) in t.comments.into_iter().enumerate() {
            let source_id =
                c.id.as_ref()
                    .and_then(id_string)
                    .unwrap_or_else(|| format!("#{}", n + 1));
            let created_at = match &c.created {
                serde_json::Value::String(s) => {
                    NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S")
                        .ok()
                        .map(|d| d.and_utc())
                        .or_else(|| {
                            DateTime::parse_from_rfc3339(s.trim())
                                .ok()
                                .map(|d| d.with_timezone(&Utc))
                        })
                }
                serde_json::Value::Number(x) => x.as_f64().and_then(unix),
                _ => None,
            };
            let Some(created_at) = created_at else {
                data.skipped.push(Skipped {
                    source_id,
                    reason: format!(
                        "'created' {} is not a time (thread '{}')",
                        c.created, thread.key
                    ),
                });
                continue;
            };
            thread.comments.push(ImportComment {
                reactions: Default::default(),
                source_id,
                parent_source_id: c.parent.as_ref().and_then(id_string),
                author: c
                    .author
                    .as_deref()
                    .and_then(non_empty)
                    .unwrap_or_else(|| "Anonymous".into()),
                email: c.email.as_deref().and_then(non_empty),
                website: c.website.as_deref().and_then(non_empty),
                ip: c.remote_addr.as_deref().and_then(non_empty),
                user_agent: None,
                created_at,
                edited_at: None,
                body: ImportBody::Markdown(c.text.unwrap_or_default()),
                rendered_html: None,
                status: CommentStatus::Approved,
                kind: CommentKind::Comment,
                likes: 0,
                pinned: false,
                owner: false,
                notify_replies: false,
                held_reason: None,
            });
        }
        if !thread.comments.is_empty() {
            data.threads.push(thread);
        }
    }
    // Isso keeps paths; a page address with a host names the blog.
    data.source = data.threads.iter().find_map(|t| super::url_host(&t.key));
    Ok(data)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::test_support::fixture;
    use super::super::{Format, detect, parse as parse_any, summary};
    use super::*;

    /// Isso's schema, as `isso/db/comments.py` and `threads.py` create it.
    const SCHEMA: &str = "
        CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256));
        CREATE TABLE comments (
            tid REFERENCES threads(id), id INTEGER PRIMARY KEY, parent INTEGER,
            created FLOAT NOT NULL, modified FLOAT, mode INTEGER, remote_addr VARCHAR,
            text VARCHAR, author VARCHAR, email VARCHAR, website VARCHAR,
            likes INTEGER DEFAULT 0, dislikes INTEGER DEFAULT 0, voters BLOB NOT NULL,
            notification INTEGER DEFAULT 0);
        CREATE TABLE preferences (key VARCHAR PRIMARY KEY, value VARCHAR);
        INSERT INTO preferences VALUES ('session-key', 'abc');
        INSERT INTO threads VALUES (1, '/posts/hello/', 'Hello');
        INSERT INTO threads VALUES (2, '/posts/empty/', NULL);
        INSERT INTO threads VALUES (3, '/posts/other/', 'Other');
        INSERT INTO comments VALUES (1, 1, NULL, 1400000000.25, NULL, 1, '127.0.0.0', 'First *post*', 'Alice', 'alice@example.org', 'https://alice.example', 3, 1, x'00', 1);
        INSERT INTO comments VALUES (1, 2, 1, 1400000100.0, 1400000200.5, 1, '::1', 'Reply', NULL, NULL, NULL, 0, 0, x'00', 0);
        INSERT INTO comments VALUES (1, 3, 2, 1400000300.0, NULL, 2, '10.0.0.0', 'Waiting', 'Bob', NULL, NULL, 0, 0, x'00', 0);
        INSERT INTO comments VALUES (1, 4, NULL, 1400000400.0, NULL, 4, '10.0.0.0', '', NULL, NULL, NULL, 0, 0, x'00', 0);
        INSERT INTO comments VALUES (3, 5, 4, 1400000500, NULL, 1, '10.0.0.0', 'Parent in another thread', 'Eve', NULL, NULL, 0, 0, x'00', 0);
        INSERT INTO comments VALUES (9, 6, NULL, 1400000600, NULL, 1, '10.0.0.0', 'Orphan', 'Mallory', NULL, NULL, 0, 0, x'00', 0);
    ";

    fn isso_db(schema: &str) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("comments.db");
        {
            let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
            conn.batch_execute("PRAGMA foreign_keys = OFF;").unwrap();
            conn.batch_execute(schema).unwrap();
        }
        std::fs::read(&path).unwrap()
    }

    #[test]
    fn isso_database_counts_and_fields() {
        let bytes = isso_db(SCHEMA);
        assert_eq!(detect(&bytes), Some(Format::Isso));
        let data = parse_any(&bytes, Format::Isso).unwrap();
        let s = summary(&data);
        assert_eq!(
            (s.threads, s.comments, s.replies, s.max_depth),
            (2, 5, 2, 2)
        );
        assert_eq!(
            (
                s.by_status.approved,
                s.by_status.pending,
                s.by_status.deleted
            ),
            (3, 1, 1)
        );
        assert_eq!(data.skipped.len(), 1);
        assert_eq!(data.skipped[0].source_id, "6");
        // comment 5 points at a comment of another thread: kept as top-level, noted
        assert_eq!(data.notes.len(), 1, "{:?}", data.notes);
        let t = &data.threads[0];
        assert_eq!(
            (t.key.as_str(), t.title.as_deref()),
            ("/posts/hello/", Some("Hello"))
        );
        let first = &t.comments[0];
        assert_eq!(first.body, ImportBody::Markdown("First *post*".into()));
        assert_eq!(
            first.created_at.to_rfc3339(),
            "2014-05-13T16:53:20.250+00:00"
        );
        assert_eq!(first.likes, 3);
        assert!(first.notify_replies);
        assert_eq!(first.website.as_deref(), Some("https://alice.example"));
        let reply = &t.comments[1];
        assert_eq!(reply.author, "Anonymous");
        assert_eq!(reply.parent_source_id.as_deref(), Some("1"));
        assert_eq!(
            reply.edited_at.unwrap().to_rfc3339(),
            "2014-05-13T16:56:40.500+00:00"
        );
        assert_eq!(t.comments[2].status, CommentStatus::Pending);
        assert_eq!(t.comments[3].status, CommentStatus::Deleted);
    }

    #[test]
    fn old_isso_database_without_optional_columns() {
        let bytes = isso_db(
            "CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE);
             CREATE TABLE comments (tid INTEGER, id INTEGER PRIMARY KEY, parent INTEGER, created FLOAT NOT NULL, mode INTEGER, text VARCHAR);
             INSERT INTO threads VALUES (1, '/a');
             INSERT INTO comments VALUES (1, 1, NULL, 1400000000, 1, 'hi');",
        );
        let data = parse_any(&bytes, Format::Isso).unwrap();
        assert_eq!(summary(&data).comments, 1);
        assert_eq!(data.threads[0].title, None);
    }

    #[test]
    fn sqlite_file_that_is_not_isso_is_refused() {
        let bytes = isso_db("CREATE TABLE other (x INTEGER);");
        let err = parse_any(&bytes, Format::Isso).unwrap_err();
        assert!(err.message.contains("no table 'threads'"), "{err}");
    }

    #[test]
    fn isso_generic_json() {
        let bytes = fixture("isso/generic.json");
        assert_eq!(detect(&bytes), Some(Format::Isso));
        let data = parse_any(&bytes, Format::Isso).unwrap();
        let s = summary(&data);
        assert_eq!((s.threads, s.comments, s.replies), (2, 2, 0));
        assert_eq!(data.threads[0].title.as_deref(), Some("Test post"));
        assert_eq!(data.threads[1].title.as_deref(), Some("Nat & Miguel"));
        assert_eq!(data.threads[1].key, "/posts/0007/");
        let c = &data.threads[1].comments[0];
        assert_eq!(c.author, "Richard Crinshaw");
        assert_eq!(c.created_at.to_rfc3339(), "2005-05-08T06:50:26+00:00");
        assert_eq!(data.threads[0].comments[0].email, None);
    }

    #[test]
    fn form_decoding() {
        assert_eq!(form_decode("a+b%26c%2"), "a b&c%2");
        assert_eq!(form_decode("%C3%B6"), "ö");
    }
}
