//! Upgrades keep every row: a database built and filled as of each earlier migration is
//! migrated to the latest on both backends, and nothing stored before is lost or changed; the
//! two backends' schemas match table by table and column by column.

use std::collections::BTreeMap;

use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, RunQueryDsl};
use diesel_migrations::{FileBasedMigrations, MigrationHarness};
use kith::db::DbConn;

use crate::helpers::{Db, fresh_postgres_database, postgres_admin_url, spawn_app_with};

/// Rows each migration's tables get, as plain SQL both backends accept. A new migration must
/// add an entry here (the test refuses a migration without one), so that what it changes is
/// upgraded from a filled database, not an empty one.
const FILL: &[(&str, &str)] = &[
    (
        "init",
        "INSERT INTO server_keys (name, value) VALUES
           ('master', '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff');
         INSERT INTO sites (slug, name, allowed_origins, settings, created_at) VALUES
           ('default', 'Old blog', '[\"http://localhost:*\"]', '{\"moderation\":\"none\",\"max_links\":5}', '2024-01-01 10:00:00');
         INSERT INTO threads (site_id, key, title, url, created_at, closed) VALUES
           (1, '/old-post/', 'Old post', 'https://blog.example/old-post/', '2024-01-01 10:00:00', FALSE),
           (1, '/closed/', 'Closed', '', '2024-01-02 10:00:00', TRUE);
         INSERT INTO comments (thread_id, parent_id, root_id, depth, author_name, email, website,
             body_markdown, body_html, status, held_reason, created_at, edited_at, client_ip,
             user_agent, edit_token_hash, like_count, notify_replies, pinned, is_owner) VALUES
           (1, NULL, NULL, 0, 'Ann', 'ann@example.com', 'https://ann.example/', 'First *post*',
            '<p>First <em>post</em></p>', 'approved', NULL, '2024-01-01 11:00:00', NULL,
            '192.0.2.1', 'UA/1', 'hash-1', 1, TRUE, TRUE, FALSE),
           (1, 1, 1, 1, 'Owner', NULL, NULL, 'Thanks', '<p>Thanks</p>', 'approved', NULL,
            '2024-01-01 12:00:00', '2024-01-01 12:05:00', NULL, NULL, 'hash-2', 0, FALSE, FALSE, TRUE),
           (1, NULL, NULL, 0, 'Sam', 'sam@spam.example', NULL, 'Buy now', '<p>Buy now</p>', 'pending',
            'more than 2 links', '2024-01-01 13:00:00', NULL, '198.51.100.7', NULL, 'hash-3', 0, FALSE, FALSE, FALSE),
           (2, NULL, NULL, 0, 'Gone', NULL, NULL, 'was here', '<p>was here</p>', 'deleted', NULL,
            '2024-01-02 11:00:00', NULL, NULL, NULL, 'hash-4', 0, FALSE, FALSE, FALSE);
         INSERT INTO comment_votes (comment_id, voter, kind, reason, created_at) VALUES
           (1, 'voter-a', 'like', NULL, '2024-01-01 11:30:00'),
           (3, 'voter-b', 'report', 'spam', '2024-01-01 13:30:00');",
    ),
    (
        "admin",
        "INSERT INTO admins (name, password_hash, created_at) VALUES
           ('owner', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo', '2024-01-01 09:00:00');
         INSERT INTO admin_sessions (token_hash, admin_id, created_at, expires_at) VALUES
           ('session-hash', 1, '2024-01-01 09:00:00', '2099-01-01 09:00:00');
         INSERT INTO admin_setup_tokens (token_hash, created_at) VALUES ('setup-hash', '2024-01-01 08:00:00');
         INSERT INTO login_failures (scope, created_at) VALUES ('account:owner', '2024-01-01 08:30:00');
         INSERT INTO bans (kind, value, note, created_at) VALUES
           ('email', 'sam@spam.example', 'seller', '2024-01-01 14:00:00'),
           ('ip', '198.51.100.0/24', '', '2024-01-01 14:00:00');
         INSERT INTO report_reviews (comment_id, reviewed_at) VALUES (3, '2024-01-01 14:00:00');",
    ),
    (
        "mail",
        "INSERT INTO mail_outbox (kind, recipient, subject, body_text, body_html, unsubscribe_url,
             sender_name, comment_id, status, attempts, next_attempt_at, locked_until, last_error,
             created_at, sent_at) VALUES
           ('reply', 'ann@example.com', 'A reply', 'text', '<p>html</p>', 'https://k.example/u',
            'Old blog', 2, 'sent', 1, '2024-01-01 12:00:00', NULL, NULL, '2024-01-01 12:00:00',
            '2024-01-01 12:00:01'),
           ('owner', 'owner@example.com', 'Held', 'text', '<p>html</p>', NULL, '', 3, 'failed', 8,
            '2024-01-01 13:00:00', NULL, '550 no such user', '2024-01-01 13:00:00', NULL);
         INSERT INTO mail_addresses (site_id, email, confirmed_at, unsubscribed_at, created_at) VALUES
           (1, 'ann@example.com', '2024-01-01 11:10:00', NULL, '2024-01-01 11:00:00');
         INSERT INTO mail_subscriptions (thread_id, address_id, created_at) VALUES (1, 1, '2024-01-01 11:10:00');
         INSERT INTO mail_used_links (nonce, used_at) VALUES ('nonce-1', '2024-01-01 12:30:00');
         INSERT INTO mail_notified_comments (comment_id, notified_at) VALUES (2, '2024-01-01 12:00:00');",
    ),
    (
        "import",
        "UPDATE comments SET import_key = 'wordpress:7' WHERE author_name = 'Ann';
         INSERT INTO comments (thread_id, parent_id, root_id, depth, author_name, email, website,
             body_markdown, body_html, status, held_reason, created_at, edited_at, client_ip,
             user_agent, edit_token_hash, like_count, notify_replies, pinned, is_owner,
             import_key, kind, body_format) VALUES
           (1, NULL, NULL, 0, 'Ping 1 « Elsewhere', NULL, 'https://elsewhere.example/p/', 'Ping',
            '<p>Ping</p>', 'approved', NULL, '2024-01-01 15:00:00', NULL, NULL, NULL, 'hash-5', 0,
            FALSE, FALSE, FALSE, 'wordpress:8', 'pingback', 'html');",
    ),
    (
        "admin_display_name",
        "UPDATE admins SET display_name = 'The owner' WHERE name = 'owner';",
    ),
    (
        "spam",
        "UPDATE comments SET fingerprint = 'fp-ann' WHERE author_name = 'Ann';
         INSERT INTO spam_tokens (site_id, token, spam_count, ham_count) VALUES
           (1, 'word:buy', 3, 0), (1, 'word:thanks', 0, 4);
         INSERT INTO used_pow (digest, expires_at) VALUES ('pow-1', '2099-01-01 00:00:00');",
    ),
    (
        "rate_limit_buckets",
        "INSERT INTO rate_limit_buckets (bucket, tat_us, emission_us, burst_us, allowed) VALUES
           ('post:192.0.2.1', 4102444800000000, 12000000, 36000000, TRUE),
           ('post:192.0.2.0/24', 4102444800000000, 3000000, 36000000, FALSE);",
    ),
    (
        "webhooks",
        "INSERT INTO webhook_endpoints (site_id, url, format, events, secret_salt, created_at) VALUES
           (1, 'https://hooks.example/kith', 'kith', 'comment.posted,comment.held', 'salt-1',
            '2024-01-01 09:00:00');
         INSERT INTO webhook_deliveries (endpoint_id, event, body, status, attempts, next_attempt_at,
             locked_until, last_error, last_status, created_at, sent_at) VALUES
           (1, 'comment.posted', '{\"event\":\"comment.posted\"}', 'failed', 8,
            '2024-01-01 10:00:00', NULL, 'HTTP 500', 500, '2024-01-01 09:30:00', NULL);",
    ),
    (
        "webmentions",
        "INSERT INTO comments (thread_id, parent_id, root_id, depth, author_name, email, website,
             body_markdown, body_html, status, held_reason, created_at, edited_at, client_ip,
             user_agent, edit_token_hash, like_count, notify_replies, pinned, is_owner,
             import_key, kind, body_format) VALUES
           (1, NULL, NULL, 0, 'Mentioner', NULL, 'https://mention.example/a/', 'Mentioned',
            '<p>Mentioned</p>', 'approved', NULL, '2024-01-03 15:00:00', NULL, NULL, NULL, 'hash-6', 0,
            FALSE, FALSE, FALSE, NULL, 'webmention', 'html');
         INSERT INTO webmentions (site_id, source, target, status, outcome, requests, attempts,
             next_attempt_at, locked_until, last_error, comment_id, client_ip, created_at, updated_at) VALUES
           (1, 'https://mention.example/a/', 'https://blog.example/old-post/', 'done', 'stored', 1, 1,
            '2024-01-03 14:59:00', NULL, NULL, (SELECT id FROM comments WHERE edit_token_hash = 'hash-6'), '192.0.2.9', '2024-01-03 14:59:00', '2024-01-03 15:00:00'),
           (1, 'https://mention.example/b/', 'https://blog.example/old-post/', 'pending', NULL, 2, 0,
            '2024-01-03 16:00:00', NULL, NULL, NULL, NULL, '2024-01-03 16:00:00', '2024-01-03 16:00:00');",
    ),
    (
        "reactions",
        "INSERT INTO comment_reactions (comment_id, reaction, voter, created_at) VALUES
           (1, 'heart', 'voter-a', '2024-01-01 11:40:00'),
           (1, '+1', 'voter-b', '2024-01-01 11:41:00');
         INSERT INTO comment_reaction_counts (comment_id, reaction, total) VALUES
           (1, 'heart', 1), (1, '+1', 1);",
    ),
    (
        "mail_digests",
        "UPDATE mail_addresses SET frequency = 'daily' WHERE email = 'ann@example.com';
         UPDATE mail_subscriptions SET frequency = 'weekly';
         INSERT INTO mail_digests (recipient_key, frequency, period_end, outbox_id, created_at) VALUES
           ('address:1', 'daily', '2024-01-02 07:00:00', 1, '2024-01-02 07:00:01');
         INSERT INTO mail_digest_items (recipient_key, site_id, address_id, comment_id, reason,
             frequency, created_at, digest_id) VALUES
           ('address:1', 1, 1, 2, 'reply', 'daily', '2024-01-01 12:00:00', 1),
           ('owner:1', 1, NULL, 3, 'owner', 'weekly', '2024-01-01 13:00:00', NULL);",
    ),
    (
        "thread_counts",
        "INSERT INTO threads (site_id, key, title, url, created_at, closed, approved_count) VALUES
           (1, '/counted/', 'Counted', '', '2024-01-04 10:00:00', FALSE, 1);
         INSERT INTO comments (thread_id, parent_id, root_id, depth, author_name, email, website,
             body_markdown, body_html, status, held_reason, created_at, edited_at, client_ip,
             user_agent, edit_token_hash, like_count, notify_replies, pinned, is_owner) VALUES
           ((SELECT id FROM threads WHERE key = '/counted/'), NULL, NULL, 0, 'Counted', NULL, NULL,
            'Counted', '<p>Counted</p>', 'approved', NULL, '2024-01-04 11:00:00', NULL, NULL, NULL,
            'hash-7', 0, FALSE, FALSE, FALSE);",
    ),
    (
        "readers",
        "INSERT INTO readers (site_id, provider, subject, email, display_name, created_at, last_seen_at) VALUES
           (1, 'email', 'ann@example.com', 'ann@example.com', 'Ann', '2024-01-04 10:00:00', '2024-01-04 10:00:00'),
           (1, 'github', '583231', NULL, 'Octo Cat', '2024-01-04 11:00:00', '2024-01-04 12:00:00');
         INSERT INTO reader_sessions (token_hash, reader_id, created_at, expires_at) VALUES
           ('reader-session-hash', 1, '2024-01-04 10:00:00', '2099-01-01 00:00:00');
         INSERT INTO reader_signin_requests (site_id, email, display_name, origin, browser_hash,
             code_hash, failures, created_at, expires_at) VALUES
           (1, 'sam@example.com', 'Sam', 'https://blog.example', 'browser-hash', NULL, 0,
            '2024-01-04 10:00:00', '2024-01-04 10:30:00');
         UPDATE comments SET reader_id = 1, signed_in_with = 'email' WHERE author_name = 'Ann';
         INSERT INTO bans (kind, value, note, created_at) VALUES
           ('reader', 'github:666', 'troll', '2024-01-04 13:00:00');",
    ),
    (
        "imported_reactions",
        "INSERT INTO comment_reaction_counts (comment_id, reaction, total, imported) VALUES
           (2, 'hooray', 3, 3);
         UPDATE comment_reaction_counts SET total = total + 2, imported = 2
           WHERE comment_id = 1 AND reaction = 'heart';",
    ),
    (
        "oidc",
        "INSERT INTO oidc_flows (state_hash, site_id, provider, nonce, pkce_verifier, origin,
             created_at, expires_at) VALUES
           ('5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8', 1, 'myidp',
            'nonce-1', 'verifier-1', 'https://blog.example', '2024-01-04 09:00:00',
            '2024-01-04 09:10:00');",
    ),
    (
        "oidc_poll",
        "INSERT INTO oidc_flows (state_hash, site_id, provider, nonce, pkce_verifier, origin,
             created_at, expires_at, poll_hash, binding_hash) VALUES
           ('6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b', 1, 'myidp',
            'nonce-2', 'verifier-2', 'https://blog.example', '2024-01-04 09:00:00',
            '2024-01-04 09:10:00', 'poll-hash-1', 'binding-hash-1');",
    ),
    (
        "comments_email_lower",
        "INSERT INTO comments (thread_id, parent_id, root_id, depth, author_name, email, website,
             body_markdown, body_html, status, held_reason, created_at, edited_at, client_ip,
             user_agent, edit_token_hash, like_count, notify_replies, pinned, is_owner) VALUES
           (1, NULL, NULL, 0, 'Mixed Case', 'Mixed.Case@Example.com', NULL, 'Indexed by lower(email)',
            '<p>Indexed by lower(email)</p>', 'approved', NULL, '2024-01-05 10:00:00', NULL, NULL,
            NULL, 'hash-8', 0, FALSE, FALSE, FALSE);
         UPDATE threads SET approved_count = approved_count + 1 WHERE id = 1;",
    ),
    (
        "signin_page",
        "INSERT INTO reader_signin_requests (site_id, email, display_name, origin, browser_hash,
             code_hash, failures, created_at, expires_at, page) VALUES
           (1, 'tia@example.com', 'Tia', 'https://blog.example', 'browser-hash-2', NULL, 0,
            '2024-01-05 10:00:00', '2024-01-05 10:30:00', 'https://blog.example/posts/1/');",
    ),
];

