//! What admins do to comments, authors and threads, and what they read to decide.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};

use crate::changes::Changes;
use crate::db::changes::{comments_changed, thread_changed, write_tx as announcing_tx};
use crate::db::queue::{QueueFilter, QueuedComment, ThreadSummary};
use crate::db::{self, DbConn, write_tx};
use crate::domain::ban::{Ban, BanKind, BanRule};
use crate::domain::comment::{BodyFormat, Comment, CommentId, CommentStatus};
use crate::domain::fields::{CommentBody, FieldError};
use crate::domain::reader::Identification;
use crate::domain::site::SiteId;
use crate::domain::thread::ThreadId;
use crate::domain::webhook::WebhookEvent;
use crate::error::{AppError, ErrorKind};
use crate::secrets;
use crate::service::{now, webhooks};
use crate::state::AppState;

/// Rows on one queue page.
pub const PAGE_SIZE: i64 = 50;

/// A queue tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Pending,
    Reported,
    Approved,
    Spam,
    Deleted,
}

impl Tab {
    pub const ALL: [Tab; 5] = [
        Tab::Pending,
        Tab::Reported,
        Tab::Approved,
        Tab::Spam,
        Tab::Deleted,
    ];

    /// The tab's name in URLs: a status's own spelling, or `reported`.
    pub fn as_str(self) -> &'static str {
        match self.status() {
            Some(status) => status.as_str(),
            None => "reported",
        }
    }

    /// The status a tab lists (`Reported` lists pending and approved comments with reports).
    pub fn status(self) -> Option<CommentStatus> {
        match self {
            Self::Pending => Some(CommentStatus::Pending),
            Self::Reported => None,
            Self::Approved => Some(CommentStatus::Approved),
            Self::Spam => Some(CommentStatus::Spam),
            Self::Deleted => Some(CommentStatus::Deleted),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Reported => "Reported",
            Self::Approved => "Approved",
            Self::Spam => "Spam",
            Self::Deleted => "Deleted",
        }
    }

    pub fn parse(value: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == value)
            .ok_or_else(|| {
                FieldError::new(
                    "status",
                    "must be pending, reported, approved, spam or deleted",
                )
            })
    }
}

/// Search terms of the queue (each optional, matched as "contains", ignoring case).
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub text: Option<String>,
    pub author: Option<String>,
    pub email: Option<String>,
    pub ip: Option<String>,
    pub page: Option<String>,
}

