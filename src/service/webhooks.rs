//! Webhooks: what a comment's change sends out, queued in the webhook outbox inside the
//! caller's transaction (so an event is delivered if and only if its change committed), and
//! the admin's use-cases for a site's endpoints.
//!
//! Each event is emitted from the one place its change happens:
//! - posted (and held, when a new comment waits for moderation; nothing for spam caught at
//!   posting): `service::comments::post`, `service::admin::moderate::reply_as_owner`;
//! - held later: `service::comments::edit` (an edit sends it back) and `service::votes::report`
//!   (readers' reports hide it);
//! - approved: `service::admin::moderate::apply_in_tx` (the queue, the API, the owner mail's
//!   link and an owner reply to a held comment all go through it);
//! - deleted: `apply_in_tx` and `delete_by_author` (admin), `service::comments::delete` and
//!   `service::mail_links::delete_managed` (the author);
//! - reported: `service::votes::report`.
//!
//! A payload never holds the commenter's e-mail address or IP address.

use serde_json::{Value, json};

use super::now;
use crate::db::{self, DbConn, write_tx};
use crate::domain::comment::{Comment, CommentId, CommentStatus};
use crate::domain::site::{Site, SiteId};
use crate::domain::thread::Thread;
use crate::domain::webhook::{Delivery, EndpointUrl, PayloadFormat, WebhookEndpoint, WebhookEvent};
use crate::error::{AppError, ErrorKind};
use crate::secrets;
use crate::state::AppState;

/// Characters of a comment's text quoted in Slack and Discord messages.
const EXCERPT_CHARS: usize = 300;

/// Queues `event` for the comment with this id, as it stands now (nothing when it is gone).
pub fn emit_for(
    state: &AppState,
    conn: &mut DbConn,
    event: WebhookEvent,
    id: CommentId,
) -> Result<(), AppError> {
    match db::comments::find(conn, id)? {
        Some(comment) => emit(state, conn, event, &comment),
        None => Ok(()),
    }
}

/// Queues `event` about `comment` for every endpoint of its site that subscribed to it.
pub fn emit(
    _state: &AppState,
    conn: &mut DbConn,
    event: WebhookEvent,
    comment: &Comment,
) -> Result<(), AppError> {
    let Some(thread) = db::threads::find_by_id(conn, comment.thread_id)? else {
        return Ok(());
    };
    emit_in_thread(conn, &thread, &[event], comment)
}

/// [`emit`] for a comment whose thread the caller holds, with several events at once (one
/// look at the site's endpoints).
pub fn emit_in_thread(
    conn: &mut DbConn,
    thread: &Thread,
    events: &[WebhookEvent],
    comment: &Comment,
) -> Result<(), AppError> {
    if events.is_empty() {
        return Ok(());
    }
    let endpoints: Vec<WebhookEndpoint> = db::webhooks::list_endpoints(conn, thread.site_id)?;
    emit_to(conn, &endpoints, thread, events, comment)
}

/// [`emit_in_thread`] with the site's endpoints already in hand (a batch of posts reads them
/// once).
pub fn emit_to(
    conn: &mut DbConn,
    endpoints: &[WebhookEndpoint],
    thread: &Thread,
    events: &[WebhookEvent],
    comment: &Comment,
) -> Result<(), AppError> {
    if !endpoints
        .iter()
        .any(|e| events.iter().any(|ev| e.wants(*ev)))
    {
        return Ok(());
    }
    let site = db::sites::find_by_id(conn, thread.site_id)?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("thread {} has no site", thread.id.0)))?;
    let at = now();
    for &event in events {
        let document = payload(event, &site, thread, comment, at);
        for endpoint in endpoints.iter().filter(|e| e.wants(event)) {
            let body = match endpoint.format {
                PayloadFormat::Kith => document.to_string(),
                PayloadFormat::Slack => slack(event, &site, thread, comment).to_string(),
                PayloadFormat::Discord => discord(event, &site, thread, comment).to_string(),
            };
            db::webhooks::insert_delivery(conn, endpoint.id, event, &body, at.naive_utc())?;
        }
    }
    Ok(())
}

fn permalink(thread: &Thread, comment: &Comment) -> Option<String> {
    (!thread.url.is_empty()).then(|| {
        let page = thread.url.split('#').next().unwrap_or_default();
        format!("{page}#comment-{}", comment.id.0)
    })
}

fn title(thread: &Thread) -> &str {
    if thread.title.is_empty() {
        &thread.key
    } else {
        &thread.title
    }
}

/// kith's own payload (documented in `docs/webhooks.md`). A deleted comment's text is not
/// sent on.
pub fn payload(
    event: WebhookEvent,
    site: &Site,
    thread: &Thread,
    comment: &Comment,
    at: chrono::DateTime<chrono::Utc>,
) -> Value {
    let deleted = comment.status == CommentStatus::Deleted;
    json!({
        "event": event.as_str(),
        "occurred_at": at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "site": { "slug": site.slug, "name": site.name },
        "thread": { "key": thread.key, "url": thread.url, "title": thread.title },
        "comment": {
            "id": comment.id.0,
            "parent_id": comment.parent_id.map(|p| p.0),
            "author": comment.author,
            "html": if deleted { "" } else { comment.body_html.as_str() },
            "status": comment.status.as_str(),
            "owner": comment.owner,
            "permalink": permalink(thread, comment),
            "created_at": comment.created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "edited_at": comment.edited_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        },
    })
}

