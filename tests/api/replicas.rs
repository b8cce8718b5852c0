//! Read replicas (`database.replica_urls`) against a real PostgreSQL streaming replica: a
//! primary cluster of the test's own and a hot standby made from it with `pg_basebackup -R`.
//! Replay on the replica is paused, so what the primary commits afterwards is missing on the
//! replica; that shows which database each read went to.

use serde_json::{Value, json};

use crate::admin_support::Admin;
use crate::helpers::{Db, spawn_app_with};
use crate::pg_cluster::{Cluster, free_port};

/// One primary and one replica for the whole test function (making them is the slow part).
#[actix_web::test]
async fn public_reads_go_to_the_replica_own_writes_and_admin_to_the_primary_and_a_stopped_replica_is_skipped()
 {
    let primary = Cluster::create();
    primary.execute("postgres", "CREATE DATABASE kith");
    let replica_port = free_port();
    let url = primary.url_of("kith");
    let replica_url = format!("postgres://kith@127.0.0.1:{replica_port}/kith");
    // kith migrates the primary and sets its site up before the replica is copied from it;
    // the replica's pool connects once the replica is there.
    let app = spawn_app_with(Db::Sqlite, move |c| {
        c.database.url = url;
        c.database.replica_urls = vec![replica_url];
    })
    .await;
    let admin = Admin::login(&app).await;
    let replica = primary.streaming_replica(replica_port);
    replica.execute("postgres", "SELECT pg_wal_replay_pause()");

    // Posted on the primary; the replica does not replay it.
    let response = app
        .post_comment(&json!({
            "thread_key": "/replicated/", "author": "Ann", "email": "ann@example.com",
            "body": "Fresh from the primary",
        }))
        .await;
    assert_eq!(response.status(), 201);
    let posted: Value = response.json().await.unwrap();
    let id = posted["comment"]["id"].as_i64().unwrap();
    let marker = posted["read_marker"].as_str().unwrap().to_string();

    // Anonymous reads come from the replica, which has not seen the comment.
    let anonymous = app.thread("/replicated/").await;
    assert_eq!(anonymous["total"], 0, "{anonymous}");
    let html = app
        .page_text(&format!("{}/thread.html?key=/replicated/", app.api))
        .await;
    assert!(html.contains("0 comments"), "{html}");
    assert!(!html.contains("Fresh from the primary"));
    let counts: Value = app
        .client
        .post(format!("{}/counts", app.api))
        .json(&json!({"keys": ["/replicated/"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counts["counts"]["/replicated/"], 0, "{counts}");
    let settings = app
        .client
        .get(format!("{}/settings", app.api))
        .send()
        .await
        .unwrap();
    assert_eq!(settings.status(), 200);

    // The poster's reads, with the marker (digits, a dot and hex: nothing to escape) of their write, come from the primary.
    let own = app.thread(&format!("/replicated/&fresh={}", marker)).await;
    assert_eq!(own["total"], 1, "{own}");
    assert_eq!(own["comments"][0]["id"], id);
    let own_html = app
        .page_text(&format!(
            "{}/thread.html?key=/replicated/&fresh={}",
            app.api, marker
        ))
        .await;
    assert!(own_html.contains("Fresh from the primary"));
    // A forged marker is an anonymous read.
    let (until, _) = marker.split_once('.').unwrap();
    let forged = app
        .thread(&format!("/replicated/&fresh={until}.{}", "0".repeat(32)))
        .await;
    assert_eq!(forged["total"], 0);

    // The admin area reads the primary.
    assert_eq!(admin.status(id).await, "approved");
    let queue = admin.queue("approved", "").await;
    assert!(
        queue.to_string().contains("Fresh from the primary"),
        "{queue}"
    );

    // An edit's answer carries a marker too, and its author sees the edit at once.
    let token = posted["edit_token"].as_str().unwrap();
    let edited: Value = app
        .client
        .patch(format!("{}/comments/{id}", app.api))
        .header("x-edit-token", token)
        .json(&json!({"body": "Edited on the primary"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let marker = edited["read_marker"].as_str().unwrap();
    let own = app.thread(&format!("/replicated/&fresh={}", marker)).await;
    assert!(own.to_string().contains("Edited on the primary"), "{own}");

    // With the replica stopped, public reads fall back to the primary (and see everything).
    replica.stop();
    let fallback = app.thread("/replicated/").await;
    assert_eq!(fallback["total"], 1, "{fallback}");
    let again = app.thread("/replicated/").await;
    assert_eq!(again["total"], 1, "the stopped replica is left out");
    let counts: Value = app
        .client
        .post(format!("{}/counts", app.api))
        .json(&json!({"keys": ["/replicated/"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counts["counts"]["/replicated/"], 1);
    app.post_ok(
        "/replicated/",
        "Bo",
        "Writes never needed the replica",
        None,
    )
    .await;

    // Which database answered the public reads, as the metrics count them (at least once each:
    // a page cache in front may answer some reads without any database).
    let state = app.state.clone();
    let text = actix_web::web::block(move || state.metrics.render(&state.pool, None).unwrap())
        .await
        .unwrap();
    for source in ["replica", "fresh", "primary"] {
        let prefix = format!("kith_db_public_reads_total{{source=\"{source}\"}} ");
        let reads: u64 = text
            .lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("{prefix} in\n{text}"))
            .parse()
            .unwrap();
        assert!(reads >= 1, "{prefix}{reads}");
    }
}

/// A replica that is not there when kith starts does not stop kith: its reads go to the
/// primary, and the replica is tried again later.
#[actix_web::test]
async fn a_replica_that_is_down_at_start_leaves_reads_on_the_primary() {
    let port = free_port();
    let app = spawn_app_with(Db::Postgres, move |c| {
        c.database.replica_urls = vec![format!("postgres://kith:secret@127.0.0.1:{port}/none")];
    })
    .await;
    app.post_ok("/down/", "Ann", "Read from the primary", None)
        .await;
    for _ in 0..2 {
        let thread = app.thread("/down/").await;
        assert_eq!(thread["total"], 1, "{thread}");
    }
}

#[test]
fn replicas_are_refused_on_sqlite_and_unless_they_are_postgresql_urls() {
    use kith::config::Config;
    let err = Config::from_toml(
        "[database]\nurl = \"sqlite://kith.db\"\nreplica_urls = [\"postgres://r/kith\"]\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("database.replica_urls") && err.contains("PostgreSQL"),
        "{err}"
    );
    let err = Config::from_toml(
        "[database]\nurl = \"postgres://p/kith\"\nreplica_urls = [\"mysql://u:hunter2@r/kith\"]\n",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("database.replica_urls"), "{err}");
    assert!(!err.contains("hunter2"), "the password is masked: {err}");
    let ok = Config::from_toml(
        "[database]\nurl = \"postgres://p/kith\"\nreplica_urls = [\"postgres://r1/kith\", \"postgresql://r2/kith\"]\n",
    )
    .unwrap();
    assert_eq!(ok.database.replica_urls.len(), 2);
}
