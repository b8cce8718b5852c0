//! Control characters (NUL first: PostgreSQL refuses it in text with an error) sent to every
//! route the tables declare, in the path, the query and each body field: never a 5xx, and the
//! same answer on both backends (404 for a path, 422 for a query parameter or a body field).
//!
//! The routes come from `kith::http::all_routes()`, so a new route is probed the moment it is
//! declared.

use kith::http::edge::Area;
use kith::http::route_table::{Guard, Route};
use reqwest::{Method, Response};
use serde_json::{Map, Value, json};

use crate::admin_support::{Admin, PASSWORD};
use crate::both_backends;
use crate::helpers::{TestApp, assert_error};

/// NUL, a C0 control, ESC, DEL and a C1 control (NEL).
const CONTROLS: [char; 5] = ['\0', '\u{1}', '\u{1b}', '\u{7f}', '\u{85}'];

/// Body fields of every request type, each with a value that passes its own checks.
fn valid_fields(slug: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("thread_key", json!("/probe/")),
        ("thread_title", json!("Probe")),
        ("thread_url", json!("https://blog.example/probe/")),
        ("author", json!("Ann")),
        ("email", json!("ann@example.com")),
        ("website", json!("https://ann.example/")),
        ("body", json!("Hello there")),
        ("keys", json!(["/probe/"])),
        ("reason", json!("spam")),
        ("name", json!("admin")),
        ("password", json!(PASSWORD)),
        ("password2", json!(PASSWORD)),
        ("token", json!("token")),
        ("action", json!("approve")),
        ("kind", json!("email")),
        ("value", json!("x@example.com")),
        ("note", json!("a note")),
        ("slug", json!(slug)),
        ("allowed_origins", json!("https://blog.example")),
        ("moderation", json!("none")),
        ("edit_window_secs", json!("900")),
        ("max_depth", json!("5")),
        ("hold_words", json!("casino")),
        ("reject_words", json!("viagra")),
        ("max_links", json!("2")),
        ("report_threshold", json!("3")),
        ("auto_close_days", json!("0")),
        ("language", json!("en")),
        ("closed", json!("true")),
        // A site form checkbox. These bodies carry no whole-form marker, so boxes they leave
        // out keep their settings (anonymous comments stay allowed for later fixture posts).
        ("anonymous_allowed", json!("on")),
        ("back", json!("/admin/comments")),
        ("format", json!("kith")),
    ]
}

/// Query parameters any GET route might read.
const QUERY_NAMES: [&str; 9] = [
    "q", "site", "key", "status", "author", "email", "ip", "page", "format",
];

struct Fixture {
    comment: i64,
    edit_token: String,
    ban: i64,
    thread: i64,
}

