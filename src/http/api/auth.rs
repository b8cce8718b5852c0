//! Reader sign-in: e-mail-link sign-in, the current session, signing out, and the reader's own
//! comments. (OpenID Connect adds its own routes; every way in ends in
//! `service::readers::sign_in`.)

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::comment::CommentStatus;
use crate::domain::fields::Email;
use crate::domain::reader::Reader;
use crate::error::AppError;
use crate::http::client::{Client, rate_limit};
use crate::http::reader::SignedInReader;
use crate::render::SafeHtml;
use crate::service::{self, email_signin, readers, sites};
use crate::spam::limiter::Action;
use crate::state::AppState;

/// A signed-in reader as their own browser sees them (never their e-mail address).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReaderResponse {
    /// The name their comments carry (locked in the form).
    pub name: String,
    /// `email` (an e-mail link) or the provider id, e.g. `github`.
    pub provider: String,
    /// The provider's name for showing, e.g. `GitHub`.
    pub provider_label: String,
}

impl ReaderResponse {
    pub fn from_reader(state: &AppState, reader: &Reader) -> Self {
        Self {
            name: reader.display_name.clone(),
            provider: reader.identity.provider.as_str().to_string(),
            provider_label: readers::provider_label(state, &reader.identity.provider),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionResponse {
    reader: ReaderResponse,
}

/// Documents the `Authorization: Bearer <token>` header a signed-in reader's calls carry.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[expect(
    dead_code,
    reason = "documents the header; the SignedInReader extractor reads it"
)]
pub struct BearerHeader {
    /// `Bearer <session token>`, as returned by a sign-in.
    #[param(rename = "Authorization")]
    authorization: String,
}

/// Documents the optional `Authorization: Bearer <token>` header of endpoints anyone may
/// call, where a signed-in reader counts as themselves (likes, reports, reactions).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[expect(
    dead_code,
    reason = "documents the header; the MaybeReader extractor reads it"
)]
pub struct OptionalBearerHeader {
    /// `Bearer <session token>` of a signed-in reader; without it the caller is anonymous.
    #[param(rename = "Authorization")]
    authorization: Option<String>,
}

/// `GET /api/v1/sites/{site}/auth/session`: who the session's reader is.
#[utoipa::path(get, path = "/api/v1/sites/{site}/auth/session", tag = "sign-in",
    params(("site" = String, Path, description = "The site's slug"), BearerHeader),
    responses((status = 200, description = "The signed-in reader", body = SessionResponse),
        (status = 401, description = "`session_expired`: no valid session")))]
pub async fn get_session(
    state: web::Data<AppState>,
    SignedInReader(session): SignedInReader,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(SessionResponse {
            reader: ReaderResponse::from_reader(&state, &session.reader),
        }))
}

/// `DELETE /api/v1/sites/{site}/auth/session`: signs out (the session row is deleted).
#[utoipa::path(delete, path = "/api/v1/sites/{site}/auth/session", tag = "sign-in",
    params(("site" = String, Path, description = "The site's slug"), BearerHeader),
    responses((status = 200, description = "Signed out"),
        (status = 401, description = "`session_expired`: no valid session")))]
pub async fn delete_session(
    state: web::Data<AppState>,
    SignedInReader(session): SignedInReader,
) -> Result<HttpResponse, AppError> {
    service::blocking(&state, move |_, conn| readers::sign_out(conn, &session)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "signed_out": true })))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct EmailSigninRequest {
    /// The address to mail the link to (becomes the reader's private, verified address).
    email: String,
    /// The name the reader's comments will carry.
    #[serde(default)]
    name: String,
    /// The origin of the page asking (one of the site's allowed origins).
    origin: String,
    /// The address of the page asking (on `origin`): the link's page sends the reader back to
    /// it with the code in the fragment (`#kith-signin=<code>`), and the embed there, holding
    /// the browser secret, signs in by itself. Without it the reader types the code.
    #[serde(default)]
    page: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EmailSigninResponse {
    /// The browser secret: keep it in this tab and send it with the code from the link.
    request: String,
    expires_at: DateTime<Utc>,
}

/// `POST /api/v1/sites/{site}/auth/email`: mails a one-time sign-in link. The answer is the
/// same whether or not a mail went out.
#[utoipa::path(post, path = "/api/v1/sites/{site}/auth/email", tag = "sign-in",
    params(("site" = String, Path, description = "The site's slug")), request_body = EmailSigninRequest,
    responses((status = 202, description = "A link is mailed (unless the address may not sign \
        in; the answer is the same either way)", body = EmailSigninResponse)))]
