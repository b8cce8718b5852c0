//! Times importing a generated 100,000-comment WXR file into a site, on SQLite and (when it is
//! reachable) PostgreSQL, and exporting it again.
//!
//! `cargo bench --bench import_db`. PostgreSQL: `TEST_POSTGRES_URL` (default
//! `postgres://root@127.0.0.1:5432/test`); a fresh database is created for the run.
//! Not a test: prints timings.

use std::time::Instant;

use diesel::{Connection, PgConnection, RunQueryDsl};
use kith::config::Config;
use kith::service::export::{ExportFormat, export_site};
use kith::service::import::{ImportOptions, import_file};

#[path = "support/big_wxr.rs"]
mod support;
use support::big_wxr;

const N: usize = 100_000;

fn run(label: &str, url: String, bytes: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
    let mut config = Config::default();
    config.database.url = url;
    config.database.pool_size = 2;
    let state = kith::startup::prepare(config)?;
    let mut conn = state.pool.get()?;
    let start = Instant::now();
    let summary = import_file(
        &state,
        &mut conn,
        "default",
        bytes,
        &ImportOptions::default(),
    )?;
    let import = start.elapsed();
    assert_eq!(summary.comments, N);
    let start = Instant::now();
    let again = import_file(
        &state,
        &mut conn,
        "default",
        bytes,
        &ImportOptions::default(),
    )?;
    let reimport = start.elapsed();
    assert_eq!(again.already_present, N);
    let start = Instant::now();
    let mut out = Vec::new();
    export_site(&state, &mut conn, "default", ExportFormat::Kith, &mut out)?;
    let export = start.elapsed();
    println!(
        "{label}: import {import:.2?} ({:.0} comments/s), import again (adds nothing) {reimport:.2?}, \
         kith export {export:.2?} ({} bytes)",
        N as f64 / import.as_secs_f64(),
        out.len()
    );
    Ok(())
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "import_db, run {} on {} cores",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let bytes = big_wxr(N);
    let dir = tempfile::tempdir()?;
    run(
        "sqlite",
        format!("sqlite://{}", dir.path().join("bench.db").display()),
        &bytes,
    )?;
    let admin = std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".to_string());
    match PgConnection::establish(&admin) {
        Ok(mut conn) => {
            let name = format!("kith_bench_{}", std::process::id());
            diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn)?;
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
            let result = run("postgres", format!("{base}/{name}"), &bytes);
            let _ =
                diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut conn);
            result?;
        }
        Err(e) => println!("postgres: skipped ({e})"),
    }
    if let Some(kib) = peak_rss_kib() {
        println!(
            "peak RSS {} MiB (WXR file {} MiB)",
            kib / 1024,
            bytes.len() >> 20
        );
    }
    Ok(())
}