fn migration_dir(db: Db) -> std::path::PathBuf {
    let backend = match db {
        Db::Sqlite => "sqlite",
        Db::Postgres => "postgres",
    };
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend)
}

/// Migration directory names in order.
fn migration_names(db: Db) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(migration_dir(db))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn fill_for(name: &str) -> &'static str {
    // The name after the date (`2026-12-01-180501_imported_reactions` → `imported_reactions`):
    // an exact match, so that `reactions` does not also fill `…_imported_reactions`.
    let suffix = name.split_once('_').map_or(name, |(_, suffix)| suffix);
    FILL.iter()
        .find(|(entry, _)| *entry == suffix)
        .map(|(_, sql)| *sql)
        .unwrap_or_else(|| panic!("migration {name} has no FILL entry in tests/api/migrations.rs"))
}

/// A fresh empty database of the backend; its URL (and the temp dir that holds a SQLite file).
fn fresh(db: Db) -> (String, Option<tempfile::TempDir>) {
    match db {
        Db::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("old.db").display());
            (url, Some(dir))
        }
        Db::Postgres => (fresh_postgres_database(), None),
    }
}

fn connect(url: &str) -> diesel::r2d2::PooledConnection<kith::db::pool::Manager> {
    kith::db::connect(url, 1).unwrap().get().unwrap()
}

