//! Sign-in with OpenID Connect providers and GitHub: the flow kept between the reader leaving
//! for the provider and coming back, and the identity a provider vouched for.

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

/// Who the provider says the reader is, after every check passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderIdentity {
    /// The configured provider's id (`github`, `google`, …).
    pub provider: String,
    /// The provider's stable id for the account: the `sub` claim, GitHub's numeric user id.
    pub subject: String,
    /// The account's e-mail address, only when the provider says it is verified. Private.
    pub email: Option<String>,
    pub email_verified: bool,
    /// The name to show: the provider's `name`, else `preferred_username`, else the login.
    pub display_name: String,
}
