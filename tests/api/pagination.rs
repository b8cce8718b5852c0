//! Cursor pagination over a big thread returns every comment exactly once.

use std::collections::HashSet;

use kith::domain::comment::{ClientInfo, CommentId, NewComment};
use kith::domain::fields::{AuthorName, CommentBody, Email};
use kith::domain::thread::{ThreadKey, ThreadMeta};
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{TestApp, all_ids};

/// Seeds `n` comments through the service (faster than HTTP): every fourth is a reply.
async fn seed(app: &TestApp, n: usize) {
    kith::service::blocking(&app.state, move |state, conn| {
        let site = kith::service::sites::find(state, conn, "default")?;
        let client = ClientInfo {
            ip: [127, 0, 0, 1].into(),
            user_agent: None,
        };
        let mut last_root = None;
        for i in 0..n {
            let parent = if i % 4 == 3 { last_root } else { None };
            let new = NewComment {
                thread_key: ThreadKey::parse("/big/", 500).unwrap(),
                thread_meta: ThreadMeta::parse(None, None, 300, 2000).unwrap(),
                parent_id: parent,
                author: AuthorName::parse(format!("Reader {i}"), 100, true).unwrap(),
                email: Some(Email::parse(format!("r{i}@example.com"), 254).unwrap()),
                website: None,
                body: CommentBody::parse(format!("comment {i}"), 10_000).unwrap(),
                notify_replies: false,
                notify_thread: false,
                signals: Default::default(),
            };
            let posted = kith::service::comments::post(state, conn, &site, new, &client, None)?;
            if parent.is_none() {
                last_root = Some(CommentId(posted.comment.id.0));
            }
        }
        Ok(())
    })
    .await
    .unwrap();
}

async fn walk(app: &TestApp, sort: &str) -> Vec<i64> {
    let mut seen = Vec::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let query = format!("key=/big/&sort={sort}&limit=100&cursor={cursor}");
        let page: Value = app.get_thread(&query).await.json().await.unwrap();
        assert_eq!(page["total"], 2000);
        seen.extend(all_ids(&page["comments"]));
        pages += 1;
        assert!(pages <= 20, "pagination does not end");
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => break,
        }
    }
    seen
}

both_backends! {
    async fn every_comment_of_a_2000_comment_thread_comes_exactly_once(app: TestApp) {
        seed(&app, 2000).await;
        for sort in ["oldest", "newest", "top"] {
            let seen = walk(&app, sort).await;
            let unique: HashSet<i64> = seen.iter().copied().collect();
            assert_eq!(seen.len(), 2000, "{sort}: every comment");
            assert_eq!(unique.len(), 2000, "{sort}: no duplicates");
        }
    }
}
