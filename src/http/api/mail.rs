use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::domain::fields::Email;
use crate::error::AppError;
use crate::http::client::{Client, rate_limit};
use crate::service::{self, notifications, sites};
use crate::spam::limiter::Action;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ManageLinkRequest {
    email: String,
}

/// `POST /api/v1/sites/{site}/mail/manage`: mails a "manage my comments" link to the address
/// if it has comments here. Always 202, so the answer tells nobody whether it has any.
#[utoipa::path(post, path = "/api/v1/sites/{site}/mail/manage", tag = "mail",
    params(("site" = String, Path, description = "The site's slug")), request_body = ManageLinkRequest,
    responses((status = 202, description = "A link is mailed if the address has comments here \
        (the answer is the same either way)", body = crate::http::api::openapi::Requested)))]
pub async fn request_manage_link(
    state: web::Data<AppState>,
    path: web::Path<String>,
    Client(client): Client,
    body: web::Json<ManageLinkRequest>,
) -> Result<HttpResponse, AppError> {
    let slug = path.into_inner();
    rate_limit(&state, Action::Mail, &client).await?;
    let email = Email::parse(body.into_inner().email, state.config.limits.email)?;
    service::blocking(&state, move |state, conn| {
        let site = sites::find(state, conn, &slug)?;
        notifications::request_manage_link(state, conn, &site, &email)
    })
    .await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "requested": true })))
}
