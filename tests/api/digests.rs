//! Digests against the real SMTP server on loopback, on both backends, with a manual clock:
//! readers who chose daily or weekly mail get the period's comments in one mail once the
//! period has ended; instant mail is unchanged; the choice is made on the page behind a mail's
//! unsubscribe link; one-click unsubscribe stops digests; deleted comments are left out; two
//! processes make one digest; a digest made by a process that then dies is sent exactly once;
//! the owner's daily alerts group new and held comments.

use actix_web::dev::ServerHandle;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};

use crate::admin_support::Admin;
use crate::helpers::{Db, TestApp, mail_config, spawn_app_with_clock};
use crate::smtp::{Captured, SmtpServer};
use kith::clock::Clock;
use kith::config::{Config, OwnerNotifications};
use kith::domain::mail::Frequency;
use kith::domain::site::ModerationMode;
use kith::startup::Application;
use kith::state::AppState;

crate::each_on_both_backends!(
    digest_daily_subscriber_gets_one_mail_with_the_periods_comments,
    digest_weekly_subscriber_waits_for_the_configured_weekday,
    digest_instant_subscriber_is_mailed_at_once_as_before,
    digest_frequency_is_switched_from_the_unsubscribe_page,
    digest_one_click_unsubscribe_stops_further_digests,
    digest_leaves_out_deleted_comments_and_is_not_sent_empty,
    digest_two_processes_on_one_database_make_each_digest_once,
    digest_made_by_a_process_that_dies_before_sending_is_sent_once,
    digest_owner_daily_alerts_group_new_and_held_comments,
);

const ANN: &str = "ann@example.com";
const OWNER: &str = "owner@blog.example";

fn at(when: &str) -> DateTime<Utc> {
    Utc.from_utc_datetime(&chrono::NaiveDateTime::parse_from_str(when, "%Y-%m-%d %H:%M").unwrap())
}

/// Monday 2026-11-30, 08:00 UTC: an hour after the day's digests (digest_hour = 7, weekday mon).
const START: &str = "2026-11-30 08:00";

async fn setup(db: Db, adjust: impl FnOnce(&mut Config)) -> (TestApp, SmtpServer, Clock) {
    let smtp = SmtpServer::start().await;
    let port = smtp.port;
    let clock = Clock::manual(at(START));
    let app = spawn_app_with_clock(db, clock.clone(), move |config| {
        mail_config(config, port);
        config.mail.digest_hour = 7;
        config.mail.digest_weekday = "mon".into();
        adjust(config);
    })
    .await;
    (app, smtp, clock)
}

fn comment_on(key: &str, author: &str, body: &str, thread: bool) -> Value {
    json!({
        "thread_key": key,
        "thread_title": format!("Page {key}"),
        "thread_url": format!("https://blog.example{key}"),
        "author": author,
        "email": format!("{}@example.com", author.to_lowercase()),
        "body": body,
        "notify_thread": thread,
    })
}

fn comment(author: &str, body: &str) -> Value {
    comment_on("/post/", author, body, false)
}

fn id(posted: &Value) -> i64 {
    posted["comment"]["id"].as_i64().unwrap()
}

/// When a posted comment was written, as digests show it.
fn written(posted: &Value) -> String {
    DateTime::parse_from_rfc3339(posted["comment"]["created_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
        .format("%Y-%m-%d %H:%M UTC")
        .to_string()
}

/// One pass of the digest scheduler on a process; how many digests it put in the outbox.
async fn make_digests(state: &AppState) -> usize {
    kith::service::blocking(state, kith::service::digests::make_due)
        .await
        .unwrap()
}

/// Runs a process's outbox worker until nothing is due; how many mails it tried.
async fn drain(state: &AppState) -> usize {
    let mailer = kith::notify::Mailer::from_config(&state.config.mail)
        .unwrap()
        .unwrap();
    let mut total = 0;
    loop {
        let n = kith::notify::worker::step(&state.pool, &state.config.mail, &mailer)
            .await
            .unwrap();
        if n == 0 {
            return total;
        }
        total += n;
    }
}

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

/// Chooses a frequency on the page behind an unsubscribe link, as its button does; the page
/// must offer that button. Returns the answer page.
async fn choose(app: &TestApp, link: &str, scope: &str, frequency: &str) -> String {
    let page = app.client.get(link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!(
            "<input type=\"hidden\" name=\"scope\" value=\"{scope}\"><input type=\"hidden\" name=\"frequency\" value=\"{frequency}\">"
        )),
        "the page offers no {scope}/{frequency} button: {html}"
    );
    let response = app
        .client
        .post(link)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("scope={scope}&frequency={frequency}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Saved"), "{html}");
    html
}

