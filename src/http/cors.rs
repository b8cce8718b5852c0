//! CORS for the API: a site answers cross-origin requests only from its configured origins.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError, web};

use crate::error::{AppError, ErrorKind};
use crate::service;
use crate::state::AppState;

const ALLOWED_METHODS: &str = "GET, POST, PATCH, DELETE, OPTIONS";
const ALLOWED_HEADERS: &str = "content-type, x-edit-token, authorization";

/// The middleware: same-origin and origin-less requests pass untouched; cross-origin ones are
/// answered (preflights included) only for the site's allowed origins.
pub async fn cors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let origin = origin.to_string();
    if is_same_origin(&req, &origin) {
        if req.method() == Method::OPTIONS {
            // A page of this server asking before it sends: everything is allowed to it.
            let response = HttpResponse::NoContent()
                .insert_header((header::ALLOW, ALLOWED_METHODS))
                .finish();
            return Ok(req.into_response(response));
        }
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let verdict = match (site_slug(req.path()), req.app_data::<web::Data<AppState>>()) {
        (Some(slug), Some(state)) => {
            site_allows(state.get_ref().clone(), slug, origin.clone()).await
        }
        _ => Verdict::Refused,
    };
    match verdict {
        Verdict::Allowed => {}
        Verdict::Unavailable(error) => return Ok(req.into_response(error.error_response())),
        Verdict::Refused => return Ok(refuse(req, &origin)),
        // No site by that name: the handler answers 404 `site_not_found`, readable by the page
        // (a preflight is still refused), so the embed can say the site name is wrong.
        Verdict::NoSuchSite if req.method() != Method::OPTIONS => {}
        Verdict::NoSuchSite => return Ok(refuse(req, &origin)),
    }
    let Ok(origin_value) = HeaderValue::from_str(&origin) else {
        return Ok(req.into_response(HttpResponse::BadRequest().finish()));
    };
    if req.method() == Method::OPTIONS {
        let response = HttpResponse::NoContent()
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin_value))
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, ALLOWED_METHODS))
            .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOWED_HEADERS))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "86400"))
            .insert_header((header::VARY, "Origin"))
            .finish();
        return Ok(req.into_response(response));
    }
    let mut response = next.call(req).await?.map_into_boxed_body();
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin_value);
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Retry-After"),
    );
    Ok(response)
}

/// The 403 for an origin the site does not allow. Readable by that origin (for a request
/// that is not a preflight, so nothing is allowed through), so that the embed can tell the
/// page's owner what to change instead of failing with the browser's generic CORS error. Logged
/// once per origin and site per hour.
fn refuse(req: ServiceRequest, origin: &str) -> ServiceResponse<BoxBody> {
    let slug = site_slug(req.path()).unwrap_or("").to_owned();
    if let Some(state) = req.app_data::<web::Data<AppState>>()
        && state.log_once.first(&format!("origin {origin} {slug}"))
    {
        tracing::warn!(
            origin,
            site = %slug,
            "refused a request from an origin the site does not allow; add it under Admin → Sites → Allowed origins, or `kith site set {slug} --allowed-origins …`"
        );
    }
    let error = AppError::new(
        ErrorKind::OriginNotAllowed,
        format!("{origin} may not use this site's comments; add it to the site's allowed origins"),
    );
    let mut response = error.error_response();
    if req.method() != Method::OPTIONS
        && let Ok(value) = HeaderValue::from_str(origin)
    {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    req.into_response(response)
}

/// The `{site}` of `/api/v1/sites/{site}/…`.
fn site_slug(path: &str) -> Option<&str> {
    path.strip_prefix("/api/v1/sites/")?
        .split('/')
        .next()
        .filter(|s| !s.is_empty())
}

fn is_same_origin(req: &ServiceRequest, origin: &str) -> bool {
    let info = req.connection_info();
    let own = format!("{}://{}", info.scheme(), info.host());
    origin.eq_ignore_ascii_case(&own)
}

enum Verdict {
    Allowed,
    Refused,
    NoSuchSite,
    /// The database could not be asked (503, so the client retries rather than gives up).
    Unavailable(AppError),
}

async fn site_allows(state: AppState, slug: &str, origin: String) -> Verdict {
    let verdict = |allowed: bool| {
        if allowed {
            Verdict::Allowed
        } else {
            Verdict::Refused
        }
    };
    if let Some(site) = service::sites::cached(&state, slug) {
        return verdict(site.allows_origin(&origin));
    }
    let slug = slug.to_string();
    match service::blocking(&state, move |state, conn| {
        Ok(service::sites::find(state, conn, &slug)?.allows_origin(&origin))
    })
    .await
    {
        Ok(allowed) => verdict(allowed),
        Err(e) if e.kind == ErrorKind::SiteNotFound => Verdict::NoSuchSite,
        Err(e) if e.kind == ErrorKind::DatabaseUnavailable => Verdict::Unavailable(e),
        Err(_) => Verdict::Refused,
    }
}
