//! `log.format = "json"`: the binary writes one JSON object per line, and each request's line
//! carries the request id the response names in `X-Request-Id`.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::Db;
use crate::process::{Served, database_url, write_config};

async fn request_lines_are_json_with_the_request_id(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(db, dir.path());
    let config = write_config(
        dir.path(),
        &url,
        "[log]\nformat = \"json\"\nlevel = \"info\"",
    );
    let mut served = Served::start(&config).await;
    for line in &served.startup {
        let parsed: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        assert!(
            parsed["timestamp"].is_string() && parsed["level"].is_string(),
            "{line}"
        );
    }
    let client = reqwest::Client::new();
    let response = client
        .get(format!("{}/api/v1/sites/default/settings", served.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    // Refused for its origin: the warning logged while serving it carries the id too.
    let missing = client
        .get(format!("{}/api/v1/sites/default/settings", served.address))
        .header("origin", "https://elsewhere.example")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 403);
    let missing_id = missing.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();

    let mut seen = Vec::new();
    let mut found = Vec::new();
    let mut warning = None;
    let read = tokio::time::timeout(Duration::from_secs(20), async {
        while found.len() < 2 || warning.is_none() {
            let line = served.lines.recv().await.expect("kith is still running");
            let parsed: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
            if parsed["message"] == "request"
                && (parsed["request_id"] == id.as_str()
                    || parsed["request_id"] == missing_id.as_str())
            {
                found.push(parsed);
            } else if parsed["level"] == "WARN" && parsed["span"]["id"] == missing_id.as_str() {
                warning = Some(parsed);
            }
            seen.push(line);
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "no request lines for {id} and {missing_id} in {seen:#?}"
    );
    let ok = found
        .iter()
        .find(|l| l["request_id"] == id.as_str())
        .unwrap();
    assert_eq!(ok["status"], 200);
    assert_eq!(ok["method"], "GET");
    assert_eq!(ok["route"], "/api/v1/sites/{site}/settings");
    assert_eq!(ok["path"], "/api/v1/sites/default/settings");
    assert_eq!(ok["level"], "INFO");
    assert!(ok["duration_ms"].as_f64().unwrap() >= 0.0);
    let refused = found
        .iter()
        .find(|l| l["request_id"] == missing_id.as_str())
        .unwrap();
    assert_eq!(refused["status"], 403);
    let warning = warning.unwrap();
    assert_eq!(warning["origin"], "https://elsewhere.example", "{warning}");
    served.kill().await;
    if db == Db::Postgres {
        crate::helpers::drop_postgres_database(&url);
    }
}

/// Signed mail-link tokens stay out of the log.
async fn mail_link_tokens_are_not_logged(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(db, dir.path());
    let config = write_config(dir.path(), &url, "[log]\nformat = \"json\"");
    let mut served = Served::start(&config).await;
    let token = "c2VjcmV0LXRva2VuLXZhbHVl.abcdef0123456789";
    let response = reqwest::get(format!("{}/mail/unsubscribe/{token}", served.address))
        .await
        .unwrap();
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let mut lines = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let line = served.lines.recv().await.expect("kith is still running");
            lines.push(line.clone());
            let parsed: Value = serde_json::from_str(&line).unwrap();
            if parsed["message"] == "request" && parsed["request_id"] == id.as_str() {
                break;
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no request line in {lines:#?}");
    assert!(!lines.iter().any(|l| l.contains(token)), "{lines:#?}");
    served.kill().await;
    if db == Db::Postgres {
        crate::helpers::drop_postgres_database(&url);
    }
}

crate::on_both!(
    request_lines_are_json_with_the_request_id,
    mail_link_tokens_are_not_logged
);
