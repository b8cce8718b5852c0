//! Atom feeds: `GET …/thread.atom?key=…` (one page's comments) and `GET …/feed.atom` (the
//! whole site's), the newest 50 approved comments each. Answers carry a strong `ETag` (a hash
//! of the feed) and `Last-Modified` (its newest entry), and a conditional request that matches
//! gets `304 Not Modified`: `If-None-Match` when sent, else `If-Modified-Since`.

use std::time::SystemTime;

use actix_web::http::header::{self, HttpDate};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::domain::thread::ThreadKey;
use crate::error::AppError;
use crate::service::feeds;
use crate::service::feeds::Feed;
use crate::service::reads::{self, ReadFrom};
use crate::state::AppState;

pub const ATOM: &str = "application/atom+xml; charset=utf-8";

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The thread's key: the page's path, starting with `/`.
    key: String,
}

#[derive(Template)]
#[template(path = "feed.xml", config = "src/templates/askama.toml")]
struct AtomFeed<'a> {
    feed: &'a Feed,
    self_url: &'a str,
}

/// The address readers reach this server at: `server.public_url`, else the request's own.
pub fn public_base(state: &AppState, req: &HttpRequest) -> String {
    let configured = state.config.server.public_url.trim_end_matches('/');
    if !configured.is_empty() {
        return configured.to_string();
    }
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

/// The address of a thread's feed, for links to it (`thread.html`).
pub fn thread_feed_url(base: &str, site: &str, key: &str) -> String {
    let site: String = url::form_urlencoded::byte_serialize(site.as_bytes()).collect();
    let key: String = url::form_urlencoded::byte_serialize(key.as_bytes()).collect();
    format!("{base}/api/v1/sites/{site}/thread.atom?key={key}")
}

/// `GET /api/v1/sites/{site}/thread.atom?key=…`
#[utoipa::path(get, path = "/api/v1/sites/{site}/thread.atom", tag = "threads",
    params(("site" = String, Path, description = "The site's slug"), FeedQuery,
        ("If-None-Match" = Option<String>, Header, description = "An ETag of an earlier answer"),
        ("If-Modified-Since" = Option<String>, Header, description = "The Last-Modified of an earlier answer")),
    responses(
        (status = 200, description = "The thread's newest 50 approved comments as an Atom feed \
            (an empty feed when none was posted yet)", content_type = "application/atom+xml", body = String),
        (status = 304, description = "Not modified since the ETag or date the request names")))]
pub async fn get_thread_feed(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<FeedQuery>,
) -> Result<HttpResponse, AppError> {
    let slug = path.into_inner();
    let key = ThreadKey::parse(&query.key, state.config.limits.thread_key)
        .map_err(|e| AppError::from(e).with_field("key"))?;
    // a feed reader never just wrote: a replica serves it when there is one
    let feed = reads::read(&state, ReadFrom::Replica, move |state, conn| {
        feeds::thread_feed(state, conn, &slug, &key)
    })
    .await?;
    respond(&state, &req, &feed)
}

/// `GET /api/v1/sites/{site}/feed.atom`
#[utoipa::path(get, path = "/api/v1/sites/{site}/feed.atom", tag = "threads",
    params(("site" = String, Path, description = "The site's slug"),
        ("If-None-Match" = Option<String>, Header, description = "An ETag of an earlier answer"),
        ("If-Modified-Since" = Option<String>, Header, description = "The Last-Modified of an earlier answer")),
    responses(
        (status = 200, description = "The site's newest 50 approved comments as an Atom feed",
            content_type = "application/atom+xml", body = String),
        (status = 304, description = "Not modified since the ETag or date the request names")))]
pub async fn get_site_feed(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = path.into_inner();
    let feed = reads::read(&state, ReadFrom::Replica, move |state, conn| {
        feeds::site_feed(state, conn, &slug)
    })
    .await?;
    respond(&state, &req, &feed)
}

fn respond(state: &AppState, req: &HttpRequest, feed: &Feed) -> Result<HttpResponse, AppError> {
    let self_url = format!("{}{}", public_base(state, req), req.uri());
    let body = AtomFeed {
        feed,
        self_url: &self_url,
    }
    .render()
    .map_err(AppError::internal)?;
    let etag = format!(
        "\"{}\"",
        &hex::encode(Sha256::digest(body.as_bytes()))[..32]
    );
    let modified = SystemTime::from(feed.updated);
    let last_modified = HttpDate::from(modified).to_string();
    let unchanged = not_modified(req, &etag, feed.updated.timestamp());
    let mut answer = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    answer
        .insert_header((header::ETAG, etag))
        .insert_header((header::LAST_MODIFIED, last_modified))
        // readers may keep it, but ask again each time (cheap with the validators)
        .insert_header((header::CACHE_CONTROL, "no-cache"));
    if unchanged {
        return Ok(answer.finish());
    }
    Ok(answer.content_type(ATOM).body(body))
}

/// Whether the request's validators match: `If-None-Match` (any listed tag, weak or strong,
/// or `*`) when present, else `If-Modified-Since` not before the newest entry.
fn not_modified(req: &HttpRequest, etag: &str, updated_secs: i64) -> bool {
    let headers = req.headers();
    if let Some(value) = headers.get(header::IF_NONE_MATCH) {
        let Ok(value) = value.to_str() else {
            return false;
        };
        return value
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag);
    }
    let since = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<HttpDate>().ok())
        .map(SystemTime::from)
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_secs()).ok());
    since.is_some_and(|since| updated_secs <= since)
}
