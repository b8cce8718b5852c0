//! The spam defences, layer by layer, through the real API.

use std::time::Duration;

use kith::spam::{bayes, form_token, pow};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Db, TestApp, assert_error, spawn_app_with};

fn comment(body: &str) -> Value {
    json!({"thread_key": "/p/", "author": "Ann", "email": "ann@example.com", "body": body})
}

async fn post_from(app: &TestApp, ip: &str, body: Value) -> reqwest::Response {
    app.client
        .post(format!("{}/comments", app.api))
        .header("x-forwarded-for", ip)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The stored status of a comment (the API shows spam to its sender as pending).
async fn stored_status(app: &TestApp, id: i64) -> String {
    kith::service::blocking(&app.state, move |_, conn| {
        Ok(kith::db::comments::find(conn, kith::domain::comment::CommentId(id))?.unwrap())
    })
    .await
    .unwrap()
    .status
    .as_str()
    .to_string()
}

async fn site_id(app: &TestApp) -> i64 {
    kith::service::blocking(&app.state, |state, conn| {
        Ok(kith::service::sites::find(state, conn, "default")?.id.0)
    })
    .await
    .unwrap()
}

async fn strict_limits(db: Db, trust_loopback: bool) -> TestApp {
    spawn_app_with(db, |config| {
        config.rate_limits = Default::default();
        config.server.trusted_proxies = if trust_loopback {
            vec!["127.0.0.1".into()]
        } else {
            Vec::new()
        };
    })
    .await
}

#[actix_web::test]
async fn a_flood_from_one_ip_is_held_to_its_quota_while_another_ip_still_posts() {
    let app = strict_limits(Db::Sqlite, true).await;
    let mut created = 0;
    let mut limited = None;
    for i in 0..6 {
        let response = post_from(&app, "203.0.113.7", comment(&format!("flood {i}"))).await;
        match response.status().as_u16() {
            201 => created += 1,
            429 => {
                limited = Some(
                    response.headers()["retry-after"]
                        .to_str()
                        .unwrap()
                        .parse::<u64>()
                        .unwrap(),
                );
                assert_error(response, 429, "rate_limited").await;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(created, 3, "the burst of the default post quota");
    assert!(
        limited.is_some_and(|secs| secs >= 1),
        "429 with Retry-After"
    );
    let other = post_from(&app, "198.51.100.9", comment("from elsewhere")).await;
    assert_eq!(other.status(), 201);
}

#[actix_web::test]
async fn spoofed_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = strict_limits(Db::Sqlite, false).await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        let ip = format!("192.0.2.{i}");
        statuses.push(
            post_from(&app, &ip, comment(&format!("spoof {i}")))
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(
        statuses,
        vec![201, 201, 201, 429, 429],
        "all counted as the real peer"
    );
    let thread = app.thread("/p/").await;
    assert_eq!(thread["total"], 3);
}

both_backends! {
    async fn honeypot_filled_goes_to_spam_without_saying_so(app: TestApp) {
        let mut body = comment("I am definitely a person");
        body["hp"] = json!("http://spam.example");
        let response = app.post_comment(&body).await;
        assert_eq!(response.status(), 201);
        let posted: Value = response.json().await.unwrap();
        assert_eq!(posted["comment"]["status"], "pending", "the bot is not told");
        let id = posted["comment"]["id"].as_i64().unwrap();
        assert_eq!(stored_status(&app, id).await, "spam");
        assert_eq!(app.get_thread("key=/p/").await.json::<Value>().await.unwrap()["total"], 0);
    }

    async fn form_token_must_be_genuine_aged_and_fresh(app: TestApp) {
        app.set_settings(|s| s.require_form_token = true).await;
        let key = app.state.keys.clone();
        let site = site_id(&app).await;
        let now = chrono::Utc::now();
        let cases = [
            (None, "pending"),
            (Some("garbage".to_string()), "pending"),
            (Some(form_token::issue(&key, site + 1, now - chrono::Duration::seconds(10))), "pending"),
            (Some(form_token::issue(&kith::secrets::Keys::new(vec![1; 32]).unwrap(), site, now - chrono::Duration::seconds(10))), "pending"),
            (Some(form_token::issue(&key, site, now)), "pending"),
            (Some(form_token::issue(&key, site, now - chrono::Duration::days(2))), "pending"),
            (Some(form_token::issue(&key, site, now - chrono::Duration::seconds(10))), "approved"),
        ];
        for (i, (token, expected)) in cases.into_iter().enumerate() {
            let mut body = comment(&format!("token case {i}"));
            body["form_token"] = json!(token);
            let posted: Value = app.post_comment(&body).await.json().await.unwrap();
            assert_eq!(posted["comment"]["status"], expected, "case {i}: {posted}");
        }
        let settings: Value = app.client.get(format!("{}/settings", app.api)).send().await.unwrap().json().await.unwrap();
        let issued = settings["form_token"].as_str().unwrap();
        assert!(form_token::verify(&key, site, issued, chrono::Utc::now(), Duration::ZERO, Duration::from_secs(60)).is_ok());
    }

    async fn the_same_text_twice_is_refused(app: TestApp) {
        app.set_settings(|s| s.duplicate_window_secs = 3600).await;
        let text = "This is a perfectly ordinary comment, said once.";
        assert_eq!(app.post_comment(&comment(text)).await.status(), 201);
        assert_error(app.post_comment(&comment(text)).await, 409, "duplicate_comment").await;
        let shouted = "THIS is a perfectly ordinary   comment, said once!!";
        assert_error(app.post_comment(&comment(shouted)).await, 409, "duplicate_comment").await;
        let mut other_sender = comment(text);
        other_sender["email"] = json!("bob@example.com");
        let response = post_from(&app, "10.9.9.9", other_sender).await;
        assert_eq!(response.status(), 201, "another sender may say the same");
    }

    async fn proof_of_work_is_required_checked_and_single_use(app: TestApp) {
        app.set_settings(|s| s.pow_difficulty = 8).await;
        let settings: Value = app.client.get(format!("{}/settings", app.api)).send().await.unwrap().json().await.unwrap();
        let challenge = settings["pow"]["challenge"].as_str().unwrap().to_string();
        assert_eq!(settings["pow"]["difficulty"], 8);
        assert_error(app.post_comment(&comment("no work")).await, 403, "pow_required").await;
        let mut bad = comment("bad work");
        let wrong = (0..1000).map(|n| n.to_string()).find(|n| pow::verify(&app.state.keys, 1, &challenge, n, chrono::Utc::now(), pow::DEFAULT_MAX_AGE).is_err()).unwrap();
        bad["pow"] = json!({"challenge": challenge, "nonce": wrong});
        assert_error(app.post_comment(&bad).await, 403, "pow_invalid").await;
        let nonce = pow::solve(&challenge, 8);
        let mut good = comment("honest work");
        good["pow"] = json!({"challenge": challenge, "nonce": nonce});
        assert_eq!(app.post_comment(&good).await.status(), 201);
        let mut replay = comment("replayed work");
        replay["pow"] = json!({"challenge": challenge, "nonce": nonce});
        assert_error(app.post_comment(&replay).await, 403, "pow_invalid").await;
    }
}

#[derive(serde::Deserialize)]
struct Labelled {
    label: String,
    author: String,
    email: Option<String>,
    website: Option<String>,
    body: String,
}

/// Trains the site's score on two thirds of the labelled set (through the same storage the
/// admins' decisions go to), then posts the other third through the API.
#[actix_web::test]
async fn the_learned_spam_score_holds_most_spam_and_little_else() {
    let app = crate::helpers::spawn_app(Db::Sqlite).await;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/spam-ham.json");
    let items: Vec<Labelled> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let (mut train, mut test) = (Vec::new(), Vec::new());
    let mut seen = std::collections::HashMap::new();
    for item in items {
        let n = seen.entry(item.label.clone()).or_insert(0usize);
        if *n % 3 == 2 {
            test.push(item)
        } else {
            train.push(item)
        }
        *n += 1;
    }
    kith::service::blocking(&app.state, move |state, conn| {
        let site = kith::service::sites::find(state, conn, "default")?;
        for item in &train {
            let features = bayes::features(
                &item.body,
                &item.author,
                item.email.as_deref(),
                item.website.as_deref(),
            );
            kith::service::spam::learn_features(conn, site.id, features, item.label == "spam", 1)?;
        }
        Ok(())
    })
    .await
    .unwrap();
    let (mut spam_held, mut spam_total, mut ham_held, mut ham_total) = (0, 0, 0, 0);
    for (i, item) in test.iter().enumerate() {
        let body = json!({"thread_key": format!("/t{i}/"), "author": item.author,
            "email": item.email.clone().unwrap_or_else(|| format!("x{i}@example.com")),
            "website": item.website, "body": item.body});
        let response = app.post_comment(&body).await;
        if response.status() != 201 {
            continue; // a field the form would refuse (e.g. a website without a scheme)
        }
        let posted: Value = response.json().await.unwrap();
        let held = posted["comment"]["status"] == "pending";
        if item.label == "spam" {
            spam_total += 1;
            spam_held += usize::from(held);
        } else {
            ham_total += 1;
            ham_held += usize::from(held);
        }
    }
    println!(
        "spam score: held {spam_held}/{spam_total} spam, {ham_held}/{ham_total} normal comments"
    );
    assert!(
        spam_total >= 40 && ham_total >= 40,
        "enough of the test third was postable"
    );
    assert!(
        spam_held * 100 >= spam_total * 80,
        "held {spam_held}/{spam_total} spam"
    );
    assert!(
        ham_held * 100 <= ham_total * 5,
        "held {ham_held}/{ham_total} normal comments"
    );
}