impl Search {
    /// Trims the terms; blank ones are dropped; each at most 200 characters.
    pub fn parse(
        text: Option<String>,
        author: Option<String>,
        email: Option<String>,
        ip: Option<String>,
        page: Option<String>,
    ) -> Result<Self, FieldError> {
        fn term(field: &'static str, v: Option<String>) -> Result<Option<String>, FieldError> {
            let v = v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
            if v.as_ref().is_some_and(|s| s.chars().count() > 200) {
                return Err(FieldError::new(field, "must be at most 200 characters"));
            }
            Ok(v)
        }
        Ok(Self {
            text: term("q", text)?,
            author: term("author", author)?,
            email: term("email", email)?,
            ip: term("ip", ip)?,
            page: term("page", page)?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_none()
            && self.author.is_none()
            && self.email.is_none()
            && self.ip.is_none()
            && self.page.is_none()
    }
}

/// A comment in the queue, with where it was posted and its open reports.
#[derive(Debug, Clone)]
pub struct QueueItem {
    pub comment: Comment,
    pub thread_key: String,
    pub thread_title: String,
    pub thread_url: String,
    pub site_slug: String,
    pub reports: i64,
    pub report_reasons: Vec<String>,
    /// The comment a reply answers (none for a top-level comment).
    pub parent: Option<ParentContext>,
    /// How the author was identified (anonymous, confirmed address, signed in).
    pub identified: Identification,
    /// A signed-in author's identity as a ban names it (`github:583231`).
    pub reader_key: Option<String>,
}

/// What a reply answers, shown above it in the queue.
#[derive(Debug, Clone)]
pub struct ParentContext {
    pub id: CommentId,
    pub author: String,
    /// The parent's first line of text, shortened.
    pub first_line: String,
}

impl ParentContext {
    fn of(parent: &Comment) -> Self {
        Self {
            id: parent.id,
            author: parent.author.clone(),
            first_line: first_line(&parent.body_markdown, parent.body_format),
        }
    }
}

/// The first non-empty line of a comment's source, without tags, at most 100 characters.
fn first_line(source: &str, format: BodyFormat) -> String {
    let text = match format {
        BodyFormat::Html => strip_tags(source),
        BodyFormat::Markdown => source.to_string(),
    };
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    let mut short: String = line.chars().take(100).collect();
    if line.chars().count() > 100 {
        short.push('…');
    }
    short
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// The parents of the replies among `rows`, by id (each looked up once).
fn parents_of(
    conn: &mut DbConn,
    rows: &[QueuedComment],
) -> Result<HashMap<CommentId, ParentContext>, AppError> {
    let mut parents = HashMap::new();
    for parent_id in rows.iter().filter_map(|r| r.comment.parent_id) {
        if parents.contains_key(&parent_id) {
            continue;
        }
        if let Some(parent) = db::comments::find(conn, parent_id)? {
            parents.insert(parent_id, ParentContext::of(&parent));
        }
    }
    Ok(parents)
}

/// One page of a queue tab and the size of every tab.
pub struct QueuePage {
    pub tab: Tab,
    pub items: Vec<QueueItem>,
    pub counts: Vec<(Tab, i64)>,
    pub page: i64,
    pub has_more: bool,
}

/// Tab sizes, optionally for one site.
pub fn tab_counts(conn: &mut DbConn, site_id: Option<SiteId>) -> Result<Vec<(Tab, i64)>, AppError> {
    let by_status = db::queue::count_by_status(conn, site_id)?;
    let reported = reported_ids(conn, site_id)?.len() as i64;
    Ok(Tab::ALL
        .into_iter()
        .map(|tab| {
            let n = match tab.status() {
                None => reported,
                Some(status) => by_status.get(&status).copied().unwrap_or(0),
            };
            (tab, n)
        })
        .collect())
}

fn reported_ids(conn: &mut DbConn, site_id: Option<SiteId>) -> Result<Vec<CommentId>, AppError> {
    let ids: Vec<CommentId> = db::queue::unreviewed_reports(conn)?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    match site_id {
        None => Ok(ids),
        Some(site) => {
            let mut kept = Vec::new();
            for id in ids {
                if db::comments::find_in_site(conn, site, id)?.is_some() {
                    kept.push(id);
                }
            }
            Ok(kept)
        }
    }
}

/// A queue tab, newest first, filtered by `search` and optionally by site.
pub fn queue(
    conn: &mut DbConn,
    tab: Tab,
    search: &Search,
    site_id: Option<SiteId>,
    page: i64,
) -> Result<QueuePage, AppError> {
    let page = page.max(1);
    let report_counts: HashMap<CommentId, i64> =
        db::queue::unreviewed_reports(conn)?.into_iter().collect();
    let mut filter = QueueFilter {
        site_id,
        text: search.text.clone(),
        author: search.author.clone(),
        email: search.email.clone(),
        ip: search.ip.clone(),
        page: search.page.clone(),
        ..QueueFilter::default()
    };
    match tab.status() {
        None => {
            filter.ids = Some(report_counts.keys().copied().collect());
            filter.statuses = vec![CommentStatus::Pending, CommentStatus::Approved];
        }
        Some(status) => filter.statuses = vec![status],
    }
    let mut rows = db::queue::list(conn, &filter, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)?;
    let has_more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(usize::try_from(PAGE_SIZE).unwrap_or(50));
    let ids: Vec<CommentId> = rows.iter().map(|r| r.comment.id).collect();
    let mut reasons = db::queue::report_reasons(conn, &ids)?;
    let parents = parents_of(conn, &rows)?;
    let mut sites = HashMap::new();
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let id = row.comment.id;
        let parent = row.comment.parent_id.and_then(|p| parents.get(&p).cloned());
        let identified = identification(conn, &mut sites, &row)?;
        let reader_key = reader_key(conn, &row.comment)?;
        items.push(item(
            row,
            report_counts.get(&id).copied().unwrap_or(0),
            reasons.remove(&id).unwrap_or_default(),
            parent,
            (identified, reader_key),
        ));
    }
    Ok(QueuePage {
        tab,
        items,
        counts: tab_counts(conn, site_id)?,
        page,
        has_more,
    })
}

/// How a comment's author was identified: signed in (how), a confirmed address, or not at
/// all. `sites` caches site ids by slug across one page.
fn identification(
    conn: &mut DbConn,
    sites: &mut HashMap<String, Option<SiteId>>,
    row: &QueuedComment,
) -> Result<Identification, AppError> {
    let comment = &row.comment;
    if comment.owner {
        return Ok(Identification::Owner);
    }
    if let Some(provider) = &comment.signed_in_with {
        return Ok(if provider.is_email() {
            Identification::SignedInByEmail
        } else {
            Identification::SignedInWith(provider.default_label())
        });
    }
    let Some(email) = &comment.email else {
        return Ok(Identification::Anonymous);
    };
    let site = match sites.get(&row.site_slug) {
        Some(site) => *site,
        None => {
            let site = db::sites::find_by_slug(conn, &row.site_slug)?.map(|s| s.id);
            sites.insert(row.site_slug.clone(), site);
            site
        }
    };
    let confirmed = match site {
        Some(site) => db::mail::find_address_by_email(conn, site, &email.to_lowercase())?
            .is_some_and(|a| a.confirmed_at.is_some()),
        None => false,
    };
    Ok(if confirmed {
        Identification::ConfirmedEmail
    } else {
        Identification::Anonymous
    })
}

/// The identity (`provider:subject`) of a signed-in author still on record.
fn reader_key(conn: &mut DbConn, comment: &Comment) -> Result<Option<String>, AppError> {
    Ok(match comment.reader_id {
        Some(id) => db::readers::find(conn, id)?.map(|r| r.identity.key()),
        None => None,
    })
}

fn item(
    row: QueuedComment,
    reports: i64,
    report_reasons: Vec<String>,
    parent: Option<ParentContext>,
    (identified, reader_key): (Identification, Option<String>),
) -> QueueItem {
    QueueItem {
        identified,
        reader_key,
        parent,
        comment: row.comment,
        thread_key: row.thread_key,
        thread_title: row.thread_title,
        thread_url: row.thread_url,
        site_slug: row.site_slug,
        reports,
        report_reasons,
    }
}

/// One comment with its context, for the edit and reply page.
pub fn find(conn: &mut DbConn, id: CommentId) -> Result<QueueItem, AppError> {
    let filter = QueueFilter {
        ids: Some(vec![id]),
        ..QueueFilter::default()
    };
    let row = db::queue::list(conn, &filter, 1, 0)?
        .into_iter()
        .next()
        .ok_or_else(not_found)?;
    let reports = db::queue::count_unreviewed_reports(conn, id)?;
    let reasons = db::queue::report_reasons(conn, &[id])?
        .remove(&id)
        .unwrap_or_default();
    let parent = parents_of(conn, std::slice::from_ref(&row))?
        .into_values()
        .next();
    let identified = identification(conn, &mut HashMap::new(), &row)?;
    let reader_key = reader_key(conn, &row.comment)?;
    Ok(item(
        row,
        reports,
        reasons,
        parent,
        (identified, reader_key),
    ))
}

fn not_found() -> AppError {
    AppError::new(ErrorKind::CommentNotFound, "no such comment")
}

/// What an admin can do to comments, one or many at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Approve,
    Spam,
    Delete,
    Restore,
    Pin,
    Unpin,
}

impl Action {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        match value {
            "approve" => Ok(Self::Approve),
            "spam" => Ok(Self::Spam),
            "delete" => Ok(Self::Delete),
            "restore" => Ok(Self::Restore),
            "pin" => Ok(Self::Pin),
            "unpin" => Ok(Self::Unpin),
            _ => Err(FieldError::new(
                "action",
                "must be approve, spam, delete, restore, pin or unpin",
            )),
        }
    }

