//! Webmentions: accepting a request (checked, then queued for the worker) and recording what
//! the verification of its source found: a new or updated comment of kind `webmention`, put
//! through the same moderation rules as a written comment, or the removal of one whose source
//! is gone or no longer links here.

use chrono::{DateTime, Utc};
use url::Url;

use super::now;
use crate::changes::Changes;
use crate::db::changes::{comments_changed, write_tx as write_tx_announced};
use crate::db::{self, DbConn, write_tx};
use crate::domain::ban::{Author, Ban};
use crate::domain::comment::{BodyFormat, CommentId, CommentKind, CommentStatus};
use crate::domain::moderation::{self, AuthorHistory, Verdict};
use crate::domain::site::Site;
use crate::domain::thread::{ThreadKey, ThreadMeta};
use crate::domain::webhook::WebhookEvent;
use crate::domain::webmention::{Mention, MentionRequest};
use crate::error::{AppError, ErrorKind};
use crate::render::SafeHtml;
use crate::secrets;
use crate::state::AppState;
use crate::webmention::page::MentionContent;

/// Queues a checked mention for verification (again, when the same source and target came
/// before: the source may have changed).
pub fn accept(
    conn: &mut DbConn,
    site: &Site,
    request: &MentionRequest,
    client_ip: std::net::IpAddr,
) -> Result<(), AppError> {
    let now = now().naive_utc();
    write_tx(conn, |conn| {
        db::webmentions::upsert(
            conn,
            site.id,
            request.source.as_str(),
            request.target.as_str(),
            Some(&client_ip.to_string()),
            now,
        )
    })
}

/// What the source page showed.
#[derive(Debug)]
pub enum Verified {
    /// The source links to the target and says this.
    Links(MentionContent),
    /// The source answered 410 Gone.
    Gone,
    /// The source was fetched but does not link to the target.
    NoLink,
}

/// What recording a verification did (the mention's outcome).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Stored(CommentStatus),
    Updated,
    Deleted,
    Refused,
}

impl Recorded {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stored(_) => "stored",
            Self::Updated => "updated",
            Self::Deleted => "deleted",
            Self::Refused => "refused",
        }
    }
}

/// Records a verification of `mention` (request number `mention.requests`) in one transaction:
/// the comment, the owner's mail, and the mention's new state.
pub fn record(
    state: &AppState,
    conn: &mut DbConn,
    mention: &Mention,
    verified: Verified,
) -> Result<Recorded, AppError> {
    let now = now();
    write_tx_announced(conn, &state.changes, |conn, changes| {
        let site = db::sites::find_by_id(conn, mention.site_id)?
            .ok_or_else(|| AppError::new(ErrorKind::SiteNotFound, "the site is gone"))?;
        // The comment this mention made earlier, if it is still there.
        let existing = match mention.comment_id {
            Some(id) => db::comments::find(conn, id)?.filter(|c| {
                c.kind == CommentKind::Webmention && c.status != CommentStatus::Deleted
            }),
            None => None,
        };
        let (recorded, comment) = match verified {
            Verified::Gone | Verified::NoLink => {
                if let Some(comment) = &existing {
                    comments_changed(conn, changes, &[comment.id], false)?;
                    super::webhooks::emit(state, conn, WebhookEvent::Deleted, &comment.deleted())?;
                    remove(conn, comment.id)?;
                }
                let recorded = if existing.is_some() {
                    Recorded::Deleted
                } else {
                    Recorded::Refused
                };
                (recorded, None)
            }
            Verified::Links(content) => {
                let html = body_html(state, &content);
                let source = content
                    .content_html
                    .as_deref()
                    .unwrap_or(&content.content_text);
                let verdict = judge(state, conn, &site, mention, &content)?;
                match existing {
                    Some(current) => {
                        let comment = db::comments::update_mention(
                            conn,
                            current.id,
                            &content.author_name,
                            content.author_url.as_deref(),
                            source,
                            &html,
                            now.naive_utc(),
                        )?;
                        // Like an edit: the new text may send it back to the queue, never out.
                        let after = Verdict {
                            status: comment.status,
                            reason: comment.held_reason.clone(),
                        }
                        .and(verdict);
                        comments_changed(conn, changes, &[comment.id], false)?;
                        if after.status != comment.status {
                            let reason = after.reason.map(|r| format!("after an update: {r}"));
                            db::comments::update_status(
                                conn,
                                &[comment.id],
                                after.status,
                                reason.as_deref(),
                            )?;
                        }
                        (Recorded::Updated, Some(comment.id))
                    }
                    None => {
                        let comment = insert(
                            state, conn, changes, &site, mention, &content, source, &html, verdict,
                            now,
                        )?;
                        (Recorded::Stored(comment.1), Some(comment.0))
                    }
                }
            }
        };
        let outcome = match (&recorded, &verified_reason(recorded)) {
            (_, Some(reason)) => reason.clone(),
            (r, None) => r.as_str().to_string(),
        };
        db::webmentions::update_done(
            conn,
            mention.id,
            mention.requests,
            &outcome,
            comment,
            now.naive_utc(),
        )?;
        Ok(recorded)
    })
}

fn verified_reason(recorded: Recorded) -> Option<String> {
    (recorded == Recorded::Refused)
        .then(|| "refused: the source does not link to the target".to_string())
}