async fn fixture(app: &TestApp, admin: &Admin, n: usize) -> Fixture {
    let posted = app
        .post_ok(&format!("/probe-{n}/"), "Ann", "Probe comment", None)
        .await;
    let comment = posted["comment"]["id"].as_i64().unwrap();
    let edit_token = posted["edit_token"].as_str().unwrap().to_string();
    let ban = admin
        .post(
            "/bans",
            json!({"kind": "email", "value": format!("banned{n}@example.com")}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let threads = admin.get("/threads").await;
    let thread = threads["threads"][0]["id"].as_i64().unwrap();
    Fixture {
        comment,
        edit_token,
        ban,
        thread,
    }
}

impl Fixture {
    /// The route's path with its placeholders filled in; `poison` replaces them all.
    fn path(&self, route: &Route, poison: Option<&str>) -> String {
        let id = if route.path.contains("/bans/") {
            self.ban
        } else if route.path.contains("/threads/") {
            self.thread
        } else {
            self.comment
        };
        let fill = |name: &str, good: String| poison.map_or(good, |p| format!("{name}{p}"));
        route
            .path
            .replace("{id}", &fill("1", id.to_string()))
            .replace("{slug}", &fill("default", "default".into()))
            .replace("{site}", &fill("default", "default".into()))
            .replace("{token}", &fill("token", "token".into()))
    }
}

fn method(route: &Route) -> Method {
    Method::from_bytes(route.method.to_uppercase().as_bytes()).unwrap()
}

/// `c` percent-encoded as a URL carries it.
fn encoded(c: char) -> String {
    let mut buf = [0u8; 4];
    c.encode_utf8(&mut buf)
        .bytes()
        .map(|b| format!("%{b:02X}"))
        .collect()
}

fn is_form_route(route: &Route) -> bool {
    matches!(
        route.guard,
        Guard::FormCsrf | Guard::SameOrigin | Guard::SignedLink
    )
}

async fn send(
    app: &TestApp,
    admin: &Admin,
    route: &Route,
    fx: &Fixture,
    path: &str,
    fields: Option<&[(&'static str, Value)]>,
) -> Response {
    let mut request = admin
        .client
        .request(method(route), format!("{}{path}", app.address))
        .header("cookie", &admin.cookie)
        .header("x-csrf-token", &admin.csrf)
        .header("x-edit-token", &fx.edit_token)
        .header("origin", &app.address);
    if let Some(fields) = fields {
        if is_form_route(route) {
            let mut pairs: Vec<(String, String)> = fields
                .iter()
                .map(|(k, v)| {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    ((*k).to_string(), text)
                })
                .collect();
            pairs.push(("csrf".into(), admin.csrf.clone()));
            pairs.push(("ids".into(), fx.comment.to_string()));
            request = request.form(&pairs);
        } else {
            let mut body: Map<String, Value> = fields
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.clone()))
                .collect();
            body.insert("ids".into(), json!([fx.comment]));
            request = request.json(&Value::Object(body));
        }
    }
    request.send().await.unwrap()
}

/// Asserts the answer is no 5xx and has its area's shape; returns the status.
async fn checked(label: &str, area: Area, response: Response) -> u16 {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = response.text().await.unwrap();
    assert!(status < 500, "{label}: {status} {text}");
    if status >= 400 {
        match area {
            Area::Json => {
                let body: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{label}: {status} not JSON ({e}): {text}"));
                assert!(body["error"].is_string(), "{label}: {text}");
            }
            Area::Page => assert!(
                content_type.starts_with("text/html"),
                "{label}: {status} {content_type} {text}"
            ),
        }
    }
    status
}

mod control_characters_in_paths_queries_and_bodies_never_cause_a_5xx {
    use super::*;
    use crate::helpers::Db;

    #[actix_web::test]
    async fn sqlite() {
        probe_every_route(Db::Sqlite).await;
    }

    #[actix_web::test]
    async fn postgres() {
        probe_every_route(Db::Postgres).await;
    }
}

/// With mail on (nothing is sent: no worker), so the mail routes reach the database too.
async fn probe_every_route(db: crate::helpers::Db) {
    let app = crate::helpers::spawn_app_with(db, |c| crate::helpers::mail_config(c, 9)).await;
    let admin = Admin::login(&app).await;
    let routes: Vec<&Route> = kith::http::all_routes().collect();
    assert!(routes.len() > 50, "the route tables look empty");
    for (n, route) in routes.iter().enumerate() {
        let fx = fixture(&app, &admin, n).await;
        let area = Area::of(route.path);
        // Every placeholder poisoned: no such site, comment, ban or token: 404.
        if route.path.contains('{') {
            for c in CONTROLS {
                let path = fx.path(route, Some(&encoded(c)));
                let label = format!("{} {path}", route.method);
                let status = checked(
                    &label,
                    area,
                    send(&app, &admin, route, &fx, &path, None).await,
                )
                .await;
                assert_eq!(status, 404, "{label}");
            }
        }
        // Each query parameter poisoned: 422.
        for (i, name) in QUERY_NAMES.iter().enumerate() {
            let c = CONTROLS[i % CONTROLS.len()];
            let path = format!("{}?{name}=a{}b", fx.path(route, None), encoded(c));
            let label = format!("{} {path}", route.method);
            let status = checked(
                &label,
                area,
                send(&app, &admin, route, &fx, &path, None).await,
            )
            .await;
            assert_eq!(status, 422, "{label}");
        }
        // Each body field poisoned in turn (the others valid), on every writing route.
        if !route.writes() || route.path.ends_with("/logout") {
            continue;
        }
        let valid = valid_fields(&format!("probe{n}"));
        for (i, (field, _)) in valid.iter().enumerate() {
            let c = CONTROLS[(i + n) % CONTROLS.len()];
            let fields: Vec<(&'static str, Value)> = valid
                .iter()
                .map(|(k, v)| {
                    let v = if k == field {
                        match v {
                            Value::Array(_) => json!([format!("/a{c}b/")]),
                            _ => json!(format!("a{c}b")),
                        }
                    } else {
                        v.clone()
                    };
                    (*k, v)
                })
                .collect();
            let path = fx.path(route, None);
            let label = format!("{} {path} with {field} = a{c:?}b", route.method);
            checked(
                &label,
                area,
                send(&app, &admin, route, &fx, &path, Some(&fields)).await,
            )
            .await;
        }
    }
}

both_backends! {

    async fn thread_url_with_control_characters_is_refused_with_422(app: TestApp) {
        for c in CONTROLS {
            let response = app
                .post_comment(&json!({
                    "thread_key": "/a/",
                    "thread_url": format!("https://blog.example/a/{c}"),
                    "author": "Ann",
                    "email": "ann@example.com",
                    "body": "Hello",
                }))
                .await;
            let body = assert_error(response, 422, "invalid_field").await;
            assert_eq!(body["field"], "thread_url", "{c:?}: {body}");
        }
        // Nothing was stored.
        assert_eq!(app.thread("/a/").await["comments"], json!([]));
    }

    async fn a_site_name_with_nul_is_no_site(app: TestApp) {
        for suffix in ["thread?key=/a/", "settings", "thread.html?key=/a/"] {
            let response = app
                .client
                .get(format!("{}/api/v1/sites/de%00fault/{suffix}", app.address))
                .send()
                .await
                .unwrap();
            assert_error(response, 404, "not_found").await;
        }
        let admin = Admin::login(&app).await;
        for path in ["/sites/de%00fault", "/sites/de%00fault/export", "/comments?status=approved&q=a%00b", "/comments?status=approved&site=a%00b"] {
            let response = admin.send(Method::GET, path, None).await;
            let expected = if path.contains('?') { 422 } else { 404 };
            let code = if expected == 422 { "invalid_field" } else { "not_found" };
            let body = assert_error(response, expected, code).await;
            if expected == 422 {
                assert!(body["message"].as_str().unwrap().contains('`'), "{body}");
            }
        }
    }
}