/// Ann follows `/post/`, confirms, and chooses `frequency` for all her mails (with the
/// unsubscribe link of her confirmation mail).
async fn ann_follows(app: &TestApp, smtp: &SmtpServer, frequency: &str) -> i64 {
    let ann = app
        .post_json_ok(comment_on("/post/", "Ann", "Following", true))
        .await;
    app.drain_outbox().await;
    confirm(app, smtp, ANN).await;
    if frequency != "instant" {
        let link = smtp.to(ANN)[0].link("/mail/unsubscribe/").unwrap();
        let saved = choose(app, &link, "all", frequency).await;
        let label = if frequency == "daily" {
            "Once a day: a digest"
        } else {
            "Once a week: a digest"
        };
        assert!(saved.contains(&format!("From now on: {label}.")), "{saved}");
    }
    id(&ann)
}

fn only_digest(mails: &[Captured], before: usize) -> Captured {
    assert_eq!(mails.len(), before + 1, "exactly one more mail: {mails:#?}");
    mails.last().unwrap().clone()
}

fn one_click_url(mail: &Captured) -> String {
    assert_eq!(
        mail.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    mail.header("List-Unsubscribe")
        .unwrap()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string()
}

async fn digest_daily_subscriber_gets_one_mail_with_the_periods_comments(db: Db) {
    let (app, smtp, clock) = setup(db, |_| {}).await;
    ann_follows(&app, &smtp, "daily").await;
    let before = smtp.to(ANN).len();
    let bob = app.post_json_ok(comment("Bob", "First words")).await;
    let mut ids = vec![id(&bob)];
    ids.push(id(&app
        .post_json_ok(comment("Carol", "Second words"))
        .await));
    // Her own comment is never mailed to her, not even in a digest.
    app.post_json_ok(comment("Ann", "My own words")).await;
    ids.push(id(&app
        .post_json_ok(comment("Dan", "Third **words**"))
        .await));
    assert_eq!(app.drain_outbox().await, 0, "nothing is mailed at once");
    assert_eq!(
        make_digests(&app.state).await,
        0,
        "the period has not ended"
    );
    clock.set(at("2026-12-01 06:59"));
    assert_eq!(
        make_digests(&app.state).await,
        0,
        "the period has not ended"
    );
    clock.set(at("2026-12-01 07:00"));
    assert_eq!(make_digests(&app.state).await, 1);
    assert_eq!(make_digests(&app.state).await, 0, "made once");
    assert_eq!(app.drain_outbox().await, 1);
    let digest = only_digest(&smtp.to(ANN), before);
    assert_eq!(
        digest.header("Subject").as_deref(),
        Some("Daily digest from Ann's Blog: new comments (3)")
    );
    let text = digest.text();
    let first = text.find("First words").unwrap();
    let second = text.find("Second words").unwrap();
    let third = text.find("Third **words**").unwrap();
    assert!(first < second && second < third, "oldest first: {text}");
    assert!(!text.contains("My own words"), "{text}");
    assert!(text.contains("== Page /post/ =="), "{text}");
    assert!(text.contains(&format!("Bob, {}:", written(&bob))), "{text}");
    for id in &ids {
        assert!(
            text.contains(&format!("Reply: https://blog.example/post/#comment-{id}")),
            "{text}"
        );
    }
    let html = digest.html();
    assert!(
        html.contains("<p>Third <strong>words</strong></p>"),
        "{html}"
    );
    assert!(
        html.contains("<a href=\"https://blog.example/post/\""),
        "{html}"
    );
    let one_click = one_click_url(&digest);
    assert!(one_click.contains("/mail/unsubscribe/"));
    assert!(
        text.contains(&one_click),
        "the in-mail link is the same: {text}"
    );

    // The next period starts empty.
    clock.set(at("2026-12-02 07:00"));
    assert_eq!(make_digests(&app.state).await, 0);
    assert_eq!(app.drain_outbox().await, 0);
    assert_eq!(smtp.to(ANN).len(), before + 1);
}

async fn digest_weekly_subscriber_waits_for_the_configured_weekday(db: Db) {
    let (app, smtp, clock) = setup(db, |_| {}).await;
    ann_follows(&app, &smtp, "weekly").await;
    let before = smtp.to(ANN).len();
    app.post_json_ok(comment("Bob", "Monday's words")).await;
    clock.set(at("2026-12-01 07:00"));
    assert_eq!(make_digests(&app.state).await, 0, "a day is not a week");
    clock.set(at("2026-12-03 12:00"));
    let carol = app.post_json_ok(comment("Carol", "Thursday's words")).await;
    for day in ["2026-12-06 23:59", "2026-12-07 06:59"] {
        clock.set(at(day));
        assert_eq!(make_digests(&app.state).await, 0, "{day}: not yet");
    }
    assert_eq!(app.drain_outbox().await, 0);
    clock.set(at("2026-12-07 07:00"));
    assert_eq!(make_digests(&app.state).await, 1);
    app.drain_outbox().await;
    let digest = only_digest(&smtp.to(ANN), before);
    assert_eq!(
        digest.header("Subject").as_deref(),
        Some("Weekly digest from Ann's Blog: new comments (2)")
    );
    let text = digest.text();
    assert!(text.contains("Monday's words") && text.contains("Thursday's words"));
    assert!(
        text.contains(&format!("Carol, {}:", written(&carol))),
        "{text}"
    );
}

async fn digest_instant_subscriber_is_mailed_at_once_as_before(db: Db) {
    let (app, smtp, clock) = setup(db, |_| {}).await;
    ann_follows(&app, &smtp, "instant").await;
    let before = smtp.to(ANN).len();
    app.post_json_ok(comment("Bob", "Right away")).await;
    assert_eq!(app.drain_outbox().await, 1);
    let mail = only_digest(&smtp.to(ANN), before);
    assert!(mail.text().contains("Right away"));
    assert!(
        !mail.text().contains("== Page"),
        "a thread mail, not a digest"
    );
    clock.set(at("2026-12-08 07:00"));
    assert_eq!(
        make_digests(&app.state).await,
        0,
        "nothing waits for a digest"
    );
    assert_eq!(app.drain_outbox().await, 0);
}

async fn digest_frequency_is_switched_from_the_unsubscribe_page(db: Db) {
    let (app, smtp, clock) = setup(db, |_| {}).await;
    ann_follows(&app, &smtp, "instant").await;
    app.post_json_ok(comment_on("/other/", "Ann", "Following too", true))
        .await;
    app.post_json_ok(comment("Bob", "Instant one")).await;
    app.drain_outbox().await;
    // The thread mail's link: a page Ann follows, so the choice is for that page.
    let thread_link = smtp
        .to(ANN)
        .last()
        .unwrap()
        .link("/mail/unsubscribe/")
        .unwrap();
    let page = app
        .client
        .get(&thread_link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for label in [
        "Stop mails about this page",
        "At once: one mail per comment",
        "Once a day: a digest",
        "Once a week: a digest",
    ] {
        assert!(page.contains(label), "{label}: {page}");
    }
    // The frequency in force is marked (for screen readers too).
    assert!(
        page.contains(r#"aria-current="true" class="current">✓ At once: one mail per comment"#),
        "instant marked: {page}"
    );
    choose(&app, &thread_link, "thread", "daily").await;
    let page = app
        .client
        .get(&thread_link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"aria-current="true" class="current">✓ Once a day: a digest"#),
        "daily marked: {page}"
    );
    assert_eq!(page.matches("aria-current").count(), 1, "{page}");
    let before = smtp.to(ANN).len();
    app.post_json_ok(comment("Bob", "Waits for the digest"))
        .await;
    app.post_json_ok(comment_on("/other/", "Carol", "Comes at once", false))
        .await;
    assert_eq!(
        app.drain_outbox().await,
        1,
        "only the other page mails at once"
    );
    let instant = only_digest(&smtp.to(ANN), before);
    assert!(instant.text().contains("Comes at once"));

    clock.set(at("2026-12-01 07:00"));
    assert_eq!(make_digests(&app.state).await, 1);
    app.drain_outbox().await;
    let digest = only_digest(&smtp.to(ANN), before + 1);
    assert!(digest.text().contains("Waits for the digest"));
    assert!(!digest.text().contains("Comes at once"));

    // The digest's own link (every mail of the site): back to instant, for every page.
    let digest_link = digest.link("/mail/unsubscribe/").unwrap();
    choose(&app, &digest_link, "all", "instant").await;
    app.post_json_ok(comment("Dan", "Instant again")).await;
    assert_eq!(app.drain_outbox().await, 1);
    assert!(
        smtp.to(ANN)
            .last()
            .unwrap()
            .text()
            .contains("Instant again")
    );
    clock.set(at("2026-12-02 07:00"));
    assert_eq!(make_digests(&app.state).await, 0);

    // A value that is not a frequency changes nothing.
    let response = app
        .client
        .post(&digest_link)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("scope=all&frequency=hourly")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let address = kith::service::blocking(&app.state, |state, conn| {
        let site = kith::service::sites::find(state, conn, "default")?;
        kith::db::mail::find_address_by_email(conn, site.id, ANN)
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(address.frequency, Frequency::Instant);
}

async fn digest_one_click_unsubscribe_stops_further_digests(db: Db) {
    let (app, smtp, clock) = setup(db, |_| {}).await;
    ann_follows(&app, &smtp, "daily").await;
    app.post_json_ok(comment("Bob", "Day one")).await;
    clock.set(at("2026-12-01 07:00"));
    assert_eq!(make_digests(&app.state).await, 1);
    app.drain_outbox().await;
    let before = smtp.to(ANN).len();
    let digest = smtp.to(ANN).last().unwrap().clone();
    assert!(digest.text().contains("Day one"));
    // Waiting when she unsubscribes: never sent either.
    app.post_json_ok(comment("Bob", "Day two")).await;
    let response = app
        .client
        .post(one_click_url(&digest))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    app.post_json_ok(comment("Carol", "Day two, later")).await;
    for day in ["2026-12-02 07:00", "2026-12-09 07:00"] {
        clock.set(at(day));
        assert_eq!(make_digests(&app.state).await, 0, "{day}");
    }
    assert_eq!(app.drain_outbox().await, 0);
    assert_eq!(smtp.to(ANN).len(), before);
}

async fn digest_leaves_out_deleted_comments_and_is_not_sent_empty(db: Db) {
    let (app, smtp, clock) = setup(db, |_| {}).await;
    ann_follows(&app, &smtp, "daily").await;
    let before = smtp.to(ANN).len();
    let keep = app.post_json_ok(comment("Bob", "Stays")).await;
    let deleted = app.post_json_ok(comment("Eve", "Deleted soon")).await;
    let spam = app.post_json_ok(comment("Mallory", "Spam soon")).await;
    let admin = Admin::login(&app).await;
    admin.moderate(&[id(&deleted)], "delete").await;
    admin.moderate(&[id(&spam)], "spam").await;
    clock.set(at("2026-12-01 07:00"));
    assert_eq!(make_digests(&app.state).await, 1);
    app.drain_outbox().await;
    let text = only_digest(&smtp.to(ANN), before).text();
    assert!(text.contains("Stays"), "{text}");
    assert!(text.contains(&format!("#comment-{}", id(&keep))));
    assert!(
        !text.contains("Deleted soon") && !text.contains("Spam soon"),
        "{text}"
    );
    assert!(
        smtp.to(ANN)
            .last()
            .unwrap()
            .header("Subject")
            .unwrap()
            .ends_with("new comments (1)"),
    );

    // A period whose every comment went: no mail at all.
    let gone = app.post_json_ok(comment("Eve", "Also deleted")).await;
    admin.moderate(&[id(&gone)], "delete").await;
    clock.set(at("2026-12-02 07:00"));
    assert_eq!(make_digests(&app.state).await, 0);
    assert_eq!(app.drain_outbox().await, 0);
    assert_eq!(smtp.to(ANN).len(), before + 1);
}

/// A second process serving the test app's database, with the same clock; its state and
/// the handle that stops it.
async fn another_process(app: &TestApp, clock: &Clock) -> (AppState, ServerHandle) {
    let process = Application::build_with_clock((*app.state.config).clone(), clock.clone())
        .await
        .unwrap();
    let state = process.state().clone();
    let handle = process.stop_handle();
    actix_web::rt::spawn(process.run_until_stopped());
    (state, handle)
}

async fn digest_two_processes_on_one_database_make_each_digest_once(db: Db) {
    let (app, smtp, clock) = setup(db, |_| {}).await;
    let readers = ["ann", "ben", "cat", "dom", "eva"];
    for name in readers {
        app.post_json_ok(comment_on("/post/", name, "Following", true))
            .await;
    }
    app.drain_outbox().await;
    for name in readers {
        let address = format!("{name}@example.com");
        confirm(&app, &smtp, &address).await;
        let link = smtp.to(&address)[0].link("/mail/unsubscribe/").unwrap();
        choose(&app, &link, "all", "daily").await;
    }
    let before = smtp.messages().len();
    for n in 0..3 {
        app.post_json_ok(comment("Zed", &format!("News {n}"))).await;
    }
    let (second, _running) = another_process(&app, &clock).await;
    clock.set(at("2026-12-01 07:00"));
    let (a, b) = tokio::join!(make_digests(&app.state), make_digests(&second));
    assert_eq!(a + b, readers.len(), "one digest per reader ({a} + {b})");
    let (a, b) = tokio::join!(drain(&app.state), drain(&second));
    assert_eq!(a + b, readers.len(), "each digest sent by one process");
    let mails = smtp.wait_for(before + readers.len()).await;
    assert_eq!(mails.len(), before + readers.len());
    for name in readers {
        let digests: Vec<Captured> = smtp
            .to(&format!("{name}@example.com"))
            .into_iter()
            .filter(|m| m.text().contains("News 0"))
            .collect();
        assert_eq!(digests.len(), 1, "{name}");
        let text = digests[0].text();
        assert!(text.contains("News 1") && text.contains("News 2"), "{text}");
    }
}

async fn digest_made_by_a_process_that_dies_before_sending_is_sent_once(db: Db) {
    let (app, smtp, clock) = setup(db, |_| {}).await;
    ann_follows(&app, &smtp, "daily").await;
    let before = smtp.to(ANN).len();
    app.post_json_ok(comment("Bob", "Survives a crash")).await;
    clock.set(at("2026-12-01 07:00"));
    // This process makes the digest (its transaction commits) and is gone before its worker
    // sends anything.
    let (doomed, stop) = another_process(&app, &clock).await;
    assert_eq!(make_digests(&doomed).await, 1);
    stop.stop(false).await;
    drop(doomed);
    // A process started afterwards finds the digest in the outbox, not the comment again.
    let (next, _running) = another_process(&app, &clock).await;
    assert_eq!(make_digests(&next).await, 0, "not made twice");
    assert_eq!(drain(&next).await, 1);
    assert_eq!(drain(&app.state).await, 0, "not sent twice");
    let digest = only_digest(&smtp.to(ANN), before);
    assert!(digest.text().contains("Survives a crash"));
    clock.set(at("2026-12-02 07:00"));
    assert_eq!(make_digests(&next).await, 0);
    assert_eq!(make_digests(&app.state).await, 0);
}

async fn digest_owner_daily_alerts_group_new_and_held_comments(db: Db) {
    let (app, smtp, clock) = setup(db, |c| {
        c.mail.owner_notifications = OwnerNotifications::All;
    })
    .await;
    // The owner picks daily alerts in the site's settings page.
    let admin = Admin::login(&app).await;
    let (status, html) = admin.page("/admin/sites/default").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("<select name=\"owner_frequency\">")
            && html.contains("<option value=\"instant\" selected>"),
        "{html}"
    );
    let r = admin
        .form(
            "/admin/sites/default",
            &[
                ("csrf", &admin.csrf),
                ("name", "Ann's Blog"),
                ("allowed_origins", "http://localhost:*"),
                ("moderation", "none"),
                ("edit_window_secs", "900"),
                ("max_depth", "5"),
                ("require_name", "on"),
                ("require_email", "on"),
                ("hold_words", ""),
                ("reject_words", ""),
                ("max_links", "2"),
                ("report_threshold", "3"),
                ("auto_close_days", "0"),
                ("language", "en"),
                ("anonymous_allowed", "on"),
                ("owner_frequency", "daily"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        admin.get("/sites/default").await["settings"]["owner_frequency"],
        "daily"
    );
    let (_, html) = admin.page("/admin/sites/default").await;
    assert!(html.contains("<option value=\"daily\" selected>"), "{html}");
    let bob = app.post_json_ok(comment("Bob", "Published at once")).await;
    app.post_json_ok(comment_on("/second/", "Bob", "On another page", false))
        .await;
    app.set_settings(|s| s.moderation = ModerationMode::All)
        .await;
    let held = app.post_json_ok(comment("Eve", "Waiting for you")).await;
    assert_eq!(held["comment"]["status"], "pending");
    let gone = app.post_json_ok(comment("Mallory", "Spam, deleted")).await;
    admin.moderate(&[id(&gone)], "delete").await;
    assert_eq!(app.drain_outbox().await, 0, "no alert at once");
    assert!(smtp.to(OWNER).is_empty());

    clock.set(at("2026-12-01 07:00"));
    assert_eq!(make_digests(&app.state).await, 1);
    assert_eq!(app.drain_outbox().await, 1);
    let digest = only_digest(&smtp.to(OWNER), 0);
    assert_eq!(
        digest.header("Subject").as_deref(),
        Some("Daily digest from Ann's Blog: new and held comments (3)")
    );
    assert!(digest.header("List-Unsubscribe").is_none());
    let text = digest.text();
    assert!(text.contains("== Page /post/ ==") && text.contains("== Page /second/ =="));
    assert!(
        text.contains(&format!("Bob, {} (published):", written(&bob))),
        "{text}"
    );
    assert!(
        text.contains(&format!("Eve, {} (held for moderation):", written(&held))),
        "{text}"
    );
    assert!(!text.contains("Spam, deleted"), "{text}");

    // Its approve link works, once.
    let approve = digest.link("/mail/moderate/m.approve.").unwrap();
    assert!(
        approve.contains(&format!("m.approve.{}.", id(&held))),
        "{approve}"
    );
    assert_eq!(app.client.get(&approve).send().await.unwrap().status(), 200);
    assert_eq!(
        app.client.post(&approve).send().await.unwrap().status(),
        200
    );
    assert_eq!(admin.status(id(&held)).await, "approved");
    assert_eq!(
        app.client.post(&approve).send().await.unwrap().status(),
        410
    );
}
