//! Security headers for the pages the server renders itself (admin area, mail-link pages, the
//! no-JavaScript thread fragment).

use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;

/// Pages the server renders: scripts and styles only from this server (no inline script, so no
/// `javascript:` URL or injected handler can run), forms post only back here, and no other site
/// may frame the page.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The thread fragment: plain HTML, no script at all. It is usually included into the host's
/// own page, where the host's policy applies (docs/embed.md says which); this one applies when
/// the fragment is opened on its own.
pub const FRAGMENT_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; base-uri 'none'; form-action 'none'";

/// The headers every server-rendered page carries.
pub fn page_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, PAGE_CSP))
        .add((header::CACHE_CONTROL, "no-store"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
}
