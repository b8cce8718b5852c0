//! Importing another system's comments into a site.
//!
//! A file is parsed whole (`crate::import`), planned without touching the database (thread
//! keys normalized like the embed's, bodies sanitized, the reply tree resolved), then written in
//! ONE transaction: on any error nothing is written. Every imported comment carries an import
//! key (`format:source id`, unique per thread), so importing the same file again adds nothing.
//!
//! Decisions:
//! - Depth is the source's: `max_depth` is a rule for new replies, imported history keeps its
//!   shape (WordPress allows deeper threads than kith's default), up to [`MAX_DEPTH`] levels
//!   (deeper replies attach at that level, noted) so that reading a thread stays shallow.
//! - Pingbacks and trackbacks are kept and marked (`comments.kind`), or skipped on request;
//!   replies to a skipped comment attach to its nearest kept ancestor.
//! - HTML from the source goes through the one sanitizer, and only the sanitized HTML is stored
//!   (`body_format = 'html'`: the source text is that HTML). Markdown sources keep their text
//!   and get it rendered. A kith file's rendered HTML is kept (sanitized again).
//! - Imported comments have no edit token: their authors cannot edit them.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use sha2::{Digest, Sha256};

use crate::db::{self, DbConn, write_tx};
use crate::domain::comment::{BodyFormat, truncate_to_micros};
use crate::domain::link;
use crate::domain::site::Site;
use crate::domain::thread::{ThreadKey, ThreadMeta};
use crate::error::{AppError, ErrorKind};
use crate::import::{
    self, CommentKind, CommentStatus, Format, ImportBody, ImportComment, ImportData, ImportThread,
    Skipped, StatusCounts,
};
use crate::state::AppState;

/// Rows per multi-row `INSERT` (23 columns: well under both backends' parameter limits).
const BATCH: usize = 1000;

/// Called with `(comments written, comments to write)` as the import goes.
pub type Progress = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// How to import.
#[derive(Clone, Default)]
pub struct ImportOptions {
    /// `None`: detect from the content.
    pub format: Option<Format>,
    /// Parse, plan and report; write nothing.
    pub dry_run: bool,
    /// Leave pingbacks and trackbacks out (reported as skipped).
    pub skip_pingbacks: bool,
    pub host: HostRule,
    pub progress: Option<Progress>,
}

/// What to do with the host part of the source's page addresses (for moving domains).
/// Thread keys are paths either way (as the embed computes them); the rule decides the
/// path prefix and the stored page URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum HostRule {
    /// Keys are the addresses' paths; page URLs are stored as found.
    #[default]
    Keep,
    /// Keys are the addresses' paths; page URLs are not stored (the embed fills them in with
    /// the next comment on each page).
    Strip,
    /// Addresses starting with `from` are rewritten to start with `to` before the key is
    /// computed: `https://old.example/blog=https://new.example` moves `/blog/a/` to `/a/` and
    /// the stored URL to the new domain. A bare host (`old.example=new.example`) matches both
    /// `http://` and `https://`.
    Map { from: String, to: String },
}

impl HostRule {
    /// Parses `old=new` (the CLI's `--map-host`).
    pub fn parse_map(value: &str) -> Result<Self, String> {
        let (from, to) = value
            .split_once('=')
            .ok_or_else(|| format!("--map-host expects OLD=NEW, got `{value}`"))?;
        let (from, to) = (from.trim(), to.trim());
        if from.is_empty() || to.is_empty() {
            return Err(format!("--map-host expects OLD=NEW, got `{value}`"));
        }
        Ok(Self::Map {
            from: from.trim_end_matches('/').to_string(),
            to: to.trim_end_matches('/').to_string(),
        })
    }

