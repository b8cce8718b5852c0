//! The edge: what every request passes before any route sees it, and every error answer passes
//! on its way out.
//!
//! - A request address longer than `server.max_uri_bytes` gets 414.
//! - A control character (NUL, ESC, DEL, C1 …) in the path gets 404, since no site, comment or
//!   token can have one in its name; one in a query parameter gets 422. Both backends answer
//!   alike (PostgreSQL would otherwise refuse a NUL with an error, SQLite store it).
//! - A request body that sends nothing for `server.body_timeout_secs` gets 408 and its
//!   connection is closed (actix's own timeout covers request heads only).
//! - Every error answer has the shape of its area: JSON `{"error","message"}` under `/api/` and
//!   `/admin/api/` (and from the health probes), an HTML page everywhere else, including the errors actix produces itself
//!   (a too-large body read as bytes, a method with no route).

use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::ConnectionType;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::rt::time::{Instant, Sleep, sleep};
use actix_web::web::Bytes;
use actix_web::{HttpMessage, HttpResponse, ResponseError, web};
use futures_util::Stream;

use crate::error::{AppError, ErrorKind};
use crate::state::AppState;

/// Who reads a path's answers: a program (JSON) or a person (HTML).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Json,
    Page,
}

impl Area {
    pub fn of(path: &str) -> Self {
        let under = |prefix: &str| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        };
        if under("/api") || under("/admin/api") || path == "/healthz" || path == "/readyz" {
            Self::Json
        } else {
            Self::Page
        }
    }
}

/// Whether a request is a browser's navigation to a sign-in page under the API (the popup the
/// embed opens: `/api/v1/sites/{site}/auth/oidc/…`, asking for HTML): its errors are pages, for the
/// person looking at the popup, while a program asking for JSON gets JSON.
pub fn wants_page(req: &actix_web::HttpRequest) -> bool {
    is_signin_page(req.path(), req.headers())
}

fn is_signin_page(path: &str, headers: &header::HeaderMap) -> bool {
    let popup = path
        .strip_prefix("/api/v1/sites/")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(_, rest)| rest.starts_with("auth/oidc/"));
    popup
        && headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
}

/// The middleware (registered once, around every route).
pub async fn edge(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let area = if is_signin_page(req.path(), req.headers()) {
        Area::Page
    } else {
        Area::of(req.path())
    };
    let (max_uri, body_timeout) = match req.app_data::<web::Data<AppState>>() {
        Some(state) => (
            state.config.server.max_uri_bytes,
            Duration::from_secs(state.config.server.body_timeout_secs),
        ),
        None => (usize::MAX, Duration::from_secs(10)),
    };
    if let Some(error) = refuse(&req, max_uri) {
        let response = error_response(area, &error);
        return Ok(req.into_response(response));
    }
    let timed_out = Rc::new(Cell::new(false));
    let payload = req.take_payload();
    if matches!(payload, Payload::None) {
        req.set_payload(payload);
    } else {
        req.set_payload(Payload::Stream {
            payload: Box::pin(IdleTimeout {
                inner: payload,
                idle: body_timeout,
                timer: Box::pin(sleep(body_timeout)),
                started: false,
                timed_out: timed_out.clone(),
            }),
        });
    }
    // (Errors returned by inner middleware are already `AppError`s in the JSON shape.)
    let response = next.call(req).await?.map_into_boxed_body();
    if timed_out.get() {
        let error = AppError::new(
            ErrorKind::RequestTimeout,
            ErrorKind::RequestTimeout.generic_message(),
        );
        let (req, _) = response.into_parts();
        let mut response = error_response(area, &error);
        response
            .head_mut()
            .set_connection_type(ConnectionType::Close);
        return Ok(ServiceResponse::new(req, response));
    }
    Ok(reshape(area, response))
}

