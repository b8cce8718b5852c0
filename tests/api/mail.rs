//! Mail against a real SMTP server on loopback: notifications, double opt-in, owner links,
//! unsubscribing, "manage my comments", and the outbox surviving an SMTP outage.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{
    Db, TestApp, comment_id, mail_comment, mail_config, spawn_app_with, spawn_app_with_mail,
};
use crate::smtp::{Captured, SmtpServer};
use kith::config::{Config, OwnerNotifications};
use kith::domain::site::ModerationMode;

crate::each_on_both_backends!(
    mail_reply_notification_reaches_only_confirmed_opted_in_parents,
    mail_thread_subscription_and_one_mail_per_address,
    mail_confirmed_address_counts_as_known_author,
    mail_owner_links_moderate_once_and_refuse_forged_or_expired,
    mail_owner_ban_link_bans_the_author_and_marks_the_comment_spam,
    mail_unsubscribe_by_link_and_one_click_post,
    mail_manage_my_comments_lists_deletes_and_exports,
    mail_smtp_outage_loses_nothing_and_sends_once,
    mail_given_up_after_the_last_attempt_is_listed_as_failed,
    mail_off_without_smtp_changes_nothing_for_posting,
    mail_two_processes_sharing_the_database_send_each_mail_once,
    mail_templates_from_a_folder_replace_the_built_in_ones_and_escape,
    mail_speaks_the_sites_language,
    mail_background_worker_sends_on_its_own_and_stops_cleanly,
    mail_spam_caught_by_the_defences_is_never_mailed,
    mail_leased_by_a_live_worker_waits_and_a_dead_workers_lease_lapses,
);

fn kinds_to(smtp: &SmtpServer, address: &str) -> usize {
    smtp.to(address).len()
}

/// Follows the confirmation link mailed to `address`: the GET only shows a button.
async fn confirm(app: &TestApp, smtp: &SmtpServer, address: &str) {
    let mails = smtp.to(address);
    let link = mails
        .iter()
        .find_map(|m| m.link("/mail/confirm/"))
        .unwrap_or_else(|| panic!("no confirmation mail to {address}: {mails:#?}"));
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("<form method=\"post\" action=\"{link}\">")),
        "{html}"
    );
    let done = app.client.post(&link).send().await.unwrap();
    assert_eq!(done.status(), 200);
}

