//! What the links in mails do: one-click moderation by the owner, confirming an address,
//! unsubscribing, and "manage my comments". Moderation goes through the admin area's own
//! decision (`service::admin::moderate`), so its mails, reports and spam score follow.

use super::now;
use crate::db::changes::{comments_changed, write_tx as announcing_tx};
use crate::db::{self, DbConn, write_tx};
use crate::domain::ban::BanKind;
use crate::domain::comment::{Comment, CommentId, CommentStatus};
use crate::domain::mail::{Frequency, MailAddress};
use crate::domain::site::Site;
use crate::domain::thread::Thread;
use crate::domain::webhook::WebhookEvent;
use crate::error::{AppError, ErrorKind};
use crate::notify::links::{Link, LinkError, ModAction};
use crate::service::admin::moderate::{self, Action};
use crate::state::AppState;

fn verify(state: &AppState, token: &str) -> Result<Link, AppError> {
    Link::verify(token, &state.keys, now().timestamp()).map_err(|e| match e {
        LinkError::Forged => AppError::new(ErrorKind::InvalidLink, e.to_string()),
        LinkError::Expired => AppError::new(ErrorKind::LinkExpired, e.to_string()),
    })
}

/// The site a mail link belongs to, for showing its page in the site's language.
#[derive(Debug, Clone, Default)]
pub struct LinkContext {
    pub language: String,
    pub site_name: String,
}

/// The site of a (validly signed) link's comment or address; English and no name when the
/// link is not valid or its site is gone.
pub fn link_context(state: &AppState, conn: &mut DbConn, token: &str) -> LinkContext {
    let site = match Link::verify(token, &state.keys, i64::MIN) {
        Err(_) => None,
        Ok(Link::Moderate { comment, .. }) => db::comments::find(conn, comment)
            .ok()
            .flatten()
            .and_then(|c| db::threads::find_by_id(conn, c.thread_id).ok().flatten())
            .map(|t| t.site_id),
        Ok(
            Link::Confirm { address, .. }
            | Link::Unsubscribe { address, .. }
            | Link::Manage { address, .. },
        ) => db::mail::find_address(conn, address)
            .ok()
            .flatten()
            .map(|a| a.site_id),
        Ok(Link::SignIn { .. }) => super::email_signin::link_site(state, conn, token),
    };
    site.and_then(|id| db::sites::find_by_id(conn, id).ok().flatten())
        .map(|site| LinkContext {
            language: site.settings.language,
            site_name: site.name,
        })
        .unwrap_or_else(|| LinkContext {
            language: "en".into(),
            site_name: String::new(),
        })
}

fn forged() -> AppError {
    AppError::new(ErrorKind::InvalidLink, "this link is not valid")
}

/// A moderation link's comment, before anything is done (the confirmation page).
pub struct PendingModeration {
    pub action: ModAction,
    pub comment: Comment,
    pub thread: Thread,
}

/// A moderation link's action, comment and one-time nonce.
fn moderation_link(
    state: &AppState,
    token: &str,
) -> Result<(ModAction, CommentId, String), AppError> {
    match verify(state, token)? {
        Link::Moderate {
            action,
            comment,
            nonce,
            ..
        } => Ok((action, comment, nonce)),
        _ => Err(forged()),
    }
}

fn link_used() -> AppError {
    AppError::new(ErrorKind::LinkUsed, "this link has already been used")
}

fn comment_gone() -> AppError {
    AppError::new(ErrorKind::CommentNotFound, "this comment is gone")
}

/// The comment a moderation link names, unless it was deleted since.
fn find_undeleted(conn: &mut DbConn, id: CommentId) -> Result<Comment, AppError> {
    db::comments::find(conn, id)?
        .filter(|c| c.status != CommentStatus::Deleted)
        .ok_or_else(comment_gone)
}

/// Checks a moderation link without using it.
pub fn inspect_moderation(
    state: &AppState,
    conn: &mut DbConn,
    token: &str,
) -> Result<PendingModeration, AppError> {
    let (action, comment, nonce) = moderation_link(state, token)?;
    if db::mail::is_link_used(conn, &nonce)? {
        return Err(link_used());
    }
    let comment = find_undeleted(conn, comment)?;
    let thread = db::threads::find_by_id(conn, comment.thread_id)?.ok_or_else(comment_gone)?;
    Ok(PendingModeration {
        action,
        comment,
        thread,
    })
}

