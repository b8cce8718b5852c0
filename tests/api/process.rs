//! The real `kith` binary as a child process, for what only a process shows: log lines,
//! `kill -9`, the backup commands.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use crate::helpers::{Db, fresh_postgres_database};

/// How long a server may take to start (a bound, not a wait: start-up is reported by a line).
const START_LIMIT: Duration = Duration::from_secs(60);

/// A database for a child process: a SQLite file in `dir` or a fresh PostgreSQL database.
pub fn database_url(db: Db, dir: &Path) -> String {
    match db {
        Db::Sqlite => format!("sqlite://{}", dir.join("kith.db").display()),
        Db::Postgres => fresh_postgres_database(),
    }
}

/// A config file for child processes: any port, posting not rate limited, no demo page.
pub fn write_config(dir: &Path, db_url: &str, extra: &str) -> std::path::PathBuf {
    let path = dir.join("kith.toml");
    std::fs::write(
        &path,
        format!(
            "[server]\nport = 0\ndemo_page = false\n\n[database]\nurl = \"{db_url}\"\n\n\
             [rate_limits]\npost = {{ per_minute = 1000000, burst = 1000000 }}\n\n{extra}\n"
        ),
    )
    .unwrap();
    path
}

/// `kith ARGS --config CONFIG` run to its end.
pub fn kith(config: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_kith"))
        .args(args)
        .arg("--config")
        .arg(config)
        .env_remove("KITH_CONFIG")
        .output()
        .unwrap()
}

/// Makes the default site publish what the test clients post at once (no moderation, no form
/// token, no duplicate check), through `kith site set`.
pub fn open_default_site(config: &Path) {
    let output = kith(
        config,
        &[
            "site",
            "set",
            "default",
            "--moderation",
            "none",
            "--require-form-token",
            "false",
            "--duplicate-window-secs",
            "0",
            "--spam-threshold-percent",
            "0",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A running `kith serve`; killed when dropped.
pub struct Served {
    pub child: Child,
    pub address: String,
    /// Standard error, line by line (what came before the start-up line included).
    pub lines: mpsc::UnboundedReceiver<String>,
    pub startup: Vec<String>,
}

impl Served {
    /// Starts `kith serve` and waits for the line that names its address.
    pub async fn start(config: &Path) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kith"))
            .arg("serve")
            .arg("--config")
            .arg(config)
            .env_remove("KITH_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, mut lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut startup = Vec::new();
        let address = tokio::time::timeout(START_LIMIT, async {
            while let Some(line) = lines.recv().await {
                startup.push(line.clone());
                if let Some((_, rest)) = line.split_once("kith is listening on ") {
                    let url: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
                    return url.trim_end_matches(['"', '\\']).to_string();
                }
            }
            panic!("kith exited before listening: {startup:?}")
        })
        .await
        .unwrap_or_else(|_| panic!("kith did not start within {START_LIMIT:?}"));
        Served {
            child,
            address,
            lines,
            startup,
        }
    }

    /// `kill -9`, then waits for the process to be gone.
    pub async fn kill(&mut self) {
        self.child.start_kill().unwrap();
        self.child.wait().await.unwrap();
    }
}

/// The first post body (a unique text) a test client sends.
pub fn comment(key: &str, n: usize) -> serde_json::Value {
    serde_json::json!({
        "thread_key": key,
        "author": format!("Writer {n}"),
        "email": format!("writer{n}@example.com"),
        "body": format!("comment number {n}"),
    })
}
