//! Every public write or costly route is rate limited per address: past its burst an address
//! gets 429 `rate_limited` with `Retry-After`, while another address is still served.

use kith::spam::limiter::Quota;
use reqwest::{Method, RequestBuilder};
use serde_json::json;

use crate::admin_support::client_from;
use crate::helpers::{Db, TestApp, assert_error, spawn_app_with};

const BURST: u32 = 2;

async fn tight_limits(db: Db) -> TestApp {
    spawn_app_with(db, |config| {
        let tight = Quota::new(1, BURST);
        let limits = &mut config.rate_limits;
        limits.post = tight;
        limits.edit = tight;
        limits.report = tight;
        limits.like = tight;
        limits.preview = tight;
        limits.counts = tight;
        limits.mail = tight;
        // Each test address is alone in its /24 budget here.
        limits.prefix_multiplier = 100;
    })
    .await
}

/// Sends `BURST` requests from `ip` (none may be refused for its rate), then one more, which
/// must be; then the same request from another address passes the limiter.
async fn assert_limited(
    what: &str,
    ip: &str,
    other_ip: &str,
    request: impl Fn(&reqwest::Client) -> RequestBuilder,
) {
    let client = client_from(ip);
    for n in 0..BURST {
        let response = request(&client).send().await.unwrap();
        assert_ne!(
            response.status(),
            429,
            "{what}: request {n} within the burst"
        );
    }
    let response = request(&client).send().await.unwrap();
    assert!(
        response.headers().get("retry-after").is_some(),
        "{what}: Retry-After"
    );
    assert_error(response, 429, "rate_limited").await;
    let other = request(&client_from(other_ip)).send().await.unwrap();
    assert_ne!(
        other.status(),
        429,
        "{what}: another address is not limited"
    );
}

fn new_comment(body: &str) -> serde_json::Value {
    json!({
        "thread_key": "/limits/", "author": "Ann", "email": "ann@example.com", "body": body,
    })
}

async fn every_public_write_and_costly_route_is_rate_limited(db: Db) {
    let app = tight_limits(db).await;
    let api = app.api.clone();

    let posted = app
        .post_ok("/limits/", "Ann", "A comment to act on", None)
        .await;
    let id = posted["comment"]["id"].as_i64().unwrap();
    let token = posted["edit_token"].as_str().unwrap().to_owned();

    let a = api.clone();
    assert_limited("post", "127.0.0.11", "127.0.0.12", move |c| {
        c.post(format!("{a}/comments"))
            .json(&new_comment("another comment"))
    })
    .await;
    let (a, t) = (api.clone(), token.clone());
    assert_limited("edit", "127.0.0.13", "127.0.0.14", move |c| {
        c.request(Method::PATCH, format!("{a}/comments/{id}"))
            .header("x-edit-token", &t)
            .json(&json!({ "body": "edited" }))
    })
    .await;
    let a = api.clone();
    assert_limited("delete", "127.0.0.15", "127.0.0.16", move |c| {
        c.delete(format!("{a}/comments/999999"))
            .header("x-edit-token", "nope")
    })
    .await;
    let a = api.clone();
    assert_limited("like", "127.0.0.17", "127.0.0.18", move |c| {
        c.post(format!("{a}/comments/{id}/like"))
    })
    .await;
    let a = api.clone();
    assert_limited("report", "127.0.0.19", "127.0.0.20", move |c| {
        c.post(format!("{a}/comments/{id}/report"))
            .json(&json!({ "reason": "rude" }))
    })
    .await;
    let a = api.clone();
    assert_limited("preview", "127.0.0.21", "127.0.0.22", move |c| {
        c.post(format!("{a}/preview"))
            .json(&json!({ "body": "*hi*" }))
    })
    .await;
    let a = api.clone();
    assert_limited("counts", "127.0.0.23", "127.0.0.24", move |c| {
        c.post(format!("{a}/counts"))
            .json(&json!({ "keys": ["/limits/"] }))
    })
    .await;
    let a = api.clone();
    assert_limited(
        "manage-my-comments mail",
        "127.0.0.25",
        "127.0.0.26",
        move |c| {
            c.post(format!("{a}/mail/manage"))
                .json(&json!({ "email": "ann@example.com" }))
        },
    )
    .await;
}

#[actix_web::test]
async fn every_public_write_and_costly_route_is_rate_limited_sqlite() {
    every_public_write_and_costly_route_is_rate_limited(Db::Sqlite).await;
}

#[actix_web::test]
async fn every_public_write_and_costly_route_is_rate_limited_postgres() {
    every_public_write_and_costly_route_is_rate_limited(Db::Postgres).await;
}
