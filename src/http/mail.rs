//! Pages behind the links in mails: one-click moderation, confirmation, unsubscribe, and
//! "manage my comments". Opening a link only shows a page; its button (a POST) acts, so mail
//! scanners that prefetch links change nothing. RFC 8058 one-click unsubscribe is a POST too.

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Serialize;

use crate::domain::comment::{CommentId, CommentStatus};
use crate::domain::mail::Frequency;
use crate::error::{AppError, ErrorKind};
use crate::notify::compose::action_label;
use crate::notify::links::ModAction;
use crate::notify::texts::{MailTexts, PageTexts, fill};
use crate::render::SafeHtml;
use crate::service::mail_links::{self as mail, LinkContext, UnsubscribeScope};
use crate::service::{self, email_signin};
use crate::state::AppState;

crate::route_table! {
    MAIL_ROUTES, register, "/mail";
    get "/moderate/{token}" => show_moderation, Read;
    post "/moderate/{token}" => moderate_comment, SignedLink;
    get "/confirm/{token}" => show_confirmation, Read;
    post "/confirm/{token}" => confirm_address, SignedLink;
    get "/unsubscribe/{token}" => show_unsubscribe, Read;
    post "/unsubscribe/{token}" => unsubscribe, SignedLink;
    get "/manage/{token}" => show_managed_comments, Read;
    post "/manage/{token}/delete" => delete_managed_comment, SignedLink;
    get "/manage/{token}/comments.json" => export_managed_comments, Read;
    get "/signin/{token}" => show_signin, Read;
    post "/signin/{token}" => open_signin, SignedLink;
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/mail")
            .wrap(crate::http::headers::page_headers().add(("Referrer-Policy", "no-referrer")))
            .configure(register),
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
    lang: String,
    title: String,
    lines: Vec<String>,
    comment: Option<PageComment>,
    forms: Vec<PageForm>,
    /// A question and its buttons, below the main ones (how often mail comes).
    /// A question and its answers, each a form and whether it is the answer in force.
    choices: Option<(String, Vec<(PageForm, bool)>)>,
    comments: Vec<ListedComment>,
    delete_label: String,
    open_label: String,
    download: Option<(String, String)>,
    /// A one-time code to type elsewhere (e-mail-link sign-in).
    code: Option<String>,
    /// A link back to the page that asked, and its text (e-mail-link sign-in).
    back: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "mail/page.html", config = "src/templates/askama.toml")]
struct Page<'a> {
    p: &'a PageView,
}

/// The link's site language and name, and the texts in that language.
struct Words {
    context: LinkContext,
    state: AppState,
}

impl Words {
    fn new(state: &AppState, context: LinkContext) -> Self {
        Self {
            context,
            state: state.clone(),
        }
    }

    fn page(&self) -> &PageTexts {
        &self.state.texts.get(&self.context.language).pages
    }

    fn mail(&self) -> &MailTexts {
        &self.state.texts.get(&self.context.language).mail
    }

    fn view(&self, title: &str, lines: Vec<String>) -> PageView {
        PageView {
            lang: self.context.language.clone(),
            title: title.to_string(),
            lines,
            ..PageView::default()
        }
    }

    fn site(&self, text: &str) -> String {
        fill(text, &[("site", self.context.site_name.as_str())])
    }
}