/// Uses a moderation link: approve (telling subscribed readers), delete, mark as spam, or ban
/// the author and mark as spam.
pub fn moderate(state: &AppState, conn: &mut DbConn, token: &str) -> Result<ModAction, AppError> {
    let (action, comment, nonce) = moderation_link(state, token)?;
    announcing_tx(conn, &state.changes, |conn, changes| {
        if !db::mail::insert_used_link(conn, &nonce, now().naive_utc())? {
            return Err(link_used());
        }
        let row = find_undeleted(conn, comment)?;
        let admin_action = match action {
            ModAction::Approve => Action::Approve,
            ModAction::Spam => Action::Spam,
            ModAction::Delete => Action::Delete,
            ModAction::Ban => {
                ban_author(conn, &row)?;
                Action::Spam
            }
        };
        // The same decision as in the admin area: mails, reports and the spam score follow.
        moderate::apply_in_tx(state, conn, changes, &[comment], admin_action)?;
        Ok(action)
    })
}

/// Bans a comment's author for the ban link: a signed-in author by identity, else by e-mail
/// address, or by IP address when the comment has none (and its IP is still stored). Inside the link's transaction.
fn ban_author(conn: &mut DbConn, comment: &Comment) -> Result<(), AppError> {
    let note = format!("banned from the owner mail (comment {})", comment.id.0);
    // A signed-in author is banned by identity (whatever address or network they use next).
    if let Some(reader) = comment.reader_id
        && let Some(reader) = db::readers::find(conn, reader)?
    {
        moderate::add_ban_in_tx(conn, BanKind::Reader, &reader.identity.key(), &note)?;
        return Ok(());
    }
    let target = match (&comment.email, &comment.client_ip) {
        (Some(email), _) => Some((BanKind::Email, email)),
        (None, Some(ip)) => Some((BanKind::Ip, ip)),
        (None, None) => None,
    };
    if let Some((kind, value)) = target {
        moderate::add_ban_in_tx(conn, kind, value, &note)?;
    }
    Ok(())
}

/// Confirms an address (double opt-in); following the link again changes nothing.
pub fn confirm(state: &AppState, conn: &mut DbConn, token: &str) -> Result<(), AppError> {
    let Link::Confirm { address, .. } = verify(state, token)? else {
        return Err(forged());
    };
    write_tx(conn, |conn| {
        let row = db::mail::find_address(conn, address)?.ok_or_else(forged)?;
        if row.confirmed_at.is_none() || row.unsubscribed_at.is_some() {
            db::mail::update_confirmed(conn, row.id, now().naive_utc())?;
        }
        Ok(())
    })
}

/// Checks a confirmation link without using it.
pub fn inspect_confirm(state: &AppState, token: &str) -> Result<(), AppError> {
    match verify(state, token)? {
        Link::Confirm { .. } => Ok(()),
        _ => Err(forged()),
    }
}

/// What an unsubscribe link covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsubscribeScope {
    /// Mails about the link's thread (replies there and the thread subscription).
    Thread(i64),
    /// Every reader mail from the site.
    All,
}

/// The scope an unsubscribe link names (thread-wide when it has a thread).
pub fn inspect_unsubscribe(state: &AppState, token: &str) -> Result<UnsubscribeScope, AppError> {
    match verify(state, token)? {
        Link::Unsubscribe {
            thread: Some(thread),
            ..
        } => Ok(UnsubscribeScope::Thread(thread)),
        Link::Unsubscribe { thread: None, .. } => Ok(UnsubscribeScope::All),
        _ => Err(forged()),
    }
}

/// What an unsubscribe link's page offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsubscribeChoices {
    pub scope: UnsubscribeScope,
    /// The link names a thread the address follows: a frequency chosen there is for it.
    pub follows_thread: bool,
    /// How often the address gets these mails now (the thread's own choice when it follows
    /// it, else the address's); none for an address no longer on record.
    pub current: Option<Frequency>,
}

/// Checks an unsubscribe link without using it, and says what its page offers.
pub fn unsubscribe_choices(
    state: &AppState,
    conn: &mut DbConn,
    token: &str,
) -> Result<UnsubscribeChoices, AppError> {
    let scope = inspect_unsubscribe(state, token)?;
    let Link::Unsubscribe { address, .. } = verify(state, token)? else {
        return Err(forged());
    };
    let Some(row) = db::mail::find_address(conn, address)? else {
        return Ok(UnsubscribeChoices {
            scope,
            follows_thread: false,
            current: None,
        });
    };
    let followed = match scope {
        UnsubscribeScope::Thread(thread) => {
            db::mail::find_subscription_frequency(conn, thread, &row)?
        }
        UnsubscribeScope::All => None,
    };
    Ok(UnsubscribeChoices {
        scope,
        follows_thread: followed.is_some(),
        current: Some(followed.unwrap_or(row.frequency)),
    })
}

