//! Pages behind the links in mails: one-click moderation, confirmation, unsubscribe, and
//! "manage my comments". Opening a link only shows a page; its button (a POST) acts, so mail
//! scanners that prefetch links change nothing. RFC 8058 one-click unsubscribe is a POST too.

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Serialize;

use crate::domain::comment::CommentId;
use crate::error::AppError;
use crate::notify::links::ModAction;
use crate::render::SafeHtml;
use crate::service::mail::{self, UnsubscribeScope};
use crate::service::{self};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/mail")
            .route("/moderate/{token}", web::get().to(show_moderation))
            .route("/moderate/{token}", web::post().to(moderate_comment))
            .route("/confirm/{token}", web::get().to(show_confirmation))
            .route("/confirm/{token}", web::post().to(confirm_address))
            .route("/unsubscribe/{token}", web::get().to(show_unsubscribe))
            .route("/unsubscribe/{token}", web::post().to(unsubscribe))
            .route("/manage/{token}", web::get().to(show_managed_comments))
            .route(
                "/manage/{token}/delete",
                web::post().to(delete_managed_comment),
            )
            .route(
                "/manage/{token}/comments.json",
                web::get().to(export_managed_comments),
            ),
    );
}

struct PageComment {
    author: String,
    page: String,
    url: String,
    html: SafeHtml,
}

struct PageForm {
    action: String,
    fields: Vec<(String, String)>,
    label: String,
}

struct ListedComment {
    id: i64,
    page: String,
    url: String,
    created_at: String,
    status: String,
    html: SafeHtml,
    delete_action: String,
}

#[derive(Default)]
struct PageView {
    title: String,
    lines: Vec<String>,
    comment: Option<PageComment>,
    forms: Vec<PageForm>,
    comments: Vec<ListedComment>,
    download: Option<String>,
}

#[derive(Template)]
#[template(path = "mail/page.html", config = "src/templates/askama.toml")]
struct Page<'a> {
    p: &'a PageView,
}

fn page(status: StatusCode, view: &PageView) -> HttpResponse {
    match (Page { p: view }).render() {
        Ok(html) => HttpResponse::build(status)
            .insert_header(("Cache-Control", "no-store"))
            .insert_header(("Referrer-Policy", "no-referrer"))
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(e) => {
            tracing::error!(error = %e, "mail page template failed");
            HttpResponse::InternalServerError().finish()
        }
    }
}

fn ok(title: &str, lines: &[&str]) -> HttpResponse {
    page(
        StatusCode::OK,
        &PageView {
            title: title.into(),
            lines: lines.iter().map(|l| (*l).to_string()).collect(),
            ..PageView::default()
        },
    )
}

/// An error as a page (these links are opened in a browser, not by the embed).
fn error_page(error: &AppError) -> HttpResponse {
    if error.kind == crate::error::ErrorKind::Internal {
        tracing::error!(error = %error, "mail link failed");
    }
    let message = if error.kind == crate::error::ErrorKind::Internal {
        "Something went wrong on our side. Please try again later.".to_string()
    } else {
        error.message.clone()
    };
    let title = match error.kind {
        crate::error::ErrorKind::LinkExpired => "This link has expired",
        crate::error::ErrorKind::LinkUsed => "This link was already used",
        crate::error::ErrorKind::InvalidLink => "This link is not valid",
        _ => "This did not work",
    };
    page(
        error.kind.status(),
        &PageView {
            title: title.into(),
            lines: vec![message],
            ..PageView::default()
        },
    )
}

fn respond(result: Result<HttpResponse, AppError>) -> HttpResponse {
    result.unwrap_or_else(|e| error_page(&e))
}

/// Where people reach this server (a path prefix behind a proxy included), for form actions.
fn base_url(state: &AppState) -> String {
    state.config.public_url(state.config.server.port)
}

fn action_words(action: ModAction) -> (&'static str, &'static str) {
    match action {
        ModAction::Approve => ("Approve this comment?", "Approve"),
        ModAction::Delete => ("Delete this comment?", "Delete"),
        ModAction::Spam => ("Mark this comment as spam?", "Mark as spam"),
    }
}