    pub fn past_tense(self) -> &'static str {
        match self {
            Self::Approve => "approved",
            Self::Spam => "marked as spam",
            Self::Delete => "deleted",
            Self::Restore => "restored",
            Self::Pin => "pinned",
            Self::Unpin => "unpinned",
        }
    }
}

/// Most comments one bulk action may touch.
pub const MAX_BULK: usize = 500;

/// Applies `action` to the comments; returns how many there were. Deciding on a comment
/// settles its open reports. `restore` publishes a spam or deleted comment again.
pub fn apply(
    state: &AppState,
    conn: &mut DbConn,
    ids: &[CommentId],
    action: Action,
) -> Result<usize, AppError> {
    if ids.is_empty() {
        return Err(FieldError::new("ids", "select at least one comment").into());
    }
    if ids.len() > MAX_BULK {
        return Err(FieldError::new("ids", format!("at most {MAX_BULK} at once")).into());
    }
    announcing_tx(conn, &state.changes, |conn, changes| {
        apply_in_tx(state, conn, changes, ids, action)
    })
}

/// [`apply`] inside the caller's write transaction. Publishing a comment sends the reply and
/// subscription mails it was waiting for; approving and marking spam teach the site's spam
/// score.
pub fn apply_in_tx(
    state: &AppState,
    conn: &mut DbConn,
    changes: &mut Changes,
    ids: &[CommentId],
    action: Action,
) -> Result<usize, AppError> {
    let before: Vec<Comment> = ids
        .iter()
        .filter_map(|id| db::comments::find(conn, *id).transpose())
        .collect::<Result<_, _>>()?;
    // Readers see every decision but one: spam or deletion of a comment they never saw.
    let published: Vec<CommentId> = before
        .iter()
        .filter(|c| c.status != CommentStatus::Approved)
        .filter(|_| matches!(action, Action::Approve | Action::Restore))
        .map(|c| c.id)
        .collect();
    comments_changed(conn, changes, ids, false)?;
    comments_changed(conn, changes, &published, true)?;
    let changed = match action {
        Action::Approve | Action::Restore => {
            db::comments::update_status(conn, ids, CommentStatus::Approved, None)?
        }
        Action::Spam => db::comments::update_status(
            conn,
            ids,
            CommentStatus::Spam,
            Some("marked as spam by an admin"),
        )?,
        Action::Delete => db::comments::update_status(
            conn,
            ids,
            CommentStatus::Deleted,
            Some("deleted by an admin"),
        )?,
        Action::Pin => db::queue::update_pinned(conn, ids, true)?,
        Action::Unpin => db::queue::update_pinned(conn, ids, false)?,
    };
    if changed == 0 {
        return Err(not_found());
    }
    if !matches!(action, Action::Pin | Action::Unpin) {
        let found = db::queue::existing_ids(conn, ids)?;
        db::queue::upsert_reviews(conn, &found, now().naive_utc())?;
    }
    for comment in &before {
        let was = comment.status;
        match action {
            Action::Approve | Action::Restore if was != CommentStatus::Approved => {
                crate::service::notifications::comment_published(state, conn, comment.id)?;
                if was == CommentStatus::Spam {
                    crate::service::spam::learn(conn, comment, true, -1)?;
                }
                crate::service::spam::learn(conn, comment, false, 1)?;
            }
            Action::Spam if was != CommentStatus::Spam => {
                crate::service::spam::learn(conn, comment, true, 1)?;
            }
            _ => {}
        }
        match action {
            Action::Approve | Action::Restore if was != CommentStatus::Approved => {
                webhooks::emit_for(state, conn, WebhookEvent::Approved, comment.id)?;
            }
            Action::Delete if was != CommentStatus::Deleted => {
                webhooks::emit_for(state, conn, WebhookEvent::Deleted, comment.id)?;
            }
            _ => {}
        }
    }
    Ok(changed)
}

