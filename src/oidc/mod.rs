//! Sign-in with OpenID Connect providers and GitHub, the protocol side: discovery, the
//! authorization URL (code flow with PKCE S256, `state`, `nonce`), the code exchange, the ID
//! token's checks against the provider's keys ([`id_token`]), user info, and GitHub's OAuth
//! flow with its REST API ([`github`]). No database and no HTTP handler here: the service
//! (`service::signin`) keeps the flow and signs the reader in.
//!
//! The providers are configured by the server's owner (`[[signin.providers]]`), so their URLs
//! are trusted; every request still has a deadline, no redirects and a size limit.

pub mod github;
pub mod id_token;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::jwk::Jwk;
use moka::sync::Cache;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::config::{ProviderKind, SigninConfig, SigninProvider};
use crate::domain::reader::VerifiedIdentity;

/// Largest answer read from a provider.
const MAX_ANSWER_BYTES: usize = 512 * 1024;

/// Longest display name kept (the author field's default limit).
const MAX_NAME_CHARS: usize = 100;

/// Why a sign-in at a provider failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    /// The provider could not be reached or answered nonsense: try again later.
    #[error("the sign-in provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider or kith refused this sign-in (a bad or replayed code, a token that failed a
    /// check): starting again may work, repeating this will not.
    #[error("{0}")]
    Refused(String),
}

/// An OpenID provider's discovery document (the parts kith uses).
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Vec<String>,
}

/// What a flow sends to the provider and must find again.
pub struct FlowSecrets<'a> {
    pub state: &'a str,
    pub nonce: &'a str,
    pub pkce_challenge: &'a str,
}

/// The configured providers and what kith learnt about them (cached).
pub struct Providers {
    client: reqwest::Client,
    providers: Vec<SigninProvider>,
    secrets: HashMap<String, String>,
    leeway_secs: u64,
    discovery: Cache<String, Arc<Discovery>>,
    keys: Cache<String, Arc<Vec<Jwk>>>,
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Providers")
            .field("providers", &self.providers)
            .finish_non_exhaustive()
    }
}

