//! The admin area: server-rendered pages under `/admin` and a JSON API under `/admin/api`.
//! Both require a session (cookie `kith_admin`); state-changing requests carry the session's
//! CSRF token (form field `csrf` or header `X-CSRF-Token`), checked by the extractors in
//! [`session`] before a handler runs.
//!
//! This file is the route table and nothing else: each route's method, path, handler and
//! [`Guard`]. The tests walk [`PAGE_ROUTES`] and [`API_ROUTES`] and send every state-changing
//! route a forged and a missing token.

mod api;
mod forms;
mod pages;
pub mod session;
mod transfer;
mod views;
mod webhooks;

use actix_web::http::header;
use actix_web::middleware::from_fn;
use actix_web::web;

pub use crate::http::route_table::{Guard, Route};
use crate::route_table;
pub use forms::error_page;

route_table! {
    PAGE_ROUTES, register_pages, "/admin";
    get "" => pages::dashboard, Read;
    get "/" => pages::dashboard, Read;
    get "/admin.js" => pages::script, Read;
    get "/favicon.svg" => pages::favicon, Read;
    get "/login" => pages::login_form, Read;
    post "/login" => pages::login, SameOrigin;
    post "/logout" => pages::logout, FormCsrf;
    get "/setup" => pages::setup_form, Read;
    post "/setup" => pages::setup, SameOrigin;
    get "/comments" => pages::queue, Read;
    post "/comments" => pages::moderate_comments, FormCsrf;
    get "/comments/{id}" => pages::comment, Read;
    post "/comments/{id}/edit" => pages::edit_comment, FormCsrf;
    post "/comments/{id}/reply" => pages::reply_comment, FormCsrf;
    post "/comments/{id}/delete-by-author" => pages::delete_by_author, FormCsrf;
    get "/account" => pages::account, Read;
    post "/account" => pages::update_account, FormCsrf;
    get "/bans" => pages::bans, Read;
    post "/bans" => pages::add_ban, FormCsrf;
    post "/bans/{id}/lift" => pages::lift_ban, FormCsrf;
    get "/threads" => pages::threads, Read;
    post "/threads/{id}/closed" => pages::set_thread_closed, FormCsrf;
    get "/sites" => pages::sites, Read;
    post "/sites" => pages::create_site, FormCsrf;
    get "/sites/new" => pages::new_site, Read;
    get "/sites/{slug}" => pages::site, Read;
    post "/sites/{slug}" => pages::update_site, FormCsrf;
    get "/sites/{slug}/import" => pages::transfer_page, Read;
    post "/sites/{slug}/import" => pages::import_upload, FormCsrf;
    get "/sites/{slug}/export" => pages::export_download, Read;
    get "/sites/{slug}/webhooks" => webhooks::page, Read;
    post "/sites/{slug}/webhooks" => webhooks::create, FormCsrf;
    post "/sites/{slug}/webhooks/{id}/secret" => webhooks::reveal_secret, FormCsrf;
    post "/sites/{slug}/webhooks/{id}/rotate" => webhooks::rotate_secret, FormCsrf;
    post "/sites/{slug}/webhooks/{id}/delete" => webhooks::delete, FormCsrf;
}

route_table! {
    API_ROUTES, register_api, "/admin/api";
    post "/login" => api::login, JsonOnly;
    post "/logout" => api::logout, HeaderCsrf;
    get "/session" => api::get_session, Read;
    get "/dashboard" => api::get_dashboard, Read;
    get "/comments" => api::list_comments, Read;
    post "/comments/moderate" => api::moderate_comments, HeaderCsrf;
    get "/comments/{id}" => api::get_comment, Read;
    patch "/comments/{id}" => api::update_comment, HeaderCsrf;
    post "/comments/{id}/reply" => api::reply_comment, HeaderCsrf;
    post "/comments/{id}/delete-by-author" => api::delete_by_author, HeaderCsrf;
    get "/account" => api::get_account, Read;
    put "/account" => api::update_account, HeaderCsrf;
    get "/bans" => api::list_bans, Read;
    post "/bans" => api::create_ban, HeaderCsrf;
    delete "/bans/{id}" => api::delete_ban, HeaderCsrf;
    get "/threads" => api::list_threads, Read;
    post "/threads/{id}/close" => api::close_thread, HeaderCsrf;
    post "/threads/{id}/reopen" => api::reopen_thread, HeaderCsrf;
    get "/sites" => api::list_sites, Read;
    post "/sites" => api::create_site, HeaderCsrf;
    get "/sites/{slug}" => api::get_site, Read;
    put "/sites/{slug}" => api::update_site, HeaderCsrf;
    post "/sites/{slug}/import" => api::import_site, HeaderCsrf;
    get "/sites/{slug}/export" => api::export_site, Read;
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            .wrap(
                crate::http::headers::page_headers().add((header::REFERRER_POLICY, "same-origin")),
            )
            .service(
                web::scope("/api")
                    .wrap(from_fn(session::require_api_session))
                    .configure(register_api)
                    .default_service(web::to(crate::http::errors::not_found)),
            )
            .configure(register_pages)
            .default_service(web::to(pages::not_found)),
    );
}
