//! Backups of a SQLite database (`kith backup FILE`, `kith restore FILE`) and the lock that
//! keeps a restore from swapping the file under a running server.
//!
//! A backup is `VACUUM INTO`: one read transaction, so it is consistent while the server keeps
//! writing. A restore checks the file, brings its schema up to date on a copy beside the
//! database, then, holding the lock exclusively (so no `kith serve` holds the database), moves
//! the current database aside to `<db>.before-restore` and the copy into its place.
//! PostgreSQL has its own tools (`pg_dump` / `pg_restore`); these functions refuse it.

use std::fs::File;
use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_migrations::MigrationHarness;

use super::pool::{Backend, DbConn, SQLITE_MIGRATIONS};

/// Why a backup or restore did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("the database is PostgreSQL")]
    Postgres,
    #[error("database URL `{0}` must start with sqlite:// or postgres://")]
    Scheme(String),
    #[error("{0} already exists; choose a new file name")]
    Exists(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a usable kith SQLite database: {message}")]
    NotKith { path: PathBuf, message: String },
    #[error(
        "a kith server (or another restore) is using {0}; stop it first (`systemctl stop kith`)"
    )]
    InUse(PathBuf),
    #[error("SQLite: {0}")]
    Sqlite(String),
}

impl From<diesel::result::Error> for BackupError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Sqlite(e.to_string())
    }
}

impl From<ConnectionError> for BackupError {
    fn from(e: ConnectionError) -> Self {
        Self::Sqlite(e.to_string())
    }
}

/// The SQLite file a database URL names.
fn sqlite_path(url: &str) -> Result<PathBuf, BackupError> {
    match Backend::of(url) {
        Some(Backend::Sqlite) => Ok(PathBuf::from(url.trim_start_matches("sqlite://"))),
        Some(Backend::Postgres) => Err(BackupError::Postgres),
        None => Err(BackupError::Scheme(url.to_string())),
    }
}

/// `<db>.lock`, the file every serving process holds a shared lock on.
fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

