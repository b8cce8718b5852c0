//! Signing in with an OpenID Connect provider or GitHub, in a popup the embed opens:
//! `…/auth/oidc/{provider}/start` sends the reader to the provider, which sends them back to
//! `…/callback`. The callback's page hands the session to the page that opened the popup
//! (`postMessage` to that origin only) and closes. A browser gets readable pages, errors
//! included; a program asking for JSON gets the usual JSON errors.

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
use crate::service::signin::{self, Callback, Failure, SignedIn};
use crate::spam::limiter::Action;
use crate::state::AppState;

/// `?origin=`
#[derive(Debug, Deserialize, IntoParams)]
pub struct StartQuery {
    /// The origin of the page whose comment form opened the popup (one of the site's allowed
    /// origins); the session is handed to it.
    origin: String,
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
    match signin::start(&state, site, &provider, &query.origin).await {
        Ok(location) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, location))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::REFERRER_POLICY, "no-referrer"))
            .finish(),
        Err(error) => failure_response(&state, &req, &Failure::from(error)),
    }
}

/// `GET /api/v1/sites/{site}/auth/oidc/{provider}/callback`
#[utoipa::path(get, path = "/api/v1/sites/{site}/auth/oidc/{provider}/callback", tag = "sign-in",
    params(("site" = String, Path, description = "The site's slug"),
        ("provider" = String, Path, description = "The provider id"),
        CallbackQuery),
    responses(
        (status = 200, description = "Signed in: an HTML page that posts \
            `{kith: \"signed-in\", token, reader: {name, provider}}` to the opener's origin and \
            closes", body = String, content_type = "text/html"),
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
    let callback = Callback {
        state: query.state,
        code: query.code,
        error: query.error,
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
    let csp = format!(
        "default-src 'none'; script-src 'nonce-{}'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        view.script_nonce
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