fn run_next(conn: &mut DbConn, db: Db) {
    let source = FileBasedMigrations::from_path(migration_dir(db)).unwrap();
    match conn {
        DbConn::Pg(c) => c.run_next_migration(source).map(|_| ()),
        DbConn::Sqlite(c) => c.run_next_migration(source).map(|_| ()),
    }
    .unwrap();
}

fn execute_script(conn: &mut DbConn, sql: &str) {
    for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        diesel::sql_query(statement)
            .execute(conn)
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    not_null: i64,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    row: String,
}

fn tables(conn: &mut DbConn) -> Vec<String> {
    let sql = match conn {
        DbConn::Pg(_) => {
            "SELECT table_name::TEXT AS name FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations' ORDER BY 1"
        }
        DbConn::Sqlite(_) => {
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations' ORDER BY 1"
        }
    };
    diesel::sql_query(sql)
        .load::<Name>(conn)
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect()
}

/// The columns of `table` with whether each is NOT NULL (a primary key counts as NOT NULL).
fn columns(conn: &mut DbConn, table: &str) -> BTreeMap<String, bool> {
    let sql = match conn {
        DbConn::Pg(_) => format!(
            "SELECT column_name::TEXT AS name, \
             CAST(CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END AS BIGINT) AS not_null \
             FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '{table}'"
        ),
        DbConn::Sqlite(_) => format!(
            "SELECT name, CAST(CASE WHEN \"notnull\" = 1 OR pk > 0 THEN 1 ELSE 0 END AS BIGINT) AS not_null \
             FROM pragma_table_info('{table}')"
        ),
    };
    diesel::sql_query(sql)
        .load::<Column>(conn)
        .unwrap()
        .into_iter()
        .map(|c| (c.name, c.not_null == 1))
        .collect()
}

