//! Import and export in the admin area: what the upload page and the JSON API share (the
//! size-limited body, the options, the download response, the summary as JSON), and a small
//! `multipart/form-data` reader for the upload form (browsers send files no other way without
//! a script; one form with a few fields does not need a crate).

use actix_web::dev::Payload;
use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::session::{FormBody, LocalFuture, state_of};

use crate::domain::fields::FieldError;
use crate::error::{AppError, ErrorKind};
use crate::import::Format;
use crate::service::export::ExportFormat;
use crate::service::import::{HostRule, ImportOptions, Summary};
use crate::service::{self};
use crate::state::AppState;

/// The import file's bytes, refused with 413 `payload_too_large` past `server.max_import_bytes`
/// (at once when `Content-Length` says so, else as soon as the stream passes it).
pub async fn read_limited(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<web::Bytes, AppError> {
    let limit = state.config.server.max_import_bytes;
    let too_large = || {
        AppError::new(
            ErrorKind::PayloadTooLarge,
            format!(
                "the file is larger than the {} bytes this server accepts (server.max_import_bytes); \
                 use `kith import` on the server for bigger files",
                limit
            ),
        )
    };
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    match payload.to_bytes_limited(limit).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => Err(AppError::new(
            ErrorKind::InvalidField,
            format!("the upload broke off: {e}"),
        )),
        Err(_) => Err(too_large()),
    }
}

/// A yes/no option given as text (`true`/`false`, `1`/`0`, `on`/`off`, `yes`/`no`, empty).
pub fn flag(field: &'static str, value: Option<&str>) -> Result<bool, FieldError> {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("" | "false" | "0" | "off" | "no") => Ok(false),
        Some("true" | "1" | "on" | "yes") => Ok(true),
        Some(_) => Err(FieldError::new(field, "must be true or false")),
    }
}

/// Import options from the form or query fields: `format` (empty: detect), `dry_run`,
/// `skip_pingbacks`, `map_host` (`OLD=NEW`) and `strip_host`.
pub fn options(
    format: Option<&str>,
    dry_run: Option<&str>,
    skip_pingbacks: Option<&str>,
    map_host: Option<&str>,
    strip_host: Option<&str>,
) -> Result<ImportOptions, AppError> {
    let format = match format.map(str::trim).filter(|f| !f.is_empty()) {
        None | Some("detect") => None,
        Some(f) => Some(
            f.parse::<Format>()
                .map_err(|e| FieldError::new("format", e.to_string()))?,
        ),
    };
    let host = match (
        map_host.map(str::trim).filter(|m| !m.is_empty()),
        flag("strip_host", strip_host)?,
    ) {
        (Some(_), true) => {
            return Err(
                FieldError::new("map_host", "give map_host or strip_host, not both").into(),
            );
        }
        (Some(rule), false) => {
            HostRule::parse_map(rule).map_err(|e| FieldError::new("map_host", e))?
        }
        (None, true) => HostRule::Strip,
        (None, false) => HostRule::Keep,
    };
    Ok(ImportOptions {
        format,
        dry_run: flag("dry_run", dry_run)?,
        skip_pingbacks: flag("skip_pingbacks", skip_pingbacks)?,
        host,
        progress: None,
    })
}

/// Imports `bytes` into the site (one transaction; nothing written on a dry run or an error).
pub async fn import(
    state: &AppState,
    slug: String,
    bytes: web::Bytes,
    options: ImportOptions,
) -> Result<Summary, AppError> {
    service::blocking(state, move |state, conn| {
        service::import::import_file(state, conn, &slug, &bytes, &options)
    })
    .await
}

/// The summary as the API returns it: the one-line report and its numbers.
pub fn summary_json(s: &Summary) -> Value {
    json!({
        "summary": s.to_string(),
        "format": s.format.to_string(),
        "dry_run": s.dry_run,
        "threads": s.threads,
        "new_threads": s.new_threads,
        "comments": s.comments,
        "replies": s.replies,
        "max_depth": s.max_depth,
        "by_status": {
            "approved": s.by_status.approved,
            "pending": s.by_status.pending,
            "spam": s.by_status.spam,
            "deleted": s.by_status.deleted,
        },
        "pingbacks": s.pingbacks,
        "already_present": s.already_present,
        "skipped": s.skipped.iter()
            .map(|k| json!({ "source_id": k.source_id, "reason": k.reason }))
            .collect::<Vec<_>>(),
        "notes": s.notes,
    })
}

/// The site's export as a file download.
pub async fn export(
    state: &AppState,
    slug: String,
    format: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let format: ExportFormat = format
        .unwrap_or("kith")
        .parse()
        .map_err(|e: String| FieldError::new("format", e))?;
    let (file_slug, body) = service::blocking(state, move |state, conn| {
        let mut out = Vec::new();
        service::export::export_site(state, conn, &slug, format, &mut out)?;
        Ok((slug, out))
    })
    .await?;
    let date = service::now().format("%Y-%m-%d");
    let (content_type, filename) = match format {
        ExportFormat::Kith => ("application/json", format!("kith-{file_slug}-{date}.json")),
        ExportFormat::WordPress => (
            "application/xml; charset=utf-8",
            format!("kith-{file_slug}-{date}-wordpress.xml"),
        ),
        ExportFormat::Disqus => (
            "application/xml; charset=utf-8",
            format!("kith-{file_slug}-{date}-disqus.xml"),
        ),
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(filename)],
        })
        .body(body))
}

/// One field of a `multipart/form-data` body.
#[derive(Debug, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub data: Vec<u8>,
}

