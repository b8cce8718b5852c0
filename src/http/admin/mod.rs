//! The admin area: server-rendered pages under `/admin` and a JSON API under `/admin/api`.
//! Both require a session (cookie `kith_admin`); state-changing requests carry the session's
//! CSRF token (form field `csrf` or header `X-CSRF-Token`).

mod api;
mod pages;
mod transfer;
mod views;

use std::future::Future;
use std::pin::Pin;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError, web};

use crate::error::{AppError, ErrorKind};
use crate::service::{self, admin::auth};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            .wrap(
                crate::http::headers::page_headers().add((header::REFERRER_POLICY, "same-origin")),
            )
            .service(
                web::scope("/api")
                    .wrap(from_fn(require_api_session))
                    .configure(api::routes)
                    .default_service(web::to(crate::http::errors::not_found)),
            )
            .configure(pages::routes),
    );
}

/// The session cookie holding `token`: HttpOnly, SameSite=Strict, Secure behind https.
fn session_cookie(state: &AppState, token: String) -> Cookie<'static> {
    Cookie::build(auth::COOKIE, token)
        .path("/admin")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.server.public_url.starts_with("https://"))
        .max_age(actix_web::cookie::time::Duration::seconds(
            auth::SESSION_TTL.num_seconds(),
        ))
        .finish()
}

/// A cookie that makes the browser forget the session.
fn cleared_cookie(state: &AppState) -> Cookie<'static> {
    let mut cookie = session_cookie(state, String::new());
    cookie.make_removal();
    cookie
}

fn state_of(req: &HttpRequest) -> Result<AppState, AppError> {
    req.app_data::<web::Data<AppState>>()
        .map(|d| d.get_ref().clone())
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("application state missing")))
}

async fn session_from(req: &HttpRequest) -> Result<auth::AdminSession, AppError> {
    let state = state_of(req)?;
    let token = req
        .cookie(auth::COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    service::blocking(&state, move |state, conn| {
        auth::session(state, conn, &token)
    })
    .await?
    .ok_or_else(|| AppError::new(ErrorKind::Unauthorized, "log in as an admin first"))
}

type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// The one admin API call open without a session.
const LOGIN_PATH: &str = "/admin/api/login";

/// Checks the session before anything else reads the request (so a call without one is a 401
/// whatever its body), and leaves it in the request for [`ApiAdmin`].
async fn require_api_session(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if req.path() != LOGIN_PATH {
        let session = session_from(req.request()).await?;
        req.extensions_mut().insert(session);
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// A logged-in admin for the JSON API (checked by the scope's middleware); 401 JSON otherwise.
pub struct ApiAdmin(pub auth::AdminSession);

impl FromRequest for ApiAdmin {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            req.extensions()
                .get::<auth::AdminSession>()
                .cloned()
                .map(ApiAdmin)
                .ok_or_else(|| AppError::new(ErrorKind::Unauthorized, "log in as an admin first")),
        )
    }
}

/// A logged-in admin changing something through the JSON API: the session (401 without one)
/// and its CSRF token in the `X-CSRF-Token` header (403 otherwise), checked before the body
/// is read.
pub struct ApiWriter(pub auth::AdminSession);

impl FromRequest for ApiWriter {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let checked =
            ApiAdmin::from_request(req, payload)
                .into_inner()
                .and_then(|ApiAdmin(session)| {
                    require_csrf_header(req, &session)?;
                    Ok(ApiWriter(session))
                });
        std::future::ready(checked)
    }
}

/// A logged-in admin for pages; without one the browser is sent to the login page.
pub struct PageAdmin(pub auth::AdminSession);

impl FromRequest for PageAdmin {
    type Error = PageError;
    type Future = LocalFuture<Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            session_from(&req)
                .await
                .map(PageAdmin)
                .map_err(PageError::from)
        })
    }
}

/// The JSON API's CSRF check: header `X-CSRF-Token` must hold the session's token.
fn require_csrf_header(req: &HttpRequest, session: &auth::AdminSession) -> Result<(), AppError> {
    let presented = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    csrf(session, presented)
}

fn csrf(session: &auth::AdminSession, presented: &str) -> Result<(), AppError> {
    if auth::csrf_ok(session, presented) {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorKind::CsrfFailed,
            "the form is out of date or was not sent from the admin area; reload and try again",
        ))
    }
}

/// Refuses a form posted from another site's page (login CSRF): a browser's `Origin` header,
/// when sent, must name this server's host. Forms with a session also carry a CSRF token.
fn require_same_origin(req: &HttpRequest) -> Result<(), AppError> {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return Ok(());
    };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let same = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .is_some_and(|(_, rest)| !host.is_empty() && rest.eq_ignore_ascii_case(host));
    if same {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorKind::CsrfFailed,
            "this form was sent from another site",
        ))
    }
}

/// An error on an admin page: 401 becomes a redirect to the login page, anything else a
/// small HTML page with the message.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        Self(e)
    }
}

impl From<crate::domain::fields::FieldError> for PageError {
    fn from(e: crate::domain::fields::FieldError) -> Self {
        Self(e.into())
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        if self.0.kind == ErrorKind::Unauthorized {
            StatusCode::SEE_OTHER
        } else {
            self.0.kind.status()
        }
    }

    fn error_response(&self) -> HttpResponse {
        if self.0.kind == ErrorKind::Unauthorized {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/admin/login"))
                .finish();
        }
        if self.0.kind == ErrorKind::Internal {
            tracing::error!(error = %self.0, "admin page failed");
        }
        let mut response = views::html(self.0.kind.status(), &views::ErrorPage::new(&self.0));
        if let Some(secs) = self.0.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// A urlencoded form body; repeated fields (checkboxes) are kept.
pub struct FormPairs(Vec<(String, String)>);

impl FormPairs {
    pub fn parse(body: &[u8]) -> Self {
        Self(
            url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_string()
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Checks the form's `csrf` field against the session.
    pub fn check_csrf(&self, session: &auth::AdminSession) -> Result<(), AppError> {
        csrf(session, self.get("csrf").unwrap_or_default())
    }
}

/// 303 to `to`, which must be a path inside the admin area (anything else goes to `/admin`).
fn see_other(to: &str) -> HttpResponse {
    let safe = to.starts_with("/admin") && !to.starts_with("//") && !to.contains('\\');
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, if safe { to } else { "/admin" }))
        .finish()
}
