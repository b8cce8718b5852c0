//! `spawn_app()`: the real application on port 0 with a fresh database per test.

use diesel::{Connection, PgConnection, RunQueryDsl};
use kith::config::Config;
use kith::domain::site::{ModerationMode, SiteSettings};
use kith::startup::Application;
use kith::state::AppState;
use serde_json::{Value, json};

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Runs each listed test once per backend: `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($(async fn $name:ident($app:ident: TestApp) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[actix_web::test]
            async fn sqlite() {
                let $app: TestApp = $crate::helpers::spawn_app($crate::helpers::Db::Sqlite).await;
                $body
            }
            #[actix_web::test]
            async fn postgres() {
                let $app: TestApp = $crate::helpers::spawn_app($crate::helpers::Db::Postgres).await;
                $body
            }
        }
    )*};
}

/// Runs each listed `async fn name(db: Db)` once per backend: `name::sqlite`, `name::postgres`
/// (for tests that build their app or process themselves).
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[actix_web::test]
            async fn sqlite() { super::$name($crate::helpers::Db::Sqlite).await }
            #[actix_web::test]
            async fn postgres() { super::$name($crate::helpers::Db::Postgres).await }
        }
    )*};
}

/// Runs each named `async fn name(db: Db)` once per backend, as `name::sqlite` and
/// `name::postgres` (for tests that build their own app, e.g. with a mail server).
#[macro_export]
macro_rules! each_on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[actix_web::test]
            async fn sqlite() {
                super::$name($crate::helpers::Db::Sqlite).await
            }
            #[actix_web::test]
            async fn postgres() {
                super::$name($crate::helpers::Db::Postgres).await
            }
        }
    )*};
}

/// The PostgreSQL server tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".to_string())
}

/// A fresh, empty PostgreSQL database; its URL.
pub fn fresh_postgres_database() -> String {
    let admin = postgres_admin_url();
    let mut conn = PgConnection::establish(&admin).unwrap_or_else(|e| {
        panic!("PostgreSQL must be reachable at {admin} for the tests (set TEST_POSTGRES_URL): {e}")
    });
    let name = format!("kith_test_{}", hex::encode(rand::random::<[u8; 8]>()));
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .unwrap();
    let (base, _) = admin.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

/// Drops a database made by [`fresh_postgres_database`] (for tests that build their own app).
pub fn drop_postgres_database(url: &str) {
    if let Some(name) = url.rsplit('/').next()
        && let Ok(mut conn) = PgConnection::establish(&postgres_admin_url())
    {
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn);
    }
}

pub struct TestApp {
    pub address: String,
    /// `…/api/v1/sites/default`
    pub api: String,
    pub client: reqwest::Client,
    pub state: AppState,
    /// The PostgreSQL database to drop when the test ends.
    postgres_db: Option<String>,
    _dir: tempfile::TempDir,
}

impl Drop for TestApp {
    /// Drops the test's own PostgreSQL database (closing the server's connections to it).
    fn drop(&mut self) {
        if let Some(name) = self.postgres_db.take()
            && let Ok(mut conn) = PgConnection::establish(&postgres_admin_url())
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}

/// A config for tests: port 0, quiet, the default site publishing at once.
pub fn test_config(db: Db, dir: &tempfile::TempDir) -> Config {
    let mut config = Config::default();
    config.server.port = 0;
    config.database.pool_size = 4;
    config.database.url = match db {
        Db::Sqlite => format!("sqlite://{}", dir.path().join("kith.db").display()),
        Db::Postgres => fresh_postgres_database(),
    };
    config.default_site.moderation = ModerationMode::None;
    // The test client stands in for a reverse proxy: X-Forwarded-For names the reader.
    config.server.trusted_proxies = vec!["127.0.0.1".into()];
    let generous = kith::spam::limiter::Quota::new(1_000_000, 1_000_000);
    config.rate_limits.post = generous;
    config.rate_limits.edit = generous;
    config.rate_limits.like = generous;
    config.rate_limits.report = generous;
    config.rate_limits.login = generous;
    config.rate_limits.signin = generous;
    config
}

pub async fn spawn_app(db: Db) -> TestApp {
    spawn_app_with(db, |_| {}).await
}

pub async fn spawn_app_with(db: Db, adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_with_clock(db, kith::clock::Clock::system(), adjust).await
}

/// [`spawn_app_with`] whose digests go by `clock` (a manual one the test sets).
pub async fn spawn_app_with_clock(
    db: Db,
    clock: kith::clock::Clock,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(db, &dir);
    adjust(&mut config);
    let app = Application::build_with_clock(config, clock)
        .await
        .expect("the application starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    actix_web::rt::spawn(app.run_until_stopped());
    let postgres_db = match db {
        Db::Postgres => state
            .config
            .database
            .url
            .rsplit('/')
            .next()
            .map(str::to_string),
        Db::Sqlite => None,
    };
    let app = TestApp {
        postgres_db,
        api: format!("{address}/api/v1/sites/default"),
        address,
        client: reqwest::Client::builder().build().unwrap(),
        state,
        _dir: dir,
    };
    // The spam defences that judge *how* a comment was sent are tested on their own
    // (tests/api/spam.rs); elsewhere comments come straight from the test client.
    app.set_settings(|s| {
        s.require_form_token = false;
        s.duplicate_window_secs = 0;
    })
    .await;
    app
}

impl TestApp {
    /// POSTs a comment; returns the raw response.
    pub async fn post_comment(&self, body: &Value) -> reqwest::Response {
        self.client
            .post(format!("{}/comments", self.api))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Posts a comment that must succeed; returns the response JSON.
    pub async fn post_ok(&self, key: &str, author: &str, text: &str, parent: Option<i64>) -> Value {
        let response = self
            .post_comment(&json!({
                "thread_key": key,
                "thread_title": "A post",
                "thread_url": "https://blog.example/post/",
                "parent_id": parent,
                "author": author,
                "email": format!("{}@example.com", author.to_lowercase().replace(' ', ".")),
                "body": text,
            }))
            .await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 201, "posting failed: {body}");
        body
    }

    /// Sends `method` to `{api}{path}` (the default site's API), with a JSON body when given;
    /// returns the raw response.
    pub async fn api_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> reqwest::Response {
        self.api_request(method, path, None, body).await
    }

    /// [`TestApp::api_call`] as the reader whose session `token` is.
    pub async fn api_call_as(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> reqwest::Response {
        self.api_request(method, path, Some(token), body).await
    }

    async fn api_request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let mut request = self.client.request(method, format!("{}{path}", self.api));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.unwrap()
    }

    /// The text of the page at `url` (a full address, such as a mail's link), which must
    /// answer 200.
    pub async fn page_text(&self, url: &str) -> String {
        let response = self.client.get(url).send().await.unwrap();
        assert_eq!(response.status(), 200, "GET {url}");
        response.text().await.unwrap()
    }

    /// The text of the page a bodyless form `POST` to `url` answers (a mail link page's
    /// button), which must be 200.
    pub async fn post_page_text(&self, url: &str) -> String {
        let response = self.client.post(url).send().await.unwrap();
        assert_eq!(response.status(), 200, "POST {url}");
        response.text().await.unwrap()
    }

    /// The default site's public settings (`GET …/settings`), which must answer 200.
    pub async fn settings(&self) -> Value {
        let response = self.api_call(reqwest::Method::GET, "/settings", None).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    pub async fn get_thread(&self, query: &str) -> reqwest::Response {
        self.client
            .get(format!("{}/thread?{query}", self.api))
            .send()
            .await
            .unwrap()
    }

    /// The thread JSON at `key`, which must exist.
    pub async fn thread(&self, key: &str) -> Value {
        let response = self.get_thread(&format!("key={key}&limit=100")).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Changes the default site's settings.
    pub async fn set_settings(&self, change: impl FnOnce(&mut SiteSettings) + Send + 'static) {
        kith::service::blocking(&self.state, move |state, conn| {
            let site = kith::service::sites::find(state, conn, "default")?;
            let mut settings = site.settings.clone();
            change(&mut settings);
            kith::service::sites::update_settings(state, conn, "default", &settings)
        })
        .await
        .unwrap();
    }
}

/// Asserts an error response: status and stable code; returns the body.
pub async fn assert_error(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "wrong status");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], code, "wrong error code in {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "no message in {body}"
    );
    body
}

/// Every comment id in a thread response, depth first.
pub fn all_ids(comments: &Value) -> Vec<i64> {
    let mut ids = Vec::new();
    for c in comments.as_array().unwrap() {
        ids.push(c["id"].as_i64().unwrap());
        ids.extend(all_ids(&c["replies"]));
    }
    ids
}

/// An app with mail on (`mail_config`) and the test SMTP server it sends to; `adjust` changes
/// the config further.
pub async fn spawn_app_with_mail(
    db: Db,
    adjust: impl FnOnce(&mut Config),
) -> (TestApp, crate::smtp::SmtpServer) {
    let smtp = crate::smtp::SmtpServer::start().await;
    let port = smtp.port;
    let app = spawn_app_with(db, move |config| {
        mail_config(config, port);
        adjust(config);
    })
    .await;
    (app, smtp)
}

/// A comment on "/post/" by `author` (address `<author>@example.com`), as the embed posts it,
/// replying to `parent` and asking for reply and thread mails as told.
pub fn mail_comment(
    author: &str,
    body: &str,
    parent: Option<i64>,
    replies: bool,
    thread: bool,
) -> serde_json::Value {
    serde_json::json!({
        "thread_key": "/post/",
        "thread_title": "A post",
        "thread_url": "https://blog.example/post/",
        "parent_id": parent,
        "author": author,
        "email": format!("{}@example.com", author.to_lowercase()),
        "body": body,
        "notify_replies": replies,
        "notify_thread": thread,
    })
}

/// The id of the comment in a post's answer.
pub fn comment_id(posted: &serde_json::Value) -> i64 {
    posted["comment"]["id"].as_i64().unwrap()
}

/// A config with mail on, sent to the test SMTP server at `smtp_port`; no background worker
/// (tests drive the outbox with `drain_outbox`), retries immediate.
pub fn mail_config(config: &mut Config, smtp_port: u16) {
    config.mail.smtp_host = "127.0.0.1".into();
    config.mail.smtp_port = smtp_port;
    config.mail.security = kith::config::SmtpSecurity::Plain;
    config.mail.from = "Blog comments <comments@blog.example>".into();
    config.mail.owner = "owner@blog.example".into();
    config.mail.owner_notifications = kith::config::OwnerNotifications::None;
    config.mail.worker = false;
    config.mail.retry_base_ms = 0;
    config.mail.timeout_secs = 5;
    config.default_site.name = "Ann's Blog".into();
}

impl TestApp {
    /// Runs the outbox worker's step until nothing is due; returns how many mails it tried.
    pub async fn drain_outbox(&self) -> usize {
        let mailer = kith::notify::Mailer::from_config(&self.state.config.mail)
            .unwrap()
            .expect("mail is configured");
        let mut total = 0;
        loop {
            let n = kith::notify::worker::step(&self.state.pool, &self.state.config.mail, &mailer)
                .await
                .unwrap();
            if n == 0 {
                return total;
            }
            total += n;
        }
    }

    /// One pass of the outbox worker.
    pub async fn outbox_step(&self) -> usize {
        let mailer = kith::notify::Mailer::from_config(&self.state.config.mail)
            .unwrap()
            .expect("mail is configured");
        kith::notify::worker::step(&self.state.pool, &self.state.config.mail, &mailer)
            .await
            .unwrap()
    }

    /// Posts a comment with every field given as JSON; must succeed.
    pub async fn post_json_ok(&self, body: Value) -> Value {
        let response = self.post_comment(&body).await;
        let status = response.status();
        let json: Value = response.json().await.unwrap();
        assert_eq!(status, 201, "posting failed: {json}");
        json
    }
}

#[derive(diesel::QueryableByName)]
struct ThreadCounter {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    counted: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    scanned: i64,
}

/// Asserts that every thread's maintained approved-comment counter equals a count of its
/// approved comments; returns how many threads it checked.
pub fn assert_counters_match_scan(conn: &mut kith::db::DbConn) -> usize {
    let rows: Vec<ThreadCounter> = diesel::sql_query(
        "SELECT id, approved_count AS counted, CAST((SELECT count(*) FROM comments \
         WHERE comments.thread_id = threads.id AND comments.status = 'approved') AS BIGINT) \
         AS scanned FROM threads ORDER BY id",
    )
    .load(conn)
    .unwrap();
    let wrong: Vec<(i64, i64, i64)> = rows
        .iter()
        .filter(|r| r.counted != r.scanned)
        .map(|r| (r.id, r.counted, r.scanned))
        .collect();
    assert!(
        wrong.is_empty(),
        "threads whose counter is not the count of approved comments (id, counter, count): {wrong:?}"
    );
    rows.len()
}

impl TestApp {
    /// [`assert_counters_match_scan`] on the app's database.
    pub fn assert_counters_match_scan(&self) -> usize {
        let mut conn = self.state.pool.get().unwrap();
        assert_counters_match_scan(&mut conn)
    }

    /// The counts endpoint's answer for `keys`.
    pub async fn counts(&self, keys: &[&str]) -> Value {
        let response = self
            .client
            .post(format!("{}/counts", self.api))
            .json(&json!({ "keys": keys }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["counts"].clone()
    }
}

#[derive(diesel::QueryableByName)]
struct ReactionCounter {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    comment_id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    reaction: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    counted: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    imported: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    scanned: i64,
}

/// Asserts that every maintained reaction count is what an import brought (`imported`) plus
/// the readers' rows, and that no reader's row lacks its count; returns how many counts it
/// checked.
pub fn assert_reaction_counts_match_scan(conn: &mut kith::db::DbConn) -> usize {
    let rows: Vec<ReactionCounter> = diesel::sql_query(
        "SELECT comment_id, reaction, total AS counted, imported, CAST((SELECT count(*) \
         FROM comment_reactions r WHERE r.comment_id = k.comment_id AND r.reaction = k.reaction) \
         AS BIGINT) AS scanned FROM comment_reaction_counts k ORDER BY comment_id, reaction",
    )
    .load(conn)
    .unwrap();
    let wrong: Vec<(i64, &str, i64, i64, i64)> = rows
        .iter()
        .filter(|r| r.counted != r.imported + r.scanned || r.imported < 0)
        .map(|r| {
            (
                r.comment_id,
                r.reaction.as_str(),
                r.counted,
                r.imported,
                r.scanned,
            )
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "reaction counts that are not imported + the readers' rows \
         (comment, reaction, count, imported, rows): {wrong:?}"
    );
    let orphans: Vec<ReactionCounter> = diesel::sql_query(
        "SELECT comment_id, reaction, CAST(0 AS BIGINT) AS counted, CAST(0 AS BIGINT) AS imported, \
         CAST(count(*) AS BIGINT) AS scanned FROM comment_reactions r WHERE NOT EXISTS \
         (SELECT 1 FROM comment_reaction_counts k WHERE k.comment_id = r.comment_id \
         AND k.reaction = r.reaction) GROUP BY comment_id, reaction",
    )
    .load(conn)
    .unwrap();
    let orphans: Vec<(i64, &str, i64)> = orphans
        .iter()
        .map(|r| (r.comment_id, r.reaction.as_str(), r.scanned))
        .collect();
    assert!(orphans.is_empty(), "reactions without a count: {orphans:?}");
    rows.len()
}
