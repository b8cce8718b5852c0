//! The admin pages: thin handlers that read the form, call the services and render templates.
//! Form writes take [`PageWriter`], which has checked the session and the CSRF field before the
//! handler runs; the routes are declared in `mod.rs`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::api::{QueueQuery, parse_queue_query, site_id};
use super::forms::{FormPairs, PageError, see_other};
use super::session::{self, PageAdmin, PageWriter, cleared_cookie, session_cookie};
use super::transfer::{self, UploadForm};
use super::views::{self, Layout, Row, TabLink};
use crate::domain::admin::{AdminName, DisplayName, Password};
use crate::domain::comment::CommentId;
use crate::domain::fields::{CommentBody, FieldError};
use crate::domain::thread::ThreadId;
use crate::error::{AppError, ErrorKind};
use crate::http::client::Client;
use crate::service::admin::moderate::{self, Action, Tab};
use crate::service::admin::{auth, site_admin};
use crate::service::{self};
use crate::state::AppState;

/// The admin pages' one script (progressive enhancement), served as a file: the pages' policy
/// allows no inline script.
pub(super) async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .body(include_str!("../../templates/admin/admin.js"))
}

/// The admin pages' icon (a speech bubble), linked from every page's head.
pub(super) async fn favicon() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((
            actix_web::http::header::CACHE_CONTROL,
            "public, max-age=86400",
        ))
        .body(include_str!("../../templates/admin/favicon.svg"))
}

type PageResult = Result<HttpResponse, PageError>;

pub(super) async fn not_found() -> PageResult {
    Err(AppError::new(ErrorKind::NotFound, "there is no such admin page").into())
}

fn ok(page: &impl askama::Template) -> PageResult {
    Ok(views::html(StatusCode::OK, page))
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    done: Option<String>,
}

/// The confirmation shown after an action (a short, fixed set of messages).
fn notice(done: Option<&str>) -> Option<String> {
    let text = match done? {
        "approve" => "Approved.",
        "spam" => "Marked as spam.",
        "delete" => "Deleted.",
        "restore" => "Restored.",
        "pin" => "Pinned.",
        "unpin" => "Unpinned.",
        "edit" => "The text was saved.",
        "reply" => "Your reply is published.",
        "purge" => "Every comment by this author was deleted.",
        "ban" => "The ban is in place.",
        "lift" => "The ban was lifted.",
        "closed" => "The thread is closed to new comments.",
        "reopened" => "The thread is open again.",
        "saved" => "The site was saved.",
        "account" => "Your name on replies was saved.",
        _ => return None,
    };
    Some(text.to_string())
}

/// Adds `done=<what>` to an admin URL.
fn with_done(back: &str, done: &str) -> String {
    let base: String = back
        .split('&')
        .filter(|p| !p.starts_with("done=") && !p.contains("?done="))
        .collect::<Vec<_>>()
        .join("&");
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}done={done}")
}

// ---- login, logout, setup ----

pub(super) async fn login_form(req: HttpRequest) -> PageResult {
    if session::session_from(&req).await.is_ok() {
        return Ok(see_other("/admin"));
    }
    ok(&views::LoginPage {
        layout: Layout::public("Log in"),
        name: String::new(),
        error: None,
    })
}

