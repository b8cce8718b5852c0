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
mod artalk;
mod commento;
mod cusdis;
mod disqus;
mod flex;
mod isso;
pub(crate) mod kith;
mod remark42;
mod wordpress;
pub(crate) mod xml;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::domain::comment::{CommentKind, CommentStatus};
pub use archive::unpack;
pub use wordpress::IMPORT_KEY_META;

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
    /// Remark42 backup (header line, then one JSON comment per line).
    Remark42,
    /// Artalk's Artrans JSON.
    Artalk,
    /// Cusdis: a JSON dump of its `pages` and `comments` tables.
    Cusdis,
}

/// Every format, in the order help texts list them.
pub const FORMATS: [Format; 8] = [
    Format::WordPress,
    Format::Disqus,
    Format::Isso,
    Format::Commento,
    Format::Remark42,
    Format::Artalk,
    Format::Cusdis,
    Format::Kith,
];

impl Format {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::WordPress => "wordpress",
            Format::Disqus => "disqus",
            Format::Isso => "isso",
            Format::Commento => "commento",
            Format::Kith => "kith",
            Format::Remark42 => "remark42",
            Format::Artalk => "artalk",
            Format::Cusdis => "cusdis",
        }
    }

    /// `wordpress, disqus, …, kith`: for messages.
    pub fn list() -> String {
        FORMATS.map(Format::name).join(", ")
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
            "remark42" | "remark" => Ok(Format::Remark42),
            "artalk" | "artrans" => Ok(Format::Artalk),
            "cusdis" => Ok(Format::Cusdis),
            other => Err(ImportError::new(format!(
                "unknown import format '{other}': expected one of {}",
                Format::list()
            ))),
        }
    }
}

/// Everything read from one export file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportData {
    /// The blog the file comes from, as [`source_name`] writes it (a WXR channel link, a Disqus
    /// forum, an Isso or Commento host); `None` when the file does not say. Import keys combine
    /// it with each comment's id, so the same id from another blog is another comment.
    pub source: Option<String>,
    pub threads: Vec<ImportThread>,
    /// Records left out, each with the reason.
    pub skipped: Vec<Skipped>,
    /// Repairs made while keeping a record (e.g. a reply whose parent is missing was kept as
    /// top-level, a duplicated id was renamed). For the CLI's report.
    pub notes: Vec<String>,
    /// Comments without a usable date that took their post's date (or the file's).
    pub dated_from_post: usize,
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
    pub status: CommentStatus,
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
    /// How many readers gave each reaction (`{"heart": 3, "+1": 1}`); only the kith format
    /// carries it. Counts only: who reacted is not exported.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reactions: BTreeMap<String, i64>,
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
            "channel" if text.contains("wordpress.org/export/") || text.contains("<wp:") => {
                Some(Format::WordPress)
            }
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
                && (map.contains_key("users") || map.contains_key("posts"))
            {
                // a Remark42 backup without comments is its header alone
                Some(Format::Remark42)
            } else if !map.contains_key("version")
                && map.contains_key("comments")
                && map.contains_key("pages")
            {
                Some(Format::Cusdis)
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
            let artalk_like = !items.is_empty()
                && items.iter().all(|t| {
                    t.as_object()
                        .is_some_and(|o| o.contains_key("page_key") && !o.contains_key("comments"))
                });
            if artalk_like {
                return Some(Format::Artalk);
            }
            let isso_like = items.iter().all(|t| {
                t.as_object()
                    .is_some_and(|o| o.contains_key("id") && o.contains_key("comments"))
            });
            isso_like.then_some(Format::Isso)
        }
        Ok(_) => None,
        // Not valid JSON: guess from the head so that parse() can name the problem.
        Err(_) => {
            if remark42_header(bytes) {
                return Some(Format::Remark42);
            }
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

/// Whether the first JSON value of `bytes` is a Remark42 backup header (`version` with `users`
/// or `posts`) followed by more values.
fn remark42_header(bytes: &[u8]) -> bool {
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<serde_json::Value>();
    match stream.next() {
        Some(Ok(serde_json::Value::Object(map))) => {
            map.contains_key("version") && (map.contains_key("users") || map.contains_key("posts"))
        }
        _ => false,
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
        Format::Remark42 => remark42::parse(&unpacked)?,
        Format::Artalk => artalk::parse(&unpacked)?,
        Format::Cusdis => cusdis::parse(&unpacked)?,
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

/// `n` and the noun for it: "1 thread", "2 threads" (the import summaries' wording).
pub(crate) fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "3 approved, 1 pending, 0 spam, 0 deleted", as both import summaries say it.
impl fmt::Display for StatusCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} approved, {} pending, {} spam, {} deleted",
            self.approved, self.pending, self.spam, self.deleted
        )
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, {} ({}, max depth {}): {}; {} skipped",
            counted(self.threads, "thread", "threads"),
            counted(self.comments, "comment", "comments"),
            counted(self.replies, "reply", "replies"),
            self.max_depth,
            self.by_status,
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
                CommentStatus::Approved => sum.by_status.approved += 1,
                CommentStatus::Pending => sum.by_status.pending += 1,
                CommentStatus::Spam => sum.by_status.spam += 1,
                CommentStatus::Deleted => sum.by_status.deleted += 1,
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

/// A serde_json error as an [`ImportError`]: what went wrong, and where.
pub(crate) fn json_error(what: &str, e: &serde_json::Error) -> ImportError {
    let kind = match e.classify() {
        serde_json::error::Category::Eof => "the file ends too early (truncated?)",
        serde_json::error::Category::Syntax => "not valid JSON",
        serde_json::error::Category::Data => "unexpected content",
        serde_json::error::Category::Io => "cannot be read",
    };
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let detail = full.strip_suffix(&suffix).unwrap_or(&full);
    ImportError::at(
        format!("{what}: {kind}: {detail}"),
        format!("line {}, column {}", e.line(), e.column()),
    )
}

/// Decodes HTML character references once (`&laquo;` → `«`, `&#8217;` → `’`, `&amp;lt;` →
/// `&lt;`): names, websites and titles from WordPress and Disqus carry them, and kith stores
/// text as text. Anything that is not a known reference is kept as written.
pub fn decode_entities(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('&') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let end = after
            .char_indices()
            .take(40)
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '#'))
            .map(|(i, c)| (i, c == ';'));
        let decoded = match end {
            Some((len, true)) if len > 0 => resolve_reference(&after[..len]).map(|s| (s, len + 1)),
            _ => None,
        };
        match decoded {
            Some((s, used)) => {
                out.push_str(&s);
                rest = &after[used..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

fn resolve_reference(name: &str) -> Option<String> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse::<u32>().ok()?,
        };
        // NUL and surrogates are not characters a page may show.
        return match char::from_u32(code) {
            Some('\0') | None => Some('\u{fffd}'.to_string()),
            Some(c) => Some(c.to_string()),
        };
    }
    quick_xml::escape::resolve_html5_entity(name).map(str::to_string)
}

