//! Comment counts (`POST …/counts`) are answered from memory once read, and dropped with
//! their thread's announcement on the change bus, on both backends. Proof that a request
//! needs no database: it is answered while every pool connection is taken (a request that does
//! need the database then gets 503). That counts are right after every kind of change with
//! the cache in the way is `counters.rs` (each of its steps asks for the counts before and after
//! the change); across processes, `page_cache.rs` and `two_processes.rs`.

use serde_json::json;

use crate::helpers::{Db, TestApp, assert_error, spawn_app_with};

/// Holds every connection of the app's pool until dropped.
fn take_every_connection(
    app: &TestApp,
) -> Vec<diesel::r2d2::PooledConnection<kith::db::pool::Manager>> {
    (0..app.state.pool.max_size())
        .map(|_| app.state.pool.get().unwrap())
        .collect()
}

async fn counts_request(app: &TestApp, keys: &[&str]) -> reqwest::Response {
    app.client
        .post(format!("{}/counts", app.api))
        .json(&json!({ "keys": keys }))
        .send()
        .await
        .unwrap()
}

async fn counts_come_from_memory_until_their_thread_changes(db: Db) {
    let app = spawn_app_with(db, |c| c.database.acquire_timeout_secs = 1).await;
    app.post_ok("/known/", "Ann", "one", None).await;
    let asked = ["/known/", "/nobody/", "not-a-key"];
    let answer = json!({"/known/": 1, "/nobody/": 0, "not-a-key": 0});
    assert_eq!(app.counts(&asked).await, answer);

    {
        let _held = take_every_connection(&app);
        // Known threads and keys without a thread alike are answered from memory...
        assert_eq!(app.counts(&asked).await, answer);
        // ... while a key never asked for needs the database, which has no connection free.
        assert_error(
            counts_request(&app, &["/never-asked/"]).await,
            503,
            "database_unavailable",
        )
        .await;
    }

    // A first comment on a page that had none, and one more on a known thread: both counts
    // kept are dropped by the posts' announcements.
    app.post_ok("/nobody/", "Bob", "first here", None).await;
    app.post_ok("/known/", "Cy", "two", None).await;
    let answer = json!({"/known/": 2, "/nobody/": 1, "not-a-key": 0});
    assert_eq!(app.counts(&asked).await, answer);
    let _held = take_every_connection(&app);
    assert_eq!(app.counts(&asked).await, answer);
}

/// Keys without a thread are kept within a quarter of the limits, apart: a flood of made-up
/// keys neither grows the cache nor pushes out the counts of real threads.
async fn unknown_keys_are_kept_apart_within_their_limits(db: Db) {
    let app = spawn_app_with(db, |c| {
        c.database.acquire_timeout_secs = 1;
        c.cache.counts_max_entries = 40;
        c.cache.counts_max_bytes = 65_536;
    })
    .await;
    let known: Vec<String> = (0..5).map(|i| format!("/real-{i}/")).collect();
    for key in &known {
        app.post_ok(key, "Ann", "here", None).await;
    }
    let known: Vec<&str> = known.iter().map(String::as_str).collect();
    let answer = app.counts(&known).await;
    assert!(known.iter().all(|k| answer[*k] == 1), "{answer}");

    for round in 0..3 {
        let made_up: Vec<String> = (0..100)
            .map(|i| format!("/made-up-{round}-{i}-{}/", "x".repeat(i)))
            .collect();
        let made_up: Vec<&str> = made_up.iter().map(String::as_str).collect();
        let answer = app.counts(&made_up).await;
        assert!(made_up.iter().all(|k| answer[*k] == 0), "{answer}");
    }
    let [
        (known_entries, known_bytes),
        (unknown_entries, unknown_bytes),
    ] = app.state.counts.usage();
    assert!(known_entries >= 5, "{known_entries} known threads kept");
    assert!(
        known_bytes <= 65_536,
        "{known_bytes} bytes of known threads"
    );
    assert!(unknown_entries > 0, "keys without a thread are kept at all");
    assert!(
        unknown_entries <= 10,
        "{unknown_entries} unknown keys kept, limit 10"
    );
    assert!(
        unknown_bytes <= 16_384,
        "{unknown_bytes} bytes of unknown keys, limit 16384"
    );

    // The real threads' counts are still answered from memory.
    let _held = take_every_connection(&app);
    let answer = app.counts(&known).await;
    assert!(known.iter().all(|k| answer[*k] == 1), "{answer}");
}

/// Too many keys is refused before anything is read or kept.
async fn more_than_a_hundred_keys_are_refused(db: Db) {
    let app = spawn_app_with(db, |_| {}).await;
    let keys: Vec<String> = (0..101).map(|i| format!("/k{i}/")).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    assert_error(counts_request(&app, &keys).await, 422, "invalid_field").await;
    assert_eq!(app.state.counts.usage(), [(0, 0), (0, 0)]);
}

crate::on_both!(
    counts_come_from_memory_until_their_thread_changes,
    unknown_keys_are_kept_apart_within_their_limits,
    more_than_a_hundred_keys_are_refused
);
