//! Sign-in with OpenID Connect against a real provider: panva's `oidc-provider` (a certified
//! OpenID Provider implementation) run by `tests/support/oidc/server.mjs` on a loopback port,
//! with a scripted login instead of a login form. The test plays the reader's browser: it
//! follows the redirects (keeping the provider's cookies) from kith's start URL to the provider
//! and back to kith's callback. The refusal cases swap the provider's ID token for a crafted one
//! (expired, signed with another key, for another audience, with another nonce, …).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use kith::config::{ProviderKind, SigninProvider};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::{Db, TestApp, assert_error, spawn_app_with};

const ORIGIN: &str = "http://localhost:8000";

/// The provider process; ends when dropped (its stdin closes, and it is killed).
struct Idp {
    base: String,
    http: reqwest::Client,
    _child: Child,
}

impl Idp {
    async fn start() -> Self {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/oidc");
        assert!(
            dir.join("node_modules/oidc-provider").exists(),
            "run `npm ci` in tests/support/oidc first (tests/run does)"
        );
        let mut child = Command::new("node")
            .arg("server.mjs")
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let port = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(port) = line.strip_prefix("listening ") {
                    return port.trim().to_string();
                }
            }
            panic!("the provider ended before listening")
        })
        .await
        .expect("the provider listens within 30 s");
        Self {
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            _child: child,
        }
    }

    async fn control(&self, what: &str, body: Value) -> Value {
        let response = self
            .http
            .post(format!("{}/__test/{what}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{what}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    /// Registers kith's client, whose ID tokens are signed with `alg`.
    async fn register(&self, app: &TestApp, alg: &str) {
        self.control(
            "client",
            json!({"redirect_uri": format!("{}/auth/oidc/myidp/callback", app.api), "alg": alg}),
        )
        .await;
    }

    /// The next token answer carries a crafted ID token (see server.mjs).
    async fn tamper(&self, mode: &str) {
        self.control("tamper", json!({"mode": mode})).await;
    }
}

/// kith configured with the provider as `myidp`, and the provider knowing kith's callback.
async fn setup(db: Db, alg: &str) -> (TestApp, Idp) {
    let idp = Idp::start().await;
    let issuer = idp.base.clone();
    let app = spawn_app_with(db, move |config| {
        config.signin.providers = vec![SigninProvider {
            id: "myidp".into(),
            label: "MyIdP".into(),
            kind: ProviderKind::Oidc,
            issuer,
            client_id: "kith-test".into(),
            client_secret: "kith-test-secret-0123456789abcdef".into(),
            ..SigninProvider::default()
        }];
    })
    .await;
    app.set_settings(|s| s.signin_methods = vec!["email".into(), "myidp".into()])
        .await;
    idp.register(&app, alg).await;
    (app, idp)
}

/// The reader's browser: no automatic redirects, the provider's cookies kept per host.
struct Browser {
    http: reqwest::Client,
    cookies: HashMap<String, Vec<(String, String)>>,
}

impl Browser {
    fn new() -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
        }
    }

    async fn get(&mut self, url: &str) -> reqwest::Response {
        let parsed = reqwest::Url::parse(url).unwrap();
        let host = format!(
            "{}:{}",
            parsed.host_str().unwrap_or_default(),
            parsed.port_or_known_default().unwrap_or(0)
        );
        let mut request = self
            .http
            .get(url)
            .header("Accept", "text/html,application/xhtml+xml");
        if let Some(jar) = self.cookies.get(&host) {
            let cookie = jar
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            request = request.header("Cookie", cookie);
        }
        let response = request.send().await.unwrap();
        let jar = self.cookies.entry(host).or_default();
        for set in response.headers().get_all("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap();
            if let Some((name, value)) = pair.split_once('=') {
                jar.retain(|(n, _)| n != name);
                jar.push((name.to_string(), value.to_string()));
            }
        }
        response
    }

    /// From kith's start URL through the provider's login to the callback URL it sends the
    /// reader back to (not opened yet).
    async fn callback_url(&mut self, app: &TestApp) -> String {
        let start = format!(
            "{}/auth/oidc/myidp/start?origin={}",
            app.api,
            urlencode(ORIGIN)
        );
        self.follow_to_callback(app, start).await
    }

    /// From `url` through the redirects to kith's callback URL (not opened yet).
    async fn follow_to_callback(&mut self, app: &TestApp, url: String) -> String {
        let callback = format!("{}/auth/oidc/myidp/callback", app.api);
        let mut url = url;
        for _ in 0..10 {
            if url.starts_with(&callback) {
                return url;
            }
            let response = self.get(&url).await;
            let status = response.status();
            assert!(
                status.is_redirection(),
                "{url} answered {status}: {}",
                response.text().await.unwrap()
            );
            let location = response.headers()["location"].to_str().unwrap().to_string();
            url = reqwest::Url::parse(&url)
                .unwrap()
                .join(&location)
                .unwrap()
                .to_string();
        }
        panic!("the flow never came back to kith's callback")
    }
}

fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The value of `data-NAME="…"` on the hand-off page.
fn data(page: &str, name: &str) -> String {
    let marker = format!("data-{name}=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no data-{name} in {page}"))
        + marker.len();
    let end = page[start..].find('"').unwrap() + start;
    page[start..end].to_string()
}

/// The callback URL with one query parameter replaced.
fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut parsed = reqwest::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| {
            if k == name {
                (k.into_owned(), value.to_string())
            } else {
                (k.into_owned(), v.into_owned())
            }
        })
        .collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    parsed.to_string()
}

fn param(url: &str, name: &str) -> String {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

/// Signs in through the whole flow and returns the hand-off page's body, checking its headers.
async fn sign_in(app: &TestApp, browser: &mut Browser) -> String {
    let url = browser.callback_url(app).await;
    let response = browser.get(&url).await;
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'nonce-"), "{csp}");
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let page = response.text().await.unwrap();
    assert_eq!(data(&page, "kind"), "signed-in", "{page}");
    page
}

/// The JSON error a program gets for the callback URL.
async fn callback_error(app: &TestApp, url: &str, status: u16, code: &str) -> Value {
    let _ = app;
    let response = reqwest::Client::new()
        .get(url)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_error(response, status, code).await
}

async fn signing_in_hands_a_session_to_the_opening_origin(db: Db) {
    let (app, _idp) = setup(db, "RS256").await;
    let page = sign_in(&app, &mut Browser::new()).await;
    assert_eq!(data(&page, "origin"), ORIGIN);
    assert_eq!(data(&page, "provider"), "myidp");
    // The name comes from the provider (here from its user info endpoint).
    assert_eq!(data(&page, "name"), "Alice Example");
    let token = data(&page, "token");
    assert_eq!(token.len(), 64, "{token}");
    assert!(
        !page.contains("alice@example.org"),
        "the address stays private"
    );
    // The token is a session of the reader the provider vouched for.
    let response = app
        .api_call_as(Method::GET, "/auth/session", &token, None)
        .await;
    assert_eq!(response.status(), 200);
    let session: Value = response.json().await.unwrap();
    assert_eq!(session["reader"]["name"], "Alice Example");
    assert_eq!(session["reader"]["provider"], "myidp");
    assert_eq!(session["reader"]["provider_label"], "MyIdP");
    // Posting with it: the provider's name, the verified mark, never the address.
    let body = json!({"thread_key": "/p/", "author": "Mallory", "email": "m@evil.example", "body": "Hello"});
    let response = app
        .api_call_as(Method::POST, "/comments", &token, Some(&body))
        .await;
    assert_eq!(response.status(), 201);
    let thread = app.thread("/p/").await;
    let comment = &thread["comments"][0];
    assert_eq!(comment["author"], "Alice Example");
    assert_eq!(comment["verified"], true);
    assert_eq!(comment["provider"], "myidp");
    assert!(
        !thread.to_string().contains("alice@example.org"),
        "{thread}"
    );
    // The reader is stored under the provider's subject, with the verified address (private).
    let stored = stored_reader(&app, "alice").await;
    assert_eq!(stored.email.as_deref(), Some("alice@example.org"));
    // The site lists the provider for the embed's button, with the configured label.
    let settings: Value = app.settings().await;
    assert_eq!(
        settings["signin"]["providers"],
        json!([{"id": "myidp", "label": "MyIdP"}])
    );
}

async fn stored_reader(app: &TestApp, subject: &'static str) -> kith::domain::reader::Reader {
    kith::service::blocking(&app.state, move |_, conn| {
        let identity = kith::domain::reader::Identity::parse("myidp", subject)?;
        kith::db::readers::find_by_identity(conn, kith::domain::site::SiteId(1), &identity)
    })
    .await
    .unwrap()
    .expect("the reader is stored")
}

async fn an_unverified_address_from_the_provider_is_not_kept(db: Db) {
    let (app, idp) = setup(db, "RS256").await;
    idp.control(
        "account",
        json!({"sub": "bob", "name": "Bob", "email": "bob@example.org", "email_verified": false}),
    )
    .await;
    let page = sign_in(&app, &mut Browser::new()).await;
    assert_eq!(data(&page, "name"), "Bob");
    assert_eq!(stored_reader(&app, "bob").await.email, None);
}

async fn a_banned_identity_cannot_sign_in(db: Db) {
    let (app, _idp) = setup(db, "RS256").await;
    kith::service::blocking(&app.state, |_, conn| {
        kith::service::admin::moderate::add_ban(conn, "reader", "myidp:alice", "test")
    })
    .await
    .unwrap();
    let mut browser = Browser::new();
    let url = browser.callback_url(&app).await;
    callback_error(&app, &url, 403, "reader_banned").await;
}

async fn a_provider_the_site_does_not_offer_is_refused(db: Db) {
    let (app, _idp) = setup(db, "RS256").await;
    app.set_settings(|s| s.signin_methods = vec!["email".into()])
        .await;
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!(
            "{}/auth/oidc/myidp/start?origin={}",
            app.api,
            urlencode(ORIGIN)
        ))
        .send()
        .await
        .unwrap();
    assert_error(response, 404, "provider_not_found").await;
    let settings: Value = app.settings().await;
    assert_eq!(settings["signin"]["providers"], json!([]));
}

