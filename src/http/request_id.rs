//! Gives every request an id, logged with anything that happens while serving it (a 500's
//! cause included) and returned in the `X-Request-Id` header so a report can be matched. Each
//! answered request is logged once as a `request` line carrying that id (with `log.format =
//! "json"`, one JSON object per line).

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let id = crate::secrets::random_hex::<6>();
    let started = Instant::now();
    let method = req.method().clone();
    let span = tracing::info_span!("request", id = %id, method = %req.method(), path = %loggable_path(req.path()));
    let mut response = next.call(req).instrument(span).await?;
    let route = response.request().match_pattern();
    let path = match &route {
        // Paths of signed mail links carry the token: log the pattern instead.
        Some(pattern) if pattern.contains("{token}") => pattern.clone(),
        _ => loggable_path(response.request().path()),
    };
    tracing::info!(
        request_id = %id,
        method = %method,
        route = route.as_deref().unwrap_or("unmatched"),
        path = %path,
        status = response.status().as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(response)
}

/// The path as it may go into a log: signed mail-link tokens cut off, length bounded.
fn loggable_path(path: &str) -> String {
    const MAX: usize = 200;
    if let Some(rest) = path.strip_prefix("/mail/")
        && let Some((kind, _token)) = rest.split_once('/')
    {
        return format!("/mail/{kind}/…");
    }
    match path.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &path[..cut]),
        None => path.to_string(),
    }
}