    fn apply(&self, address: &str) -> String {
        let Self::Map { from, to } = self else {
            return address.to_string();
        };
        let candidates: Vec<(String, String)> = if from.contains("://") {
            vec![(from.clone(), to.clone())]
        } else {
            let to_full = |scheme: &str| {
                if to.contains("://") {
                    to.clone()
                } else {
                    format!("{scheme}{to}")
                }
            };
            vec![
                (format!("https://{from}"), to_full("https://")),
                (format!("http://{from}"), to_full("http://")),
            ]
        };
        for (old, new) in candidates {
            if let Some(rest) = address.strip_prefix(&old)
                && (rest.is_empty() || rest.starts_with(['/', '?', '#']))
            {
                return format!("{new}{rest}");
            }
        }
        address.to_string()
    }
}

/// What an import did (or, on a dry run, would do).
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub format: Format,
    pub dry_run: bool,
    /// Threads in the file, after keys are normalized (pages whose addresses normalize alike
    /// are one thread).
    pub threads: usize,
    /// Of those, threads the site did not have yet.
    pub new_threads: usize,
    /// Comments added.
    pub comments: usize,
    /// Of those, replies.
    pub replies: usize,
    /// Deepest added comment (top level is 0).
    pub max_depth: usize,
    pub by_status: StatusCounts,
    /// Added pingbacks and trackbacks (counted in `comments` too).
    pub pingbacks: usize,
    /// Comments of the file the site already has from an earlier import.
    pub already_present: usize,
    pub skipped: Vec<Skipped>,
    pub notes: Vec<String>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.by_status;
        write!(
            f,
            "{}{}: {} threads ({} new), {} comments {} ({} replies, max depth {}): {} approved, \
             {} pending, {} spam, {} deleted; {} pingbacks/trackbacks; {} already present; {} skipped",
            if self.dry_run { "dry run, " } else { "" },
            self.format,
            self.threads,
            self.new_threads,
            self.comments,
            if self.dry_run { "to add" } else { "added" },
            self.replies,
            self.max_depth,
            s.approved,
            s.pending,
            s.spam,
            s.deleted,
            self.pingbacks,
            self.already_present,
            self.skipped.len()
        )?;
        if !self.notes.is_empty() {
            write!(f, "; {} repaired", self.notes.len())?;
        }
        Ok(())
    }
}

/// Parses `bytes` (format detected unless given) and imports it into the site `site_slug`.
/// A malformed file is refused with `invalid_import` naming the problem and position; nothing
/// is written then, nor on a dry run, nor on any other error.
pub fn import_file(
    state: &AppState,
    conn: &mut DbConn,
    site_slug: &str,
    bytes: &[u8],
    options: &ImportOptions,
) -> Result<Summary, AppError> {
    let site = super::sites::find(state, conn, site_slug)?;
    let format = match options.format {
        Some(format) => format,
        None => detect(bytes)?,
    };
    let data = import::parse(bytes, format).map_err(|e| refused(format, &e))?;
    import_data(state, conn, &site, format, data, options)
}

/// The format of `bytes`, or why it cannot be told.
pub fn detect(bytes: &[u8]) -> Result<Format, AppError> {
    if let Err(e) = import::unpack(bytes) {
        return Err(AppError::new(ErrorKind::InvalidImport, e.to_string()));
    }
    import::detect(bytes).ok_or_else(|| {
        AppError::new(
            ErrorKind::InvalidImport,
            "cannot tell the format of this file; name it (wordpress, disqus, isso, commento, kith)",
        )
    })
}

fn refused(format: Format, e: &import::ImportError) -> AppError {
    AppError::new(
        ErrorKind::InvalidImport,
        format!("not a valid {format} export: {e}"),
    )
}

/// Imports already parsed data (`format` names where it came from, for the import keys).
pub fn import_data(
    state: &AppState,
    conn: &mut DbConn,
    site: &Site,
    format: Format,
    data: ImportData,
    options: &ImportOptions,
) -> Result<Summary, AppError> {
    let mut plan = Plan::build(state, format, data, options);
    if options.dry_run {
        plan.reconcile(conn, site, false)?;
        return Ok(plan.summary(format, true));
    }
    write_tx(conn, |conn| {
        plan.reconcile(conn, site, true)?;
        plan.write(conn, options.progress.as_ref())
    })?;
    Ok(plan.summary(format, false))
}

