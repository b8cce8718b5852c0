//! Turns extractor failures (bad JSON, bad query, too large) into the API's JSON errors.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{HttpRequest, web};

use crate::error::{AppError, ErrorKind};

pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req| json_error(&err).into())
}

fn json_error(err: &JsonPayloadError) -> AppError {
    match err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            AppError::new(ErrorKind::PayloadTooLarge, "the request body is too large")
        }
        JsonPayloadError::ContentType => AppError::new(
            ErrorKind::UnsupportedMediaType,
            "send JSON with Content-Type: application/json",
        ),
        JsonPayloadError::Deserialize(e) => AppError::new(
            ErrorKind::MalformedJson,
            format!("the JSON body is not valid: {e}"),
        ),
        other => AppError::new(
            ErrorKind::MalformedJson,
            format!("the JSON body is not valid: {other}"),
        ),
    }
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, _req| {
        AppError::new(
            ErrorKind::MalformedQuery,
            format!("bad query string: {err}"),
        )
        .into()
    })
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_err: PathError, _req| {
        AppError::new(ErrorKind::NotFound, "no such resource").into()
    })
}

pub async fn not_found(req: HttpRequest) -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::new(
        ErrorKind::NotFound,
        format!("nothing at {}", req.path()),
    ))
}
