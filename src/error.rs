//! The one error type. Its kinds are the API's stable error codes; their HTTP statuses live
//! here and only here.

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::domain::fields::FieldError;

/// Stable error codes of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    MalformedJson,
    MalformedQuery,
    UnsupportedMediaType,
    PayloadTooLarge,
    InvalidField,
    UnknownReaction,
    ReactionsDisabled,
    InvalidImport,
    NotFound,
    SiteNotFound,
    ThreadNotFound,
    CommentNotFound,
    ParentNotFound,
    ThreadClosed,
    InvalidEditToken,
    EditWindowClosed,
    OriginNotAllowed,
    RateLimited,
    Unauthorized,
    InvalidCredentials,
    CsrfFailed,
    LoginThrottled,
    InvalidSetupToken,
    AlreadyExists,
    PowRequired,
    PowInvalid,
    DuplicateComment,
    InvalidLink,
    InvalidWebmention,
    LinkExpired,
    LinkUsed,
    MailDisabled,
    SessionExpired,
    SignInRequired,
    SignInNotOffered,
    ReaderBanned,
    InvalidSignInCode,
    ProviderNotFound,
    InvalidSigninState,
    SigninExpired,
    SigninFailed,
    ProviderUnavailable,
    BadRequest,
    MethodNotAllowed,
    RequestTimeout,
    UriTooLong,
    HeadersTooLarge,
    DatabaseUnavailable,
    MigrationsPending,
    TooManyStreams,
    LiveUnavailable,
    Internal,
}