async fn id_tokens_signed_with_es256_are_accepted(db: Db) {
    let (app, _idp) = setup(db, "ES256").await;
    let page = sign_in(&app, &mut Browser::new()).await;
    assert_eq!(data(&page, "provider"), "myidp");
}

async fn a_replayed_callback_is_refused(db: Db) {
    let (app, _idp) = setup(db, "RS256").await;
    let mut browser = Browser::new();
    let url = browser.callback_url(&app).await;
    assert_eq!(browser.get(&url).await.status(), 200);
    // The same state and code again: the flow is gone.
    callback_error(&app, &url, 403, "invalid_signin_state").await;
    // A browser gets a readable page saying so.
    let response = browser.get(&url).await;
    assert_eq!(response.status(), 403);
    let page = response.text().await.unwrap();
    assert!(page.contains("already used"), "{page}");
}

async fn a_replayed_code_is_refused_by_the_provider(db: Db) {
    let (app, _idp) = setup(db, "RS256").await;
    let mut browser = Browser::new();
    let first = browser.callback_url(&app).await;
    assert_eq!(browser.get(&first).await.status(), 200);
    // A fresh flow's own state, with the first flow's (used) code.
    let second = browser.callback_url(&app).await;
    let replay = with_param(&second, "code", &param(&first, "code"));
    let error = callback_error(&app, &replay, 403, "signin_failed").await;
    assert!(
        error["message"].as_str().unwrap().contains("invalid_grant"),
        "{error}"
    );
}

async fn a_wrong_state_is_refused(db: Db) {
    let (app, _idp) = setup(db, "RS256").await;
    let mut browser = Browser::new();
    let url = browser.callback_url(&app).await;
    let forged = with_param(&url, "state", &"0".repeat(64));
    callback_error(&app, &forged, 403, "invalid_signin_state").await;
    let missing = with_param(&url, "state", "");
    callback_error(&app, &missing, 403, "invalid_signin_state").await;
    // The genuine callback still works: a wrong state used nothing up.
    assert_eq!(browser.get(&url).await.status(), 200);
}

async fn an_expired_flow_is_refused(db: Db) {
    let (app, _idp) = setup(db, "RS256").await;
    let mut browser = Browser::new();
    let url = browser.callback_url(&app).await;
    let mut conn = app.state.pool.get().unwrap();
    diesel::RunQueryDsl::execute(
        diesel::sql_query("UPDATE oidc_flows SET expires_at = '2000-01-01 00:00:00'"),
        &mut *conn,
    )
    .unwrap();
    drop(conn);
    callback_error(&app, &url, 410, "signin_expired").await;
}

