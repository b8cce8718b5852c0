//! Importers: foreign comment exports → neutral [`ImportData`].
//!
//! Everything here is pure: bytes in, plain values out, no database. The caller normalizes
//! thread keys, renders and sanitizes bodies, and writes rows. A file is parsed whole or refused
//! with an [`ImportError`] that names the problem (and the position where there is one); nothing
//! partial is ever returned. Records that cannot be imported on their own (a Disqus post whose
//! thread is missing, a comment without a usable date) land in [`ImportData::skipped`] with a
//! reason; repairs that keep a record (a reply whose parent is missing becomes top-level) are
//! described in [`ImportData::notes`].

mod archive;
mod commento;
mod disqus;
mod isso;
pub(crate) mod kith;
mod wordpress;
pub(crate) mod xml;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use archive::unpack;

/// The export formats kith can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// WordPress eXtended RSS (WXR 1.0, 1.1, 1.2).
    WordPress,
    /// Disqus XML export.
    Disqus,
    /// Isso: its SQLite database file, or Isso's "generic" JSON import format.
    Isso,
    /// Commento JSON export (version 1) and Comentario JSON export (version 3).
    Commento,
    /// kith's own lossless JSON format.
    Kith,
}

impl Format {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::WordPress => "wordpress",
            Format::Disqus => "disqus",
            Format::Isso => "isso",
            Format::Commento => "commento",
            Format::Kith => "kith",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = ImportError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "wordpress" | "wxr" => Ok(Format::WordPress),
            "disqus" => Ok(Format::Disqus),
            "isso" => Ok(Format::Isso),
            "commento" | "comentario" => Ok(Format::Commento),
            "kith" => Ok(Format::Kith),
            other => Err(ImportError::new(format!(
                "unknown import format '{other}': expected one of wordpress, disqus, isso, commento, kith"
            ))),
        }
    }
}

/// Everything read from one export file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportData {
    pub threads: Vec<ImportThread>,
    /// Records left out, each with the reason.
    pub skipped: Vec<Skipped>,
    /// Repairs made while keeping a record (e.g. a reply whose parent is missing was kept as
    /// top-level, a duplicated id was renamed). For the CLI's report.
    pub notes: Vec<String>,
}

/// One page with comments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportThread {
    /// The page URL or path as found in the source; the caller normalizes it.
    pub key: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub closed: bool,
    #[serde(default)]
    pub comments: Vec<ImportComment>,
}

/// One comment. `source_id` is unique within its thread; `parent_source_id`, when set, names a
/// comment of the same thread (parsers guarantee both, and that parents form no cycle).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportComment {
    pub source_id: String,
    #[serde(default)]
    pub parent_source_id: Option<String>,
    pub author: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub website: Option<String>,
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default)]
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub edited_at: Option<DateTime<Utc>>,
    /// What the source stores.
    pub body: ImportBody,
    /// Only the kith format carries it (lossless round trip).
    #[serde(default)]
    pub rendered_html: Option<String>,
    pub status: ImportStatus,
    #[serde(default)]
    pub kind: CommentKind,
    #[serde(default)]
    pub likes: i64,
    #[serde(default)]
    pub pinned: bool,
    #[serde(default)]
    pub owner: bool,
    #[serde(default)]
    pub notify_replies: bool,
    #[serde(default)]
    pub held_reason: Option<String>,
}

/// A comment body as the source stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum ImportBody {
    Markdown(String),
    Html(String),
}

