//! The embed's files (embed.js, the on-demand embed-form.js, embed-live.js and embed-signin.js,
//! count.js, embed.css, the language
//! files), built from `embed/src` by `npm run build` in `embed/` (the built files are
//! committed): compiled into the binary (or read from `server.assets_dir` while developing),
//! served precompressed (gzip, brotli) with ETags and long-lived cache headers.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use moka::sync::Cache;

use super::compressed::Compressed;
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
    // The sign-in panel, which embed-form.js imports on demand (docs/signin.md).
    asset!("embed-signin.js", "text/javascript; charset=utf-8"),
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
        .route("/embed-signin.js", web::get().to(get_asset))
        .route("/embed-live.js", web::get().to(get_asset))
        .route("/embed.css", web::get().to(get_asset))
        .route("/count.js", web::get().to(get_asset))
        .route("/locales/{lang}.json", web::get().to(get_asset));
}

/// Serves the embed file named by the request path, compressed once (not per request) into
/// every encoding, with an ETag per encoding.
pub async fn get_asset(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let path = req.path().trim_start_matches('/');
    let asset = ASSETS
        .iter()
        .find(|a| a.path == path)
        .ok_or_else(|| AppError::new(ErrorKind::NotFound, format!("no file {path}")))?;
    let file = state.assets.get(asset).await?;
    Ok(file.body.respond(
        &req,
        &[
            (
                header::CACHE_CONTROL,
                "public, max-age=86400, stale-while-revalidate=604800",
            ),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
    ))
}

/// The embed's files as served, each compressed the first time it is asked for: the built-in
/// ones once per process; those read from `server.assets_dir` (while developing) again
/// whenever the file's size or modification time changed.
pub struct EmbedFiles {
    dir: Option<PathBuf>,
    files: Cache<&'static str, Arc<EmbedFile>>,
    /// One reading of `assets_dir` at a time: many requests arriving for a changed file wait
    /// for one reading rather than each compressing it.
    reading: tokio::sync::Mutex<()>,
}

struct EmbedFile {
    /// Size and modification time of the file in `assets_dir` it was read from.
    version: Option<(u64, SystemTime)>,
    body: Compressed,
}

impl EmbedFiles {
    pub fn new(dir: Option<PathBuf>) -> Self {
        Self {
            dir,
            files: Cache::builder()
                .max_capacity(ASSETS.len() as u64 * 2)
                .build(),
            reading: tokio::sync::Mutex::new(()),
        }
    }

    async fn get(&self, asset: &'static Asset) -> Result<Arc<EmbedFile>, AppError> {
        let Some(dir) = &self.dir else {
            return Ok(self.files.get_with(asset.path, || {
                Arc::new(EmbedFile {
                    version: None,
                    body: Compressed::new(asset.content_type, asset.bytes.to_vec()),
                })
            }));
        };
        let file = dir.join(asset.path);
        let metadata = std::fs::metadata(&file).map_err(AppError::internal)?;
        let version = Some((
            metadata.len(),
            metadata.modified().map_err(AppError::internal)?,
        ));
        let current = || self.files.get(asset.path).filter(|f| f.version == version);
        if let Some(cached) = current() {
            return Ok(cached);
        }
        let _reading = self.reading.lock().await;
        if let Some(cached) = current() {
            return Ok(cached);
        }
        let content_type = asset.content_type;
        let read = web::block(move || {
            std::fs::read(file).map(|bytes| EmbedFile {
                version,
                body: Compressed::new(content_type, bytes),
            })
        })
        .await?
        .map_err(AppError::internal)?;
        let read = Arc::new(read);
        self.files.insert(asset.path, read.clone());
        Ok(read)
    }
}
