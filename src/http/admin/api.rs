//! The admin JSON API under `/admin/api`: the same use-cases as the pages, for scripts and
//! tests. Every call needs a session; every state-changing call the `X-CSRF-Token` header.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::session::{ApiAdmin, ApiWriter, cleared_cookie, session_cookie};
use super::transfer;
use crate::domain::ban::Ban;
use crate::domain::comment::CommentId;
use crate::domain::fields::CommentBody;
use crate::domain::site::SiteId;
use crate::domain::thread::ThreadId;
use crate::error::AppError;
use crate::http::client::Client;
use crate::render::SafeHtml;
use crate::service::admin::moderate::{self, Action, QueueItem, Search, Tab};
use crate::service::admin::{auth, site_admin};
use crate::service::{self};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct LoginRequest {
    name: String,
    password: String,
}

#[derive(Serialize)]
struct SessionResponse {
    name: String,
    csrf_token: String,
}

/// `POST /admin/api/login` with `{"name", "password"}`: sets the session cookie.
pub(super) async fn login(
    state: web::Data<AppState>,
    Client(client): Client,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, AppError> {
    let LoginRequest { name, password } = body.into_inner();
    crate::http::client::rate_limit(&state, crate::spam::limiter::Action::Login, &client).await?;
    let login_state = state.get_ref().clone();
    let logged_in =
        web::block(move || auth::login(&login_state, &name, &password, client.ip)).await??;
    Ok(HttpResponse::Ok()
        .cookie(session_cookie(&state, logged_in.token))
        .json(SessionResponse {
            name: logged_in.session.name,
            csrf_token: logged_in.session.csrf_token,
        }))
}

/// `POST /admin/api/logout`: ends the session on the server.
pub(super) async fn logout(
    state: web::Data<AppState>,
    ApiWriter(session): ApiWriter,
) -> Result<HttpResponse, AppError> {
    service::blocking(&state, move |_, conn| auth::logout(conn, &session)).await?;
    Ok(HttpResponse::NoContent()
        .cookie(cleared_cookie(&state))
        .finish())
}

/// `GET /admin/api/session`: who is logged in, and the CSRF token to send.
pub(super) async fn get_session(ApiAdmin(session): ApiAdmin) -> HttpResponse {
    HttpResponse::Ok().json(SessionResponse {
        name: session.name,
        csrf_token: session.csrf_token,
    })
}

#[derive(Serialize, Deserialize)]
pub(super) struct AccountBody {
    #[serde(default)]
    display_name: String,
}

/// `GET /admin/api/account`: the name readers see on this admin's replies.
pub(super) async fn get_account(
    state: web::Data<AppState>,
    ApiAdmin(session): ApiAdmin,
) -> Result<HttpResponse, AppError> {
    let id = session.admin_id;
    let display_name = service::blocking(&state, move |_, conn| {
        crate::service::admin::auth::display_name(conn, id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(AccountBody { display_name }))
}

/// `PUT /admin/api/account` with `{"display_name"}` (empty: the site's name).
pub(super) async fn update_account(
    state: web::Data<AppState>,
    ApiWriter(session): ApiWriter,
    body: web::Json<AccountBody>,
) -> Result<HttpResponse, AppError> {
    let name = crate::domain::admin::DisplayName::parse(&body.display_name)?;
    let id = session.admin_id;
    service::blocking(&state, move |_, conn| {
        crate::service::admin::auth::set_display_name(conn, id, &name)
    })
    .await?;
    Ok(HttpResponse::Ok().json(AccountBody {
        display_name: body.into_inner().display_name.trim().to_string(),
    }))
}

/// A comment as admins see it: e-mail and IP included.
#[derive(Serialize)]
pub struct AdminCommentResponse {
    id: i64,
    site: String,
    thread_key: String,
    thread_title: String,
    thread_url: String,
    parent_id: Option<i64>,
    author: String,
    email: Option<String>,
    website: Option<String>,
    ip: Option<String>,
    html: SafeHtml,
    body: String,
    status: &'static str,
    held_reason: Option<String>,
    created_at: DateTime<Utc>,
    edited_at: Option<DateTime<Utc>>,
    pinned: bool,
    owner: bool,
    reports: i64,
    report_reasons: Vec<String>,
    /// How the author was identified: `owner`, `anonymous`, `confirmed-email`, `email-link`
    /// or `provider` (then `identified_as` names it).
    identified: &'static str,
    /// The same in words: "signed in with GitHub".
    identified_as: String,
    /// The provider a signed-in author used (`email`, `github`, …).
    signed_in_with: Option<String>,
    /// A signed-in author's identity as a ban names it (`github:583231`).
    reader: Option<String>,
}

impl From<QueueItem> for AdminCommentResponse {
    fn from(i: QueueItem) -> Self {
        let c = i.comment;
        Self {
            identified: i.identified.code(),
            identified_as: i.identified.describe(),
            signed_in_with: c.signed_in_with.map(|p| p.as_str().to_string()),
            reader: i.reader_key,
            id: c.id.0,
            site: i.site_slug,
            thread_key: i.thread_key,
            thread_title: i.thread_title,
            thread_url: i.thread_url,
            parent_id: c.parent_id.map(|p| p.0),
            author: c.author,
            email: c.email,
            website: c.website,
            ip: c.client_ip,
            html: c.body_html,
            body: c.body_markdown,
            status: c.status.as_str(),
            held_reason: c.held_reason,
            created_at: c.created_at,
            edited_at: c.edited_at,
            pinned: c.pinned,
            owner: c.owner,
            reports: i.reports,
            report_reasons: i.report_reasons,
        }
    }
}

fn counts_json(counts: &[(Tab, i64)]) -> serde_json::Map<String, serde_json::Value> {
    counts
        .iter()
        .map(|(t, n)| (t.as_str().to_string(), serde_json::Value::from(*n)))
        .collect()
}

#[derive(Deserialize)]
pub struct QueueQuery {
    status: Option<String>,
    site: Option<String>,
    q: Option<String>,
    author: Option<String>,
    email: Option<String>,
    ip: Option<String>,
    page: Option<String>,
    p: Option<i64>,
}

/// Parses the queue's query into its tab, search, site slug and page number.
pub fn parse_queue_query(q: QueueQuery) -> Result<(Tab, Search, Option<String>, i64), AppError> {
    let tab = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => Tab::Pending,
        Some(s) => Tab::parse(s)?,
    };
    let search = Search::parse(q.q, q.author, q.email, q.ip, q.page)?;
    let site = q.site.filter(|s| !s.is_empty());
    Ok((tab, search, site, q.p.unwrap_or(1).clamp(1, 10_000)))
}

/// Looks up an optional site filter by slug.
pub fn site_id(
    state: &AppState,
    conn: &mut crate::db::DbConn,
    slug: Option<&str>,
) -> Result<Option<SiteId>, AppError> {
    match slug {
        None => Ok(None),
        Some(slug) => Ok(Some(service::sites::find(state, conn, slug)?.id)),
    }
}

/// `GET /admin/api/comments?status=pending&q=&author=&email=&ip=&page=&site=&p=`
pub(super) async fn list_comments(
    state: web::Data<AppState>,
    _admin: ApiAdmin,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, AppError> {
    let (tab, search, site, page) = parse_queue_query(query.into_inner())?;
    let body = service::blocking(&state, move |state, conn| {
        let site = site_id(state, conn, site.as_deref())?;
        let page = moderate::queue(conn, tab, &search, site, page)?;
        Ok(serde_json::json!({
            "status": page.tab.as_str(),
            "counts": counts_json(&page.counts),
            "comments": page.items.into_iter().map(AdminCommentResponse::from).collect::<Vec<_>>(),
            "has_more": page.has_more,
        }))
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

pub(super) async fn get_comment(
    state: web::Data<AppState>,
    _admin: ApiAdmin,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = CommentId(path.into_inner());
    let item = service::blocking(&state, move |_, conn| moderate::find(conn, id)).await?;
    Ok(HttpResponse::Ok().json(AdminCommentResponse::from(item)))
}

#[derive(Deserialize)]
pub struct ModerateRequest {
    ids: Vec<i64>,
    action: String,
}

/// `POST /admin/api/comments/moderate` with `{"ids": [..], "action": "approve"}`.
pub(super) async fn moderate_comments(
    state: web::Data<AppState>,
    _admin: ApiWriter,
    body: web::Json<ModerateRequest>,
) -> Result<HttpResponse, AppError> {
    let ModerateRequest { ids, action } = body.into_inner();
    let action = Action::parse(&action)?;
    let ids: Vec<CommentId> = ids.into_iter().map(CommentId).collect();
    let changed = service::blocking(&state, move |state, conn| {
        moderate::apply(state, conn, &ids, action)
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "changed": changed })))
}

#[derive(Deserialize)]
pub struct BodyRequest {
    body: String,
}

/// `PATCH /admin/api/comments/{id}` with `{"body": "…"}`.
pub(super) async fn update_comment(
    state: web::Data<AppState>,
    _admin: ApiWriter,
    path: web::Path<i64>,
    body: web::Json<BodyRequest>,
) -> Result<HttpResponse, AppError> {
    let id = CommentId(path.into_inner());
    let text = CommentBody::parse(body.into_inner().body, state.config.limits.body)?;
    let item = service::blocking(&state, move |state, conn| {
        moderate::edit(state, conn, id, &text)?;
        moderate::find(conn, id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(AdminCommentResponse::from(item)))
}

/// `POST /admin/api/comments/{id}/reply` with `{"body": "…"}`: a reply as the site owner.
pub(super) async fn reply_comment(
    state: web::Data<AppState>,
    ApiWriter(session): ApiWriter,
    path: web::Path<i64>,
    body: web::Json<BodyRequest>,
) -> Result<HttpResponse, AppError> {
    let id = CommentId(path.into_inner());
    let text = CommentBody::parse(body.into_inner().body, state.config.limits.body)?;
    let item = service::blocking(&state, move |state, conn| {
        let reply = moderate::reply_as_owner(state, conn, id, session.admin_id, &text)?;
        moderate::find(conn, reply.id)
    })
    .await?;
    Ok(HttpResponse::Created().json(AdminCommentResponse::from(item)))
}

/// `POST /admin/api/comments/{id}/delete-by-author`
pub(super) async fn delete_by_author(
    state: web::Data<AppState>,
    _admin: ApiWriter,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = CommentId(path.into_inner());
    let deleted = service::blocking(&state, move |state, conn| {
        moderate::delete_by_author(state, conn, id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "deleted": deleted })))
}

#[derive(Serialize)]
struct BanResponse {
    id: i64,
    kind: &'static str,
    value: String,
    note: String,
    created_at: DateTime<Utc>,
}

impl From<Ban> for BanResponse {
    fn from(b: Ban) -> Self {
        Self {
            id: b.id,
            kind: b.kind.as_str(),
            value: b.value,
            note: b.note,
            created_at: b.created_at,
        }
    }
}

pub(super) async fn list_bans(
    state: web::Data<AppState>,
    _admin: ApiAdmin,
) -> Result<HttpResponse, AppError> {
    let bans = service::blocking(&state, |_, conn| moderate::list_bans(conn)).await?;
    let bans: Vec<BanResponse> = bans.into_iter().map(BanResponse::from).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "bans": bans })))
}

#[derive(Deserialize)]
pub struct BanRequest {
    kind: String,
    value: String,
    #[serde(default)]
    note: String,
}

/// `POST /admin/api/bans` with `{"kind": "email"|"ip"|"name", "value", "note"}`.
pub(super) async fn create_ban(
    state: web::Data<AppState>,
    _admin: ApiWriter,
    body: web::Json<BanRequest>,
) -> Result<HttpResponse, AppError> {
    let BanRequest { kind, value, note } = body.into_inner();
    let ban = service::blocking(&state, move |_, conn| {
        moderate::add_ban(conn, &kind, &value, &note)
    })
    .await?;
    Ok(HttpResponse::Created().json(BanResponse::from(ban)))
}

pub(super) async fn delete_ban(
    state: web::Data<AppState>,
    _admin: ApiWriter,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    service::blocking(&state, move |_, conn| moderate::lift_ban(conn, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
pub struct ThreadsQuery {
    site: Option<String>,
    q: Option<String>,
}

pub(super) async fn list_threads(
    state: web::Data<AppState>,
    _admin: ApiAdmin,
    query: web::Query<ThreadsQuery>,
) -> Result<HttpResponse, AppError> {
    let ThreadsQuery { site, q } = query.into_inner();
    let threads = service::blocking(&state, move |state, conn| {
        let site = site_id(state, conn, site.as_deref().filter(|s| !s.is_empty()))?;
        moderate::list_threads(conn, site, q.as_deref().filter(|s| !s.is_empty()))
    })
    .await?;
    let threads: Vec<serde_json::Value> = threads
        .into_iter()
        .map(|t| {
            serde_json::json!({
                "id": t.id, "site": t.site_slug, "key": t.key, "title": t.title, "url": t.url,
                "created_at": t.created_at, "closed": t.closed, "comments": t.comments,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "threads": threads })))
}

async fn set_closed(
    state: web::Data<AppState>,
    id: ThreadId,
    closed: bool,
) -> Result<HttpResponse, AppError> {
    service::blocking(&state, move |state, conn| {
        moderate::set_thread_closed(state, conn, id, closed)
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "closed": closed })))
}

/// `POST /admin/api/threads/{id}/close`
pub(super) async fn close_thread(
    state: web::Data<AppState>,
    _admin: ApiWriter,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    set_closed(state, ThreadId(path.into_inner()), true).await
}

/// `POST /admin/api/threads/{id}/reopen`
pub(super) async fn reopen_thread(
    state: web::Data<AppState>,
    _admin: ApiWriter,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    set_closed(state, ThreadId(path.into_inner()), false).await
}

fn site_json(site: &crate::domain::site::Site) -> serde_json::Value {
    serde_json::json!({
        "slug": site.slug,
        "name": site.name,
        "allowed_origins": site.allowed_origins.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "settings": site.settings,
    })
}

pub(super) async fn list_sites(
    state: web::Data<AppState>,
    _admin: ApiAdmin,
) -> Result<HttpResponse, AppError> {
    let sites = service::blocking(&state, |_, conn| site_admin::list(conn)).await?;
    let sites: Vec<serde_json::Value> = sites.iter().map(site_json).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "sites": sites })))
}