async fn a_refusal_at_the_provider_ends_on_a_page_for_the_opener(db: Db) {
    let (app, _idp) = setup(db, "RS256").await;
    let mut browser = Browser::new();
    let url = browser.callback_url(&app).await;
    let denied = format!(
        "{}/auth/oidc/myidp/callback?state={}&error=access_denied",
        app.api,
        param(&url, "state")
    );
    let response = browser.get(&denied).await;
    assert_eq!(response.status(), 403);
    let page = response.text().await.unwrap();
    assert_eq!(data(&page, "kind"), "failed");
    assert_eq!(data(&page, "error"), "signin_failed");
    assert_eq!(data(&page, "origin"), ORIGIN);
    assert_eq!(data(&page, "token"), "");
    assert!(page.contains("access_denied"), "{page}");
}

/// A flow whose token answer carries a crafted ID token is refused with `signin_failed`.
async fn refused_with(db: Db, mode: &str, reason: &str) {
    let (app, idp) = setup(db, "RS256").await;
    let mut browser = Browser::new();
    let url = browser.callback_url(&app).await;
    idp.tamper(mode).await;
    let error = callback_error(&app, &url, 403, "signin_failed").await;
    let message = error["message"].as_str().unwrap();
    assert!(message.contains(reason), "{mode}: {message}");
}

async fn an_expired_id_token_is_refused(db: Db) {
    refused_with(db, "expired", "expired").await;
}

async fn an_id_token_signed_with_another_key_is_refused(db: Db) {
    refused_with(db, "other_key", "signature is not valid").await;
}

async fn an_id_token_signed_with_an_unpublished_key_is_refused(db: Db) {
    refused_with(db, "unknown_kid", "key the provider does not publish").await;
}

async fn an_id_token_for_another_audience_is_refused(db: Db) {
    refused_with(db, "wrong_audience", "another client").await;
}

async fn an_id_token_with_another_nonce_is_refused(db: Db) {
    refused_with(db, "wrong_nonce", "nonce").await;
}

async fn an_id_token_from_another_issuer_is_refused(db: Db) {
    refused_with(db, "wrong_issuer", "issued by someone else").await;
}

async fn keys_rotated_at_the_provider_are_fetched_again(db: Db) {
    let (app, idp) = setup(db, "RS256").await;
    let mut browser = Browser::new();
    // The first sign-in caches the provider's keys …
    sign_in(&app, &mut browser).await;
    // … the next ID token is signed with a key published only now.
    let url = browser.callback_url(&app).await;
    idp.tamper("rotated").await;
    let response = browser.get(&url).await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert_eq!(data(&page, "kind"), "signed-in");
}

async fn start_refuses_unknown_providers_and_origins(db: Db) {
    let (app, _idp) = setup(db, "RS256").await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: String| client.get(format!("{}{path}", app.api)).send();
    let response = get(format!(
        "/auth/oidc/nobody/start?origin={}",
        urlencode(ORIGIN)
    ))
    .await
    .unwrap();
    assert_error(response, 404, "provider_not_found").await;
    let response = get(format!(
        "/auth/oidc/myidp/start?origin={}",
        urlencode("https://evil.example")
    ))
    .await
    .unwrap();
    assert_error(response, 403, "origin_not_allowed").await;
    let response = get(format!(
        "/auth/oidc/myidp/start?origin={}",
        urlencode("http://localhost:8000/path")
    ))
    .await
    .unwrap();
    assert_error(response, 422, "invalid_field").await;
    let response = get("/auth/oidc/myidp/start".into()).await.unwrap();
    assert_eq!(response.status(), 400);
    // A browser is shown a page, not JSON.
    let response = client
        .get(format!(
            "{}/auth/oidc/nobody/start?origin={}",
            app.api,
            urlencode(ORIGIN)
        ))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    // A good start is a redirect to the provider with PKCE, state and nonce.
    let response = get(format!(
        "/auth/oidc/myidp/start?origin={}",
        urlencode(ORIGIN)
    ))
    .await
    .unwrap();
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with(&format!("{}/auth?", _idp.base)),
        "{location}"
    );
    assert_eq!(param(&location, "code_challenge_method"), "S256");
    assert_eq!(param(&location, "code_challenge").len(), 43);
    assert_eq!(param(&location, "state").len(), 64);
    assert_eq!(param(&location, "nonce").len(), 64);
    assert_eq!(param(&location, "client_id"), "kith-test");
}

