//! `GET /metrics` (Prometheus text format) and the middleware that counts every request by
//! route pattern and status.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};

use crate::error::AppError;
use crate::state::AppState;

/// Counts and times each request under its matched route pattern (`unmatched` when no route
/// matched, so scanners cannot grow the label set).
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let started = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = req.method().clone();
    let result = next.call(req).await;
    if let Some(state) = state {
        let (status, route) = match &result {
            Ok(response) => (
                response.status().as_u16(),
                response.request().match_pattern(),
            ),
            Err(e) => (e.as_response_error().status_code().as_u16(), None),
        };
        state.metrics.observe_request(
            method.as_str(),
            route.as_deref().unwrap_or("unmatched"),
            status,
            started.elapsed(),
        );
    }
    result
}

/// `GET /metrics`
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let state = state.into_inner();
    let text =
        web::block(move || state.metrics.render(&state.pool, state.posts.as_ref())).await??;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(metrics));
}