fn assert_well_formed(mail: &Captured) {
    let content_type = mail.header("Content-Type").unwrap_or_default();
    assert!(
        content_type.contains("multipart/alternative"),
        "{content_type}"
    );
    assert!(!mail.text().is_empty(), "no text part in {}", mail.data);
    assert!(mail.html().contains("<html"), "no HTML part");
    let unsubscribe = mail
        .header("List-Unsubscribe")
        .expect("List-Unsubscribe header");
    assert!(unsubscribe.starts_with("<http") && unsubscribe.contains("/mail/unsubscribe/"));
    let message_id = mail.header("Message-ID").expect("Message-ID header");
    assert!(message_id.starts_with("<kith.") && message_id.ends_with("@blog.example>"));
    assert_eq!(
        mail.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    assert!(
        mail.text().contains("/mail/unsubscribe/"),
        "no unsubscribe link in the text: {}",
        mail.data
    );
}

async fn mail_reply_notification_reaches_only_confirmed_opted_in_parents(db: Db) {
    let (app, smtp) = spawn_app_with_mail(db, |_| {}).await;
    let ann = app
        .post_json_ok(mail_comment("Ann", "First!", None, true, false))
        .await;
    app.drain_outbox().await;
    assert_eq!(
        kinds_to(&smtp, "ann@example.com"),
        1,
        "one confirmation mail"
    );

    // Not confirmed yet: Bob's reply sends Ann nothing, nor a second confirmation.
    app.post_json_ok(mail_comment(
        "Bob",
        "Reply before confirming",
        Some(comment_id(&ann)),
        true,
        false,
    ))
    .await;
    app.drain_outbox().await;
    assert_eq!(kinds_to(&smtp, "ann@example.com"), 1);

    confirm(&app, &smtp, "ann@example.com").await;
    let carol = app
        .post_json_ok(mail_comment(
            "Carol",
            "Carol *agrees*",
            Some(comment_id(&ann)),
            false,
            false,
        ))
        .await;
    app.drain_outbox().await;
    let to_ann = smtp.to("ann@example.com");
    assert_eq!(to_ann.len(), 2, "{to_ann:#?}");
    let reply = &to_ann[1];
    assert_well_formed(reply);
    assert!(reply.text().contains("Carol *agrees*"));
    assert!(reply.html().contains("<em>agrees</em>"));
    assert!(reply.text().contains(&format!(
        "https://blog.example/post/#comment-{}",
        comment_id(&carol)
    )));
    assert!(reply.text().contains("Ann's Blog"));
    assert!(
        !reply.data.contains("carol@example.com"),
        "no other reader's address"
    );
    assert!(!reply.data.contains("bob@example.com"));

    // Ann answering herself, and replies to someone who did not opt in, send nothing.
    app.post_json_ok(mail_comment(
        "Ann",
        "Thanks all",
        Some(comment_id(&ann)),
        true,
        false,
    ))
    .await;
    let dave = app
        .post_json_ok(mail_comment("Dave", "No mail for me", None, false, false))
        .await;
    app.post_json_ok(mail_comment(
        "Erin",
        "Hi Dave",
        Some(comment_id(&dave)),
        false,
        false,
    ))
    .await;
    app.drain_outbox().await;
    assert_eq!(kinds_to(&smtp, "ann@example.com"), 2);
    assert_eq!(kinds_to(&smtp, "dave@example.com"), 0);
    // Bob asked for replies but never confirmed: only his confirmation mail.
    assert_eq!(kinds_to(&smtp, "bob@example.com"), 1);
}

async fn mail_thread_subscription_and_one_mail_per_address(db: Db) {
    let (app, smtp) = spawn_app_with_mail(db, |_| {}).await;
    let ann = app
        .post_json_ok(mail_comment("Ann", "Subscribing", None, true, true))
        .await;
    app.drain_outbox().await;
    confirm(&app, &smtp, "ann@example.com").await;

    app.post_json_ok(mail_comment("Bob", "New top-level", None, false, false))
        .await;
    app.drain_outbox().await;
    let to_ann = smtp.to("ann@example.com");
    assert_eq!(to_ann.len(), 2);
    assert!(to_ann[1].text().contains("New top-level"));
    assert_well_formed(&to_ann[1]);

    // A reply to Ann in a thread she follows: one mail, not two.
    app.post_json_ok(mail_comment(
        "Carol",
        "Reply to Ann",
        Some(comment_id(&ann)),
        false,
        false,
    ))
    .await;
    app.drain_outbox().await;
    assert_eq!(kinds_to(&smtp, "ann@example.com"), 3);
}

async fn mail_confirmed_address_counts_as_known_author(db: Db) {
    let (app, smtp) = spawn_app_with_mail(db, |_| {}).await;
    app.set_settings(|s| s.moderation = ModerationMode::FirstTime)
        .await;
    let first = app
        .post_json_ok(mail_comment("Ann", "Hello", None, true, false))
        .await;
    assert_eq!(first["comment"]["status"], "pending");
    let typed_by_someone = app
        .post_json_ok(mail_comment("Ann", "Again", None, false, false))
        .await;
    assert_eq!(
        typed_by_someone["comment"]["status"], "pending",
        "unconfirmed is unknown"
    );
    app.drain_outbox().await;
    confirm(&app, &smtp, "ann@example.com").await;
    let later = app
        .post_json_ok(mail_comment("Ann", "Once more", None, false, false))
        .await;
    assert_eq!(later["comment"]["status"], "approved");
}

fn owner_link(mail: &Captured, action: &str) -> String {
    let text = mail.text();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim_end_matches(':') == action {
            return lines.next().unwrap().trim().to_string();
        }
    }
    panic!("no {action} link in {text}");
}

