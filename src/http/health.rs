//! Probes for supervisors and load balancers: `GET /healthz` (the process answers) and
//! `GET /readyz` (the database answers and its schema is current). Neither needs a session,
//! and neither says more than a status word and an error code.

use actix_web::{HttpResponse, web};
use diesel::connection::SimpleConnection;
use serde::Serialize;

use crate::db;
use crate::error::{AppError, ErrorKind};
use crate::service;
use crate::state::AppState;

#[derive(Serialize)]
struct StatusResponse {
    status: &'static str,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

/// `GET /healthz`: 200 while the process serves requests; touches nothing else.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(StatusResponse { status: "ok" })
}

/// `GET /readyz`: 200 when a database connection is had within
/// `database.acquire_timeout_secs`, answers a query and every migration has run; otherwise 503
/// `database_unavailable` (with `Retry-After`) or 503 `migrations_pending`.
async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    service::blocking(&state, |_, conn| {
        conn.batch_execute("SELECT 1")
            .map_err(AppError::database_unavailable)?;
        match db::pool::count_pending_migrations(conn)? {
            0 => Ok(()),
            n => Err(AppError::new(
                ErrorKind::MigrationsPending,
                format!("{n} database migrations have not run; run `kith migrate` or restart"),
            )),
        }
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(StatusResponse { status: "ready" }))
}
