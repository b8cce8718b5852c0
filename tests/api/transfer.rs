//! Import and export in the admin area: the JSON API (raw file body) and the upload page
//! (a multipart form), on both backends.

use reqwest::Method;
use serde_json::Value;

use crate::admin_support::{Admin, client_from};
use crate::helpers::{Db, TestApp, assert_error, spawn_app_with};

/// The upload limit of these tests' servers (the fixture is 8 KiB).
const LIMIT: usize = 65_536;

crate::each_on_both_backends!(
    admin_export_downloads_the_sites_comments_as_kith_json_and_wordpress_wxr,
    admin_api_import_adds_a_wordpress_file_once_and_a_dry_run_writes_nothing,
    admin_import_and_export_need_a_session_the_csrf_token_and_a_small_enough_file,
    admin_upload_page_imports_a_multipart_form_and_shows_the_summary_or_the_error,
);

async fn app(db: Db) -> TestApp {
    spawn_app_with(db, |c| c.server.max_import_bytes = LIMIT).await
}

fn fixture() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/isso/wordpress.xml"
    );
    std::fs::read(path).unwrap()
}

/// POSTs `bytes` as an import through the API; the response.
async fn import(admin: &Admin, query: &str, bytes: Vec<u8>, csrf: &str) -> reqwest::Response {
    admin
        .client
        .post(format!("{}/sites/default/import{query}", admin.base))
        .header("cookie", &admin.cookie)
        .header("x-csrf-token", csrf)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

/// Comments in the site's kith export.
async fn exported_comments(admin: &Admin) -> usize {
    let response = admin
        .send(Method::GET, "/sites/default/export?format=kith", None)
        .await;
    assert_eq!(response.status(), 200);
    let value: Value = response.json().await.unwrap();
    value["threads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["comments"].as_array().unwrap().len())
        .sum()
}

async fn admin_export_downloads_the_sites_comments_as_kith_json_and_wordpress_wxr(db: Db) {
    let app = app(db).await;
    let admin = Admin::login(&app).await;
    app.post_ok("/post/", "Ann", "An exported *comment*", None)
        .await;

    let kith = admin
        .send(Method::GET, "/sites/default/export?format=kith", None)
        .await;
    assert_eq!(kith.status(), 200);
    assert!(
        kith.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let disposition = kith.headers()["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert!(disposition.contains("kith-default-"), "{disposition}");
    assert!(disposition.contains(".json"), "{disposition}");
    let body = kith.text().await.unwrap();
    assert!(body.contains("An exported *comment*"), "{body}");

    let wxr = admin
        .send(Method::GET, "/sites/default/export?format=wordpress", None)
        .await;
    assert_eq!(wxr.status(), 200);
    let disposition = wxr.headers()["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment") && disposition.contains(".xml"));
    let body = wxr.text().await.unwrap();
    assert!(body.contains("<wp:comment>"), "{body}");
    assert!(body.contains("An exported"), "{body}");

    // The same download from the admin page's link, with the session cookie.
    let base = admin.base.trim_end_matches("/admin/api");
    let page = admin
        .client
        .get(format!(
            "{base}/admin/sites/default/export?format=wordpress"
        ))
        .header("cookie", &admin.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );

    let unknown = admin
        .send(Method::GET, "/sites/default/export?format=csv", None)
        .await;
    assert_error(unknown, 422, "invalid_field").await;
    let nowhere = admin.send(Method::GET, "/sites/nowhere/export", None).await;
    assert_eq!(nowhere.status(), 404);
}

async fn admin_api_import_adds_a_wordpress_file_once_and_a_dry_run_writes_nothing(db: Db) {
    let app = app(db).await;
    let admin = Admin::login(&app).await;

    let dry = import(&admin, "?dry_run=true", fixture(), &admin.csrf).await;
    assert_eq!(dry.status(), 200);
    let dry: Value = dry.json().await.unwrap();
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["comments"], 8, "{dry}");
    assert!(
        dry["summary"]
            .as_str()
            .unwrap()
            .contains("8 comments to add"),
        "{dry}"
    );
    assert_eq!(
        exported_comments(&admin).await,
        0,
        "a dry run writes nothing"
    );

    let first = import(&admin, "?format=wordpress", fixture(), &admin.csrf).await;
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["format"], "wordpress", "{first}");
    assert_eq!(first["comments"], 8, "{first}");
    assert_eq!(first["dry_run"], false);
    assert_eq!(exported_comments(&admin).await, 8);

    let again = import(&admin, "", fixture(), &admin.csrf).await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["comments"], 0, "{again}");
    assert_eq!(again["already_present"], 8, "{again}");
    assert_eq!(exported_comments(&admin).await, 8);

    // A broken file is refused with its position; nothing is written.
    let broken = import(
        &admin,
        "?format=wordpress",
        b"<rss><channel><item>".to_vec(),
        &admin.csrf,
    )
    .await;
    let body = assert_error(broken, 422, "invalid_import").await;
    assert!(body["message"].as_str().unwrap().contains("line"), "{body}");
    let unknown = import(&admin, "?format=blogger", fixture(), &admin.csrf).await;
    assert_error(unknown, 422, "invalid_field").await;
    assert_eq!(exported_comments(&admin).await, 8);
}