/// A comment ready to be written.
struct Planned {
    import_key: String,
    /// Index of the parent in the same planned thread.
    parent: Option<usize>,
    author: String,
    email: Option<String>,
    website: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    created_at: NaiveDateTime,
    edited_at: Option<NaiveDateTime>,
    /// Markdown source, or the sanitized HTML for HTML sources.
    source: String,
    body_format: BodyFormat,
    html: String,
    status: CommentStatus,
    kind: CommentKind,
    likes: i64,
    pinned: bool,
    owner: bool,
    notify_replies: bool,
    held_reason: Option<String>,
    /// Planned depth: the order of writing (parents first).
    level: usize,
    /// Once known: `(id, root_id, depth)` in the database.
    stored: Option<(i64, Option<i64>, i32)>,
    /// Already in the database before this import.
    present: bool,
}

struct PlannedThread {
    key: ThreadKey,
    meta: ThreadMeta,
    closed: bool,
    comments: Vec<Planned>,
    by_key: HashMap<String, usize>,
    id: Option<i64>,
    new: bool,
}

struct Plan {
    threads: Vec<PlannedThread>,
    skipped: Vec<Skipped>,
    notes: Vec<String>,
}

impl Plan {
    /// Everything that needs no database: keys, bodies, the tree.
    fn build(state: &AppState, format: Format, data: ImportData, options: &ImportOptions) -> Self {
        let mut plan = Plan {
            threads: Vec::new(),
            skipped: data.skipped,
            notes: data.notes,
        };
        let mut by_key: HashMap<String, usize> = HashMap::new();
        let max_key = state.config.limits.thread_key;
        for thread in data.threads {
            let key = match thread_key(&thread, &options.host, max_key) {
                Ok(key) => key,
                Err(reason) => {
                    plan.skipped.extend(thread.comments.iter().map(|c| Skipped {
                        source_id: c.source_id.clone(),
                        reason: reason.clone(),
                    }));
                    continue;
                }
            };
            let index = *by_key.entry(key.as_str().to_string()).or_insert_with(|| {
                plan.threads.push(PlannedThread {
                    meta: thread_meta(&thread, &options.host),
                    key,
                    closed: false,
                    comments: Vec::new(),
                    by_key: HashMap::new(),
                    id: None,
                    new: false,
                });
                plan.threads.len() - 1
            });
            let target = &mut plan.threads[index];
            target.closed |= thread.closed;
            add_comments(state, format, target, thread, options, &mut plan.skipped);
        }
        for thread in &mut plan.threads {
            set_levels(&mut thread.comments);
            let moved = cap_depth(&mut thread.comments);
            if moved > 0 {
                plan.notes.push(format!(
                    "{}: {moved} replies nested deeper than {MAX_DEPTH} levels were attached at level {MAX_DEPTH}",
                    thread.key.as_str()
                ));
                set_levels(&mut thread.comments);
            }
        }
        plan
    }

    /// Finds the threads and already imported comments in the database (creating the threads
    /// when `create`).
    fn reconcile(&mut self, conn: &mut DbConn, site: &Site, create: bool) -> Result<(), AppError> {
        let now = super::now().naive_utc();
        for thread in &mut self.threads {
            let row = if create {
                let existing = db::threads::find_by_key(conn, site.id, &thread.key)?;
                thread.new = existing.is_none();
                let row = match existing {
                    Some(row) => row,
                    None => {
                        db::threads::find_or_insert(conn, site.id, &thread.key, &thread.meta, now)?
                    }
                };
                db::threads::update_missing_meta(conn, &row, &thread.meta)?;
                if thread.closed && !row.closed {
                    db::threads::update_closed(conn, row.id, true)?;
                }
                Some(row)
            } else {
                let row = db::threads::find_by_key(conn, site.id, &thread.key)?;
                thread.new = row.is_none();
                row
            };
            let Some(row) = row else { continue };
            thread.id = Some(row.id.0);
            for (key, id, root, depth) in db::comments::list_imported(conn, row.id)? {
                if let Some(&i) = thread.by_key.get(&key) {
                    thread.comments[i].stored = Some((id, root, depth));
                    thread.comments[i].present = true;
                }
            }
        }
        Ok(())
    }