async fn status_of(app: &TestApp, comment: i64) -> Option<String> {
    kith::service::blocking(&app.state, move |_, conn| {
        Ok(
            kith::db::comments::find(conn, kith::domain::comment::CommentId(comment))?
                .map(|c| c.status.as_str().to_string()),
        )
    })
    .await
    .unwrap()
}

async fn mail_owner_links_moderate_once_and_refuse_forged_or_expired(db: Db) {
    let (app, smtp) = spawn_app_with_mail(db, |c| {
        c.mail.owner_notifications = OwnerNotifications::Held
    })
    .await;
    app.set_settings(|s| s.moderation = ModerationMode::All)
        .await;
    // Bob follows the thread (and confirms), so the approval must reach him.
    app.post_json_ok(mail_comment("Bob", "Following", None, false, true))
        .await;
    app.drain_outbox().await;
    confirm(&app, &smtp, "bob@example.com").await;

    let held = app
        .post_json_ok(mail_comment("Ann", "Please approve", None, false, false))
        .await;
    let spammy = app
        .post_json_ok(mail_comment("Spammer", "Buy now", None, false, false))
        .await;
    let doomed = app
        .post_json_ok(mail_comment("Zed", "Delete me", None, false, false))
        .await;
    app.drain_outbox().await;
    let owner = smtp.to("owner@blog.example");
    assert_eq!(owner.len(), 4, "one per held comment");
    let ann_mail = owner
        .iter()
        .find(|m| m.text().contains("Please approve"))
        .unwrap();
    assert!(ann_mail.text().contains("A post"));
    assert!(
        ann_mail
            .text()
            .contains("https://blog.example/post/#comment-")
    );
    assert!(
        ann_mail.text().contains("all comments are held"),
        "why held"
    );
    assert!(
        !ann_mail.data.contains("ann@example.com"),
        "no commenter address"
    );
    assert!(ann_mail.html().contains("<html"));

    let approve = owner_link(ann_mail, "Approve");
    // Opening the link (as a scanner would) changes nothing.
    let page = app.client.get(&approve).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Please approve"));
    assert_eq!(
        status_of(&app, comment_id(&held)).await.as_deref(),
        Some("pending")
    );
    let done = app.client.post(&approve).send().await.unwrap();
    assert_eq!(done.status(), 200);
    assert_eq!(
        status_of(&app, comment_id(&held)).await.as_deref(),
        Some("approved")
    );
    // Works once.
    assert_eq!(
        app.client.post(&approve).send().await.unwrap().status(),
        410
    );
    assert_eq!(app.client.get(&approve).send().await.unwrap().status(), 410);
    // The approval told Bob, the thread's subscriber.
    app.drain_outbox().await;
    let to_bob = smtp.to("bob@example.com");
    assert!(
        to_bob.iter().any(|m| m.text().contains("Please approve")),
        "{to_bob:#?}"
    );

    let spam_mail = owner.iter().find(|m| m.text().contains("Buy now")).unwrap();
    let spam = owner_link(spam_mail, "Mark as spam");
    assert_eq!(app.client.post(&spam).send().await.unwrap().status(), 200);
    assert_eq!(
        status_of(&app, comment_id(&spammy)).await.as_deref(),
        Some("spam")
    );

    let doomed_mail = owner
        .iter()
        .find(|m| m.text().contains("Delete me"))
        .unwrap();
    let delete = owner_link(doomed_mail, "Delete");
    // Forged: one changed character in the signature.
    let mut forged = delete.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == '0' { '1' } else { '0' });
    assert_eq!(app.client.post(&forged).send().await.unwrap().status(), 403);
    let tampered = delete.replace("m.delete.", "m.approve.");
    assert_eq!(
        app.client.post(&tampered).send().await.unwrap().status(),
        403
    );
    assert_eq!(app.client.post(&delete).send().await.unwrap().status(), 200);
    // Deleted as from the admin area: hidden, and restorable there.
    assert_eq!(
        status_of(&app, comment_id(&doomed)).await.as_deref(),
        Some("deleted")
    );

    // Expired: a correctly signed link past its date.
    let expired = kith::notify::links::Link::Moderate {
        action: kith::notify::links::ModAction::Approve,
        comment: kith::domain::comment::CommentId(comment_id(&spammy)),
        expires: chrono::Utc::now().timestamp() - 1,
        nonce: "feedbeef".into(),
    }
    .sign(&app.state.keys);
    let url = format!("{}/mail/moderate/{expired}", app.address);
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 410);
    assert_eq!(app.client.post(&url).send().await.unwrap().status(), 410);
    assert_eq!(
        status_of(&app, comment_id(&spammy)).await.as_deref(),
        Some("spam")
    );
}

