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

use crate::db::changes::write_tx;
use crate::db::{self, DbConn};
use crate::domain::comment::{BodyFormat, CommentId, truncate_to_micros};
use crate::domain::link;
use crate::domain::reaction::Reaction;
use crate::domain::site::Site;
use crate::domain::thread::{ThreadKey, ThreadMeta};
use crate::error::{AppError, ErrorKind};
use crate::import::{
    self, CommentKind, CommentStatus, Format, ImportBody, ImportComment, ImportData, ImportThread,
    Skipped, StatusCounts, counted,
};
use crate::state::AppState;

/// Rows per multi-row `INSERT` (23 columns: well under both backends' parameter limits).
const BATCH: usize = 1000;

/// Called with `(comments written, comments to write)` after each batch. An `Err` stops the
/// import: the transaction is rolled back, nothing stays, and the import fails with that message.
pub type Progress = Arc<dyn Fn(u64, u64) -> Result<(), String> + Send + Sync>;

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
    /// Comments without a date that took their post's date (or the file's).
    pub dated_from_post: usize,
    /// Threads keyed by a WordPress plain permalink (`/?p=123`): the embed must send the same
    /// key (it does by default on such pages).
    pub plain_permalinks: usize,
    pub skipped: Vec<Skipped>,
    pub notes: Vec<String>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}: {} ({} new), {} {} ({}, max depth {}): {}; \
             {} pingbacks/trackbacks; {} already present; {} skipped",
            if self.dry_run { "dry run, " } else { "" },
            self.format,
            counted(self.threads, "thread", "threads"),
            self.new_threads,
            counted(self.comments, "comment", "comments"),
            if self.dry_run { "to add" } else { "added" },
            counted(self.replies, "reply", "replies"),
            self.max_depth,
            self.by_status,
            self.pingbacks,
            self.already_present,
            self.skipped.len()
        )?;
        if !self.notes.is_empty() {
            write!(f, "; {} repaired", self.notes.len())?;
        }
        if self.dated_from_post > 0 {
            write!(
                f,
                "; {} without a date took their post's date",
                self.dated_from_post
            )?;
        }
        if self.plain_permalinks > 0 {
            write!(
                f,
                "\nwarning: {} pages use plain permalinks (?p=N): their thread keys keep the query \
                 (`/?p=123`); embed kith there without a data-kith-key, or with that key",
                self.plain_permalinks
            )?;
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
            format!(
                "cannot tell the format of this file; name it ({})",
                Format::list()
            ),
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
    let own = own_source(state, site);
    let mut plan = Plan::build(state, format, data, options, &own);
    if options.dry_run {
        plan.reconcile(conn, site, false)?;
        return Ok(plan.summary(format, true));
    }
    write_tx(conn, &state.changes, |conn, changes| {
        // Many threads at once: the whole site reads anew.
        changes.site(site.id);
        plan.reconcile(conn, site, true)?;
        plan.write(conn, options.progress.as_ref())
    })?;
    Ok(plan.summary(format, false))
}

/// A comment ready to be written.
struct Planned {
    import_key: String,
    /// The same comment's key as kith 0.1 wrote it (`wordpress:42`), for databases it filled.
    legacy_key: Option<String>,
    /// When the key names a comment written on this very site (its own export coming back).
    native_id: Option<i64>,
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
    /// Reaction counts (kith files only); stored as the comment's imported counts.
    reactions: Vec<(Reaction, i64)>,
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
    dated_from_post: usize,
}

