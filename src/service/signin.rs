//! Signing readers in with an OpenID Connect provider or GitHub: starting the flow (kept in the
//! database, so any process can finish it) and finishing it when the provider sends the reader
//! back. The protocol itself is [`crate::oidc`].

use chrono::Duration;

use super::{blocking, now};
use crate::config::SigninProvider;
use crate::db;
use crate::domain::reader::VerifiedIdentity;
use crate::domain::signin::SigninFlow;
use crate::domain::site::Site;
use crate::error::{AppError, ErrorKind};
use crate::oidc::{FlowSecrets, ProviderError};
use crate::secrets;
use crate::service::{readers, sites};
use crate::state::AppState;

/// The session handed to the page that started the sign-in.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// Where the session goes: the page origin that opened the popup.
    pub origin: String,
    /// The reader's session token (kept by the embed, sent as `Authorization: Bearer`).
    pub token: String,
    pub name: String,
    pub provider: String,
    /// The site's language, for the page.
    pub language: String,
}

/// Why a sign-in did not finish, and (once the flow was found) the page to tell.
#[derive(Debug)]
pub struct Failure {
    pub error: AppError,
    pub origin: Option<String>,
    /// The site's language, once the site is known.
    pub language: Option<String>,
}

impl From<AppError> for Failure {
    fn from(error: AppError) -> Self {
        Self {
            error,
            origin: None,
            language: None,
        }
    }
}

/// What the provider sent back to the callback.
#[derive(Debug, Clone, Default)]
pub struct Callback {
    pub state: Option<String>,
    pub code: Option<String>,
    /// The provider's refusal (`access_denied` when the reader said no).
    pub error: Option<String>,
}

/// The callback URL registered with the provider.
pub fn redirect_uri(state: &AppState, site: &str, provider: &str) -> String {
    format!(
        "{}/api/v1/sites/{site}/auth/oidc/{provider}/callback",
        state.config.server.public_url.trim_end_matches('/')
    )
}

/// The provider the site offers under this id (configured on the server and named in the site's
/// `signin_methods`), or 404 `provider_not_found`.
fn offered(state: &AppState, site: &Site, id: &str) -> Result<SigninProvider, AppError> {
    let offered = state.signin.get(id).filter(|_| readers::offers(site, id));
    offered.cloned().ok_or_else(|| {
        AppError::new(
            ErrorKind::ProviderNotFound,
            format!("this site offers no sign-in provider `{id}`"),
        )
    })
}

/// Starts signing in: stores the flow and returns the provider's URL to send the reader to.
/// `origin` is the page that opened the popup; it must be one of the site's allowed origins,
/// since the session is handed to it.
pub async fn start(
    state: &AppState,
    slug: String,
    provider_id: &str,
    origin: &str,
) -> Result<String, AppError> {
    let site = blocking(state, move |state, conn| sites::find(state, conn, &slug)).await?;
    let provider = offered(state, &site, provider_id)?;
    let origin = parse_origin(origin)?;
    if !site.allows_origin(&origin) {
        return Err(AppError::new(
            ErrorKind::OriginNotAllowed,
            format!("{origin} is not one of this site's allowed origins"),
        )
        .with_field("origin"));
    }
    let flow_state = secrets::random_token();
    let nonce = secrets::random_token();
    let verifier = secrets::random_token();
    let location = state
        .signin
        .authorization_url(
            &provider,
            &redirect_uri(state, &site.slug, &provider.id),
            &FlowSecrets {
                state: &flow_state,
                nonce: &nonce,
                pkce_challenge: &secrets::pkce_s256(&verifier),
            },
        )
        .await
        .map_err(|e| provider_failure(&provider, e))?;
    let created_at = now();
    let ttl = i64::try_from(state.config.signin.flow_ttl_secs).unwrap_or(i64::MAX);
    let flow = SigninFlow {
        site_id: site.id,
        provider: provider.id.clone(),
        nonce,
        pkce_verifier: verifier,
        origin,
        created_at,
        expires_at: created_at + Duration::seconds(ttl),
    };
    let state_hash = secrets::hash_token(&flow_state);
    blocking(state, move |_, conn| {
        db::write_tx(conn, |conn| {
            db::oidc_flows::delete_expired_flows(conn, created_at)?;
            db::oidc_flows::insert_flow(conn, &state_hash, &flow)
        })
    })
    .await?;
    Ok(location)
}

