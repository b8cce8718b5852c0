//! The rate-limit quota shared by every kith process on one PostgreSQL database: the GCRA
//! buckets in SQL (burst, refill, Retry-After, the network bucket, atomicity under parallel
//! spending, the sweep), the quota reaching HTTP answers, the fall-back to the process's own
//! limits when the database cannot answer, and two real `kith` processes holding one quota.

use std::net::IpAddr;

use kith::db::rate_limits::{count, delete_full, spend};
use kith::spam::limiter::{Action, LimitsConfig, Quota, SharedVerdict};
use serde_json::json;

use crate::helpers::{Db, TestApp, assert_error, spawn_app_with};

/// A moment to count from, in microseconds since the Unix epoch.
const T0: i64 = 1_800_000_000_000_000;
const SEC: i64 = 1_000_000;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// post: 5 a minute (one cell every 12 s), a burst of 3; a /24 or /64 gets 4 times both.
fn limits() -> LimitsConfig {
    LimitsConfig::default()
}

fn spend_at(app: &TestApp, now_us: i64, action: Action, addr: &str) -> SharedVerdict {
    let (exact, prefix) = limits().shared_buckets(action, ip(addr));
    let mut conn = app.state.pool.get().unwrap();
    spend(&mut conn, now_us, &exact, &prefix).unwrap()
}

fn allowed(app: &TestApp, now_us: i64, addr: &str, tries: usize) -> usize {
    (0..tries)
        .filter(|_| spend_at(app, now_us, Action::Post, addr) == SharedVerdict::Allowed)
        .count()
}

async fn app(db: Db) -> TestApp {
    spawn_app_with(db, |_| {}).await
}

async fn a_bucket_lets_its_burst_through_then_refills_at_its_rate(db: Db) {
    let app = app(db).await;
    let addr = "192.0.2.1";
    assert_eq!(allowed(&app, T0, addr, 10), 3, "the burst of 3");
    assert_eq!(
        spend_at(&app, T0, Action::Post, addr),
        SharedVerdict::Refused { wait_us: 12 * SEC },
        "5 a minute: the next cell in 12 s"
    );
    assert_eq!(
        spend_at(&app, T0 + 11 * SEC, Action::Post, addr),
        SharedVerdict::Refused { wait_us: SEC }
    );
    assert_eq!(
        allowed(&app, T0 + 12 * SEC, addr, 10),
        1,
        "one cell refilled"
    );
    assert_eq!(
        allowed(&app, T0 + 120 * SEC, addr, 10),
        3,
        "full again, capped at the burst"
    );
    // Other actions have buckets of their own.
    assert_eq!(
        spend_at(&app, T0 + 120 * SEC, Action::Like, addr),
        SharedVerdict::Allowed
    );
}

async fn a_network_shares_a_bucket_and_a_refused_address_spends_nothing_from_it(db: Db) {
    let app = app(db).await;
    // The flooder gets its 3; its 97 refused tries cost the /24 nothing.
    assert_eq!(allowed(&app, T0, "198.51.100.1", 100), 3);
    // The /24's burst is 12: 9 cells are left for three more addresses.
    let mut neighbours = 0;
    for host in 2..=10 {
        neighbours += allowed(&app, T0, &format!("198.51.100.{host}"), 3);
    }
    assert_eq!(neighbours, 9);
    // A fresh address in the spent /24 waits for the network's next cell (12 s / 4 = 3 s).
    assert_eq!(
        spend_at(&app, T0, Action::Post, "198.51.100.200"),
        SharedVerdict::Refused { wait_us: 3 * SEC }
    );
    assert_eq!(allowed(&app, T0, "198.51.101.1", 3), 3, "the next /24");
    // Hopping through an IPv6 /64 runs into the same kind of network bucket.
    let hopped = (1..=40)
        .filter(|n| {
            spend_at(&app, T0, Action::Post, &format!("2001:db8:1:2::{n:x}"))
                == SharedVerdict::Allowed
        })
        .count();
    assert_eq!(hopped, 12);
}