/// Sets how often the link's address gets mail: for the link's thread when it follows it and
/// `all` is not asked, else for all its mails from the site (its own choices per thread are
/// dropped). Whether the address takes mail at all does not change.
pub fn set_frequency(
    state: &AppState,
    conn: &mut DbConn,
    token: &str,
    all: bool,
    frequency: Frequency,
) -> Result<(), AppError> {
    let Link::Unsubscribe { address, thread } = verify(state, token)? else {
        return Err(forged());
    };
    write_tx(conn, |conn| {
        let row = db::mail::find_address(conn, address)?.ok_or_else(forged)?;
        if let Some(thread) = thread.filter(|_| !all)
            && db::mail::update_subscription_frequency(conn, thread, row.id, frequency)?
        {
            return Ok(());
        }
        db::mail::update_address_frequency(conn, row.id, frequency)
    })
}

/// Unsubscribes the link's address from its thread or, when `all` is asked or the link has
/// no thread, from every reader mail of the site. Idempotent.
pub fn unsubscribe(
    state: &AppState,
    conn: &mut DbConn,
    token: &str,
    all: bool,
) -> Result<UnsubscribeScope, AppError> {
    let Link::Unsubscribe { address, thread } = verify(state, token)? else {
        return Err(forged());
    };
    let scope = match thread {
        Some(thread) if !all => UnsubscribeScope::Thread(thread),
        _ => UnsubscribeScope::All,
    };
    write_tx(conn, |conn| {
        let row = db::mail::find_address(conn, address)?.ok_or_else(forged)?;
        let site = row.site_id;
        match scope {
            UnsubscribeScope::Thread(thread) => {
                db::mail::delete_subscription(conn, thread, row.id)?;
                db::mail::update_notify_replies_off(conn, site, Some(thread), &row.email)?;
            }
            UnsubscribeScope::All => {
                db::mail::update_unsubscribed(conn, row.id, now().naive_utc())?;
                db::mail::update_notify_replies_off(conn, site, None, &row.email)?;
            }
        }
        Ok(scope)
    })
}

/// An address's comments, as the "manage my comments" page lists them.
pub struct ManagedComments {
    pub site: Site,
    pub comments: Vec<(Comment, Thread)>,
}

fn manage_address(
    state: &AppState,
    conn: &mut DbConn,
    token: &str,
) -> Result<MailAddress, AppError> {
    let Link::Manage { address, .. } = verify(state, token)? else {
        return Err(forged());
    };
    db::mail::find_address(conn, address)?.ok_or_else(forged)
}

/// Every comment of the link's address on its site.
pub fn managed_comments(
    state: &AppState,
    conn: &mut DbConn,
    token: &str,
) -> Result<ManagedComments, AppError> {
    let address = manage_address(state, conn, token)?;
    let site = db::sites::find_by_id(conn, address.site_id)?.ok_or_else(forged)?;
    let comments = db::mail::list_comments_by_email(conn, site.id, &address.email)?;
    Ok(ManagedComments { site, comments })
}

/// Deletes one comment of the link's address, or all of them (`None`). A comment with
/// replies becomes a placeholder so the replies keep their place. Returns how many went.
pub fn delete_managed(
    state: &AppState,
    conn: &mut DbConn,
    token: &str,
    which: Option<CommentId>,
) -> Result<usize, AppError> {
    let address = manage_address(state, conn, token)?;
    announcing_tx(conn, &state.changes, |conn, changes| {
        let mine = db::mail::list_comments_by_email(conn, address.site_id, &address.email)?;
        let targets: Vec<CommentId> = mine
            .iter()
            .map(|(c, _)| c.id)
            .filter(|id| which.is_none_or(|w| w == *id))
            .collect();
        if which.is_some() && targets.is_empty() {
            return Err(AppError::new(ErrorKind::CommentNotFound, "no such comment"));
        }
        comments_changed(conn, changes, &targets, false)?;
        // Newest first, so a reply goes before its parent is checked for replies.
        for id in targets.iter().rev() {
            if let Some((comment, _)) = mine.iter().find(|(c, _)| c.id == *id) {
                crate::service::webhooks::emit(
                    state,
                    conn,
                    WebhookEvent::Deleted,
                    &comment.deleted(),
                )?;
            }
            db::comments::remove(conn, *id)?;
        }
        Ok(targets.len())
    })
}
