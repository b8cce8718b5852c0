use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::{Deserialize, Serialize};

use super::views::CommentResponse;
use crate::domain::thread::{Cursor, Sort, ThreadKey};
use crate::domain::tree::Node;
use crate::error::{AppError, ErrorKind};
use crate::http::client::{Client, rate_limit};
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
        (an empty thread when none was posted yet)", body = ThreadResponse)))]
pub async fn get_thread(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ThreadQuery>,
) -> Result<HttpResponse, AppError> {
    let slug = path.into_inner();
    let query = query.into_inner();
    let from = reads::read_from(&state.keys, query.fresh.as_deref(), service::now());
    let (key, sort, cursor, limit) = parse_query(query, state.config.limits.thread_key)?;
    let response = reads::read(&state, from, move |state, conn| {
        let site = sites::find(state, conn, &slug)?;
        let page = match threads::list(conn, &site, &key, sort, cursor, limit) {
            Ok(page) => page,
            // A page nobody has commented on yet is an empty thread, not an error: every
            // page without comments would otherwise log a failed request in the console.
            Err(e) if e.kind == ErrorKind::ThreadNotFound => {
                return Ok(ThreadResponse::empty(key.as_str()));
            }
            Err(e) => return Err(e),
        };
        Ok(ThreadResponse {
            thread: ThreadInfo {
                key: page.thread.key,
                title: page.thread.title,
                url: page.thread.url,
                closed: page.thread.closed
                    || site
                        .settings
                        .auto_closed(page.thread.created_at, service::now()),
            },
            total: page.total,
            comments: page
                .comments
                .into_iter()
                .map(|n| CommentResponse::from_node(n, &state.keys))
                .collect(),
            next_cursor: page.next_cursor.map(|c| c.encode()),
        })
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-cache"))
        .json(response))
}

/// One step through the tree for the HTML fragment: open a comment, or close it.
pub enum Event {
    Open(HtmlComment),
    Close(bool),
}

pub struct HtmlComment {
    id: i64,
    /// `comment`, `pingback` or `trackback`.
    kind: &'static str,
    author: String,
    website: Option<String>,
    deleted: bool,
    created_at: String,
    created_human: String,
    html: String,
    has_replies: bool,
}

#[derive(Template)]
#[template(path = "thread.html", config = "src/templates/askama.toml")]
struct ThreadFragment {
    heading: String,
    /// The thread's Atom feed.
    feed_url: String,
    events: Vec<Event>,
    /// Pingbacks and trackbacks: listed after the comments, without replies.
    linkbacks: Vec<HtmlComment>,
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
    responses((status = 200, description = "The thread as an HTML fragment",
        content_type = "text/html", body = String)))]
pub async fn get_thread_html(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    path: web::Path<String>,
    query: web::Query<ThreadQuery>,
) -> Result<HttpResponse, AppError> {
    let slug = path.into_inner();
    let query = query.into_inner();
    let from = reads::read_from(&state.keys, query.fresh.as_deref(), service::now());
    let (key, sort, cursor, limit) = parse_query(query, state.config.limits.thread_key)?;
    let feed_url = super::feeds::thread_feed_url(
        &super::feeds::public_base(&state, &req),
        &slug,
        key.as_str(),
    );
    let page = reads::read(&state, from, move |state, conn| {
        let site = sites::find(state, conn, &slug)?;
        match threads::list(conn, &site, &key, sort, cursor, limit) {
            Ok(page) => Ok(Some((page.total, page.comments))),
            Err(e) if e.kind == ErrorKind::ThreadNotFound => Ok(None),
            Err(e) => Err(e),
        }
    })
    .await?;
    let (total, nodes) = page.unwrap_or_default();
    let mut events = Vec::new();
    let mut linkbacks = Vec::new();
    flatten(nodes, &mut events, &mut linkbacks);
    let heading = match total {
        1 => "1 comment".to_string(),
        n => format!("{n} comments"),
    };
    let html = ThreadFragment {
        heading,
        feed_url,
        events,
        linkbacks,
    }
    .render()
    .map_err(AppError::internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((
            actix_web::http::header::CONTENT_SECURITY_POLICY,
            crate::http::headers::FRAGMENT_CSP,
        ))
        .content_type("text/html; charset=utf-8")
        .body(html))
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
    let keys = body.into_inner().keys;
    let counts = reads::read(&state, ReadFrom::Replica, move |state, conn| {
        let site = sites::find(state, conn, &slug)?;
        threads::counts(conn, &site, &keys, state.config.limits.thread_key)
    })
    .await?;
    Ok(HttpResponse::Ok().json(CountsResponse { counts }))
}