    /// Writes the comments that are not present yet, parents before children, in batches.
    fn write(&mut self, conn: &mut DbConn, progress: Option<&Progress>) -> Result<(), AppError> {
        let total = self.to_add() as u64;
        let mut done = 0u64;
        // parents before children: by level, each level in file order
        let mut levels: Vec<Vec<(usize, usize)>> = Vec::new();
        for (t, thread) in self.threads.iter().enumerate() {
            for (i, c) in thread.comments.iter().enumerate() {
                if c.present {
                    continue;
                }
                if levels.len() <= c.level {
                    levels.resize_with(c.level + 1, Vec::new);
                }
                levels[c.level].push((t, i));
            }
        }
        for level in levels {
            for chunk in level.chunks(BATCH) {
                self.write_batch(conn, chunk)?;
                done += chunk.len() as u64;
                if let Some(report) = progress {
                    report(done, total);
                }
            }
        }
        Ok(())
    }

    fn write_batch(&mut self, conn: &mut DbConn, chunk: &[(usize, usize)]) -> Result<(), AppError> {
        let mut places = Vec::with_capacity(chunk.len());
        for &(t, i) in chunk {
            let thread = &self.threads[t];
            let thread_id = thread
                .id
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("thread without id")))?;
            let place = match thread.comments[i].parent {
                None => (None, None, 0),
                Some(p) => {
                    let (pid, proot, pdepth) = thread.comments[p].stored.ok_or_else(|| {
                        AppError::internal(anyhow::anyhow!("parent written after its reply"))
                    })?;
                    (Some(pid), Some(proot.unwrap_or(pid)), pdepth + 1)
                }
            };
            places.push((thread_id, place));
        }
        let rows: Vec<db::comments::ImportedCommentRow<'_>> = chunk
            .iter()
            .zip(&places)
            .map(|(&(t, i), &(thread_id, (parent_id, root_id, depth)))| {
                let c = &self.threads[t].comments[i];
                db::comments::ImportedCommentRow {
                    thread_id,
                    parent_id,
                    root_id,
                    depth,
                    author_name: &c.author,
                    email: c.email.as_deref(),
                    website: c.website.as_deref(),
                    body_markdown: &c.source,
                    body_html: &c.html,
                    status: c.status,
                    held_reason: c.held_reason.as_deref(),
                    created_at: c.created_at,
                    edited_at: c.edited_at,
                    client_ip: c.ip.as_deref(),
                    user_agent: c.user_agent.as_deref(),
                    edit_token_hash: "",
                    like_count: c.likes,
                    notify_replies: c.notify_replies,
                    pinned: c.pinned,
                    is_owner: c.owner,
                    import_key: Some(&c.import_key),
                    kind: c.kind,
                    body_format: c.body_format,
                }
            })
            .collect();
        let inserted = db::comments::insert_imported_batch(conn, &rows)?;
        drop(rows);
        let mut by_key: HashMap<(i64, String), i64> = inserted
            .into_iter()
            .filter_map(|(id, thread, key)| key.map(|k| ((thread, k), id)))
            .collect();
        for (&(t, i), &(thread_id, (_, root_id, depth))) in chunk.iter().zip(&places) {
            let c = &mut self.threads[t].comments[i];
            let id = by_key
                .remove(&(thread_id, c.import_key.clone()))
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("inserted row not returned")))?;
            c.stored = Some((id, root_id, depth));
        }
        Ok(())
    }

    fn to_add(&self) -> usize {
        self.threads
            .iter()
            .flat_map(|t| &t.comments)
            .filter(|c| !c.present)
            .count()
    }

    fn summary(&self, format: Format, dry_run: bool) -> Summary {
        let mut summary = Summary {
            format,
            dry_run,
            threads: self.threads.len(),
            new_threads: self.threads.iter().filter(|t| t.new).count(),
            comments: 0,
            replies: 0,
            max_depth: 0,
            by_status: StatusCounts::default(),
            pingbacks: 0,
            already_present: 0,
            skipped: self.skipped.clone(),
            notes: self.notes.clone(),
        };
        for thread in &self.threads {
            let depths = depths(&thread.comments);
            for (c, depth) in thread.comments.iter().zip(depths) {
                if c.present {
                    summary.already_present += 1;
                    continue;
                }
                summary.comments += 1;
                if c.parent.is_some() {
                    summary.replies += 1;
                }
                summary.max_depth = summary.max_depth.max(depth);
                match c.status {
                    CommentStatus::Approved => summary.by_status.approved += 1,
                    CommentStatus::Pending => summary.by_status.pending += 1,
                    CommentStatus::Spam => summary.by_status.spam += 1,
                    CommentStatus::Deleted => summary.by_status.deleted += 1,
                }
                if c.kind != CommentKind::Comment {
                    summary.pingbacks += 1;
                }
            }
        }
        summary
    }
}

