//! The OpenAPI 3.1 description of the public API, served at `/api/v1/openapi.json`.
//!
//! Generated from the code: each handler carries `#[utoipa::path]` and each request and
//! response type derives `ToSchema`. The error answers every route shares (their statuses come
//! from [`ErrorKind::status`](crate::error::ErrorKind::status)) are added to every operation
//! by [`ErrorResponses`], so no handler repeats them. A test checks that every route of
//! [`API_ROUTES`](super::API_ROUTES) is described here.

use actix_web::{HttpResponse, web};
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

use super::{auth, comments, feeds, live, mail, sites, threads, views, votes, webmentions};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "kith public API",
        description = "The JSON API the embed uses. Every error answer is \
            `{\"error\": code, \"message\": text}` (plus `field` for a field that was refused); \
            see docs/api.md for the error codes.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later"),
    ),
    paths(
        sites::get_settings,
        threads::get_thread,
        threads::get_thread_html,
        feeds::get_thread_feed,
        feeds::get_site_feed,
        threads::get_counts,
        live::thread_events,
        comments::preview_comment,
        comments::create_comment,
        comments::update_comment,
        comments::get_comment_source,
        comments::get_comment,
        comments::delete_comment,
        votes::like_comment,
        votes::report_comment,
        votes::add_reaction,
        votes::remove_reaction,
        mail::request_manage_link,
        webmentions::receive_webmention,
        auth::request_email_signin,
        auth::exchange_email_code,
        auth::get_session,
        auth::list_own_comments,
        auth::delete_session,
    ),
    components(schemas(ErrorResponse, views::CommentResponse)),
    modifiers(&ErrorResponses),
    tags(
        (name = "sites", description = "A site's public settings"),
        (name = "threads", description = "Reading threads and counts"),
        (name = "comments", description = "Posting, editing, deleting, liking, reporting"),
        (name = "mail", description = "Mail a reader asks for"),
        (name = "webmentions", description = "Receiving Webmentions from other sites"),
        (name = "sign-in", description = "Optional reader sign-in (docs/signin.md)"),
    )
)]
pub struct ApiDoc;

/// The body of every error answer.
#[derive(ToSchema)]
#[expect(dead_code, reason = "describes error.rs's ErrorBody for the document")]
pub struct ErrorResponse {
    /// The stable error code (`site_not_found`, `invalid_field`, `rate_limited`, …).
    error: String,
    /// A sentence for people.
    message: String,
    /// The request field the error is about, when it is about one.
    #[schema(nullable = false)]
    field: Option<String>,
}

/// `{"deleted": true}`
#[derive(ToSchema)]
#[expect(dead_code, reason = "describes a json! answer")]
pub struct Deleted {
    deleted: bool,
}

/// `{"likes": n, "liked": true}`
#[derive(ToSchema)]
#[expect(dead_code, reason = "describes a json! answer")]
pub struct Liked {
    likes: i64,
    liked: bool,
}

/// `{"reported": true}`
#[derive(ToSchema)]
#[expect(dead_code, reason = "describes a json! answer")]
pub struct Reported {
    reported: bool,
}

/// `{"requested": true}`
#[derive(ToSchema)]
#[expect(dead_code, reason = "describes a json! answer")]
pub struct Requested {
    requested: bool,
}

/// Adds the error answers to each operation: the ones any route may give, those of routes
/// with a JSON body, with a query, and of rate-limited routes.
struct ErrorResponses;

const ANY: &[(&str, &str)] = &[
    (
        "400",
        "Malformed request (`malformed_query`, `malformed_json`)",
    ),
    (
        "403",
        "Refused (`origin_not_allowed`, and per route: `invalid_edit_token`, \
        `edit_window_closed`, `thread_closed`, `pow_required`, `pow_invalid`)",
    ),
    (
        "404",
        "No such site, thread or comment (`site_not_found`, `comment_not_found`, `not_found`)",
    ),
    (
        "503",
        "Temporarily unavailable (`database_unavailable`, `mail_disabled`); see Retry-After",
    ),
];
const WITH_BODY: &[(&str, &str)] = &[
    ("413", "The body is too large (`payload_too_large`)"),
    ("415", "Not JSON (`unsupported_media_type`)"),
    (
        "422",
        "A field was refused (`invalid_field` with `field`, `parent_not_found`)",
    ),
];
const WITH_QUERY: &[(&str, &str)] = &[("422", "A parameter was refused (`invalid_field`)")];
const WRITES: &[(&str, &str)] = &[
    ("409", "Posted already (`duplicate_comment`)"),
    ("429", "Rate limited (`rate_limited`); see Retry-After"),
];

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for (method, operation) in [
                (HttpMethod::Get, item.get.as_mut()),
                (HttpMethod::Post, item.post.as_mut()),
                (HttpMethod::Patch, item.patch.as_mut()),
                (HttpMethod::Delete, item.delete.as_mut()),
            ] {
                let Some(operation) = operation else { continue };
                add(operation, ANY);
                if operation.request_body.is_some() {
                    add(operation, WITH_BODY);
                } else if operation.parameters.iter().flatten().any(|p| {
                    matches!(p, utoipa::openapi::RefOr::T(p)
                        if matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query))
                }) {
                    add(operation, WITH_QUERY);
                }
                if method != HttpMethod::Get {
                    add(operation, WRITES);
                }
            }
        }
    }
}

fn add(operation: &mut Operation, answers: &[(&str, &str)]) {
    for (status, description) in answers {
        operation
            .responses
            .responses
            .entry((*status).to_string())
            .or_insert_with(|| {
                ResponseBuilder::new()
                    .description(*description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorResponse")))
                            .build(),
                    )
                    .build()
                    .into()
            });
    }
}

/// `GET /api/v1/openapi.json`
pub async fn get_openapi() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/openapi.json", web::get().to(get_openapi));
}
