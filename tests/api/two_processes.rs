//! Two real `kith serve` processes on one PostgreSQL database, as behind a load balancer: a
//! comment posted to A arrives as a live event on B, and B's next read of the thread page
//! and of the counts, both cached on B beforehand, shows it (B's metrics show that they were
//! cached, and read again once, not served stale). The post quota across the two processes is
//! `shared_quota::the_post_quota_holds_across_two_processes_on_one_postgresql`; the in-process
//! pair (two applications in one test process) is in `page_cache.rs`.

use serde_json::{Value, json};

use crate::helpers::{Db, drop_postgres_database};
use crate::live::Stream;
use crate::process::{Served, comment, database_url, open_default_site, write_config};

async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    response.json().await.unwrap()
}

async fn post_json(client: &reqwest::Client, url: &str, body: &Value) -> Value {
    let response = client.post(url).json(body).send().await.unwrap();
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

/// B's cache lookups so far: pages hit, pages missed, counts hit, counts missed.
async fn lookups(client: &reqwest::Client, served: &Served) -> [f64; 4] {
    let text = client
        .get(format!("{}/metrics", served.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    [
        ("pages", "hit"),
        ("pages", "miss"),
        ("counts", "hit"),
        ("counts", "miss"),
    ]
    .map(|(cache, result)| {
        let series = format!("kith_cache_lookups_total{{cache=\"{cache}\",result=\"{result}\"}} ");
        text.lines()
            .find_map(|line| line.strip_prefix(&series))
            .unwrap_or_else(|| panic!("no {series} in {text}"))
            .parse()
            .unwrap()
    })
}

fn ids(thread: &Value) -> Vec<i64> {
    thread["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

#[actix_web::test]
async fn a_post_on_one_process_is_an_event_and_fresh_page_and_count_on_another() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(Db::Postgres, dir.path());
    let config = write_config(dir.path(), &url, "[metrics]\nenabled = true\n");
    open_default_site(&config);
    let a = Served::start(&config).await;
    let b = Served::start(&config).await;
    let client = reqwest::Client::new();
    let api = |served: &Served| format!("{}/api/v1/sites/default", served.address);
    let page_on_b = format!("{}/thread?key=/two-processes/", api(&b));
    let counts_on_b = format!("{}/counts", api(&b));
    let asked = json!({"keys": ["/two-processes/"]});

    // B hears of the first comment before it reads the thread (so that the announcement
    // cannot arrive after B cached the page, which would read it again, rightly).
    let mut stream = Stream::open(&client, &api(&b), "/two-processes/").await;
    let first = post_json(
        &client,
        &format!("{}/comments", api(&a)),
        &comment("/two-processes/", 1),
    )
    .await;
    let first_id = first["comment"]["id"].as_i64().unwrap();
    assert_eq!(stream.next_comment().await, first_id);

    // B reads the page and the counts twice: the second time from its caches.
    for _ in 0..2 {
        assert_eq!(ids(&get_json(&client, &page_on_b).await), [first_id]);
        let counts = post_json(&client, &counts_on_b, &asked).await;
        assert_eq!(counts["counts"]["/two-processes/"], 1);
    }
    assert_eq!(lookups(&client, &b).await, [1.0, 1.0, 1.0, 1.0]);

    // A second comment, posted to A: B's stream announces it, and B's very next reads show it.
    let second = post_json(
        &client,
        &format!("{}/comments", api(&a)),
        &comment("/two-processes/", 2),
    )
    .await;
    let second_id = second["comment"]["id"].as_i64().unwrap();
    assert_eq!(stream.next_comment().await, second_id);
    let page = get_json(&client, &page_on_b).await;
    assert_eq!(ids(&page), [first_id, second_id]);
    assert_eq!(page["total"], 2);
    let counts = post_json(&client, &counts_on_b, &asked).await;
    assert_eq!(counts["counts"]["/two-processes/"], 2);
    // Read again once each: the cached page and count were dropped, not served.
    assert_eq!(lookups(&client, &b).await, [1.0, 2.0, 1.0, 2.0]);

    drop(stream);
    drop((a, b));
    drop_postgres_database(&url);
}
