//! PostgreSQL goes away and comes back: requests fail fast with 503 `database_unavailable`
//! and `Retry-After`, `/readyz` fails, `/healthz` does not, and kith recovers without a
//! restart. The test runs its own PostgreSQL cluster (initdb + pg_ctl on a free port in a temp
//! folder), never the shared one.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{Db, assert_error, spawn_app_with};

/// A throwaway PostgreSQL cluster (also used by tests/api/page_cache.rs).
pub struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
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

impl Cluster {
    pub fn create() -> Self {
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
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Self {
            bin: postgres_bin(),
            data,
            port,
            run_as_postgres,
            _dir: dir,
        };
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

    pub fn url(&self) -> String {
        format!("postgres://kith@127.0.0.1:{}/postgres", self.port)
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
