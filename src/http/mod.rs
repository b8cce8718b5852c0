//! Routes in one place; handlers by audience: `api` (public JSON), `admin` (pages and the
//! admin JSON API), `assets` (embed), `demo`.

pub mod admin;
pub mod api;
pub mod assets;
pub mod client;
pub mod compressed;
pub mod cors;
pub mod demo;
pub mod edge;
pub mod errors;
pub mod headers;
pub mod health;
pub mod mail;
pub mod metrics;
pub mod page_cache;
pub mod reader;
pub mod request_id;
pub mod route_table;

use actix_web::middleware::from_fn;
use actix_web::web;

/// Every route the tables declare (admin pages and API, mail links, the public API), for the
/// tests that check each state-changing route's guard.
pub fn all_routes() -> impl Iterator<Item = &'static route_table::Route> {
    admin::PAGE_ROUTES
        .iter()
        .chain(admin::API_ROUTES)
        .chain(mail::MAIL_ROUTES)
        .chain(api::API_ROUTES)
}

/// Registers every route.
pub fn routes(cfg: &mut web::ServiceConfig, max_body_bytes: usize) {
    cfg.app_data(errors::json_config(max_body_bytes))
        .app_data(errors::query_config())
        .app_data(errors::path_config())
        .service(
            web::scope("/api/v1")
                .wrap(from_fn(cors::cors))
                .configure(api::routes)
                .default_service(web::to(errors::not_found)),
        )
        .configure(health::routes)
        .configure(admin::routes)
        .configure(mail::routes)
        .configure(assets::routes)
        .configure(demo::routes)
        .default_service(web::to(errors::not_found));
}
