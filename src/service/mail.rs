//! Mail use-cases: what a new or newly approved comment sends (always into the outbox, in the
//! caller's transaction), and what the links in those mails do.

use std::collections::HashSet;
use std::path::PathBuf;

use chrono::Duration;

use super::now;
use crate::config::OwnerNotifications;
use crate::db::comments::CommentRow;
use crate::db::mail::{AddressRow, NewOutboxRow};
use crate::db::threads::ThreadRow;
use crate::db::{self, DbConn, write_tx};
use crate::domain::ban::BanKind;
use crate::domain::comment::{CommentId, CommentStatus};
use crate::domain::fields::Email;
use crate::domain::site::{Site, SiteId};
use crate::error::{AppError, ErrorKind};
use crate::notify::links::{Link, LinkError, ModAction};
use crate::notify::templates::{MailView, Quoted, Strings, fill};
use crate::service::admin::moderate::Action;
use crate::state::AppState;

/// Kinds of mail, as stored in the outbox.
pub const KIND_REPLY: &str = "reply";
pub const KIND_THREAD: &str = "thread";
pub const KIND_CONFIRM: &str = "confirm";
pub const KIND_OWNER: &str = "owner";
pub const KIND_MANAGE: &str = "manage";

/// How often one address may ask for a "manage my comments" mail.
const MANAGE_INTERVAL_MINUTES: i64 = 10;

fn base_url(state: &AppState) -> String {
    state.config.public_url(state.config.server.port)
}

fn link_url(state: &AppState, path: &str, link: &Link) -> String {
    format!("{}/mail/{path}/{}", base_url(state), link.sign(&state.keys))
}

fn expires(state: &AppState) -> i64 {
    (now() + Duration::days(i64::from(state.config.mail.link_expiry_days))).timestamp()
}

fn overrides(state: &AppState) -> Option<PathBuf> {
    let dir = &state.config.mail.templates_dir;
    (!dir.is_empty()).then(|| PathBuf::from(dir))
}

/// Renders a mail and puts it in the outbox. A template that fails to render is logged and the
/// mail skipped: a comment is never refused because of mail.
fn enqueue(
    state: &AppState,
    conn: &mut DbConn,
    kind: &str,
    to: &str,
    view: &MailView,
    comment: Option<CommentId>,
) -> Result<(), AppError> {
    let rendered = match view.render(overrides(state).as_deref()) {
        Ok(rendered) => rendered,
        Err(e) => {
            tracing::error!(kind, error = %e, "mail template failed; mail skipped");
            return Ok(());
        }
    };
    let now = now().naive_utc();
    db::mail::insert_outbox(
        conn,
        &NewOutboxRow {
            kind,
            recipient: to,
            subject: &rendered.subject,
            body_text: &rendered.text,
            body_html: &rendered.html,
            unsubscribe_url: view.unsubscribe.as_ref().map(|(_, url)| url.as_str()),
            sender_name: &view.site,
            comment_id: comment.map(|c| c.0),
            status: db::mail::PENDING,
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
        },
    )?;
    Ok(())
}

fn quoted(comment: &CommentRow) -> Quoted {
    Quoted {
        author: comment.author_name.clone(),
        text: comment.body_markdown.clone(),
        html: crate::render::SafeHtml::from_storage(comment.body_html.clone()),
    }
}

fn title_of(thread: &ThreadRow) -> String {
    if thread.title.is_empty() {
        thread.key.clone()
    } else {
        thread.title.clone()
    }
}

fn comment_url(thread: &ThreadRow, id: i64) -> Option<String> {
    (!thread.url.is_empty()).then(|| {
        let page = thread.url.split('#').next().unwrap_or_default();
        format!("{page}#comment-{id}")
    })
}

/// Whether an address is confirmed for mail on a site (a known author for moderation).
pub fn is_confirmed(conn: &mut DbConn, site: SiteId, email: &Email) -> Result<bool, AppError> {
    Ok(
        db::mail::find_address_by_email(conn, site, &email.normalized())?
            .is_some_and(|a| a.confirmed_at.is_some()),
    )
}

/// Everything a freshly stored comment sends. Runs inside `service::comments::post`'s
/// transaction, so the comment and its mails commit together.
pub fn on_comment_posted(
    state: &AppState,
    conn: &mut DbConn,
    site: &Site,
    thread: &ThreadRow,
    comment: &CommentRow,
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
            db::mail::insert_subscription(conn, thread.id, address.id, now().naive_utc())?;
        }
        request_confirmation(state, conn, site, &address)?;
    }
    owner_mail(state, conn, site, thread, comment)?;
    if comment.status == CommentStatus::Approved {
        notify_readers(state, conn, site, thread, comment)?;
    }
    Ok(())
}

