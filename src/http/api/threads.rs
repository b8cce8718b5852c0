use std::collections::HashMap;

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::views::CommentResponse;
use crate::domain::site::Site;
use crate::domain::thread::{Cursor, Sort, ThreadKey};
use crate::domain::tree::Node;
use crate::error::{AppError, ErrorKind};
use crate::http::client::{Client, rate_limit};
use crate::http::page_cache::{Format, Page, PageKey};
use crate::metrics::CacheName;
use crate::secrets::Keys;
use crate::service::reads::{self, ReadFrom};
use crate::service::{self, sites, threads};
use crate::spam::limiter::Action;
use crate::state::AppState;

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 100;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ThreadQuery {
    /// The thread's key: the page's path, starting with `/`.
    key: String,
    #[serde(default)]
    #[param(inline)]
    sort: Sort,
    /// Top-level comments per page, 1 to 100 (default 50).
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// The `read_marker` of this reader's latest comment write, while it lasts: the read then
    /// comes from the primary database, never from a replica that may lag behind.
    fresh: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ThreadResponse {
    thread: ThreadInfo,
    total: i64,
    comments: Vec<CommentResponse>,
    next_cursor: Option<String>,
}

impl ThreadResponse {
    fn empty(key: &str) -> Self {
        Self {
            thread: ThreadInfo {
                key: key.to_owned(),
                title: String::new(),
                url: String::new(),
                closed: false,
            },
            total: 0,
            comments: Vec::new(),
            next_cursor: None,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct ThreadInfo {
    key: String,
    title: String,
    url: String,
    closed: bool,
}

fn parse_query(
    query: ThreadQuery,
    max_key: usize,
) -> Result<(ThreadKey, Sort, Option<Cursor>, i64), AppError> {
    let key =
        ThreadKey::parse(&query.key, max_key).map_err(|e| AppError::from(e).with_field("key"))?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::new(
            ErrorKind::MalformedQuery,
            format!("limit must be 1 to {MAX_LIMIT}"),
        ));
    }
    let cursor = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(raw) => Some(
            Cursor::parse(raw)
                .filter(|c| c.sort == query.sort)
                .ok_or_else(|| {
                    AppError::new(
                        ErrorKind::MalformedQuery,
                        "cursor is not valid for this sort",
                    )
                })?,
        ),
    };
    Ok((key, query.sort, cursor, limit))
}

/// `GET /api/v1/sites/{site}/thread?key=…&sort=…&limit=…&cursor=…`
#[utoipa::path(get, path = "/api/v1/sites/{site}/thread", tag = "threads",
    params(("site" = String, Path, description = "The site's slug"), ThreadQuery),
    responses((status = 200, description = "One page of the thread's comments as a tree \
        (an empty thread when none was posted yet); gzip or brotli by `Accept-Encoding`, with \
        a strong `ETag`", body = ThreadResponse),
        (status = 304, description = "Not modified: `If-None-Match` named the current page")))]
pub async fn get_thread(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<ThreadQuery>,
) -> Result<HttpResponse, AppError> {
    let page = cached_page(&state, Format::Json, path.into_inner(), query.into_inner()).await?;
    Ok(page.respond(&req, &[]))
}