impl Providers {
    /// # Errors
    /// A client secret file that cannot be read, or an HTTP client that cannot be built.
    pub fn new(config: &SigninConfig) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.http_timeout_secs))
            .connect_timeout(Duration::from_secs(config.http_timeout_secs))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("kith/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let mut secrets = HashMap::new();
        for provider in &config.providers {
            secrets.insert(provider.id.clone(), provider.client_secret()?);
        }
        let ttl = Duration::from_secs(config.metadata_ttl_secs);
        Ok(Self {
            client,
            providers: config.providers.clone(),
            secrets,
            leeway_secs: config.clock_leeway_secs,
            discovery: Cache::builder().max_capacity(64).time_to_live(ttl).build(),
            keys: Cache::builder().max_capacity(64).time_to_live(ttl).build(),
        })
    }

    /// The provider configured with this id.
    pub fn get(&self, id: &str) -> Option<&SigninProvider> {
        self.providers.iter().find(|p| p.id == id)
    }

    /// Every configured provider, in configuration order.
    pub fn all(&self) -> &[SigninProvider] {
        &self.providers
    }

    fn secret(&self, provider: &SigninProvider) -> &str {
        self.secrets
            .get(&provider.id)
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// The URL to send the reader to.
    ///
    /// # Errors
    /// [`ProviderError::Unavailable`] when the discovery document cannot be had.
    pub async fn authorization_url(
        &self,
        provider: &SigninProvider,
        redirect_uri: &str,
        flow: &FlowSecrets<'_>,
    ) -> Result<String, ProviderError> {
        let endpoint = match provider.kind {
            ProviderKind::Oidc => self
                .discover(provider)
                .await?
                .authorization_endpoint
                .clone(),
            ProviderKind::Github => github::authorize_url(provider),
        };
        let mut url = Url::parse(&endpoint)
            .map_err(|e| ProviderError::Unavailable(format!("authorization endpoint: {e}")))?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &provider.client_id)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("scope", &provider.scopes().join(" "))
                .append_pair("state", flow.state)
                .append_pair("code_challenge", flow.pkce_challenge)
                .append_pair("code_challenge_method", "S256");
            if provider.kind == ProviderKind::Oidc {
                query.append_pair("nonce", flow.nonce);
            }
        }
        Ok(url.into())
    }

    /// Exchanges the code, checks what came back and reads who the reader is.
    ///
    /// # Errors
    /// [`ProviderError::Refused`] for a code or token that must be refused,
    /// [`ProviderError::Unavailable`] when the provider cannot be reached.
    pub async fn identify(
        &self,
        provider: &SigninProvider,
        redirect_uri: &str,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<VerifiedIdentity, ProviderError> {
        match provider.kind {
            ProviderKind::Oidc => {
                self.identify_oidc(provider, redirect_uri, code, pkce_verifier, nonce)
                    .await
            }
            ProviderKind::Github => {
                github::identify(
                    &self.client,
                    provider,
                    self.secret(provider),
                    redirect_uri,
                    code,
                    pkce_verifier,
                )
                .await
            }
        }
    }

    async fn identify_oidc(
        &self,
        provider: &SigninProvider,
        redirect_uri: &str,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<VerifiedIdentity, ProviderError> {
        let discovery = self.discover(provider).await?;
        let secret = self.secret(provider);
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", pkce_verifier),
            ("client_id", provider.client_id.as_str()),
        ];
        let methods = &discovery.token_endpoint_auth_methods_supported;
        // client_secret_basic is the default (RFC 6749 §2.3.1); post only where basic is not offered.
        let post_secret = !methods.is_empty()
            && !methods.iter().any(|m| m == "client_secret_basic")
            && methods.iter().any(|m| m == "client_secret_post");
        let mut request = self
            .client
            .post(&discovery.token_endpoint)
            .header(reqwest::header::ACCEPT, "application/json");
        request = if post_secret {
            let mut form = form.to_vec();
            form.push(("client_secret", secret));
            request.form(&form)
        } else {
            request
                .basic_auth(form_encode(&provider.client_id), Some(form_encode(secret)))
                .form(&form)
        };
        let (status, answer) = send_json::<Value>(request).await?;
        if !status.is_success() {
            return Err(token_error(status, &answer));
        }
        let id_token = answer
            .get("id_token")
            .and_then(Value::as_str)
            .ok_or_else(|| ProviderError::Refused("the provider sent no ID token".into()))?;
        let expected = id_token::Expected {
            issuer: &discovery.issuer,
            client_id: &provider.client_id,
            nonce,
            leeway_secs: self.leeway_secs,
            now: chrono::Utc::now().timestamp(),
        };
        let keys = self.keys(provider, &discovery, false).await?;
        let claims = match id_token::verify(id_token, &keys, &expected) {
            // The provider may have rotated its keys since they were cached: fetch them once more.
            Err(id_token::TokenError::UnknownKey) => {
                let keys = self.keys(provider, &discovery, true).await?;
                id_token::verify(id_token, &keys, &expected)
            }
            result => result,
        }
        .map_err(|e| ProviderError::Refused(e.to_string()))?;
        let claims = match (&discovery.userinfo_endpoint, answer.get("access_token")) {
            // Many providers put the profile and e-mail claims only in the user info answer.
            (Some(endpoint), Some(Value::String(access_token)))
                if claims.email.is_none()
                    || (claims.name.is_none() && claims.preferred_username.is_none()) =>
            {
                merge_userinfo(claims, self.userinfo(endpoint, access_token).await?)?
            }
            _ => claims,
        };
        let email_verified = claims.email_verified();
        let display_name = display_name(
            [&claims.name, &claims.preferred_username, &claims.nickname],
            &provider.label,
        );
        Ok(VerifiedIdentity {
            provider: provider.id.clone(),
            subject: claims.sub,
            email: claims
                .email
                .filter(|_| email_verified)
                .map(|e| e.trim().to_string())
                .filter(|e| !e.is_empty()),
            email_verified,
            display_name,
        })
    }

    async fn userinfo(
        &self,
        endpoint: &str,
        access_token: &str,
    ) -> Result<id_token::IdClaims, ProviderError> {
        let request = self
            .client
            .get(endpoint)
            .bearer_auth(access_token)
            .header(reqwest::header::ACCEPT, "application/json");
        let (status, claims) = send_json::<id_token::IdClaims>(request).await?;
        if !status.is_success() {
            return Err(ProviderError::Refused(format!(
                "the provider's user info answered {status}"
            )));
        }
        Ok(claims)
    }

    /// The provider's discovery document, cached for `signin.metadata_ttl_secs`.
    async fn discover(&self, provider: &SigninProvider) -> Result<Arc<Discovery>, ProviderError> {
        if let Some(found) = self.discovery.get(&provider.id) {
            return Ok(found);
        }
        let issuer = provider.issuer.trim_end_matches('/');
        let url = format!("{issuer}/.well-known/openid-configuration");
        let (status, discovery) = send_json::<Discovery>(self.client.get(&url)).await?;
        if !status.is_success() {
            return Err(ProviderError::Unavailable(format!(
                "{url} answered {status}"
            )));
        }
        // The document must be the issuer's own (Discovery §4.3).
        if discovery.issuer.trim_end_matches('/') != issuer {
            return Err(ProviderError::Unavailable(format!(
                "{url} names the issuer {}, not {issuer}",
                discovery.issuer
            )));
        }
        let discovery = Arc::new(discovery);
        self.discovery
            .insert(provider.id.clone(), discovery.clone());
        Ok(discovery)
    }

    /// The provider's signing keys, cached; `refetch` fetches them again whatever the cache has.
    async fn keys(
        &self,
        provider: &SigninProvider,
        discovery: &Discovery,
        refetch: bool,
    ) -> Result<Arc<Vec<Jwk>>, ProviderError> {
        if !refetch && let Some(found) = self.keys.get(&provider.id) {
            return Ok(found);
        }
        let (status, document) = send_json::<Value>(self.client.get(&discovery.jwks_uri)).await?;
        if !status.is_success() {
            return Err(ProviderError::Unavailable(format!(
                "{} answered {status}",
                discovery.jwks_uri
            )));
        }
        let keys = Arc::new(id_token::parse_jwks(&document));
        self.keys.insert(provider.id.clone(), keys.clone());
        Ok(keys)
    }
}