async fn parallel_spending_never_lets_more_than_the_burst_through(db: Db) {
    let app = app(db).await;
    let (exact, prefix) = limits().shared_buckets(Action::Post, ip("203.0.113.5"));
    let threads: Vec<_> = (0..12)
        .map(|_| {
            let pool = app.state.pool.clone();
            let (exact, prefix) = (exact.clone(), prefix.clone());
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                spend(&mut conn, T0, &exact, &prefix).unwrap()
            })
        })
        .collect();
    let verdicts: Vec<SharedVerdict> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let passed = verdicts
        .iter()
        .filter(|v| **v == SharedVerdict::Allowed)
        .count();
    assert_eq!(passed, 3, "{verdicts:?}");
}

async fn full_buckets_are_swept_and_a_swept_bucket_is_full(db: Db) {
    let app = app(db).await;
    let mut conn = app.state.pool.get().unwrap();
    assert_eq!(allowed(&app, T0, "192.0.2.9", 3), 3);
    // The address's bucket runs 36 s ahead (3 × 12 s), the /24's 9 s (3 × 3 s).
    assert_eq!(count(&mut conn).unwrap(), 2);
    assert_eq!(delete_full(&mut conn, T0 + 8 * SEC).unwrap(), 0);
    assert_eq!(delete_full(&mut conn, T0 + 9 * SEC).unwrap(), 1);
    assert_eq!(count(&mut conn).unwrap(), 1);
    assert_eq!(
        spend_at(&app, T0 + 9 * SEC, Action::Post, "192.0.2.9"),
        SharedVerdict::Refused { wait_us: 3 * SEC },
        "the address's bucket was kept"
    );
    assert_eq!(delete_full(&mut conn, T0 + 36 * SEC).unwrap(), 1);
    assert_eq!(count(&mut conn).unwrap(), 0);
    assert_eq!(allowed(&app, T0 + 36 * SEC, "192.0.2.9", 5), 3);
}

