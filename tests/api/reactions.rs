//! Reactions (👍 ❤️ 😄 🎉 😕 👀): each once per reader and comment, given and taken back,
//! counted on the comment like likes; a site may turn them off. And avatars: identicons by
//! default, Libravatar or Gravatar addresses (a hash, never the address) when the site opts in.

use kith::domain::avatar::AvatarSource;
use kith::spam::limiter::Quota;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::both_backends;
use crate::helpers::{Db, TestApp, assert_error, spawn_app_with};

/// Gives (`on`) or takes back `reaction` on comment `id` as the reader at `ip`.
async fn react(app: &TestApp, ip: &str, id: i64, reaction: &str, on: bool) -> reqwest::Response {
    let url = format!("{}/comments/{id}/reactions/{reaction}", app.api);
    let request = if on {
        app.client.post(url)
    } else {
        app.client.delete(url)
    };
    request.header("x-forwarded-for", ip).send().await.unwrap()
}

async fn react_ok(app: &TestApp, ip: &str, id: i64, reaction: &str, on: bool) -> Value {
    let response = react(app, ip, id, reaction, on).await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reaction"], reaction);
    assert_eq!(body["reacted"], on);
    body
}

/// The thread's first comment.
async fn first(app: &TestApp, key: &str) -> Value {
    app.thread(key).await["comments"][0].clone()
}

async fn post_id(app: &TestApp, key: &str, author: &str) -> i64 {
    app.post_ok(key, author, "text", None).await["comment"]["id"]
        .as_i64()
        .unwrap()
}