fn bad_form(why: &str) -> AppError {
    FieldError::new("file", format!("the upload is not a valid form: {why}")).into()
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    let first = needle[0];
    let last_start = haystack.len() - needle.len();
    let mut i = from;
    while i <= last_start {
        match haystack[i..=last_start].iter().position(|b| *b == first) {
            None => return None,
            Some(offset) => {
                let at = i + offset;
                if haystack[at..at + needle.len()] == *needle {
                    return Some(at);
                }
                i = at + 1;
            }
        }
    }
    None
}

/// A `key="value"` (or unquoted) parameter of a header value.
fn param(header: &str, key: &str) -> Option<String> {
    header.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        if !k.trim().eq_ignore_ascii_case(key) {
            return None;
        }
        let v = v.trim();
        Some(
            v.strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v)
                .to_string(),
        )
    })
}

/// Splits a `multipart/form-data` body (RFC 7578) into its fields.
pub fn parse_multipart(content_type: &str, body: &[u8]) -> Result<Vec<Part>, AppError> {
    if !content_type
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return Err(AppError::new(
            ErrorKind::UnsupportedMediaType,
            "send the form as multipart/form-data",
        ));
    }
    let boundary = param(content_type, "boundary")
        .filter(|b| !b.is_empty() && b.len() <= 70)
        .ok_or_else(|| bad_form("no boundary"))?;
    let delimiter = format!("--{boundary}").into_bytes();
    let next_delimiter = format!("\r\n--{boundary}").into_bytes();
    let mut at = find(body, &delimiter, 0).ok_or_else(|| bad_form("no parts"))? + delimiter.len();
    let mut parts = Vec::new();
    loop {
        let rest = body.get(at..).unwrap_or_default();
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        if !rest.starts_with(b"\r\n") {
            return Err(bad_form("a part does not start on a new line"));
        }
        let head_start = at + 2;
        let head_end =
            find(body, b"\r\n\r\n", head_start).ok_or_else(|| bad_form("a part has no end"))?;
        let head = std::str::from_utf8(&body[head_start..head_end])
            .map_err(|_| bad_form("a part's headers are not text"))?;
        let disposition = head
            .split("\r\n")
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.trim()
                    .eq_ignore_ascii_case("content-disposition")
                    .then_some(value.trim())
            })
            .ok_or_else(|| bad_form("a part has no name"))?;
        let name = param(disposition, "name").ok_or_else(|| bad_form("a part has no name"))?;
        let filename = param(disposition, "filename");
        let data_start = head_end + 4;
        let data_end =
            find(body, &next_delimiter, data_start).ok_or_else(|| bad_form("it is cut short"))?;
        parts.push(Part {
            name,
            filename,
            data: body[data_start..data_end].to_vec(),
        });
        at = data_end + next_delimiter.len();
    }
}

/// The upload form's fields (`multipart/form-data`), read within `server.max_import_bytes`.
pub struct UploadForm(pub Vec<Part>);

impl FormBody for UploadForm {
    fn extract(req: &HttpRequest, payload: &mut Payload) -> LocalFuture<Result<Self, AppError>> {
        let req = req.clone();
        let payload = web::Payload::from_request(&req, payload).into_inner();
        Box::pin(async move {
            let payload = payload.map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?;
            let state = state_of(&req)?;
            let body = read_limited(&state, &req, payload).await?;
            let content_type = req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            Ok(Self(parse_multipart(content_type, &body)?))
        })
    }

    fn csrf(&self) -> &str {
        field(&self.0, "csrf").unwrap_or_default()
    }
}

/// The text of a form field (empty when missing).
pub fn field<'a>(parts: &'a [Part], name: &str) -> Option<&'a str> {
    parts
        .iter()
        .find(|p| p.name == name && p.filename.is_none())
        .and_then(|p| std::str::from_utf8(&p.data).ok())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_browser_form_with_a_file_and_fields_splits_into_its_parts() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.xml\"\r\n\
Content-Type: text/xml\r\n\r\n<a>\r\n--X</a>\r\n--XyZ\r\n\
Content-Disposition: form-data; name=\"dry_run\"\r\n\r\non\r\n--XyZ--\r\n";
        let parts = parse_multipart("multipart/form-data; boundary=XyZ", body).unwrap();
        assert_eq!(parts.len(), 3);
        assert_eq!(field(&parts, "csrf"), Some("abc"));
        assert_eq!(field(&parts, "dry_run"), Some("on"));
        assert_eq!(parts[1].filename.as_deref(), Some("c.xml"));
        assert_eq!(parts[1].data, b"<a>\r\n--X</a>");
        assert_eq!(field(&parts, "file"), None, "a file is not a text field");
    }

    #[test]
    fn broken_forms_are_refused() {
        let ct = "multipart/form-data; boundary=\"b\"";
        assert!(parse_multipart(ct, b"").is_err());
        assert!(
            parse_multipart(
                ct,
                b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\n1"
            )
            .is_err()
        );
        assert!(parse_multipart("text/plain", b"--b--").is_err());
        assert!(parse_multipart("multipart/form-data", b"--b--").is_err());
        assert_eq!(parse_multipart(ct, b"--b--\r\n").unwrap(), vec![]);
    }

    #[test]
    fn options_read_flags_formats_and_host_rules() {
        let o = options(
            Some("wordpress"),
            Some("on"),
            None,
            Some("old.example=new.example"),
            None,
        )
        .unwrap();
        assert_eq!(o.format, Some(Format::WordPress));
        assert!(o.dry_run && !o.skip_pingbacks);
        assert!(matches!(o.host, HostRule::Map { .. }));
        assert!(options(Some("nope"), None, None, None, None).is_err());
        assert!(options(None, Some("maybe"), None, None, None).is_err());
        assert!(options(None, None, None, Some("a=b"), Some("true")).is_err());
        assert_eq!(
            options(Some(""), None, None, None, None).unwrap().format,
            None
        );
    }
}