impl ErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::MalformedJson => "malformed_json",
            Self::MalformedQuery => "malformed_query",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PayloadTooLarge => "payload_too_large",
            Self::InvalidField => "invalid_field",
            Self::UnknownReaction => "unknown_reaction",
            Self::ReactionsDisabled => "reactions_disabled",
            Self::InvalidImport => "invalid_import",
            Self::NotFound => "not_found",
            Self::SiteNotFound => "site_not_found",
            Self::ThreadNotFound => "thread_not_found",
            Self::CommentNotFound => "comment_not_found",
            Self::ParentNotFound => "parent_not_found",
            Self::ThreadClosed => "thread_closed",
            Self::InvalidEditToken => "invalid_edit_token",
            Self::EditWindowClosed => "edit_window_closed",
            Self::OriginNotAllowed => "origin_not_allowed",
            Self::RateLimited => "rate_limited",
            Self::Unauthorized => "unauthorized",
            Self::InvalidCredentials => "invalid_credentials",
            Self::CsrfFailed => "csrf_failed",
            Self::LoginThrottled => "login_throttled",
            Self::InvalidSetupToken => "invalid_setup_token",
            Self::AlreadyExists => "already_exists",
            Self::PowRequired => "pow_required",
            Self::PowInvalid => "pow_invalid",
            Self::DuplicateComment => "duplicate_comment",
            Self::InvalidLink => "invalid_link",
            Self::InvalidWebmention => "invalid_webmention",
            Self::LinkExpired => "link_expired",
            Self::LinkUsed => "link_used",
            Self::MailDisabled => "mail_disabled",
            Self::SessionExpired => "session_expired",
            Self::SignInRequired => "sign_in_required",
            Self::SignInNotOffered => "sign_in_not_offered",
            Self::ReaderBanned => "reader_banned",
            Self::InvalidSignInCode => "invalid_sign_in_code",
            Self::ProviderNotFound => "provider_not_found",
            Self::InvalidSigninState => "invalid_signin_state",
            Self::SigninExpired => "signin_expired",
            Self::SigninFailed => "signin_failed",
            Self::ProviderUnavailable => "provider_unavailable",
            Self::BadRequest => "bad_request",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::RequestTimeout => "request_timeout",
            Self::UriTooLong => "uri_too_long",
            Self::HeadersTooLarge => "headers_too_large",
            Self::DatabaseUnavailable => "database_unavailable",
            Self::MigrationsPending => "migrations_pending",
            Self::TooManyStreams => "too_many_streams",
            Self::LiveUnavailable => "live_unavailable",
            Self::Internal => "internal_error",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Self::MalformedJson
            | Self::MalformedQuery
            | Self::BadRequest
            | Self::InvalidWebmention
            | Self::UnknownReaction => StatusCode::BAD_REQUEST,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::UriTooLong => StatusCode::URI_TOO_LONG,
            Self::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::InvalidField | Self::InvalidImport | Self::ParentNotFound => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::NotFound
            | Self::SiteNotFound
            | Self::ThreadNotFound
            | Self::CommentNotFound
            | Self::ProviderNotFound => StatusCode::NOT_FOUND,
            Self::ThreadClosed
            | Self::InvalidEditToken
            | Self::EditWindowClosed
            | Self::OriginNotAllowed
            | Self::CsrfFailed
            | Self::InvalidSetupToken
            | Self::PowRequired
            | Self::PowInvalid
            | Self::InvalidLink
            | Self::ReactionsDisabled
            | Self::SignInRequired
            | Self::SignInNotOffered
            | Self::ReaderBanned
            | Self::InvalidSignInCode
            | Self::InvalidSigninState
            | Self::SigninFailed => StatusCode::FORBIDDEN,
            Self::Unauthorized | Self::InvalidCredentials | Self::SessionExpired => {
                StatusCode::UNAUTHORIZED
            }
            Self::AlreadyExists | Self::DuplicateComment => StatusCode::CONFLICT,
            Self::LinkExpired | Self::LinkUsed | Self::SigninExpired => StatusCode::GONE,
            // The provider, not kith and not the request, failed.
            Self::ProviderUnavailable => StatusCode::BAD_GATEWAY,
            Self::MailDisabled
            | Self::DatabaseUnavailable
            | Self::MigrationsPending
            | Self::LiveUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::RateLimited | Self::LoginThrottled | Self::TooManyStreams => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl ErrorKind {
    /// The kind that stands for an error status produced outside kith's own code (the HTTP
    /// layer, an extractor), so that every error answer carries a stable code.
    pub fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => Self::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => Self::MethodNotAllowed,
            StatusCode::REQUEST_TIMEOUT => Self::RequestTimeout,
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            StatusCode::URI_TOO_LONG => Self::UriTooLong,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::UnsupportedMediaType,
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => Self::HeadersTooLarge,
            StatusCode::UNPROCESSABLE_ENTITY => Self::InvalidField,
            StatusCode::TOO_MANY_REQUESTS => Self::RateLimited,
            StatusCode::UNAUTHORIZED => Self::Unauthorized,
            StatusCode::FORBIDDEN => Self::CsrfFailed,
            StatusCode::SERVICE_UNAVAILABLE => Self::DatabaseUnavailable,
            s if s.is_client_error() => Self::BadRequest,
            _ => Self::Internal,
        }
    }

    /// A fault on the server's side (a bug or an outage), not in the request.
    pub fn is_outage(self) -> bool {
        matches!(self, Self::Internal | Self::DatabaseUnavailable)
    }

    /// A message for a kind produced by [`ErrorKind::for_status`].
    pub fn generic_message(self) -> &'static str {
        match self {
            Self::NotFound => "nothing here",
            Self::MethodNotAllowed => "this method is not allowed here",
            Self::RequestTimeout => "the request body did not arrive in time",
            Self::PayloadTooLarge => "the request body is too large",
            Self::UriTooLong => "the address is too long",
            Self::HeadersTooLarge => "the request headers are too large",
            Self::UnsupportedMediaType => "this content type is not accepted here",
            Self::DatabaseUnavailable => "the database is unavailable; try again shortly",
            Self::Internal => "something went wrong on our side",
            _ => "the request was refused",
        }
    }
}