async fn bans(app: &TestApp) -> Vec<(String, String)> {
    kith::service::blocking(&app.state, |_, conn| {
        Ok(kith::db::bans::list(conn)?
            .into_iter()
            .map(|b| (b.kind.as_str().to_string(), b.value))
            .collect())
    })
    .await
    .unwrap()
}

async fn mail_owner_ban_link_bans_the_author_and_marks_the_comment_spam(db: Db) {
    let (app, smtp) = spawn_app_with_mail(db, |c| {
        c.mail.owner_notifications = OwnerNotifications::Held
    })
    .await;
    app.set_settings(|s| s.moderation = ModerationMode::All)
        .await;
    let troll = app
        .post_json_ok(mail_comment("Troll", "You all stink", None, false, false))
        .await;
    app.drain_outbox().await;
    let owner = smtp.to("owner@blog.example");
    assert_eq!(owner.len(), 1);
    let ban = owner_link(&owner[0], "Ban the author");

    // Opening the link only asks.
    let page = app.client.get(&ban).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("You all stink"), "{html}");
    assert!(html.contains("Ban this comment"), "{html}");
    assert!(bans(&app).await.is_empty());
    assert_eq!(
        status_of(&app, comment_id(&troll)).await.as_deref(),
        Some("pending")
    );

    let done = app.client.post(&ban).send().await.unwrap();
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("The author is banned"));
    assert_eq!(
        status_of(&app, comment_id(&troll)).await.as_deref(),
        Some("spam")
    );
    assert_eq!(
        bans(&app).await,
        vec![("email".to_string(), "troll@example.com".to_string())]
    );
    // Once only.
    assert_eq!(app.client.post(&ban).send().await.unwrap().status(), 410);

    // The next comment from that address goes straight to spam, and mails nobody.
    let again = app
        .post_json_ok(mail_comment("Troll", "Still here", None, false, false))
        .await;
    assert_eq!(
        status_of(&app, comment_id(&again)).await.as_deref(),
        Some("spam")
    );
    app.drain_outbox().await;
    assert_eq!(smtp.to("owner@blog.example").len(), 1);
}