/// Finishes signing in: takes the flow (once), checks what the provider sent, and signs the
/// reader in.
pub async fn finish(
    state: &AppState,
    slug: String,
    provider_id: &str,
    callback: Callback,
) -> Result<SignedIn, Failure> {
    let site = blocking(state, move |state, conn| sites::find(state, conn, &slug)).await?;
    let language = Some(site.settings.language.clone());
    let known_site = |error: AppError| Failure {
        error,
        origin: None,
        language: language.clone(),
    };
    let provider = offered(state, &site, provider_id).map_err(known_site)?;
    let Some(flow_state) = callback.state.filter(|s| !s.is_empty()) else {
        return Err(known_site(invalid_state("the provider sent no state")));
    };
    let state_hash = secrets::hash_token(&flow_state);
    let flow = blocking(state, move |_, conn| {
        db::write_tx(conn, |conn| db::oidc_flows::take_flow(conn, &state_hash))
    })
    .await
    .map_err(known_site)?
    .ok_or_else(|| {
        known_site(invalid_state(
            "this sign-in is unknown or was already used; start again",
        ))
    })?;
    if flow.site_id != site.id || flow.provider != provider.id {
        return Err(known_site(invalid_state(
            "this sign-in was started for another site or provider",
        )));
    }
    let origin = Some(flow.origin.clone());
    let fail = |error: AppError| Failure {
        error,
        origin: origin.clone(),
        language: language.clone(),
    };
    if flow.expires_at < now() {
        return Err(fail(AppError::new(
            ErrorKind::SigninExpired,
            "signing in took too long; start again",
        )));
    }
    if let Some(error) = callback.error {
        let error: String = error
            .chars()
            .filter(|c| c.is_ascii_graphic())
            .take(64)
            .collect();
        return Err(fail(AppError::new(
            ErrorKind::SigninFailed,
            format!("{} did not sign you in ({error})", provider.label),
        )));
    }
    let Some(code) = callback.code.filter(|c| !c.is_empty()) else {
        return Err(fail(AppError::new(
            ErrorKind::SigninFailed,
            "the provider sent no code",
        )));
    };
    let identity = state
        .signin
        .identify(
            &provider,
            &redirect_uri(state, &site.slug, &provider.id),
            &code,
            &flow.pkce_verifier,
            &flow.nonce,
        )
        .await
        .map_err(|e| fail(provider_failure(&provider, e)))?;
    let signed_in = open_session(state, site.clone(), identity)
        .await
        .map_err(fail)?;
    Ok(SignedIn {
        origin: flow.origin,
        language: site.settings.language.clone(),
        ..signed_in
    })
}

/// Signs the identified reader in (the reader model's `sign_in`: upsert, bans, session).
async fn open_session(
    state: &AppState,
    site: std::sync::Arc<Site>,
    identity: VerifiedIdentity,
) -> Result<SignedIn, AppError> {
    let (reader, token) = blocking(state, move |state, conn| {
        readers::sign_in(state, conn, &site, identity)
    })
    .await?;
    tracing::info!(provider = %reader.identity.provider, reader = reader.id.0, "reader signed in");
    Ok(SignedIn {
        origin: String::new(),
        token: token.0,
        name: reader.display_name,
        provider: reader.identity.provider.as_str().to_string(),
        language: String::new(),
    })
}

fn invalid_state(message: &str) -> AppError {
    AppError::new(ErrorKind::InvalidSigninState, message)
}

/// A provider's failure as the reader sees it; an unreachable provider is logged in detail.
fn provider_failure(provider: &SigninProvider, error: ProviderError) -> AppError {
    match error {
        ProviderError::Refused(why) => {
            tracing::info!(provider = %provider.id, reason = %why, "sign-in refused");
            AppError::new(
                ErrorKind::SigninFailed,
                format!("signing in with {} failed: {why}", provider.label),
            )
        }
        ProviderError::Unavailable(why) => {
            tracing::warn!(provider = %provider.id, reason = %why, "sign-in provider unavailable");
            AppError::new(
                ErrorKind::ProviderUnavailable,
                format!(
                    "{} cannot be reached just now; try again later",
                    provider.label
                ),
            )
        }
    }
}

/// `origin` as a serialized origin (`scheme://host[:port]`, nothing else).
fn parse_origin(origin: &str) -> Result<String, AppError> {
    let bad = || {
        AppError::new(
            ErrorKind::InvalidField,
            "must be the page's origin, such as https://blog.example",
        )
        .with_field("origin")
    };
    let url = url::Url::parse(origin).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad());
    }
    let serialized = url.origin().ascii_serialization();
    if serialized != origin.trim_end_matches('/') {
        return Err(bad());
    }
    Ok(serialized)
}