/// Records a failed fetch: due again at `next`, or given up.
pub fn record_failure(
    conn: &mut DbConn,
    mention: &Mention,
    next: Option<DateTime<Utc>>,
    error: &str,
) -> Result<(), AppError> {
    let now = now().naive_utc();
    write_tx(conn, |conn| {
        db::webmentions::update_attempt_failed(
            conn,
            mention.id,
            mention.requests,
            mention.attempts.saturating_add(1),
            next.map(|n| n.naive_utc()),
            error,
            now,
        )
    })
}

/// The mention's body: the `h-entry`'s content through the sanitizer, or its text escaped.
fn body_html(state: &AppState, content: &MentionContent) -> SafeHtml {
    match &content.content_html {
        Some(html) => state.renderer.html(html),
        None => state.renderer.html(&format!(
            "<p>{}</p>",
            ammonia::clean_text(&crate::webmention::page::excerpt(&content.content_text))
        )),
    }
}

/// The posting rules, applied to what the source says: bans (by the sender's address and the
/// author's name), reject and hold words, links, the spam score and the site's moderation mode.
fn judge(
    _state: &AppState,
    conn: &mut DbConn,
    site: &Site,
    mention: &Mention,
    content: &MentionContent,
) -> Result<Verdict, AppError> {
    let bans = db::bans::list(conn)?;
    let bans: Vec<_> = bans.iter().filter_map(Ban::rule).collect();
    let ip = mention.client_ip.as_deref().and_then(|ip| ip.parse().ok());
    let submission = moderation::Submission {
        author: Author {
            name: &content.author_name,
            email: None,
            ip,
            reader: None,
        },
        website: content.author_url.as_deref(),
        body: &content.content_text,
    };
    // A mention has no e-mail address to be known by: on first-time sites each one waits
    // for the owner.
    let rules = moderation::judge(&site.settings, AuthorHistory::default(), &bans, &submission);
    let score = super::spam::score(
        conn,
        site,
        &content.content_text,
        &content.author_name,
        None,
        content.author_url.as_deref(),
    )?;
    Ok(rules.and(score))
}

#[expect(
    clippy::too_many_arguments,
    reason = "one call site, every value distinct"
)]
fn insert(
    state: &AppState,
    conn: &mut DbConn,
    changes: &mut Changes,
    site: &Site,
    mention: &Mention,
    content: &MentionContent,
    source: &str,
    html: &SafeHtml,
    verdict: Verdict,
    now: DateTime<Utc>,
) -> Result<(CommentId, CommentStatus), AppError> {
    let thread = thread_for(state, conn, site, &mention.target, now)?;
    // A date from the page, unless it claims the future.
    let created_at = content
        .published
        .filter(|t| *t <= now)
        .map(crate::domain::comment::truncate_to_micros)
        .unwrap_or(now);
    let token_hash = secrets::hash_token(&secrets::random_token());
    let comment = db::comments::insert_of_kind(
        conn,
        &db::comments::NewCommentRow {
            columns: db::comments::CommentColumns {
                thread_id: thread.id.0,
                parent_id: None,
                root_id: None,
                depth: 0,
                author_name: &content.author_name,
                email: None,
                website: content.author_url.as_deref(),
                body_markdown: source,
                body_html: html.as_str(),
                status: verdict.status,
                held_reason: verdict.reason.as_deref(),
                created_at: created_at.naive_utc(),
                client_ip: mention.client_ip.as_deref(),
                user_agent: None,
                edit_token_hash: &token_hash,
                notify_replies: false,
                is_owner: false,
            },
            fingerprint: None,
            reader_id: None,
            signed_in_with: None,
        },
        CommentKind::Webmention,
        if content.content_html.is_some() {
            BodyFormat::Html
        } else {
            BodyFormat::Markdown
        },
    )?;
    super::notifications::comment_posted(state, conn, site, &thread, &comment, false)?;
    // Readers see it only once published (as a comment); hooks hear of every mention but spam.
    changes.comment_stored(site.id, &thread, &comment);
    if comment.status != CommentStatus::Spam {
        super::webhooks::emit(state, conn, WebhookEvent::Posted, &comment)?;
    }
    if comment.status == CommentStatus::Pending {
        super::webhooks::emit(state, conn, WebhookEvent::Held, &comment)?;
    }
    state.metrics.comment_posted(comment.status);
    Ok((comment.id, comment.status))
}

/// The thread of the target page: the one whose URL it is, else the one keyed by its path
/// (as the embed keys threads), created when there is none yet.
fn thread_for(
    state: &AppState,
    conn: &mut DbConn,
    site: &Site,
    target: &str,
    now: DateTime<Utc>,
) -> Result<crate::domain::thread::Thread, AppError> {
    if let Some(thread) = db::threads::find_by_url(conn, site.id, target)? {
        return Ok(thread);
    }
    let url = Url::parse(target)
        .map_err(|_| AppError::new(ErrorKind::InvalidWebmention, "the target is not a URL"))?;
    let limits = &state.config.limits;
    let key = ThreadKey::parse(url.path(), limits.thread_key)?;
    let meta = ThreadMeta::parse(
        None,
        Some(target.to_string()),
        limits.thread_title,
        limits.thread_url,
    )?;
    let thread = db::threads::find_or_insert(conn, site.id, &key, &meta, now.naive_utc())?;
    db::threads::update_missing_meta(conn, &thread, &meta)?;
    Ok(thread)
}

/// Takes a mention's comment down: deleted outright, or a placeholder when it has replies.
fn remove(conn: &mut DbConn, id: CommentId) -> Result<(), AppError> {
    db::comments::remove(conn, id)
}
