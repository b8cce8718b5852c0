//! Delivery against the test SMTP server offering what real ones do: STARTTLS and implicit
//! TLS (a self-signed certificate trusted through `mail.ca_file`), AUTH, and 4xx and 5xx
//! replies (a 4xx is retried, a 5xx gives the mail up at once).

use serde_json::json;

use crate::helpers::{Db, TestApp, mail_config, spawn_app_with};
use crate::smtp::{Options, SmtpServer, TestCert, TlsMode};
use kith::config::{Config, OwnerNotifications, SmtpSecurity};

crate::each_on_both_backends!(
    delivery_starttls_with_login,
    delivery_implicit_tls,
    delivery_refuses_a_certificate_it_does_not_trust,
    delivery_wrong_password_is_kept_for_a_retry,
    delivery_4xx_reply_is_retried_and_sent_later,
    delivery_5xx_reply_gives_the_mail_up_at_once,
);

const USER: &str = "kith";
const PASSWORD: &str = "s3cret password";

/// An app whose owner hears about every comment, sending to `smtp`.
async fn app_for(
    db: Db,
    smtp: &SmtpServer,
    adjust: impl FnOnce(&mut Config) + Send + 'static,
) -> TestApp {
    let port = smtp.port;
    spawn_app_with(db, move |config| {
        mail_config(config, port);
        config.mail.owner_notifications = OwnerNotifications::All;
        adjust(config);
    })
    .await
}

async fn post(app: &TestApp, body: &str) {
    app.post_json_ok(json!({
        "thread_key": "/post/", "author": "Ann", "email": "ann@example.com", "body": body,
    }))
    .await;
}

async fn outbox(app: &TestApp) -> Vec<kith::db::mail::OutboxRow> {
    kith::service::blocking(&app.state, |_, conn| kith::db::mail::list_outbox(conn))
        .await
        .unwrap()
}

async fn delivery_starttls_with_login(db: Db) {
    let cert = TestCert::new();
    let dir = tempfile::tempdir().unwrap();
    let ca = cert.write_pem(dir.path());
    let options = Options {
        tls: Some(TlsMode::Starttls),
        auth: Some((USER.into(), PASSWORD.into())),
    };
    let smtp = SmtpServer::start_with(options, Some(&cert)).await;
    let app = app_for(db, &smtp, move |c| {
        c.mail.security = SmtpSecurity::Starttls;
        c.mail.ca_file = ca;
        c.mail.username = USER.into();
        c.mail.password = PASSWORD.into();
    })
    .await;
    post(&app, "Over STARTTLS").await;
    assert_eq!(app.drain_outbox().await, 1);
    let mails = smtp.wait_for(1).await;
    assert!(mails[0].text().contains("Over STARTTLS"));
    assert_eq!(mails[0].to, vec!["owner@blog.example".to_string()]);
    assert!(smtp.tls_sessions() >= 1, "the connection was upgraded");
    assert!(smtp.logins() >= 1, "the mailer logged in");
}

async fn delivery_implicit_tls(db: Db) {
    let cert = TestCert::new();
    let dir = tempfile::tempdir().unwrap();
    let ca = cert.write_pem(dir.path());
    let options = Options {
        tls: Some(TlsMode::Implicit),
        auth: Some((USER.into(), PASSWORD.into())),
    };
    let smtp = SmtpServer::start_with(options, Some(&cert)).await;
    let app = app_for(db, &smtp, move |c| {
        c.mail.security = SmtpSecurity::Tls;
        c.mail.ca_file = ca;
        c.mail.username = USER.into();
        c.mail.password = PASSWORD.into();
    })
    .await;
    post(&app, "Over implicit TLS").await;
    app.drain_outbox().await;
    let mails = smtp.wait_for(1).await;
    assert!(mails[0].text().contains("Over implicit TLS"));
    assert!(smtp.tls_sessions() >= 1);
    assert!(smtp.logins() >= 1);
}