async fn mail_unsubscribe_by_link_and_one_click_post(db: Db) {
    let (app, smtp) = spawn_app_with_mail(db, |_| {}).await;
    let ann = app
        .post_json_ok(mail_comment("Ann", "Following", None, true, true))
        .await;
    let zoe = app
        .post_json_ok(json!({
            "thread_key": "/other/", "author": "Zoe", "email": "ann@example.com",
            "body": "Ann on another page", "notify_thread": true
        }))
        .await;
    app.drain_outbox().await;
    confirm(&app, &smtp, "ann@example.com").await;
    app.post_json_ok(mail_comment("Bob", "Hello Ann", None, false, false))
        .await;
    app.drain_outbox().await;
    let to_ann = smtp.to("ann@example.com");
    let last = to_ann.last().unwrap();
    assert!(last.text().contains("Hello Ann"));
    let header = last.header("List-Unsubscribe").unwrap();
    let one_click = header
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string();

    // The GET page only offers buttons.
    let page = app.client.get(&one_click).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Stop mails about this page") && html.contains("Stop all mails"));

    // RFC 8058 one-click POST: stops mails about this page only.
    let response = app
        .client
        .post(&one_click)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let before = kinds_to(&smtp, "ann@example.com");
    app.post_json_ok(mail_comment("Carol", "Another", None, false, false))
        .await;
    app.post_json_ok(mail_comment(
        "Dan",
        "Reply to Ann",
        Some(comment_id(&ann)),
        false,
        false,
    ))
    .await;
    app.post_json_ok(
        json!({"thread_key": "/other/", "author": "Bob", "email": "bob@example.com",
        "body": "Elsewhere", "parent_id": zoe["comment"]["id"]}),
    )
    .await;
    app.drain_outbox().await;
    let after = smtp.to("ann@example.com");
    assert_eq!(after.len(), before + 1, "only the other page still mails");
    let other = after.last().unwrap();
    assert!(other.text().contains("Elsewhere"));

    // The link's page button for everything.
    let link = other.link("/mail/unsubscribe/").unwrap();
    let response = app
        .client
        .post(&link)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("scope=all")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    app.post_json_ok(
        json!({"thread_key": "/other/", "author": "Bob", "email": "bob@example.com",
        "body": "Still there?"}),
    )
    .await;
    app.drain_outbox().await;
    assert_eq!(kinds_to(&smtp, "ann@example.com"), before + 1);
}