/// `GET /mail/moderate/{token}`: shows the comment and a button.
pub async fn show_moderation(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let token = path.into_inner();
    let action_path = format!("{}/mail/moderate/{token}", base_url(&state));
    respond(
        service::blocking(&state, move |state, conn| {
            mail::inspect_moderation(state, conn, &token)
        })
        .await
        .map(|pending| {
            let (question, button) = action_words(pending.action);
            let url = if pending.thread.url.is_empty() {
                String::new()
            } else {
                format!("{}#comment-{}", pending.thread.url, pending.comment.id)
            };
            page(
                StatusCode::OK,
                &PageView {
                    title: question.into(),
                    lines: vec![format!("Status now: {}.", pending.comment.status)],
                    comment: Some(PageComment {
                        author: pending.comment.author_name,
                        page: if pending.thread.title.is_empty() {
                            pending.thread.key
                        } else {
                            pending.thread.title
                        },
                        url,
                        html: SafeHtml::from_storage(pending.comment.body_html),
                    }),
                    forms: vec![PageForm {
                        action: action_path,
                        fields: Vec::new(),
                        label: button.into(),
                    }],
                    ..PageView::default()
                },
            )
        }),
    )
}

/// `POST /mail/moderate/{token}`: does it, once.
pub async fn moderate_comment(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let token = path.into_inner();
    respond(
        service::blocking(&state, move |state, conn| {
            mail::moderate(state, conn, &token)
        })
        .await
        .map(|action| {
            let done = match action {
                ModAction::Approve => "The comment is approved and published.",
                ModAction::Delete => "The comment is deleted.",
                ModAction::Spam => "The comment is marked as spam.",
            };
            ok("Done", &[done])
        }),
    )
}

/// `GET /mail/confirm/{token}`
pub async fn show_confirmation(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let token = path.into_inner();
    respond(mail::inspect_confirm(&state, &token).map(|()| {
        page(
            StatusCode::OK,
            &PageView {
                title: "Confirm notifications".into(),
                lines: vec![
                    "Press the button to receive the e-mail notifications you asked for.".into(),
                ],
                forms: vec![PageForm {
                    action: format!("{}/mail/confirm/{token}", base_url(&state)),
                    fields: Vec::new(),
                    label: "Yes, send me notifications".into(),
                }],
                ..PageView::default()
            },
        )
    }))
}

/// `POST /mail/confirm/{token}`
pub async fn confirm_address(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let token = path.into_inner();
    respond(
        service::blocking(&state, move |state, conn| {
            mail::confirm(state, conn, &token)
        })
        .await
        .map(|()| {
            ok(
                "Thank you",
                &["Your address is confirmed: you will get the notifications you asked for."],
            )
        }),
    )
}

/// `GET /mail/unsubscribe/{token}`: buttons for this page or everything.
pub async fn show_unsubscribe(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let token = path.into_inner();
    respond(mail::inspect_unsubscribe(&state, &token).map(|scope| {
        let action = format!("{}/mail/unsubscribe/{token}", base_url(&state));
        let mut forms = Vec::new();
        if let UnsubscribeScope::Thread(_) = scope {
            forms.push(PageForm {
                action: action.clone(),
                fields: vec![("scope".into(), "thread".into())],
                label: "Stop mails about this page".into(),
            });
        }
        forms.push(PageForm {
            action,
            fields: vec![("scope".into(), "all".into())],
            label: "Stop all mails from this site".into(),
        });
        page(
            StatusCode::OK,
            &PageView {
                title: "Unsubscribe".into(),
                lines: vec!["Which mails should stop?".into()],
                forms,
                ..PageView::default()
            },
        )
    }))
}

/// `POST /mail/unsubscribe/{token}`: the page's buttons (`scope=thread|all`) and RFC 8058
/// one-click (`List-Unsubscribe=One-Click`, which acts on the link's own scope).
pub async fn unsubscribe(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let token = path.into_inner();
    let all = url::form_urlencoded::parse(&body).any(|(k, v)| k == "scope" && v == "all");
    respond(
        service::blocking(&state, move |state, conn| {
            mail::unsubscribe(state, conn, &token, all)
        })
        .await
        .map(|scope| match scope {
            UnsubscribeScope::Thread(_) => ok(
                "Unsubscribed",
                &["You will get no more mails about this page."],
            ),
            UnsubscribeScope::All => ok(
                "Unsubscribed",
                &["You will get no more mails from this site."],
            ),
        }),
    )
}

