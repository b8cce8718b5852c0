//! The admin page of a site's webhooks: endpoints, their secrets, recent deliveries.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::forms::{PageError, see_other};
use super::session::{PageAdmin, PageWriter};
use super::views::{self, Layout};
use crate::db::DbConn;
use crate::domain::site::SiteId;
use crate::domain::webhook::{EndpointUrl, PayloadFormat, WebhookEvent};
use crate::error::{AppError, ErrorKind};
use crate::service::admin::auth::AdminSession;
use crate::service::admin::site_admin;
use crate::service::{self, webhooks};
use crate::state::AppState;

type PageResult = Result<HttpResponse, PageError>;

/// Runs `op` in the blocking pool with the id of the site named `slug` (every route here works
/// on one site's endpoints).
async fn in_site<T, F>(state: &AppState, slug: &str, op: F) -> Result<T, AppError>
where
    F: FnOnce(&AppState, &mut DbConn, SiteId) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let slug = slug.to_string();
    service::blocking(state, move |state, conn| {
        let site = site_admin::find(conn, &slug)?;
        op(state, conn, site.id)
    })
    .await
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// The page, with an optional secret to show, error and typed URL.
async fn render(
    state: &web::Data<AppState>,
    session: &AdminSession,
    slug: String,
    status: StatusCode,
    extra: (Option<(i64, String)>, Option<String>, String),
    notice: Option<String>,
) -> PageResult {
    let overview = in_site(state, &slug, |_, conn, site| webhooks::overview(conn, site)).await?;
    let (secret, error, url) = extra;
    Ok(views::html(
        status,
        &views::WebhooksPage {
            layout: Layout::new(format!("Webhooks of {slug}"), "sites", session)
                .with_notice(notice),
            slug,
            endpoints: overview.endpoints,
            deliveries: overview.deliveries,
            secret,
            error,
            url,
        },
    ))
}

pub(super) async fn page(
    state: web::Data<AppState>,
    PageAdmin(session): PageAdmin,
    path: web::Path<String>,
    query: web::Query<DoneQuery>,
) -> PageResult {
    let notice = match query.done.as_deref() {
        Some("deleted") => Some("The endpoint was deleted.".to_string()),
        _ => None,
    };
    let extra = (None, None, String::new());
    render(
        &state,
        &session,
        path.into_inner(),
        StatusCode::OK,
        extra,
        notice,
    )
    .await
}

pub(super) async fn create(
    state: web::Data<AppState>,
    PageWriter { session, form }: PageWriter,
    path: web::Path<String>,
) -> PageResult {
    let slug = path.into_inner();
    let url_text = form.text("url");
    let parsed = EndpointUrl::parse(&url_text).and_then(|url| {
        let format = PayloadFormat::parse(&form.text("format"))?;
        let events = WebhookEvent::parse_list(&form.all("events").join(","))?;
        Ok((url, format, events))
    });
    let (url, format, events) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            let extra = (None, Some(e.message), url_text);
            return render(
                &state,
                &session,
                slug,
                StatusCode::UNPROCESSABLE_ENTITY,
                extra,
                None,
            )
            .await;
        }
    };
    let created = in_site(&state, &slug, move |state, conn, site| {
        webhooks::create(state, conn, site, &url, format, &events)
    })
    .await;
    match created {
        Ok((endpoint, secret)) => {
            let extra = (Some((endpoint.id, secret)), None, String::new());
            let notice = Some("The endpoint was added.".to_string());
            render(&state, &session, slug, StatusCode::OK, extra, notice).await
        }
        Err(e) if e.kind == ErrorKind::InvalidField => {
            let extra = (None, Some(e.to_string()), url_text);
            render(
                &state,
                &session,
                slug,
                StatusCode::UNPROCESSABLE_ENTITY,
                extra,
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// The page with endpoint `id`'s secret shown, got by `op` (as it is, or a new one).
async fn show_secret(
    state: &web::Data<AppState>,
    session: &AdminSession,
    path: web::Path<(String, i64)>,
    op: fn(&AppState, &mut DbConn, SiteId, i64) -> Result<String, AppError>,
    notice: Option<String>,
) -> PageResult {
    let (slug, id) = path.into_inner();
    let secret = in_site(state, &slug, move |state, conn, site| {
        op(state, conn, site, id)
    })
    .await?;
    let extra = (Some((id, secret)), None, String::new());
    render(state, session, slug, StatusCode::OK, extra, notice).await
}

pub(super) async fn reveal_secret(
    state: web::Data<AppState>,
    PageWriter { session, .. }: PageWriter,
    path: web::Path<(String, i64)>,
) -> PageResult {
    show_secret(&state, &session, path, webhooks::secret, None).await
}

pub(super) async fn rotate_secret(
    state: web::Data<AppState>,
    PageWriter { session, .. }: PageWriter,
    path: web::Path<(String, i64)>,
) -> PageResult {
    let notice = "The endpoint has a new secret; the old one no longer verifies.";
    show_secret(
        &state,
        &session,
        path,
        webhooks::rotate_secret,
        Some(notice.into()),
    )
    .await
}

pub(super) async fn delete(
    state: web::Data<AppState>,
    _: PageWriter,
    path: web::Path<(String, i64)>,
) -> PageResult {
    let (slug, id) = path.into_inner();
    in_site(&state, &slug, move |_, conn, site| {
        webhooks::delete(conn, site, id)
    })
    .await?;
    Ok(see_other(&format!(
        "/admin/sites/{slug}/webhooks?done=deleted"
    )))
}