/// Depth of each planned comment: where it is (written or found), else its parent's depth + 1
/// (parents first, by level, so no recursion however deep the thread).
fn depths(comments: &[Planned]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..comments.len()).collect();
    order.sort_by_key(|&i| comments[i].level);
    let mut depth = vec![0usize; comments.len()];
    for i in order {
        let c = &comments[i];
        depth[i] = match (c.stored, c.parent) {
            (Some((_, _, stored)), _) => usize::try_from(stored).unwrap_or(0),
            (None, Some(p)) => depth[p] + 1,
            (None, None) => 0,
        };
    }
    depth
}

/// The thread key the embed would compute for this page, after the host rule.
fn thread_key(thread: &ImportThread, rule: &HostRule, max: usize) -> Result<ThreadKey, String> {
    let address = rule.apply(thread.key.trim());
    ThreadKey::parse(&address, max).map_err(|e| {
        format!(
            "page `{}` has no usable thread key: {}",
            thread.key, e.message
        )
    })
}

fn thread_meta(thread: &ImportThread, rule: &HostRule) -> ThreadMeta {
    let url = match rule {
        HostRule::Strip => String::new(),
        _ => thread
            .url
            .as_deref()
            .or(Some(thread.key.as_str()))
            .map(|u| rule.apply(u.trim()))
            .filter(|u| link::is_safe_web_link(u))
            .unwrap_or_default(),
    };
    let title = thread
        .title
        .as_deref()
        .map(|t| {
            t.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect()
        })
        .unwrap_or_default();
    ThreadMeta { title, url }
}

/// Adds one source thread's comments to a planned thread: parents resolved through skipped
/// comments, import keys unique in the planned thread.
fn add_comments(
    state: &AppState,
    format: Format,
    target: &mut PlannedThread,
    thread: ImportThread,
    options: &ImportOptions,
    skipped: &mut Vec<Skipped>,
) {
    let parent_of: HashMap<String, Option<String>> = thread
        .comments
        .iter()
        .map(|c| (c.source_id.clone(), c.parent_source_id.clone()))
        .collect();
    // source id (in this source thread) → index in the planned thread
    let mut local: HashMap<String, usize> = HashMap::new();
    let mut wanted_parent: Vec<(usize, Option<String>)> = Vec::new();
    let mut left_out: HashSet<String> = HashSet::new();
    for c in thread.comments {
        if options.skip_pingbacks && c.kind != CommentKind::Comment {
            skipped.push(Skipped {
                source_id: c.source_id.clone(),
                reason: format!("{} left out (--skip-pingbacks)", c.kind.as_str()),
            });
            left_out.insert(c.source_id);
            continue;
        }
        if !in_range(c.created_at) || c.edited_at.is_some_and(|t| !in_range(t)) {
            skipped.push(Skipped {
                source_id: c.source_id.clone(),
                reason: "its date is outside the years 1 to 9999".into(),
            });
            left_out.insert(c.source_id);
            continue;
        }
        let import_key = import_key(format, &clean(&c.source_id));
        if let Some(&first) = target.by_key.get(&import_key) {
            skipped.push(Skipped {
                source_id: c.source_id.clone(),
                reason: "another page with the same address has a comment with this id".into(),
            });
            local.insert(c.source_id, first);
            continue;
        }
        let source_id = c.source_id.clone();
        let parent = c.parent_source_id.clone();
        let planned = planned(state, import_key.clone(), c);
        target.comments.push(planned);
        let index = target.comments.len() - 1;
        target.by_key.insert(import_key, index);
        local.insert(source_id, index);
        wanted_parent.push((index, parent));
    }
    for (index, parent) in wanted_parent {
        // climb past comments that were left out
        let mut next = parent;
        let mut hops = 0;
        while let Some(p) = next.take() {
            if let Some(&found) = local.get(&p) {
                target.comments[index].parent = Some(found);
                break;
            }
            hops += 1;
            if left_out.contains(&p) && hops <= parent_of.len() {
                next = parent_of.get(&p).cloned().flatten();
            }
        }
    }
}