async fn mail_manage_my_comments_lists_deletes_and_exports(db: Db) {
    let (app, smtp) = spawn_app_with_mail(db, |_| {}).await;
    let first = app
        .post_json_ok(mail_comment("Ann", "My first", None, false, false))
        .await;
    app.post_json_ok(mail_comment("Ann", "My second", None, false, false))
        .await;
    app.post_json_ok(mail_comment("Bob", "Not Ann's", None, false, false))
        .await;
    let ask = |email: &str| {
        app.client
            .post(format!("{}/mail/manage", app.api))
            .json(&json!({ "email": email }))
            .send()
    };
    assert_eq!(ask("ann@example.com").await.unwrap().status(), 202);
    assert_eq!(ask("nobody@example.com").await.unwrap().status(), 202);
    app.drain_outbox().await;
    assert_eq!(kinds_to(&smtp, "nobody@example.com"), 0);
    let mails = smtp.to("ann@example.com");
    assert_eq!(mails.len(), 1);
    let link = mails[0].link("/mail/manage/").unwrap();
    let page = app.page_text(&link).await;
    assert!(page.contains("My first") && page.contains("My second"));
    assert!(!page.contains("Not Ann"));

    let export = app
        .client
        .get(format!("{link}/comments.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 200);
    assert!(
        export.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let export: Value = export.json().await.unwrap();
    assert_eq!(export["comments"].as_array().unwrap().len(), 2);
    assert_eq!(export["comments"][0]["status"], "approved");
    assert_eq!(export["comments"][0]["body"], "My first");

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let deleted = client
        .post(format!("{link}/delete"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("comment={}", comment_id(&first)))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 303);
    let page = app.page_text(&link).await;
    assert!(!page.contains("My first") && page.contains("My second"));
    let all = client
        .post(format!("{link}/delete"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("comment=all")
        .send()
        .await
        .unwrap();
    assert_eq!(all.status(), 303);
    let thread = app.thread("/post/").await;
    assert_eq!(thread["total"], 1, "only Bob's comment is left");
    app.assert_counters_match_scan();
}

async fn mail_smtp_outage_loses_nothing_and_sends_once(db: Db) {
    let (app, smtp) =
        spawn_app_with_mail(db, |c| c.mail.owner_notifications = OwnerNotifications::All).await;
    // SMTP is down (every connection answered `421` and closed) while comments arrive: every
    // post succeeds, and no post talks to SMTP itself (the mails wait in the outbox).
    smtp.set_down(true);
    for n in 0..3 {
        app.post_json_ok(mail_comment(
            "Ann",
            &format!("Comment {n}"),
            None,
            false,
            false,
        ))
        .await;
    }
    assert_eq!(smtp.connections(), 0, "a post talked to SMTP");
    assert_eq!(app.outbox_step().await, 3, "three attempts, all failed");
    assert!(smtp.connections() >= 1, "the worker tried the server");
    let rows = kith::service::blocking(&app.state, |_, conn| kith::db::mail::list_outbox(conn))
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|r| r.status == "pending" && r.attempts == 1 && r.last_error.is_some()),
        "{rows:#?}"
    );

    // SMTP comes back: every mail arrives, exactly once.
    smtp.set_down(false);
    app.drain_outbox().await;
    let mails = smtp.wait_for(3).await;
    assert_eq!(mails.len(), 3);
    for n in 0..3 {
        let body = format!("Comment {n}");
        assert_eq!(mails.iter().filter(|m| m.text().contains(&body)).count(), 1);
    }
    assert_eq!(app.drain_outbox().await, 0);
    assert_eq!(smtp.messages().len(), 3);
}

async fn mail_given_up_after_the_last_attempt_is_listed_as_failed(db: Db) {
    let (app, smtp) = spawn_app_with_mail(db, |c| {
        c.mail.owner_notifications = OwnerNotifications::All;
        c.mail.max_attempts = 2;
    })
    .await;
    smtp.set_down(true);
    app.post_json_ok(mail_comment("Ann", "Nobody hears", None, false, false))
        .await;
    assert_eq!(app.drain_outbox().await, 2, "two attempts, then given up");
    let failed =
        kith::service::blocking(&app.state, |_, conn| kith::db::mail::list_failed(conn, 50))
            .await
            .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].recipient, "owner@blog.example");
    assert_eq!(failed[0].attempts, 2);
}

async fn mail_off_without_smtp_changes_nothing_for_posting(db: Db) {
    let app = spawn_app_with(db, |_| {}).await;
    app.post_json_ok(mail_comment("Ann", "No mail here", None, true, true))
        .await;
    let rows = kith::service::blocking(&app.state, |_, conn| kith::db::mail::list_outbox(conn))
        .await
        .unwrap();
    assert!(rows.is_empty());
    let response = app
        .client
        .post(format!("{}/mail/manage", app.api))
        .json(&json!({ "email": "ann@example.com" }))
        .send()
        .await
        .unwrap();
    crate::helpers::assert_error(response, 503, "mail_disabled").await;
}

#[actix_web::test]
async fn mail_test_command_prints_the_servers_answer() {
    let smtp = SmtpServer::start().await;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_kith"))
        .args(["mail", "test", "me@example.com"])
        .env("KITH_MAIL__SMTP_HOST", "127.0.0.1")
        .env("KITH_MAIL__SMTP_PORT", smtp.port.to_string())
        .env("KITH_MAIL__SECURITY", "plain")
        .env("KITH_MAIL__FROM", "kith <kith@example.com>")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("250"), "{stdout}");
    let mails = smtp.wait_for(1).await;
    assert_eq!(mails[0].to, vec!["me@example.com".to_string()]);
    assert_eq!(mails[0].from, "kith@example.com");
}

