//! What mail a comment causes, always queued in the outbox inside the caller's transaction:
//! the confirmation an address needs, the owner's alert, and the readers' notifications.
//!
//! Every way a comment becomes visible (posted approved, approved in the queue or by the
//! owner mail's link, restored, bulk-approved, or written by the owner in the admin area) ends
//! in [`comment_published`], the one path to reader notifications.

use std::collections::HashSet;

use chrono::Duration;

use super::now;
use crate::config::OwnerNotifications;
use crate::db::digests::DigestItem;
use crate::db::mail::NewOutboxRow;
use crate::db::{self, DbConn, write_tx};
use crate::domain::comment::{Comment, CommentId, CommentStatus};
use crate::domain::fields::Email;
use crate::domain::mail::{DigestReason, DigestRecipient, Frequency, MailAddress};
use crate::domain::site::{Site, SiteId};
use crate::domain::thread::Thread;
use crate::error::{AppError, ErrorKind};
use crate::notify::compose::{About, Mail, MailKind, Sender, compose};
use crate::notify::links::{Link, ModAction};
use crate::notify::view::Quoted;
use crate::state::AppState;

/// How often one address may ask for a "manage my comments" mail.
const MANAGE_INTERVAL_MINUTES: i64 = 10;

fn link_url(state: &AppState, path: &str, link: &Link) -> String {
    format!(
        "{}/mail/{path}/{}",
        state.config.public_url(state.config.server.port),
        link.sign(&state.keys)
    )
}

fn expires(state: &AppState) -> i64 {
    (now() + Duration::days(i64::from(state.config.mail.link_expiry_days))).timestamp()
}

pub(crate) fn unsubscribe_url(state: &AppState, address: i64, thread: Option<i64>) -> String {
    link_url(state, "unsubscribe", &Link::Unsubscribe { address, thread })
}

/// Composes a mail in the site's language, renders it with the layout loaded at start, and puts
/// it in the outbox. A layout that fails to render is logged and the mail skipped: a comment is
/// never refused because of mail.
pub(crate) fn enqueue(
    state: &AppState,
    conn: &mut DbConn,
    site: &Site,
    to: &str,
    mail: Mail,
    comment: Option<CommentId>,
) -> Result<Option<i64>, AppError> {
    let kind = mail.kind();
    let sender = Sender {
        site_name: &site.name,
        language: &site.settings.language,
        link_days: state.config.mail.link_expiry_days,
    };
    let texts = &state.texts.get(&site.settings.language).mail;
    let view = compose(texts, &sender, mail);
    let rendered = match state.mail_layout.render(&view) {
        Ok(rendered) => rendered,
        Err(e) => {
            tracing::error!(kind = kind.as_str(), error = %e, "mail template failed; mail skipped");
            return Ok(None);
        }
    };
    let now = now().naive_utc();
    let id = db::mail::insert_outbox(
        conn,
        &NewOutboxRow {
            kind: kind.as_str(),
            recipient: to,
            subject: &rendered.subject,
            body_text: &rendered.text,
            body_html: &rendered.html,
            unsubscribe_url: view.unsubscribe.as_ref().map(|(_, url)| url.as_str()),
            sender_name: &site.name,
            comment_id: comment.map(|c| c.0),
            status: db::mail::PENDING,
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
        },
    )?;
    Ok(Some(id))
}

/// A comment as mails quote it, and where it is.
pub(crate) fn about(thread: &Thread, comment: &Comment) -> About {
    About {
        comment: Quoted {
            author: comment.author.clone(),
            text: comment.body_markdown.clone(),
            html: comment.body_html.clone(),
        },
        title: if thread.title.is_empty() {
            thread.key.clone()
        } else {
            thread.title.clone()
        },
        url: (!thread.url.is_empty()).then(|| {
            let page = thread.url.split('#').next().unwrap_or_default();
            format!("{page}#comment-{}", comment.id.0)
        }),
    }
}

/// Whether an address is confirmed for mail on a site (a known author for moderation).
pub fn is_confirmed(conn: &mut DbConn, site: SiteId, email: &Email) -> Result<bool, AppError> {
    Ok(
        db::mail::find_address_by_email(conn, site, &email.normalized())?
            .is_some_and(|a| a.confirmed_at.is_some()),
    )
}

