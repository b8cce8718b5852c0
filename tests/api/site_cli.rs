//! `kith site …` configures sites from the command line, with the admin form's checks, and a
//! running server sees the change.

use std::process::{Command, Output};

use crate::both_backends;
use crate::helpers::TestApp;

fn kith(app: &TestApp, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kith"))
        .args(args)
        .env("KITH_DATABASE__URL", &app.state.config.database.url)
        .env("KITH_LOG__LEVEL", "warn")
        .output()
        .unwrap()
}

fn ok(app: &TestApp, args: &[&str]) -> String {
    let out = kith(app, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{args:?}: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

both_backends! {
    async fn site_set_changes_origins_and_spam_defences_and_the_server_follows(app: TestApp) {
        let listed = ok(&app, &["site", "list"]);
        assert!(listed.starts_with("default\t"), "{listed}");
        let shown: serde_json::Value = serde_json::from_str(&ok(&app, &[
            "site", "set", "default", "--name", "Quiet Corner",
            "--allowed-origins", "https://blog.example, http://localhost:*",
            "--pow-difficulty", "12", "--honeypot", "false", "--hold-words", "casino,free money",
        ])).unwrap();
        assert_eq!(shown["name"], "Quiet Corner");
        assert_eq!(shown["allowed_origins"], serde_json::json!(["https://blog.example", "http://localhost:*"]));
        assert_eq!(shown["settings"]["pow_difficulty"], 12);
        assert_eq!(shown["settings"]["honeypot"], false);
        assert_eq!(shown["settings"]["hold_words"], serde_json::json!(["casino", "free money"]));
        // Settings not named stay as they were.
        assert_eq!(shown["settings"]["require_form_token"], false, "as the test app set it");
        assert_eq!(shown["settings"]["max_depth"], 5);

        // The running server's cache may hold the old site for its time to live; a fresh read
        // through the service sees the change, and the new origin is allowed.
        app.state.sites.invalidate("default");
        let response = app.client.get(format!("{}/settings", app.api))
            .header("origin", "https://blog.example").send().await.unwrap();
        assert_eq!(response.status(), 200);
        let settings: serde_json::Value = response.json().await.unwrap();
        assert_eq!(settings["name"], "Quiet Corner");

        let created: serde_json::Value = serde_json::from_str(&ok(&app, &[
            "site", "create", "blog", "--allowed-origins", "https://b.example", "--language", "de",
        ])).unwrap();
        assert_eq!(created["slug"], "blog");
        assert_eq!(created["settings"]["language"], "de");
        assert!(ok(&app, &["site", "show", "blog"]).contains("https://b.example"));
    }

    async fn site_set_owner_frequency_chooses_instant_daily_or_weekly_alerts(app: TestApp) {
        let shown: serde_json::Value = serde_json::from_str(&ok(&app, &[
            "site", "set", "default", "--owner-frequency", "weekly",
        ])).unwrap();
        assert_eq!(shown["settings"]["owner_frequency"], "weekly");
        let out = kith(&app, &["site", "set", "default", "--owner-frequency", "hourly"]);
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--owner-frequency: must be instant, daily or weekly"), "{stderr}");
        let shown: serde_json::Value = serde_json::from_str(&ok(&app, &["site", "show", "default"])).unwrap();
        assert_eq!(shown["settings"]["owner_frequency"], "weekly");
    }

    async fn site_set_refuses_bad_values_naming_the_option_and_changes_nothing(app: TestApp) {
        for (args, wanted) in [
            (&["site", "set", "default", "--max-depth", "99"][..], "--max-depth: must be a whole number from 1 to 20"),
            (&["site", "set", "default", "--allowed-origins", "ftp://x"][..], "--allowed-origins"),
            (&["site", "set", "default", "--moderation", "sometimes"][..], "--moderation"),
            (&["site", "set", "default", "--avatars", "facebook"][..], "--avatars: must be identicon, libravatar or gravatar"),
            (&["site", "set", "nope", "--name", "x"][..], "no site named `nope`"),
            (&["site", "create", "default"][..], "exists already"),
        ] {
            let out = kith(&app, args);
            assert!(!out.status.success(), "{args:?}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains(wanted), "{args:?}: {stderr}");
        }
        let shown: serde_json::Value = serde_json::from_str(&ok(&app, &["site", "show", "default"])).unwrap();
        assert_eq!(shown["settings"]["max_depth"], 5);
        assert_eq!(shown["settings"]["moderation"], "none");
        assert_eq!(shown["settings"]["avatars"], "identicon");
    }

    async fn site_set_turns_reactions_off_and_avatars_on(app: TestApp) {
        let shown: serde_json::Value = serde_json::from_str(&ok(&app, &[
            "site", "set", "default", "--reactions", "false", "--avatars", "libravatar",
        ])).unwrap();
        assert_eq!(shown["settings"]["reactions"], false);
        assert_eq!(shown["settings"]["avatars"], "libravatar");
        app.state.sites.invalidate("default");
        let settings: serde_json::Value = app.client.get(format!("{}/settings", app.api))
            .send().await.unwrap().json().await.unwrap();
        assert_eq!(settings["reactions"], false);
        assert_eq!(settings["avatars"], "libravatar");
        let shown: serde_json::Value = serde_json::from_str(&ok(&app, &[
            "site", "set", "default", "--reactions", "true",
        ])).unwrap();
        assert_eq!(shown["settings"]["reactions"], true);
        assert_eq!(shown["settings"]["avatars"], "libravatar", "not named: kept");
    }
}
