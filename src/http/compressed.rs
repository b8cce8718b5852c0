//! A response body kept in every encoding a client may ask for (identity, gzip, brotli), each
//! with its own strong ETag, served by `Accept-Encoding` with 304s on `If-None-Match`.
//! Compressed once when made, so serving costs no compression: rendered thread pages
//! (`page_cache`) and the embed's files (`assets`) are kept this way.

use std::io::Write;

use actix_web::http::header::{self, HeaderMap, HeaderName};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

/// Bodies smaller than this are sent as they are: compressing them gains nothing.
const COMPRESS_FROM: usize = 512;
/// Brotli quality: most of the gain for little time (11 takes ~50x longer).
const BROTLI_QUALITY: u32 = 5;
/// Brotli's window is sized to the body, between these powers of two. Not below 2^18: the
/// `brotli` crate at quality 5 takes a slower path with a 20 MiB table for smaller windows
/// (measured: a 48 KB page took 23 MiB and 57 ms with 2^16, 5 MiB and 2-11 ms with 2^18).
const BROTLI_MIN_WINDOW: u32 = 18;
const BROTLI_MAX_WINDOW: u32 = 22;

/// One body in every encoding.
pub struct Compressed {
    content_type: &'static str,
    /// The ETag's opaque part (identity); encodings add a suffix.
    tag: String,
    identity: Bytes,
    gzip: Option<Bytes>,
    brotli: Option<Bytes>,
}

impl Compressed {
    /// Compresses `body` (when it is worth it) and tags it by its SHA-256.
    pub fn new(content_type: &'static str, body: Vec<u8>) -> Self {
        let tag = hex::encode(&Sha256::digest(&body)[..12]);
        let (gzip, brotli) = if body.len() >= COMPRESS_FROM {
            (gzip(&body), brotli(&body))
        } else {
            (None, None)
        };
        Self {
            content_type,
            tag,
            identity: Bytes::from(body),
            gzip,
            brotli,
        }
    }

    /// Bytes held, all encodings counted.
    pub fn weight(&self) -> usize {
        self.identity.len()
            + self.gzip.as_ref().map_or(0, Bytes::len)
            + self.brotli.as_ref().map_or(0, Bytes::len)
    }

    /// The body as it is (the page's own bytes).
    pub fn identity(&self) -> &[u8] {
        &self.identity
    }

    fn etag(&self, encoding: Encoding) -> String {
        match encoding {
            Encoding::Identity => format!("\"{}\"", self.tag),
            Encoding::Gzip => format!("\"{}-gz\"", self.tag),
            Encoding::Brotli => format!("\"{}-br\"", self.tag),
        }
    }

    /// The response for `req`: 304 when `If-None-Match` names this body in any encoding, else
    /// the best encoding `Accept-Encoding` allows, with `extra` headers (e.g. Cache-Control).
    pub fn respond(&self, req: &HttpRequest, extra: &[(HeaderName, &'static str)]) -> HttpResponse {
        let encoding = match negotiate(req.headers()) {
            Encoding::Brotli if self.brotli.is_some() => Encoding::Brotli,
            Encoding::Brotli | Encoding::Gzip if self.gzip.is_some() => Encoding::Gzip,
            _ => Encoding::Identity,
        };
        let unchanged = self.matches(req.headers());
        let mut response = if unchanged {
            HttpResponse::NotModified()
        } else {
            HttpResponse::Ok()
        };
        response
            .insert_header((header::ETAG, self.etag(encoding)))
            .insert_header((header::VARY, "Accept-Encoding"));
        for (name, value) in extra {
            response.insert_header((name.clone(), *value));
        }
        if unchanged {
            return response.finish();
        }
        let body = match encoding {
            Encoding::Brotli => self.brotli.clone(),
            Encoding::Gzip => self.gzip.clone(),
            Encoding::Identity => None,
        };
        match body {
            Some(body) => response
                .insert_header((header::CONTENT_ENCODING, encoding.name()))
                .content_type(self.content_type)
                .body(body),
            None => response
                .content_type(self.content_type)
                .body(self.identity.clone()),
        }
    }

    fn matches(&self, headers: &HeaderMap) -> bool {
        headers
            .get_all(header::IF_NONE_MATCH)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| {
                t == "*"
                    || [Encoding::Identity, Encoding::Gzip, Encoding::Brotli]
                        .iter()
                        .any(|e| self.etag(*e) == t)
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl Encoding {
    fn name(self) -> &'static str {
        match self {
            Self::Identity => "identity",
            Self::Gzip => "gzip",
            Self::Brotli => "br",
        }
    }
}

/// The best encoding `Accept-Encoding` allows: the highest q, brotli before gzip on a tie.
fn negotiate(headers: &HeaderMap) -> Encoding {
    let mut best = (0.0f32, Encoding::Identity);
    for value in headers
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|v| v.to_str().ok())
    {
        for item in value.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .filter_map(|q| q.trim().parse::<f32>().ok())
                .next()
                .unwrap_or(1.0);
            let encoding = match name.as_str() {
                "br" => Encoding::Brotli,
                "gzip" | "x-gzip" => Encoding::Gzip,
                "*" => Encoding::Brotli,
                _ => continue,
            };
            let better = q > best.0 || (q == best.0 && q > 0.0 && encoding == Encoding::Brotli);
            if q > 0.0 && better {
                best = (q, encoding);
            }
        }
    }
    best.1
}

fn gzip(body: &[u8]) -> Option<Bytes> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(body).ok()?;
    encoder.finish().ok().map(Bytes::from)
}

fn brotli(body: &[u8]) -> Option<Bytes> {
    let mut out = Vec::new();
    {
        let window =
            (usize::BITS - body.len().leading_zeros()).clamp(BROTLI_MIN_WINDOW, BROTLI_MAX_WINDOW);
        let mut writer = brotli::CompressorWriter::new(&mut out, 4096, BROTLI_QUALITY, window);
        writer.write_all(body).ok()?;
        writer.flush().ok()?;
    }
    Some(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn negotiated(accept: &str) -> Encoding {
        let req = TestRequest::default()
            .insert_header((header::ACCEPT_ENCODING, accept))
            .to_http_request();
        negotiate(req.headers())
    }

    #[test]
    fn accept_encoding_picks_the_best_allowed_encoding() {
        assert_eq!(negotiated("gzip, deflate, br"), Encoding::Brotli);
        assert_eq!(negotiated("gzip"), Encoding::Gzip);
        assert_eq!(negotiated("br;q=0, gzip;q=0.5"), Encoding::Gzip);
        assert_eq!(negotiated("br;q=0.2, gzip;q=0.8"), Encoding::Gzip);
        assert_eq!(negotiated("identity"), Encoding::Identity);
        assert_eq!(negotiated("gzip;q=0"), Encoding::Identity);
        assert_eq!(negotiated("*"), Encoding::Brotli);
        let none = TestRequest::default().to_http_request();
        assert_eq!(negotiate(none.headers()), Encoding::Identity);
    }
}