pub(super) async fn get_site(
    state: web::Data<AppState>,
    _admin: ApiAdmin,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = path.into_inner();
    let site = service::blocking(&state, move |_, conn| site_admin::find(conn, &slug)).await?;
    Ok(HttpResponse::Ok().json(site_json(&site)))
}

/// `POST /admin/api/sites` with the site form's fields as JSON.
pub(super) async fn create_site(
    state: web::Data<AppState>,
    _admin: ApiWriter,
    body: web::Json<site_admin::SiteForm>,
) -> Result<HttpResponse, AppError> {
    let form = body.into_inner();
    let site = service::blocking(&state, move |state, conn| {
        site_admin::create(state, conn, &form)
    })
    .await?;
    Ok(HttpResponse::Created().json(site_json(&site)))
}

/// `PUT /admin/api/sites/{slug}` with the site form's fields as JSON.
pub(super) async fn update_site(
    state: web::Data<AppState>,
    _admin: ApiWriter,
    path: web::Path<String>,
    body: web::Json<site_admin::SiteForm>,
) -> Result<HttpResponse, AppError> {
    let slug = path.into_inner();
    let form = body.into_inner();
    let site = service::blocking(&state, move |state, conn| {
        site_admin::update(state, conn, &slug, &form)
    })
    .await?;
    Ok(HttpResponse::Ok().json(site_json(&site)))
}

