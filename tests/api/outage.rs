//! PostgreSQL goes away and comes back: requests fail fast with 503 `database_unavailable`
//! and `Retry-After`, `/readyz` fails, `/healthz` does not, and kith recovers without a
//! restart. The test runs its own PostgreSQL cluster (initdb + pg_ctl on a free port in a temp
//! folder), never the shared one.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{Db, assert_error, spawn_app_with};
use crate::pg_cluster::Cluster;

#[actix_web::test]
async fn postgres_outage_gives_fast_503s_then_kith_recovers_without_a_restart() {
    let cluster = Cluster::create();
    let url = cluster.url();
    let app = spawn_app_with(Db::Sqlite, move |c| {
        c.database.url = url;
        c.database.acquire_timeout_secs = 1;
    })
    .await;
    let posted = app.post_ok("/a/", "Ann", "Before the outage", None).await;
    let get = |path: &str| app.client.get(format!("{}{path}", app.address)).send();
    assert_eq!(get("/readyz").await.unwrap().status(), 200);

    cluster.stop();

    let started = Instant::now();
    let response = app.get_thread("key=/a/").await;
    assert!(response.headers().contains_key("retry-after"));
    assert_error(response, 503, "database_unavailable").await;
    let response = app
        .post_comment(&json!({"thread_key": "/a/", "author": "Bo", "email": "bo@example.com", "body": "During"}))
        .await;
    assert_error(response, 503, "database_unavailable").await;
    let response = get("/readyz").await.unwrap();
    assert!(response.headers().contains_key("retry-after"));
    assert_error(response, 503, "database_unavailable").await;
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(8),
        "three requests took {took:?}"
    );
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    // A page that needs the database says so as a page.
    let page = get("/admin/setup?token=abc").await.unwrap();
    assert_eq!(page.status(), 503);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );

    cluster.start();

    assert_eq!(get("/readyz").await.unwrap().status(), 200);
    let thread = app.thread("/a/").await;
    assert_eq!(thread["comments"][0]["id"], posted["comment"]["id"]);
    app.post_ok("/a/", "Bo", "After the outage", None).await;
}
