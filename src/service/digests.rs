//! Daily and weekly digests (`docs/mail.md`, "Digests"). Comments that would have been mailed
//! at once to a recipient who chose a digest wait in `mail_digest_items`
//! (`notifications::comment_published` and the owner's alert put them there). Once the
//! recipient's period has ended (by the state's clock), [`make_due`] turns them, in ONE
//! transaction per recipient, into one outbox mail and marks them as digested; the outbox
//! worker then sends it with its lease and retries. A crash before the commit leaves the
//! comments waiting; after it, the digest is an outbox row like any other mail: nothing is
//! lost and nothing is made twice. Several processes may run this at once: the digest's
//! unique key (recipient, frequency, period end) lets only one of them make it.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::notifications::{about, enqueue, moderation_links, unsubscribe_url};
use crate::db::digests::DigestItem;
use crate::db::{self, DbConn, write_tx};
use crate::domain::comment::{Comment, CommentStatus};
use crate::domain::mail::{DigestReason, DigestRecipient, Frequency};
use crate::domain::site::{Site, SiteId};
use crate::domain::thread::Thread;
use crate::error::AppError;
use crate::notify::compose::{DigestComment, DigestPage, Mail};
use crate::state::AppState;

/// How often the background loop looks for digests to make. Periods end on the hour, so a
/// digest leaves at most this long after its period.
const POLL: Duration = Duration::from_secs(60);

/// Makes every digest whose period has ended at the clock's now; returns how many mails it
/// put in the outbox.
pub fn make_due(state: &AppState, conn: &mut DbConn) -> Result<usize, AppError> {
    if !state.config.mail.enabled() {
        return Ok(0);
    }
    let now = state.clock.now();
    let schedule = state.config.mail.digest_schedule();
    let mut made = 0;
    for frequency in [Frequency::Daily, Frequency::Weekly] {
        let Some(end) = schedule.period_end(frequency, now) else {
            continue;
        };
        for recipient in db::digests::list_due_recipients(conn, frequency, end.naive_utc())? {
            if make_one(state, conn, recipient, frequency, end, now)? {
                made += 1;
            }
        }
    }
    Ok(made)
}

/// One recipient's digest for the period ending at `end`, in one transaction; `false` when
/// another process made it, or nothing in it is still to be sent.
fn make_one(
    state: &AppState,
    conn: &mut DbConn,
    recipient: DigestRecipient,
    frequency: Frequency,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    write_tx(conn, |conn| {
        let Some(digest) = db::digests::insert_digest(
            conn,
            recipient,
            frequency,
            end.naive_utc(),
            now.naive_utc(),
        )?
        else {
            return Ok(false);
        };
        let items = db::digests::take_items(conn, recipient, frequency, end.naive_utc(), digest)?;
        let outbox = match recipient {
            DigestRecipient::Address(address) => {
                reader_digest(state, conn, address, frequency, &items)?
            }
            DigestRecipient::Owner(site) => owner_digest(state, conn, site, frequency, &items)?,
        };
        match outbox {
            Some(outbox) => {
                db::digests::update_digest_outbox(conn, digest, outbox)?;
                Ok(true)
            }
            None => Ok(false),
        }
    })
}

/// The comments of `items` still worth telling about, by page (pages in the order of their
/// first comment, comments oldest first).
fn pages(
    conn: &mut DbConn,
    items: &[DigestItem],
    keep: impl Fn(&mut DbConn, &DigestItem, &Comment) -> Result<bool, AppError>,
) -> Result<Vec<(Thread, Vec<Comment>)>, AppError> {
    let mut pages: Vec<(Thread, Vec<Comment>)> = Vec::new();
    for item in items {
        let Some(comment) = db::comments::find(conn, item.comment)? else {
            continue;
        };
        if !keep(conn, item, &comment)? {
            continue;
        }
        match pages.iter_mut().find(|(t, _)| t.id == comment.thread_id) {
            Some((_, comments)) => comments.push(comment),
            None => {
                let Some(thread) = db::threads::find_by_id(conn, comment.thread_id)? else {
                    continue;
                };
                pages.push((thread, vec![comment]));
            }
        }
    }
    for (_, comments) in &mut pages {
        comments.sort_by_key(|c| (c.created_at, c.id.0));
    }
    Ok(pages)
}