/// Everything a reader's freshly stored comment sends. Runs inside `service::comments::post`'s
/// transaction, so the comment and its mails commit together.
pub fn comment_posted(
    state: &AppState,
    conn: &mut DbConn,
    site: &Site,
    thread: &Thread,
    comment: &Comment,
    notify_thread: bool,
) -> Result<(), AppError> {
    if !state.config.mail.enabled() || comment.status == CommentStatus::Spam {
        // Spam caught by the defences waits in the admin area and causes no mail at all (no
        // owner alert, and no confirmation mail a bot could aim at somebody's address).
        return Ok(());
    }
    if let Some(email) = comment.email.as_deref().map(str::to_lowercase)
        && (comment.notify_replies || notify_thread)
    {
        let (address, _) =
            db::mail::find_or_insert_address(conn, site.id, &email, now().naive_utc())?;
        if notify_thread {
            db::mail::insert_subscription(conn, thread.id.0, address.id, now().naive_utc())?;
        }
        request_confirmation(state, conn, site, &address)?;
    }
    owner_mail(state, conn, site, thread, comment)?;
    comment_published(state, conn, comment.id)
}

/// The one path to reader notifications: call it, in the same transaction, wherever a comment
/// may have become visible. Tells the parent's author and the thread's subscribers, once per
/// comment; does nothing for a comment that is not approved.
pub fn comment_published(
    state: &AppState,
    conn: &mut DbConn,
    id: CommentId,
) -> Result<(), AppError> {
    if !state.config.mail.enabled() {
        return Ok(());
    }
    let Some(comment) = db::comments::find(conn, id)? else {
        return Ok(());
    };
    if comment.status != CommentStatus::Approved {
        return Ok(());
    }
    let thread = db::threads::find_by_id(conn, comment.thread_id)?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("comment {} has no thread", id.0)))?;
    let site = db::sites::find_by_id(conn, thread.site_id)?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("thread {} has no site", thread.id.0)))?;
    notify_readers(state, conn, &site, &thread, &comment)
}

/// Sends the one confirmation mail an address gets before any notification (again only after
/// the last one's link expired). An address that unsubscribed from everything gets mail again
/// only after confirming anew; until then its opt-out stands.
fn request_confirmation(
    state: &AppState,
    conn: &mut DbConn,
    site: &Site,
    address: &MailAddress,
) -> Result<(), AppError> {
    if address.may_receive() {
        return Ok(());
    }
    // One confirmation per link lifetime, counted afresh after an unsubscribe.
    let mut since =
        (now() - Duration::days(i64::from(state.config.mail.link_expiry_days))).naive_utc();
    if let Some(unsubscribed) = address.unsubscribed_at {
        since = since.max(unsubscribed.naive_utc());
    }
    if db::mail::recent_exists(conn, &address.email, MailKind::Confirm.as_str(), since)? {
        return Ok(());
    }
    let confirm = Link::Confirm {
        address: address.id,
        expires: expires(state),
    };
    let mail = Mail::Confirm {
        confirm_url: link_url(state, "confirm", &confirm),
        unsubscribe_all_url: unsubscribe_url(state, address.id, None),
    };
    enqueue(state, conn, site, &address.email, mail, None).map(drop)
}

/// Tells the parent's author and the thread's subscribers about an approved comment: only
/// confirmed addresses, never the comment's own author, never one address twice.
fn notify_readers(
    state: &AppState,
    conn: &mut DbConn,
    site: &Site,
    thread: &Thread,
    comment: &Comment,
) -> Result<(), AppError> {
    if !db::mail::insert_notified(conn, comment.id, now().naive_utc())? {
        return Ok(());
    }
    let mut mailed: HashSet<String> = HashSet::new();
    if let Some(own) = &comment.email {
        mailed.insert(own.to_lowercase());
    }
    // Mails an address now, or keeps the comment for its digest when it asked for one.
    let tell = |conn: &mut DbConn,
                address: &MailAddress,
                frequency: Frequency,
                reason: DigestReason,
                mail: fn(About, String) -> Mail|
     -> Result<(), AppError> {
        if frequency.is_digest() {
            let recipient = DigestRecipient::Address(address.id);
            wait_for_digest(state, conn, recipient, site, comment, reason, frequency)
        } else {
            let unsubscribe = unsubscribe_url(state, address.id, Some(thread.id.0));
            let mail = mail(about(thread, comment), unsubscribe);
            enqueue(state, conn, site, &address.email, mail, Some(comment.id)).map(drop)
        }
    };
    if let Some(parent_id) = comment.parent_id
        && let Some(parent) = db::comments::find(conn, parent_id)?
        && parent.notify_replies
        && let Some(parent_email) = parent.email.as_deref().map(str::to_lowercase)
        && !mailed.contains(&parent_email)
        && let Some(address) = db::mail::find_address_by_email(conn, site.id, &parent_email)?
        && address.may_receive()
    {
        // A reply comes as often as the thread's mails when the parent's author follows it.
        let frequency = db::mail::find_subscription_frequency(conn, thread.id.0, &address)?
            .unwrap_or(address.frequency);
        tell(
            conn,
            &address,
            frequency,
            DigestReason::Reply,
            |about, url| Mail::Reply {
                about,
                unsubscribe_thread_url: url,
            },
        )?;
        mailed.insert(parent_email);
    }
    for (address, frequency) in db::mail::list_thread_subscriptions(conn, thread.id.0)? {
        if !address.may_receive() || mailed.contains(&address.email) {
            continue;
        }
        tell(
            conn,
            &address,
            frequency,
            DigestReason::Thread,
            |about, url| Mail::Thread {
                about,
                unsubscribe_thread_url: url,
            },
        )?;
        mailed.insert(address.email);
    }
    Ok(())
}

