//! Faults the server must shrug off: `kill -9` of the real binary under a posting load loses
//! no comment it acknowledged (on SQLite they go through the batching post writer), the comment
//! counters agree with the comments, and it starts again on the same database.

use std::sync::{Arc, Mutex};

use kith::domain::comment::CommentId;
use serde_json::Value;
use tokio::sync::watch;

use crate::helpers::Db;
use crate::process::{Served, comment, database_url, open_default_site, write_config};

const WRITERS: usize = 8;
/// Each writer's most posts (bounds the test if the kill came late).
const POSTS_PER_WRITER: usize = 60;
/// Acknowledged comments before the kill.
const KILL_AFTER: usize = 120;

async fn kill_9_under_posting_load_loses_no_acknowledged_comment(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(db, dir.path());
    let config = write_config(dir.path(), &url, "");
    open_default_site(&config);
    let mut served = Served::start(&config).await;
    let acknowledged: Arc<Mutex<Vec<(i64, usize)>>> = Arc::default();
    let (count_tx, mut count_rx) = watch::channel(0usize);
    let client = reqwest::Client::new();
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let (client, address) = (client.clone(), served.address.clone());
        let (acknowledged, count_tx) = (acknowledged.clone(), count_tx.clone());
        writers.push(tokio::spawn(async move {
            let mut failures = 0;
            for i in 0..POSTS_PER_WRITER {
                let n = writer * 1000 + i;
                let sent = client
                    .post(format!("{address}/api/v1/sites/default/comments"))
                    .json(&comment(&format!("/load/{writer}"), n))
                    .send()
                    .await;
                let Ok(response) = sent else {
                    // The server is gone: what was not acknowledged may be lost.
                    failures += 1;
                    break;
                };
                let status = response.status().as_u16();
                let Ok(body) = response.json::<Value>().await else {
                    failures += 1;
                    break;
                };
                assert_eq!(status, 201, "{body}");
                let id = body["comment"]["id"].as_i64().unwrap();
                let total = {
                    let mut list = acknowledged.lock().unwrap();
                    list.push((id, n));
                    list.len()
                };
                count_tx.send_replace(total);
            }
            failures
        }));
    }
    drop(count_tx);
    // Waits for the count (or for every writer to finish, which closes the channel).
    let _ = count_rx.wait_for(|n| *n >= KILL_AFTER).await;
    served.kill().await;
    let mut cut_off = 0;
    for writer in writers {
        cut_off += writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= KILL_AFTER, "{}", acknowledged.len());
    assert!(
        cut_off > 0,
        "the kill came after the load ended, so it tested nothing"
    );

    // Every acknowledged comment is in the database, with its text.
    let pool = kith::db::connect(&url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    for (id, n) in &acknowledged {
        let row = kith::db::comments::find(&mut conn, CommentId(*id))
            .unwrap()
            .unwrap_or_else(|| panic!("acknowledged comment {id} was lost"));
        assert_eq!(row.body_markdown, format!("comment number {n}"));
    }
    // The counters committed with the comments: right after the kill too.
    crate::helpers::assert_counters_match_scan(&mut conn);
    drop(conn);
    drop(pool);

    // And the server starts again on it and serves those comments.
    let served = Served::start(&config).await;
    let thread: Value = client
        .get(format!(
            "{}/api/v1/sites/default/thread?key=/load/0&limit=100",
            served.address
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed = thread["comments"].as_array().map_or(0, Vec::len);
    let of_writer_0 = acknowledged.iter().filter(|(_, n)| *n < 1000).count();
    assert!(listed >= of_writer_0, "{listed} < {of_writer_0}");
    drop(served);
    if db == Db::Postgres {
        crate::helpers::drop_postgres_database(&url);
    }
}

crate::on_both!(kill_9_under_posting_load_loses_no_acknowledged_comment);