/// The error a request gets before any route sees it, if any.
fn refuse(req: &ServiceRequest, max_uri: usize) -> Option<AppError> {
    let target = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if target > max_uri {
        return Some(AppError::new(
            ErrorKind::UriTooLong,
            format!("the address is longer than {max_uri} bytes"),
        ));
    }
    if has_control(&percent_decode(req.uri().path().as_bytes())) {
        return Some(AppError::new(
            ErrorKind::NotFound,
            "nothing here (the address contains a control character)",
        ));
    }
    let query = req.query_string();
    if let Some((name, _)) = url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, value)| has_control(name) || has_control(value))
    {
        let name: String = name.chars().filter(|c| !c.is_control()).take(40).collect();
        return Some(AppError::new(
            ErrorKind::InvalidField,
            format!("the query parameter `{name}` must not contain control characters"),
        ));
    }
    None
}

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// `%XX` sequences decoded; invalid UTF-8 replaced (it cannot name anything either).
fn percent_decode(raw: &[u8]) -> String {
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&byte) = raw.get(i) {
        if byte == b'%'
            && let (Some(hi), Some(lo)) = (
                raw.get(i + 1).and_then(|&b| hex(b)),
                raw.get(i + 2).and_then(|&b| hex(b)),
            )
            && let Ok(decoded) = u8::try_from(hi * 16 + lo)
        {
            out.push(decoded);
            i += 3;
        } else {
            out.push(byte);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An error answer in the area's shape.
pub fn error_response(area: Area, error: &AppError) -> HttpResponse {
    match area {
        Area::Json => error.error_response(),
        Area::Page => {
            let mut response = crate::http::admin::error_page(error);
            let headers = response.headers_mut();
            for (name, value) in [
                (
                    header::CONTENT_SECURITY_POLICY,
                    crate::http::headers::PAGE_CSP,
                ),
                (header::X_FRAME_OPTIONS, "DENY"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::CACHE_CONTROL, "no-store"),
            ] {
                headers.insert(name, HeaderValue::from_static(value));
            }
            response
        }
    }
}

/// Replaces an error answer whose body is not in the area's format (actix's own plain-text
/// errors, an empty 405) with one that is; keeps its headers (CORS, `Retry-After`, …).
fn reshape(area: Area, response: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let fits = match area {
        Area::Json => content_type.starts_with("application/json"),
        Area::Page => content_type.starts_with("text/html"),
    };
    if fits {
        return response;
    }
    let kind = ErrorKind::for_status(status);
    let error = AppError::new(kind, kind.generic_message());
    let (req, old) = response.into_parts();
    let mut new = error_response(area, &error);
    // The original status stays (a 418 stays a 418 even though its kind says 400).
    *new.status_mut() = status;
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE
            && name != header::CONTENT_LENGTH
            && name != header::CONTENT_ENCODING
            && !new.headers().contains_key(name)
        {
            new.headers_mut().append(name.clone(), value.clone());
        }
    }
    if kind == ErrorKind::DatabaseUnavailable && !new.headers().contains_key(header::RETRY_AFTER) {
        new.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(crate::error::DATABASE_RETRY_AFTER_SECS),
        );
    }
    ServiceResponse::new(req, new)
}

/// A request body that fails with a timeout when no byte arrives for `idle`.
struct IdleTimeout {
    inner: Payload,
    idle: Duration,
    timer: Pin<Box<Sleep>>,
    /// The clock starts at the first read, so time spent before the handler reads its body
    /// (a database lookup in an extractor) does not count against the client.
    started: bool,
    timed_out: Rc<Cell<bool>>,
}

impl Stream for IdleTimeout {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if !this.started {
            this.started = true;
            this.timer.as_mut().reset(Instant::now() + this.idle);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(bytes))) => {
                this.timer.as_mut().reset(Instant::now() + this.idle);
                Poll::Ready(Some(Ok(bytes)))
            }
            Poll::Ready(other) => Poll::Ready(other),
            Poll::Pending => match this.timer.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.timed_out.set(true);
                    Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the request body did not arrive in time",
                    )))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn areas_follow_the_path() {
        assert_eq!(Area::of("/api/v1/sites/x/thread"), Area::Json);
        assert_eq!(Area::of("/admin/api/comments"), Area::Json);
        assert_eq!(Area::of("/admin/api"), Area::Json);
        assert_eq!(Area::of("/admin/apiary"), Area::Page);
        assert_eq!(Area::of("/admin/comments"), Area::Page);
        assert_eq!(Area::of("/mail/confirm/x"), Area::Page);
        assert_eq!(Area::of("/apis"), Area::Page);
        assert_eq!(Area::of("/readyz"), Area::Json);
    }

    #[test]
    fn percent_escapes_are_decoded_before_looking_for_control_characters() {
        assert!(has_control(&percent_decode(b"/api/v1/sites/a%00b")));
        assert!(has_control(&percent_decode(b"/x%1b")));
        assert!(has_control(&percent_decode(b"/x%C2%85")));
        assert!(has_control(&percent_decode(b"/x%7F")));
        assert!(!has_control(&percent_decode(b"/x%20y%zz%")));
        assert!(!has_control(&percent_decode(b"/%D0%B7")));
    }
}