/// Replaces a comment's text.
pub fn edit(
    state: &AppState,
    conn: &mut DbConn,
    id: CommentId,
    body: &CommentBody,
) -> Result<Comment, AppError> {
    let html = state.renderer.markdown(body.as_str());
    let now = now();
    announcing_tx(conn, &state.changes, |conn, changes| {
        db::comments::find(conn, id)?.ok_or_else(not_found)?;
        comments_changed(conn, changes, &[id], false)?;
        db::comments::update_body(conn, id, body.as_str(), &html, now.naive_utc())
    })
}

/// Replies to a comment as the site owner: published at once and marked as the owner's, under
/// the admin's display name (the site's name when they chose none; never the login name).
/// Replying to a held comment approves it first, as WordPress does.
pub fn reply_as_owner(
    state: &AppState,
    conn: &mut DbConn,
    id: CommentId,
    admin_id: i64,
    body: &CommentBody,
) -> Result<Comment, AppError> {
    let html = state.renderer.markdown(body.as_str());
    let now = now();
    // Nobody ever holds this token: the owner edits through the admin area.
    let token_hash = secrets::hash_token(&secrets::random_token());
    announcing_tx(conn, &state.changes, |conn, changes| {
        let parent = db::comments::find(conn, id)?.ok_or_else(not_found)?;
        if matches!(parent.status, CommentStatus::Deleted | CommentStatus::Spam) {
            return Err(AppError::new(
                ErrorKind::ParentNotFound,
                "restore this comment before replying to it",
            ));
        }
        if parent.status == CommentStatus::Pending {
            // The same decision as "Approve" in the queue: its mails and spam score follow.
            apply_in_tx(state, conn, changes, &[id], Action::Approve)?;
        }
        let thread = db::threads::find_by_id(conn, parent.thread_id)?.ok_or_else(not_found)?;
        let site = db::sites::find_by_id(conn, thread.site_id)?.ok_or_else(not_found)?;
        let display_name = db::admins::find_display_name(conn, admin_id)?.unwrap_or_default();
        let author = if display_name.is_empty() {
            site.name.as_str()
        } else {
            display_name.as_str()
        };
        let (parent_id, root_id, depth) =
            crate::service::comments::reply_place(conn, &parent, site.settings.max_depth)?;
        let reply = db::comments::insert(
            conn,
            &db::comments::NewCommentRow {
                columns: db::comments::CommentColumns {
                    thread_id: parent.thread_id.0,
                    parent_id,
                    root_id,
                    depth,
                    author_name: author,
                    email: None,
                    website: None,
                    body_markdown: body.as_str(),
                    body_html: html.as_str(),
                    status: CommentStatus::Approved,
                    held_reason: None,
                    created_at: now.naive_utc(),
                    client_ip: None,
                    user_agent: None,
                    edit_token_hash: &token_hash,
                    notify_replies: false,
                    is_owner: true,
                },
                fingerprint: None,
                reader_id: None,
                signed_in_with: None,
            },
        )?;
        // Published at once: whoever asked to hear about replies or follows the page is told,
        // by the same path as every other comment that becomes visible.
        crate::service::notifications::comment_published(state, conn, reply.id)?;
        comments_changed(conn, changes, &[reply.id], true)?;
        webhooks::emit(state, conn, WebhookEvent::Posted, &reply)?;
        Ok(reply)
    })
}

