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

/// Signs `subject` in by e-mail link on the default site (the service's entry point, as the
/// link's exchange ends in it): a fresh session token, as a new device gets.
async fn session_of(app: &TestApp, subject: &'static str) -> String {
    kith::service::blocking(&app.state, move |state, conn| {
        let site = kith::service::sites::find(state, conn, "default")?;
        kith::service::readers::sign_in(
            state,
            conn,
            &site,
            kith::domain::reader::VerifiedIdentity {
                provider: "email".into(),
                subject: subject.into(),
                email: Some(subject.into()),
                email_verified: true,
                display_name: "Reader".into(),
            },
        )
    })
    .await
    .map(|(_, token)| token.0)
    .unwrap()
}

/// `react`, as the signed-in reader holding `token`.
async fn react_as(
    app: &TestApp,
    token: &str,
    ip: &str,
    id: i64,
    reaction: &str,
    on: bool,
) -> Value {
    let url = format!("{}/comments/{id}/reactions/{reaction}", app.api);
    let request = if on {
        app.client.post(url)
    } else {
        app.client.delete(url)
    };
    let response = request
        .header("x-forwarded-for", ip)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reacted"], on);
    body
}

async fn like_as(app: &TestApp, token: Option<&str>, ip: &str, id: i64) -> Value {
    let mut request = app
        .client
        .post(format!("{}/comments/{id}/like", app.api))
        .header("x-forwarded-for", ip);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

both_backends! {
    async fn a_signed_in_reader_reacts_once_on_every_device_and_network(app: TestApp) {
        app.set_settings(|s| s.signin_methods = vec!["email".into()]).await;
        let id = post_id(&app, "/r/", "Ann").await;
        // Two devices (two sessions of one reader) on three networks.
        let phone = session_of(&app, "sam@example.com").await;
        let laptop = session_of(&app, "sam@example.com").await;
        assert_ne!(phone, laptop);
        let given = react_as(&app, &phone, "192.0.2.1", id, "heart", true).await;
        assert_eq!(given["reactions"], json!({"heart": 1}));
        let again = react_as(&app, &laptop, "198.51.100.7", id, "heart", true).await;
        assert_eq!(again["reactions"], json!({"heart": 1}), "the same reader on another device and network");
        // Anonymous readers keep the address as their key: someone at the reader's old
        // address, not signed in, is somebody else.
        let anonymous = react_ok(&app, "192.0.2.1", id, "heart", true).await;
        assert_eq!(anonymous["reactions"], json!({"heart": 2}));
        // Another signed-in reader on the same address counts on their own.
        let ann = session_of(&app, "ann@example.com").await;
        let other = react_as(&app, &ann, "192.0.2.1", id, "heart", true).await;
        assert_eq!(other["reactions"], json!({"heart": 3}));
        // Taken back from a third network, the reader's one reaction goes.
        let taken = react_as(&app, &laptop, "203.0.113.9", id, "heart", false).await;
        assert_eq!(taken["reactions"], json!({"heart": 2}));
        let twice = react_as(&app, &phone, "192.0.2.1", id, "heart", false).await;
        assert_eq!(twice["reactions"], json!({"heart": 2}), "taken back once only");
        assert_eq!(first(&app, "/r/").await["reactions"], json!({"heart": 2}));
        let checked = crate::helpers::assert_reaction_counts_match_scan(&mut app.state.pool.get().unwrap());
        assert_eq!(checked, 1);
    }

    async fn a_signed_in_reader_likes_and_reports_once_on_every_device(app: TestApp) {
        app.set_settings(|s| {
            s.signin_methods = vec!["email".into()];
            s.report_threshold = 2;
        })
        .await;
        let id = post_id(&app, "/r/", "Ann").await;
        let phone = session_of(&app, "sam@example.com").await;
        let laptop = session_of(&app, "sam@example.com").await;
        assert_eq!(like_as(&app, Some(&phone), "192.0.2.1", id).await["likes"], 1);
        assert_eq!(like_as(&app, Some(&laptop), "198.51.100.7", id).await["likes"], 1);
        assert_eq!(like_as(&app, None, "192.0.2.1", id).await["likes"], 2, "anonymous: by address");
        assert_eq!(like_as(&app, None, "192.0.2.1", id).await["likes"], 2);
        // Two reports hide a comment; one reader reporting from two devices is one reporter.
        for (token, ip) in [(&phone, "192.0.2.1"), (&laptop, "198.51.100.7")] {
            let reported = app.client.post(format!("{}/comments/{id}/report", app.api))
                .header("x-forwarded-for", ip).bearer_auth(token)
                .json(&json!({"reason": "rude"})).send().await.unwrap();
            assert_eq!(reported.status(), 200);
        }
        assert_eq!(first(&app, "/r/").await["id"], id, "still shown after one reporter");
    }

    async fn an_ended_session_is_refused_not_taken_for_anonymous(app: TestApp) {
        app.set_settings(|s| s.signin_methods = vec!["email".into()]).await;
        let id = post_id(&app, "/r/", "Ann").await;
        let token = session_of(&app, "sam@example.com").await;
        let ended = app.client.delete(format!("{}/auth/session", app.api)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(ended.status(), 200);
        for url in [format!("{}/comments/{id}/reactions/eyes", app.api), format!("{}/comments/{id}/like", app.api)] {
            let refused = app.client.post(url).bearer_auth(&token).send().await.unwrap();
            assert_error(refused, 401, "session_expired").await;
        }
        assert!(first(&app, "/r/").await.get("reactions").is_none());
        assert_eq!(first(&app, "/r/").await["likes"], 0);
    }

    async fn reaction_counts_travel_in_the_kith_export_without_who_reacted(app: TestApp) {
        use kith::service::export::{ExportFormat, export_site};
        use kith::service::import::{ImportOptions, import_file};
        app.set_settings(|s| s.signin_methods = vec!["email".into()]).await;
        let a = post_id(&app, "/r/", "Ann").await;
        let b = app.post_ok("/r/", "Bob", "reply", Some(a)).await["comment"]["id"].as_i64().unwrap();
        let token = session_of(&app, "sam@example.com").await;
        for ip in ["192.0.2.1", "192.0.2.2", "192.0.2.3"] {
            react_ok(&app, ip, a, "heart", true).await;
        }
        react_as(&app, &token, "192.0.2.1", a, "+1", true).await;
        react_ok(&app, "192.0.2.1", b, "eyes", true).await;
        let mut conn = app.state.pool.get().unwrap();
        let mut file = Vec::new();
        export_site(&app.state, &mut conn, "default", ExportFormat::Kith, &mut file).unwrap();
        let text = String::from_utf8(file.clone()).unwrap();
        let exported: Value = serde_json::from_str(&text).unwrap();
        let comments = exported["threads"][0]["comments"].as_array().unwrap();
        assert_eq!(comments[0]["reactions"], json!({"+1": 1, "heart": 3}));
        assert_eq!(comments[1]["reactions"], json!({"eyes": 1}));
        assert!(!text.contains("sam@example.com") && !text.contains("voter"), "no reader in the file");

        // Into another site: the counts come back and are kept as counts.
        let now = chrono::Utc::now().naive_utc();
        let settings = kith::domain::site::SiteSettings::default();
        assert!(kith::db::sites::insert_if_absent(&mut conn, "copy", "Copy", &[], &settings, now).unwrap());
        let report = import_file(&app.state, &mut conn, "copy", &file, &ImportOptions::default()).unwrap();
        assert_eq!(report.comments, 2);
        let copy = format!("{}/api/v1/sites/copy", app.address);
        let thread: Value = app.client.get(format!("{copy}/thread?key=/r/")).send().await.unwrap().json().await.unwrap();
        let copied = &thread["comments"][0];
        assert_eq!(copied["reactions"], json!({"+1": 1, "heart": 3}), "{thread}");
        assert_eq!(copied["replies"][0]["reactions"], json!({"eyes": 1}));
        // Readers react on the copy as on any comment: counted on top, taken back down to the
        // imported count and never below it.
        let copied_id = copied["id"].as_i64().unwrap();
        let react_copy = |ip: &'static str, on: bool| {
            let url = format!("{copy}/comments/{copied_id}/reactions/heart");
            let request = if on { app.client.post(url) } else { app.client.delete(url) };
            request.header("x-forwarded-for", ip).send()
        };
        let given: Value = react_copy("192.0.2.50", true).await.unwrap().json().await.unwrap();
        assert_eq!(given["reactions"], json!({"+1": 1, "heart": 4}));
        let taken: Value = react_copy("192.0.2.50", false).await.unwrap().json().await.unwrap();
        assert_eq!(taken["reactions"], json!({"+1": 1, "heart": 3}));
        let never: Value = react_copy("192.0.2.1", false).await.unwrap().json().await.unwrap();
        assert_eq!(never["reactions"], json!({"+1": 1, "heart": 3}), "a reader of the old site has no reaction here");
        // Exported again, the copy's counts are the original's; importing again adds nothing.
        let mut again = Vec::new();
        export_site(&app.state, &mut conn, "copy", ExportFormat::Kith, &mut again).unwrap();
        let again: Value = serde_json::from_slice(&again).unwrap();
        assert_eq!(again["threads"][0]["comments"][0]["reactions"], comments[0]["reactions"]);
        assert_eq!(again["threads"][0]["comments"][1]["reactions"], comments[1]["reactions"]);
        let report = import_file(&app.state, &mut conn, "copy", &file, &ImportOptions::default()).unwrap();
        assert_eq!((report.comments, report.already_present), (0, 2));
        let thread: Value = app.client.get(format!("{copy}/thread?key=/r/")).send().await.unwrap().json().await.unwrap();
        assert_eq!(thread["comments"][0]["reactions"], json!({"+1": 1, "heart": 3}));
        assert_eq!(crate::helpers::assert_reaction_counts_match_scan(&mut conn), 6);
    }

    async fn a_kith_file_without_reactions_or_with_unknown_ones_still_imports(app: TestApp) {
        use kith::service::import::{ImportOptions, import_file};
        let mut conn = app.state.pool.get().unwrap();
        // As written before reactions existed, and with one id this kith does not offer.
        let old = br#"{"format":"kith","version":1,"threads":[{"key":"/old/","comments":[
            {"source_id":"1","author":"Ann","created_at":"2024-01-01T10:00:00Z",
             "body":{"markdown":"old"},"status":"approved","likes":2},
            {"source_id":"2","author":"Bob","created_at":"2024-01-01T11:00:00Z",
             "body":{"markdown":"new"},"status":"approved",
             "reactions":{"heart":2,"rocket":5,"eyes":0,"laugh":-3}}]}]}"#;
        let report = import_file(&app.state, &mut conn, "default", old, &ImportOptions::default()).unwrap();
        assert_eq!(report.comments, 2);
        assert!(report.notes.iter().any(|n| n.contains("rocket")), "{:?}", report.notes);
        assert!(report.notes.iter().any(|n| n.contains("laugh")), "{:?}", report.notes);
        let thread = app.thread("/old/").await;
        assert_eq!(thread["comments"][0]["likes"], 2);
        assert!(thread["comments"][0].get("reactions").is_none());
        assert_eq!(thread["comments"][1]["reactions"], json!({"heart": 2}));
        assert_eq!(crate::helpers::assert_reaction_counts_match_scan(&mut conn), 1);
        crate::helpers::assert_counters_match_scan(&mut conn);
    }
}
