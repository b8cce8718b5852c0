use actix_web::{HttpResponse, web};

use crate::error::AppError;
use crate::service::reads::{self, ReadFrom};
use crate::service::{self, sites};
use crate::state::AppState;

/// `GET /api/v1/sites/{site}/settings`
#[utoipa::path(get, path = "/api/v1/sites/{site}/settings", tag = "sites",
    params(("site" = String, Path, description = "The site's slug")),
    responses((status = 200, description = "What the embed needs to know about the site",
        body = crate::service::sites::PublicSettings)))]
pub async fn get_settings(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = path.into_inner();
    let settings = reads::read(&state, ReadFrom::Replica, move |state, conn| {
        let site = sites::find(state, conn, &slug)?;
        let now = service::now();
        let mut settings = sites::public_settings(&site, &state.config.limits);
        settings.form_token = service::spam::issue_form_token(state, &site, now);
        settings.pow = service::spam::issue_pow(state, &site, now);
        settings.mail = state.config.mail.enabled();
        settings.signin.email &= settings.mail;
        settings.signin.providers = service::readers::offered_providers(state, &site);
        settings.live = state.config.live.enabled;
        Ok(settings)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(settings))
}