/// `GET /admin/api/dashboard`: comments per day for 30 days and the queue sizes.
pub(super) async fn get_dashboard(
    state: web::Data<AppState>,
    _admin: ApiAdmin,
) -> Result<HttpResponse, AppError> {
    let d = service::blocking(&state, |_, conn| moderate::dashboard(conn)).await?;
    let per_day: Vec<serde_json::Value> = d
        .per_day
        .iter()
        .map(|(day, n)| serde_json::json!({ "day": day.to_string(), "comments": n }))
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "per_day": per_day,
        "counts": counts_json(&d.counts),
        "latest": d.latest.into_iter().map(AdminCommentResponse::from).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
pub struct ImportQuery {
    format: Option<String>,
    dry_run: Option<String>,
    skip_pingbacks: Option<String>,
    map_host: Option<String>,
    strip_host: Option<String>,
}

/// `POST /admin/api/sites/{slug}/import?format=&dry_run=&skip_pingbacks=&map_host=&strip_host=`
/// with the file's raw bytes as the body (at most `server.max_import_bytes`): the summary.
pub(super) async fn import_site(
    state: web::Data<AppState>,
    req: HttpRequest,
    _admin: ApiWriter,
    path: web::Path<String>,
    query: web::Query<ImportQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner();
    let options = transfer::options(
        q.format.as_deref(),
        q.dry_run.as_deref(),
        q.skip_pingbacks.as_deref(),
        q.map_host.as_deref(),
        q.strip_host.as_deref(),
    )?;
    let bytes = transfer::read_limited(&state, &req, payload).await?;
    let summary = transfer::import(&state, path.into_inner(), bytes, options).await?;
    Ok(HttpResponse::Ok().json(transfer::summary_json(&summary)))
}

#[derive(Deserialize)]
pub struct ExportQuery {
    format: Option<String>,
}

/// `GET /admin/api/sites/{slug}/export?format=kith|wordpress|disqus`: the site as a file download.
pub(super) async fn export_site(
    state: web::Data<AppState>,
    _admin: ApiAdmin,
    path: web::Path<String>,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, AppError> {
    transfer::export(&state, path.into_inner(), query.format.as_deref()).await
}
