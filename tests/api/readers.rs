//! Reader sign-in, on both backends: the identity model (`service::readers::sign_in`),
//! sessions carried as a bearer token, sign-out, bans by identity and by e-mail, e-mail-link
//! sign-in against the real loopback SMTP server, and what signed-in readers may do.

use kith::domain::reader::{ReaderId, VerifiedIdentity};
use kith::service::{self, readers};
use reqwest::Method;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Db, TestApp, assert_error, mail_config, spawn_app_with};
use crate::smtp::SmtpServer;

fn identity(
    provider: &str,
    subject: &str,
    email: Option<&str>,
    verified: bool,
    name: &str,
) -> VerifiedIdentity {
    VerifiedIdentity {
        provider: provider.into(),
        subject: subject.into(),
        email: email.map(str::to_string),
        email_verified: verified,
        display_name: name.into(),
    }
}

/// Signs in on the default site; `(reader id, session token)` or the error code.
async fn sign_in(app: &TestApp, id: VerifiedIdentity) -> Result<(ReaderId, String), String> {
    service::blocking(&app.state, move |state, conn| {
        let site = service::sites::find(state, conn, "default")?;
        readers::sign_in(state, conn, &site, id)
    })
    .await
    .map(|(reader, token)| (reader.id, token.0))
    .map_err(|e| e.kind.code().to_string())
}

async fn offer(app: &TestApp, methods: &[&str]) {
    let methods: Vec<String> = methods.iter().map(|m| m.to_string()).collect();
    app.set_settings(move |s| s.signin_methods = methods).await;
}

async fn whoami(app: &TestApp, token: &str) -> reqwest::Response {
    app.api_call_as(Method::GET, "/auth/session", token, None)
        .await
}

async fn ban(app: &TestApp, kind: &'static str, value: &'static str) {
    service::blocking(&app.state, move |_, conn| {
        service::admin::moderate::add_ban(conn, kind, value, "test")
    })
    .await
    .unwrap();
}