async fn admin_import_and_export_need_a_session_the_csrf_token_and_a_small_enough_file(db: Db) {
    let app = app(db).await;
    let admin = Admin::login(&app).await;
    let anonymous = client_from("127.0.0.1");
    let response = anonymous
        .post(format!(
            "{}/admin/api/sites/default/import?dry_run=true",
            app.address
        ))
        .body(fixture())
        .send()
        .await
        .unwrap();
    assert_error(response, 401, "unauthorized").await;
    let response = anonymous
        .get(format!("{}/admin/api/sites/default/export", app.address))
        .send()
        .await
        .unwrap();
    assert_error(response, 401, "unauthorized").await;
    let page = anonymous
        .get(format!("{}/admin/sites/default/import", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 303);

    let forged = import(&admin, "?format=wordpress", fixture(), "not-the-token").await;
    assert_error(forged, 403, "csrf_failed").await;
    assert_eq!(exported_comments(&admin).await, 0);

    let oversized = import(
        &admin,
        "?format=wordpress",
        vec![b' '; LIMIT + 1],
        &admin.csrf,
    )
    .await;
    let body = assert_error(oversized, 413, "payload_too_large").await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("max_import_bytes"),
        "{body}"
    );
    // Just at the limit is read (and refused for what it is, not for its size).
    let at_limit = import(&admin, "?format=wordpress", vec![b' '; LIMIT], &admin.csrf).await;
    assert_eq!(at_limit.status(), 422);
}

/// A browser's multipart form: text fields, then the file.
fn multipart(fields: &[(&str, &str)], file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----kithTestBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
             filename=\"wordpress.xml\"\r\nContent-Type: text/xml\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(admin: &Admin, fields: &[(&str, &str)], file: &[u8]) -> (u16, String) {
    let (content_type, body) = multipart(fields, file);
    let base = admin.base.trim_end_matches("/admin/api");
    let response = admin
        .client
        .post(format!("{base}/admin/sites/default/import"))
        .header("cookie", &admin.cookie)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn admin_upload_page_imports_a_multipart_form_and_shows_the_summary_or_the_error(db: Db) {
    let app = app(db).await;
    let admin = Admin::login(&app).await;

    let (status, sites) = admin.page("/admin/sites").await;
    assert_eq!(status, 200);
    assert!(sites.contains("/admin/sites/default/import"), "{sites}");
    let (status, page) = admin.page("/admin/sites/default/import").await;
    assert_eq!(status, 200);
    assert!(page.contains("enctype=\"multipart/form-data\""), "{page}");
    assert!(page.contains("/admin/sites/default/export?format=kith"));
    assert!(page.contains("/admin/sites/default/export?format=wordpress"));
    assert!(page.contains("at most 65536 bytes"), "{page}");

    let csrf = admin.csrf.clone();
    let (status, html) = upload(
        &admin,
        &[("csrf", &csrf), ("format", ""), ("dry_run", "on")],
        &fixture(),
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Dry run: nothing was written"), "{html}");
    assert!(html.contains("8 comments to add"), "{html}");
    assert_eq!(exported_comments(&admin).await, 0);

    let (status, html) = upload(
        &admin,
        &[("csrf", &csrf), ("format", "wordpress")],
        &fixture(),
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("8 comments added"), "{html}");
    assert_eq!(exported_comments(&admin).await, 8);

    let (status, html) = upload(
        &admin,
        &[("csrf", &csrf), ("format", "wordpress")],
        b"<rss><channel><item>",
    )
    .await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("The file was not imported"), "{html}");
    assert!(html.contains("line"), "{html}");

    let (status, _) = upload(&admin, &[("csrf", "forged"), ("format", "")], &fixture()).await;
    assert_eq!(status, 403);
    let (status, html) = upload(&admin, &[("csrf", &csrf)], &vec![b' '; LIMIT]).await;
    assert_eq!(status, 413, "{html}");
    assert_eq!(exported_comments(&admin).await, 8);
}
