//! Posting, editing and deleting comments.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::now;
use crate::changes::Changes;
use crate::db::changes::{comments_changed, write_tx};
use crate::db::{self, DbConn};
use crate::domain::ban::{Author, Ban};
use crate::domain::comment::{self, ClientInfo, Comment, CommentId, CommentStatus, NewComment};
use crate::domain::moderation::{self, AuthorHistory};
use crate::domain::reader::Reader;
use crate::domain::site::{ModerationMode, Site, SiteId};
use crate::domain::thread::{Thread, ThreadKey, ThreadMeta};
use crate::domain::webhook::WebhookEndpoint;
use crate::domain::webhook::WebhookEvent;
use crate::error::{AppError, ErrorKind};
use crate::render::SafeHtml;
use crate::secrets;
use crate::state::AppState;

/// Where a reply to `parent` is stored, as its `(parent_id, root_id, depth)` columns: under the
/// nearest ancestor that leaves room within `max_depth` levels, or at the top level when none does.
pub(crate) fn reply_place(
    conn: &mut DbConn,
    parent: &Comment,
    max_depth: u8,
) -> Result<(Option<i64>, Option<i64>, i32), AppError> {
    let ancestry = db::comments::ancestry(conn, parent.id)?;
    Ok(match comment::reply_position(&ancestry, max_depth) {
        Some((attach_to, depth)) => (
            Some(attach_to.0),
            Some(parent.root_id.unwrap_or(parent.id).0),
            depth,
        ),
        None => (None, None, 0),
    })
}

/// A stored comment and the secret that lets its author change it.
pub struct Posted {
    pub comment: Comment,
    pub edit_token: String,
    pub editable_until: DateTime<Utc>,
}

/// A new comment ready to be stored: parsed, its markdown rendered and its edit token made,
/// so that its write transaction does database work only.
pub struct Submission {
    site: std::sync::Arc<Site>,
    new: NewComment,
    client: ClientInfo,
    reader: Option<Reader>,
    now: DateTime<Utc>,
    token: String,
    token_hash: String,
    html: SafeHtml,
}

/// Everything a post needs before its transaction (the CPU work: rendering, the token).
pub fn prepare(
    state: &AppState,
    site: std::sync::Arc<Site>,
    new: NewComment,
    client: ClientInfo,
    reader: Option<Reader>,
) -> Result<Submission, AppError> {
    if reader.is_none() && !site.settings.anonymous_allowed {
        return Err(sign_in_required());
    }
    let token = secrets::random_token();
    let token_hash = secrets::hash_token(&token);
    let html = state.renderer.markdown(new.body.as_str());
    Ok(Submission {
        site,
        new,
        client,
        reader,
        now: now(),
        token,
        token_hash,
        html,
    })
}

/// Stores a new comment or reply, creating the thread with its first comment.
pub fn post(
    state: &AppState,
    conn: &mut DbConn,
    site: &Site,
    new: NewComment,
    client: &ClientInfo,
    reader: Option<&Reader>,
) -> Result<Posted, AppError> {
    let submission = prepare(
        state,
        std::sync::Arc::new(site.clone()),
        new,
        client.clone(),
        reader.cloned(),
    )?;
    let comment = write_tx(conn, &state.changes, |conn, changes| {
        store_one(state, conn, changes, &submission)
    })?;
    Ok(submission.posted(comment))
}

/// Stores a prepared comment: in its own transaction, or on SQLite through the post writer
/// (`service::post_writer`), which commits the posts waiting at the same time in one
/// transaction. Answers once the comment is committed and announced.
pub async fn post_submitted(state: &AppState, submission: Submission) -> Result<Posted, AppError> {
    let submission = std::sync::Arc::new(submission);
    let comment = match &state.posts {
        Some(writer) => writer.submit(state, submission.clone()).await?,
        None => {
            let submitted = submission.clone();
            super::blocking(state, move |state, conn| {
                write_tx(conn, &state.changes, |conn, changes| {
                    store_one(state, conn, changes, &submitted)
                })
            })
            .await?
        }
    };
    Ok(submission.posted(comment))
}

