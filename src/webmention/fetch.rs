//! Fetching a mention's source page without letting a stranger aim kith at anything but a
//! public web page: http(s) only, every resolved address and every redirect checked against
//! private and local ranges (unless the configuration allows them), a redirect limit, one
//! deadline for the whole fetch (a drip-fed body is cut off) and a size limit.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::address::{AddressRefused, PublicResolver, is_public};
use crate::config::WebmentionConfig;

/// What a fetch brought back.
#[derive(Debug)]
pub enum Fetched {
    /// A 2xx answer with its body (UTF-8, lossily) and the URL it finally came from.
    Page { url: Url, body: String, html: bool },
    /// The source answered 410 Gone: the mention is withdrawn.
    Gone,
}

/// Why a fetch did not bring a page back.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct FetchError {
    pub message: String,
    /// Trying again will not help (a refused address, too large, a 404).
    pub permanent: bool,
}

impl FetchError {
    fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: true,
        }
    }

    fn transient(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: false,
        }
    }
}

/// An HTTP client for source pages, built once per worker.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    allow_private: bool,
    timeout: Duration,
    max_bytes: usize,
    max_redirects: u8,
}

impl Fetcher {
    pub fn new(config: &WebmentionConfig) -> Result<Self, reqwest::Error> {
        let timeout = Duration::from_secs(config.timeout_secs.max(1));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(PublicResolver {
                allow_private: config.allow_private_addresses,
            }))
            .no_proxy()
            // The whole fetch has one deadline (`fetch`), which also cuts a drip-fed body.
            .connect_timeout(timeout)
            .user_agent(concat!(
                "kith/",
                env!("CARGO_PKG_VERSION"),
                " (Webmention verification)"
            ))
            .build()?;
        Ok(Self {
            client,
            allow_private: config.allow_private_addresses,
            timeout,
            max_bytes: config.max_bytes,
            max_redirects: config.max_redirects,
        })
    }

    /// GETs `url`, following up to the configured number of redirects, all within one deadline.
    pub async fn fetch(&self, url: &Url) -> Result<Fetched, FetchError> {
        match tokio::time::timeout(self.timeout, self.fetch_unbounded(url)).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::transient(format!(
                "the source did not answer in full within {} s",
                self.timeout.as_secs()
            ))),
        }
    }

    async fn fetch_unbounded(&self, start: &Url) -> Result<Fetched, FetchError> {
        let mut url = start.clone();
        let mut redirects = 0u8;
        loop {
            self.check_url(&url)?;
            let response = self
                .client
                .get(url.clone())
                .header(
                    reqwest::header::ACCEPT,
                    "text/html, application/xhtml+xml;q=0.9, */*;q=0.1",
                )
                .send()
                .await
                .map_err(|e| describe(&e))?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| {
                        FetchError::permanent(format!("a {status} redirect without a Location"))
                    })?;
                if redirects >= self.max_redirects {
                    return Err(FetchError::permanent(format!(
                        "more than {} redirects",
                        self.max_redirects
                    )));
                }
                redirects += 1;
                url = url.join(location).map_err(|_| {
                    FetchError::permanent("a redirect to an address that is not a URL")
                })?;
                continue;
            }
            if status == reqwest::StatusCode::GONE {
                return Ok(Fetched::Gone);
            }
            if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                return Err(FetchError::transient(format!(
                    "the source answered {status}"
                )));
            }
            if !status.is_success() {
                return Err(FetchError::permanent(format!(
                    "the source answered {status}"
                )));
            }
            let html = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_none_or(|v| {
                    let v = v.to_ascii_lowercase();
                    v.starts_with("text/html") || v.starts_with("application/xhtml")
                });
            let body = self.read_body(response).await?;
            return Ok(Fetched::Page { url, body, html });
        }
    }

    async fn read_body(&self, mut response: reqwest::Response) -> Result<String, FetchError> {
        let too_large = || {
            FetchError::permanent(format!(
                "the source page is larger than {} bytes",
                self.max_bytes
            ))
        };
        if response
            .content_length()
            .is_some_and(|n| n > self.max_bytes as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e))? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    /// The scheme must be http(s); a host written as an address must be public (names are
    /// checked when they resolve, in [`PublicResolver`]).
    fn check_url(&self, url: &Url) -> Result<(), FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::permanent(format!(
                "`{}:` addresses are not fetched",
                url.scheme()
            )));
        }
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => None,
            None => return Err(FetchError::permanent("the address has no host")),
        };
        if let Some(ip) = literal
            && !self.allow_private
            && !is_public(ip)
        {
            return Err(FetchError::permanent(format!(
                "{ip} is not a public address"
            )));
        }
        Ok(())
    }
}

fn describe(error: &reqwest::Error) -> FetchError {
    // The resolver's refusal travels inside the connect error; keep its words.
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<AddressRefused>() {
            return FetchError::permanent(refused.to_string());
        }
        source = e.source();
    }
    if error.is_timeout() {
        FetchError::transient("the source did not answer in time")
    } else if error.is_connect() {
        FetchError::transient("could not connect to the source")
    } else {
        FetchError::transient(format!("fetching the source failed: {error}"))
    }
}