/// The page for a thread request: from the cache when it is current, else rendered (on the
/// blocking pool) and kept.
async fn cached_page(
    state: &AppState,
    format: Format,
    slug: String,
    query: ThreadQuery,
) -> Result<Arc<Page>, AppError> {
    let raw_cursor = query.cursor.clone().filter(|c| !c.is_empty());
    let now = service::now();
    let from = reads::read_from(&state.keys, query.fresh.as_deref(), now);
    let (key, sort, cursor, limit) = parse_query(query, state.config.limits.thread_key)?;
    // A replica may lag the announcements (they leave the primary at commit): pages read from
    // replicas are kept apart from the primary's (a reader who just wrote reads the primary's)
    // and only for `read_your_writes_secs`, the lag the replicas are trusted with.
    let from_primary = from == ReadFrom::Primary || state.replicas.is_empty();
    let replica_lifetime =
        chrono::Duration::seconds(i64::from(state.config.database.read_your_writes_secs));
    let page_key = PageKey {
        format: format.clone(),
        site: slug,
        thread_key: key.as_str().to_owned(),
        sort,
        limit,
        cursor: raw_cursor,
        primary: from_primary,
    };
    let current = |page_key: &PageKey| {
        let site = sites::cached(state, &page_key.site)?;
        let stamp = state.changes.stamp(site.id, key.as_str());
        state.pages.get(page_key, stamp, &site, now)
    };
    if let Some(page) = current(&page_key) {
        state.metrics.cache_lookups(CacheName::Pages, true, 1);
        return Ok(page);
    }
    let _turn = state.pages.render_turn().await?;
    // Rendered by a request that had the turn before this one?
    if let Some(page) = current(&page_key) {
        state.metrics.cache_lookups(CacheName::Pages, true, 1);
        return Ok(page);
    }
    state.metrics.cache_lookups(CacheName::Pages, false, 1);
    let slug = page_key.site.clone();
    let page = reads::read(state, from, move |state, conn| {
        let site = sites::find(state, conn, &slug)?;
        // Before reading: a change committed from here on makes this page stale.
        let stamp = state.changes.stamp(site.id, key.as_str());
        let listed = match threads::list(conn, &site, &key, sort, cursor, limit) {
            Ok(page) => Some(page),
            // A page nobody has commented on yet is an empty thread, not an error: every
            // page without comments would otherwise log a failed request in the console.
            Err(e) if e.kind == ErrorKind::ThreadNotFound => None,
            Err(e) => return Err(e),
        };
        let now = service::now();
        let closes = listed.as_ref().and_then(|page| {
            site.settings
                .auto_close_at(page.thread.created_at)
                .filter(|at| *at > now && !page.thread.closed)
        });
        let valid_until = match (from_primary, closes) {
            (true, closes) => closes,
            (false, Some(at)) => Some(at.min(now + replica_lifetime)),
            (false, None) => Some(now + replica_lifetime),
        };
        let (content_type, body) = match &format {
            Format::Json => {
                let response = match listed {
                    Some(page) => ThreadResponse::of(page, &site, &state.keys, now),
                    None => ThreadResponse::empty(key.as_str()),
                };
                let body = serde_json::to_vec(&response).map_err(AppError::internal)?;
                ("application/json", body)
            }
            Format::Html { base } => {
                let (total, nodes) = listed.map(|p| (p.total, p.comments)).unwrap_or_default();
                let feed_url = super::feeds::thread_feed_url(base, &slug, key.as_str());
                let webmention = state.config.webmention.enabled.then(|| {
                    format!(
                        "{base}/api/v1/sites/{}/webmention",
                        url::form_urlencoded::byte_serialize(slug.as_bytes()).collect::<String>()
                    )
                });
                (
                    "text/html; charset=utf-8",
                    render_fragment(total, nodes, feed_url, webmention)?.into_bytes(),
                )
            }
        };
        Ok(Page::new(stamp, site, valid_until, content_type, body))
    })
    .await?;
    let page = Arc::new(page);
    state.pages.put(page_key, page.clone());
    Ok(page)
}

impl ThreadResponse {
    fn of(page: threads::ThreadPage, site: &Site, keys: &Keys, now: DateTime<Utc>) -> Self {
        ThreadResponse {
            thread: ThreadInfo {
                key: page.thread.key,
                title: page.thread.title,
                url: page.thread.url,
                closed: page.thread.closed
                    || site.settings.auto_closed(page.thread.created_at, now),
            },
            total: page.total,
            comments: page
                .comments
                .into_iter()
                .map(|n| {
                    CommentResponse::from_node(n, keys, site.settings.avatars, &page.reactions)
                })
                .collect(),
            next_cursor: page.next_cursor.map(|c| c.encode()),
        }
    }
}

/// One step through the tree for the HTML fragment: open a comment, or close it.
pub enum Event {
    Open(HtmlComment),
    Close(bool),
}

pub struct HtmlComment {
    id: i64,
    /// `comment`, `pingback`, `trackback` or `webmention`.
    kind: &'static str,
    author: String,
    website: Option<String>,
    deleted: bool,
    created_at: String,
    created_human: String,
    html: String,
    has_replies: bool,
    /// The author was signed in when posting.
    verified: bool,
}