async fn delivery_refuses_a_certificate_it_does_not_trust(db: Db) {
    let cert = TestCert::new();
    let options = Options {
        tls: Some(TlsMode::Starttls),
        auth: None,
    };
    let smtp = SmtpServer::start_with(options, Some(&cert)).await;
    // No `ca_file`: the self-signed certificate is not trusted, so nothing is sent in clear
    // or to an impostor; the mail waits for a retry.
    let app = app_for(db, &smtp, |c| c.mail.security = SmtpSecurity::Starttls).await;
    post(&app, "Not to an impostor").await;
    assert_eq!(app.outbox_step().await, 1);
    assert!(smtp.messages().is_empty());
    let rows = outbox(&app).await;
    assert_eq!(rows[0].status, "pending");
    let error = rows[0].last_error.clone().unwrap_or_default();
    assert!(error.to_lowercase().contains("certificate"), "{error}");
}

async fn delivery_wrong_password_is_kept_for_a_retry(db: Db) {
    let options = Options {
        tls: None,
        auth: Some((USER.into(), PASSWORD.into())),
    };
    let smtp = SmtpServer::start_with(options, None).await;
    let app = app_for(db, &smtp, |c| {
        c.mail.username = USER.into();
        c.mail.password = "wrong".into();
    })
    .await;
    post(&app, "Wrong password").await;
    assert_eq!(app.outbox_step().await, 1);
    assert!(smtp.messages().is_empty());
    assert_eq!(smtp.logins(), 0);
    let rows = outbox(&app).await;
    assert_eq!(rows[0].status, "pending", "{rows:#?}");
    assert_eq!(rows[0].attempts, 1);
    assert!(
        rows[0]
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("535")
    );
}

async fn delivery_4xx_reply_is_retried_and_sent_later(db: Db) {
    let smtp = SmtpServer::start().await;
    let app = app_for(db, &smtp, |_| {}).await;
    smtp.set_data_reply(Some("451 4.3.0 local problem, try again later"));
    post(&app, "Greylisted").await;
    assert_eq!(app.outbox_step().await, 1);
    let rows = outbox(&app).await;
    assert_eq!(rows[0].status, "pending");
    assert_eq!(rows[0].attempts, 1);
    assert!(
        rows[0]
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("451")
    );
    smtp.set_data_reply(None);
    app.drain_outbox().await;
    let mails = smtp.wait_for(1).await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].text().contains("Greylisted"));
    assert_eq!(outbox(&app).await[0].status, "sent");
}

async fn delivery_5xx_reply_gives_the_mail_up_at_once(db: Db) {
    let smtp = SmtpServer::start().await;
    let app = app_for(db, &smtp, |_| {}).await;
    smtp.set_data_reply(Some("550 5.1.1 mailbox unavailable"));
    post(&app, "Refused for good").await;
    assert_eq!(app.drain_outbox().await, 1, "one attempt, not max_attempts");
    let failed =
        kith::service::blocking(&app.state, |_, conn| kith::db::mail::list_failed(conn, 50))
            .await
            .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].attempts, 1);
    assert!(
        failed[0]
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("550")
    );
    assert!(smtp.messages().is_empty());
}

#[test]
fn delivery_ca_file_must_hold_a_certificate() {
    let base = "[mail]\nsmtp_host = \"smtp.example.com\"\nfrom = \"c@example.com\"\n";
    let err = Config::from_toml(&format!("{base}ca_file = \"/no/such/file.pem\"\n"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("mail.ca_file"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("x.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let err = Config::from_toml(&format!("{base}ca_file = \"{}\"\n", not_pem.display()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no PEM certificate"), "{err}");
    let cert = TestCert::new();
    let ca = cert.write_pem(dir.path());
    let config = Config::from_toml(&format!("{base}ca_file = \"{ca}\"\n")).unwrap();
    assert_eq!(config.mail.ca_file, ca);
}