/// Records a comment for a recipient's next daily or weekly digest (once per recipient and
/// comment), instead of mailing it now.
fn wait_for_digest(
    state: &AppState,
    conn: &mut DbConn,
    recipient: DigestRecipient,
    site: &Site,
    comment: &Comment,
    reason: DigestReason,
    frequency: Frequency,
) -> Result<(), AppError> {
    let item = DigestItem {
        recipient,
        site: site.id,
        comment: comment.id,
        reason,
        frequency,
    };
    db::digests::insert_item(conn, &item, state.clock.now().naive_utc())?;
    Ok(())
}

/// The one-time moderation links the owner gets for a comment.
pub(crate) fn moderation_links(state: &AppState, comment: &Comment) -> Vec<(ModAction, String)> {
    let mut choices = vec![ModAction::Delete, ModAction::Spam];
    if comment.status == CommentStatus::Pending {
        choices.insert(0, ModAction::Approve);
    }
    if comment.email.is_some() || comment.client_ip.is_some() {
        choices.push(ModAction::Ban);
    }
    choices
        .into_iter()
        .map(|action| {
            let link = Link::Moderate {
                action,
                comment: comment.id,
                expires: expires(state),
                nonce: Link::nonce(),
            };
            (action, link_url(state, "moderate", &link))
        })
        .collect()
}

/// The owner's alert about a reader's new comment, with one-time moderation links.
fn owner_mail(
    state: &AppState,
    conn: &mut DbConn,
    site: &Site,
    thread: &Thread,
    comment: &Comment,
) -> Result<(), AppError> {
    let config = &state.config.mail;
    let held = comment.status == CommentStatus::Pending;
    let wanted = match config.owner_notifications {
        OwnerNotifications::All => true,
        OwnerNotifications::Held => held,
        OwnerNotifications::None => false,
    };
    if config.owner.is_empty() || !wanted {
        return Ok(());
    }
    let frequency = site.settings.owner_frequency;
    if frequency.is_digest() {
        return wait_for_digest(
            state,
            conn,
            DigestRecipient::Owner(site.id),
            site,
            comment,
            DigestReason::Owner,
            frequency,
        );
    }
    let mail = Mail::Owner {
        about: about(thread, comment),
        page: thread.key.clone(),
        held,
        website: comment.website.clone(),
        held_reason: comment.held_reason.clone(),
        actions: moderation_links(state, comment),
    };
    enqueue(state, conn, site, &config.owner, mail, Some(comment.id)).map(drop)
}

/// Sends a "manage my comments" link to an address that has comments on the site. The
/// answer never tells whether it has any; one mail per address every few minutes.
pub fn request_manage_link(
    state: &AppState,
    conn: &mut DbConn,
    site: &Site,
    email: &Email,
) -> Result<(), AppError> {
    if !state.config.mail.enabled() {
        return Err(AppError::new(
            ErrorKind::MailDisabled,
            "this server does not send mail",
        ));
    }
    let email = email.normalized();
    write_tx(conn, |conn| {
        let since = (now() - Duration::minutes(MANAGE_INTERVAL_MINUTES)).naive_utc();
        if db::mail::recent_exists(conn, &email, MailKind::Manage.as_str(), since)?
            || db::mail::list_comments_by_email(conn, site.id, &email)?.is_empty()
        {
            return Ok(());
        }
        let (address, _) =
            db::mail::find_or_insert_address(conn, site.id, &email, now().naive_utc())?;
        let link = Link::Manage {
            address: address.id,
            expires: expires(state),
        };
        let mail = Mail::Manage {
            manage_url: link_url(state, "manage", &link),
            unsubscribe_all_url: unsubscribe_url(state, address.id, None),
        };
        enqueue(state, conn, site, &email, mail, None).map(drop)
    })
}

/// Mails a reader's one-time sign-in link ([`super::email_signin`]); inside the caller's
/// transaction.
pub fn send_signin_link(
    state: &AppState,
    conn: &mut DbConn,
    site: &Site,
    to: &str,
    link: &Link,
    minutes: u32,
) -> Result<(), AppError> {
    let mail = Mail::SignIn {
        signin_url: link_url(state, "signin", link),
        minutes,
    };
    enqueue(state, conn, site, to, mail, None).map(drop)
}
