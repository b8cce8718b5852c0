//! Signing readers in with an OpenID Connect provider or GitHub: starting the flow (kept in the
//! database, so any process can finish it) and finishing it when the provider sends the reader
//! back. The protocol itself is [`crate::oidc`].

use chrono::Duration;

use super::{blocking, now};
use crate::config::SigninProvider;
use crate::db;
use crate::domain::reader::VerifiedIdentity;
use crate::domain::signin::{PollBinding, SigninFlow};
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
    /// The reader's session token (kept by the embed, sent as `Authorization: Bearer`); empty
    /// when the page drew the token itself ([`PollBinding`]) and so already holds it.
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
    /// The browser's `kith_signin_…` cookies (see [`binding_cookie`]), as name and value.
    pub bindings: Vec<(String, String)>,
}

/// A started sign-in: where to send the reader, and for a flow whose session the page collects
/// itself, the cookie that binds the flow to this browser (`Some((name, value))`).
#[derive(Debug, Clone)]
pub struct Started {
    pub location: String,
    pub binding: Option<(String, String)>,
    /// The site's language and the provider's label, for the start page.
    pub language: String,
    pub provider_label: String,
}

/// The name of the cookie that binds a flow to the browser that started it: one per flow (two
/// tabs may sign in at once), named after the start of the page's session hash.
pub fn binding_cookie(session_hash: &str) -> String {
    format!(
        "kith_signin_{}",
        session_hash.get(..16).unwrap_or(session_hash)
    )
}

/// `poll` as a session hash: 64 lower-case hex digits (the SHA-256 of the token the page drew).
fn parse_session_hash(poll: &str) -> Result<String, AppError> {
    if poll.len() == 64 && poll.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(poll.to_string())
    } else {
        Err(AppError::new(
            ErrorKind::InvalidField,
            "must be the SHA-256 of the page's session token, as 64 lower-case hex digits",
        )
        .with_field("poll"))
    }
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
/// since the session is handed to it. `poll`, when given, is the SHA-256 of the session token
/// the page drew: the session opens under it, and the flow is bound to this browser by a cookie.
pub async fn start(
    state: &AppState,
    slug: String,
    provider_id: &str,
    origin: &str,
    poll: Option<&str>,
) -> Result<Started, AppError> {
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
    let session_hash = poll.map(parse_session_hash).transpose()?;
    let binding = session_hash.as_ref().map(|_| secrets::random_token());
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
        poll: session_hash
            .clone()
            .zip(binding.as_deref())
            .map(|(session_hash, binding)| PollBinding {
                session_hash,
                binding_hash: secrets::hash_token(binding),
            }),
    };
    let state_hash = secrets::hash_token(&flow_state);
    blocking(state, move |_, conn| {
        db::write_tx(conn, |conn| {
            db::oidc_flows::delete_expired_flows(conn, created_at)?;
            // A session hash opens one session: not again while its flow is pending, nor once
            // its session exists (a reloaded start page starts again from the comment form).
            if let Some(hash) = &session_hash
                && (db::oidc_flows::poll_hash_pending(conn, hash)?
                    || db::readers::find_session_reader(conn, hash, created_at.naive_utc())?
                        .is_some())
            {
                return Err(invalid_state(
                    "this sign-in was already started; start again from the comment form",
                ));
            }
            db::oidc_flows::insert_flow(conn, &state_hash, &flow)
        })
    })
    .await?;
    Ok(Started {
        location,
        binding: poll.map(binding_cookie).zip(binding),
        language: site.settings.language.clone(),
        provider_label: provider.label.clone(),
    })
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
    // A flow whose session the page collects itself finishes only in the browser that started
    // it (the start page's cookie): a start URL's provider link sent to someone else signs
    // nobody in for the sender.
    let session_hash = match &flow.poll {
        Some(poll) => {
            let name = binding_cookie(&poll.session_hash);
            let bound = callback.bindings.iter().any(|(cookie, value)| {
                *cookie == name && secrets::token_matches_hash(value, &poll.binding_hash)
            });
            if !bound {
                return Err(fail(invalid_state(
                    "this sign-in was started in another browser; start again from the comment form",
                )));
            }
            Some(poll.session_hash.clone())
        }
        None => None,
    };
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
    let signed_in = open_session(state, site.clone(), identity, session_hash)
        .await
        .map_err(fail)?;
    Ok(SignedIn {
        origin: flow.origin,
        language: site.settings.language.clone(),
        ..signed_in
    })
}

/// Signs the identified reader in (the reader model's `sign_in`: upsert, bans, session), into
/// the session the page drew when `session_hash` is given (no token to hand over then).
async fn open_session(
    state: &AppState,
    site: std::sync::Arc<Site>,
    identity: VerifiedIdentity,
    session_hash: Option<String>,
) -> Result<SignedIn, AppError> {
    let (reader, token) = blocking(state, move |state, conn| match session_hash {
        Some(hash) => readers::sign_in_with_session_hash(state, conn, &site, identity, &hash)
            .map(|reader| (reader, String::new())),
        None => readers::sign_in(state, conn, &site, identity).map(|(r, t)| (r, t.0)),
    })
    .await?;
    tracing::info!(provider = %reader.identity.provider, reader = reader.id.0, "reader signed in");
    Ok(SignedIn {
        origin: String::new(),
        token,
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