/// Every table's rows, each rendered as text over the given columns, sorted.
fn snapshot(
    conn: &mut DbConn,
    schema: &BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, Vec<String>> {
    schema
        .iter()
        .map(|(table, cols)| {
            let row = cols
                .iter()
                .map(|c| format!("COALESCE(CAST(\"{c}\" AS TEXT), '<null>')"))
                .collect::<Vec<_>>()
                .join(" || '|' || ");
            let rows =
                diesel::sql_query(format!("SELECT {row} AS row FROM \"{table}\" ORDER BY 1"))
                    .load::<Row>(conn)
                    .unwrap()
                    .into_iter()
                    .map(|r| r.row)
                    .collect();
            (table.clone(), rows)
        })
        .collect()
}

fn schema_of(conn: &mut DbConn) -> BTreeMap<String, Vec<String>> {
    tables(conn)
        .into_iter()
        .map(|t| {
            let cols = columns(conn, &t).into_keys().collect();
            (t, cols)
        })
        .collect()
}

fn drop_postgres(url: &str) {
    use diesel::Connection;
    if let Some(name) = url
        .strip_prefix("postgres://")
        .and_then(|r| r.rsplit('/').next())
        && let Ok(mut conn) = diesel::PgConnection::establish(&postgres_admin_url())
    {
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn);
    }
}

