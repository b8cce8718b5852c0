//! Connections: the backend is chosen by the URL scheme, connections are pooled with r2d2,
//! migrations are embedded, and writes go through one transaction helper.

use std::path::Path;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, Pool};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::AppError;

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub(super) const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// A connection to either backend; queries are written once against it.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

pub type DbPool = Pool<Manager>;

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn of(url: &str) -> Option<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else if url.starts_with("sqlite://") {
            Some(Self::Sqlite)
        } else {
            None
        }
    }
}

/// Opens connections of one backend, dispatching on the URL scheme itself so that a wrong URL
/// fails fast with the real message.
#[derive(Debug)]
pub struct Manager {
    backend: Backend,
    target: String,
}

impl Manager {
    /// A manager for a PostgreSQL URL (read replicas).
    pub(super) fn postgres(url: &str) -> Self {
        Self {
            backend: Backend::Postgres,
            target: postgres_target(url),
        }
    }
}

/// What kith hands libpq for a PostgreSQL URL: the URL itself, except that a server on the
/// loopback interface (`localhost`, `127.0.0.0/8`, `::1`) named without an `sslmode` (in the
/// URL or `PGSSLMODE`) is asked for `sslmode=allow`: a connection without TLS first, TLS only if
/// the server insists. libpq's default, `prefer`, encrypts every query on a connection that
/// never leaves the machine (about a fifth of a post's CPU time, measured) and, verifying no
/// certificate, protects against nothing there. Any explicit `sslmode` is kept as given.
pub fn postgres_target(url: &str) -> String {
    loopback_without_tls(url, std::env::var_os("PGSSLMODE").is_some())
}

