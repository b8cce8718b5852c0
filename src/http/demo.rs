//! The demo blog post at `/`, with the embed under it.

use actix_web::{HttpResponse, web};

use crate::error::{AppError, ErrorKind};
use crate::state::AppState;

const DEMO_PAGE: &str = include_str!("demo/index.html");

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(get_demo));
}

pub async fn get_demo(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    if !state.config.server.demo_page {
        return Err(AppError::new(
            ErrorKind::NotFound,
            "the demo page is switched off",
        ));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(DEMO_PAGE))
}
