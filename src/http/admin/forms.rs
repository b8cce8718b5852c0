//! What the admin pages share: the urlencoded form body, the page error and the redirect.

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};

use super::session::{FormBody, LocalFuture};
use super::views;
use crate::error::{AppError, ErrorKind};

/// Largest urlencoded admin form accepted (actix's default for a body read as bytes, which the
/// handlers used before this extractor); the import upload has its own, configured limit.
const FORM_LIMIT: usize = 256 * 1024;

/// An error on an admin page: 401 becomes a redirect to the login page, anything else a
/// small HTML page with the message.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        Self(e)
    }
}

impl From<crate::domain::fields::FieldError> for PageError {
    fn from(e: crate::domain::fields::FieldError) -> Self {
        Self(e.into())
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        if self.0.kind == ErrorKind::Unauthorized {
            StatusCode::SEE_OTHER
        } else {
            self.0.kind.status()
        }
    }

    fn error_response(&self) -> HttpResponse {
        if self.0.kind == ErrorKind::Unauthorized {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/admin/login"))
                .finish();
        }
        if self.0.kind == ErrorKind::Internal {
            tracing::error!(error = %self.0, "admin page failed");
        }
        error_page(&self.0)
    }
}

/// An error as a small HTML page (admin pages, and every page-area error the edge reshapes).
pub fn error_page(error: &AppError) -> HttpResponse {
    let mut response = views::html(error.kind.status(), &views::ErrorPage::new(error));
    if let Some(secs) = error.retry_after_secs {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// A urlencoded form body; repeated fields (checkboxes) are kept.
pub struct FormPairs(Vec<(String, String)>);

impl FormPairs {
    pub fn parse(body: &[u8]) -> Self {
        Self(
            url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_string()
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

impl FormBody for FormPairs {
    fn extract(req: &HttpRequest, payload: &mut Payload) -> LocalFuture<Result<Self, AppError>> {
        let body = web::Payload::from_request(req, payload).into_inner();
        Box::pin(async move {
            let body = body.map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?;
            match body.to_bytes_limited(FORM_LIMIT).await {
                Ok(Ok(bytes)) => Ok(Self::parse(&bytes)),
                Ok(Err(e)) => Err(AppError::new(
                    ErrorKind::InvalidField,
                    format!("the form broke off: {e}"),
                )),
                Err(_) => Err(AppError::new(
                    ErrorKind::PayloadTooLarge,
                    "the form is too large",
                )),
            }
        })
    }

    fn csrf(&self) -> &str {
        self.get("csrf").unwrap_or_default()
    }
}

/// 303 to `to`, which must be a path inside the admin area (anything else goes to `/admin`).
pub fn see_other(to: &str) -> HttpResponse {
    let safe = to.starts_with("/admin") && !to.starts_with("//") && !to.contains('\\');
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, if safe { to } else { "/admin" }))
        .finish()
}