/// The ID token's claims completed from the user info answer, which must be about the same
/// account (Core §5.3.2).
fn merge_userinfo(
    mut claims: id_token::IdClaims,
    info: id_token::IdClaims,
) -> Result<id_token::IdClaims, ProviderError> {
    if info.sub != claims.sub {
        return Err(ProviderError::Refused(
            "the provider's user info is about another account".into(),
        ));
    }
    claims.name = claims.name.or(info.name);
    claims.preferred_username = claims.preferred_username.or(info.preferred_username);
    claims.nickname = claims.nickname.or(info.nickname);
    if claims.email.is_none() {
        claims.email = info.email;
        claims.email_verified = info.email_verified;
    }
    Ok(claims)
}

/// The first non-empty candidate, without control characters and cut to a reasonable length;
/// "{label} user" when the provider gave no name at all.
pub(crate) fn display_name<const N: usize>(
    candidates: [&Option<String>; N],
    label: &str,
) -> String {
    candidates
        .iter()
        .filter_map(|c| c.as_deref())
        .map(|c| {
            c.chars()
                .filter(|ch| !ch.is_control())
                .collect::<String>()
                .trim()
                .chars()
                .take(MAX_NAME_CHARS)
                .collect::<String>()
        })
        .find(|c| !c.is_empty())
        .unwrap_or_else(|| format!("{label} user"))
}

/// The token endpoint's refusal as a reason (`invalid_grant`: a used or expired code).
fn token_error(status: reqwest::StatusCode, answer: &Value) -> ProviderError {
    let code = answer.get("error").and_then(Value::as_str);
    match code {
        Some(code) if status.is_client_error() => {
            ProviderError::Refused(format!("the provider refused the code ({code})"))
        }
        _ => ProviderError::Unavailable(format!("the token endpoint answered {status}")),
    }
}

/// RFC 6749 §2.3.1: client id and secret are form-encoded before going into Basic auth.
fn form_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Sends `request` and reads a JSON answer of at most [`MAX_ANSWER_BYTES`].
pub(crate) async fn send_json<T: DeserializeOwned>(
    request: reqwest::RequestBuilder,
) -> Result<(reqwest::StatusCode, T), ProviderError> {
    let mut response = request
        .send()
        .await
        .map_err(|e| ProviderError::Unavailable(format!("{e}")))?;
    let status = response.status();
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| ProviderError::Unavailable(format!("{e}")))?
    {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(ProviderError::Unavailable(
                "the provider's answer is too large".into(),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    let parsed = serde_json::from_slice(&body).map_err(|e| {
        ProviderError::Unavailable(format!(
            "the provider answered {status} with unreadable JSON: {e}"
        ))
    })?;
    Ok((status, parsed))
}
