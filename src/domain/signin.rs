//! Sign-in with OpenID Connect providers and GitHub: the flow kept between the reader leaving
//! for the provider and coming back (what the provider vouches for is a
//! [`VerifiedIdentity`](super::reader::VerifiedIdentity)).

use chrono::{DateTime, Utc};

use super::site::SiteId;

/// A sign-in flow in progress (one row of `oidc_flows`). The `state` sent to the provider is
/// not kept, only its hash (the row's key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigninFlow {
    pub site_id: SiteId,
    /// The configured provider's id.
    pub provider: String,
    /// The `nonce` the ID token must carry.
    pub nonce: String,
    /// The PKCE code verifier, sent with the code.
    pub pkce_verifier: String,
    /// The page origin that opened the sign-in popup, where the session is handed back to.
    pub origin: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Set when the page drew the session token itself (the popup may lose `window.opener`).
    pub poll: Option<PollBinding>,
}

/// A sign-in whose session the page collects itself rather than receiving it from the popup:
/// the page drew the session token and sent only its SHA-256, and the popup's start page set a
/// cookie only that browser holds (docs/signin.md, "When the popup cannot reach the page").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollBinding {
    /// The SHA-256 (hex) of the session token the page drew: the session's `token_hash`.
    pub session_hash: String,
    /// The SHA-256 (hex) of the start page's cookie.
    pub binding_hash: String,
}