both_backends! {
    async fn signing_in_opens_a_session_that_names_the_reader_but_never_their_address(app: TestApp) {
        offer(&app, &["email", "github"]).await;
        let (reader, token) = sign_in(&app, identity("github", "583231", Some("octo@example.com"), true, "  Octo\nCat ")).await.unwrap();
        assert_eq!(token.len(), 64);
        let response = whoami(&app, &token).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["reader"]["name"], "Octo Cat");
        assert_eq!(body["reader"]["provider"], "github");
        assert_eq!(body["reader"]["provider_label"], "GitHub");
        assert!(!body.to_string().contains("octo@example.com"), "{body}");
        // Signing in again is the same reader with a second session and the new name.
        let (again, token2) = sign_in(&app, identity("github", "583231", None, false, "Octo")).await.unwrap();
        assert_eq!(again, reader);
        assert_ne!(token2, token);
        let body: Value = whoami(&app, &token).await.json().await.unwrap();
        assert_eq!(body["reader"]["name"], "Octo");
        // An e-mail sign-in is another identity; its subject is the lower-cased address.
        let (by_mail, _) = sign_in(&app, identity("email", "Ann@Example.com", None, false, "Ann")).await.unwrap();
        assert_ne!(by_mail, reader);
        let stored = service::blocking(&app.state, move |_, conn| kith::db::readers::find(conn, by_mail)).await.unwrap().unwrap();
        assert_eq!(stored.identity.subject, "ann@example.com");
        assert_eq!(stored.email.as_deref(), Some("ann@example.com"));
    }

    async fn an_unverified_provider_address_is_not_kept(app: TestApp) {
        offer(&app, &["google"]).await;
        let (reader, _) = sign_in(&app, identity("google", "sub-1", Some("maybe@example.com"), false, "G")).await.unwrap();
        let stored = service::blocking(&app.state, move |_, conn| kith::db::readers::find(conn, reader)).await.unwrap().unwrap();
        assert_eq!(stored.email, None);
    }

    async fn a_method_the_site_does_not_offer_is_refused(app: TestApp) {
        assert_eq!(sign_in(&app, identity("email", "a@example.com", None, false, "A")).await.unwrap_err(), "sign_in_not_offered");
        offer(&app, &["email"]).await;
        assert_eq!(sign_in(&app, identity("github", "1", None, false, "A")).await.unwrap_err(), "sign_in_not_offered");
        assert!(sign_in(&app, identity("email", "a@example.com", None, false, "A")).await.is_ok());
    }

    async fn missing_forged_expired_and_foreign_tokens_are_session_expired(app: TestApp) {
        offer(&app, &["email"]).await;
        let response = app.api_call(Method::GET, "/auth/session", None).await;
        assert_error(response, 401, "session_expired").await;
        assert_error(whoami(&app, &"0".repeat(64)).await, 401, "session_expired").await;
        assert_error(whoami(&app, "not a token").await, 401, "session_expired").await;
        let response = app.client.get(format!("{}/auth/session", app.api))
            .header("authorization", "Basic abc").send().await.unwrap();
        assert_error(response, 401, "session_expired").await;
        let (reader, token) = sign_in(&app, identity("email", "a@example.com", None, false, "A")).await.unwrap();
        assert_eq!(whoami(&app, &token).await.status(), 200);
        // A token is only good on its own site.
        service::blocking(&app.state, |_, conn| {
            kith::db::sites::insert(conn, "other", "Other", &[], &Default::default(), service::now().naive_utc())
        }).await.unwrap();
        let response = app.client.get(format!("{}/api/v1/sites/other/auth/session", app.address))
            .bearer_auth(&token).send().await.unwrap();
        assert_error(response, 401, "session_expired").await;
        // Once expired, the session is refused.
        service::blocking(&app.state, move |_, conn| {
            kith::db::readers::update_session_expiry(conn, reader, service::now().naive_utc())
        }).await.unwrap();
        assert_error(whoami(&app, &token).await, 401, "session_expired").await;
        let purged = service::blocking(&app.state, |_, conn| readers::purge_expired(conn)).await.unwrap();
        assert_eq!(purged, 1);
        // Signing in again clears what expired and opens a fresh session.
        let (_, stale) = sign_in(&app, identity("email", "a@example.com", None, false, "A")).await.unwrap();
        service::blocking(&app.state, move |_, conn| {
            kith::db::readers::update_session_expiry(conn, reader, service::now().naive_utc())
        }).await.unwrap();
        let (_, fresh) = sign_in(&app, identity("email", "a@example.com", None, false, "A")).await.unwrap();
        let left = service::blocking(&app.state, move |_, conn| kith::db::readers::count_sessions(conn, reader)).await.unwrap();
        assert_eq!(left, 1, "only the fresh session is left");
        assert_eq!(whoami(&app, &fresh).await.status(), 200);
        assert_error(whoami(&app, &stale).await, 401, "session_expired").await;
    }

    async fn signing_out_deletes_the_session(app: TestApp) {
        offer(&app, &["email"]).await;
        let (reader, token) = sign_in(&app, identity("email", "a@example.com", None, false, "A")).await.unwrap();
        let (_, other) = sign_in(&app, identity("email", "a@example.com", None, false, "A")).await.unwrap();
        let count = |app: &TestApp| {
            let state = app.state.clone();
            async move {
                service::blocking(&state, move |_, conn| kith::db::readers::count_sessions(conn, reader)).await.unwrap()
            }
        };
        assert_eq!(count(&app).await, 2);
        let response = app.api_call_as(Method::DELETE, "/auth/session", &token, None).await;
        assert_eq!(response.status(), 200);
        assert_eq!(count(&app).await, 1);
        assert_error(whoami(&app, &token).await, 401, "session_expired").await;
        let response = app.api_call_as(Method::DELETE, "/auth/session", &token, None).await;
        assert_error(response, 401, "session_expired").await;
        // The reader's other browser stays signed in.
        assert_eq!(whoami(&app, &other).await.status(), 200);
    }

    async fn a_banned_identity_or_address_cannot_sign_in_and_its_sessions_stop(app: TestApp) {
        offer(&app, &["email", "github"]).await;
        let (_, token) = sign_in(&app, identity("github", "666", Some("troll@example.com"), true, "Troll")).await.unwrap();
        assert_eq!(whoami(&app, &token).await.status(), 200);
        ban(&app, "reader", "github:666").await;
        assert_eq!(sign_in(&app, identity("github", "666", None, false, "Troll")).await.unwrap_err(), "reader_banned");
        assert_error(whoami(&app, &token).await, 403, "reader_banned").await;
        // Another GitHub account is not touched by the ban.
        assert!(sign_in(&app, identity("github", "667", None, false, "Fine")).await.is_ok());
        // An e-mail ban covers e-mail sign-in and a provider's verified address, not an
        // unverified one.
        ban(&app, "email", "Spam@Example.com").await;
        assert_eq!(sign_in(&app, identity("email", "spam@example.com", None, false, "S")).await.unwrap_err(), "reader_banned");
        assert_eq!(sign_in(&app, identity("github", "7", Some("SPAM@example.com"), true, "S")).await.unwrap_err(), "reader_banned");
        assert!(sign_in(&app, identity("github", "8", Some("spam@example.com"), false, "S")).await.is_ok());
    }
}

// ---- E-mail-link sign-in against the real loopback SMTP server ----

crate::each_on_both_backends!(
    email_link_signs_in_once_and_the_code_needs_the_asking_browser,
    email_link_leads_back_to_the_asking_page_with_the_code,
    email_link_expired_or_forged_is_refused,
    email_sign_in_reveals_nothing_and_mails_no_banned_address,
    wrong_codes_end_the_request,
    signed_in_post_has_locked_name_verified_mark_and_no_address_anywhere,
    signed_in_reader_edits_and_deletes_within_their_window,
    anonymous_allowed_false_requires_sign_in,
    signed_in_readers_skip_first_time_moderation_when_the_site_says_so,
    banned_signed_in_reader_cannot_post,
    manage_list_shows_only_the_readers_comments_on_the_site,
    the_admin_sees_how_each_author_was_identified,
    email_sign_in_is_limited_per_address_and_per_client_address,
    starting_a_provider_sign_in_is_rate_limited_per_client_address,
    expired_sign_in_rows_are_swept_every_minute,
    using_a_session_marks_the_reader_seen_at_most_every_quarter_hour,
);