/// A session token as the embed draws it, and its SHA-256 (the start URL's `poll`).
fn drawn_session() -> (String, String) {
    let token = kith::secrets::random_token();
    let hash = kith::secrets::hash_token(&token);
    (token, hash)
}

/// A data attribute's value as the browser reads it (the page escapes `&`, quotes, `<`, `>`).
fn unescaped(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let end = rest[at..].find(';').unwrap() + at;
        let entity = &rest[at + 1..end];
        let c = match entity {
            "amp" => '&',
            "quot" => '"',
            "lt" => '<',
            "gt" => '>',
            _ if entity.starts_with("#x") => {
                char::from_u32(u32::from_str_radix(&entity[2..], 16).unwrap()).unwrap()
            }
            _ => char::from_u32(entity[1..].parse().unwrap()).unwrap(),
        };
        out.push(c);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Opens the start page of a flow whose session the page drew (`poll`): checks the page and
/// its binding cookie, and returns the provider URL it goes on to once its opener confirms.
async fn start_with_poll(app: &TestApp, browser: &mut Browser, hash: &str) -> String {
    let start = format!(
        "{}/auth/oidc/myidp/start?origin={}&poll={hash}",
        app.api,
        urlencode(ORIGIN)
    );
    let response = browser.get(&start).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'nonce-"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.starts_with(&format!("kith_signin_{}=", &hash[..16])),
        "{cookie}"
    );
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        cookie.contains("Path=/api/v1/sites/default/auth/oidc/"),
        "{cookie}"
    );
    let page = response.text().await.unwrap();
    assert_eq!(data(&page, "origin"), ORIGIN);
    assert_eq!(data(&page, "poll"), hash);
    // The page asks its opener, on the page's origin, before it goes anywhere.
    assert!(
        page.contains("postMessage({ kith: 'signin-start'"),
        "{page}"
    );
    let next = unescaped(&data(&page, "next"));
    assert!(next.contains("/auth?"), "{next}");
    assert_eq!(param(&next, "state").len(), 64);
    assert_eq!(param(&next, "code_challenge_method"), "S256");
    next
}

