use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::domain::comment::{ClientInfo, CommentId};
use crate::domain::fields::Reason;
use crate::domain::reaction::ReactionCounts;
use crate::error::AppError;
use crate::http::client::{Client, rate_limit};
use crate::http::reader::MaybeReader;
use crate::service::{self, reactions, sites, votes};
use crate::spam::limiter::Action;
use crate::state::AppState;

/// `POST /api/v1/sites/{site}/comments/{id}/like`
#[utoipa::path(post, path = "/api/v1/sites/{site}/comments/{id}/like", tag = "comments",
    params(("site" = String, Path, description = "The site's slug"), ("id" = i64, Path, description = "The comment's id"),
        crate::http::api::auth::OptionalBearerHeader),
    responses((status = 200, description = "Liked (once per reader: a signed-in reader once on \
        every device, others once per address)", body = crate::http::api::openapi::Liked),
        (status = 401, description = "`session_expired`: an `Authorization` header whose session ended")))]
pub async fn like_comment(
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
    Client(client): Client,
    MaybeReader(session): MaybeReader,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    rate_limit(&state, Action::Like, &client).await?;
    let reader = session.map(|s| s.reader.id);
    let likes = service::blocking(&state, move |state, conn| {
        let site = sites::find(state, conn, &slug)?;
        votes::like(state, conn, &site, CommentId(id), &client, reader)
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
    params(("site" = String, Path, description = "The site's slug"), ("id" = i64, Path, description = "The comment's id"),
        crate::http::api::auth::OptionalBearerHeader), request_body = ReportRequest,
    responses((status = 200, description = "Reported to the moderators", body = crate::http::api::openapi::Reported),
        (status = 401, description = "`session_expired`: an `Authorization` header whose session ended")))]
pub async fn report_comment(
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
    Client(client): Client,
    MaybeReader(session): MaybeReader,
    body: web::Json<ReportRequest>,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    rate_limit(&state, Action::Report, &client).await?;
    let reason = Reason::parse(body.into_inner().reason)?;
    let reader = session.map(|s| s.reader.id);
    service::blocking(&state, move |state, conn| {
        let site = sites::find(state, conn, &slug)?;
        votes::report(state, conn, &site, CommentId(id), &reason, &client, reader)
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "reported": true })))
}

/// `{"reaction": "heart", "reacted": true, "reactions": {"heart": 3}}`: this reader's reaction
/// after the change, and the comment's non-zero counts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReactedResponse {
    reaction: &'static str,
    reacted: bool,
    #[schema(value_type = std::collections::HashMap<String, i64>)]
    reactions: ReactionCounts,
}

/// Gives or takes back a reaction: rate limited as likes are (one bucket for both); a
/// signed-in reader's reaction is theirs on every device (keyed by reader, not address).
async fn react(
    state: web::Data<AppState>,
    path: web::Path<(String, i64, String)>,
    client: ClientInfo,
    session: MaybeReader,
    on: bool,
) -> Result<HttpResponse, AppError> {
    let (slug, id, reaction) = path.into_inner();
    let reaction = reactions::parse(&reaction)?;
    rate_limit(&state, Action::Like, &client).await?;
    let reader = session.0.map(|s| s.reader.id);
    let reacted = service::blocking(&state, move |state, conn| {
        let site = sites::find(state, conn, &slug)?;
        reactions::react(
            state,
            conn,
            &site,
            CommentId(id),
            reaction,
            on,
            &client,
            reader,
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(ReactedResponse {
        reaction: reaction.id(),
        reacted: reacted.reacted,
        reactions: reacted.counts,
    }))
}

/// `POST /api/v1/sites/{site}/comments/{id}/reactions/{reaction}`
#[utoipa::path(post, path = "/api/v1/sites/{site}/comments/{id}/reactions/{reaction}", tag = "comments",
    params(("site" = String, Path, description = "The site's slug"), ("id" = i64, Path, description = "The comment's id"),
        ("reaction" = String, Path, description = "`+1`, `heart`, `laugh`, `hooray`, `confused` or `eyes` (400 `unknown_reaction` otherwise)"),
        crate::http::api::auth::OptionalBearerHeader),
    responses((status = 200, description = "Given (once per reader: giving it again changes nothing; \
        a signed-in reader once on every device); 403 `reactions_disabled` when the site has \
        reactions off", body = ReactedResponse),
        (status = 401, description = "`session_expired`: an `Authorization` header whose session ended")))]
pub async fn add_reaction(
    state: web::Data<AppState>,
    path: web::Path<(String, i64, String)>,
    Client(client): Client,
    session: MaybeReader,
) -> Result<HttpResponse, AppError> {
    react(state, path, client, session, true).await
}

/// `DELETE /api/v1/sites/{site}/comments/{id}/reactions/{reaction}`
#[utoipa::path(delete, path = "/api/v1/sites/{site}/comments/{id}/reactions/{reaction}", tag = "comments",
    params(("site" = String, Path, description = "The site's slug"), ("id" = i64, Path, description = "The comment's id"),
        ("reaction" = String, Path, description = "`+1`, `heart`, `laugh`, `hooray`, `confused` or `eyes`"),
        crate::http::api::auth::OptionalBearerHeader),
    responses((status = 200, description = "Taken back (taking back one never given changes nothing)",
        body = ReactedResponse),
        (status = 401, description = "`session_expired`: an `Authorization` header whose session ended")))]
pub async fn remove_reaction(
    state: web::Data<AppState>,
    path: web::Path<(String, i64, String)>,
    Client(client): Client,
    session: MaybeReader,
) -> Result<HttpResponse, AppError> {
    react(state, path, client, session, false).await
}
