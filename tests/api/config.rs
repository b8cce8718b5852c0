//! Configuration: the documented defaults, overrides, refusals, migrations in step.

use std::collections::BTreeSet;
use std::process::Command;

use kith::config::Config;

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn default_toml_documents_exactly_the_built_in_defaults() {
    let text = std::fs::read_to_string(root().join("config/default.toml")).unwrap();
    let parsed: Config = toml_only(&text);
    assert_eq!(parsed, Config::default());
}

fn toml_only(text: &str) -> Config {
    Config::from_toml(text).unwrap()
}

#[test]
fn unknown_keys_and_bad_values_are_refused_naming_the_key() {
    let err = Config::from_toml("[server]\nprot = 80\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("prot"), "{err}");
    let err = Config::from_toml("[server]\nport = \"eighty\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("port"), "{err}");
    let err = Config::from_toml("[database]\nurl = \"mysql://x\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("database.url"), "{err}");
    let err = Config::from_toml("[default_site]\nallowed_origins = [\"localhost\"]\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("default_site.allowed_origins"), "{err}");
}

#[test]
fn environment_overrides_the_file_and_unknown_variables_are_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_kith"))
        .arg("check-config")
        .env("KITH_SERVER__PORT", "9123")
        .env("KITH_DEFAULT_SITE__MODERATION", "all")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("9123"), "{stdout}");
    assert!(stdout.contains("\"all\""), "{stdout}");
    let out = Command::new(env!("CARGO_BIN_EXE_kith"))
        .arg("check-config")
        .env("KITH_SERVER__PROT", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("prot"));
}

#[test]
fn migrations_have_the_same_names_on_both_backends() {
    let names = |backend: &str| -> BTreeSet<String> {
        std::fs::read_dir(root().join("migrations").join(backend))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    let pg = names("postgres");
    assert!(!pg.is_empty());
    assert_eq!(pg, names("sqlite"));
}

#[test]
fn migrate_command_creates_and_migrates_a_fresh_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nested/kith.db");
    let out = Command::new(env!("CARGO_BIN_EXE_kith"))
        .arg("migrate")
        .env("KITH_DATABASE__URL", format!("sqlite://{}", db.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("up to date"));
    assert!(db.exists());
    let again = Command::new(env!("CARGO_BIN_EXE_kith"))
        .arg("migrate")
        .env("KITH_DATABASE__URL", format!("sqlite://{}", db.display()))
        .output()
        .unwrap();
    assert!(again.status.success(), "migrating twice is harmless");
}

#[test]
fn a_bad_database_url_fails_fast_with_the_real_reason() {
    let out = Command::new(env!("CARGO_BIN_EXE_kith"))
        .arg("migrate")
        .env("KITH_DATABASE__URL", "postgres://nobody@127.0.0.1:1/none")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("connect"), "{err}");
}

mod start_log {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    use crate::both_backends;
    use crate::helpers::TestApp;

    /// The first line of `kith serve`'s log that says where it listens.
    fn listening_line(url: &str) -> String {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kith"))
            .arg("serve")
            .env("KITH_DATABASE__URL", url)
            .env("KITH_SERVER__PORT", "0")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let line = BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .find(|l| l.contains("listening on"))
            .unwrap_or_default();
        child.kill().unwrap();
        child.wait().unwrap();
        line
    }

    both_backends! {
        async fn the_start_log_names_the_database_with_its_password_masked(app: TestApp) {
            let url = app.state.config.database.url.clone();
            let (line, wanted) = if let Some(rest) = url.strip_prefix("postgres://") {
                // Trust auth ignores the password; the log must not show it.
                let (user, host) = rest.split_once('@').unwrap();
                let user = user.split(':').next().unwrap();
                let with_password = format!("postgres://{user}:s3cret-pw@{host}");
                let line = listening_line(&with_password);
                assert!(!line.contains("s3cret-pw"), "{line}");
                (line, format!("database: PostgreSQL at postgres://{user}:***@{host}"))
            } else {
                let path = url.strip_prefix("sqlite://").unwrap().to_string();
                (listening_line(&url), format!("database: SQLite at {path}"))
            };
            assert!(line.contains(&wanted), "{line} lacks {wanted}");
        }
    }
}