/// Builds the schema as of migration `k` (1-based), fills every stage up to it, migrates to the
/// latest and checks that every row stored before reads back the same; then the application
/// starts on the database and serves the old comments.
async fn upgrade_from(db: Db, k: usize) {
    let names = migration_names(db);
    let (url, _dir) = fresh(db);
    {
        let mut conn = connect(&url);
        for name in &names[..k] {
            run_next(&mut conn, db);
            execute_script(&mut conn, fill_for(name));
        }
        let before_schema = schema_of(&mut conn);
        let before = snapshot(&mut conn, &before_schema);
        assert!(before["comments"].len() >= 4, "the fill wrote comments");
        let applied = kith::db::run_migrations(&mut conn).unwrap();
        assert_eq!(applied, names.len() - k, "from {}", names[k - 1]);
        let after = snapshot(&mut conn, &before_schema);
        // The comment counters start from what was stored.
        crate::helpers::assert_counters_match_scan(&mut conn);
        for (table, rows) in &before {
            assert_eq!(
                rows,
                &after[table],
                "{table} changed when upgrading from {}",
                names[k - 1]
            );
        }
    }
    let app = spawn_app_with(db, |config| config.database.url = url.clone()).await;
    let thread = app.thread("/old-post/").await;
    let authors: Vec<&str> = thread["comments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| {
            std::iter::once(c["author"].as_str().unwrap()).chain(
                c["replies"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|r| r["author"].as_str().unwrap()),
            )
        })
        .collect();
    assert!(
        authors.contains(&"Ann") && authors.contains(&"Owner"),
        "{thread}"
    );
    assert!(
        !authors.contains(&"Sam"),
        "the held comment stays held: {thread}"
    );
    drop(app);
    if db == Db::Postgres {
        drop_postgres(&url);
    }
}

async fn upgrade_from_every_earlier_migration(db: Db) {
    let count = migration_names(db).len();
    assert!(count >= 2);
    for k in 1..count {
        upgrade_from(db, k).await;
    }
}

#[actix_web::test]
async fn every_earlier_schema_upgrades_without_losing_a_row_sqlite() {
    upgrade_from_every_earlier_migration(Db::Sqlite).await;
}

#[actix_web::test]
async fn every_earlier_schema_upgrades_without_losing_a_row_postgres() {
    upgrade_from_every_earlier_migration(Db::Postgres).await;
}

#[test]
fn both_backends_have_the_same_tables_and_columns() {
    let (sqlite_url, _dir) = fresh(Db::Sqlite);
    let pg_url = fresh(Db::Postgres).0;
    let mut shapes = Vec::new();
    for url in [&sqlite_url, &pg_url] {
        let mut conn = connect(url);
        kith::db::run_migrations(&mut conn).unwrap();
        let shape: BTreeMap<String, BTreeMap<String, bool>> = tables(&mut conn)
            .into_iter()
            .map(|t| {
                let cols = columns(&mut conn, &t);
                (t, cols)
            })
            .collect();
        assert!(shape.contains_key("comments"));
        shapes.push(shape);
    }
    drop_postgres(&pg_url);
    let (sqlite, pg) = (&shapes[0], &shapes[1]);
    assert_eq!(
        sqlite.keys().collect::<Vec<_>>(),
        pg.keys().collect::<Vec<_>>(),
        "tables differ"
    );
    for (table, cols) in sqlite {
        assert_eq!(
            cols, &pg[table],
            "columns of {table} differ (name → NOT NULL)"
        );
    }
}