/// Posts from `addr` (through the test server's trusted proxy); the statuses.
async fn post_from(app: &TestApp, addr: &str, n: usize) -> Vec<u16> {
    let mut statuses = Vec::new();
    for i in 0..n {
        let response = app
            .client
            .post(format!("{}/comments", app.api))
            .header("x-forwarded-for", addr)
            .json(&json!({
                "thread_key": "/quota/", "author": "Ann", "email": "ann@example.com",
                "body": format!("comment {i} from {addr}"),
            }))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    statuses
}

fn tight_posts(config: &mut kith::config::Config) {
    config.rate_limits.post = Quota::new(1, 3);
}

/// On PostgreSQL every post that passed the process's limiter spends from the database's
/// buckets; SQLite (one process) keeps to the in-memory limiter and its table stays empty.
async fn limited_requests_spend_from_the_database_only_on_postgresql(db: Db) {
    let app = spawn_app_with(db, tight_posts).await;
    assert_eq!(post_from(&app, "192.0.2.20", 2).await, [201, 201]);
    let rows = kith::service::blocking(&app.state, |_, conn| count(conn))
        .await
        .unwrap();
    match db {
        Db::Postgres => assert_eq!(rows, 2, "the address's and the /24's bucket"),
        Db::Sqlite => assert_eq!(rows, 0),
    }
}

crate::each_on_both_backends!(
    a_bucket_lets_its_burst_through_then_refills_at_its_rate,
    a_network_shares_a_bucket_and_a_refused_address_spends_nothing_from_it,
    parallel_spending_never_lets_more_than_the_burst_through,
    full_buckets_are_swept_and_a_swept_bucket_is_full,
    limited_requests_spend_from_the_database_only_on_postgresql,
);

/// What another process spent shows here: the database's bucket refuses although this
/// process's own limiter has not seen the address yet.
#[actix_web::test]
async fn cells_spent_by_another_process_count_here() {
    let app = spawn_app_with(Db::Postgres, tight_posts).await;
    let now = chrono::Utc::now().timestamp_micros();
    let (exact, prefix) = app
        .state
        .config
        .rate_limits
        .shared_buckets(Action::Post, ip("192.0.2.30"));
    let mut conn = app.state.pool.get().unwrap();
    for _ in 0..3 {
        assert_eq!(
            spend(&mut conn, now, &exact, &prefix).unwrap(),
            SharedVerdict::Allowed
        );
    }
    let response = app
        .client
        .post(format!("{}/comments", app.api))
        .header("x-forwarded-for", "192.0.2.30")
        .json(&json!({"thread_key": "/q/", "author": "Ann", "email": "ann@example.com", "body": "hi"}))
        .send()
        .await
        .unwrap();
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    assert_error(response, 429, "rate_limited").await;
    // Another address is served.
    assert_eq!(post_from(&app, "192.0.2.31", 1).await, [201]);
}

/// `rate_limits.shared = false` keeps a PostgreSQL deployment to per-process limits.
#[actix_web::test]
async fn shared_quota_can_be_turned_off() {
    let app = spawn_app_with(Db::Postgres, |c| {
        tight_posts(c);
        c.rate_limits.shared = false;
    })
    .await;
    assert_eq!(post_from(&app, "192.0.2.40", 4).await, [201, 201, 201, 429]);
    let rows = kith::service::blocking(&app.state, |_, conn| count(conn))
        .await
        .unwrap();
    assert_eq!(rows, 0);
}

/// When the shared quota cannot be spent (here its table is gone), a request is judged by the
/// process's own limiter: never a 500, and the limit still holds.
#[actix_web::test]
async fn a_failing_shared_quota_falls_back_to_the_process_limit() {
    let app = spawn_app_with(Db::Postgres, tight_posts).await;
    kith::service::blocking(&app.state, |_, conn| {
        use diesel::RunQueryDsl;
        diesel::sql_query("DROP TABLE rate_limit_buckets")
            .execute(conn)
            .map_err(kith::error::AppError::from)
    })
    .await
    .unwrap();
    assert_eq!(post_from(&app, "192.0.2.50", 4).await, [201, 201, 201, 429]);
    assert_eq!(post_from(&app, "192.0.2.51", 1).await, [201]);
}

/// Two `kith serve` processes on one PostgreSQL database, posts sent to A and B in turn from
/// one address: together they accept one quota (a burst of 3), not one each; the rest are 429
/// with Retry-After, from both processes.
#[actix_web::test]
async fn the_post_quota_holds_across_two_processes_on_one_postgresql() {
    use crate::process::{Served, comment, open_default_site};
    let dir = tempfile::tempdir().unwrap();
    let url = crate::helpers::fresh_postgres_database();
    let config = dir.path().join("kith.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nport = 0\ndemo_page = false\n\n[database]\nurl = \"{url}\"\n\n\
             [rate_limits]\npost = {{ per_minute = 1, burst = 3 }}\n"
        ),
    )
    .unwrap();
    open_default_site(&config);
    let a = Served::start(&config).await;
    let b = Served::start(&config).await;
    let client = reqwest::Client::new();
    let mut accepted = 0;
    let mut refused_by = std::collections::BTreeSet::new();
    for n in 0..10 {
        let server = if n % 2 == 0 { &a } else { &b };
        let response = client
            .post(format!("{}/api/v1/sites/default/comments", server.address))
            .json(&comment("/two-processes/", n))
            .send()
            .await
            .unwrap();
        match response.status().as_u16() {
            201 => accepted += 1,
            429 => {
                assert!(response.headers().contains_key("retry-after"));
                refused_by.insert(server.address.clone());
            }
            other => panic!("post {n} answered {other}"),
        }
    }
    assert_eq!(accepted, 3, "one quota for both processes together");
    assert_eq!(refused_by.len(), 2, "both processes refused some");
    let thread: serde_json::Value = client
        .get(format!(
            "{}/api/v1/sites/default/thread?key=/two-processes/",
            b.address
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(thread["total"], 3);
    drop((a, b));
    crate::helpers::drop_postgres_database(&url);
}

/// Generous limits are leased: a process takes a sixteenth of the burst (here 40 cells) in one
/// statement and spends it without asking the database again; two processes together never
/// let more than the burst through, and lose at most a lease each.
#[actix_web::test]
async fn generous_limits_are_leased_and_two_processes_still_hold_one_burst() {
    let app = spawn_app_with(Db::Postgres, |_| {}).await;
    let url = app.state.config.database.url.clone();
    let limits = LimitsConfig {
        counts: Quota {
            per_minute: 60,
            burst: 640,
        },
        ..LimitsConfig::default()
    };
    let (exact, prefix) = limits.shared_buckets(Action::Counts, ip("198.51.100.20"));
    let a = kith::db::rate_limits::SharedQuota::postgres(&url);
    let b = kith::db::rate_limits::SharedQuota::postgres(&url);
    let tat = |app: &TestApp| bucket_tat(app, &exact.key);
    // 41 requests on A: one lease of 40, then a second.
    for _ in 0..41 {
        assert_eq!(
            a.spend(T0, &exact, &prefix).unwrap(),
            Some(SharedVerdict::Allowed)
        );
    }
    assert_eq!(
        tat(&app),
        T0 + 80 * exact.emission_us,
        "two leases of 40 cells"
    );
    // Both processes spend until refused: never more than the burst in all.
    let mut passed = 41;
    for _ in 0..1000 {
        for quota in [&a, &b] {
            if quota.spend(T0, &exact, &prefix).unwrap() == Some(SharedVerdict::Allowed) {
                passed += 1;
            }
        }
    }
    assert!(passed <= 640, "{passed} passed");
    assert!(
        passed >= 640 - 2 * 39,
        "{passed} passed: more than a lease each was lost"
    );
}

/// The theoretical arrival time stored for a shared bucket.
fn bucket_tat(app: &TestApp, key: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        tat_us: i64,
    }
    use diesel::RunQueryDsl;
    let mut conn = app.state.pool.get().unwrap();
    let row: Row = diesel::sql_query("SELECT tat_us FROM rate_limit_buckets WHERE bucket = $1")
        .bind::<diesel::sql_types::Text, _>(key)
        .get_result(&mut conn)
        .unwrap();
    row.tat_us
}

/// The counts buckets of `address` under a limit of 100 million a minute (leases of 64 cells).
fn very_generous_buckets(
    address: &str,
) -> (
    kith::spam::limiter::SharedBucket,
    kith::spam::limiter::SharedBucket,
) {
    let limits = LimitsConfig {
        counts: Quota {
            per_minute: 100_000_000,
            burst: 100_000,
        },
        ..LimitsConfig::default()
    };
    limits.shared_buckets(Action::Counts, ip(address))
}

#[actix_web::test]
async fn a_lease_of_a_very_generous_limit_lasts_100_ms_not_its_cells_emission_time() {
    let app = spawn_app_with(Db::Postgres, |_| {}).await;
    let (exact, prefix) = very_generous_buckets("198.51.100.21");
    assert!(
        exact.emission_us * 64 < 1_000,
        "64 cells are under a millisecond of the rate"
    );
    let quota = kith::db::rate_limits::SharedQuota::postgres(&app.state.config.database.url);
    let allowed =
        |at: i64| quota.spend(at, &exact, &prefix).unwrap() == Some(SharedVerdict::Allowed);
    // One lease of 64 cells at T0, spent over 50 ms: no second statement.
    assert!(allowed(T0));
    for i in 1..64 {
        assert!(allowed(T0 + i * 800));
    }
    assert_eq!(
        bucket_tat(&app, &exact.key),
        T0 + 64 * exact.emission_us,
        "one lease"
    );
    // The 65th cell takes a new lease; after 100 ms an unspent lease lapses and a new one is taken.
    assert!(allowed(T0 + 60_000));
    let second = T0 + 60_000 + 64 * exact.emission_us;
    assert_eq!(bucket_tat(&app, &exact.key), second, "a second lease");
    assert!(allowed(T0 + 60_000 + 100_001));
    assert_eq!(
        bucket_tat(&app, &exact.key),
        T0 + 60_000 + 100_001 + 64 * exact.emission_us,
        "the second lease lapsed after 100 ms"
    );
}

#[actix_web::test]
async fn requests_that_find_a_lease_spent_together_take_one_new_lease() {
    let app = spawn_app_with(Db::Postgres, |_| {}).await;
    let (exact, prefix) = very_generous_buckets("198.51.100.22");
    let quota = kith::db::rate_limits::SharedQuota::postgres(&app.state.config.database.url);
    // 8 threads, 8 cells each, all at T0: 64 cells are one lease, whoever comes first.
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                for _ in 0..8 {
                    assert_eq!(
                        quota.spend(T0, &exact, &prefix).unwrap(),
                        Some(SharedVerdict::Allowed)
                    );
                }
            });
        }
    });
    assert_eq!(
        bucket_tat(&app, &exact.key),
        T0 + 64 * exact.emission_us,
        "one lease of 64 cells for 64 requests"
    );
}
