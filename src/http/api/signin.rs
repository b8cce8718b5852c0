//! Signing in with an OpenID Connect provider or GitHub, in a popup the embed opens:
//! `…/auth/oidc/{provider}/start` sends the reader to the provider, which sends them back to
//! `…/callback`. The callback's page hands the session to the page that opened the popup
//! (`postMessage` to that origin only) and closes. A start with `poll` (the hash of a session
//! token the embed drew) first answers a start page that checks its opener and binds the flow to
//! the browser by a cookie; that session opens under the hash, so the embed finds itself signed
//! in even when the popup cannot reach it (docs/signin.md). A browser gets readable pages, errors
//! included; a program asking for JSON gets the usual JSON errors.

use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::{AppError, ErrorKind};
use crate::http::client::{Client, rate_limit};
use crate::http::edge::wants_page;
use crate::notify::texts::fill;
use crate::secrets;
use crate::service::signin::{self, Callback, Failure, SignedIn, Started};
use crate::spam::limiter::Action;
use crate::state::AppState;

/// `?origin=&poll=`
#[derive(Debug, Deserialize, IntoParams)]
pub struct StartQuery {
    /// The origin of the page whose comment form opened the popup (one of the site's allowed
    /// origins); the session is handed to it.
    origin: String,
    /// The SHA-256 (64 lower-case hex digits) of a session token the page drew itself. With
    /// it, the answer is a page that makes sure the window that opened it started the sign-in
    /// (then goes on to the provider) and sets a cookie binding the flow to this browser; the
    /// session opens under this hash, so the page finds itself signed in even when the popup
    /// can no longer reach it. Without it, 303 straight to the provider.
    poll: Option<String>,
}

/// What the provider appends to the callback URL.
#[derive(Debug, Deserialize, IntoParams)]
pub struct CallbackQuery {
    /// The `state` kith sent (single use).
    state: Option<String>,
    /// The authorization code.
    code: Option<String>,
    /// The provider's refusal, e.g. `access_denied`.
    error: Option<String>,
}

/// `GET /api/v1/sites/{site}/auth/oidc/{provider}/start`: rate limited per client address
/// (`rate_limits.signin`), since each start stores a flow.
#[utoipa::path(get, path = "/api/v1/sites/{site}/auth/oidc/{provider}/start", tag = "sign-in",
    params(("site" = String, Path, description = "The site's slug"),
        ("provider" = String, Path, description = "A provider id the site offers"),
        StartQuery),
    responses(
        (status = 200, description = "With `poll`: the start page (a flow was stored; the page \
            goes on to the provider once the opener confirms), with the flow's binding cookie",
            body = String, content_type = "text/html"),
        (status = 303, description = "Off to the provider (`Location`); a flow was stored"),
        (status = 429, description = "Too many sign-ins started from this address (`rate_limited`)",
            body = crate::http::api::openapi::ErrorResponse),
        (status = 502, description = "The provider cannot be reached (`provider_unavailable`)",
            body = crate::http::api::openapi::ErrorResponse)))]
pub async fn start_signin(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: web::Query<StartQuery>,
    Client(client): Client,
) -> HttpResponse {
    let (site, provider) = path.into_inner();
    if let Err(error) = rate_limit(&state, Action::Signin, &client).await {
        return failure_response(&state, &req, &Failure::from(error));
    }
    let query = query.into_inner();
    let started = signin::start(
        &state,
        site.clone(),
        &provider,
        &query.origin,
        query.poll.as_deref(),
    )
    .await;
    match started {
        Ok(started) => match started.binding.clone() {
            Some(binding) => start_page(&state, &site, &query, &started, binding),
            None => HttpResponse::SeeOther()
                .insert_header((header::LOCATION, started.location))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .insert_header((header::REFERRER_POLICY, "no-referrer"))
                .finish(),
        },
        Err(error) => failure_response(&state, &req, &Failure::from(error)),
    }
}

#[derive(Template)]
#[template(path = "signin/start.html", config = "src/templates/askama.toml")]
struct StartPage<'a> {
    lang: &'a str,
    title: &'a str,
    message: String,
    refused: &'a str,
    origin: &'a str,
    poll: &'a str,
    next: &'a str,
    script_nonce: &'a str,
}

/// The start page of a flow whose session the page collects itself: it asks the window that
/// opened it whether that window started this sign-in (`postMessage` to the page's origin, the
/// embed answers only for the session hash it drew) and only then goes on to the provider, so
/// that a link to a start URL cannot make someone else's browser sign in for the link's author.
/// Its cookie (path: the site's OIDC routes) binds the flow to this browser for the callback.
fn start_page(
    state: &AppState,
    site: &str,
    query: &StartQuery,
    started: &Started,
    (cookie_name, cookie_value): (String, String),
) -> HttpResponse {
    let texts = &state.texts.get(&started.language).oidc;
    let script_nonce = secrets::random_hex::<16>();
    let view = StartPage {
        lang: &started.language,
        title: &texts.start_title,
        message: fill(&texts.start_text, &[("provider", &started.provider_label)]),
        refused: &texts.err_no_opener,
        origin: &query.origin,
        poll: query.poll.as_deref().unwrap_or_default(),
        next: &started.location,
        script_nonce: &script_nonce,
    };
    let body = match view.render() {
        Ok(body) => body,
        Err(e) => return AppError::internal(e).error_response(),
    };
    let cookie = Cookie::build(cookie_name, cookie_value)
        .path(format!("/api/v1/sites/{site}/auth/oidc/"))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.server.public_url.starts_with("https:"))
        .max_age(CookieDuration::seconds(
            i64::try_from(state.config.signin.flow_ttl_secs).unwrap_or(i64::MAX),
        ))
        .finish();
    let mut response = page_response(StatusCode::OK, body, &script_nonce);
    if let Err(e) = response.add_cookie(&cookie) {
        return AppError::internal(e).error_response();
    }
    response
}