const ORIGIN: &str = "http://localhost:4000";

async fn mail_app(db: Db) -> (TestApp, SmtpServer) {
    let smtp = SmtpServer::start().await;
    let port = smtp.port;
    let app = spawn_app_with(db, move |config| {
        mail_config(config, port);
        config.rate_limits.mail = kith::spam::limiter::Quota::new(1_000_000, 1_000_000);
    })
    .await;
    offer(&app, &["email"]).await;
    (app, smtp)
}

async fn ask_link(app: &TestApp, email: &str, name: &str) -> reqwest::Response {
    let body = json!({ "email": email, "name": name, "origin": ORIGIN });
    app.api_call(Method::POST, "/auth/email", Some(&body)).await
}

/// The mailed link opened and its button pressed: the code the page shows.
async fn open_link(app: &TestApp, link: &str) -> Result<String, (u16, String)> {
    let shown = app.client.get(link).send().await.unwrap();
    let status = shown.status().as_u16();
    let page = shown.text().await.unwrap();
    if status != 200 {
        return Err((status, page));
    }
    assert!(page.contains("<form method=\"post\""), "{page}");
    let opened = app.client.post(link).send().await.unwrap();
    let status = opened.status().as_u16();
    let page = opened.text().await.unwrap();
    if status != 200 {
        return Err((status, page));
    }
    let code = page
        .split("id=\"code\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_else(|| panic!("no code on {page}"));
    Ok(code.to_string())
}

async fn exchange(app: &TestApp, request: &str, code: &str) -> reqwest::Response {
    let body = json!({ "request": request, "code": code });
    app.api_call(Method::POST, "/auth/email/exchange", Some(&body))
        .await
}

/// Asks for a sign-in link and sends the mail: the request's secret and the mailed link.
async fn mailed_link(
    app: &TestApp,
    smtp: &SmtpServer,
    email: &str,
    name: &str,
) -> (String, String) {
    let asked = ask_link(app, email, name).await;
    assert_eq!(asked.status(), 202);
    let request: Value = asked.json().await.unwrap();
    app.drain_outbox().await;
    let link = smtp
        .to(email)
        .last()
        .unwrap()
        .link("/mail/signin/")
        .unwrap();
    (request["request"].as_str().unwrap().to_string(), link)
}

/// Signs in by e-mail link end to end; the session token.
async fn sign_in_by_mail(app: &TestApp, smtp: &SmtpServer, email: &str, name: &str) -> String {
    let (secret, link) = mailed_link(app, smtp, email, name).await;
    let code = open_link(app, &link).await.unwrap();
    let response = exchange(app, &secret, &code).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_string()
}

async fn email_link_signs_in_once_and_the_code_needs_the_asking_browser(db: Db) {
    let (app, smtp) = mail_app(db).await;
    let asked = ask_link(&app, "Ann@Example.com", "Ann Lee").await;
    assert_eq!(asked.status(), 202);
    let request: Value = asked.json().await.unwrap();
    let secret = request["request"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 64);
    // Before the link is opened there is no code to guess.
    assert_error(
        exchange(&app, &secret, "AAAAAAAA").await,
        403,
        "invalid_sign_in_code",
    )
    .await;
    app.drain_outbox().await;
    let mails = smtp.to("ann@example.com");
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].text().contains("30 minutes"),
        "{}",
        mails[0].text()
    );
    let link = mails[0].link("/mail/signin/").unwrap();
    // Opening the link only shows a button (a mail scanner spends nothing).
    let shown = app.page_text(&link).await;
    assert!(!shown.contains("id=\"code\""));
    let code = open_link(&app, &link).await.unwrap();
    assert_eq!(code.len(), 8);
    // The link works once.
    let (status, page) = open_link(&app, &link).await.unwrap_err();
    assert_eq!(status, 410, "{page}");
    assert!(page.contains("already used"), "{page}");
    // The code alone, with another browser's secret, is refused.
    let other: Value = ask_link(&app, "mallory@example.com", "M")
        .await
        .json()
        .await
        .unwrap();
    assert_error(
        exchange(&app, other["request"].as_str().unwrap(), &code).await,
        403,
        "invalid_sign_in_code",
    )
    .await;
    // The asking browser gets a session; lower case and a dash are fine.
    let typed = format!("{}-{}", &code[..4], &code[4..]).to_lowercase();
    let response = exchange(&app, &secret, &typed).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["reader"]["name"], "Ann Lee");
    assert_eq!(body["reader"]["provider"], "email");
    assert!(!body.to_string().contains("ann@example.com"), "{body}");
    let token = body["token"].as_str().unwrap();
    assert_eq!(whoami(&app, token).await.status(), 200);
    // The code is spent with the request.
    assert_error(
        exchange(&app, &secret, &code).await,
        403,
        "invalid_sign_in_code",
    )
    .await;
}

