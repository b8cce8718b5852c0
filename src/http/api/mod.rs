//! The public JSON API under `/api/v1`.

mod comments;
mod mail;
mod sites;
mod threads;
pub mod views;
mod votes;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/sites/{site}")
            .route("/settings", web::get().to(sites::get_settings))
            .route("/thread", web::get().to(threads::get_thread))
            .route("/thread.html", web::get().to(threads::get_thread_html))
            .route("/counts", web::post().to(threads::get_counts))
            .route("/preview", web::post().to(comments::preview_comment))
            .route("/comments", web::post().to(comments::create_comment))
            .route("/comments/{id}", web::patch().to(comments::update_comment))
            .route("/comments/{id}", web::delete().to(comments::delete_comment))
            .route("/comments/{id}/like", web::post().to(votes::like_comment))
            .route("/mail/manage", web::post().to(mail::request_manage_link))
            .route(
                "/comments/{id}/report",
                web::post().to(votes::report_comment),
            ),
    );
}