/// `GET /api/v1/sites/{site}/auth/oidc/{provider}/callback`
#[utoipa::path(get, path = "/api/v1/sites/{site}/auth/oidc/{provider}/callback", tag = "sign-in",
    params(("site" = String, Path, description = "The site's slug"),
        ("provider" = String, Path, description = "The provider id"),
        CallbackQuery),
    responses(
        (status = 200, description = "Signed in: an HTML page that posts \
            `{kith: \"signed-in\", token, reader: {name, provider}}` to the opener's origin and \
            closes (for a flow started with `poll`: without `token`, since the session opened \
            under the page's own token)", body = String, content_type = "text/html"),
        (status = 403, description = "`invalid_signin_state` (unknown or used state; a flow \
            started with `poll` in another browser), `signin_failed`, `reader_banned`",
            body = crate::http::api::openapi::ErrorResponse),
        (status = 410, description = "Signing in took too long (`signin_expired`)",
            body = crate::http::api::openapi::ErrorResponse),
        (status = 502, description = "The provider cannot be reached (`provider_unavailable`)",
            body = crate::http::api::openapi::ErrorResponse)))]
pub async fn finish_signin(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: web::Query<CallbackQuery>,
) -> HttpResponse {
    let (site, provider) = path.into_inner();
    let query = query.into_inner();
    let bindings = req
        .cookies()
        .map(|cookies| {
            cookies
                .iter()
                .filter(|c| c.name().starts_with("kith_signin_"))
                .map(|c| (c.name().to_string(), c.value().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let callback = Callback {
        state: query.state,
        code: query.code,
        error: query.error,
        bindings,
    };
    match signin::finish(&state, site, &provider, callback).await {
        Ok(signed_in) => signed_in_page(&state, &signed_in),
        Err(failure) => failure_response(&state, &req, &failure),
    }
}

struct PageView {
    lang: String,
    title: String,
    message: String,
    /// The error's own message (English, technical), under the localized one.
    detail: String,
    kind: &'static str,
    origin: String,
    token: String,
    name: String,
    provider: String,
    error: &'static str,
    script_nonce: String,
}

#[derive(Template)]
#[template(path = "signin/done.html", config = "src/templates/askama.toml")]
struct Page<'a> {
    p: &'a PageView,
}

fn signed_in_page(state: &AppState, signed_in: &SignedIn) -> HttpResponse {
    let texts = &state.texts.get(&signed_in.language).oidc;
    page(
        StatusCode::OK,
        PageView {
            lang: signed_in.language.clone(),
            title: texts.signed_in_title.clone(),
            message: fill(&texts.signed_in_text, &[("author", &signed_in.name)]),
            detail: String::new(),
            kind: "signed-in",
            origin: signed_in.origin.clone(),
            token: signed_in.token.clone(),
            name: signed_in.name.clone(),
            provider: signed_in.provider.clone(),
            error: "",
            script_nonce: secrets::random_hex::<16>(),
        },
    )
}

/// A page for a browser, the JSON error for a program.
fn failure_response(state: &AppState, req: &HttpRequest, failure: &Failure) -> HttpResponse {
    if !wants_page(req) {
        return failure.error.error_response();
    }
    let language = failure.language.as_deref().unwrap_or("en");
    let texts = &state.texts.get(language).oidc;
    let message = match failure.error.kind {
        ErrorKind::InvalidSigninState => &texts.err_state,
        ErrorKind::SigninExpired => &texts.err_expired,
        ErrorKind::SigninFailed => &texts.err_refused,
        ErrorKind::ProviderUnavailable => &texts.err_unavailable,
        _ => &texts.err_other,
    };
    page(
        failure.error.kind.status(),
        PageView {
            lang: language.to_string(),
            title: texts.failed_title.clone(),
            message: message.clone(),
            detail: failure.error.message.clone(),
            kind: "failed",
            origin: failure.origin.clone().unwrap_or_default(),
            token: String::new(),
            name: String::new(),
            provider: String::new(),
            error: failure.error.kind.code(),
            script_nonce: secrets::random_hex::<16>(),
        },
    )
}

fn page(status: StatusCode, view: PageView) -> HttpResponse {
    let body = match (Page { p: &view }).render() {
        Ok(body) => body,
        Err(e) => return AppError::internal(e).error_response(),
    };
    page_response(status, body, &view.script_nonce)
}

/// A popup page with its headers: its own Content-Security-Policy (only its inline script, by
/// nonce), never cached, no referrer (the URLs carry a state or a code).
fn page_response(status: StatusCode, body: String, script_nonce: &str) -> HttpResponse {
    let csp = format!(
        "default-src 'none'; script-src 'nonce-{script_nonce}'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    );
    let mut response = HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body);
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}