/// The link's page, once its button is pressed, links back to the page that asked, with the
/// code in the fragment (the embed there exchanges it with the secret it kept); the code is
/// still shown for another device. A page on another origin than the asking one is refused.
async fn email_link_leads_back_to_the_asking_page_with_the_code(db: Db) {
    let (app, smtp) = mail_app(db).await;
    let page = format!("{ORIGIN}/posts/hello/?p=1");
    let body = json!({ "email": "pia@example.com", "name": "Pia", "origin": ORIGIN,
        "page": format!("{page}#comments") });
    let asked = app.api_call(Method::POST, "/auth/email", Some(&body)).await;
    assert_eq!(asked.status(), 202);
    let secret = asked.json::<Value>().await.unwrap()["request"]
        .as_str()
        .unwrap()
        .to_string();
    app.drain_outbox().await;
    let link = smtp.to("pia@example.com")[0].link("/mail/signin/").unwrap();
    let opened = app.client.post(&link).send().await.unwrap();
    assert_eq!(opened.status(), 200);
    let html = opened.text().await.unwrap();
    let code = html
        .split("id=\"code\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_else(|| panic!("no code on {html}"));
    let back = format!(
        "<a class=\"back\" href=\"{}#kith-signin={code}\">",
        page.replace('&', "&amp;")
    );
    assert!(html.contains(&back), "{back} not on {html}");
    assert!(html.contains("another device"), "{html}");
    let response = exchange(&app, &secret, code).await;
    assert_eq!(response.status(), 200);

    // Without a page (an older embed, a program) only the code is shown, to type.
    let (_, link) = mailed_link(&app, &smtp, "quinn@example.com", "Quinn").await;
    let opened = app.post_page_text(&link).await;
    assert!(!opened.contains("class=\"back\""), "{opened}");
    assert!(opened.contains("id=\"code\""), "{opened}");

    for page in [
        "https://evil.example/phish",
        "http://localhost:4000.evil.example/",
        "javascript:alert(1)",
        "/relative/",
    ] {
        let body =
            json!({ "email": "pia@example.com", "name": "Pia", "origin": ORIGIN, "page": page });
        let refused = app.api_call(Method::POST, "/auth/email", Some(&body)).await;
        let error = assert_error(refused, 422, "invalid_field").await;
        assert_eq!(error["field"], "page", "{page}: {error}");
    }
}

async fn email_link_expired_or_forged_is_refused(db: Db) {
    let (app, smtp) = mail_app(db).await;
    let (secret, link) = mailed_link(&app, &smtp, "ann@example.com", "Ann").await;
    // A link signed by another server's key.
    let forged = kith::notify::links::Link::SignIn {
        request: 1,
        expires: chrono::Utc::now().timestamp() + 600,
        nonce: "n".into(),
    }
    .sign(&kith::state::Keys::new(vec![0x42; 32]).unwrap());
    let (status, _) = open_link(&app, &format!("{}/mail/signin/{forged}", app.address))
        .await
        .unwrap_err();
    assert_eq!(status, 403);
    // The request expires (its link with it).
    service::blocking(&app.state, |_, conn| {
        use diesel::RunQueryDsl;
        diesel::sql_query("UPDATE reader_signin_requests SET expires_at = created_at")
            .execute(conn)?;
        Ok(())
    })
    .await
    .unwrap();
    let (status, page) = open_link(&app, &link).await.unwrap_err();
    assert_eq!(status, 410, "{page}");
    assert!(page.contains("expired"), "{page}");
    assert_error(
        exchange(&app, &secret, "AAAAAAAA").await,
        403,
        "invalid_sign_in_code",
    )
    .await;
}

async fn email_sign_in_reveals_nothing_and_mails_no_banned_address(db: Db) {
    let (app, smtp) = mail_app(db).await;
    ban(&app, "email", "troll@example.com").await;
    let fine = ask_link(&app, "fine@example.com", "F").await;
    let banned = ask_link(&app, "troll@example.com", "T").await;
    assert_eq!(fine.status(), 202);
    assert_eq!(banned.status(), 202);
    let (fine, banned): (Value, Value) = (fine.json().await.unwrap(), banned.json().await.unwrap());
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&fine), keys(&banned));
    // Asking over and over sends at most three mails to one inbox.
    for _ in 0..4 {
        assert_eq!(ask_link(&app, "fine@example.com", "F").await.status(), 202);
    }
    app.drain_outbox().await;
    assert_eq!(smtp.to("troll@example.com").len(), 0);
    assert_eq!(smtp.to("fine@example.com").len(), 3);
    // A page on an origin the site does not allow may not ask.
    let body = json!({ "email": "a@example.com", "origin": "https://evil.example" });
    let response = app.api_call(Method::POST, "/auth/email", Some(&body)).await;
    assert_error(response, 403, "origin_not_allowed").await;
    // Not offered: refused before anything is stored.
    offer(&app, &[]).await;
    assert_error(
        ask_link(&app, "fine@example.com", "F").await,
        403,
        "sign_in_not_offered",
    )
    .await;
}

async fn wrong_codes_end_the_request(db: Db) {
    let (app, smtp) = mail_app(db).await;
    let (secret, link) = mailed_link(&app, &smtp, "ann@example.com", "Ann").await;
    let secret = secret.as_str();
    let code = open_link(&app, &link).await.unwrap();
    for _ in 0..5 {
        assert_error(
            exchange(&app, secret, "WRONG234").await,
            403,
            "invalid_sign_in_code",
        )
        .await;
    }
    // After five wrong codes the right one no longer works.
    assert_error(
        exchange(&app, secret, &code).await,
        403,
        "invalid_sign_in_code",
    )
    .await;
}