fn page(status: StatusCode, view: &PageView) -> HttpResponse {
    match (Page { p: view }).render() {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(e) => {
            tracing::error!(error = %e, "mail page template failed");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// An error as a page (these links are opened in a browser, not by the embed).
fn error_page(words: &Words, error: &AppError) -> HttpResponse {
    let t = words.page();
    let (title, line) = match error.kind {
        ErrorKind::LinkExpired => (&t.err_expired, None),
        ErrorKind::LinkUsed => (&t.err_used, None),
        ErrorKind::InvalidLink => (&t.err_invalid, None),
        ErrorKind::CommentNotFound => (&t.err_other, Some(&t.gone)),
        ErrorKind::Internal => {
            tracing::error!(error = %error, "mail link failed");
            (&t.err_other, Some(&t.err_internal))
        }
        _ => (&t.err_other, None),
    };
    let lines = line.map(|l| vec![l.to_string()]).unwrap_or_default();
    page(error.kind.status(), &words.view(title, lines))
}

/// Runs `f` on the blocking pool with the link's context; the page speaks the site's language,
/// its errors included.
async fn with_link<T, F>(state: &AppState, token: String, f: F) -> (Words, Result<T, AppError>)
where
    F: FnOnce(&AppState, &mut crate::db::DbConn, &str) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let outcome = service::blocking(state, move |state, conn| {
        let context = mail::link_context(state, conn, &token);
        Ok((context, f(state, conn, &token)))
    })
    .await;
    match outcome {
        Ok((context, result)) => (Words::new(state, context), result),
        Err(e) => (Words::new(state, LinkContext::default()), Err(e)),
    }
}

/// Where people reach this server (a path prefix behind a proxy included), for form actions.
fn base_url(state: &AppState) -> String {
    state.config.public_url(state.config.server.port)
}

/// `GET /mail/moderate/{token}`: shows the comment and a button.
pub async fn show_moderation(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let token = path.into_inner();
    let action_path = format!("{}/mail/moderate/{token}", base_url(&state));
    let (words, result) = with_link(&state, token, mail::inspect_moderation).await;
    match result {
        Err(e) => error_page(&words, &e),
        Ok(pending) => {
            let t = words.page();
            let question = match pending.action {
                ModAction::Approve => &t.title_approve,
                ModAction::Delete => &t.title_delete,
                ModAction::Spam => &t.title_spam,
                ModAction::Ban => &t.title_ban,
            };
            let button = action_label(words.mail(), pending.action);
            let url = if pending.thread.url.is_empty() {
                String::new()
            } else {
                format!("{}#comment-{}", pending.thread.url, pending.comment.id.0)
            };
            let mut view = words.view(question, Vec::new());
            view.comment = Some(PageComment {
                author: pending.comment.author,
                page: if pending.thread.title.is_empty() {
                    pending.thread.key
                } else {
                    pending.thread.title
                },
                url,
                html: pending.comment.body_html,
            });
            view.forms = vec![PageForm {
                action: action_path,
                fields: Vec::new(),
                label: button.into(),
            }];
            page(StatusCode::OK, &view)
        }
    }
}

/// `GET /mail/signin/{token}`: a reader's sign-in link; a button signs in (a POST, so a mail
/// scanner opening the link spends nothing).
pub async fn show_signin(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let token = path.into_inner();
    let action = format!("{}/mail/signin/{token}", base_url(&state));
    let (words, result) = with_link(&state, token, email_signin::inspect_link).await;
    match result {
        Err(e) => error_page(&words, &e),
        Ok(()) => {
            let t = words.page();
            let mut view = words.view(&t.signin_title, vec![words.site(&t.signin_text)]);
            view.forms = vec![PageForm {
                action,
                fields: Vec::new(),
                label: t.signin_button.clone(),
            }];
            page(StatusCode::OK, &view)
        }
    }
}

/// `POST /mail/signin/{token}`: spends the link and shows the one-time code the reader types
/// into the embed, and a link back to the page that asked, which signs that browser in by
/// itself (see `service::email_signin`).
pub async fn open_signin(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let (words, result) = with_link(&state, path.into_inner(), email_signin::open_link).await;
    match result {
        Err(e) => error_page(&words, &e),
        Ok(opened) => {
            let t = words.page();
            let text = if opened.back.is_some() {
                &t.signed_in_elsewhere
            } else {
                &t.signed_in_text
            };
            let mut view = words.view(&t.signed_in_title, vec![words.site(text)]);
            view.back = opened.back.map(|url| (url, t.signed_in_back.clone()));
            view.code = Some(opened.code);
            view.lines.push(t.signed_in_code.clone());
            let mut response = page(StatusCode::OK, &view);
            response.headers_mut().insert(
                actix_web::http::header::CACHE_CONTROL,
                actix_web::http::header::HeaderValue::from_static("no-store"),
            );
            response
        }
    }
}

/// `POST /mail/moderate/{token}`: does it, once.
pub async fn moderate_comment(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let (words, result) = with_link(&state, path.into_inner(), mail::moderate).await;
    match result {
        Err(e) => error_page(&words, &e),
        Ok(action) => {
            let t = words.page();
            let done = match action {
                ModAction::Approve => &t.done_approve,
                ModAction::Delete => &t.done_delete,
                ModAction::Spam => &t.done_spam,
                ModAction::Ban => &t.done_ban,
            };
            page(
                StatusCode::OK,
                &words.view(&t.done_title, vec![done.clone()]),
            )
        }
    }
}

/// `GET /mail/confirm/{token}`
pub async fn show_confirmation(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let token = path.into_inner();
    let action = format!("{}/mail/confirm/{token}", base_url(&state));
    let (words, result) = with_link(&state, token, |state, _, token| {
        mail::inspect_confirm(state, token)
    })
    .await;
    match result {
        Err(e) => error_page(&words, &e),
        Ok(()) => {
            let t = words.page();
            let mut view = words.view(&t.confirm_title, vec![t.confirm_text.clone()]);
            view.forms = vec![PageForm {
                action,
                fields: Vec::new(),
                label: words.mail().confirm_action.clone(),
            }];
            page(StatusCode::OK, &view)
        }
    }
}

/// `POST /mail/confirm/{token}`
pub async fn confirm_address(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let (words, result) = with_link(&state, path.into_inner(), mail::confirm).await;
    match result {
        Err(e) => error_page(&words, &e),
        Ok(()) => {
            let t = words.page();
            page(
                StatusCode::OK,
                &words.view(&t.thanks_title, vec![t.confirmed_text.clone()]),
            )
        }
    }
}

/// `GET /mail/unsubscribe/{token}`: buttons to stop mails about this page or everything, and
/// to choose instant, daily or weekly mail (for the page when the address follows it, else
/// for all its mails from the site).
pub async fn show_unsubscribe(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let token = path.into_inner();
    let action = format!("{}/mail/unsubscribe/{token}", base_url(&state));
    let (words, result) = with_link(&state, token, mail::unsubscribe_choices).await;
    match result {
        Err(e) => error_page(&words, &e),
        Ok(choices) => {
            let (t, m) = (words.page(), words.mail());
            let mut forms = Vec::new();
            if let UnsubscribeScope::Thread(_) = choices.scope {
                forms.push(PageForm {
                    action: action.clone(),
                    fields: vec![("scope".into(), "thread".into())],
                    label: m.unsubscribe_thread.clone(),
                });
            }
            forms.push(PageForm {
                action: action.clone(),
                fields: vec![("scope".into(), "all".into())],
                label: words.site(&m.unsubscribe_all),
            });
            let scope = if choices.follows_thread {
                "thread"
            } else {
                "all"
            };
            let frequencies: Vec<(PageForm, bool)> = Frequency::ALL
                .into_iter()
                .map(|frequency| {
                    let form = PageForm {
                        action: action.clone(),
                        fields: vec![
                            ("scope".into(), scope.into()),
                            ("frequency".into(), frequency.as_str().into()),
                        ],
                        label: frequency_label(t, frequency).to_string(),
                    };
                    (form, choices.current == Some(frequency))
                })
                .collect();
            let mut view = words.view(&t.unsubscribe_title, vec![t.unsubscribe_question.clone()]);
            view.forms = forms;
            view.choices = Some((t.frequency_question.clone(), frequencies));
            page(StatusCode::OK, &view)
        }
    }
}

fn frequency_label(t: &PageTexts, frequency: Frequency) -> &str {
    match frequency {
        Frequency::Instant => &t.frequency_instant,
        Frequency::Daily => &t.frequency_daily,
        Frequency::Weekly => &t.frequency_weekly,
    }
}

/// `POST /mail/unsubscribe/{token}`: the page's buttons (`scope=thread|all`, with
/// `frequency=instant|daily|weekly` to choose how often instead of stopping) and RFC 8058
/// one-click (`List-Unsubscribe=One-Click`, which acts on the link's own scope).
pub async fn unsubscribe(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let all = url::form_urlencoded::parse(&body).any(|(k, v)| k == "scope" && v == "all");
    let frequency = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "frequency")
        .map(|(_, v)| v.into_owned());
    if let Some(frequency) = frequency.filter(|f| f.as_str() != "off") {
        let frequency = Frequency::parse(&frequency);
        let (words, result) = with_link(&state, path.into_inner(), move |state, conn, token| {
            let frequency = frequency.map_err(AppError::from)?;
            mail::set_frequency(state, conn, token, all, frequency).map(|()| frequency)
        })
        .await;
        return match result {
            Err(e) => error_page(&words, &e),
            Ok(frequency) => {
                let t = words.page();
                let line = fill(
                    &t.frequency_saved,
                    &[("frequency", frequency_label(t, frequency))],
                );
                page(
                    StatusCode::OK,
                    &words.view(&t.frequency_saved_title, vec![line]),
                )
            }
        };
    }
    let (words, result) = with_link(&state, path.into_inner(), move |state, conn, token| {
        mail::unsubscribe(state, conn, token, all)
    })
    .await;
    match result {
        Err(e) => error_page(&words, &e),
        Ok(scope) => {
            let t = words.page();
            let line = match scope {
                UnsubscribeScope::Thread(_) => t.unsubscribed_thread.clone(),
                UnsubscribeScope::All => words.site(&t.unsubscribed_all),
            };
            page(
                StatusCode::OK,
                &words.view(&t.unsubscribed_title, vec![line]),
            )
        }
    }
}

/// `GET /mail/manage/{token}`: every comment of the address, each with a delete button.
pub async fn show_managed_comments(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let token = path.into_inner();
    let base = format!("{}/mail/manage/{token}", base_url(&state));
    let (words, result) = with_link(&state, token, mail::managed_comments).await;
    let managed = match result {
        Err(e) => return error_page(&words, &e),
        Ok(managed) => managed,
    };
    let (t, m) = (words.page(), words.mail());
    let delete_action = format!("{base}/delete");
    let comments: Vec<ListedComment> = managed
        .comments
        .into_iter()
        .map(|(c, thread)| ListedComment {
            id: c.id.0,
            page: if thread.title.is_empty() {
                thread.key
            } else {
                thread.title
            },
            url: if thread.url.is_empty() {
                String::new()
            } else {
                format!("{}#comment-{}", thread.url, c.id.0)
            },
            created_at: c.created_at.to_rfc3339(),
            status: if c.status == CommentStatus::Approved {
                &m.status_approved
            } else {
                &m.status_pending
            }
            .clone(),
            html: c.body_html,
            delete_action: delete_action.clone(),
        })
        .collect();
    let empty = comments.is_empty();
    let count = comments.len().to_string();
    let mut view = words.view(
        &fill(&m.manage_subject, &[("site", managed.site.name.as_str())]),
        vec![if empty {
            t.manage_none.clone()
        } else {
            fill(&t.manage_count, &[("count", count.as_str())])
        }],
    );
    if !empty {
        view.forms = vec![PageForm {
            action: delete_action,
            fields: vec![("comment".into(), "all".into())],
            label: t.delete_all.clone(),
        }];
        view.download = Some((format!("{base}/comments.json"), t.download.clone()));
    }
    view.comments = comments;
    view.delete_label = t.delete_one.clone();
    view.open_label = t.open.clone();
    page(StatusCode::OK, &view)
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
    let which: Result<Option<CommentId>, AppError> = match which.as_deref() {
        Some("all") => Ok(None),
        Some(id) => id
            .parse::<i64>()
            .map(|id| Some(CommentId(id)))
            .map_err(|_| AppError::new(ErrorKind::CommentNotFound, "no such comment")),
        None => Err(AppError::new(
            ErrorKind::CommentNotFound,
            "say which comment to delete",
        )),
    };
    let back = format!("{}/mail/manage/{token}", base_url(&state));
    let (words, result) = with_link(&state, token, move |state, conn, token| {
        mail::delete_managed(state, conn, token, which?)
    })
    .await;
    match result {
        Err(e) => error_page(&words, &e),
        Ok(_) => HttpResponse::SeeOther()
            .insert_header(("Location", back))
            .finish(),
    }
}

/// What the reader's download says: published or not (spam is not told apart from pending).
fn exported_status(status: CommentStatus) -> &'static str {
    match status {
        CommentStatus::Approved => CommentStatus::Approved.as_str(),
        _ => CommentStatus::Pending.as_str(),
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
    let (words, result) = with_link(&state, path.into_inner(), mail::managed_comments).await;
    let managed = match result {
        Err(e) => return error_page(&words, &e),
        Ok(managed) => managed,
    };
    let comments: Vec<ExportedComment> = managed
        .comments
        .into_iter()
        .map(|(c, t)| ExportedComment {
            id: c.id.0,
            page_key: t.key,
            page_title: t.title,
            page_url: t.url,
            parent_id: c.parent_id.map(|p| p.0),
            author: c.author,
            email: c.email,
            website: c.website,
            body: c.body_markdown,
            status: exported_status(c.status).into(),
            created_at: c.created_at.to_rfc3339(),
            edited_at: c.edited_at.map(|t| t.to_rfc3339()),
        })
        .collect();
    match serde_json::to_string_pretty(
        &serde_json::json!({ "site": managed.site.name, "comments": comments }),
    ) {
        Ok(json) => HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, "application/json"))
            .insert_header((
                CONTENT_DISPOSITION,
                "attachment; filename=\"my-comments.json\"",
            ))
            .insert_header(("Cache-Control", "no-store"))
            .body(json),
        Err(e) => error_page(&words, &AppError::internal(e)),
    }
}
