use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::domain::webmention::MentionRequest;
use crate::error::{AppError, ErrorKind};
use crate::http::client::{Client, rate_limit};
use crate::service::{self, sites, webmentions};
use crate::spam::limiter::Action;
use crate::state::AppState;

/// The form a Webmention sender posts (`application/x-www-form-urlencoded`).
#[derive(utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "describes the form for the document; the handler parses the body"
)]
pub struct WebmentionForm {
    /// The page that links to `target`.
    source: String,
    /// The page of this site it links to (on one of the site's allowed origins).
    target: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AcceptedResponse {
    /// Always `true`: the mention is queued; its source is verified later.
    accepted: bool,
}

/// `POST /api/v1/sites/{site}/webmention`: a Webmention receiver (W3C Recommendation). The
/// request is checked at once and answered 202; the source is fetched and verified later.
#[utoipa::path(post, path = "/api/v1/sites/{site}/webmention", tag = "webmentions",
    params(("site" = String, Path, description = "The site's slug")),
    request_body(content = WebmentionForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 202, description = "Queued for verification", body = AcceptedResponse)))]
pub async fn receive_webmention(
    state: web::Data<AppState>,
    path: web::Path<String>,
    Client(client): Client,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    if !state.config.webmention.enabled {
        return Err(AppError::new(
            ErrorKind::NotFound,
            "this server does not receive Webmentions",
        ));
    }
    let slug = path.into_inner();
    rate_limit(&state, Action::Post, &client).await?;
    let mut source = None;
    let mut target = None;
    for (name, value) in url::form_urlencoded::parse(&body) {
        match &*name {
            "source" => source = Some(value.into_owned()),
            "target" => target = Some(value.into_owned()),
            _ => {}
        }
    }
    service::blocking(&state, move |state, conn| {
        let site = sites::find(state, conn, &slug)?;
        let request = MentionRequest::parse(source.as_deref(), target.as_deref(), &site)
            .map_err(|e| AppError::new(ErrorKind::InvalidWebmention, e.0))?;
        webmentions::accept(conn, &site, &request, client.ip)
    })
    .await?;
    Ok(HttpResponse::Accepted().json(AcceptedResponse { accepted: true }))
}