impl Plan {
    /// Everything that needs no database: keys, bodies, the tree.
    fn build(
        state: &AppState,
        format: Format,
        data: ImportData,
        options: &ImportOptions,
        own: &str,
    ) -> Self {
        let mut plan = Plan {
            threads: Vec::new(),
            skipped: data.skipped,
            notes: data.notes,
            dated_from_post: data.dated_from_post,
        };
        let source = Source {
            format,
            blog: data.source,
            own,
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
                    meta: thread_meta(&thread, &options.host, format),
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
            add_comments(
                state,
                &source,
                target,
                thread,
                options,
                (&mut plan.skipped, &mut plan.notes),
            );
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
            let mut legacy: HashMap<&str, usize> = HashMap::new();
            let mut native: HashMap<i64, usize> = HashMap::new();
            for (i, c) in thread.comments.iter().enumerate() {
                if let Some(key) = &c.legacy_key {
                    legacy.entry(key.as_str()).or_insert(i);
                }
                if let Some(id) = c.native_id {
                    native.insert(id, i);
                }
            }
            let mut found = Vec::new();
            for (key, id, root, depth) in db::comments::list_places(conn, row.id)? {
                let index = match &key {
                    Some(key) => thread
                        .by_key
                        .get(key)
                        .or_else(|| legacy.get(key.as_str()))
                        .copied(),
                    None => native.get(&id).copied(),
                };
                if let Some(i) = index {
                    found.push((i, (id, root, depth)));
                }
            }
            for (i, place) in found {
                thread.comments[i].stored = Some(place);
                thread.comments[i].present = true;
            }
        }
        Ok(())
    }