/// The comment's own text, shortened, for chat messages (never for a deleted comment).
fn excerpt(comment: &Comment) -> String {
    if comment.status == CommentStatus::Deleted {
        return String::new();
    }
    let text = comment.body_markdown.trim();
    let mut out: String = text.chars().take(EXCERPT_CHARS).collect();
    if text.chars().count() > EXCERPT_CHARS {
        out.push('…');
    }
    out
}

fn headline(event: WebhookEvent, site: &Site, thread: &Thread, comment: &Comment) -> String {
    format!(
        "{}: comment by {} {} on “{}”",
        site.name,
        comment.author,
        event.label(),
        title(thread)
    )
}

/// Slack's `mrkdwn` control characters, escaped as Slack documents.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A Slack incoming-webhook message: `text` (the notification's fallback) and `blocks`.
pub fn slack(event: WebhookEvent, site: &Site, thread: &Thread, comment: &Comment) -> Value {
    let headline = slack_escape(&headline(event, site, thread, comment));
    let link = permalink(thread, comment);
    let text = match &link {
        Some(url) => format!("{headline} <{}|open>", slack_escape(url)),
        None => headline.clone(),
    };
    let mut blocks = vec![json!({
        "type": "section",
        "text": { "type": "mrkdwn", "text": text },
    })];
    let quote = excerpt(comment);
    if !quote.is_empty() {
        blocks.push(json!({
            "type": "section",
            "text": { "type": "plain_text", "text": quote, "emoji": false },
        }));
    }
    json!({ "text": text, "blocks": blocks })
}

/// A Discord webhook message: `content` and one embed. Mentions in a commenter's text never
/// ping anyone (`allowed_mentions` is empty).
pub fn discord(event: WebhookEvent, site: &Site, thread: &Thread, comment: &Comment) -> Value {
    let mut embed = json!({
        "title": title(thread).chars().take(256).collect::<String>(),
        "description": excerpt(comment),
        "author": { "name": comment.author.chars().take(256).collect::<String>() },
        "timestamp": comment.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "footer": { "text": format!("{} · {}", site.name, event.as_str()) },
    });
    if let Some(url) = permalink(thread, comment) {
        embed["url"] = json!(url);
    }
    json!({
        "content": headline(event, site, thread, comment).chars().take(2000).collect::<String>(),
        "embeds": [embed],
        "allowed_mentions": { "parse": [] },
    })
}

// --- the admin's use-cases -------------------------------------------------------------------

/// A site's endpoints and their newest deliveries.
pub struct Overview {
    pub endpoints: Vec<WebhookEndpoint>,
    pub deliveries: Vec<Delivery>,
}

/// Deliveries listed in the admin area.
const RECENT_DELIVERIES: i64 = 50;

pub fn overview(conn: &mut DbConn, site: SiteId) -> Result<Overview, AppError> {
    Ok(Overview {
        endpoints: db::webhooks::list_endpoints(conn, site)?,
        deliveries: db::webhooks::list_recent(conn, site, RECENT_DELIVERIES)?,
    })
}

/// The most endpoints one site may have.
pub const MAX_ENDPOINTS: usize = 20;

/// Adds an endpoint; returns it with its secret (shown to the admin now, and again only on
/// request in the admin area or with `kith site webhook-secret`).
pub fn create(
    state: &AppState,
    conn: &mut DbConn,
    site: SiteId,
    url: &EndpointUrl,
    format: PayloadFormat,
    events: &[WebhookEvent],
) -> Result<(WebhookEndpoint, String), AppError> {
    let salt = secrets::random_token();
    let endpoint = write_tx(conn, |conn| {
        if db::webhooks::list_endpoints(conn, site)?.len() >= MAX_ENDPOINTS {
            return Err(AppError::new(
                ErrorKind::InvalidField,
                format!("a site may have at most {MAX_ENDPOINTS} webhook endpoints"),
            )
            .with_field("url"));
        }
        db::webhooks::insert_endpoint(
            conn,
            site,
            url.as_str(),
            format,
            events,
            &salt,
            now().naive_utc(),
        )
    })?;
    Ok((endpoint, state.keys.webhook_secret(&salt)))
}

fn endpoint_not_found() -> AppError {
    AppError::new(ErrorKind::NotFound, "no such webhook endpoint on this site")
}

/// An endpoint's secret, for the admin who asks to see it.
pub fn secret(
    state: &AppState,
    conn: &mut DbConn,
    site: SiteId,
    id: i64,
) -> Result<String, AppError> {
    db::webhooks::find_endpoint(conn, site, id)?.ok_or_else(endpoint_not_found)?;
    let salt = db::webhooks::find_secret_salt(conn, id)?.ok_or_else(endpoint_not_found)?;
    Ok(state.keys.webhook_secret(&salt))
}

/// Gives an endpoint a new secret (the old one stops verifying at once); returns it.
pub fn rotate_secret(
    state: &AppState,
    conn: &mut DbConn,
    site: SiteId,
    id: i64,
) -> Result<String, AppError> {
    let salt = secrets::random_token();
    let found = write_tx(conn, |conn| {
        db::webhooks::update_secret_salt(conn, site, id, &salt)
    })?;
    if !found {
        return Err(endpoint_not_found());
    }
    Ok(state.keys.webhook_secret(&salt))
}

/// Removes an endpoint with its queued and past deliveries.
pub fn delete(conn: &mut DbConn, site: SiteId, id: i64) -> Result<(), AppError> {
    let found = write_tx(conn, |conn| db::webhooks::delete_endpoint(conn, site, id))?;
    if !found {
        return Err(endpoint_not_found());
    }
    Ok(())
}
