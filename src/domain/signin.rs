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
}