async fn mail_two_processes_sharing_the_database_send_each_mail_once(db: Db) {
    let smtp = SmtpServer::start().await;
    let port = smtp.port;
    let first = spawn_app_with(db, move |config| {
        mail_config(config, port);
        config.mail.owner_notifications = OwnerNotifications::All;
    })
    .await;
    let url = first.state.config.database.url.clone();
    let second = spawn_app_with(db, move |config| {
        mail_config(config, port);
        config.database.url = url;
    })
    .await;
    for n in 0..12 {
        first
            .post_json_ok(mail_comment(
                "Ann",
                &format!("Comment {n}"),
                None,
                false,
                false,
            ))
            .await;
    }
    let (a, b) = tokio::join!(first.drain_outbox(), second.drain_outbox());
    assert_eq!(
        a + b,
        12,
        "each mail claimed by exactly one worker ({a} + {b})"
    );
    let mails = smtp.wait_for(12).await;
    assert_eq!(mails.len(), 12);
    for n in 0..12 {
        let body = format!("Comment {n}\r\n");
        assert_eq!(
            mails.iter().filter(|m| m.text().contains(&body)).count(),
            1,
            "{body}"
        );
    }
}

async fn mail_templates_from_a_folder_replace_the_built_in_ones_and_escape(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("message.txt"),
        "CUSTOM {{ heading }}\n{{ comment_text }}\n{{ actions }}{{ unsubscribe_url }}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("message.html"),
        "<html><body><h1>CUSTOM {{ heading }}</h1><p>{{comment_author}}</p>{{ comment_html }}\
         {{ actions }}<a href=\"{{ unsubscribe_url }}\">x</a></body></html>",
    )
    .unwrap();
    let folder = dir.path().display().to_string();
    let (app, smtp) = spawn_app_with_mail(db, move |c| {
        c.mail.templates_dir = folder;
        c.mail.owner_notifications = OwnerNotifications::All;
    })
    .await;
    app.post_json_ok(mail_comment("Ann", "Hello **world**", None, false, false))
        .await;
    app.post_json_ok(
        json!({"thread_key": "/post/", "author": "<b>Eve</b>", "email": "eve@example.com",
        "body": "<script>alert(1)</script>"}),
    )
    .await;
    app.drain_outbox().await;
    let owner = smtp.wait_for(2).await;
    let ann = owner
        .iter()
        .find(|m| m.text().contains("Hello **world**"))
        .unwrap();
    assert!(ann.text().starts_with("CUSTOM "), "{}", ann.text());
    assert!(ann.html().contains("<strong>world</strong>"));
    let eve = owner
        .iter()
        .find(|m| m.text().contains("alert(1)"))
        .unwrap();
    assert!(
        eve.html().contains("<p>&#60;b&#62;Eve&#60;/b&#62;</p>"),
        "{}",
        eve.html()
    );
    assert!(!eve.html().contains("<script"), "{}", eve.html());
    assert!(!eve.html().contains("<b>Eve"), "{}", eve.html());
}

async fn mail_speaks_the_sites_language(db: Db) {
    let (app, smtp) = spawn_app_with_mail(db, |_| {}).await;
    app.set_settings(|s| s.language = "de".into()).await;
    app.post_json_ok(mail_comment("Ann", "Hallo", None, true, false))
        .await;
    app.drain_outbox().await;
    let mail = &smtp.wait_for(1).await[0];
    assert!(
        mail.text().contains("Bitte bestätigen Sie"),
        "{}",
        mail.text()
    );
    assert!(mail.html().contains("lang=\"de\""));
    // The link's page speaks German too.
    let link = mail.link("/mail/confirm/").unwrap();
    let page = app.page_text(&link).await;
    assert!(
        page.contains("lang=\"de\"") && page.contains("Benachrichtigungen bestätigen"),
        "{page}"
    );
    let done = app.post_page_text(&link).await;
    assert!(done.contains("Ihre Adresse ist bestätigt"), "{done}");
}