/// A blog's name in import keys: a URL without scheme, query, fragment or trailing `/`, host
/// lowercased (`https://Example.tld/blog/` → `example.tld/blog`); anything else trimmed. `#`
/// and white space never appear in it, so a key splits unambiguously.
pub fn source_name(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let without_scheme = raw
        .split_once("://")
        .filter(|(scheme, _)| {
            scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        })
        .map_or(raw, |(_, rest)| rest);
    let cut = without_scheme
        .find(['?', '#'])
        .map_or(without_scheme, |i| &without_scheme[..i]);
    let (host, path) = cut.split_once('/').unwrap_or((cut, ""));
    let host = host.rsplit('@').next().unwrap_or(host).to_lowercase();
    let path = path.trim_end_matches('/');
    let name = if path.is_empty() {
        host
    } else {
        format!("{host}/{path}")
    };
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_whitespace() || c == '#' {
                '_'
            } else {
                c
            }
        })
        .collect();
    (!name.is_empty()).then_some(name)
}

/// The host of an absolute URL, as [`source_name`] writes it.
pub(crate) fn url_host(url: &str) -> Option<String> {
    let (_, rest) = url.trim().split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    source_name(host)
}

/// An import key: `{format}@{source}#{id}` (`wordpress@example.tld#42`). One comment of one
/// blog has one key wherever it travels (kith files and kith's WXR carry it).
pub fn make_key(format: Format, source: Option<&str>, id: &str) -> String {
    format!("{}@{}#{id}", format.name(), source.unwrap_or(""))
}

/// Splits a key made by [`make_key`]: `(format, source, id)`.
pub fn split_key(key: &str) -> Option<(Format, &str, &str)> {
    let (format, rest) = key.split_once('@')?;
    let format = match format {
        "wordpress" => Format::WordPress,
        "disqus" => Format::Disqus,
        "isso" => Format::Isso,
        "commento" => Format::Commento,
        "kith" => Format::Kith,
        "remark42" => Format::Remark42,
        "artalk" => Format::Artalk,
        "cusdis" => Format::Cusdis,
        _ => return None,
    };
    let (source, id) = rest.split_once('#')?;
    (!id.is_empty()).then_some((format, source, id))
}