/// `GET /mail/manage/{token}`: every comment of the address, each with a delete button.
pub async fn show_managed_comments(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let token = path.into_inner();
    let base = format!("{}/mail/manage/{token}", base_url(&state));
    respond(
        service::blocking(&state, move |state, conn| {
            mail::managed_comments(state, conn, &token)
        })
        .await
        .map(|managed| {
            let delete_action = format!("{base}/delete");
            let comments: Vec<ListedComment> = managed
                .comments
                .into_iter()
                .map(|(c, t)| ListedComment {
                    id: c.id,
                    page: if t.title.is_empty() { t.key } else { t.title },
                    url: if t.url.is_empty() {
                        String::new()
                    } else {
                        format!("{}#comment-{}", t.url, c.id)
                    },
                    created_at: c.created_at.and_utc().to_rfc3339(),
                    status: shown_status(&c.status).into(),
                    html: SafeHtml::from_storage(c.body_html),
                    delete_action: delete_action.clone(),
                })
                .collect();
            let empty = comments.is_empty();
            page(
                StatusCode::OK,
                &PageView {
                    title: format!("Your comments on {}", managed.site.name),
                    lines: vec![if empty {
                        "There are no comments left for this address.".into()
                    } else {
                        format!("{} comment(s) written with this address.", comments.len())
                    }],
                    forms: if empty {
                        Vec::new()
                    } else {
                        vec![PageForm {
                            action: delete_action,
                            fields: vec![("comment".into(), "all".into())],
                            label: "Delete all my comments".into(),
                        }]
                    },
                    comments,
                    download: (!empty).then(|| format!("{base}/comments.json")),
                    ..PageView::default()
                },
            )
        }),
    )
}

/// `POST /mail/manage/{token}/delete` with `comment=<id>` or `comment=all`.
pub async fn delete_managed_comment(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let token = path.into_inner();
    let which = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "comment")
        .map(|(_, v)| v.into_owned());
    let which = match which.as_deref() {
        Some("all") => None,
        Some(id) => match id.parse::<i64>() {
            Ok(id) => Some(CommentId(id)),
            Err(_) => {
                return error_page(&AppError::new(
                    crate::error::ErrorKind::CommentNotFound,
                    "no such comment",
                ));
            }
        },
        None => {
            return error_page(&AppError::new(
                crate::error::ErrorKind::CommentNotFound,
                "say which comment to delete",
            ));
        }
    };
    let back = format!("{}/mail/manage/{token}", base_url(&state));
    respond(
        service::blocking(&state, move |state, conn| {
            mail::delete_managed(state, conn, &token, which)
        })
        .await
        .map(|_| {
            HttpResponse::SeeOther()
                .insert_header(("Location", back))
                .finish()
        }),
    )
}

/// A comment's status as its author sees it: the spam verdict is not disclosed (as in the API).
fn shown_status(status: &str) -> &'static str {
    match status {
        "approved" => "published",
        _ => "awaiting moderation",
    }
}

fn exported_status(status: &str) -> &'static str {
    match status {
        "approved" => "approved",
        _ => "pending",
    }
}

#[derive(Serialize)]
struct ExportedComment {
    id: i64,
    page_key: String,
    page_title: String,
    page_url: String,
    parent_id: Option<i64>,
    author: String,
    email: Option<String>,
    website: Option<String>,
    body: String,
    status: String,
    created_at: String,
    edited_at: Option<String>,
}

/// `GET /mail/manage/{token}/comments.json`: a download of the address's comments.
pub async fn export_managed_comments(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let token = path.into_inner();
    respond(
        service::blocking(&state, move |state, conn| {
            mail::managed_comments(state, conn, &token)
        })
        .await
        .and_then(|managed| {
            let comments: Vec<ExportedComment> = managed
                .comments
                .into_iter()
                .map(|(c, t)| ExportedComment {
                    id: c.id,
                    page_key: t.key,
                    page_title: t.title,
                    page_url: t.url,
                    parent_id: c.parent_id,
                    author: c.author_name,
                    email: c.email,
                    website: c.website,
                    body: c.body_markdown,
                    status: exported_status(&c.status).into(),
                    created_at: c.created_at.and_utc().to_rfc3339(),
                    edited_at: c.edited_at.map(|t| t.and_utc().to_rfc3339()),
                })
                .collect();
            let json = serde_json::to_string_pretty(
                &serde_json::json!({ "site": managed.site.name, "comments": comments }),
            )
            .map_err(AppError::internal)?;
            Ok(HttpResponse::Ok()
                .insert_header((CONTENT_TYPE, "application/json"))
                .insert_header((
                    CONTENT_DISPOSITION,
                    "attachment; filename=\"my-comments.json\"",
                ))
                .insert_header(("Cache-Control", "no-store"))
                .body(json))
        }),
    )
}