    /// Writes the comments that are not present yet, parents before children, in batches.
    fn write(&mut self, conn: &mut DbConn, progress: Option<&Progress>) -> Result<(), AppError> {
        let total = self.to_add() as u64;
        if let Some(report) = progress {
            report(0, total).map_err(stopped)?;
        }
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
                    report(done, total).map_err(stopped)?;
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
                    columns: db::comments::CommentColumns {
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
                        client_ip: c.ip.as_deref(),
                        user_agent: c.user_agent.as_deref(),
                        edit_token_hash: "",
                        notify_replies: c.notify_replies,
                        is_owner: c.owner,
                    },
                    edited_at: c.edited_at,
                    like_count: c.likes,
                    pinned: c.pinned,
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
            if !c.reactions.is_empty() {
                db::reactions::insert_imported(conn, CommentId(id), &c.reactions)?;
            }
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
            dated_from_post: self.dated_from_post,
            plain_permalinks: self
                .threads
                .iter()
                .filter(|t| t.key.is_plain_permalink())
                .count(),
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

fn thread_meta(thread: &ImportThread, rule: &HostRule, format: Format) -> ThreadMeta {
    let url = match rule {
        HostRule::Strip => String::new(),
        _ => thread
            .url
            .as_deref()
            .or(Some(thread.key.as_str()))
            .map(|u| rule.apply(text_field(format, u.trim()).as_ref()))
            .filter(|u| link::is_safe_web_link(u))
            .unwrap_or_default(),
    };
    let title = thread
        .title
        .as_deref()
        .map(|t| {
            text_field(format, t)
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect()
        })
        .unwrap_or_default();
    ThreadMeta { title, url }
}

/// Where a file's comments come from, for their import keys.
struct Source<'a> {
    format: Format,
    /// The blog the file names (WXR channel link, Disqus forum, Isso/Commento host).
    blog: Option<String>,
    /// This site's own name in keys (see [`own_source`]).
    own: &'a str,
}

/// Adds one source thread's comments to a planned thread: parents resolved through skipped
/// comments, import keys unique in the planned thread.
fn add_comments(
    state: &AppState,
    source: &Source<'_>,
    target: &mut PlannedThread,
    thread: ImportThread,
    options: &ImportOptions,
    (skipped, notes): (&mut Vec<Skipped>, &mut Vec<String>),
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
        let id = clean(&c.source_id);
        let mut keys = Keys::of(source, &id);
        if let Some(&first) = target.by_key.get(&keys.key) {
            if keys.carried {
                // the same comment twice (two pages of the file that are one thread here)
                skipped.push(Skipped {
                    source_id: c.source_id.clone(),
                    reason: "another page with the same address has this comment too".into(),
                });
                local.insert(c.source_id, first);
                continue;
            }
            // the same id on another page of the file: another comment
            let scoped = format!("{id}@{}", thread.key);
            notes.push(format!(
                "{}: comment id {id} of page {} is also used on another page with the same \
                 address; imported as a comment of its own",
                target.key.as_str(),
                thread.key
            ));
            keys = Keys::of(source, &scoped);
            keys.legacy = None;
            if target.by_key.contains_key(&keys.key) {
                skipped.push(Skipped {
                    source_id: c.source_id.clone(),
                    reason: "this id appears twice on pages with the same address".into(),
                });
                continue;
            }
        }
        let source_id = c.source_id.clone();
        let parent = c.parent_source_id.clone();
        let import_key = keys.key.clone();
        let planned = planned(state, source.format, keys, c);
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

/// Names, websites and titles from WordPress and Disqus carry HTML character references
/// (`&laquo;`, `&#8217;`): decoded once, stored as text. The other formats hold text already.
fn text_field(format: Format, value: &str) -> std::borrow::Cow<'_, str> {
    match format {
        Format::WordPress | Format::Disqus => import::decode_entities(value),
        Format::Isso
        | Format::Commento
        | Format::Kith
        | Format::Remark42
        | Format::Artalk
        | Format::Cusdis => std::borrow::Cow::Borrowed(value),
    }
}

fn planned(state: &AppState, format: Format, keys: Keys, c: ImportComment) -> Planned {
    let r = &state.renderer;
    let (source, body_format, html) = match (&c.body, &c.rendered_html) {
        (ImportBody::Markdown(md), Some(html)) => (
            clean(md),
            BodyFormat::Markdown,
            r.html(&clean(html)).into_inner(),
        ),
        (ImportBody::Markdown(md), None) => {
            let md = clean(md);
            let html = match format {
                // as Isso, Commento, Artalk and Cusdis showed it: bare addresses are links
                Format::Isso | Format::Commento | Format::Artalk | Format::Cusdis => {
                    r.markdown_autolinked(&md)
                }
                _ => r.markdown(&md),
            };
            (md, BodyFormat::Markdown, html.into_inner())
        }
        (ImportBody::Html(source), rendered) => {
            let safe = match format {
                // WordPress shows comment text through wpautop
                Format::WordPress => r.wordpress(&clean(source)),
                _ => r.html(&clean(source)),
            }
            .into_inner();
            let html = match rendered {
                Some(rendered) => r.html(&clean(rendered)).into_inner(),
                None => safe.clone(),
            };
            (safe, BodyFormat::Html, html)
        }
    };
    let website = c
        .website
        .as_deref()
        .map(|w| clean(text_field(format, w).trim()));
    Planned {
        import_key: keys.key,
        legacy_key: keys.legacy,
        native_id: keys.native,
        parent: None,
        author: clean(&text_field(format, &c.author)),
        email: c.email.as_deref().map(clean),
        website: link::safe_web_link(website),
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
        reactions: c
            .reactions
            .iter()
            .filter_map(|(id, count)| Reaction::parse(id).map(|r| (r, *count)))
            .filter(|(_, count)| *count > 0)
            .collect(),
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

/// The keys under which a source comment is known.
struct Keys {
    /// `{format}@{blog}#{id}` (see [`import::make_key`]).
    key: String,
    /// The key kith 0.1 gave the same comment (`{format}:{id}`), matched too.
    legacy: Option<String>,
    /// The comment's id on this site, when the key is this site's own (its export came back).
    native: Option<i64>,
    /// The file carried the key itself (kith files, kith's WXR): not made here.
    carried: bool,
}

impl Keys {
    fn of(source: &Source<'_>, id: &str) -> Self {
        // A key carried by the file (kith's exports give every comment its key).
        if let Some((format, blog, native)) = import::split_key(id) {
            let own = format == Format::Kith && blog == source.own;
            return Keys {
                key: bounded(id.to_string()),
                legacy: None,
                native: own.then(|| native.parse().ok()).flatten(),
                carried: true,
            };
        }
        if source.format == Format::Kith && import::is_legacy_key(id) {
            return Keys {
                key: id.to_string(),
                legacy: None,
                native: None,
                carried: true,
            };
        }
        Keys {
            key: bounded(import::make_key(source.format, source.blog.as_deref(), id)),
            legacy: Some(legacy_key(source.format, id)),
            native: None,
            carried: false,
        }
    }
}

/// Longest import key kept as it is, in bytes; longer ones are replaced by their SHA-256 (so
/// a key always fits PostgreSQL's index entries).
pub const MAX_KEY: usize = 400;

fn bounded(key: String) -> String {
    if key.len() <= MAX_KEY {
        return key;
    }
    let format = key.split_once('@').map_or("kith", |(f, _)| f);
    format!("{format}@#{}", hex::encode(Sha256::digest(key.as_bytes())))
}

/// The key kith 0.1 wrote: `format:source id` (ids over 200 bytes hashed).
fn legacy_key(format: Format, source_id: &str) -> String {
    if source_id.len() > 200 {
        let digest = hex::encode(Sha256::digest(source_id.as_bytes()));
        return format!("{}:#{digest}", format.name());
    }
    format!("{}:{source_id}", format.name())
}

/// This site's name in import keys: `kith@{name}#{id}` is comment `id` written here. A keyed
/// hash of the slug, so it is stable for the site and differs between installations.
pub fn own_source(state: &AppState, site: &Site) -> String {
    format!(
        "{}.{}",
        site.slug,
        state
            .keys
            .sign(crate::secrets::Purpose::ExportSource, site.slug.as_bytes())
    )
}

/// The key a comment of `site` is exported under: its import key, or for a comment written
/// here `kith@{own source}#{id}`.
pub(crate) fn export_key(own: &str, import_key: Option<&str>, id: i64) -> String {
    match import_key {
        Some(key) => key.to_string(),
        None => import::make_key(Format::Kith, Some(own), &id.to_string()),
    }
}

fn stopped(message: String) -> AppError {
    AppError::new(
        ErrorKind::InvalidImport,
        format!("import stopped, nothing was written: {message}"),
    )
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
    fn keys_combine_format_blog_and_id_and_keep_carried_keys() {
        let source = |format, blog: Option<&str>| Source {
            format,
            blog: blog.map(Into::into),
            own: "default.abc",
        };
        let wp = Keys::of(&source(Format::WordPress, Some("a.example")), "42");
        assert_eq!(wp.key, "wordpress@a.example#42");
        assert_eq!(wp.legacy.as_deref(), Some("wordpress:42"));
        assert!(!wp.carried);
        let other = Keys::of(&source(Format::WordPress, Some("b.example")), "42");
        assert_ne!(other.key, wp.key);
        // a key carried by a kith file (or kith's WXR) stays as it is
        let carried = Keys::of(&source(Format::Kith, None), "wordpress@a.example#42");
        assert_eq!(carried.key, "wordpress@a.example#42");
        assert!(carried.carried && carried.legacy.is_none());
        // old kith files named foreign comments by their old keys
        assert_eq!(
            Keys::of(&source(Format::Kith, None), "wordpress:42").key,
            "wordpress:42"
        );
        // this site's own comments come back as themselves
        let own = Keys::of(&source(Format::Kith, None), "kith@default.abc#17");
        assert_eq!(own.native, Some(17));
        let foreign = Keys::of(&source(Format::Kith, None), "kith@other.xyz#17");
        assert_eq!(foreign.native, None);
        assert_eq!(export_key("default.abc", None, 17), "kith@default.abc#17");
        // plain ids of a kith file without a source
        assert_eq!(Keys::of(&source(Format::Kith, None), "17").key, "kith@#17");
        let long = "x".repeat(5000);
        let key = Keys::of(&source(Format::Disqus, Some("forum")), &long).key;
        assert!(key.starts_with("disqus@#") && key.len() < 80, "{key}");
        assert_eq!(
            Keys::of(&source(Format::Disqus, Some("forum")), &long).key,
            key
        );
        assert!(import::split_key(&key).is_some());
    }
}