impl Submission {
    /// The order in which a batch stores its posts: by site and thread key, so that every
    /// batch creates and locks threads in the same order (two PostgreSQL writers creating the
    /// same new threads in opposite orders would deadlock).
    pub(super) fn thread_order(&self) -> (i64, &str) {
        (self.site.id.0, self.new.thread_key.as_str())
    }

    fn posted(&self, comment: Comment) -> Posted {
        Posted {
            editable_until: editable_until(&self.site, &comment),
            comment,
            edit_token: self.token.clone(),
        }
    }
}

/// What the posts of one transaction read alike, read once: the bans and the sites' webhook
/// endpoints. Within one write transaction they are as current as when the first post read them
/// (a ban committed meanwhile applies from the next transaction on, as if this one had begun a
/// moment earlier).
/// It also holds the comments stored and kept, for their threads' counters, which the
/// transaction updates once at its end ([`Shared::finish`]).
#[derive(Default)]
pub(super) struct Shared {
    bans: Option<Vec<Ban>>,
    endpoints: HashMap<SiteId, Vec<WebhookEndpoint>>,
    counts: db::comments::PendingCounts,
    /// The threads of the posts kept so far, by site and key: the next post to the same page
    /// reads its thread from here. Only kept posts' threads: a refused post's savepoint may
    /// have rolled back the thread it created.
    threads: HashMap<(SiteId, String), Thread>,
    /// The thread of the post being stored, until [`Shared::kept`].
    storing: Option<Thread>,
    /// Per site: whether its spam score can judge yet.
    spam_ready: HashMap<SiteId, bool>,
}

impl Shared {
    /// Counts a comment [`store`] returned, once its work is kept (its savepoint released, or
    /// in a transaction of its own).
    pub(super) fn kept(&mut self, comment: &Comment) {
        self.counts.add(comment);
        if let Some(thread) = self.storing.take() {
            self.threads
                .insert((thread.site_id, thread.key.clone()), thread);
        }
    }

    /// Whether `site`'s spam score can judge yet (read once per transaction; nothing a post
    /// does changes it).
    fn spam_ready(&mut self, conn: &mut DbConn, site: &Site) -> Result<bool, AppError> {
        if site.settings.spam_threshold_percent == 0 {
            return Ok(false);
        }
        let ready = match self.spam_ready.entry(site.id) {
            Entry::Occupied(known) => *known.get(),
            Entry::Vacant(missing) => *missing.insert(db::spam::model_is_ready(conn, site.id)?),
        };
        Ok(ready)
    }

    /// The post's thread: a kept post's of this transaction, or found (or created) in the
    /// database, with the title and address it lacked filled in from `meta`.
    fn thread(
        &mut self,
        conn: &mut DbConn,
        site: SiteId,
        key: &ThreadKey,
        meta: &ThreadMeta,
        now: DateTime<Utc>,
    ) -> Result<Thread, AppError> {
        self.storing = None;
        let known = self.threads.get(&(site, key.as_str().to_string())).cloned();
        let mut thread = match known {
            Some(thread) => thread,
            None => db::threads::find_or_insert(conn, site, key, meta, now.naive_utc())?,
        };
        db::threads::update_missing_meta(conn, &thread, meta)?;
        if thread.title.is_empty() {
            thread.title.clone_from(&meta.title);
        }
        if thread.url.is_empty() {
            thread.url.clone_from(&meta.url);
        }
        self.storing = Some(thread.clone());
        Ok(thread)
    }

    /// The end of the transaction's work: the threads' counters.
    pub(super) fn finish(self, conn: &mut DbConn) -> Result<(), AppError> {
        self.counts.apply(conn)
    }

    fn bans(&mut self, conn: &mut DbConn) -> Result<&[Ban], AppError> {
        if self.bans.is_none() {
            self.bans = Some(db::bans::list(conn)?);
        }
        Ok(self.bans.as_deref().unwrap_or_default())
    }

