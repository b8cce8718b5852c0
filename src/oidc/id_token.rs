//! Checking an ID token (OpenID Connect Core §3.1.3.7): its signature against the provider's
//! published keys, then `iss`, `aud` (and `azp`), `exp` and `iat` with a small leeway, and the
//! `nonce` this flow sent. Pure: the keys come in, nothing is fetched here.

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;

/// Signature algorithms accepted for ID tokens: the asymmetric ones only. `none` and the
/// HMAC family (keyed with the client secret) are refused whatever the token says.
const ACCEPTED: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Why an ID token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// No published key has the token's `kid` (the caller may fetch the keys again, once).
    #[error("the ID token is signed with a key the provider does not publish")]
    UnknownKey,
    #[error("the ID token is malformed: {0}")]
    Malformed(String),
    #[error("the ID token's signature algorithm {0} is not accepted")]
    Algorithm(String),
    #[error("the ID token's signature is not valid")]
    Signature,
    #[error("the ID token has expired")]
    Expired,
    #[error("the ID token was issued in the future")]
    IssuedInFuture,
    #[error("the ID token was issued by someone else")]
    Issuer,
    #[error("the ID token is meant for another client")]
    Audience,
    #[error("the ID token's nonce does not match this sign-in")]
    Nonce,
}

/// The claims kith reads from an ID token (or the user info answer).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct IdClaims {
    pub sub: String,
    #[serde(default)]
    pub nonce: Option<String>,
    #[serde(default)]
    pub azp: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub preferred_username: Option<String>,
    #[serde(default)]
    pub nickname: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// `true`, or the string `"true"` some providers send.
    #[serde(default)]
    pub email_verified: Option<Value>,
}

impl IdClaims {
    pub fn email_verified(&self) -> bool {
        match &self.email_verified {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
            _ => false,
        }
    }
}

/// What the token must match.
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    pub leeway_secs: u64,
    /// Seconds since the epoch.
    pub now: i64,
}

/// The claims of `token` if it is signed by one of `keys` and meant for this flow.
///
/// # Errors
/// [`TokenError::UnknownKey`] when no key of `keys` fits (the caller may refetch the keys),
/// another [`TokenError`] for a token that must be refused.
pub fn verify(token: &str, keys: &[Jwk], expected: &Expected<'_>) -> Result<IdClaims, TokenError> {
    let header =
        jsonwebtoken::decode_header(token).map_err(|e| TokenError::Malformed(e.to_string()))?;
    if !ACCEPTED.contains(&header.alg) {
        return Err(TokenError::Algorithm(format!("{:?}", header.alg)));
    }
    let jwk = find_key(keys, header.kid.as_deref(), header.alg).ok_or(TokenError::UnknownKey)?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| TokenError::UnknownKey)?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[expected.issuer]);
    validation.set_audience(&[expected.client_id]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    validation.leeway = expected.leeway_secs;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    let data = jsonwebtoken::decode::<Value>(token, &key, &validation).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind as K;
        match e.kind() {
            K::InvalidSignature
            | K::InvalidAlgorithm
            | K::InvalidEcdsaKey
            | K::InvalidRsaKey(_) => TokenError::Signature,
            K::ExpiredSignature => TokenError::Expired,
            K::ImmatureSignature => TokenError::IssuedInFuture,
            K::InvalidIssuer => TokenError::Issuer,
            K::InvalidAudience => TokenError::Audience,
            other => TokenError::Malformed(format!("{other:?}")),
        }
    })?;
    let raw = data.claims;
    let iat = raw
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or_else(|| TokenError::Malformed("iat is not a number".into()))?;
    let leeway = i64::try_from(expected.leeway_secs).unwrap_or(i64::MAX);
    if iat > expected.now.saturating_add(leeway) {
        return Err(TokenError::IssuedInFuture);
    }
    let claims: IdClaims =
        serde_json::from_value(raw.clone()).map_err(|e| TokenError::Malformed(e.to_string()))?;
    if claims.sub.is_empty() {
        return Err(TokenError::Malformed("sub is empty".into()));
    }
    // With several audiences, the token must say it was issued to this client (Core §2).
    let several_audiences = raw
        .get("aud")
        .and_then(Value::as_array)
        .is_some_and(|a| a.len() > 1);
    if (several_audiences || claims.azp.is_some())
        && claims.azp.as_deref() != Some(expected.client_id)
    {
        return Err(TokenError::Audience);
    }
    if claims.nonce.as_deref() != Some(expected.nonce) {
        return Err(TokenError::Nonce);
    }
    Ok(claims)
}

/// The key for the token: by `kid`; without one, the only signing key of the right type.
fn find_key<'a>(keys: &'a [Jwk], kid: Option<&str>, alg: Algorithm) -> Option<&'a Jwk> {
    let fits = |jwk: &&Jwk| {
        let signing = !matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption));
        let type_fits = matches!(
            (&jwk.algorithm, alg),
            (
                AlgorithmParameters::RSA(_),
                Algorithm::RS256
                    | Algorithm::RS384
                    | Algorithm::RS512
                    | Algorithm::PS256
                    | Algorithm::PS384
                    | Algorithm::PS512,
            ) | (
                AlgorithmParameters::EllipticCurve(_),
                Algorithm::ES256 | Algorithm::ES384
            ) | (AlgorithmParameters::OctetKeyPair(_), Algorithm::EdDSA)
        );
        // A key that names its algorithm is used for that algorithm only.
        let alg_fits = jwk
            .common
            .key_algorithm
            .is_none_or(|a| format!("{a:?}") == format!("{alg:?}"));
        signing && type_fits && alg_fits
    };
    match kid {
        Some(kid) => keys
            .iter()
            .filter(fits)
            .find(|k| k.common.key_id.as_deref() == Some(kid)),
        None => {
            let mut candidates = keys.iter().filter(fits);
            let first = candidates.next();
            if candidates.next().is_some() {
                None
            } else {
                first
            }
        }
    }
}

/// The keys of a JWKS document; keys kith cannot read (other types, encryption) are skipped
/// rather than failing the whole set.
pub fn parse_jwks(document: &Value) -> Vec<Jwk> {
    document
        .get("keys")
        .and_then(Value::as_array)
        .map(|keys| {
            keys.iter()
                .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
                .collect()
        })
        .unwrap_or_default()
}
