//! Who may do what in the admin area: the session cookie, the extractors that find the session,
//! and the CSRF checks. Every state-changing admin route takes [`PageWriter`] (forms) or
//! [`ApiWriter`] (JSON API), so the check runs before the handler, never inside it.

use std::future::Future;
use std::pin::Pin;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use super::forms::PageError;
use crate::error::{AppError, ErrorKind};
use crate::service::{self, admin::auth};
use crate::state::AppState;

pub type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// The session cookie holding `token`: HttpOnly, SameSite=Strict, Secure behind https.
pub fn session_cookie(state: &AppState, token: String) -> Cookie<'static> {
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
pub fn cleared_cookie(state: &AppState) -> Cookie<'static> {
    let mut cookie = session_cookie(state, String::new());
    cookie.make_removal();
    cookie
}

pub(super) fn state_of(req: &HttpRequest) -> Result<AppState, AppError> {
    req.app_data::<web::Data<AppState>>()
        .map(|d| d.get_ref().clone())
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("application state missing")))
}

fn unauthorized() -> AppError {
    AppError::new(ErrorKind::Unauthorized, "log in as an admin first")
}

/// The live session behind the request's cookie; 401 without one.
pub async fn session_from(req: &HttpRequest) -> Result<auth::AdminSession, AppError> {
    let state = state_of(req)?;
    let token = req
        .cookie(auth::COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    service::blocking(&state, move |state, conn| {
        auth::session(state, conn, &token)
    })
    .await?
    .ok_or_else(unauthorized)
}

/// The one admin API call open without a session.
const LOGIN_PATH: &str = "/admin/api/login";

/// Checks the session before anything else reads the request (so a call without one is a 401
/// whatever its body), and leaves it in the request for [`ApiAdmin`].
pub async fn require_api_session(
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
                .ok_or_else(unauthorized),
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
                    let presented = req
                        .headers()
                        .get("x-csrf-token")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    check_csrf(&state_of(req)?, &session, presented)?;
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

/// A form body a [`PageWriter`] can read: how to read it, and its `csrf` field.
pub trait FormBody: Sized + 'static {
    /// Starts reading the body; nothing is read until the future is polled.
    fn extract(req: &HttpRequest, payload: &mut Payload) -> LocalFuture<Result<Self, AppError>>;

    /// The form's `csrf` field (empty when missing).
    fn csrf(&self) -> &str;
}

/// A logged-in admin submitting a form: the session first (without one, the login page), then
/// the body, then its `csrf` field against the session (403 otherwise), all before the handler
/// runs. `F` is the body: urlencoded [`FormPairs`](super::forms::FormPairs) by default.
pub struct PageWriter<F = super::forms::FormPairs> {
    pub session: auth::AdminSession,
    pub form: F,
}

impl<F: FormBody> FromRequest for PageWriter<F> {
    type Error = PageError;
    type Future = LocalFuture<Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = F::extract(&req, payload);
        Box::pin(async move {
            let session = session_from(&req).await?;
            let form = body.await?;
            check_csrf(&state_of(&req)?, &session, form.csrf())?;
            Ok(PageWriter { session, form })
        })
    }
}

/// 403 `csrf_failed` unless `presented` is the session's CSRF token.
pub fn check_csrf(
    state: &AppState,
    session: &auth::AdminSession,
    presented: &str,
) -> Result<(), AppError> {
    if auth::csrf_ok(state, session, presented) {
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
pub fn require_same_origin(req: &HttpRequest) -> Result<(), AppError> {
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