async fn mail_background_worker_sends_on_its_own_and_stops_cleanly(db: Db) {
    let (app, smtp) = spawn_app_with_mail(db, |c| {
        c.mail.worker = true;
        c.mail.poll_interval_ms = 20;
        c.mail.owner_notifications = OwnerNotifications::All;
        c.mail.from = "comments@blog.example".into();
    })
    .await;
    app.post_json_ok(mail_comment(
        "Ann",
        "Sent by the worker",
        None,
        false,
        false,
    ))
    .await;
    let mails = smtp.wait_for(1).await;
    assert!(mails[0].text().contains("Sent by the worker"));
    let from = mails[0].header("From").unwrap();
    // The site's name ("Ann's Blog", RFC 2047-encoded for its apostrophe) as the sender name.
    assert_eq!(from, "=?utf-8?b?QW5uJ3MgQmxvZw==?= <comments@blog.example>");
    // A second worker on the same state stops promptly when asked.
    let worker =
        kith::notify::worker::spawn_always(app.state.pool.clone(), app.state.config.mail.clone())
            .unwrap();
    tokio::time::timeout(Duration::from_secs(5), worker.stop())
        .await
        .expect("the worker stops");
}

#[test]
fn mail_settings_are_checked_and_the_password_never_printed() {
    let err = Config::from_toml("[mail]\nsmtp_host = \"smtp.example.com\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("mail.from"), "{err}");
    let err = Config::from_toml("[mail]\nsecurity = \"ssl\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("security"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("password");
    std::fs::write(&file, "from-a-file\n").unwrap();
    let config = Config::from_toml(&format!(
        "[mail]\nsmtp_host = \"smtp.example.com\"\nfrom = \"c@example.com\"\npassword_file = \"{}\"\n",
        file.display()
    ))
    .unwrap();
    assert_eq!(
        config.mail.password().unwrap().as_deref(),
        Some("from-a-file")
    );
    assert!(!format!("{:?}", config.mail).contains("from-a-file"));

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kith"))
        .arg("check-config")
        .env("KITH_MAIL__SMTP_HOST", "smtp.example.com")
        .env("KITH_MAIL__FROM", "c@example.com")
        .env("KITH_MAIL__USERNAME", "c@example.com")
        .env("KITH_MAIL__PASSWORD", "hunter2-secret")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("smtp.example.com"));
    assert!(!stdout.contains("hunter2-secret"), "{stdout}");
}

async fn mail_spam_caught_by_the_defences_is_never_mailed(db: Db) {
    let (app, smtp) =
        spawn_app_with_mail(db, |c| c.mail.owner_notifications = OwnerNotifications::All).await;
    let spam = app
        .post_json_ok(
            json!({"thread_key": "/post/", "author": "Bot", "email": "bot@example.com",
            "body": "Cheap pills", "hp": "filled by a bot", "notify_thread": true}),
        )
        .await;
    assert_eq!(
        status_of(&app, comment_id(&spam)).await.as_deref(),
        Some("spam")
    );
    app.post_json_ok(mail_comment("Ann", "A real comment", None, false, false))
        .await;
    app.drain_outbox().await;
    let mails = smtp.wait_for(1).await;
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert!(mails[0].text().contains("A real comment"));
}

async fn mail_leased_by_a_live_worker_waits_and_a_dead_workers_lease_lapses(db: Db) {
    use diesel::prelude::*;
    use kith::db::schema::mail_outbox;
    let (app, smtp) =
        spawn_app_with_mail(db, |c| c.mail.owner_notifications = OwnerNotifications::All).await;
    app.post_json_ok(mail_comment("Ann", "Leased", None, false, false))
        .await;
    let set_lease = |offset_secs: i64| {
        kith::service::blocking(&app.state, move |_, conn| {
            let until = (chrono::Utc::now() + chrono::Duration::seconds(offset_secs)).naive_utc();
            diesel::update(mail_outbox::table)
                .set(mail_outbox::locked_until.eq(Some(until)))
                .execute(conn)?;
            Ok(())
        })
    };
    // Another process is sending it right now: left alone.
    set_lease(600).await.unwrap();
    assert_eq!(app.drain_outbox().await, 0);
    assert!(smtp.messages().is_empty());
    // That process died mid-send (as after a crash or restart): its lease lapses, the mail goes.
    set_lease(-1).await.unwrap();
    assert_eq!(app.drain_outbox().await, 1);
    assert_eq!(smtp.wait_for(1).await.len(), 1);
}
