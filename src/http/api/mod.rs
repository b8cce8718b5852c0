//! The public JSON API under `/api/v1`.

mod auth;
mod comments;
pub mod feeds;
mod live;
mod mail;
pub mod openapi;
mod sites;
mod threads;
pub mod views;
mod votes;
mod webmentions;

use actix_web::web;

crate::route_table! {
    API_ROUTES, register, "/api/v1/sites/{site}";
    get "/settings" => sites::get_settings, Read;
    get "/thread" => threads::get_thread, Read;
    get "/thread.html" => threads::get_thread_html, Read;
    get "/thread/events" => live::thread_events, Read;
    get "/thread.atom" => feeds::get_thread_feed, Read;
    get "/feed.atom" => feeds::get_site_feed, Read;
    post "/counts" => threads::get_counts, Anonymous;
    post "/preview" => comments::preview_comment, Anonymous;
    post "/comments" => comments::create_comment, Anonymous;
    get "/comments/{id}" => comments::get_comment, Read;
    patch "/comments/{id}" => comments::update_comment, EditToken;
    get "/comments/{id}/source" => comments::get_comment_source, Read;
    delete "/comments/{id}" => comments::delete_comment, EditToken;
    post "/comments/{id}/like" => votes::like_comment, Anonymous;
    post "/comments/{id}/report" => votes::report_comment, Anonymous;
    post "/comments/{id}/reactions/{reaction}" => votes::add_reaction, Anonymous;
    delete "/comments/{id}/reactions/{reaction}" => votes::remove_reaction, Anonymous;
    post "/mail/manage" => mail::request_manage_link, Anonymous;
    post "/webmention" => webmentions::receive_webmention, Anonymous;
    post "/auth/email" => auth::request_email_signin, Anonymous;
    post "/auth/email/exchange" => auth::exchange_email_code, Anonymous;
    get "/auth/session" => auth::get_session, Read;
    get "/auth/comments" => auth::list_own_comments, Read;
    delete "/auth/session" => auth::delete_session, ReaderSession;
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(openapi::routes)
        .service(web::scope("/sites/{site}").configure(register));
}