    fn endpoints(
        &mut self,
        conn: &mut DbConn,
        site: SiteId,
    ) -> Result<&[WebhookEndpoint], AppError> {
        let endpoints = match self.endpoints.entry(site) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(missing) => missing.insert(db::webhooks::list_endpoints(conn, site)?),
        };
        Ok(endpoints)
    }
}

/// One post in the caller's write transaction, counted.
pub(super) fn store_one(
    state: &AppState,
    conn: &mut DbConn,
    changes: &mut Changes,
    submission: &Submission,
) -> Result<Comment, AppError> {
    let mut shared = Shared::default();
    let comment = store(state, conn, changes, &mut shared, submission)?;
    shared.kept(&comment);
    shared.finish(conn)?;
    Ok(comment)
}

/// The work of one post inside a write transaction (its own, or a batch's savepoint). The
/// comment is not in its thread's counter yet: see [`Shared::kept`].
pub(super) fn store(
    state: &AppState,
    conn: &mut DbConn,
    changes: &mut Changes,
    shared: &mut Shared,
    submission: &Submission,
) -> Result<Comment, AppError> {
    let Submission {
        site,
        new,
        client,
        reader,
        now,
        token: _,
        token_hash,
        html,
    } = submission;
    let (site, now, reader): (&Site, _, _) = (site, *now, reader.as_ref());
    {
        let thread = shared.thread(conn, site.id, &new.thread_key, &new.thread_meta, now)?;
        if thread.closed || site.settings.auto_closed(thread.created_at, now) {
            return Err(AppError::new(
                ErrorKind::ThreadClosed,
                "comments are closed on this page",
            ));
        }
        let (parent_id, root_id, depth) = match new.parent_id {
            None => (None, None, 0),
            Some(parent_id) => {
                let parent = db::comments::find(conn, parent_id)?
                    .filter(|p| p.thread_id == thread.id && p.status == CommentStatus::Approved)
                    .ok_or_else(|| {
                        AppError::new(
                            ErrorKind::ParentNotFound,
                            "the comment you reply to is not in this thread or not published",
                        )
                        .with_field("parent_id")
                    })?;
                reply_place(conn, &parent, site.settings.max_depth)?
            }
        };
        super::spam::refuse(state, conn, site, new, client, now)?;
        let history = author_history(conn, site, new, reader)?;
        let bans: Vec<_> = shared.bans(conn)?.iter().filter_map(Ban::rule).collect();
        let submission = moderation::Submission {
            author: Author {
                name: new.author.as_str(),
                email: new.email.as_ref().map(|e| e.as_str()),
                ip: Some(client.ip),
                reader: reader.map(|r| &r.identity),
            },
            website: new.website.as_ref().map(|w| w.as_str()),
            body: new.body.as_str(),
        };
        let model_ready = shared.spam_ready(conn, site)?;
        let verdict = moderation::judge(&site.settings, history, &bans, &submission).and(
            super::spam::assess(state, conn, site, new, now, model_ready)?,
        );
        let fingerprint = super::spam::fingerprint(new);
        let comment = db::comments::insert_counted_later(
            conn,
            &db::comments::NewCommentRow {
                columns: db::comments::CommentColumns {
                    thread_id: thread.id.0,
                    parent_id,
                    root_id,
                    depth,
                    author_name: new.author.as_str(),
                    email: new.email.as_ref().map(|e| e.as_str()),
                    website: new.website.as_ref().map(|w| w.as_str()),
                    body_markdown: new.body.as_str(),
                    body_html: html.as_str(),
                    status: verdict.status,
                    held_reason: verdict.reason.as_deref(),
                    created_at: now.naive_utc(),
                    client_ip: Some(&client.ip.to_string()),
                    user_agent: client.user_agent.as_deref(),
                    edit_token_hash: token_hash,
                    notify_replies: new.notify_replies,
                    is_owner: false,
                },
                fingerprint: Some(&fingerprint),
                reader_id: reader.map(|r| r.id.0),
                signed_in_with: reader.map(|r| r.identity.provider.as_str()),
            },
        )?;
        super::notifications::comment_posted(
            state,
            conn,
            site,
            &thread,
            &comment,
            new.notify_thread,
        )?;
        changes.comment_stored(site.id, &thread, &comment);
        // Like mail, spam caught by the defences announces nothing (no chat message per bot).
        let events: &[WebhookEvent] = match comment.status {
            CommentStatus::Spam => &[],
            CommentStatus::Pending => &[WebhookEvent::Posted, WebhookEvent::Held],
            _ => &[WebhookEvent::Posted],
        };
        if !events.is_empty() {
            let endpoints = shared.endpoints(conn, site.id)?;
            super::webhooks::emit_to(conn, endpoints, &thread, events, &comment)?;
        }
        Ok(comment)
    }
}