pub async fn request_email_signin(
    state: web::Data<AppState>,
    path: web::Path<String>,
    Client(client): Client,
    body: web::Json<EmailSigninRequest>,
) -> Result<HttpResponse, AppError> {
    let slug = path.into_inner();
    rate_limit(&state, Action::Mail, &client).await?;
    let body = body.into_inner();
    let email = Email::parse(body.email, state.config.limits.email)?;
    let requested = service::blocking(&state, move |state, conn| {
        let site = sites::find(state, conn, &slug)?;
        email_signin::request(
            state,
            conn,
            &site,
            &email,
            &body.name,
            &body.origin,
            body.page.as_deref(),
        )
    })
    .await?;
    Ok(HttpResponse::Accepted()
        .insert_header(("Cache-Control", "no-store"))
        .json(EmailSigninResponse {
            request: requested.request,
            expires_at: requested.expires_at,
        }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ExchangeRequest {
    /// The browser secret from `POST …/auth/email`.
    request: String,
    /// The code the mailed link showed.
    code: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignedInResponse {
    /// The session token: send it as `Authorization: Bearer <token>`.
    token: String,
    expires_at: DateTime<Utc>,
    reader: ReaderResponse,
}

/// `POST /api/v1/sites/{site}/auth/email/exchange`: the browser secret and the code shown by
/// the mailed link → a session.
#[utoipa::path(post, path = "/api/v1/sites/{site}/auth/email/exchange", tag = "sign-in",
    params(("site" = String, Path, description = "The site's slug")), request_body = ExchangeRequest,
    responses((status = 200, description = "Signed in", body = SignedInResponse),
        (status = 403, description = "`invalid_sign_in_code`, `reader_banned`")))]
pub async fn exchange_email_code(
    state: web::Data<AppState>,
    path: web::Path<String>,
    Client(client): Client,
    body: web::Json<ExchangeRequest>,
) -> Result<HttpResponse, AppError> {
    let slug = path.into_inner();
    rate_limit(&state, Action::Login, &client).await?;
    let body = body.into_inner();
    let signed_in = service::blocking(&state, move |state, conn| {
        let site = sites::find(state, conn, &slug)?;
        let (reader, token) =
            email_signin::exchange(state, conn, &site, &body.request, &body.code)?;
        Ok(SignedInResponse {
            token: token.0,
            expires_at: service::now() + readers::SESSION_TTL,
            reader: ReaderResponse::from_reader(state, &reader),
        })
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(signed_in))
}

/// One of the reader's own comments.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OwnCommentResponse {
    id: i64,
    thread_key: String,
    thread_title: String,
    /// The page's address with the comment's anchor (empty when the page's address is unknown).
    url: String,
    /// approved or pending.
    #[schema(value_type = String)]
    status: &'static str,
    #[schema(value_type = String)]
    html: SafeHtml,
    created_at: DateTime<Utc>,
    /// Until when the reader may edit or delete it (the year 9999: always).
    editable_until: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OwnCommentsResponse {
    comments: Vec<OwnCommentResponse>,
}

/// `GET /api/v1/sites/{site}/auth/comments`: the signed-in reader's comments on the site
/// ("manage my comments" without a mail); deleting one is `DELETE …/comments/{id}` with the
/// same `Authorization` header.
#[utoipa::path(get, path = "/api/v1/sites/{site}/auth/comments", tag = "sign-in",
    params(("site" = String, Path, description = "The site's slug"), BearerHeader),
    responses((status = 200, description = "The reader's comments, oldest first",
        body = OwnCommentsResponse),
        (status = 401, description = "`session_expired`: no valid session")))]
pub async fn list_own_comments(
    state: web::Data<AppState>,
    path: web::Path<String>,
    SignedInReader(session): SignedInReader,
) -> Result<HttpResponse, AppError> {
    let slug = path.into_inner();
    let comments = service::blocking(&state, move |state, conn| {
        let site = sites::find(state, conn, &slug)?;
        readers::own_comments(conn, &site, &session.reader)
    })
    .await?;
    let comments = comments
        .into_iter()
        .map(|(comment, thread, until)| OwnCommentResponse {
            id: comment.id.0,
            url: if thread.url.is_empty() {
                String::new()
            } else {
                format!("{}#comment-{}", thread.url, comment.id.0)
            },
            thread_key: thread.key,
            thread_title: thread.title,
            status: match comment.status {
                CommentStatus::Approved => CommentStatus::Approved.as_str(),
                _ => CommentStatus::Pending.as_str(),
            },
            html: comment.body_html,
            created_at: comment.created_at,
            editable_until: until,
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(OwnCommentsResponse { comments }))
}