pub(super) async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    Client(client): Client,
    body: web::Bytes,
) -> PageResult {
    session::require_same_origin(&req)?;
    let form = FormPairs::parse(&body);
    let name = form.text("name");
    let password = form.text("password");
    let who = name.clone();
    let login_state = state.get_ref().clone();
    let result =
        match crate::http::client::rate_limit(&state, crate::spam::limiter::Action::Login, &client)
            .await
        {
            Ok(()) => web::block(move || auth::login(&login_state, &who, &password, client.ip))
                .await
                .map_err(AppError::from)
                .and_then(|r| r),
            Err(e) => Err(e),
        };
    match result {
        Ok(logged_in) => Ok(HttpResponse::SeeOther()
            .cookie(session_cookie(&state, logged_in.token))
            .insert_header((actix_web::http::header::LOCATION, "/admin"))
            .finish()),
        Err(e)
            if matches!(
                e.kind,
                ErrorKind::InvalidCredentials | ErrorKind::LoginThrottled | ErrorKind::RateLimited
            ) =>
        {
            let mut response = views::html(
                e.kind.status(),
                &views::LoginPage {
                    layout: Layout::public("Log in"),
                    name,
                    error: Some(e.message.clone()),
                },
            );
            if let Some(secs) = e.retry_after_secs {
                response.headers_mut().insert(
                    actix_web::http::header::RETRY_AFTER,
                    actix_web::http::header::HeaderValue::from(secs),
                );
            }
            Ok(response)
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn logout(
    state: web::Data<AppState>,
    PageWriter { session, .. }: PageWriter,
) -> PageResult {
    service::blocking(&state, move |_, conn| auth::logout(conn, &session)).await?;
    Ok(HttpResponse::SeeOther()
        .cookie(cleared_cookie(&state))
        .insert_header((actix_web::http::header::LOCATION, "/admin/login"))
        .finish())
}

#[derive(Deserialize)]
pub struct SetupQuery {
    #[serde(default)]
    token: String,
}

pub(super) async fn setup_form(
    state: web::Data<AppState>,
    query: web::Query<SetupQuery>,
) -> PageResult {
    let token = query.into_inner().token;
    let check = token.clone();
    let valid =
        service::blocking(&state, move |_, conn| auth::setup_token_valid(conn, &check)).await?;
    let status = if valid {
        StatusCode::OK
    } else {
        StatusCode::FORBIDDEN
    };
    Ok(views::html(
        status,
        &views::SetupPage {
            layout: Layout::public("Set up"),
            token,
            valid,
            error: None,
            typed: views::SetupTyped::default(),
        },
    ))
}

pub(super) async fn setup(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> PageResult {
    session::require_same_origin(&req)?;
    let form = FormPairs::parse(&body);
    let token = form.text("token");
    let typed = views::SetupTyped {
        name: form.text("name"),
        display_name: form.text("display_name"),
        site_name: form.text("site_name"),
        blog_url: form.text("blog_url"),
    };
    let parsed = (|| -> Result<_, FieldError> {
        let name = AdminName::parse(typed.name.trim())?;
        let password = Password::parse(form.text("password"))?;
        if form.get("password2") != Some(password.expose()) {
            return Err(FieldError::new("password2", "the two passwords differ"));
        }
        let display_name = DisplayName::parse(&typed.display_name)?;
        let first_run = site_admin::FirstRun::parse(&typed.site_name, &typed.blog_url)?;
        Ok((name, password, display_name, first_run))
    })();
    let (name, password, display_name, first_run) = match parsed {
        Ok(p) => p,
        Err(e) => {
            return Ok(views::html(
                StatusCode::UNPROCESSABLE_ENTITY,
                &views::SetupPage {
                    layout: Layout::public("Set up"),
                    token,
                    valid: true,
                    error: Some(setup_message(&e)),
                    typed,
                },
            ));
        }
    };
    let logged_in = service::blocking(&state, move |state, conn| {
        let logged_in = auth::complete_setup(state, conn, &token, &name, &password)?;
        auth::set_display_name(conn, logged_in.session.admin_id, &display_name)?;
        let slug = state.config.default_site.slug.clone();
        site_admin::apply_first_run(state, conn, &slug, &first_run)?;
        Ok(logged_in)
    })
    .await?;
    Ok(HttpResponse::SeeOther()
        .cookie(session_cookie(&state, logged_in.token))
        .insert_header((actix_web::http::header::LOCATION, "/admin"))
        .finish())
}

/// A setup form's mistake in the words of the form's labels (never a field's internal name).
fn setup_message(e: &FieldError) -> String {
    let label = match e.field {
        "name" => "Login name",
        "password" => "Password",
        "password2" => "Password again",
        "display_name" | "author" => "Your name on your replies",
        "site_name" => "Your site's name",
        "blog_url" => "Your blog's address",
        _ => "This form",
    };
    format!("{label}: {}", e.message)
}

// ---- dashboard and queue ----

fn tab_links(counts: &[(Tab, i64)], current: Option<Tab>, suffix: &str) -> Vec<TabLink> {
    counts
        .iter()
        .map(|(tab, n)| TabLink {
            label: tab.label(),
            href: format!("/admin/comments?status={}{suffix}", tab.as_str()),
            count: *n,
            current: Some(*tab) == current,
        })
        .collect()
}

pub(super) async fn dashboard(
    state: web::Data<AppState>,
    PageAdmin(session): PageAdmin,
) -> PageResult {
    let d = service::blocking(&state, |_, conn| moderate::dashboard(conn)).await?;
    ok(&views::DashboardPage {
        layout: Layout::new("Dashboard", "dashboard", &session),
        chart: views::Chart::new(&d.per_day),
        tabs: tab_links(&d.counts, None, ""),
        latest: d.latest.into_iter().map(Row::new).collect(),
    })
}

fn enc(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

pub(super) async fn queue(
    state: web::Data<AppState>,
    PageAdmin(session): PageAdmin,
    query: web::Query<QueueQuery>,
    notice_query: web::Query<NoticeQuery>,
) -> PageResult {
    let (tab, search, site, page) = parse_queue_query(query.into_inner())?;
    let form = views::SearchForm {
        q: search.text.clone().unwrap_or_default(),
        author: search.author.clone().unwrap_or_default(),
        email: search.email.clone().unwrap_or_default(),
        ip: search.ip.clone().unwrap_or_default(),
        page: search.page.clone().unwrap_or_default(),
        site: site.clone().unwrap_or_default(),
    };
    let mut filters = String::new();
    for (k, v) in [
        ("q", &form.q),
        ("author", &form.author),
        ("email", &form.email),
        ("ip", &form.ip),
        ("page", &form.page),
        ("site", &form.site),
    ] {
        if !v.is_empty() {
            filters.push_str(&format!("&{k}={}", enc(v)));
        }
    }
    let (result, sites) = service::blocking(&state, move |state, conn| {
        let site = site_id(state, conn, site.as_deref())?;
        let sites = site_admin::list(conn)?;
        Ok((
            moderate::queue(conn, tab, &search, site, page)?,
            sites.into_iter().map(|s| s.slug).collect::<Vec<_>>(),
        ))
    })
    .await?;
    let back = format!("/admin/comments?status={}{filters}", tab.as_str());
    let next_page = result
        .has_more
        .then(|| format!("{back}&p={}", result.page + 1));
    ok(&views::QueuePage {
        layout: Layout::new(format!("{} comments", tab.label()), "comments", &session)
            .with_notice(notice(notice_query.done.as_deref())),
        tab,
        tabs: tab_links(&result.counts, Some(tab), &filters),
        rows: result.items.into_iter().map(Row::new).collect(),
        search: form,
        sites,
        back,
        next_page,
    })
}

/// The bulk form: `action` with checked `ids`, or one row's button `row=<action>:<id>`.
pub(super) async fn moderate_comments(
    state: web::Data<AppState>,
    PageWriter { form, .. }: PageWriter,
) -> PageResult {
    let (action, ids) = match form.get("row") {
        Some(row) => {
            let (action, id) = row
                .split_once(':')
                .ok_or_else(|| FieldError::new("row", "must be action:id"))?;
            let id = id
                .parse::<i64>()
                .map_err(|_| FieldError::new("row", "must be action:id"))?;
            (Action::parse(action)?, vec![CommentId(id)])
        }
        None => {
            let ids = form
                .all("ids")
                .into_iter()
                .map(|v| v.parse::<i64>().map(CommentId))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| FieldError::new("ids", "must be comment ids"))?;
            (Action::parse(form.get("action").unwrap_or_default())?, ids)
        }
    };
    let done = form
        .get("row")
        .and_then(|r| r.split(':').next())
        .unwrap_or(form.get("action").unwrap_or_default())
        .to_string();
    service::blocking(&state, move |state, conn| {
        moderate::apply(state, conn, &ids, action)
    })
    .await?;
    Ok(see_other(&with_done(
        form.get("back").unwrap_or("/admin/comments"),
        &done,
    )))
}

pub(super) async fn comment(
    state: web::Data<AppState>,
    PageAdmin(session): PageAdmin,
    path: web::Path<i64>,
    notice_query: web::Query<NoticeQuery>,
) -> PageResult {
    let id = CommentId(path.into_inner());
    let item = service::blocking(&state, move |_, conn| moderate::find(conn, id)).await?;
    let back = format!("/admin/comments?status={}", tab_of(&item));
    ok(&views::CommentPage {
        layout: Layout::new(
            format!("Comment by {}", item.comment.author),
            "comments",
            &session,
        )
        .with_notice(notice(notice_query.done.as_deref())),
        row: Row::new(item),
        back,
    })
}

fn tab_of(item: &moderate::QueueItem) -> &'static str {
    if item.reports > 0 {
        "reported"
    } else {
        item.comment.status.as_str()
    }
}

pub(super) async fn edit_comment(
    state: web::Data<AppState>,
    PageWriter { form, .. }: PageWriter,
    path: web::Path<i64>,
) -> PageResult {
    let id = CommentId(path.into_inner());
    let text = CommentBody::parse(form.text("body"), state.config.limits.body)?;
    service::blocking(&state, move |state, conn| {
        moderate::edit(state, conn, id, &text)
    })
    .await?;
    Ok(see_other(&format!("/admin/comments/{}?done=edit", id.0)))
}

pub(super) async fn reply_comment(
    state: web::Data<AppState>,
    PageWriter { session, form }: PageWriter,
    path: web::Path<i64>,
) -> PageResult {
    let id = CommentId(path.into_inner());
    let text = CommentBody::parse(form.text("body"), state.config.limits.body)?;
    let reply = service::blocking(&state, move |state, conn| {
        moderate::reply_as_owner(state, conn, id, session.admin_id, &text)
    })
    .await?;
    Ok(see_other(&format!(
        "/admin/comments/{}?done=reply",
        reply.id.0
    )))
}

pub(super) async fn delete_by_author(
    state: web::Data<AppState>,
    _: PageWriter,
    path: web::Path<i64>,
) -> PageResult {
    let id = CommentId(path.into_inner());
    service::blocking(&state, move |state, conn| {
        moderate::delete_by_author(state, conn, id)
    })
    .await?;
    Ok(see_other("/admin/comments?status=deleted&done=purge"))
}

// ---- bans ----

// ---- account ----

pub(super) async fn account(
    state: web::Data<AppState>,
    PageAdmin(session): PageAdmin,
    notice_query: web::Query<NoticeQuery>,
) -> PageResult {
    let id = session.admin_id;
    let display_name =
        service::blocking(&state, move |_, conn| auth::display_name(conn, id)).await?;
    ok(&views::AccountPage {
        layout: Layout::new("Your account", "account", &session)
            .with_notice(notice(notice_query.done.as_deref())),
        login_name: session.name.clone(),
        display_name,
        error: None,
    })
}

pub(super) async fn update_account(
    state: web::Data<AppState>,
    PageWriter { session, form }: PageWriter,
) -> PageResult {
    let typed = form.text("display_name");
    let name = match DisplayName::parse(&typed) {
        Ok(name) => name,
        Err(e) => {
            return Ok(views::html(
                StatusCode::UNPROCESSABLE_ENTITY,
                &views::AccountPage {
                    layout: Layout::new("Your account", "account", &session),
                    login_name: session.name.clone(),
                    display_name: typed,
                    error: Some(setup_message(&e)),
                },
            ));
        }
    };
    let id = session.admin_id;
    service::blocking(&state, move |_, conn| {
        auth::set_display_name(conn, id, &name)
    })
    .await?;
    Ok(see_other("/admin/account?done=account"))
}

pub(super) async fn bans(
    state: web::Data<AppState>,
    PageAdmin(session): PageAdmin,
    notice_query: web::Query<NoticeQuery>,
) -> PageResult {
    let bans = service::blocking(&state, |_, conn| moderate::list_bans(conn)).await?;
    ok(&views::BansPage {
        layout: Layout::new("Bans", "bans", &session)
            .with_notice(notice(notice_query.done.as_deref())),
        bans: bans
            .into_iter()
            .map(|b| {
                let since = views::when(&b.created_at);
                (b, since)
            })
            .collect(),
    })
}

pub(super) async fn add_ban(
    state: web::Data<AppState>,
    PageWriter { form, .. }: PageWriter,
) -> PageResult {
    let (kind, value, note) = (form.text("kind"), form.text("value"), form.text("note"));
    service::blocking(&state, move |_, conn| {
        moderate::add_ban(conn, &kind, &value, &note)
    })
    .await?;
    Ok(see_other("/admin/bans?done=ban"))
}

pub(super) async fn lift_ban(
    state: web::Data<AppState>,
    _: PageWriter,
    path: web::Path<i64>,
) -> PageResult {
    let id = path.into_inner();
    service::blocking(&state, move |_, conn| moderate::lift_ban(conn, id)).await?;
    Ok(see_other("/admin/bans?done=lift"))
}

// ---- threads ----

#[derive(Deserialize)]
pub struct ThreadsQuery {
    site: Option<String>,
    q: Option<String>,
    done: Option<String>,
}

pub(super) async fn threads(
    state: web::Data<AppState>,
    PageAdmin(session): PageAdmin,
    query: web::Query<ThreadsQuery>,
) -> PageResult {
    let ThreadsQuery { site, q, done } = query.into_inner();
    let site = site.filter(|s| !s.is_empty());
    let q = q.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let (s2, q2) = (site.clone(), q.clone());
    let (list, sites) = service::blocking(&state, move |state, conn| {
        let id = site_id(state, conn, s2.as_deref())?;
        Ok((
            moderate::list_threads(conn, id, q2.as_deref())?,
            site_admin::list(conn)?
                .into_iter()
                .map(|s| s.slug)
                .collect::<Vec<_>>(),
        ))
    })
    .await?;
    let site = site.unwrap_or_default();
    let q = q.unwrap_or_default();
    let back = format!("/admin/threads?site={}&q={}", enc(&site), enc(&q));
    ok(&views::ThreadsPage {
        layout: Layout::new("Threads", "threads", &session).with_notice(notice(done.as_deref())),
        threads: list
            .into_iter()
            .map(|t| {
                let started = views::when(&t.created_at);
                (t, started)
            })
            .collect(),
        site,
        q,
        sites,
        back,
    })
}

pub(super) async fn set_thread_closed(
    state: web::Data<AppState>,
    PageWriter { form, .. }: PageWriter,
    path: web::Path<i64>,
) -> PageResult {
    let closed = match form.get("closed") {
        Some("true") => true,
        Some("false") => false,
        _ => return Err(FieldError::new("closed", "must be true or false").into()),
    };
    let id = ThreadId(path.into_inner());
    service::blocking(&state, move |state, conn| {
        moderate::set_thread_closed(state, conn, id, closed)
    })
    .await?;
    Ok(see_other(&with_done(
        form.get("back").unwrap_or("/admin/threads"),
        if closed { "closed" } else { "reopened" },
    )))
}

// ---- sites ----

pub(super) async fn sites(state: web::Data<AppState>, PageAdmin(session): PageAdmin) -> PageResult {
    let list = service::blocking(&state, |_, conn| site_admin::list(conn)).await?;
    ok(&views::SitesPage {
        layout: Layout::new("Sites", "sites", &session),
        sites: list
            .into_iter()
            .map(|s| (s.slug, s.name, s.allowed_origins.len()))
            .collect(),
    })
}

pub(super) async fn new_site(PageAdmin(session): PageAdmin) -> PageResult {
    ok(&views::SiteFormPage {
        layout: Layout::new("A new site", "sites", &session),
        form: site_admin::SiteForm::blank(),
        editing: None,
        error: None,
    })
}

pub(super) async fn site(
    state: web::Data<AppState>,
    PageAdmin(session): PageAdmin,
    path: web::Path<String>,
    notice_query: web::Query<NoticeQuery>,
) -> PageResult {
    let slug = path.into_inner();
    let found = service::blocking(&state, move |_, conn| site_admin::find(conn, &slug)).await?;
    ok(&views::SiteFormPage {
        layout: Layout::new(format!("Site {}", found.slug), "sites", &session)
            .with_notice(notice(notice_query.done.as_deref())),
        form: site_admin::SiteForm::of(&found),
        editing: Some(found.slug),
        error: None,
    })
}

/// The hidden field the site form page always sends (`templates/admin/site_form.html`): it
/// says the post carries the whole form, so a checkbox that is absent was unticked.
pub const WHOLE_FORM_MARKER: &str = "checkboxes";

fn site_form(form: &FormPairs) -> site_admin::SiteForm {
    // A browser leaves an unticked box out of the post. Only a post of the whole form (with
    // the marker) can say "absent means off"; a partial post (a script, a test, a page from an
    // older version) keeps the settings of the boxes it does not name. A box sent as `false`,
    // `off` or `0` is off either way.
    let whole_form = form.get(WHOLE_FORM_MARKER).is_some();
    let checkbox = |name: &str| match form.get(name) {
        Some(value) => Some(!matches!(value.trim(), "false" | "off" | "0")),
        None if whole_form => Some(false),
        None => None,
    };
    site_admin::SiteForm {
        slug: form.text("slug"),
        name: form.text("name"),
        allowed_origins: form.text("allowed_origins"),
        moderation: form.text("moderation"),
        edit_window_secs: form.text("edit_window_secs"),
        max_depth: form.text("max_depth"),
        require_name: checkbox("require_name"),
        require_email: checkbox("require_email"),
        hold_words: form.text("hold_words"),
        reject_words: form.text("reject_words"),
        max_links: form.text("max_links"),
        report_threshold: form.text("report_threshold"),
        auto_close_days: form.text("auto_close_days"),
        language: form.text("language"),
        honeypot: checkbox("honeypot"),
        require_form_token: checkbox("require_form_token"),
        min_post_secs: form.get("min_post_secs").map(str::to_owned),
        duplicate_window_secs: form.get("duplicate_window_secs").map(str::to_owned),
        pow_difficulty: form.get("pow_difficulty").map(str::to_owned),
        spam_threshold_percent: form.get("spam_threshold_percent").map(str::to_owned),
        reactions: checkbox("reactions"),
        avatars: form.get("avatars").map(str::to_owned),
        owner_frequency: form.get("owner_frequency").map(str::to_owned),
        signin_methods: form.get("signin_methods").map(str::to_owned),
        anonymous_allowed: checkbox("anonymous_allowed"),
        signed_in_skip_moderation: checkbox("signed_in_skip_moderation"),
        signed_in_edit_secs: form.get("signed_in_edit_secs").map(str::to_owned),
    }
}

/// A site form's mistake in the words of the form's labels (never a field's internal name).
fn site_message(e: &AppError) -> String {
    let label = match e.field {
        Some("slug") => "Short name in URLs",
        Some("name") => "Name",
        Some("allowed_origins") => "Allowed origins",
        Some("moderation") => "Moderation",
        Some("edit_window_secs") => "Edit window for authors",
        Some("max_depth") => "Levels of nesting",
        Some("max_links") => "Hold comments with more links than",
        Some("hold_words") => "Words that hold a comment",
        Some("reject_words") => "Words that send a comment to spam",
        Some("report_threshold") => "Readers' reports that hide a comment",
        Some("auto_close_days") => "Close threads to new comments after",
        Some("language") => "Language of the embed",
        Some("min_post_secs") => "Hold comments sent sooner than",
        Some("duplicate_window_secs") => "Refuse the same text within",
        Some("pow_difficulty") => "Proof of work",
        Some("spam_threshold_percent") => "Spam-score threshold",
        Some("avatars") => "Avatars",
        Some("owner_frequency") => "Owner alerts",
        Some("signin_methods") => "Sign-in methods offered",
        Some("signed_in_edit_secs") => "Signed-in readers may edit for",
        _ => return e.message.clone(),
    };
    format!("{label}: {}", e.message)
}

/// A form with a mistake is shown again with the message and the values as typed.
fn site_form_error(
    session: &auth::AdminSession,
    form: site_admin::SiteForm,
    editing: Option<String>,
    e: &AppError,
) -> HttpResponse {
    views::html(
        e.kind.status(),
        &views::SiteFormPage {
            layout: Layout::new("Site", "sites", session),
            form,
            editing,
            error: Some(site_message(e)),
        },
    )
}

pub(super) async fn create_site(
    state: web::Data<AppState>,
    PageWriter {
        session,
        form: pairs,
    }: PageWriter,
) -> PageResult {
    let form = site_form(&pairs);
    let submitted = form.clone();
    match service::blocking(&state, move |state, conn| {
        site_admin::create(state, conn, &submitted)
    })
    .await
    {
        Ok(site) => Ok(see_other(&format!("/admin/sites/{}?done=saved", site.slug))),
        Err(e) if !e.kind.is_outage() => Ok(site_form_error(&session, form, None, &e)),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn update_site(
    state: web::Data<AppState>,
    PageWriter {
        session,
        form: pairs,
    }: PageWriter,
    path: web::Path<String>,
) -> PageResult {
    let slug = path.into_inner();
    let form = site_form(&pairs);
    let (submitted, s) = (form.clone(), slug.clone());
    match service::blocking(&state, move |state, conn| {
        site_admin::update(state, conn, &s, &submitted)
    })
    .await
    {
        Ok(_) => Ok(see_other(&format!("/admin/sites/{slug}?done=saved"))),
        Err(e) if matches!(e.kind, ErrorKind::InvalidField) => {
            Ok(site_form_error(&session, form, Some(slug), &e))
        }
        Err(e) => Err(e.into()),
    }
}

// ---- import and export ----

/// Skipped records and repairs listed one by one on the result page.
const LISTED: usize = 50;

fn transfer_view(
    state: &AppState,
    session: &auth::AdminSession,
    site: &crate::domain::site::Site,
) -> views::TransferPage {
    views::TransferPage {
        layout: Layout::new(format!("Import / export: {}", site.slug), "sites", session),
        slug: site.slug.clone(),
        site_name: site.name.clone(),
        limit: views::size(state.config.server.max_import_bytes),
        format: String::new(),
        dry_run: false,
        skip_pingbacks: false,
        outcome: None,
    }
}

async fn find_site(state: &AppState, slug: String) -> Result<crate::domain::site::Site, AppError> {
    service::blocking(state, move |_, conn| site_admin::find(conn, &slug)).await
}

/// `GET /admin/sites/{slug}/import`: export links and the upload form.
pub(super) async fn transfer_page(
    state: web::Data<AppState>,
    PageAdmin(session): PageAdmin,
    path: web::Path<String>,
) -> PageResult {
    let site = find_site(&state, path.into_inner()).await?;
    ok(&transfer_view(&state, &session, &site))
}

/// `POST /admin/sites/{slug}/import` (multipart form: `csrf`, `file`, `format`, `dry_run`,
/// `skip_pingbacks`): imports, then shows the summary or why the file was refused.
pub(super) async fn import_upload(
    state: web::Data<AppState>,
    PageWriter {
        session,
        form: UploadForm(parts),
    }: PageWriter<UploadForm>,
    path: web::Path<String>,
) -> PageResult {
    let site = find_site(&state, path.into_inner()).await?;
    let mut view = transfer_view(&state, &session, &site);
    view.format = transfer::field(&parts, "format")
        .unwrap_or_default()
        .to_string();
    view.dry_run = transfer::field(&parts, "dry_run").is_some();
    view.skip_pingbacks = transfer::field(&parts, "skip_pingbacks").is_some();
    let file = parts
        .into_iter()
        .find(|p| p.name == "file" && p.filename.is_some())
        .filter(|p| !p.data.is_empty())
        .ok_or_else(|| FieldError::new("file", "choose a file to import"))?;
    let options = transfer::options(
        Some(view.format.as_str()),
        view.dry_run.then_some("on"),
        view.skip_pingbacks.then_some("on"),
        None,
        None,
    )?;
    let result = transfer::import(&state, site.slug.clone(), file.data.into(), options).await;
    let status = match &result {
        Ok(_) => StatusCode::OK,
        Err(e) => e.kind.status(),
    };
    view.outcome = Some(match result {
        Ok(summary) => {
            let lines = summary.skipped.len() + summary.notes.len();
            let skipped: Vec<String> = summary
                .skipped
                .iter()
                .take(LISTED)
                .map(|k| format!("{}: {}", k.source_id, k.reason))
                .collect();
            let notes: Vec<String> = summary
                .notes
                .iter()
                .take(LISTED - skipped.len())
                .cloned()
                .collect();
            views::ImportOutcome::Done {
                summary: summary.to_string(),
                dry_run: summary.dry_run,
                more: lines - skipped.len() - notes.len(),
                skipped,
                notes,
            }
        }
        Err(e) if e.kind.is_outage() => return Err(e.into()),
        Err(e) => views::ImportOutcome::Refused(e.message),
    });
    Ok(views::html(status, &view))
}

#[derive(Deserialize)]
pub struct ExportQuery {
    format: Option<String>,
}

/// `GET /admin/sites/{slug}/export?format=kith|wordpress|disqus`: the download.
pub(super) async fn export_download(
    state: web::Data<AppState>,
    PageAdmin(_session): PageAdmin,
    path: web::Path<String>,
    query: web::Query<ExportQuery>,
) -> PageResult {
    Ok(transfer::export(&state, path.into_inner(), query.format.as_deref()).await?)
}