/// Keys written by kith before 0.2 (`wordpress:42`, `kith:17`): no blog in them. Still
/// recognized, so re-importing a file into a database filled by an older kith adds nothing.
pub fn is_legacy_key(key: &str) -> bool {
    key.split_once(':')
        .is_some_and(|(format, id)| !id.is_empty() && FORMATS.iter().any(|f| f.name() == format))
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
        let candidates = [concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures")];
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

    /// What each fixture file must give: summary counts
    /// (threads, comments, replies, max depth, approved, pending, spam, deleted, skipped),
    /// or an error whose message contains the given text.
    enum Expect {
        Counts([usize; 9]),
        Refused(&'static str),
    }

    const FIXTURES: &[(&str, Format, Expect)] = {
        use Expect::{Counts, Refused};
        use Format::{Commento, Disqus, Isso, WordPress};
        &[
            (
                "isso/wordpress.xml",
                WordPress,
                Counts([2, 8, 3, 2, 8, 0, 0, 0, 0]),
            ),
            (
                "isso/disqus.xml",
                Disqus,
                Counts([2, 5, 2, 1, 4, 0, 0, 1, 1]),
            ),
            (
                "isso/generic.json",
                Isso,
                Counts([2, 2, 0, 0, 2, 0, 0, 0, 0]),
            ),
            (
                "remark42/disqus.xml",
                Disqus,
                Counts([2, 5, 0, 0, 4, 0, 1, 0, 1]),
            ),
            (
                "remark42/disqus-deleted-post.xml",
                Disqus,
                Counts([2, 5, 0, 0, 3, 0, 1, 1, 1]),
            ),
            (
                "remark42/disqus-deleted-thread.xml",
                Disqus,
                Counts([2, 5, 0, 0, 2, 0, 1, 2, 1]),
            ),
            (
                "remark42/commento.json",
                Commento,
                Counts([2, 3, 1, 1, 3, 0, 0, 0, 0]),
            ),
            (
                "remark42/commento-api.json",
                Commento,
                Counts([1, 7, 2, 1, 7, 0, 0, 0, 0]),
            ),
            (
                "remark42/wordpress-xmlTestWP.xml",
                WordPress,
                Counts([1, 4, 1, 1, 3, 1, 0, 0, 0]),
            ),
            (
                "remark42/wordpress-api-xmlTestWP.xml",
                WordPress,
                Counts([1, 4, 1, 1, 3, 1, 0, 0, 0]),
            ),
            (
                "remark42/wordpress-xmlTestWPmd.xml",
                WordPress,
                Refused("close tag `</rss>` does not match"),
            ),
            (
                "comentario/comentario-bad-format.json.gz",
                Commento,
                Refused("not valid JSON"),
            ),
            (
                "comentario/comentario-bad-version.json.gz",
                Commento,
                Refused("unsupported export version 481"),
            ),
            (
                "comentario/comentario-ok-empty-v1.json.gz",
                Commento,
                Counts([0; 9]),
            ),
            (
                "comentario/comentario-ok-empty-v3.json.gz",
                Commento,
                Counts([0; 9]),
            ),
            (
                "comentario/comentario-ok-single-v1.json.gz",
                Commento,
                Counts([1, 1, 0, 0, 1, 0, 0, 0, 0]),
            ),
            (
                "comentario/comentario-ok-single-v3.json.gz",
                Commento,
                Counts([1, 1, 0, 0, 1, 0, 0, 0, 0]),
            ),
            (
                "comentario/disqus-bad-format.xml.gz",
                Disqus,
                Refused("truncated"),
            ),
            ("comentario/disqus-ok-empty.xml.gz", Disqus, Counts([0; 9])),
            (
                "comentario/disqus-ok-single.xml.gz",
                Disqus,
                Counts([1, 1, 0, 0, 1, 0, 0, 0, 0]),
            ),
            (
                "comentario/wordpress-bad-format.zip",
                WordPress,
                Refused("expected `</wp:commentZ>`"),
            ),
            (
                "comentario/wordpress-bad-no-files.zip",
                WordPress,
                Refused("no .xml or .json file"),
            ),
            (
                "comentario/wordpress-bad-two-files.zip",
                WordPress,
                Refused("contains 2 files"),
            ),
            (
                "comentario/wordpress-ok-empty.zip",
                WordPress,
                Counts([0; 9]),
            ),
            (
                "comentario/wordpress-ok-long.zip",
                WordPress,
                Counts([1, 1, 0, 0, 1, 0, 0, 0, 0]),
            ),
            (
                "comentario/wordpress-ok-single.zip",
                WordPress,
                Counts([1, 1, 0, 0, 1, 0, 0, 0, 0]),
            ),
            (
                "comentario/unpacked/comentario-bad-format.json",
                Commento,
                Refused("not valid JSON"),
            ),
            (
                "comentario/unpacked/comentario-bad-version.json",
                Commento,
                Refused("unsupported export version 481"),
            ),
            (
                "comentario/unpacked/comentario-ok-empty-v1.json",
                Commento,
                Counts([0; 9]),
            ),
            (
                "comentario/unpacked/comentario-ok-empty-v3.json",
                Commento,
                Counts([0; 9]),
            ),
            (
                "comentario/unpacked/comentario-ok-single-v1.json",
                Commento,
                Counts([1, 1, 0, 0, 1, 0, 0, 0, 0]),
            ),
            (
                "comentario/unpacked/comentario-ok-single-v3.json",
                Commento,
                Counts([1, 1, 0, 0, 1, 0, 0, 0, 0]),
            ),
            (
                "comentario/unpacked/disqus-bad-format.xml",
                Disqus,
                Refused("truncated"),
            ),
            (
                "comentario/unpacked/disqus-ok-empty.xml",
                Disqus,
                Counts([0; 9]),
            ),
            (
                "comentario/unpacked/disqus-ok-single.xml",
                Disqus,
                Counts([1, 1, 0, 0, 1, 0, 0, 0, 0]),
            ),
            (
                "comentario/unpacked/wordpress-bad-format.xml",
                WordPress,
                Refused("expected `</wp:commentZ>`"),
            ),
            (
                "comentario/unpacked/wordpress-ok-empty.xml",
                WordPress,
                Counts([0; 9]),
            ),
            (
                "comentario/unpacked/wordpress-ok-long.xml",
                WordPress,
                Counts([1, 1, 0, 0, 1, 0, 0, 0, 0]),
            ),
            (
                "comentario/unpacked/wordpress-ok-single.xml",
                WordPress,
                Counts([1, 1, 0, 0, 1, 0, 0, 0, 0]),
            ),
            (
                "comentario/unpacked/wordpress-bad-two-files/wordpress-ok-empty.xml",
                WordPress,
                Counts([0; 9]),
            ),
            (
                "comentario/unpacked/wordpress-bad-two-files/wordpress-ok-single.xml",
                WordPress,
                Counts([1, 1, 0, 0, 1, 0, 0, 0, 0]),
            ),
        ]
    };

    fn files_under(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
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

    #[test]
    fn every_importer_fixture_gives_its_stated_counts_or_is_refused() {
        let root = test_support::fixtures();
        let mut files = Vec::new();
        for dir in ["isso", "remark42", "comentario"] {
            files_under(&root.join(dir), &mut files);
        }
        let listed: std::collections::HashSet<&str> = FIXTURES.iter().map(|(p, _, _)| *p).collect();
        for f in &files {
            let rel = f.strip_prefix(&root).unwrap().to_string_lossy().to_string();
            assert!(
                listed.contains(rel.as_str()),
                "fixture {rel} has no expectation"
            );
        }
        assert_eq!(files.len(), FIXTURES.len());
        for (rel, format, expect) in FIXTURES {
            let bytes = test_support::fixture(rel);
            // detection agrees wherever the archive itself is sound
            if !rel.contains("-bad-no-files") && !rel.contains("-bad-two-files.zip") {
                assert_eq!(detect(&bytes), Some(*format), "{rel}");
            }
            match (parse(&bytes, *format), expect) {
                (Ok(data), Expect::Counts(want)) => {
                    let s = summary(&data);
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
                        s.skipped,
                    ];
                    assert_eq!(&got, want, "{rel}: {s}");
                }
                (Err(e), Expect::Refused(needle)) => {
                    assert!(e.message.contains(needle), "{rel}: {e}");
                    // syntax errors say where; a wrong version or zip layout has no position
                    if rel.contains("bad-format") || rel.contains("xmlTestWPmd") {
                        assert!(e.position.is_some(), "{rel}: no position in {e}");
                    }
                }
                (Ok(data), Expect::Refused(_)) => panic!("{rel}: accepted: {}", summary(&data)),
                (Err(e), Expect::Counts(_)) => panic!("{rel}: refused: {e}"),
            }
        }
    }

    #[test]
    fn format_names_parse() {
        for f in FORMATS {
            assert_eq!(f.name().parse::<Format>().unwrap(), f);
            assert_eq!(
                split_key(&make_key(f, Some("blog.example"), "7")),
                Some((f, "blog.example", "7"))
            );
        }
        let err = "blogger".parse::<Format>().unwrap_err();
        assert!(err.message.contains("blogger"));
    }

    fn c(id: &str, parent: Option<&str>) -> ImportComment {
        ImportComment {
            reactions: Default::default(),
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
            status: CommentStatus::Approved,
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