fn planned(state: &AppState, import_key: String, c: ImportComment) -> Planned {
    let (source, body_format, html) = match (&c.body, &c.rendered_html) {
        (ImportBody::Markdown(md), Some(html)) => (
            clean(md),
            BodyFormat::Markdown,
            state.renderer.html(&clean(html)).into_inner(),
        ),
        (ImportBody::Markdown(md), None) => {
            let md = clean(md);
            let html = state.renderer.markdown(&md).into_inner();
            (md, BodyFormat::Markdown, html)
        }
        (ImportBody::Html(source), rendered) => {
            let safe = state.renderer.html(&clean(source)).into_inner();
            let html = match rendered {
                Some(r) => state.renderer.html(&clean(r)).into_inner(),
                None => safe.clone(),
            };
            (safe, BodyFormat::Html, html)
        }
    };
    Planned {
        import_key,
        parent: None,
        author: clean(&c.author),
        email: c.email.as_deref().map(clean),
        website: link::safe_web_link(c.website.as_deref().map(clean)),
        ip: c.ip.as_deref().map(clean),
        user_agent: c.user_agent.as_deref().map(clean),
        created_at: micros(c.created_at),
        edited_at: c.edited_at.map(micros),
        source,
        body_format,
        html,
        status: c.status,
        kind: c.kind,
        likes: c.likes,
        pinned: c.pinned,
        owner: c.owner,
        notify_replies: c.notify_replies,
        held_reason: c.held_reason.as_deref().map(clean),
        level: 0,
        stored: None,
        present: false,
    }
}

/// Deepest level an import keeps (top level is 1). Not the site's `max_depth`, which limits new
/// replies only: a bound that keeps reading a thread (tree building, JSON) safely shallow.
pub const MAX_DEPTH: usize = 32;

/// Attaches comments nested deeper than [`MAX_DEPTH`] levels to their ancestor at level
/// `MAX_DEPTH - 1`; returns how many moved. Levels must be set; set them again afterwards.
fn cap_depth(comments: &mut [Planned]) -> usize {
    let mut moved = 0;
    for i in 0..comments.len() {
        if comments[i].level < MAX_DEPTH {
            continue;
        }
        let mut ancestor = comments[i].parent;
        while let Some(a) = ancestor {
            if comments[a].level <= MAX_DEPTH - 2 {
                break;
            }
            ancestor = comments[a].parent;
        }
        comments[i].parent = ancestor;
        moved += 1;
    }
    moved
}

/// Sets each comment's level (its depth in the file) so parents are written first.
fn set_levels(comments: &mut [Planned]) {
    let mut memo: Vec<Option<usize>> = vec![None; comments.len()];
    for i in 0..comments.len() {
        let mut chain = Vec::new();
        let mut cur = Some(i);
        let mut base = None;
        while let Some(c) = cur {
            if let Some(level) = memo[c] {
                base = Some(level);
                break;
            }
            if chain.len() > comments.len() {
                break; // parsers guarantee no cycle; never loop regardless
            }
            chain.push(c);
            cur = comments[c].parent;
        }
        let mut level = base;
        for &c in chain.iter().rev() {
            let here = level.map_or(0, |l| l + 1);
            memo[c] = Some(here);
            level = Some(here);
        }
    }
    for (c, level) in comments.iter_mut().zip(memo) {
        c.level = level.unwrap_or(0);
    }
}