/// The function to call when a moderator approves a held comment (in the same transaction
/// as the status change): readers who asked are told about it, once per comment.
pub fn on_comment_approved(
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
    let site = db::sites::find_by_id(conn, SiteId(thread.site_id))?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("thread {} has no site", thread.id)))?;
    notify_readers(state, conn, &site, &thread, &comment)
}

/// Sends the one confirmation mail an address gets before any notification (again only after
/// the last one's link expired). An address that unsubscribed from everything gets mail again
/// only after confirming anew; until then its opt-out stands.
fn request_confirmation(
    state: &AppState,
    conn: &mut DbConn,
    site: &Site,
    address: &AddressRow,
) -> Result<(), AppError> {
    if address.may_receive() {
        return Ok(());
    }
    // One confirmation per link lifetime, counted afresh after an unsubscribe.
    let mut since =
        (now() - Duration::days(i64::from(state.config.mail.link_expiry_days))).naive_utc();
    if let Some(unsubscribed) = address.unsubscribed_at {
        since = since.max(unsubscribed);
    }
    if db::mail::recent_exists(conn, &address.email, KIND_CONFIRM, since)? {
        return Ok(());
    }
    let t = Strings::for_language(&site.settings.language);
    let days = state.config.mail.link_expiry_days.to_string();
    let values = [("site", site.name.as_str()), ("days", days.as_str())];
    let confirm = Link::Confirm {
        address: address.id,
        expires: expires(state),
    };
    let view = MailView {
        lang: site.settings.language.clone(),
        site: site.name.clone(),
        subject: fill(t.confirm_subject, &values),
        heading: fill(t.confirm_subject, &values),
        intro: vec![fill(t.confirm_intro, &values)],
        actions: vec![(
            t.confirm_action.to_string(),
            link_url(state, "confirm", &confirm),
        )],
        footer: fill(t.confirm_footer, &values),
        unsubscribe: Some(unsubscribe_link(state, t, site, address.id, None)),
        ..MailView::default()
    };
    enqueue(state, conn, KIND_CONFIRM, &address.email, &view, None)
}

fn unsubscribe_link(
    state: &AppState,
    t: &Strings,
    site: &Site,
    address: i64,
    thread: Option<i64>,
) -> (String, String) {
    let label = match thread {
        Some(_) => t.unsubscribe_thread.to_string(),
        None => fill(t.unsubscribe_all, &[("site", site.name.as_str())]),
    };
    let link = Link::Unsubscribe { address, thread };
    (label, link_url(state, "unsubscribe", &link))
}

/// Tells the parent's author and the thread's subscribers about an approved comment: only
/// confirmed addresses, never the comment's own author, never one address twice.
fn notify_readers(
    state: &AppState,
    conn: &mut DbConn,
    site: &Site,
    thread: &ThreadRow,
    comment: &CommentRow,
) -> Result<(), AppError> {
    if !db::mail::insert_notified(conn, CommentId(comment.id), now().naive_utc())? {
        return Ok(());
    }
    let mut mailed: HashSet<String> = HashSet::new();
    if let Some(own) = &comment.email {
        mailed.insert(own.to_lowercase());
    }
    let t = Strings::for_language(&site.settings.language);
    let title = title_of(thread);
    let values = [
        ("author", comment.author_name.as_str()),
        ("title", title.as_str()),
        ("site", site.name.as_str()),
    ];
    let view = |subject: &str, intro: &str, footer: &str, address: i64| MailView {
        lang: site.settings.language.clone(),
        site: site.name.clone(),
        subject: fill(subject, &values),
        heading: fill(subject, &values),
        intro: vec![fill(intro, &values)],
        comment: Some(quoted(comment)),
        actions: comment_url(thread, comment.id)
            .map(|url| vec![(t.view_comment.to_string(), url)])
            .unwrap_or_default(),
        footer: fill(footer, &values),
        unsubscribe: Some(unsubscribe_link(state, t, site, address, Some(thread.id))),
        ..MailView::default()
    };
    if let Some(parent_id) = comment.parent_id
        && let Some(parent) = db::comments::find(conn, CommentId(parent_id))?
        && parent.notify_replies
        && let Some(parent_email) = parent.email.as_deref().map(str::to_lowercase)
        && !mailed.contains(&parent_email)
        && let Some(address) = db::mail::find_address_by_email(conn, site.id, &parent_email)?
        && address.may_receive()
    {
        let mail = view(t.reply_subject, t.reply_intro, t.reply_footer, address.id);
        enqueue(
            state,
            conn,
            KIND_REPLY,
            &address.email,
            &mail,
            Some(CommentId(comment.id)),
        )?;
        mailed.insert(parent_email);
    }
    for address in db::mail::list_thread_subscribers(conn, thread.id)? {
        if !address.may_receive() || mailed.contains(&address.email) {
            continue;
        }
        let mail = view(
            t.thread_subject,
            t.thread_intro,
            t.thread_footer,
            address.id,
        );
        enqueue(
            state,
            conn,
            KIND_THREAD,
            &address.email,
            &mail,
            Some(CommentId(comment.id)),
        )?;
        mailed.insert(address.email);
    }
    Ok(())
}