/// Deletes every comment of the site by the author of comment `id` (same e-mail address, or
/// the same name when the comment has no address); returns how many.
pub fn delete_by_author(
    state: &AppState,
    conn: &mut DbConn,
    id: CommentId,
) -> Result<usize, AppError> {
    let now = now().naive_utc();
    announcing_tx(conn, &state.changes, |conn, changes| {
        let c = db::comments::find(conn, id)?.ok_or_else(not_found)?;
        let thread = db::threads::find_by_id(conn, c.thread_id)?.ok_or_else(not_found)?;
        let ids = db::queue::ids_by_author(conn, thread.site_id, c.email.as_deref(), &c.author)?;
        comments_changed(conn, changes, &ids, false)?;
        let mut newly_deleted = Vec::new();
        for id in &ids {
            if let Some(comment) = db::comments::find(conn, *id)?
                && comment.status != CommentStatus::Deleted
            {
                newly_deleted.push(comment.deleted());
            }
        }
        for comment in &newly_deleted {
            webhooks::emit(state, conn, WebhookEvent::Deleted, comment)?;
        }
        let n = db::comments::update_status(
            conn,
            &ids,
            CommentStatus::Deleted,
            Some("deleted with all comments by this author"),
        )?;
        db::queue::upsert_reviews(conn, &ids, now)?;
        Ok(n)
    })
}

