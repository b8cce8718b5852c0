use actix_web::{HttpResponse, web};

use crate::error::AppError;
use crate::service::reads::{self, ReadFrom};
use crate::service::sites;
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
    // The site is most often in memory (kept current across processes by the change bus): then
    // the answer needs no database connection, which under load is what makes it wait.
    let settings = match sites::cached(&state, &slug) {
        Some(site) => sites::for_embed(&state, &site),
        None => {
            reads::read(&state, ReadFrom::Replica, move |state, conn| {
                let site = sites::find(state, conn, &slug)?;
                Ok(sites::for_embed(state, &site))
            })
            .await?
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(settings))
}