fn post_body(key: &str, author: &str, email: &str, text: &str) -> Value {
    json!({ "thread_key": key, "author": author, "email": email, "body": text })
}

async fn post_as(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.api_call_as(Method::POST, "/comments", token, Some(body))
        .await
}

async fn signed_in_post_has_locked_name_verified_mark_and_no_address_anywhere(db: Db) {
    let (app, smtp) = mail_app(db).await;
    let token = sign_in_by_mail(&app, &smtp, "ann@example.com", "Ann").await;
    let response = post_as(
        &app,
        &token,
        &post_body("/p/", "Mallory", "mallory@evil.example", "Hello"),
    )
    .await;
    assert_eq!(response.status(), 201);
    let posted: Value = response.json().await.unwrap();
    assert_eq!(
        posted["comment"]["author"], "Ann",
        "the form's name is ignored"
    );
    assert_eq!(posted["comment"]["verified"], true);
    assert_eq!(posted["comment"]["provider"], "email");
    let anonymous = app.post_ok("/p/", "Bob", "Hi", None).await;
    assert!(anonymous["comment"].get("verified").is_none());
    let thread = app.thread("/p/").await;
    let ann = &thread["comments"][0];
    assert_eq!(ann["author"], "Ann");
    assert_eq!(ann["verified"], true);
    assert_eq!(ann["provider"], "email");
    assert!(thread["comments"][1].get("verified").is_none());
    let html = app
        .api_call(Method::GET, "/thread.html?key=/p/", None)
        .await
        .text()
        .await
        .unwrap();
    for public in [thread.to_string(), posted.to_string(), html] {
        assert!(
            !public.contains("ann@example.com") && !public.contains("mallory"),
            "{public}"
        );
    }
    // The stored comment carries the reader and the reader's address (for notifications).
    let id = kith::domain::comment::CommentId(posted["comment"]["id"].as_i64().unwrap());
    let stored = service::blocking(&app.state, move |_, conn| {
        kith::db::comments::find(conn, id)
    })
    .await
    .unwrap()
    .unwrap();
    assert!(stored.reader_id.is_some());
    assert_eq!(stored.email.as_deref(), Some("ann@example.com"));
    // An ended session is refused, never silently anonymous.
    app.api_call_as(Method::DELETE, "/auth/session", &token, None)
        .await;
    assert_error(
        post_as(&app, &token, &post_body("/p/", "Ann", "", "Again")).await,
        401,
        "session_expired",
    )
    .await;
}

async fn signed_in_reader_edits_and_deletes_within_their_window(db: Db) {
    let (app, smtp) = mail_app(db).await;
    app.set_settings(|s| s.edit_window_secs = 0).await;
    let token = sign_in_by_mail(&app, &smtp, "ann@example.com", "Ann").await;
    let other = sign_in_by_mail(&app, &smtp, "bob@example.com", "Bob").await;
    let posted: Value = post_as(&app, &token, &post_body("/p/", "", "", "First"))
        .await
        .json()
        .await
        .unwrap();
    let id = posted["comment"]["id"].as_i64().unwrap();
    assert!(
        posted["editable_until"]
            .as_str()
            .unwrap()
            .starts_with("9999-"),
        "{posted}"
    );
    let edit = |token: String, text: &'static str| {
        let app = &app;
        async move {
            let path = format!("/comments/{id}");
            let body = json!({ "body": text });
            app.api_call_as(Method::PATCH, &path, &token, Some(&body))
                .await
        }
    };
    // The anonymous window is closed (0 s), yet the signed-in author may edit: 0 means always.
    let response = edit(token.clone(), "Edited").await;
    assert_eq!(response.status(), 200);
    let source = app
        .api_call_as(Method::GET, &format!("/comments/{id}/source"), &token, None)
        .await;
    assert_eq!(source.json::<Value>().await.unwrap()["body"], "Edited");
    // Another reader may not; nor may nobody.
    assert_error(
        edit(other.clone(), "Hijacked").await,
        403,
        "invalid_edit_token",
    )
    .await;
    let response = app
        .api_call(
            Method::PATCH,
            &format!("/comments/{id}"),
            Some(&json!({ "body": "x" })),
        )
        .await;
    assert_error(response, 403, "invalid_edit_token").await;
    // A limited window closes.
    app.set_settings(|s| s.signed_in_edit_secs = 60).await;
    service::blocking(&app.state, move |_, conn| {
        use diesel::RunQueryDsl;
        diesel::sql_query(format!(
            "UPDATE comments SET created_at = '2020-01-01 00:00:00' WHERE id = {id}"
        ))
        .execute(conn)?;
        Ok(())
    })
    .await
    .unwrap();
    assert_error(edit(token.clone(), "Late").await, 403, "edit_window_closed").await;
    app.set_settings(|s| s.signed_in_edit_secs = 0).await;
    let deleted = app
        .api_call_as(Method::DELETE, &format!("/comments/{id}"), &token, None)
        .await;
    assert_eq!(deleted.status(), 200);
    assert_eq!(app.thread("/p/").await["total"], 0);
}

