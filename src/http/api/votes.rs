use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::domain::comment::CommentId;
use crate::domain::fields::Reason;
use crate::error::AppError;
use crate::http::client::{Client, rate_limit};
use crate::service::{self, sites, votes};
use crate::spam::limiter::Action;
use crate::state::AppState;

/// `POST /api/v1/sites/{site}/comments/{id}/like`
#[utoipa::path(post, path = "/api/v1/sites/{site}/comments/{id}/like", tag = "comments",
    params(("site" = String, Path, description = "The site's slug"), ("id" = i64, Path, description = "The comment's id")),
    responses((status = 200, description = "Liked (once per reader)", body = crate::http::api::openapi::Liked)))]
pub async fn like_comment(
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
    Client(client): Client,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    rate_limit(&state, Action::Like, &client).await?;
    let likes = service::blocking(&state, move |state, conn| {
        let site = sites::find(state, conn, &slug)?;
        votes::like(state, conn, &site, CommentId(id), &client)
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "likes": likes, "liked": true })))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReportRequest {
    reason: Option<String>,
}

/// `POST /api/v1/sites/{site}/comments/{id}/report` with `{"reason": "…"}`.
#[utoipa::path(post, path = "/api/v1/sites/{site}/comments/{id}/report", tag = "comments",
    params(("site" = String, Path, description = "The site's slug"), ("id" = i64, Path, description = "The comment's id")), request_body = ReportRequest,
    responses((status = 200, description = "Reported to the moderators", body = crate::http::api::openapi::Reported)))]
pub async fn report_comment(
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
    Client(client): Client,
    body: web::Json<ReportRequest>,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    rate_limit(&state, Action::Report, &client).await?;
    let reason = Reason::parse(body.into_inner().reason)?;
    service::blocking(&state, move |state, conn| {
        let site = sites::find(state, conn, &slug)?;
        votes::report(state, conn, &site, CommentId(id), &reason, &client)
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "reported": true })))
}