pub fn list_bans(conn: &mut DbConn) -> Result<Vec<Ban>, AppError> {
    db::bans::list(conn)
}

/// Parses and stores a ban; new comments matching it go straight to spam.
pub fn add_ban(conn: &mut DbConn, kind: &str, value: &str, note: &str) -> Result<Ban, AppError> {
    let kind = BanKind::parse(kind)?;
    write_tx(conn, |conn| add_ban_in_tx(conn, kind, value, note))
}

/// [`add_ban`] inside the caller's write transaction (the owner mail's ban link uses it).
pub fn add_ban_in_tx(
    conn: &mut DbConn,
    kind: BanKind,
    value: &str,
    note: &str,
) -> Result<Ban, AppError> {
    let rule = BanRule::parse(kind, value)?;
    let note: String = note.trim().chars().take(500).collect();
    db::bans::insert(conn, &rule, &note, now().naive_utc())
}

pub fn lift_ban(conn: &mut DbConn, id: i64) -> Result<(), AppError> {
    write_tx(conn, |conn| {
        if db::bans::delete(conn, id)? {
            Ok(())
        } else {
            Err(AppError::new(ErrorKind::NotFound, "no such ban"))
        }
    })
}

pub fn list_threads(
    conn: &mut DbConn,
    site_id: Option<SiteId>,
    key_contains: Option<&str>,
) -> Result<Vec<ThreadSummary>, AppError> {
    db::queue::list_threads(conn, site_id, key_contains, 200)
}

/// Closes or reopens a thread to new comments.
pub fn set_thread_closed(
    state: &AppState,
    conn: &mut DbConn,
    thread_id: ThreadId,
    closed: bool,
) -> Result<(), AppError> {
    announcing_tx(conn, &state.changes, |conn, changes| {
        db::threads::find_by_id(conn, thread_id)?
            .ok_or_else(|| AppError::new(ErrorKind::ThreadNotFound, "no such thread"))?;
        thread_changed(conn, changes, thread_id)?;
        db::threads::update_closed(conn, thread_id, closed)
    })
}

/// What the dashboard shows.
pub struct Dashboard {
    /// Comments per day, oldest first, for the last 30 days (today included).
    pub per_day: Vec<(NaiveDate, i64)>,
    pub counts: Vec<(Tab, i64)>,
    pub latest: Vec<QueueItem>,
}

pub const CHART_DAYS: i64 = 30;

pub fn dashboard(conn: &mut DbConn) -> Result<Dashboard, AppError> {
    let today = now().date_naive();
    let first = today - Duration::days(CHART_DAYS - 1);
    let since = first.and_hms_opt(0, 0, 0).unwrap_or_default();
    let mut per_day: Vec<(NaiveDate, i64)> = (0..CHART_DAYS)
        .map(|i| (first + Duration::days(i), 0))
        .collect();
    for at in db::queue::created_since(conn, None, since)? {
        let index = (at.date() - first).num_days();
        if let Some(slot) = usize::try_from(index).ok().and_then(|i| per_day.get_mut(i)) {
            slot.1 += 1;
        }
    }
    let recent = QueueFilter {
        statuses: vec![CommentStatus::Approved, CommentStatus::Pending],
        ..QueueFilter::default()
    };
    let rows = db::queue::list(conn, &recent, 10, 0)?;
    let parents = parents_of(conn, &rows)?;
    let mut sites = HashMap::new();
    let mut latest = Vec::with_capacity(rows.len());
    for r in rows {
        let parent = r.comment.parent_id.and_then(|p| parents.get(&p).cloned());
        let identified = identification(conn, &mut sites, &r)?;
        let reader_key = reader_key(conn, &r.comment)?;
        latest.push(item(r, 0, Vec::new(), parent, (identified, reader_key)));
    }
    Ok(Dashboard {
        per_day,
        counts: tab_counts(conn, None)?,
        latest,
    })
}