fn with_suffix(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Held by a serving process for as long as it runs: a shared lock on `<db>.lock`, so that
/// any number of servers may share the database but `kith restore` waits for none of them.
/// `None` on PostgreSQL.
#[derive(Debug)]
pub struct ServingLock(#[expect(dead_code, reason = "held for its lock only")] File);

pub fn hold_serving_lock(url: &str) -> Result<Option<ServingLock>, BackupError> {
    let db = match sqlite_path(url) {
        Ok(db) => db,
        Err(BackupError::Postgres) => return Ok(None),
        Err(e) => return Err(e),
    };
    let path = lock_path(&db);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(&path))?;
    match file.try_lock_shared() {
        Ok(()) => Ok(Some(ServingLock(file))),
        Err(std::fs::TryLockError::WouldBlock) => Err(BackupError::InUse(db)),
        Err(std::fs::TryLockError::Error(e)) => Err(io(&path)(e)),
    }
}

fn open(path: &Path) -> Result<SqliteConnection, BackupError> {
    let mut conn = SqliteConnection::establish(&path.to_string_lossy())?;
    conn.batch_execute("PRAGMA busy_timeout = 5000;")?;
    Ok(conn)
}

#[derive(QueryableByName)]
struct Check {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

fn integrity_check(conn: &mut SqliteConnection, path: &Path) -> Result<(), BackupError> {
    let rows: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
        .load(conn)
        .map_err(|e| BackupError::NotKith {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    match rows.first() {
        Some(row) if row.integrity_check == "ok" => Ok(()),
        Some(row) => Err(BackupError::NotKith {
            path: path.to_path_buf(),
            message: format!("integrity check: {}", row.integrity_check),
        }),
        None => Err(BackupError::NotKith {
            path: path.to_path_buf(),
            message: "integrity check gave no answer".into(),
        }),
    }
}

/// Writes a consistent copy of the SQLite database behind `url` to `dest` (which must not
/// exist), safe while servers keep writing; returns its size in bytes.
pub fn backup(url: &str, dest: &Path) -> Result<u64, BackupError> {
    let db = sqlite_path(url)?;
    if dest.exists() {
        return Err(BackupError::Exists(dest.to_path_buf()));
    }
    if !db.exists() {
        return Err(io(&db)(std::io::ErrorKind::NotFound.into()));
    }
    let mut conn = open(&db)?;
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(dest.to_string_lossy())
        .execute(&mut conn)?;
    let mut copy = open(dest)?;
    integrity_check(&mut copy, dest)?;
    Ok(std::fs::metadata(dest).map_err(io(dest))?.len())
}

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    /// Where the database replaced was moved (`None` when there was none).
    pub previous: Option<PathBuf>,
    /// Migrations the backup was missing and got on the way in.
    pub migrated: usize,
}

/// Replaces the SQLite database behind `url` with the backup `src`, refusing while any kith
/// server holds the database.
pub fn restore(url: &str, src: &Path) -> Result<Restored, BackupError> {
    let db = sqlite_path(url)?;
    if !src.is_file() {
        return Err(io(src)(std::io::ErrorKind::NotFound.into()));
    }
    let lock = lock_path(&db);
    if let Some(parent) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    let lock_file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock)
        .map_err(io(&lock))?;
    match lock_file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Err(BackupError::InUse(db)),
        Err(std::fs::TryLockError::Error(e)) => return Err(io(&lock)(e)),
    }
    // The copy goes beside the database, so the final rename stays on one file system.
    let staged = with_suffix(&db, ".restoring");
    remove_if_exists(&staged)?;
    std::fs::copy(src, &staged).map_err(io(&staged))?;
    let migrated = match check_and_migrate(&staged, src) {
        Ok(migrated) => migrated,
        Err(e) => {
            let _ = std::fs::remove_file(&staged);
            return Err(e);
        }
    };
    for suffix in ["-wal", "-shm"] {
        remove_if_exists(&with_suffix(&staged, suffix))?;
    }
    let previous = if db.exists() {
        // Fold the write-ahead log into the file first, so the file moved aside is complete.
        open(&db)?.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")?;
        let aside = with_suffix(&db, ".before-restore");
        std::fs::rename(&db, &aside).map_err(io(&aside))?;
        Some(aside)
    } else {
        None
    };
    for suffix in ["-wal", "-shm"] {
        remove_if_exists(&with_suffix(&db, suffix))?;
    }
    std::fs::rename(&staged, &db).map_err(io(&db))?;
    drop(lock_file);
    Ok(Restored { previous, migrated })
}

/// Checks that `staged` (a copy of `src`) is a sound kith database no newer than this binary,
/// and applies the migrations it lacks.
fn check_and_migrate(staged: &Path, src: &Path) -> Result<usize, BackupError> {
    let not_kith = |message: String| BackupError::NotKith {
        path: src.to_path_buf(),
        message,
    };
    let mut conn = open(staged)?;
    integrity_check(&mut conn, src)?;
    let applied = conn
        .applied_migrations()
        .map_err(|e| not_kith(e.to_string()))?;
    if applied.is_empty() {
        return Err(not_kith("it holds no kith schema".into()));
    }
    let known: Vec<String> =
        diesel::migration::MigrationSource::<diesel::sqlite::Sqlite>::migrations(
            &SQLITE_MIGRATIONS,
        )
        .map_err(|e| not_kith(e.to_string()))?
        .iter()
        .map(|m| m.name().version().to_string())
        .collect();
    if let Some(unknown) = applied.iter().find(|v| !known.contains(&v.to_string())) {
        return Err(not_kith(format!(
            "it was written by a newer kith (migration {unknown}); restore it with that version"
        )));
    }
    let mut conn = DbConn::Sqlite(conn);
    let migrated =
        super::pool::run_migrations(&mut conn).map_err(|e| BackupError::Sqlite(e.to_string()))?;
    conn.batch_execute("PRAGMA journal_mode = DELETE;")?;
    Ok(migrated)
}

fn remove_if_exists(path: &Path) -> Result<(), BackupError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(path)(e)),
        _ => Ok(()),
    }
}