fn digest_page(thread: &Thread, comments: Vec<Comment>, owner: Option<&AppState>) -> DigestPage {
    DigestPage {
        title: if thread.title.is_empty() {
            thread.key.clone()
        } else {
            thread.title.clone()
        },
        url: (!thread.url.is_empty())
            .then(|| thread.url.split('#').next().unwrap_or_default().to_string()),
        comments: comments
            .into_iter()
            .map(|comment| {
                let quoted = about(thread, &comment);
                let (held, actions) = match owner {
                    Some(state) => (
                        Some(comment.status == CommentStatus::Pending),
                        moderation_links(state, &comment),
                    ),
                    None => (None, Vec::new()),
                };
                DigestComment {
                    comment: quoted.comment,
                    written: comment.created_at,
                    url: quoted.url,
                    held,
                    actions,
                }
            })
            .collect(),
    }
}

fn site_of(conn: &mut DbConn, id: SiteId) -> Result<Option<Site>, AppError> {
    db::sites::find_by_id(conn, id)
}

/// A reader's digest: the comments still published, on pages still followed (replies while
/// the address still takes mail); `None` when nothing is left or the address stopped mail.
fn reader_digest(
    state: &AppState,
    conn: &mut DbConn,
    address: i64,
    frequency: Frequency,
    items: &[DigestItem],
) -> Result<Option<i64>, AppError> {
    let Some(address) = db::mail::find_address(conn, address)? else {
        return Ok(None);
    };
    if !address.may_receive() {
        return Ok(None);
    }
    let Some(site) = site_of(conn, address.site_id)? else {
        return Ok(None);
    };
    let found = pages(conn, items, |conn, item, comment| {
        if comment.status != CommentStatus::Approved {
            return Ok(false);
        }
        Ok(match item.reason {
            DigestReason::Thread => {
                db::mail::find_subscription_frequency(conn, comment.thread_id.0, &address)?
                    .is_some()
            }
            DigestReason::Reply | DigestReason::Owner => true,
        })
    })?;
    if found.is_empty() {
        return Ok(None);
    }
    let pages = found
        .into_iter()
        .map(|(thread, comments)| digest_page(&thread, comments, None))
        .collect();
    let mail = Mail::Digest {
        frequency,
        pages,
        unsubscribe_url: unsubscribe_url(state, address.id, None),
    };
    enqueue(state, conn, &site, &address.email, mail, None)
}

/// The owner's digest of a site: new and held comments not deleted or marked as spam since,
/// each with its moderation links; `None` when nothing is left or no owner address is set.
fn owner_digest(
    state: &AppState,
    conn: &mut DbConn,
    site: SiteId,
    frequency: Frequency,
    items: &[DigestItem],
) -> Result<Option<i64>, AppError> {
    let owner = state.config.mail.owner.clone();
    if owner.is_empty() {
        return Ok(None);
    }
    let Some(site) = site_of(conn, site)? else {
        return Ok(None);
    };
    let found = pages(conn, items, |_, _, comment| {
        Ok(matches!(
            comment.status,
            CommentStatus::Approved | CommentStatus::Pending
        ))
    })?;
    if found.is_empty() {
        return Ok(None);
    }
    let pages = found
        .into_iter()
        .map(|(thread, comments)| digest_page(&thread, comments, Some(state)))
        .collect();
    let mail = Mail::OwnerDigest { frequency, pages };
    enqueue(state, conn, &site, &owner, mail, None)
}

/// Runs [`make_due`] every minute in the background (on processes that run the mail worker).
pub fn spawn(state: AppState) {
    if !state.config.mail.enabled() || !state.config.mail.worker {
        return;
    }
    actix_web::rt::spawn(async move {
        let mut interval = actix_web::rt::time::interval(POLL);
        loop {
            interval.tick().await;
            match super::blocking(&state, make_due).await {
                Ok(0) => {}
                Ok(made) => tracing::info!(made, "digests made"),
                Err(e) => tracing::warn!(error = %e, "could not make digests"),
            }
        }
    });
}