async fn session_status(app: &TestApp, token: &str) -> u16 {
    app.client
        .get(format!("{}/auth/session", app.api))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn a_page_that_drew_its_session_is_signed_in_without_a_hand_over(db: Db) {
    let (app, _idp) = setup(db, "RS256").await;
    let (token, hash) = drawn_session();
    let mut browser = Browser::new();
    let next = start_with_poll(&app, &mut browser, &hash).await;
    assert_eq!(
        session_status(&app, &token).await,
        401,
        "not before the provider vouched"
    );
    let callback = browser.follow_to_callback(&app, next).await;
    let response = browser.get(&callback).await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert_eq!(data(&page, "kind"), "signed-in");
    assert_eq!(data(&page, "origin"), ORIGIN);
    assert_eq!(data(&page, "name"), "Alice Example");
    // The page holds no token: the one the embed drew is the session now, and only the embed
    // has it (the server saw its hash).
    assert_eq!(data(&page, "token"), "");
    assert!(!page.contains(&token));
    let session: Value = app
        .client
        .get(format!("{}/auth/session", app.api))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(session["reader"]["name"], "Alice Example");
    assert_eq!(session["reader"]["provider"], "myidp");
    // The same hash cannot start another sign-in (its session exists).
    let again = reqwest::Client::new()
        .get(format!(
            "{}/auth/oidc/myidp/start?origin={}&poll={hash}",
            app.api,
            urlencode(ORIGIN)
        ))
        .send()
        .await
        .unwrap();
    assert_error(again, 403, "invalid_signin_state").await;
}

async fn a_drawn_session_flow_finishes_only_in_the_browser_that_started_it(db: Db) {
    let (app, _idp) = setup(db, "RS256").await;
    let (token, hash) = drawn_session();
    // Someone starts a flow and sends the provider link to someone else, whose browser signs in
    // at the provider and comes back to kith without the start page's cookie.
    let next = start_with_poll(&app, &mut Browser::new(), &hash).await;
    let mut victim = Browser::new();
    let callback = victim.follow_to_callback(&app, next).await;
    let response = victim.get(&callback).await;
    assert_eq!(response.status(), 403);
    let page = response.text().await.unwrap();
    assert_eq!(data(&page, "kind"), "failed");
    assert_eq!(data(&page, "error"), "invalid_signin_state");
    assert!(page.contains("another browser"), "{page}");
    assert_eq!(session_status(&app, &token).await, 401, "nobody signed in");
    // A cookie of the right name with another value does not do either.
    let (token, hash) = drawn_session();
    let mut browser = Browser::new();
    let next = start_with_poll(&app, &mut browser, &hash).await;
    for jar in browser.cookies.values_mut() {
        for (name, value) in jar.iter_mut() {
            if name.starts_with("kith_signin_") {
                *value = "0".repeat(64);
            }
        }
    }
    let callback = browser.follow_to_callback(&app, next).await;
    let response = browser.get(&callback).await;
    assert_eq!(response.status(), 403);
    let page = response.text().await.unwrap();
    assert_eq!(data(&page, "error"), "invalid_signin_state");
    assert_eq!(session_status(&app, &token).await, 401);
}

async fn start_refuses_a_malformed_or_reused_poll(db: Db) {
    let (app, _idp) = setup(db, "RS256").await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let start = |poll: String| {
        client
            .get(format!(
                "{}/auth/oidc/myidp/start?origin={}&poll={poll}",
                app.api,
                urlencode(ORIGIN)
            ))
            .send()
    };
    for bad in [
        "abc".to_string(),
        "A".repeat(64),
        "g".repeat(64),
        "0".repeat(65),
    ] {
        let response = start(bad).await.unwrap();
        let error = assert_error(response, 422, "invalid_field").await;
        assert_eq!(error["field"], "poll");
    }
    let (_, hash) = drawn_session();
    assert_eq!(start(hash.clone()).await.unwrap().status(), 200);
    // While its flow is pending, the same hash starts nothing else.
    let response = start(hash).await.unwrap();
    assert_error(response, 403, "invalid_signin_state").await;
}

crate::on_both!(
    a_page_that_drew_its_session_is_signed_in_without_a_hand_over,
    a_drawn_session_flow_finishes_only_in_the_browser_that_started_it,
    start_refuses_a_malformed_or_reused_poll,
);

crate::on_both!(
    signing_in_hands_a_session_to_the_opening_origin,
    an_unverified_address_from_the_provider_is_not_kept,
    a_banned_identity_cannot_sign_in,
    a_provider_the_site_does_not_offer_is_refused,
    id_tokens_signed_with_es256_are_accepted,
    a_replayed_callback_is_refused,
    a_replayed_code_is_refused_by_the_provider,
    a_wrong_state_is_refused,
    an_expired_flow_is_refused,
    a_refusal_at_the_provider_ends_on_a_page_for_the_opener,
    an_expired_id_token_is_refused,
    an_id_token_signed_with_another_key_is_refused,
    an_id_token_signed_with_an_unpublished_key_is_refused,
    an_id_token_for_another_audience_is_refused,
    an_id_token_with_another_nonce_is_refused,
    an_id_token_from_another_issuer_is_refused,
    keys_rotated_at_the_provider_are_fetched_again,
    start_refuses_unknown_providers_and_origins,
);

/// GitHub's side of the OAuth web flow, for the GitHub code path: NOT GitHub, a local server
/// implementing the documented endpoints kith uses (`/login/oauth/authorize`,
/// `/login/oauth/access_token`, `/user`, `/user/emails`) with GitHub's documented answers. It
/// checks what GitHub checks: the client secret, the single-use code and the PKCE verifier.
mod github_stand_in {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
    use serde_json::json;

    pub const CLIENT_ID: &str = "Iv1.test";
    pub const CLIENT_SECRET: &str = "github-test-secret";
    const TOKEN: &str = "gho_test_token";

    #[derive(Default)]
    struct Codes {
        /// code → PKCE challenge it was issued with.
        issued: HashMap<String, String>,
        next: u32,
    }

    type Shared = web::Data<Arc<Mutex<Codes>>>;

    async fn authorize(codes: Shared, query: web::Query<HashMap<String, String>>) -> HttpResponse {
        assert_eq!(query["client_id"], CLIENT_ID);
        assert_eq!(query["code_challenge_method"], "S256");
        let mut codes = codes.lock().unwrap();
        codes.next += 1;
        let code = format!("gh-code-{}", codes.next);
        codes
            .issued
            .insert(code.clone(), query["code_challenge"].clone());
        let mut target = reqwest::Url::parse(&query["redirect_uri"]).unwrap();
        target
            .query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", &query["state"]);
        HttpResponse::Found()
            .insert_header(("Location", target.to_string()))
            .finish()
    }

    async fn access_token(codes: Shared, form: web::Form<HashMap<String, String>>) -> HttpResponse {
        // GitHub answers errors with 200 and an `error` field.
        let refuse = |error: &str| HttpResponse::Ok().json(json!({"error": error}));
        if form.get("client_id").map(String::as_str) != Some(CLIENT_ID)
            || form.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
        {
            return refuse("incorrect_client_credentials");
        }
        let Some(challenge) = codes.lock().unwrap().issued.remove(&form["code"]) else {
            return refuse("bad_verification_code");
        };
        if kith::secrets::pkce_s256(&form["code_verifier"]) != challenge {
            return refuse("bad_verification_code");
        }
        HttpResponse::Ok().json(
            json!({"access_token": TOKEN, "token_type": "bearer", "scope": "read:user,user:email"}),
        )
    }

    fn authorized(req: &HttpRequest) -> bool {
        req.headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            == Some(&format!("Bearer {TOKEN}"))
            && req.headers().contains_key("user-agent")
    }

    async fn user(req: HttpRequest) -> HttpResponse {
        if !authorized(&req) {
            return HttpResponse::Unauthorized().json(json!({"message": "Bad credentials"}));
        }
        HttpResponse::Ok()
            .json(json!({"login": "octocat", "id": 583231, "name": "The Octocat", "email": null}))
    }

    async fn emails(req: HttpRequest) -> HttpResponse {
        if !authorized(&req) {
            return HttpResponse::Unauthorized().json(json!({"message": "Bad credentials"}));
        }
        HttpResponse::Ok().json(json!([
            {"email": "old@example.org", "primary": false, "verified": false, "visibility": null},
            {"email": "octocat@example.org", "primary": true, "verified": true, "visibility": "private"}
        ]))
    }

    /// Starts the stand-in; its base URL.
    pub fn start() -> String {
        let codes = web::Data::new(Arc::new(Mutex::new(Codes::default())));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(codes.clone())
                .route("/login/oauth/authorize", web::get().to(authorize))
                .route("/login/oauth/access_token", web::post().to(access_token))
                .route("/api/user", web::get().to(user))
                .route("/api/user/emails", web::get().to(emails))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let port = server.addrs()[0].port();
        actix_web::rt::spawn(server.run());
        format!("http://127.0.0.1:{port}")
    }
}

async fn github_sign_in_reads_the_account_from_the_api(db: Db) {
    let github = github_stand_in::start();
    let app = spawn_app_with(db, move |config| {
        config.signin.providers = vec![SigninProvider {
            id: "github".into(),
            label: "GitHub".into(),
            kind: ProviderKind::Github,
            client_id: github_stand_in::CLIENT_ID.into(),
            client_secret: github_stand_in::CLIENT_SECRET.into(),
            authorize_url: format!("{github}/login/oauth/authorize"),
            token_url: format!("{github}/login/oauth/access_token"),
            api_url: format!("{github}/api"),
            ..SigninProvider::default()
        }];
    })
    .await;
    app.set_settings(|s| s.signin_methods = vec!["github".into()])
        .await;
    let mut browser = Browser::new();
    let start = format!(
        "{}/auth/oidc/github/start?origin={}",
        app.api,
        urlencode(ORIGIN)
    );
    let response = browser.get(&start).await;
    assert_eq!(response.status(), 303);
    let to_github = response.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(param(&to_github, "scope"), "read:user user:email");
    let response = browser.get(&to_github).await;
    let callback = response.headers()["location"].to_str().unwrap().to_string();
    let response = browser.get(&callback).await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert_eq!(data(&page, "kind"), "signed-in");
    assert_eq!(data(&page, "provider"), "github");
    assert_eq!(data(&page, "name"), "The Octocat");
    assert!(!page.contains("octocat@example.org"));
    // The code was used: a second flow's state with it is refused by "GitHub".
    let response = browser.get(&start).await;
    let to_github = response.headers()["location"].to_str().unwrap().to_string();
    let response = browser.get(&to_github).await;
    let second = response.headers()["location"].to_str().unwrap().to_string();
    let replay = with_param(&second, "code", &param(&callback, "code"));
    let error = callback_error(&app, &replay, 403, "signin_failed").await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("bad_verification_code"),
        "{error}"
    );
}

crate::on_both!(github_sign_in_reads_the_account_from_the_api);