/// The owner's alert about a new comment, with one-time moderation links.
fn owner_mail(
    state: &AppState,
    conn: &mut DbConn,
    site: &Site,
    thread: &ThreadRow,
    comment: &CommentRow,
) -> Result<(), AppError> {
    let mail = &state.config.mail;
    let held = comment.status == CommentStatus::Pending;
    let wanted = match mail.owner_notifications {
        OwnerNotifications::All => true,
        OwnerNotifications::Held => held,
        OwnerNotifications::None => false,
    };
    if mail.owner.is_empty() || !wanted {
        return Ok(());
    }
    let t = Strings::for_language(&site.settings.language);
    let title = title_of(thread);
    let days = mail.link_expiry_days.to_string();
    let values = [
        ("author", comment.author_name.as_str()),
        ("title", title.as_str()),
        ("site", site.name.as_str()),
        ("days", days.as_str()),
    ];
    let mut facts = vec![(
        t.page.to_string(),
        comment_url(thread, comment.id).unwrap_or_else(|| thread.key.clone()),
    )];
    if let Some(website) = &comment.website {
        facts.push((t.website.to_string(), website.clone()));
    }
    facts.push((
        t.status.to_string(),
        if held {
            t.status_pending
        } else {
            t.status_approved
        }
        .to_string(),
    ));
    if let Some(reason) = &comment.held_reason {
        facts.push((t.why_held.to_string(), reason.clone()));
    }
    let mut actions = Vec::new();
    let mut choices = vec![(ModAction::Delete, t.delete), (ModAction::Spam, t.spam)];
    if held {
        choices.insert(0, (ModAction::Approve, t.approve));
    }
    if comment.email.is_some() || comment.client_ip.is_some() {
        choices.push((ModAction::Ban, t.ban));
    }
    for (action, label) in choices {
        let link = Link::Moderate {
            action,
            comment: CommentId(comment.id),
            expires: expires(state),
            nonce: Link::nonce(),
        };
        actions.push((label.to_string(), link_url(state, "moderate", &link)));
    }
    let subject = if held {
        t.owner_subject_held
    } else {
        t.owner_subject_new
    };
    let view = MailView {
        lang: site.settings.language.clone(),
        site: site.name.clone(),
        subject: fill(subject, &values),
        heading: fill(subject, &values),
        intro: vec![fill(t.owner_intro, &values)],
        comment: Some(quoted(comment)),
        facts,
        actions,
        footer: fill(t.owner_footer, &values),
        unsubscribe: None,
    };
    let owner = mail.owner.clone();
    enqueue(
        state,
        conn,
        KIND_OWNER,
        &owner,
        &view,
        Some(CommentId(comment.id)),
    )
}

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
            .map(|t| SiteId(t.site_id)),
        Ok(
            Link::Confirm { address, .. }
            | Link::Unsubscribe { address, .. }
            | Link::Manage { address, .. },
        ) => db::mail::find_address(conn, address)
            .ok()
            .flatten()
            .map(|a| SiteId(a.site_id)),
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
    pub comment: CommentRow,
    pub thread: ThreadRow,
}

/// Checks a moderation link without using it.
pub fn inspect_moderation(
    state: &AppState,
    conn: &mut DbConn,
    token: &str,
) -> Result<PendingModeration, AppError> {
    let Link::Moderate {
        action,
        comment,
        nonce,
        ..
    } = verify(state, token)?
    else {
        return Err(forged());
    };
    if db::mail::is_link_used(conn, &nonce)? {
        return Err(AppError::new(
            ErrorKind::LinkUsed,
            "this link has already been used",
        ));
    }
    let comment = db::comments::find(conn, comment)?
        .filter(|c| c.status != CommentStatus::Deleted)
        .ok_or_else(|| AppError::new(ErrorKind::CommentNotFound, "this comment is gone"))?;
    let thread = db::threads::find_by_id(conn, comment.thread_id)?
        .ok_or_else(|| AppError::new(ErrorKind::CommentNotFound, "this comment is gone"))?;
    Ok(PendingModeration {
        action,
        comment,
        thread,
    })
}

