//! Every way a comment becomes visible tells the readers who asked, through one path: a post
//! through the API, the owner's reply (admin API and the "Publish the reply" form), approval in
//! the queue, approval from the owner mail's link, and bulk approval. Decisions in the admin
//! area never send the owner an alert; `owner_notifications = held` mails only held comments.
//! All against the real test SMTP server, on both backends.

use serde_json::json;

use crate::admin_support::Admin;
use crate::helpers::{Db, TestApp, comment_id, mail_comment, spawn_app_with_mail};
use crate::smtp::{Captured, SmtpServer};
use kith::config::OwnerNotifications;
use kith::domain::site::ModerationMode;

crate::each_on_both_backends!(
    notify_reply_posted_through_the_api,
    notify_owner_reply_from_the_admin_api,
    notify_owner_reply_from_the_publish_the_reply_form,
    notify_owner_reply_to_a_held_comment_publishes_both,
    notify_approval_in_the_queue_once,
    notify_approval_from_the_owner_mail_link,
    notify_bulk_approval_each_comment,
    notify_owner_held_setting_mails_only_held_comments,
);

const ANN: &str = "ann@example.com";
const BOB: &str = "bob@example.com";
const OWNER: &str = "owner@blog.example";

/// Follows (GET, then POST) the confirmation link mailed to `address`.
async fn confirm(app: &TestApp, smtp: &SmtpServer, address: &str) {
    let link = smtp
        .to(address)
        .iter()
        .find_map(|m| m.link("/mail/confirm/"))
        .unwrap_or_else(|| panic!("no confirmation mail to {address}"));
    assert_eq!(app.client.get(&link).send().await.unwrap().status(), 200);
    assert_eq!(app.client.post(&link).send().await.unwrap().status(), 200);
}

/// Ann writes the first comment asking for replies, and Bob follows the thread; both confirm.
/// Returns Ann's comment id. Nothing else has been mailed to them afterwards.
async fn ann_asks_and_bob_follows(app: &TestApp, smtp: &SmtpServer) -> i64 {
    let ann = app
        .post_json_ok(mail_comment("Ann", "Ann's question", None, true, false))
        .await;
    app.post_json_ok(mail_comment("Bob", "Bob follows", None, false, true))
        .await;
    app.drain_outbox().await;
    confirm(app, smtp, ANN).await;
    confirm(app, smtp, BOB).await;
    assert_eq!(smtp.to(ANN).len(), 1, "only the confirmation");
    assert_eq!(smtp.to(BOB).len(), 1, "only the confirmation");
    comment_id(&ann)
}

/// Mails to `address` after its confirmation whose text contains `needle`.
fn mails_with(smtp: &SmtpServer, address: &str, needle: &str) -> Vec<Captured> {
    smtp.to(address)
        .into_iter()
        .filter(|m| m.text().contains(needle))
        .collect()
}

/// Ann hears about `body` as a reply, Bob as a new comment on the page he follows.
fn assert_readers_told(smtp: &SmtpServer, body: &str) {
    let to_ann = mails_with(smtp, ANN, body);
    assert_eq!(to_ann.len(), 1, "one reply mail to Ann about {body:?}");
    assert!(to_ann[0].text().contains("replied to your comment"));
    let to_bob = mails_with(smtp, BOB, body);
    assert_eq!(to_bob.len(), 1, "one thread mail to Bob about {body:?}");
    assert!(to_bob[0].text().contains("commented on"));
}

async fn hold_everything(app: &TestApp) {
    app.set_settings(|s| s.moderation = ModerationMode::All)
        .await;
}

async fn notify_reply_posted_through_the_api(db: Db) {
    let (app, smtp) = spawn_app_with_mail(db, |_| {}).await;
    let ann = ann_asks_and_bob_follows(&app, &smtp).await;
    app.post_json_ok(mail_comment(
        "Carol",
        "Carol answers",
        Some(ann),
        false,
        false,
    ))
    .await;
    app.drain_outbox().await;
    assert_readers_told(&smtp, "Carol answers");
}

async fn notify_owner_reply_from_the_admin_api(db: Db) {
    let (app, smtp) = spawn_app_with_mail(db, |_| {}).await;
    let ann = ann_asks_and_bob_follows(&app, &smtp).await;
    let admin = Admin::login(&app).await;
    let reply = admin
        .post(
            &format!("/comments/{ann}/reply"),
            json!({ "body": "The owner answers" }),
        )
        .await;
    assert_eq!(reply["owner"], true);
    app.drain_outbox().await;
    assert_readers_told(&smtp, "The owner answers");
    // The owner's own alert is for readers' comments, not for what the owner writes.
    assert!(mails_with(&smtp, OWNER, "The owner answers").is_empty());
}

async fn notify_owner_reply_from_the_publish_the_reply_form(db: Db) {
    let (app, smtp) = spawn_app_with_mail(db, |_| {}).await;
    let ann = ann_asks_and_bob_follows(&app, &smtp).await;
    let admin = Admin::login(&app).await;
    let response = admin
        .form(
            &format!("/admin/comments/{ann}/reply"),
            &[("csrf", &admin.csrf), ("body", "Answered from the page")],
        )
        .await;
    assert!(
        response.status().is_success() || response.status().is_redirection(),
        "{}",
        response.status()
    );
    app.drain_outbox().await;
    assert_readers_told(&smtp, "Answered from the page");
}