fn loopback_without_tls(url: &str, sslmode_from_env: bool) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return url.to_string();
    };
    let loopback = match parsed.host() {
        // A `postgres://` URL's host is opaque to the `url` crate: an IPv4 address comes as a
        // name.
        Some(url::Host::Domain(name)) => {
            name.eq_ignore_ascii_case("localhost")
                || name
                    .parse::<std::net::Ipv4Addr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    let named = parsed
        .query_pairs()
        .any(|(key, _)| key == "sslmode" || key == "host" || key == "hostaddr")
        || sslmode_from_env;
    if !loopback || named {
        return url.to_string();
    }
    parsed.query_pairs_mut().append_pair("sslmode", "allow");
    parsed.into()
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{0}")]
    Connection(#[from] ConnectionError),
    #[error("{0}")]
    Query(#[from] diesel::result::Error),
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = ConnectError;

    fn connect(&self) -> Result<DbConn, ConnectError> {
        match self.backend {
            Backend::Postgres => Ok(DbConn::Pg(PgConnection::establish(&self.target)?)),
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.target)?;
                conn.batch_execute(
                    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                )?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), ConnectError> {
        conn.batch_execute("SELECT 1").map_err(ConnectError::from)
    }

    fn has_broken(&self, _conn: &mut DbConn) -> bool {
        false
    }
}

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("database URL `{0}` must start with sqlite:// or postgres://")]
    Scheme(String),
    #[error("database.replica_urls: `{0}` must start with postgres://, like database.url")]
    ReplicaScheme(String),
    #[error("cannot create the folder for the SQLite file {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot connect to the database: {0}")]
    First(ConnectError),
    #[error("cannot connect to the database: {0}")]
    Pool(#[from] r2d2::PoolError),
}

/// How long a caller waits for a pool connection unless configured otherwise
/// (`database.acquire_timeout_secs`).
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// Opens a pool for `url` with the default acquire timeout.
pub fn connect(url: &str, size: u32) -> Result<DbPool, OpenError> {
    connect_with(url, size, DEFAULT_ACQUIRE_TIMEOUT)
}

/// Opens a pool for `url`. For SQLite the file and its folder are created when missing.
/// A caller waits at most `acquire_timeout` for a connection; then it gets an error, which
/// becomes 503 `database_unavailable` (so an unreachable database answers fast, and the pool
/// reconnects by itself once the database is back).
pub fn connect_with(url: &str, size: u32, acquire_timeout: Duration) -> Result<DbPool, OpenError> {
    let backend = Backend::of(url).ok_or_else(|| OpenError::Scheme(url.to_string()))?;
    let target = match backend {
        Backend::Postgres => postgres_target(url),
        Backend::Sqlite => {
            let path = url.trim_start_matches("sqlite://");
            if let Some(parent) = Path::new(path)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
            {
                std::fs::create_dir_all(parent).map_err(|source| OpenError::Folder {
                    path: path.to_string(),
                    source,
                })?;
            }
            path.to_string()
        }
    };
    let manager = Manager { backend, target };
    // One connection first, so a wrong URL or a down server fails at once with its own words.
    manager.connect().map_err(OpenError::First)?;
    let pool = Pool::builder()
        .max_size(size)
        .connection_timeout(acquire_timeout)
        .build(manager)?;
    Ok(pool)
}

/// Runs the embedded migrations of the connection's backend; returns how many ran.
pub fn run_migrations(conn: &mut DbConn) -> Result<usize, AppError> {
    let applied = match conn {
        DbConn::Pg(c) => c.run_pending_migrations(PG_MIGRATIONS).map(|v| v.len()),
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    };
    applied.map_err(|e| AppError::internal(anyhow::anyhow!("migrations failed: {e}")))
}

/// Copies a SQLite database to `dest` without writing to it: opened read-only, copied with
/// `VACUUM INTO` (a consistent snapshot even while a server writes). For dry runs.
pub fn snapshot_sqlite(path: &str, dest: &Path) -> Result<(), ConnectError> {
    let escape = |p: &str| {
        p.replace('%', "%25")
            .replace('?', "%3f")
            .replace('#', "%23")
    };
    // With a -wal file (a server has the database open) a read-only connection sees its
    // commits. Without one nothing is open and everything is in the main file: `immutable`
    // then reads it without creating -wal and -shm files next to it.
    let mode = if Path::new(&format!("{path}-wal")).exists() {
        "mode=ro"
    } else {
        "immutable=1"
    };
    let mut conn = SqliteConnection::establish(&format!("file:{}?{mode}", escape(path)))?;
    let dest = dest.to_string_lossy().replace('\'', "''");
    conn.batch_execute(&format!("VACUUM INTO '{dest}'"))?;
    Ok(())
}

/// Whether a PostgreSQL database is ready for a dry run (nothing to migrate or create).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// No kith tables: as good as a new database.
    Empty,
    Ready,
    /// What a real run would have to write first.
    NeedsSetup(String),
}

/// Looks at a PostgreSQL database without writing to it.
pub fn postgres_readiness(url: &str, default_site: &str) -> Result<Readiness, AppError> {
    #[derive(QueryableByName)]
    struct Present {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        present: bool,
    }
    let mut conn = PgConnection::establish(&postgres_target(url))
        .map_err(|e| AppError::internal(anyhow::anyhow!("cannot connect: {e}")))?;
    let tables: Present = diesel::sql_query(
        "SELECT to_regclass('__diesel_schema_migrations') IS NOT NULL AS present",
    )
    .get_result(&mut conn)?;
    if !tables.present {
        return Ok(Readiness::Empty);
    }
    let pending = conn
        .has_pending_migration(PG_MIGRATIONS)
        .map_err(|e| AppError::internal(anyhow::anyhow!("migrations: {e}")))?;
    if pending {
        return Ok(Readiness::NeedsSetup("needs migrating".into()));
    }
    let mut conn = DbConn::Pg(conn);
    if crate::db::sites::find_by_slug(&mut conn, default_site)?.is_none() {
        return Ok(Readiness::NeedsSetup(format!(
            "has no default site `{default_site}` yet"
        )));
    }
    Ok(Readiness::Ready)
}

/// How many embedded migrations the database has not run yet (0 when it is current).
pub fn count_pending_migrations(conn: &mut DbConn) -> Result<usize, AppError> {
    let pending = match conn {
        DbConn::Pg(c) => c.pending_migrations(PG_MIGRATIONS).map(|v| v.len()),
        DbConn::Sqlite(c) => c.pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    };
    pending.map_err(|e| AppError::internal(anyhow::anyhow!("cannot list migrations: {e}")))
}

/// Runs `f` in one write transaction: `BEGIN IMMEDIATE` on SQLite (so read-then-write work
/// never fails with "database is locked"), an ordinary transaction on PostgreSQL.
/// `f` must not open transactions of its own.
pub fn write_tx<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, AppError>,
) -> Result<T, AppError> {
    match conn {
        DbConn::Pg(_) => conn.transaction(f),
        DbConn::Sqlite(_) => {
            conn.batch_execute("BEGIN IMMEDIATE")?;
            match f(conn) {
                Ok(value) => match conn.batch_execute("COMMIT") {
                    Ok(()) => Ok(value),
                    Err(e) => {
                        let _ = conn.batch_execute("ROLLBACK");
                        Err(e.into())
                    }
                },
                Err(e) => {
                    conn.batch_execute("ROLLBACK")?;
                    Err(e)
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::loopback_without_tls;

    #[test]
    fn a_loopback_server_without_an_sslmode_is_asked_for_no_tls_first() {
        for url in [
            "postgres://root@127.0.0.1:5432/test",
            "postgresql://kith:secret@localhost/kith",
            "postgres://kith@[::1]:5433/kith",
            "postgres://kith@127.0.0.2/kith?connect_timeout=5",
        ] {
            let target = loopback_without_tls(url, false);
            assert!(target.ends_with("sslmode=allow"), "{url} -> {target}");
            assert!(target.starts_with(url), "{url} -> {target}");
        }
    }

    #[test]
    fn an_explicit_sslmode_or_another_host_is_kept_as_given() {
        for url in [
            "postgres://root@127.0.0.1:5432/test?sslmode=require",
            "postgres://root@127.0.0.1/test?sslmode=disable",
            "postgres://kith@db.internal/kith",
            "postgres://kith@10.0.0.5/kith",
            "postgres://kith@localhost/kith?host=/var/run/postgresql",
            "postgres:///kith",
        ] {
            assert_eq!(loopback_without_tls(url, false), url);
        }
        assert_eq!(
            loopback_without_tls("postgres://root@127.0.0.1/test", true),
            "postgres://root@127.0.0.1/test"
        );
    }
}