/// Seconds a client is asked to wait when the database is unavailable.
pub const DATABASE_RETRY_AFTER_SECS: u64 = 5;

/// An error on its way to becoming a JSON response.
#[derive(Debug)]
pub struct AppError {
    pub kind: ErrorKind,
    pub message: String,
    pub field: Option<&'static str>,
    pub retry_after_secs: Option<u64>,
    source: Option<anyhow::Error>,
}

impl AppError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            field: None,
            retry_after_secs: None,
            source: None,
        }
    }

    /// A bug or an outage: the cause is logged, the client sees a generic message.
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        Self {
            source: Some(source.into()),
            ..Self::new(ErrorKind::Internal, "something went wrong on our side")
        }
    }

    /// Names the request field the error is about.
    pub fn with_field(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }

    /// Too many failed logins from this address or for this account.
    pub fn login_throttled(retry_after_secs: u64) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs.max(1)),
            ..Self::new(
                ErrorKind::LoginThrottled,
                "too many failed logins; try again later",
            )
        }
    }

    /// The database cannot be reached (no pool connection within the acquire timeout, or the
    /// connection broke): 503 with `Retry-After`. The cause is logged.
    pub fn database_unavailable(source: impl Into<anyhow::Error>) -> Self {
        Self {
            retry_after_secs: Some(DATABASE_RETRY_AFTER_SECS),
            source: Some(source.into()),
            ..Self::new(
                ErrorKind::DatabaseUnavailable,
                ErrorKind::DatabaseUnavailable.generic_message(),
            )
        }
    }

    /// Whether the database refused this transaction only because of others running at the
    /// same time (PostgreSQL: a deadlock, 40P01, or a serialization failure, 40001): the same
    /// work in a new transaction may well succeed.
    pub fn is_transient_conflict(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        let Some(Error::DatabaseError(kind, info)) = self
            .source
            .as_ref()
            .and_then(|source| source.downcast_ref::<Error>())
        else {
            return false;
        };
        matches!(kind, DatabaseErrorKind::SerializationFailure)
            || info.message().starts_with("deadlock detected")
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs.max(1)),
            ..Self::new(ErrorKind::RateLimited, "too many requests; try again later")
        }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.code(), self.message)?;
        if let Some(source) = &self.source {
            write!(f, " ({source:#})")?;
        }
        Ok(())
    }
}

impl std::error::Error for AppError {}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        // The message stands next to the field it is about, so it does not repeat its name.
        Self {
            field: Some(e.field),
            ..Self::new(ErrorKind::InvalidField, e.message)
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            // The server went away under an open connection (stopped, restarted, network).
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
                Self::database_unavailable(e)
            }
            Error::DatabaseError(_, ref info) if connection_lost(info.message()) => {
                Self::database_unavailable(e)
            }
            e => Self::internal(e),
        }
    }
}

/// Whether a PostgreSQL error message says the connection is gone (libpq reports these
/// without an SQLSTATE, so diesel cannot classify them).
fn connection_lost(message: &str) -> bool {
    [
        "server closed the connection unexpectedly",
        "terminating connection due to administrator command",
        "no connection to the server",
        "could not receive data from server",
        "could not send data to server",
        "the database system is shutting down",
        "the database system is starting up",
    ]
    .iter()
    .any(|m| message.contains(m))
}

/// No connection within `database.acquire_timeout_secs`: the database is down or saturated.
impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        Self::database_unavailable(e)
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self::internal(e)
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'static str>,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.kind.status()
    }

    fn error_response(&self) -> HttpResponse {
        if self.kind == ErrorKind::Internal {
            tracing::error!(error = %self, "request failed");
        } else if self.kind == ErrorKind::DatabaseUnavailable {
            tracing::warn!(error = %self, "database unavailable");
        }
        let mut response = HttpResponse::build(self.status_code()).json(ErrorBody {
            error: self.kind.code(),
            message: &self.message,
            field: self.field,
        });
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