async fn notify_owner_reply_to_a_held_comment_publishes_both(db: Db) {
    let (app, smtp) = spawn_app_with_mail(db, |_| {}).await;
    let ann = ann_asks_and_bob_follows(&app, &smtp).await;
    hold_everything(&app).await;
    let carol = app
        .post_json_ok(mail_comment(
            "Carol",
            "Carol is held",
            Some(ann),
            true,
            false,
        ))
        .await;
    assert_eq!(carol["comment"]["status"], "pending");
    app.drain_outbox().await;
    confirm(&app, &smtp, "carol@example.com").await;
    assert!(
        mails_with(&smtp, ANN, "Carol is held").is_empty(),
        "held: no mail yet"
    );

    // Replying to the held comment approves it (its readers are told) and publishes the reply
    // (Carol, who asked, is told too).
    let admin = Admin::login(&app).await;
    admin
        .post(
            &format!("/comments/{}/reply", comment_id(&carol)),
            json!({ "body": "Welcome, Carol" }),
        )
        .await;
    assert_eq!(admin.status(comment_id(&carol)).await, "approved");
    app.drain_outbox().await;
    assert_readers_told(&smtp, "Carol is held");
    assert_eq!(
        mails_with(&smtp, "carol@example.com", "Welcome, Carol").len(),
        1
    );
    assert_eq!(mails_with(&smtp, BOB, "Welcome, Carol").len(), 1);
}

async fn notify_approval_in_the_queue_once(db: Db) {
    let (app, smtp) = spawn_app_with_mail(db, |_| {}).await;
    let ann = ann_asks_and_bob_follows(&app, &smtp).await;
    hold_everything(&app).await;
    let held = app
        .post_json_ok(mail_comment(
            "Carol",
            "Held, then approved",
            Some(ann),
            false,
            false,
        ))
        .await;
    app.drain_outbox().await;
    assert!(mails_with(&smtp, ANN, "Held, then approved").is_empty());
    let admin = Admin::login(&app).await;
    admin.moderate(&[comment_id(&held)], "approve").await;
    app.drain_outbox().await;
    assert_readers_told(&smtp, "Held, then approved");
    // Spam, then restored: visible again, but readers were already told once.
    admin.moderate(&[comment_id(&held)], "spam").await;
    admin.moderate(&[comment_id(&held)], "restore").await;
    app.drain_outbox().await;
    assert_readers_told(&smtp, "Held, then approved");
}

async fn notify_approval_from_the_owner_mail_link(db: Db) {
    let (app, smtp) = spawn_app_with_mail(db, |c| {
        c.mail.owner_notifications = OwnerNotifications::Held;
    })
    .await;
    let ann = ann_asks_and_bob_follows(&app, &smtp).await;
    hold_everything(&app).await;
    app.post_json_ok(mail_comment(
        "Carol",
        "Approved by link",
        Some(ann),
        false,
        false,
    ))
    .await;
    app.drain_outbox().await;
    let owner = mails_with(&smtp, OWNER, "Approved by link");
    assert_eq!(owner.len(), 1);
    let approve = owner_link(&owner[0], "Approve");
    assert_eq!(
        app.client.post(&approve).send().await.unwrap().status(),
        200
    );
    app.drain_outbox().await;
    assert_readers_told(&smtp, "Approved by link");
}

async fn notify_bulk_approval_each_comment(db: Db) {
    let (app, smtp) = spawn_app_with_mail(db, |_| {}).await;
    let ann = ann_asks_and_bob_follows(&app, &smtp).await;
    hold_everything(&app).await;
    let first = app
        .post_json_ok(mail_comment("Carol", "Bulk one", Some(ann), false, false))
        .await;
    let second = app
        .post_json_ok(mail_comment("Dave", "Bulk two", Some(ann), false, false))
        .await;
    let admin = Admin::login(&app).await;
    let changed = admin
        .moderate(&[comment_id(&first), comment_id(&second)], "approve")
        .await;
    assert_eq!(changed["changed"], 2);
    app.drain_outbox().await;
    assert_readers_told(&smtp, "Bulk one");
    assert_readers_told(&smtp, "Bulk two");
}

async fn notify_owner_held_setting_mails_only_held_comments(db: Db) {
    let (app, smtp) = spawn_app_with_mail(db, |c| {
        c.mail.owner_notifications = OwnerNotifications::Held;
    })
    .await;
    app.post_json_ok(mail_comment("Ann", "Published at once", None, false, false))
        .await;
    hold_everything(&app).await;
    let held = app
        .post_json_ok(mail_comment(
            "Bob",
            "Waiting for the owner",
            None,
            false,
            false,
        ))
        .await;
    app.drain_outbox().await;
    let owner = smtp.to(OWNER);
    assert_eq!(owner.len(), 1, "{owner:#?}");
    assert!(owner[0].text().contains("Waiting for the owner"));
    assert!(mails_with(&smtp, OWNER, "Published at once").is_empty());
    // The owner's own decision in the admin area mails the owner nothing more.
    let admin = Admin::login(&app).await;
    admin.moderate(&[comment_id(&held)], "approve").await;
    admin
        .post(
            &format!("/comments/{}/reply", comment_id(&held)),
            json!({ "body": "Thanks" }),
        )
        .await;
    app.drain_outbox().await;
    assert_eq!(smtp.to(OWNER).len(), 1);
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