async fn anonymous_allowed_false_requires_sign_in(db: Db) {
    let (app, smtp) = mail_app(db).await;
    app.set_settings(|s| s.anonymous_allowed = false).await;
    let settings: Value = app.settings().await;
    assert_eq!(settings["signin"]["anonymous_allowed"], false);
    assert_eq!(settings["signin"]["email"], true);
    let response = app
        .post_comment(&post_body("/p/", "Bob", "bob@example.com", "Hi"))
        .await;
    assert_error(response, 403, "sign_in_required").await;
    let token = sign_in_by_mail(&app, &smtp, "ann@example.com", "Ann").await;
    assert_eq!(
        post_as(&app, &token, &post_body("/p/", "", "", "Hi"))
            .await
            .status(),
        201
    );
}

async fn signed_in_readers_skip_first_time_moderation_when_the_site_says_so(db: Db) {
    let (app, smtp) = mail_app(db).await;
    app.set_settings(|s| s.moderation = kith::domain::site::ModerationMode::FirstTime)
        .await;
    let token = sign_in_by_mail(&app, &smtp, "ann@example.com", "Ann").await;
    let held: Value = post_as(&app, &token, &post_body("/a/", "", "", "One"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(held["comment"]["status"], "pending");
    app.set_settings(|s| s.signed_in_skip_moderation = true)
        .await;
    let token = sign_in_by_mail(&app, &smtp, "new@example.com", "New").await;
    let published: Value = post_as(&app, &token, &post_body("/b/", "", "", "Two"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(published["comment"]["status"], "approved");
    // Anonymous first comments are still held.
    let anonymous: Value = app
        .post_comment(&post_body("/c/", "Bob", "bob@example.com", "Three"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(anonymous["comment"]["status"], "pending");
}

async fn banned_signed_in_reader_cannot_post(db: Db) {
    let (app, smtp) = mail_app(db).await;
    let token = sign_in_by_mail(&app, &smtp, "troll@example.com", "Troll").await;
    assert_eq!(
        post_as(&app, &token, &post_body("/p/", "", "", "ok"))
            .await
            .status(),
        201
    );
    ban(&app, "reader", "email:troll@example.com").await;
    assert_error(
        post_as(&app, &token, &post_body("/p/", "", "", "no")).await,
        403,
        "reader_banned",
    )
    .await;
    // Nor sign in again: the link request answers as always but no mail goes out.
    let before = smtp.to("troll@example.com").len();
    assert_eq!(ask_link(&app, "troll@example.com", "T").await.status(), 202);
    app.drain_outbox().await;
    assert_eq!(smtp.to("troll@example.com").len(), before);
}

async fn manage_list_shows_only_the_readers_comments_on_the_site(db: Db) {
    let (app, smtp) = mail_app(db).await;
    let token = sign_in_by_mail(&app, &smtp, "ann@example.com", "Ann").await;
    post_as(&app, &token, &post_body("/a/", "", "", "Mine one")).await;
    post_as(&app, &token, &post_body("/b/", "", "", "Mine two")).await;
    // Anonymous comments with the same address are not the reader's (no proof they wrote them).
    app.post_comment(&post_body("/a/", "Ann", "ann@example.com", "Not signed in"))
        .await;
    let response = app
        .api_call_as(Method::GET, "/auth/comments", &token, None)
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let list = body["comments"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{body}");
    assert_eq!(list[0]["thread_key"], "/a/");
    assert!(list[0]["html"].as_str().unwrap().contains("Mine one"));
    assert!(
        list[0]["editable_until"]
            .as_str()
            .unwrap()
            .starts_with("9999-")
    );
    let response = app.api_call(Method::GET, "/auth/comments", None).await;
    assert_error(response, 401, "session_expired").await;
}

async fn the_admin_sees_how_each_author_was_identified(db: Db) {
    let (app, smtp) = mail_app(db).await;
    offer(&app, &["email", "github"]).await;
    let by_mail = sign_in_by_mail(&app, &smtp, "ann@example.com", "Ann").await;
    let (_, by_github) = sign_in(&app, identity("github", "583231", None, false, "Octo"))
        .await
        .unwrap();
    let mail: Value = post_as(&app, &by_mail, &post_body("/p/", "", "", "by mail"))
        .await
        .json()
        .await
        .unwrap();
    let github: Value = post_as(&app, &by_github, &post_body("/p/", "", "", "by github"))
        .await
        .json()
        .await
        .unwrap();
    let anonymous = app.post_ok("/p/", "Bob", "anonymous", None).await;
    let admin = crate::admin_support::Admin::login(&app).await;
    let shown = |posted: &Value| posted["comment"]["id"].as_i64().unwrap();
    let mail_row = admin.get(&format!("/comments/{}", shown(&mail))).await;
    assert_eq!(mail_row["identified"], "email-link");
    assert_eq!(mail_row["identified_as"], "signed in by e-mail link");
    assert_eq!(mail_row["reader"], "email:ann@example.com");
    let github_row = admin.get(&format!("/comments/{}", shown(&github))).await;
    assert_eq!(github_row["identified_as"], "signed in with GitHub");
    assert_eq!(github_row["signed_in_with"], "github");
    assert_eq!(github_row["reader"], "github:583231");
    let anonymous_row = admin.get(&format!("/comments/{}", shown(&anonymous))).await;
    assert_eq!(anonymous_row["identified"], "anonymous");
    // The queue page says the same in words, with the identity to ban.
    let (status, page) = admin.page("/admin/comments?status=approved").await;
    assert_eq!(status, 200);
    for words in [
        "signed in by e-mail link",
        "signed in with GitHub",
        "github:583231",
        "anonymous",
    ] {
        assert!(page.contains(words), "{words} on the queue page");
    }
    let (_, page) = admin
        .page(&format!("/admin/comments/{}", shown(&github)))
        .await;
    assert!(page.contains("signed in with GitHub"), "the comment page");
    // A ban by identity from the admin API stops that reader.
    admin
        .post(
            "/bans",
            json!({ "kind": "reader", "value": "github:583231" }),
        )
        .await;
    assert_error(
        post_as(&app, &by_github, &post_body("/p/", "", "", "again")).await,
        403,
        "reader_banned",
    )
    .await;
}

/// `ask_link` from the client address `ip`.
async fn ask_link_from(app: &TestApp, ip: &str, email: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/auth/email", app.api))
        .header("x-forwarded-for", ip)
        .json(&json!({ "email": email, "name": "N", "origin": ORIGIN }))
        .send()
        .await
        .unwrap()
}

async fn email_sign_in_is_limited_per_address_and_per_client_address(db: Db) {
    let smtp = SmtpServer::start().await;
    let port = smtp.port;
    // The default mail quota (2 a minute, a burst of 3) per client address; its network's
    // quota made large so that only the address's is seen.
    let app = spawn_app_with(db, move |config| {
        mail_config(config, port);
        config.rate_limits.prefix_multiplier = 100;
    })
    .await;
    offer(&app, &["email"]).await;
    for email in ["a@example.com", "b@example.com", "c@example.com"] {
        assert_eq!(ask_link_from(&app, "192.0.2.1", email).await.status(), 202);
    }
    let limited = ask_link_from(&app, "192.0.2.1", "d@example.com").await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_error(limited, 429, "rate_limited").await;
    // Per inbox: readers at four addresses asking for one address get three mails sent.
    for n in 2..=5 {
        let ip = format!("192.0.2.{n}");
        assert_eq!(
            ask_link_from(&app, &ip, "e@example.com").await.status(),
            202
        );
    }
    app.drain_outbox().await;
    assert_eq!(smtp.to("e@example.com").len(), 3);
    assert_eq!(smtp.to("d@example.com").len(), 0);
    assert_eq!(smtp.to("a@example.com").len(), 1);
}

/// A site offering GitHub sign-in; GitHub's authorize URL is fixed, so starting a sign-in
/// needs no provider to be running.
async fn github_app(db: Db, quota: kith::spam::limiter::Quota) -> TestApp {
    let app = spawn_app_with(db, move |config| {
        config.signin.providers = vec![kith::config::SigninProvider {
            id: "github".into(),
            label: "GitHub".into(),
            kind: kith::config::ProviderKind::Github,
            client_id: "kith-test".into(),
            client_secret: "kith-test-secret".into(),
            authorize_url: "http://127.0.0.1:9/login/oauth/authorize".into(),
            ..kith::config::SigninProvider::default()
        }];
        config.rate_limits.signin = quota;
        config.rate_limits.prefix_multiplier = 100;
    })
    .await;
    offer(&app, &["email", "github"]).await;
    app
}

async fn start_github(app: &TestApp, ip: &str, accept: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!(
            "{}/auth/oidc/github/start?origin={ORIGIN}",
            app.api
        ))
        .header("x-forwarded-for", ip)
        .header("accept", accept)
        .send()
        .await
        .unwrap()
}

fn count_rows(app: &TestApp, table: &'static str) -> i64 {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.state.pool.get().unwrap();
    diesel::sql_query(format!("SELECT CAST(count(*) AS BIGINT) AS n FROM {table}"))
        .get_result::<Count>(&mut conn)
        .unwrap()
        .n
}

async fn starting_a_provider_sign_in_is_rate_limited_per_client_address(db: Db) {
    let app = github_app(db, kith::spam::limiter::Quota::new(1, 3)).await;
    for _ in 0..3 {
        let started = start_github(&app, "192.0.2.1", "application/json").await;
        assert_eq!(started.status(), 303);
    }
    assert_eq!(count_rows(&app, "oidc_flows"), 3, "one flow per start");
    // The fourth start from the address stores nothing: a JSON error for a program, a page
    // for the reader's popup.
    let limited = start_github(&app, "192.0.2.1", "application/json").await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_error(limited, 429, "rate_limited").await;
    let page = start_github(&app, "192.0.2.1", "text/html").await;
    assert_eq!(page.status(), 429);
    let html = page.text().await.unwrap();
    assert!(html.contains("data-error=\"rate_limited\""), "{html}");
    assert_eq!(count_rows(&app, "oidc_flows"), 3);
    // Another reader is not held up.
    assert_eq!(
        start_github(&app, "192.0.2.2", "text/html").await.status(),
        303
    );
    assert_eq!(count_rows(&app, "oidc_flows"), 4);
}

async fn expired_sign_in_rows_are_swept_every_minute(db: Db) {
    use diesel::RunQueryDsl;
    let app = github_app(db, kith::spam::limiter::Quota::new(1_000_000, 1_000_000)).await;
    for _ in 0..2 {
        assert_eq!(
            start_github(&app, "192.0.2.1", "text/html").await.status(),
            303
        );
    }
    let (gone, _) = sign_in(&app, identity("email", "gone@example.com", None, true, "G"))
        .await
        .unwrap();
    let (_, kept) = sign_in(&app, identity("email", "kept@example.com", None, true, "K"))
        .await
        .unwrap();
    service::blocking(&app.state, move |_, conn| {
        diesel::sql_query(
            "UPDATE oidc_flows SET expires_at = created_at WHERE state_hash = \
             (SELECT min(state_hash) FROM oidc_flows)",
        )
        .execute(conn)?;
        kith::db::readers::update_session_expiry(
            conn,
            gone,
            (chrono::Utc::now() - chrono::Duration::minutes(1)).naive_utc(),
        )?;
        diesel::sql_query(
            "INSERT INTO reader_signin_requests (site_id, email, display_name, origin, \
             browser_hash, code_hash, failures, created_at, expires_at) VALUES \
             (1, 'old@example.com', 'Old', 'http://localhost:4000', 'browser-old', NULL, 0, \
              '2020-01-01 10:00:00', '2020-01-01 10:30:00'), \
             (1, 'new@example.com', 'New', 'http://localhost:4000', 'browser-new', NULL, 0, \
              '2020-01-01 10:00:00', '2999-01-01 10:30:00')",
        )
        .execute(conn)?;
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(count_rows(&app, "oidc_flows"), 2);
    assert_eq!(count_rows(&app, "reader_sessions"), 2);
    assert_eq!(count_rows(&app, "reader_signin_requests"), 2);
    // Nobody signs in: the server's minute chore drops the expired rows all the same.
    let swept = service::blocking(&app.state, kith::startup::minute_sweep)
        .await
        .unwrap();
    assert!(swept >= 3, "{swept}");
    assert_eq!(count_rows(&app, "oidc_flows"), 1);
    assert_eq!(count_rows(&app, "reader_sessions"), 1);
    assert_eq!(count_rows(&app, "reader_signin_requests"), 1);
    assert_eq!(whoami(&app, &kept).await.status(), 200);
    let again = service::blocking(&app.state, kith::startup::minute_sweep)
        .await
        .unwrap();
    assert_eq!(again, 0, "nothing more to sweep");
}

/// Sets the reader's `last_seen_at`.
async fn set_last_seen(app: &TestApp, reader: ReaderId, at: chrono::DateTime<chrono::Utc>) {
    use diesel::RunQueryDsl;
    service::blocking(&app.state, move |_, conn| {
        diesel::sql_query("UPDATE readers SET last_seen_at = $1 WHERE id = $2")
            .bind::<diesel::sql_types::Timestamp, _>(at.naive_utc())
            .bind::<diesel::sql_types::BigInt, _>(reader.0)
            .execute(conn)?;
        Ok(())
    })
    .await
    .unwrap();
}

async fn last_seen(app: &TestApp, reader: ReaderId) -> chrono::DateTime<chrono::Utc> {
    service::blocking(&app.state, move |_, conn| {
        kith::db::readers::find(conn, reader)
    })
    .await
    .unwrap()
    .unwrap()
    .last_seen_at
}

async fn using_a_session_marks_the_reader_seen_at_most_every_quarter_hour(db: Db) {
    let app = spawn_app_with(db, |_| {}).await;
    offer(&app, &["email"]).await;
    let (reader, token) = sign_in(
        &app,
        identity("email", "ann@example.com", None, true, "Ann"),
    )
    .await
    .unwrap();
    // Seen an hour ago: the next request with the session records now.
    let hour_ago = kith::service::now() - chrono::Duration::hours(1);
    set_last_seen(&app, reader, hour_ago).await;
    let before = kith::service::now();
    assert_eq!(whoami(&app, &token).await.status(), 200);
    let seen = last_seen(&app, reader).await;
    assert!(
        seen >= before && seen <= kith::service::now(),
        "{seen} vs {before}"
    );
    // Seen ten minutes ago: requests within the quarter hour write nothing.
    let recent = kith::service::now() - chrono::Duration::minutes(10);
    set_last_seen(&app, reader, recent).await;
    for _ in 0..3 {
        assert_eq!(whoami(&app, &token).await.status(), 200);
    }
    let posted = post_as(&app, &token, &post_body("/seen/", "", "", "hello")).await;
    assert_eq!(posted.status(), 201);
    assert_eq!(last_seen(&app, reader).await, recent);
    // Sixteen minutes ago: written again.
    set_last_seen(
        &app,
        reader,
        kith::service::now() - chrono::Duration::minutes(16),
    )
    .await;
    let before = kith::service::now();
    assert_eq!(whoami(&app, &token).await.status(), 200);
    assert!(last_seen(&app, reader).await >= before);
}
