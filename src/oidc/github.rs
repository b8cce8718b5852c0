//! GitHub's OAuth 2 web flow (GitHub is not an OpenID provider): the code is exchanged at
//! `/login/oauth/access_token` (with the PKCE verifier), then the account is read from the REST
//! API: `GET /user` for the numeric id, login and name, `GET /user/emails` for a verified
//! address. Endpoints default to github.com's and can be changed for GitHub Enterprise.

use serde::Deserialize;
use serde_json::Value;

use super::{ProviderError, display_name, send_json};
use crate::config::SigninProvider;
use crate::domain::reader::VerifiedIdentity;

const AUTHORIZE_URL: &str = "https://github.com/login/oauth/authorize";
const TOKEN_URL: &str = "https://github.com/login/oauth/access_token";
const API_URL: &str = "https://api.github.com";

fn or_default<'a>(configured: &'a str, default: &'a str) -> &'a str {
    if configured.is_empty() {
        default
    } else {
        configured
    }
}

/// Where the reader is sent to authorize kith.
pub fn authorize_url(provider: &SigninProvider) -> String {
    or_default(&provider.authorize_url, AUTHORIZE_URL).to_string()
}

#[derive(Deserialize)]
struct User {
    id: u64,
    login: String,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct Email {
    email: String,
    #[serde(default)]
    primary: bool,
    #[serde(default)]
    verified: bool,
}

/// Exchanges the code for an access token and reads the account with it.
pub async fn identify(
    client: &reqwest::Client,
    provider: &SigninProvider,
    client_secret: &str,
    redirect_uri: &str,
    code: &str,
    pkce_verifier: &str,
) -> Result<VerifiedIdentity, ProviderError> {
    let token_url = or_default(&provider.token_url, TOKEN_URL);
    let request = client
        .post(token_url)
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&[
            ("client_id", provider.client_id.as_str()),
            ("client_secret", client_secret),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", pkce_verifier),
        ]);
    let (status, answer) = send_json::<Value>(request).await?;
    // GitHub answers a bad or used code with 200 and an `error` field.
    if let Some(error) = answer.get("error").and_then(Value::as_str) {
        return Err(ProviderError::Refused(format!(
            "GitHub refused the code ({error})"
        )));
    }
    if !status.is_success() {
        return Err(ProviderError::Unavailable(format!(
            "GitHub's token endpoint answered {status}"
        )));
    }
    let token = answer
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or_else(|| ProviderError::Refused("GitHub sent no access token".into()))?;
    let api = or_default(&provider.api_url, API_URL).trim_end_matches('/');
    let get = |path: &str| {
        client
            .get(format!("{api}{path}"))
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
    };
    let (status, user) = send_json::<User>(get("/user")).await?;
    if !status.is_success() {
        return Err(ProviderError::Unavailable(format!(
            "GitHub's /user answered {status}"
        )));
    }
    // Without the user:email scope this is refused: then there is simply no address.
    let email = match send_json::<Vec<Email>>(get("/user/emails")).await {
        Ok((status, emails)) if status.is_success() => pick_email(emails),
        _ => None,
    };
    let login = Some(user.login);
    Ok(VerifiedIdentity {
        provider: provider.id.clone(),
        subject: user.id.to_string(),
        email_verified: email.is_some(),
        email,
        display_name: display_name([&user.name, &login], &provider.label),
    })
}

/// The primary address if verified, else the first verified one.
fn pick_email(emails: Vec<Email>) -> Option<String> {
    let verified: Vec<Email> = emails.into_iter().filter(|e| e.verified).collect();
    verified
        .iter()
        .find(|e| e.primary)
        .or(verified.first())
        .map(|e| e.email.trim().to_string())
        .filter(|e| !e.is_empty())
}
