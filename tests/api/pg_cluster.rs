//! Throwaway PostgreSQL clusters of the tests' own (initdb + pg_ctl on a free port in a temp
//! folder), never the shared server: for stopping a database under kith, and for a streaming
//! replica made with `pg_basebackup -R`.

use std::path::{Path, PathBuf};
use std::process::Command;

use diesel::{Connection, PgConnection, RunQueryDsl};

/// A PostgreSQL cluster in a temp folder; stopped at once when dropped.
pub struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    pub port: u16,
    /// As root, PostgreSQL's tools must run as the `postgres` user.
    run_as_postgres: bool,
    _dir: tempfile::TempDir,
}

fn postgres_bin() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries under /usr/lib/postgresql")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    found.sort();
    found
        .pop()
        .expect("an initdb under /usr/lib/postgresql/*/bin")
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Cluster {
    /// A folder for a cluster's data, owned by the user the server runs as; not started.
    fn empty() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let run_as_postgres = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false);
        if run_as_postgres {
            let status = Command::new("chown")
                .args(["postgres:", dir.path().to_str().unwrap()])
                .status()
                .unwrap();
            assert!(status.success());
        }
        Self {
            bin: postgres_bin(),
            data,
            port: free_port(),
            run_as_postgres,
            _dir: dir,
        }
    }

    /// A new cluster (superuser `kith`, trust authentication, replication allowed from
    /// 127.0.0.1 as initdb sets it up), started.
    pub fn create() -> Self {
        let cluster = Self::empty();
        cluster.tool(
            "initdb",
            &[
                "-D",
                cluster.data(),
                "-U",
                "kith",
                "--auth=trust",
                "-E",
                "UTF8",
            ],
        );
        cluster.start();
        cluster
    }

    /// A hot standby of this cluster: `pg_basebackup -R` (a copy of everything committed so
    /// far, set up to stream the rest), started. Its port may be chosen ahead (`port`).
    pub fn streaming_replica(&self, port: u16) -> Cluster {
        let mut replica = Self::empty();
        replica.port = port;
        let primary_port = self.port.to_string();
        replica.tool(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &primary_port,
                "-U",
                "kith",
                "-D",
                replica.data(),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
            ],
        );
        replica.start();
        replica
    }

    fn data(&self) -> &str {
        self.data.to_str().unwrap()
    }

    fn tool(&self, name: &str, args: &[&str]) {
        let program = self.bin.join(name);
        let output = if self.run_as_postgres {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&program)
                .args(args)
                .output()
        } else {
            Command::new(&program).args(args).output()
        }
        .unwrap();
        assert!(
            output.status.success(),
            "{name} {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Starts the server and waits until it accepts connections (`pg_ctl -w`).
    pub fn start(&self) {
        let socket_dir = Path::new(self.data()).parent().unwrap().to_str().unwrap();
        let options = format!(
            "-p {} -k {socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port
        );
        let log = format!("{}/server.log", socket_dir);
        self.tool(
            "pg_ctl",
            &["-D", self.data(), "-l", &log, "-o", &options, "-w", "start"],
        );
    }

    /// Stops the server and waits until it is gone.
    pub fn stop(&self) {
        self.tool("pg_ctl", &["-D", self.data(), "-m", "fast", "-w", "stop"]);
    }

    /// The `postgres` database.
    pub fn url(&self) -> String {
        self.url_of("postgres")
    }

    pub fn url_of(&self, database: &str) -> String {
        format!("postgres://kith@127.0.0.1:{}/{database}", self.port)
    }

    /// Runs `sql` on `database` of this cluster.
    pub fn execute(&self, database: &str, sql: &str) {
        let mut conn = PgConnection::establish(&self.url_of(database)).unwrap();
        diesel::sql_query(sql).execute(&mut conn).unwrap();
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let pg_ctl = self.bin.join("pg_ctl");
        let mut command = if self.run_as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(pg_ctl);
            c
        } else {
            Command::new(pg_ctl)
        };
        let _ = command
            .args(["-D", self.data(), "-m", "immediate", "stop"])
            .output();
    }
}