#[derive(Template)]
#[template(path = "thread.html", config = "src/templates/askama.toml")]
struct ThreadFragment {
    heading: String,
    /// The thread's Atom feed.
    feed_url: String,
    events: Vec<Event>,
    /// Webmentions, pingbacks and trackbacks: listed after the comments, without replies.
    linkbacks: Vec<HtmlComment>,
    /// The site's Webmention endpoint, advertised with `<link rel="webmention">`.
    webmention: Option<String>,
}

fn flatten(nodes: Vec<Node>, events: &mut Vec<Event>, linkbacks: &mut Vec<HtmlComment>) {
    for node in nodes {
        let c = node.comment;
        let has_replies = !node.replies.is_empty();
        let linkback = c.kind != crate::domain::comment::CommentKind::Comment;
        let html = HtmlComment {
            id: c.id.0,
            kind: c.kind.as_str(),
            deleted: c.status == crate::domain::comment::CommentStatus::Deleted,
            author: if c.author.is_empty() {
                "Anonymous".into()
            } else {
                c.author
            },
            website: c.website,
            created_at: c.created_at.to_rfc3339(),
            created_human: c.created_at.format("%B %-d, %Y at %H:%M UTC").to_string(),
            html: c.body_html.into_inner(),
            has_replies,
            verified: c.signed_in_with.is_some(),
        };
        if linkback && !has_replies {
            linkbacks.push(html);
            continue;
        }
        events.push(Event::Open(html));
        flatten(node.replies, events, linkbacks);
        events.push(Event::Close(has_replies));
    }
}

/// `GET /api/v1/sites/{site}/thread.html?key=…`: the thread as HTML for readers without
/// JavaScript (a static site can include it at build time).
#[utoipa::path(get, path = "/api/v1/sites/{site}/thread.html", tag = "threads",
    params(("site" = String, Path, description = "The site's slug"), ThreadQuery),
    responses((status = 200, description = "The thread as an HTML fragment; gzip or brotli by \
        `Accept-Encoding`, with a strong `ETag`", content_type = "text/html", body = String),
        (status = 304, description = "Not modified: `If-None-Match` named the current page")))]
pub async fn get_thread_html(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<ThreadQuery>,
) -> Result<HttpResponse, AppError> {
    // The feed link names this server as the reader reached it (unless `server.public_url`
    // says), so it is part of what the page is kept by.
    let base = super::feeds::public_base(&state, &req);
    let page = cached_page(
        &state,
        Format::Html { base },
        path.into_inner(),
        query.into_inner(),
    )
    .await?;
    Ok(page.respond(
        &req,
        &[(
            actix_web::http::header::CONTENT_SECURITY_POLICY,
            crate::http::headers::FRAGMENT_CSP,
        )],
    ))
}

fn render_fragment(
    total: i64,
    nodes: Vec<Node>,
    feed_url: String,
    webmention: Option<String>,
) -> Result<String, AppError> {
    let mut events = Vec::new();
    let mut linkbacks = Vec::new();
    flatten(nodes, &mut events, &mut linkbacks);
    let heading = match total {
        1 => "1 comment".to_string(),
        n => format!("{n} comments"),
    };
    ThreadFragment {
        heading,
        feed_url,
        events,
        linkbacks,
        webmention,
    }
    .render()
    .map_err(AppError::internal)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CountsRequest {
    /// Thread keys (paths).
    #[schema(max_items = 100)]
    keys: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CountsResponse {
    /// Published comments per key asked for.
    counts: HashMap<String, i64>,
}

/// `POST /api/v1/sites/{site}/counts` with `{"keys": [...]}`.
#[utoipa::path(post, path = "/api/v1/sites/{site}/counts", tag = "threads",
    params(("site" = String, Path, description = "The site's slug")), request_body = CountsRequest,
    responses((status = 200, description = "Comment counts per thread key", body = CountsResponse)))]
pub async fn get_counts(
    state: web::Data<AppState>,
    path: web::Path<String>,
    Client(client): Client,
    body: web::Json<CountsRequest>,
) -> Result<HttpResponse, AppError> {
    let slug = path.into_inner();
    rate_limit(&state, Action::Counts, &client).await?;
    let counts = service::counts::counts(&state, slug, body.into_inner().keys).await?;
    Ok(HttpResponse::Ok().json(CountsResponse { counts }))
}