both_backends! {
    async fn a_reaction_is_given_shown_in_the_thread_and_taken_back(app: TestApp) {
        let id = post_id(&app, "/r/", "Ann").await;
        assert!(first(&app, "/r/").await.get("reactions").is_none(), "no reactions yet: left out");

        let given = react_ok(&app, "192.0.2.1", id, "heart", true).await;
        assert_eq!(given["reactions"], json!({"heart": 1}));
        let comment = first(&app, "/r/").await;
        assert_eq!(comment["reactions"], json!({"heart": 1}));
        assert_eq!(comment["likes"], 0, "a reaction is not a like");

        let taken = react_ok(&app, "192.0.2.1", id, "heart", false).await;
        assert_eq!(taken["reactions"], json!({}));
        assert!(first(&app, "/r/").await.get("reactions").is_none());
    }

    async fn each_reader_counts_once_per_reaction(app: TestApp) {
        let id = post_id(&app, "/r/", "Ann").await;
        for _ in 0..3 {
            let body = react_ok(&app, "192.0.2.1", id, "+1", true).await;
            assert_eq!(body["reactions"], json!({"+1": 1}), "giving it again changes nothing");
        }
        react_ok(&app, "192.0.2.2", id, "+1", true).await;
        react_ok(&app, "192.0.2.1", id, "eyes", true).await;
        let body = react_ok(&app, "192.0.2.3", id, "hooray", true).await;
        assert_eq!(body["reactions"], json!({"+1": 2, "hooray": 1, "eyes": 1}));
        // Taking back one never given changes nothing, twice neither.
        let body = react_ok(&app, "192.0.2.2", id, "eyes", false).await;
        assert_eq!(body["reactions"], json!({"+1": 2, "hooray": 1, "eyes": 1}));
        react_ok(&app, "192.0.2.1", id, "+1", false).await;
        let body = react_ok(&app, "192.0.2.1", id, "+1", false).await;
        assert_eq!(body["reactions"], json!({"+1": 1, "hooray": 1, "eyes": 1}));
        assert_eq!(first(&app, "/r/").await["reactions"], json!({"+1": 1, "hooray": 1, "eyes": 1}));
        // The keys come in the fixed order of the set, whatever order they were given in.
        let text = app.get_thread("key=/r/").await.text().await.unwrap();
        assert!(text.contains(r#""reactions":{"+1":1,"hooray":1,"eyes":1}"#), "{text}");
    }

    async fn the_top_sort_counts_likes_not_reactions(app: TestApp) {
        let a = post_id(&app, "/r/", "Ann").await;
        let b = post_id(&app, "/r/", "Bob").await;
        for n in 1..=4 {
            react_ok(&app, &format!("192.0.2.{n}"), a, "heart", true).await;
        }
        let liked = app.client.post(format!("{}/comments/{b}/like", app.api)).send().await.unwrap();
        assert_eq!(liked.status(), 200);
        let top = app.get_thread("key=/r/&sort=top").await.json::<Value>().await.unwrap();
        let ids: Vec<i64> = top["comments"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, vec![b, a]);
        assert_eq!(top["comments"][1]["reactions"], json!({"heart": 4}));
    }

    async fn an_unknown_reaction_is_refused(app: TestApp) {
        let id = post_id(&app, "/r/", "Ann").await;
        for bad in ["like", "thumbsup", "HEART", "%F0%9F%91%8D", "heart%20"] {
            let body = assert_error(react(&app, "192.0.2.1", id, bad, true).await, 400, "unknown_reaction").await;
            assert!(body["message"].as_str().unwrap().contains("+1, heart"), "{body}");
        }
        assert_error(react(&app, "192.0.2.1", id, "nope", false).await, 400, "unknown_reaction").await;
        assert!(first(&app, "/r/").await.get("reactions").is_none());
    }

    async fn missing_deleted_and_held_comments_take_no_reactions(app: TestApp) {
        assert_error(react(&app, "192.0.2.1", 999_999, "heart", true).await, 404, "comment_not_found").await;
        let posted = app.post_ok("/r/", "Ann", "text", None).await;
        let id = posted["comment"]["id"].as_i64().unwrap();
        let deleted = app.client.delete(format!("{}/comments/{id}", app.api))
            .header("x-edit-token", posted["edit_token"].as_str().unwrap())
            .send().await.unwrap();
        assert_eq!(deleted.status(), 200);
        assert_error(react(&app, "192.0.2.1", id, "heart", true).await, 404, "comment_not_found").await;
        assert_error(react(&app, "192.0.2.1", id, "heart", false).await, 404, "comment_not_found").await;

        app.set_settings(|s| s.moderation = kith::domain::site::ModerationMode::All).await;
        let held = app.post_ok("/r/", "Bob", "held", None).await["comment"]["id"].as_i64().unwrap();
        assert_error(react(&app, "192.0.2.1", held, "heart", true).await, 404, "comment_not_found").await;
        // Another site's comment is not found through this one.
        assert_error(
            app.client.post(format!("{}/api/v1/sites/nope/comments/{held}/reactions/heart", app.address))
                .send().await.unwrap(),
            404, "site_not_found",
        ).await;
    }

    async fn a_site_with_reactions_off_refuses_and_hides_them(app: TestApp) {
        let id = post_id(&app, "/r/", "Ann").await;
        react_ok(&app, "192.0.2.1", id, "laugh", true).await;
        let settings: Value = app.client.get(format!("{}/settings", app.api)).send().await.unwrap().json().await.unwrap();
        assert_eq!(settings["reactions"], true, "on by default");

        app.set_settings(|s| s.reactions = false).await;
        let settings: Value = app.client.get(format!("{}/settings", app.api)).send().await.unwrap().json().await.unwrap();
        assert_eq!(settings["reactions"], false);
        assert_error(react(&app, "192.0.2.2", id, "laugh", true).await, 403, "reactions_disabled").await;
        assert_error(react(&app, "192.0.2.1", id, "laugh", false).await, 403, "reactions_disabled").await;
        assert!(first(&app, "/r/").await.get("reactions").is_none(), "counts are not shown either");

        // Turned on again, the counts kept are back.
        app.set_settings(|s| s.reactions = true).await;
        assert_eq!(first(&app, "/r/").await["reactions"], json!({"laugh": 1}));
    }

    async fn concurrent_reactions_count_each_reader_exactly_once(app: TestApp) {
        let id = post_id(&app, "/r/", "Ann").await;
        let app = std::sync::Arc::new(app);
        // Eight readers, each sending the same reaction three times at once.
        let give = (0..24).map(|n| {
            let app = app.clone();
            actix_web::rt::spawn(async move {
                react(&app, &format!("198.51.100.{}", n % 8), id, "hooray", true).await.status().as_u16()
            })
        }).collect::<Vec<_>>();
        for task in give {
            assert_eq!(task.await.unwrap(), 200);
        }
        assert_eq!(first(&app, "/r/").await["reactions"], json!({"hooray": 8}));
        // And all take it back at once, twice each: back to none, never below.
        let take = (0..16).map(|n| {
            let app = app.clone();
            actix_web::rt::spawn(async move {
                react(&app, &format!("198.51.100.{}", n % 8), id, "hooray", false).await.status().as_u16()
            })
        }).collect::<Vec<_>>();
        for task in take {
            assert_eq!(task.await.unwrap(), 200);
        }
        assert!(first(&app, "/r/").await.get("reactions").is_none());
        let again = react_ok(&app, "198.51.100.1", id, "hooray", true).await;
        assert_eq!(again["reactions"], json!({"hooray": 1}));
    }

    async fn an_edited_comment_keeps_its_reactions_in_the_answer(app: TestApp) {
        let posted = app.post_ok("/r/", "Ann", "text", None).await;
        let id = posted["comment"]["id"].as_i64().unwrap();
        react_ok(&app, "192.0.2.1", id, "confused", true).await;
        let edited: Value = app.client.patch(format!("{}/comments/{id}", app.api))
            .header("x-edit-token", posted["edit_token"].as_str().unwrap())
            .json(&json!({"body": "better"})).send().await.unwrap().json().await.unwrap();
        assert_eq!(edited["comment"]["reactions"], json!({"confused": 1}), "{edited}");
    }

    async fn avatars_are_identicons_unless_the_site_opts_in(app: TestApp) {
        let posted = app.post_ok("/a/", "Ann", "text", None).await;
        assert!(posted["comment"].get("avatar_url").is_none());
        let comment = first(&app, "/a/").await;
        assert!(comment.get("avatar_url").is_none(), "{comment}");
        assert!(comment["avatar"].as_str().is_some_and(|a| !a.is_empty()));
        let settings: Value = app.client.get(format!("{}/settings", app.api)).send().await.unwrap().json().await.unwrap();
        assert_eq!(settings["avatars"], "identicon");
    }

    async fn libravatar_and_gravatar_urls_carry_a_hash_of_the_address_never_the_address(app: TestApp) {
        app.post_ok("/a/", "Ann", "text", None).await;
        app.set_settings(|s| s.require_email = false).await;
        // Without an address there is nothing to look up: the identicon stays.
        let anonymous = app.post_comment(&json!({"thread_key": "/a/", "author": "Nobody", "body": "hi"})).await;
        assert_eq!(anonymous.status(), 201);
        let hash = hex::encode(Sha256::digest(b"ann@example.com"));

        for (setting, source, host) in [
            ("libravatar", AvatarSource::Libravatar, "https://seccdn.libravatar.org/avatar/"),
            ("gravatar", AvatarSource::Gravatar, "https://www.gravatar.com/avatar/"),
        ] {
            app.set_settings(move |s| s.avatars = source).await;
            let settings: Value = app.client.get(format!("{}/settings", app.api)).send().await.unwrap().json().await.unwrap();
            assert_eq!(settings["avatars"], setting);
            let text = app.get_thread("key=/a/").await.text().await.unwrap();
            assert!(!text.contains("ann@example.com") && !text.contains("example.com"), "{text}");
            let thread: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(thread["comments"][0]["avatar_url"], format!("{host}{hash}?s=80&d=404"));
            assert!(thread["comments"][0]["avatar"].as_str().is_some_and(|a| !a.is_empty()), "the fallback stays");
            assert!(thread["comments"][1].get("avatar_url").is_none(), "{}", thread["comments"][1]);
            let posted = app.post_ok("/a/", "Bob", "text", None).await;
            let bob = hex::encode(Sha256::digest(b"bob@example.com"));
            assert_eq!(posted["comment"]["avatar_url"], format!("{host}{bob}?s=80&d=404"));
        }
    }
}

/// Reactions share the like's rate limit: past its burst a reader gets 429, another does not.
async fn reactions_are_rate_limited_with_likes(db: Db) {
    let app = spawn_app_with(db, |config| {
        config.rate_limits.like = Quota::new(1, 2);
        config.rate_limits.prefix_multiplier = 100;
    })
    .await;
    let id = post_id(&app, "/r/", "Ann").await;
    let like = app
        .client
        .post(format!("{}/comments/{id}/like", app.api))
        .header("x-forwarded-for", "203.0.113.5")
        .send()
        .await
        .unwrap();
    assert_eq!(like.status(), 200);
    react_ok(&app, "203.0.113.5", id, "eyes", true).await;
    let limited = assert_error(
        react(&app, "203.0.113.5", id, "eyes", false).await,
        429,
        "rate_limited",
    )
    .await;
    assert!(limited["message"].is_string());
    react_ok(&app, "203.0.113.6", id, "eyes", true).await;
}

crate::each_on_both_backends!(reactions_are_rate_limited_with_likes);
