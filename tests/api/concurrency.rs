//! Several writers at once lose nothing.

use futures_util::future::join_all;

use crate::both_backends;
use crate::helpers::{TestApp, all_ids};

both_backends! {
    async fn concurrent_posts_to_a_new_thread_all_land(app: TestApp) {
        let root = app.post_ok("/seed/", "Seed", "x", None).await["comment"]["id"].as_i64().unwrap();
        let posts = (0..40).map(|i| {
            let app = &app;
            async move {
                let key = if i % 2 == 0 { "/race/" } else { "/seed/" };
                let parent = if i % 2 == 0 { None } else { Some(root) };
                app.post_ok(key, &format!("Writer {i}"), &format!("text {i}"), parent).await
            }
        });
        let results = join_all(posts).await;
        assert_eq!(results.len(), 40);
        let race = app.thread("/race/").await;
        assert_eq!(race["total"], 20);
        assert_eq!(all_ids(&race["comments"]).len(), 20);
        let seed = app.thread("/seed/").await;
        assert_eq!(seed["total"], 21);
        assert_eq!(seed["comments"][0]["replies"].as_array().unwrap().len(), 20);
    }
}