/// Formats whose comments can arrive here under their own import keys through a kith file.
const FOREIGN: [Format; 4] = [
    Format::WordPress,
    Format::Disqus,
    Format::Isso,
    Format::Commento,
];

/// The import key of a source comment: `format:source id`. A kith file's id that is itself an
/// import key of another format (`wordpress:42`, exported by a site that imported it) is kept
/// as it is, so the comment is recognized wherever it travels.
///
/// Ids longer than [`MAX_SOURCE_ID`] bytes are replaced by their SHA-256 (`#` and hex), so the
/// key always fits PostgreSQL's index entries.
pub(crate) fn import_key(format: Format, source_id: &str) -> String {
    if format == Format::Kith
        && let Some((prefix, id)) = source_id.split_once(':')
        && FOREIGN.iter().any(|f| f.name() == prefix)
        && id.len() <= MAX_SOURCE_ID
    {
        return source_id.to_string();
    }
    if source_id.len() > MAX_SOURCE_ID {
        let digest = hex::encode(Sha256::digest(source_id.as_bytes()));
        return format!("{}:#{digest}", format.name());
    }
    format!("{}:{source_id}", format.name())
}

/// Longest source id kept as it is in an import key, in bytes.
pub const MAX_SOURCE_ID: usize = 200;

/// The source id an import key came from, as a kith file names it (inverse of [`import_key`]
/// for the kith format).
pub(crate) fn kith_source_id(import_key: &str) -> &str {
    import_key
        .strip_prefix(Format::Kith.name())
        .and_then(|rest| rest.strip_prefix(':'))
        .unwrap_or(import_key)
}

/// Text as both databases store it: PostgreSQL refuses NUL characters.
fn clean(s: &str) -> String {
    if s.contains('\0') {
        s.replace('\0', "\u{fffd}")
    } else {
        s.to_string()
    }
}

/// Whether both databases can store the time (PostgreSQL stops at 4713 BC).
fn in_range(t: DateTime<Utc>) -> bool {
    (1..=9999).contains(&chrono::Datelike::year(&t))
}

fn micros(t: DateTime<Utc>) -> NaiveDateTime {
    truncate_to_micros(t).naive_utc()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn map_host_rewrites_prefixes_only_at_a_boundary() {
        let rule = HostRule::parse_map("https://old.example/blog=https://new.example").unwrap();
        assert_eq!(
            rule.apply("https://old.example/blog/a/"),
            "https://new.example/a/"
        );
        assert_eq!(
            rule.apply("https://old.example/blogs/a/"),
            "https://old.example/blogs/a/"
        );
        let bare = HostRule::parse_map("old.example=new.example").unwrap();
        assert_eq!(bare.apply("http://old.example/a"), "http://new.example/a");
        assert_eq!(bare.apply("https://old.example"), "https://new.example");
        assert_eq!(
            bare.apply("https://old.example.org/a"),
            "https://old.example.org/a"
        );
        assert!(HostRule::parse_map("nothing").is_err());
        assert!(HostRule::parse_map("=x").is_err());
    }

    #[test]
    fn import_keys_survive_a_trip_through_a_kith_file() {
        for (format, id) in [
            (Format::WordPress, "42"),
            (Format::Kith, "17"),
            (Format::Kith, "a:b"),
            (Format::Disqus, "x:y"),
        ] {
            let key = import_key(format, id);
            assert_eq!(import_key(Format::Kith, kith_source_id(&key)), key);
        }
        assert_eq!(import_key(Format::Kith, "wordpress:42"), "wordpress:42");
        assert_eq!(kith_source_id("kith:a:b"), "a:b");
        let long = "x".repeat(5000);
        let key = import_key(Format::Disqus, &long);
        assert!(key.starts_with("disqus:#") && key.len() < 80, "{key}");
        assert_eq!(import_key(Format::Disqus, &long), key);
    }
}
