//! The embed's files (embed.js, the on-demand embed-form.js and embed-live.js, count.js, embed.css, the language
//! files), built from `embed/src` by `npm run build` in `embed/` (the built files are
//! committed): compiled into the binary (or read from `server.assets_dir` while developing),
//! served gzip-compressed with an ETag and long-lived cache headers.

use std::path::PathBuf;

use actix_web::http::header::{self, EntityTag};
use actix_web::{HttpRequest, HttpResponse, web};
use sha2::{Digest, Sha256};

use crate::error::{AppError, ErrorKind};
use crate::state::AppState;

/// One embed file.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $type:literal) => {
        Asset {
            path: $path,
            content_type: $type,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/embed/", $path)),
        }
    };
}

static ASSETS: &[Asset] = &[
    asset!("embed.js", "text/javascript; charset=utf-8"),
    // The posting UI, an ES module embed.js imports on demand (cross-origin: needs the CORS
    // header below, like every file here).
    asset!("embed-form.js", "text/javascript; charset=utf-8"),
    // Live updates, another module embed.js imports after the first paint (when `live.enabled`).
    asset!("embed-live.js", "text/javascript; charset=utf-8"),
    asset!("embed.css", "text/css; charset=utf-8"),
    asset!("count.js", "text/javascript; charset=utf-8"),
    asset!("locales/en.json", "application/json; charset=utf-8"),
    asset!("locales/de.json", "application/json; charset=utf-8"),
    asset!("locales/fr.json", "application/json; charset=utf-8"),
    asset!("locales/es.json", "application/json; charset=utf-8"),
    asset!("locales/pt.json", "application/json; charset=utf-8"),
    asset!("locales/it.json", "application/json; charset=utf-8"),
    asset!("locales/nl.json", "application/json; charset=utf-8"),
    asset!("locales/pl.json", "application/json; charset=utf-8"),
    asset!("locales/ja.json", "application/json; charset=utf-8"),
    asset!("locales/zh.json", "application/json; charset=utf-8"),
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/embed.js", web::get().to(get_asset))
        .route("/embed-form.js", web::get().to(get_asset))
        .route("/embed-live.js", web::get().to(get_asset))
        .route("/embed.css", web::get().to(get_asset))
        .route("/count.js", web::get().to(get_asset))
        .route("/locales/{lang}.json", web::get().to(get_asset));
}

/// Serves the embed file named by the request path.
pub async fn get_asset(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().trim_start_matches('/');
    let asset = ASSETS
        .iter()
        .find(|a| a.path == path)
        .ok_or_else(|| AppError::new(ErrorKind::NotFound, format!("no file {path}")))?;
    let bytes: std::borrow::Cow<'static, [u8]> = match state.config.assets_dir() {
        Some(dir) => read_dev_file(dir, asset.path).await?.into(),
        None => asset.bytes.into(),
    };
    let tag = EntityTag::new_strong(hex::encode(&Sha256::digest(&bytes)[..12]));
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|value| {
            value.split(',').map(str::trim).any(|candidate| {
                candidate == "*" || candidate.trim_start_matches("W/") == tag.to_string()
            })
        });
    let mut response = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header(header::ETag(tag))
        .insert_header((
            header::CACHE_CONTROL,
            "public, max-age=86400, stale-while-revalidate=604800",
        ))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .insert_header((header::CONTENT_TYPE, asset.content_type));
    Ok(if unchanged {
        response.finish()
    } else {
        response.body(bytes.into_owned())
    })
}

async fn read_dev_file(dir: PathBuf, path: &'static str) -> Result<Vec<u8>, AppError> {
    web::block(move || std::fs::read(dir.join(path)))
        .await?
        .map_err(AppError::internal)
}
