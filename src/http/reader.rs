//! Who the reader is, when they signed in: the `Authorization: Bearer <token>` header the
//! embed sends (a token, not a cookie: third-party cookies are blocked in many browsers, see
//! docs/signin.md), resolved against the site in the path.
//!
//! - [`SignedInReader`]: the endpoint needs a signed-in reader; 401 `session_expired` without
//!   a valid session.
//! - [`MaybeReader`]: anyone may call; no header means anonymous, but a header whose token is
//!   not (or no longer) valid is 401 `session_expired`, so a reader is never silently treated
//!   as anonymous after their session ended.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};

use crate::error::AppError;
use crate::service::readers::{self, ReaderSession, session_expired};
use crate::service::{self, sites};
use crate::state::AppState;

type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// A signed-in reader; 401 `session_expired` without a valid session for the path's site.
pub struct SignedInReader(pub ReaderSession);

/// A signed-in reader or nobody (no `Authorization` header); a bad token is 401.
pub struct MaybeReader(pub Option<ReaderSession>);

/// The bearer token of the request: `None` without an `Authorization` header, 401 for a header
/// that is not `Bearer <token>`.
fn bearer(req: &HttpRequest) -> Result<Option<String>, AppError> {
    let Some(value) = req.headers().get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| session_expired())?;
    let (scheme, token) = value.split_once(' ').ok_or_else(session_expired)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(session_expired());
    }
    Ok(Some(token.trim().to_string()))
}

async fn resolve(req: HttpRequest) -> Result<Option<ReaderSession>, AppError> {
    let Some(token) = bearer(&req)? else {
        return Ok(None);
    };
    let state = req
        .app_data::<web::Data<AppState>>()
        .map(|d| d.get_ref().clone())
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("application state missing")))?;
    let slug = req.match_info().get("site").unwrap_or_default().to_string();
    service::blocking(&state, move |state, conn| {
        let site = sites::find(state, conn, &slug)?;
        readers::session(conn, &site, &token)
    })
    .await
    .map(Some)
}

impl FromRequest for SignedInReader {
    type Error = AppError;
    type Future = LocalFuture<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            resolve(req)
                .await?
                .map(SignedInReader)
                .ok_or_else(session_expired)
        })
    }
}

impl FromRequest for MaybeReader {
    type Error = AppError;
    type Future = LocalFuture<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { resolve(req).await.map(MaybeReader) })
    }
}