/// What the moderation mode needs to know about the author: only first-time moderation looks
/// at it, and it stops at the first fact that lets the comment through (each is a query).
fn author_history(
    conn: &mut DbConn,
    site: &Site,
    new: &NewComment,
    reader: Option<&Reader>,
) -> Result<AuthorHistory, AppError> {
    let mut history = AuthorHistory {
        trusted_sign_in: reader.is_some() && site.settings.signed_in_skip_moderation,
        ..AuthorHistory::default()
    };
    let Some(email) = &new.email else {
        return Ok(history);
    };
    if site.settings.moderation != ModerationMode::FirstTime || history.trusted_sign_in {
        return Ok(history);
    }
    history.has_approved_comment =
        db::comments::email_has_approved(conn, site.id, &email.normalized())?;
    if !history.has_approved_comment {
        history.address_confirmed = super::notifications::is_confirmed(conn, site.id, email)?;
    }
    Ok(history)
}

/// What shows that a request comes from a comment's author.
#[derive(Debug, Clone, Copy)]
pub enum AuthorProof<'a> {
    /// The edit token handed out when the comment was posted.
    EditToken(&'a str),
    /// The signed-in reader who posted it.
    Reader(&'a Reader),
}

/// 403 `sign_in_required`: the site takes comments only from signed-in readers.
pub fn sign_in_required() -> AppError {
    AppError::new(
        ErrorKind::SignInRequired,
        "this site takes comments only from signed-in readers; sign in first",
    )
}

/// Replaces the body of the author's own comment inside the edit window.
pub fn edit(
    state: &AppState,
    conn: &mut DbConn,
    site: &Site,
    id: CommentId,
    proof: AuthorProof<'_>,
    body: &crate::domain::fields::CommentBody,
) -> Result<(Comment, DateTime<Utc>), AppError> {
    let html = state.renderer.markdown(body.as_str());
    let now = now();
    let comment = write_tx(conn, &state.changes, |conn, changes| {
        let current = authorize(conn, site, id, proof, now)?;
        comments_changed(conn, changes, &[current.id], false)?;
        let verdict = judge_edit(conn, site, &current, body.as_str())?;
        let comment =
            db::comments::update_body(conn, current.id, body.as_str(), &html, now.naive_utc())?;
        // The stricter of where the comment stands and what the new text earns: an edit can
        // send a comment back to the queue (or to spam), never out of it.
        let current_verdict = moderation::Verdict {
            status: comment.status,
            reason: comment.held_reason.clone(),
        };
        let after = current_verdict.and(verdict);
        if after.status == comment.status {
            return Ok(comment);
        }
        let reason = after.reason.map(|r| format!("after an edit: {r}"));
        db::comments::update_status(conn, &[comment.id], after.status, reason.as_deref())?;
        let comment = db::comments::find(conn, comment.id)?
            .ok_or_else(|| AppError::new(ErrorKind::CommentNotFound, "no such comment"))?;
        if comment.status == CommentStatus::Pending {
            super::webhooks::emit(state, conn, WebhookEvent::Held, &comment)?;
        }
        Ok(comment)
    })?;
    let until = editable_until(site, &comment);
    Ok((comment, until))
}

/// The markdown source of the author's own comment, for its edit form (inside the edit
/// window; the thread pages carry only the rendered HTML).
pub fn source(
    conn: &mut DbConn,
    site: &Site,
    id: CommentId,
    proof: AuthorProof<'_>,
) -> Result<String, AppError> {
    Ok(authorize(conn, site, id, proof, now())?.body_markdown)
}

/// Deletes the author's own comment inside the edit window. A comment with replies becomes a
/// contentless placeholder so the replies keep their place.
pub fn delete(
    state: &AppState,
    conn: &mut DbConn,
    site: &Site,
    id: CommentId,
    proof: AuthorProof<'_>,
) -> Result<(), AppError> {
    let now = now();
    write_tx(conn, &state.changes, |conn, changes| {
        let comment = authorize(conn, site, id, proof, now)?;
        comments_changed(conn, changes, &[id], false)?;
        super::webhooks::emit(state, conn, WebhookEvent::Deleted, &comment.deleted())?;
        db::comments::remove(conn, id)
    })
}

/// The comment, if `token` is its edit token and the window is still open.
/// The posting rules applied to an edited text: bans, reject and hold words, links and the
/// spam score. The author's standing is the comment's own: a published comment does not go back
/// to the queue for being a first comment.
fn judge_edit(
    conn: &mut DbConn,
    site: &Site,
    current: &Comment,
    body: &str,
) -> Result<moderation::Verdict, AppError> {
    let has_approved_comment = current.status == CommentStatus::Approved
        || match &current.email {
            Some(email) => db::comments::email_has_approved(conn, site.id, &email.to_lowercase())?,
            None => false,
        };
    let history = AuthorHistory {
        has_approved_comment,
        address_confirmed: has_approved_comment,
        trusted_sign_in: false,
    };
    let bans = db::bans::list(conn)?;
    let bans: Vec<_> = bans.iter().filter_map(Ban::rule).collect();
    let ip = current.client_ip.as_deref().and_then(|ip| ip.parse().ok());
    let submission = moderation::Submission {
        author: Author {
            name: &current.author,
            email: current.email.as_deref(),
            ip,
            reader: None,
        },
        website: current.website.as_deref(),
        body,
    };
    let rules = moderation::judge(&site.settings, history, &bans, &submission);
    let score = super::spam::score(
        conn,
        site,
        body,
        &current.author,
        current.email.as_deref(),
        current.website.as_deref(),
    )?;
    Ok(rules.and(score))
}

fn authorize(
    conn: &mut DbConn,
    site: &Site,
    id: CommentId,
    proof: AuthorProof<'_>,
    now: DateTime<Utc>,
) -> Result<Comment, AppError> {
    let comment = db::comments::find_in_site(conn, site.id, id)?
        .filter(|c| c.status != CommentStatus::Deleted)
        .ok_or_else(|| AppError::new(ErrorKind::CommentNotFound, "no such comment"))?;
    match proof {
        AuthorProof::EditToken(token) => {
            let stored_hash = db::comments::find_edit_token_hash(conn, id)?.unwrap_or_default();
            if !secrets::token_matches_hash(token, &stored_hash) {
                return Err(AppError::new(
                    ErrorKind::InvalidEditToken,
                    "this edit token does not match",
                ));
            }
        }
        AuthorProof::Reader(reader) => {
            if comment.reader_id != Some(reader.id) {
                return Err(AppError::new(
                    ErrorKind::InvalidEditToken,
                    "this comment was not posted by the signed-in reader",
                ));
            }
        }
    }
    if now > editable_until(site, &comment) {
        return Err(AppError::new(
            ErrorKind::EditWindowClosed,
            "the time to edit or delete this comment is over",
        ));
    }
    Ok(comment)
}

fn window(site: &Site) -> Duration {
    Duration::seconds(i64::from(site.settings.edit_window_secs))
}

/// Until when the author may edit or delete a comment: the site's edit window, or for a
/// signed-in reader's comment `signed_in_edit_secs` (0: always, shown as the year 9999).
pub fn editable_until(site: &Site, comment: &Comment) -> DateTime<Utc> {
    if comment.reader_id.is_none() {
        return comment.created_at + window(site);
    }
    match site.settings.signed_in_edit_secs {
        0 => Utc
            .with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
            .single()
            .unwrap_or(DateTime::<Utc>::MAX_UTC),
        secs => comment.created_at + Duration::seconds(i64::from(secs)),
    }
}
