//! `kith backup FILE` / `kith restore FILE`: a round trip through the binary on SQLite, a
//! backup taken while the server keeps writing, and the refusals.

use serde_json::Value;

use crate::helpers::Db;
use crate::process::{Served, comment, database_url, kith, open_default_site, write_config};

async fn post(client: &reqwest::Client, address: &str, key: &str, n: usize) -> i64 {
    let response = client
        .post(format!("{address}/api/v1/sites/default/comments"))
        .json(&comment(key, n))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    body["comment"]["id"].as_i64().unwrap()
}

async fn bodies(client: &reqwest::Client, address: &str, key: &str) -> Vec<String> {
    let thread: Value = client
        .get(format!(
            "{address}/api/v1/sites/default/thread?key={key}&limit=100"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut bodies: Vec<String> = thread["comments"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|c| c["html"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default();
    bodies.sort();
    bodies
}

fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[actix_web::test]
async fn sqlite_backup_while_serving_then_restore_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(Db::Sqlite, dir.path());
    let config = write_config(dir.path(), &url, "");
    open_default_site(&config);
    let mut served = Served::start(&config).await;
    let client = reqwest::Client::new();
    for n in 0..5 {
        post(&client, &served.address, "/kept", n).await;
    }
    let before = bodies(&client, &served.address, "/kept").await;
    assert_eq!(before.len(), 5, "{before:?}");

    // The backup runs while a writer keeps posting to another thread.
    let backup = dir.path().join("backup.db");
    let writer = {
        let client = client.clone();
        let address = served.address.clone();
        tokio::spawn(async move {
            for n in 100..140 {
                post(&client, &address, "/during", n).await;
            }
        })
    };
    let (config_path, backup_path) = (config.clone(), backup.clone());
    let output = tokio::task::spawn_blocking(move || {
        kith(&config_path, &["backup", backup_path.to_str().unwrap()])
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        text(&output).contains("backup written to"),
        "{}",
        text(&output)
    );
    writer.await.unwrap();

    // A backup never overwrites a file.
    let again = kith(&config, &["backup", backup.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(text(&again).contains("already exists"), "{}", text(&again));

    // Written after the backup: gone after the restore.
    post(&client, &served.address, "/kept", 99).await;
    assert_eq!(bodies(&client, &served.address, "/kept").await.len(), 6);

    // Not while a server holds the database.
    let refused = kith(&config, &["restore", backup.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(text(&refused).contains("is using"), "{}", text(&refused));

    served.kill().await;
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, "not a database at all, just some text").unwrap();
    let refused = kith(&config, &["restore", garbage.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("not a usable kith SQLite database"),
        "{}",
        text(&refused)
    );

    let restored = kith(&config, &["restore", backup.to_str().unwrap()]);
    assert!(restored.status.success(), "{}", text(&restored));
    assert!(
        text(&restored).contains("kith.db.before-restore"),
        "{}",
        text(&restored)
    );
    assert!(dir.path().join("kith.db.before-restore").exists());

    let served = Served::start(&config).await;
    assert_eq!(bodies(&client, &served.address, "/kept").await, before);
    // The copy is one consistent moment: the comments of the writer that were in it are a
    // prefix of what it posted, in order, with no gap.
    let mut during: Vec<usize> = bodies(&client, &served.address, "/during")
        .await
        .iter()
        .map(|html| {
            let digits: String = html.chars().filter(char::is_ascii_digit).collect();
            digits.parse().unwrap()
        })
        .collect();
    during.sort_unstable();
    let expected: Vec<usize> = (100..100 + during.len()).collect();
    assert_eq!(during, expected);
    // Writing goes on after a restore.
    post(&client, &served.address, "/kept", 7).await;
    assert_eq!(bodies(&client, &served.address, "/kept").await.len(), 6);
}

#[actix_web::test]
async fn postgres_backup_and_restore_refuse_and_name_the_postgres_tools() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(Db::Postgres, dir.path());
    let config = write_config(dir.path(), &url, "");
    let backup = dir.path().join("backup.dump");
    let output = kith(&config, &["backup", backup.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(
        text(&output).contains("pg_dump --format=custom"),
        "{}",
        text(&output)
    );
    assert!(!backup.exists());
    let output = kith(&config, &["restore", backup.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(text(&output).contains("pg_restore"), "{}", text(&output));
    crate::helpers::drop_postgres_database(&url);
}