impl ImportBody {
    pub fn text(&self) -> &str {
        match self {
            ImportBody::Markdown(s) | ImportBody::Html(s) => s,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportStatus {
    Approved,
    Pending,
    Spam,
    Deleted,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CommentKind {
    #[default]
    Comment,
    Pingback,
    Trackback,
}

/// A record that was left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub source_id: String,
    pub reason: String,
}

/// Why a file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    pub message: String,
    /// E.g. "line 12, column 4" or "byte 3021".
    pub position: Option<String>,
}

impl ImportError {
    pub fn new(message: impl Into<String>) -> Self {
        ImportError {
            message: message.into(),
            position: None,
        }
    }

    pub fn at(message: impl Into<String>, position: impl Into<String>) -> Self {
        ImportError {
            message: message.into(),
            position: Some(position.into()),
        }
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.position {
            Some(pos) => write!(f, "{} (at {pos})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ImportError {}

/// Guesses the format of a file from its content. Gzip and zip archives are unpacked first.
pub fn detect(bytes: &[u8]) -> Option<Format> {
    let unpacked = archive::unpack(bytes).ok()?;
    sniff(&unpacked)
}

const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";

fn sniff(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(SQLITE_MAGIC) {
        return Some(Format::Isso);
    }
    let head = &bytes[..bytes.len().min(64 * 1024)];
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return sniff_json(bytes, trimmed);
    }
    // XML: look at the first element name (skipping the declaration, comments and doctype).
    let mut rest = trimmed;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        if rest.starts_with('?') || rest.starts_with('!') {
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
            .collect();
        let local = name.rsplit(':').next().unwrap_or(&name);
        return match local {
            "rss" => Some(Format::WordPress),
            "disqus" => Some(Format::Disqus),
            // A WXR fragment without its <rss> wrapper: let the WordPress parser explain.
            "channel" if text.contains("wordpress.org/export/") => Some(Format::WordPress),
            _ => None,
        };
    }
    None
}

fn sniff_json(bytes: &[u8], head: &str) -> Option<Format> {
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(serde_json::Value::Object(map)) => {
            if map.get("format").and_then(|v| v.as_str()) == Some("kith") {
                Some(Format::Kith)
            } else if map.contains_key("version")
                && (map.len() == 1
                    || map.contains_key("comments")
                    || map.contains_key("commenters")
                    || map.contains_key("pages"))
            {
                Some(Format::Commento)
            } else {
                None
            }
        }
        Ok(serde_json::Value::Array(items)) => {
            let isso_like = items.iter().all(|t| {
                t.as_object()
                    .is_some_and(|o| o.contains_key("id") && o.contains_key("comments"))
            });
            isso_like.then_some(Format::Isso)
        }
        Ok(_) => None,
        // Not valid JSON: guess from the head so that parse() can name the problem.
        Err(_) => {
            let compact: String = head.chars().filter(|c| !c.is_whitespace()).collect();
            if compact.contains("\"format\":\"kith\"") {
                Some(Format::Kith)
            } else if compact.starts_with("{\"version\"") || compact.contains("\"commentHex\"") {
                Some(Format::Commento)
            } else {
                None
            }
        }
    }
}

/// Parses a whole export file (gzip and zip archives are unpacked transparently).
pub fn parse(bytes: &[u8], format: Format) -> Result<ImportData, ImportError> {
    let unpacked = archive::unpack(bytes)?;
    let mut data = match format {
        Format::WordPress => wordpress::parse(&unpacked)?,
        Format::Disqus => disqus::parse(&unpacked)?,
        Format::Isso => isso::parse(&unpacked)?,
        Format::Commento => commento::parse(&unpacked)?,
        Format::Kith => return kith::parse(&unpacked),
    };
    for thread in &mut data.threads {
        repair_tree(thread, &mut data.notes);
    }
    Ok(data)
}

/// Makes a thread's tree sound: source ids unique (later duplicates renamed `id#2`, `id#3`…,
/// while replies keep pointing at the first), parents that exist (else top-level), no cycles
/// (the comment closing a cycle becomes top-level). Every repair is described in `notes`.
pub(crate) fn repair_tree(thread: &mut ImportThread, notes: &mut Vec<String>) {
    let mut seen: HashSet<String> = HashSet::with_capacity(thread.comments.len());
    let mut counters: HashMap<String, usize> = HashMap::new();
    for c in &mut thread.comments {
        if seen.contains(&c.source_id) {
            let original = c.source_id.clone();
            let n = counters.entry(original.clone()).or_insert(1);
            let renamed = loop {
                *n += 1;
                let candidate = format!("{original}#{n}");
                if !seen.contains(&candidate) {
                    break candidate;
                }
            };
            notes.push(format!(
                "thread '{}': comment id {original} appears more than once; this copy was renamed {renamed}",
                thread.key
            ));
            c.source_id = renamed;
        }
        seen.insert(c.source_id.clone());
    }
    for c in &mut thread.comments {
        if let Some(p) = &c.parent_source_id {
            if !seen.contains(p) {
                notes.push(format!(
                    "thread '{}': comment {} replies to missing comment {p}; kept as top-level",
                    thread.key, c.source_id
                ));
                c.parent_source_id = None;
            } else if *p == c.source_id {
                notes.push(format!(
                    "thread '{}': comment {} replies to itself; kept as top-level",
                    thread.key, c.source_id
                ));
                c.parent_source_id = None;
            }
        }
    }
    // Cycle check: walk each chain with a step limit.
    let index: HashMap<String, usize> = thread
        .comments
        .iter()
        .enumerate()
        .map(|(i, c)| (c.source_id.clone(), i))
        .collect();
    let n = thread.comments.len();
    for i in 0..n {
        let mut steps = 0usize;
        let mut cur = i;
        let mut cyclic = false;
        while let Some(p) = thread.comments[cur].parent_source_id.as_ref() {
            let Some(&pi) = index.get(p) else { break };
            steps += 1;
            if pi == i || steps > n {
                cyclic = true;
                break;
            }
            cur = pi;
        }
        if cyclic {
            notes.push(format!(
                "thread '{}': comment {} is part of a reply cycle; kept as top-level",
                thread.key, thread.comments[i].source_id
            ));
            thread.comments[i].parent_source_id = None;
        }
    }
}

/// Counts for the CLI's final line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub threads: usize,
    pub comments: usize,
    /// Comments with a parent.
    pub replies: usize,
    /// Depth of the deepest reply; top-level comments have depth 0.
    pub max_depth: usize,
    pub by_status: StatusCounts,
    pub skipped: usize,
    pub notes: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    pub approved: usize,
    pub pending: usize,
    pub spam: usize,
    pub deleted: usize,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.by_status;
        write!(
            f,
            "{} threads, {} comments ({} replies, max depth {}): {} approved, {} pending, {} spam, {} deleted; {} skipped",
            self.threads,
            self.comments,
            self.replies,
            self.max_depth,
            s.approved,
            s.pending,
            s.spam,
            s.deleted,
            self.skipped
        )?;
        if self.notes > 0 {
            write!(f, ", {} repaired", self.notes)?;
        }
        Ok(())
    }
}

pub fn summary(data: &ImportData) -> Summary {
    let mut sum = Summary {
        threads: data.threads.len(),
        skipped: data.skipped.len(),
        notes: data.notes.len(),
        ..Summary::default()
    };
    for thread in &data.threads {
        let index: HashMap<&str, usize> = thread
            .comments
            .iter()
            .enumerate()
            .map(|(i, c)| (c.source_id.as_str(), i))
            .collect();
        let mut depth: Vec<Option<usize>> = vec![None; thread.comments.len()];
        for i in 0..thread.comments.len() {
            let d = depth_of(i, &thread.comments, &index, &mut depth);
            sum.max_depth = sum.max_depth.max(d);
        }
        for c in &thread.comments {
            sum.comments += 1;
            if c.parent_source_id.is_some() {
                sum.replies += 1;
            }
            match c.status {
                ImportStatus::Approved => sum.by_status.approved += 1,
                ImportStatus::Pending => sum.by_status.pending += 1,
                ImportStatus::Spam => sum.by_status.spam += 1,
                ImportStatus::Deleted => sum.by_status.deleted += 1,
            }
        }
    }
    sum
}

/// Depth of comment `i` (memoized, iterative, bounded so a cycle cannot loop forever).
fn depth_of(
    i: usize,
    comments: &[ImportComment],
    index: &HashMap<&str, usize>,
    memo: &mut [Option<usize>],
) -> usize {
    let mut chain = Vec::new();
    let mut cur = i;
    let base = loop {
        if let Some(d) = memo[cur] {
            break d;
        }
        if chain.len() > comments.len() {
            break 0;
        }
        chain.push(cur);
        match comments[cur]
            .parent_source_id
            .as_deref()
            .and_then(|p| index.get(p))
        {
            Some(&p) => cur = p,
            None => break usize::MAX, // chain ends at a root: the root gets depth 0
        }
    };
    // Assign depths from the top of the chain down.
    let mut d = if base == usize::MAX { None } else { Some(base) };
    for &c in chain.iter().rev() {
        let here = d.map_or(0, |x| x + 1);
        memo[c] = Some(here);
        d = Some(here);
    }
    memo[i].unwrap_or(0)
}

/// Shared helpers for the parsers.
pub(crate) fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

#[cfg(test)]
pub(crate) mod test_support {
    use std::path::PathBuf;

    /// The shared fixtures folder; fails loudly when it is missing.
    #[allow(clippy::panic)]
    pub fn fixtures() -> PathBuf {
        let candidates = [
            concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures"),
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures"),
            "/work/shared/fixtures",
        ];
        for c in candidates {
            let p = PathBuf::from(c);
            if p.is_dir() {
                return p;
            }
        }
        panic!("fixtures folder not found; looked in {candidates:?}")
    }

    #[allow(clippy::panic)]
    pub fn fixture(rel: &str) -> Vec<u8> {
        let p = fixtures().join(rel);
        match std::fs::read(&p) {
            Ok(b) => b,
            Err(e) => panic!("cannot read fixture {}: {e}", p.display()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn format_names_parse() {
        for f in [
            Format::WordPress,
            Format::Disqus,
            Format::Isso,
            Format::Commento,
            Format::Kith,
        ] {
            assert_eq!(f.name().parse::<Format>().unwrap(), f);
        }
        let err = "blogger".parse::<Format>().unwrap_err();
        assert!(err.message.contains("blogger"));
    }

    fn c(id: &str, parent: Option<&str>) -> ImportComment {
        ImportComment {
            source_id: id.into(),
            parent_source_id: parent.map(Into::into),
            author: "a".into(),
            email: None,
            website: None,
            ip: None,
            user_agent: None,
            created_at: DateTime::from_timestamp(0, 0).unwrap(),
            edited_at: None,
            body: ImportBody::Html(String::new()),
            rendered_html: None,
            status: ImportStatus::Approved,
            kind: CommentKind::Comment,
            likes: 0,
            pinned: false,
            owner: false,
            notify_replies: false,
            held_reason: None,
        }
    }

    #[test]
    fn repair_breaks_cycles_renames_duplicates_and_orphans() {
        let mut t = ImportThread {
            key: "/p".into(),
            url: None,
            title: None,
            closed: false,
            comments: vec![
                c("1", Some("2")),
                c("2", Some("1")),
                c("3", Some("99")),
                c("3", None),
                c("4", Some("3")),
            ],
        };
        let mut notes = Vec::new();
        repair_tree(&mut t, &mut notes);
        let ids: Vec<_> = t.comments.iter().map(|c| c.source_id.as_str()).collect();
        assert_eq!(ids, ["1", "2", "3", "3#2", "4"]);
        assert_eq!(t.comments[2].parent_source_id, None);
        assert_eq!(t.comments[4].parent_source_id.as_deref(), Some("3"));
        // the cycle 1 <-> 2 is broken at one point
        let roots = t.comments[..2]
            .iter()
            .filter(|c| c.parent_source_id.is_none())
            .count();
        assert!(roots >= 1);
        assert!(notes.len() >= 3, "{notes:?}");
        let data = ImportData {
            threads: vec![t],
            ..Default::default()
        };
        let s = summary(&data);
        assert_eq!(s.comments, 5);
        assert!(s.max_depth <= 1);
    }
}