/// Uses a moderation link: approve (telling subscribed readers), delete, mark as spam, or ban
/// the author and mark as spam.
pub fn moderate(state: &AppState, conn: &mut DbConn, token: &str) -> Result<ModAction, AppError> {
    let Link::Moderate {
        action,
        comment,
        nonce,
        ..
    } = verify(state, token)?
    else {
        return Err(forged());
    };
    write_tx(conn, |conn| {
        if !db::mail::insert_used_link(conn, &nonce, now().naive_utc())? {
            return Err(AppError::new(
                ErrorKind::LinkUsed,
                "this link has already been used",
            ));
        }
        let row = db::comments::find(conn, comment)?
            .filter(|c| c.status != CommentStatus::Deleted)
            .ok_or_else(|| AppError::new(ErrorKind::CommentNotFound, "this comment is gone"))?;
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
        crate::service::admin::moderate::apply_in_tx(state, conn, &[comment], admin_action)?;
        Ok(action)
    })
}

/// Bans a comment's author for the ban link: by e-mail address, or by IP address when the
/// comment has none (and its IP is still stored). Inside the link's transaction.
fn ban_author(conn: &mut DbConn, comment: &CommentRow) -> Result<(), AppError> {
    let note = format!("banned from the owner mail (comment {})", comment.id);
    let target = match (&comment.email, &comment.client_ip) {
        (Some(email), _) => Some((BanKind::Email, email)),
        (None, Some(ip)) => Some((BanKind::Ip, ip)),
        (None, None) => None,
    };
    if let Some((kind, value)) = target {
        crate::service::admin::moderate::add_ban_in_tx(conn, kind, value, &note)?;
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
        let site = SiteId(row.site_id);
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
        if db::mail::recent_exists(conn, &email, KIND_MANAGE, since)?
            || db::mail::list_comments_by_email(conn, site.id, &email)?.is_empty()
        {
            return Ok(());
        }
        let (address, _) =
            db::mail::find_or_insert_address(conn, site.id, &email, now().naive_utc())?;
        let t = Strings::for_language(&site.settings.language);
        let days = state.config.mail.link_expiry_days.to_string();
        let values = [("site", site.name.as_str()), ("days", days.as_str())];
        let link = Link::Manage {
            address: address.id,
            expires: expires(state),
        };
        let view = MailView {
            lang: site.settings.language.clone(),
            site: site.name.clone(),
            subject: fill(t.manage_subject, &values),
            heading: fill(t.manage_subject, &values),
            intro: vec![fill(t.manage_intro, &values)],
            actions: vec![(
                t.manage_action.to_string(),
                link_url(state, "manage", &link),
            )],
            footer: fill(t.manage_footer, &values),
            unsubscribe: Some(unsubscribe_link(state, t, site, address.id, None)),
            ..MailView::default()
        };
        enqueue(state, conn, KIND_MANAGE, &email, &view, None)
    })
}

/// An address's comments, as the "manage my comments" page lists them.
pub struct ManagedComments {
    pub site: Site,
    pub comments: Vec<(CommentRow, ThreadRow)>,
}

fn manage_address(
    state: &AppState,
    conn: &mut DbConn,
    token: &str,
) -> Result<AddressRow, AppError> {
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
    let site = db::sites::find_by_id(conn, SiteId(address.site_id))?.ok_or_else(forged)?;
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
    write_tx(conn, |conn| {
        let mine = db::mail::list_comments_by_email(conn, SiteId(address.site_id), &address.email)?;
        let targets: Vec<CommentId> = mine
            .iter()
            .map(|(c, _)| CommentId(c.id))
            .filter(|id| which.is_none_or(|w| w == *id))
            .collect();
        if which.is_some() && targets.is_empty() {
            return Err(AppError::new(ErrorKind::CommentNotFound, "no such comment"));
        }
        // Newest first, so a reply goes before its parent is checked for replies.
        for id in targets.iter().rev() {
            if db::comments::has_replies(conn, *id)? {
                db::comments::update_to_placeholder(conn, *id)?;
            } else {
                db::comments::delete(conn, *id)?;
            }
        }
        Ok(targets.len())
    })
}
