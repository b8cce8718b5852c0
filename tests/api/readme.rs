//! The README's examples work when pasted as written: every ```sh block marked
//! `<!-- runnable -->` runs, in order, in one bash session against a freshly started `kith`
//! binary (with `kith` on the PATH), and the session exits 0. `curl` fails on an HTTP error
//! there, so an example answering 4xx or 5xx fails the test.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc;

/// On a line of its own, right above the block.
const MARK: &str = "\n<!-- runnable -->\n";

/// The marked blocks of `markdown`, in order.
fn runnable_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut rest = markdown;
    while let Some(at) = rest.find(MARK) {
        rest = rest[at + MARK.len()..].trim_start();
        let body = rest
            .strip_prefix("```sh\n")
            .unwrap_or_else(|| panic!("a runnable mark not followed by ```sh: {}", &rest[..40]));
        let end = body.find("\n```").expect("an unclosed runnable block");
        blocks.push(body[..end].to_string());
        rest = &body[end..];
    }
    blocks
}

#[test]
fn the_readme_marks_the_api_examples_runnable() {
    let blocks = runnable_blocks(include_str!("../../README.md"));
    assert!(blocks.len() >= 8, "{blocks:?}");
    assert!(blocks.iter().any(|b| b.contains("X-Edit-Token: $TOKEN")));
    assert!(blocks.iter().any(|b| b.contains("TOKEN=$(")));
}

#[actix_web::test]
async fn the_readmes_runnable_examples_exit_0_against_a_fresh_server() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kith"), bin.join("kith")).unwrap();
    let db = format!("sqlite://{}", dir.path().join("kith.db").display());
    let mut server = Command::new(env!("CARGO_BIN_EXE_kith"))
        .env("KITH_DATABASE__URL", &db)
        .env("KITH_SERVER__PORT", "0")
        .env("KITH_LOG__LEVEL", "info")
        .env("KITH_MAIL__SMTP_HOST", "")
        .env("KITH_DEFAULT_SITE__MODERATION", "none")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (tx, mut lines) = mpsc::unbounded_channel();
    let mut stderr = BufReader::new(server.stderr.take().unwrap()).lines();
    tokio::spawn(async move {
        while let Ok(Some(line)) = stderr.next_line().await {
            let _ = tx.send(line);
        }
    });
    let listening = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.recv().await {
            if line.contains("kith is listening on http://") {
                return line;
            }
        }
        panic!("the server's log ended before it listened");
    })
    .await
    .expect("the server did not start");
    let address = listening
        .split("http://")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();

    // The README's examples assume the default address; this server has a free port.
    let examples = runnable_blocks(include_str!("../../README.md"))
        .join("\n")
        .replace("http://127.0.0.1:8080", &format!("http://{address}"));
    let script = format!(
        "set -euo pipefail\ncurl() {{ command curl --fail-with-body \"$@\"; }}\n{examples}\n"
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env("PATH", path)
        .env("KITH_DATABASE__URL", &db)
        .env("KITH_MAIL__SMTP_HOST", "")
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    let out = String::from_utf8_lossy(&run.stdout);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "the examples failed:\n{script}\n--- stdout\n{out}\n--- stderr\n{err}"
    );
    // The post answered with a comment that the later examples edited and deleted.
    assert!(out.contains("\"edit_token\""), "{out}");
    assert!(
        out.contains("First! *Lovely* post, really."),
        "the edit went through: {out}"
    );
}
