//! Graceful shutdown of the real binary: SIGTERM while a request is in flight stops new
//! connections, lets the request finish, and the process exits 0.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::Command;
use tokio::sync::mpsc;

/// Waits for a log line containing `needle`; returns it. The bound only turns a hang into a
/// failure.
async fn line_with(lines: &mut mpsc::UnboundedReceiver<String>, needle: &str) -> String {
    tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.recv().await {
            if line.contains(needle) {
                return line;
            }
        }
        panic!("the server's log ended before `{needle}`");
    })
    .await
    .unwrap_or_else(|_| panic!("no log line with `{needle}`"))
}

/// Reads one HTTP response whose body is `Content-Length` long (keeping the connection).
async fn read_response(stream: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&buf).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if body.len() >= length {
                return text;
            }
        }
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the connection closed mid-response: {text}");
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[actix_web::test]
async fn sigterm_lets_the_request_in_flight_finish_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kith"))
        .env(
            "KITH_DATABASE__URL",
            format!("sqlite://{}", dir.path().join("kith.db").display()),
        )
        .env("KITH_SERVER__PORT", "0")
        .env("KITH_LOG__LEVEL", "info")
        .env("KITH_MAIL__SMTP_HOST", "")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (tx, mut lines) = mpsc::unbounded_channel();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    tokio::spawn(async move {
        while let Ok(Some(line)) = stderr.next_line().await {
            let _ = tx.send(line);
        }
    });
    let listening = line_with(&mut lines, "kith is listening on http://").await;
    let address = listening
        .split("http://")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();

    // A connection the server has taken up (one full exchange on it), then a request whose
    // body is only half there when the signal comes.
    let mut stream = TcpStream::connect(&address).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: kith\r\n\r\n")
        .await
        .unwrap();
    let health = read_response(&mut stream).await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let body = br#"{"body": "*finished* after SIGTERM"}"#;
    // `Expect: 100-continue`: the server's `100 Continue` says it has parsed the head and is
    // serving the request, so the signal cannot come before the request is in flight.
    let head = format!(
        "POST /api/v1/sites/default/preview HTTP/1.1\r\nHost: kith\r\nConnection: close\r\n\
         Expect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let proceed = read_response(&mut stream).await;
    assert!(proceed.starts_with("HTTP/1.1 100 Continue"), "{proceed}");
    stream.write_all(&body[..10]).await.unwrap();

    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    line_with(&mut lines, "SIGTERM received").await;

    // No new connections: the listener is closed (connects are refused once it is).
    let refused = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match TcpStream::connect(&address).await {
                Err(_) => break,
                Ok(s) => {
                    drop(s);
                    tokio::task::yield_now().await;
                }
            }
        }
    })
    .await;
    assert!(
        refused.is_ok(),
        "the server still accepts connections after SIGTERM"
    );

    // The request in flight completes.
    stream.write_all(&body[10..]).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_string(&mut answer))
        .await
        .expect("the response arrives")
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("<em>finished</em>"), "{answer}");

    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("the process exits")
        .unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
    line_with(&mut lines, "kith stopped").await;
}
