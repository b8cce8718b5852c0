//! Every state-changing route refuses a request without its token and one with a forged token.
//!
//! The routes come from the route tables the server is built from (`kith::http::all_routes()`),
//! not from a list kept here: a new route is checked the moment it is declared, and a new kind
//! of guard does not compile until this file says how to forge it (the `match` has no `_`).

use kith::domain::comment::CommentId;
use kith::http::route_table::{Guard, Route};
use kith::notify::links::{Link, ModAction};
use kith::secrets::Keys;
use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::admin_support::{Admin, PASSWORD, client_from, session_cookie};
use crate::both_backends;
use crate::helpers::{TestApp, assert_error};

/// What the test needs to fill in path placeholders.
struct Fixture {
    comment: i64,
    edit_token: String,
    /// Another comment's genuine edit token: right shape, wrong comment.
    other_edit_token: String,
    ban: i64,
    thread: i64,
}

impl Fixture {
    fn path(&self, route: &Route, token: &str) -> String {
        let id = if route.path.contains("/bans/") {
            self.ban
        } else if route.path.contains("/threads/") {
            self.thread
        } else {
            self.comment
        };
        route
            .path
            .replace("{id}", &id.to_string())
            .replace("{slug}", "default")
            .replace("{site}", "default")
            .replace("{token}", token)
    }

    /// A mail link of the kind the route expects, signed by another server's key.
    fn forged_link(&self, route: &Route) -> String {
        let other = Keys::new(vec![0x42; 32]).unwrap();
        let expires = chrono::Utc::now().timestamp() + 3600;
        let link = if route.path.starts_with("/mail/moderate/") {
            Link::Moderate {
                action: ModAction::Delete,
                comment: CommentId(self.comment),
                expires,
                nonce: Link::nonce(),
            }
        } else if route.path.starts_with("/mail/confirm/") {
            Link::Confirm {
                address: 1,
                expires,
            }
        } else if route.path.starts_with("/mail/unsubscribe/") {
            Link::Unsubscribe {
                address: 1,
                thread: None,
            }
        } else if route.path.starts_with("/mail/manage/") {
            Link::Manage {
                address: 1,
                expires,
            }
        } else if route.path.starts_with("/mail/signin/") {
            Link::SignIn {
                request: 1,
                expires,
                nonce: Link::nonce(),
            }
        } else {
            panic!("say how to forge a link for {route:?}");
        };
        link.sign(&other)
    }
}

/// A form whose fields would change something if the token check were missing.
const FORM_FIELDS: &[(&str, &str)] = &[
    ("action", "delete"),
    ("body", "changed by a forged request"),
    ("kind", "name"),
    ("value", "Mallory"),
    ("closed", "true"),
    ("slug", "forged"),
    ("name", "Forged"),
    ("allowed_origins", "https://evil.example"),
    ("moderation", "none"),
    ("comment", "all"),
    ("display_name", "Forged name"),
];

fn form_pairs<'a>(fx: &Fixture, id: &'a str, csrf: Option<&'a str>) -> Vec<(&'a str, String)> {
    let mut pairs: Vec<(&str, String)> = FORM_FIELDS
        .iter()
        .map(|(k, v)| (*k, (*v).to_string()))
        .collect();
    pairs.push(("ids", id.to_string()));
    pairs.push(("row", format!("delete:{}", fx.comment)));
    if let Some(csrf) = csrf {
        pairs.push(("csrf", csrf.to_string()));
    }
    pairs
}

/// The import upload form as a browser sends it (multipart), with a WXR file.
fn multipart(csrf: Option<&str>) -> (String, Vec<u8>) {
    let boundary = "csrfBoundary7";
    let mut body = String::new();
    if let Some(csrf) = csrf {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"format\"\r\n\r\nwordpress\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.xml\"\r\n\
         Content-Type: text/xml\r\n\r\n<rss/>\r\n--{boundary}--\r\n"
    ));
    (
        format!("multipart/form-data; boundary={boundary}"),
        body.into_bytes(),
    )
}

fn method(route: &Route) -> Method {
    Method::from_bytes(route.method.to_uppercase().as_bytes()).unwrap()
}

/// Everything a forged request could have changed, as the admin API shows it.
async fn snapshot(admin: &Admin) -> Vec<Value> {
    let mut all = Vec::new();
    for tab in ["approved", "pending", "spam", "deleted", "reported"] {
        all.push(admin.get(&format!("/comments?status={tab}")).await);
    }
    for path in ["/bans", "/threads", "/sites", "/sites/default", "/account"] {
        all.push(admin.get(path).await);
    }
    all
}

async fn send_form(
    app: &TestApp,
    admin: &Admin,
    route: &Route,
    fx: &Fixture,
    csrf: Option<&str>,
) -> Response {
    let url = format!("{}{}", app.address, fx.path(route, ""));
    let request = admin
        .client
        .request(method(route), url)
        .header("cookie", &admin.cookie);
    let request = if route.path.ends_with("/import") {
        let (content_type, body) = multipart(csrf);
        request.header("content-type", content_type).body(body)
    } else {
        request.form(&form_pairs(fx, &fx.comment.to_string(), csrf))
    };
    request.send().await.unwrap()
}

async fn send_api(
    app: &TestApp,
    admin: &Admin,
    route: &Route,
    fx: &Fixture,
    csrf: Option<&str>,
) -> Response {
    let url = format!("{}{}", app.address, fx.path(route, ""));
    let mut request = admin
        .client
        .request(method(route), url)
        .header("cookie", &admin.cookie)
        .json(&json!({
            "ids": [fx.comment], "action": "delete", "body": "changed by a forged request",
            "kind": "name", "value": "Mallory", "slug": "forged", "name": "Forged",
            "display_name": "Forged name",
        }));
    if let Some(csrf) = csrf {
        request = request.header("x-csrf-token", csrf);
    }
    request.send().await.unwrap()
}

async fn check_route(app: &TestApp, admin: &Admin, other_csrf: &str, route: &Route, fx: &Fixture) {
    let label = format!("{} {}", route.method, route.path);
    let forged_csrf = "0".repeat(admin.csrf.len());
    match route.guard {
        Guard::Read => panic!("{label}: a writing route guarded as Read"),
        Guard::FormCsrf => {
            for csrf in [None, Some(""), Some(forged_csrf.as_str()), Some(other_csrf)] {
                let response = send_form(app, admin, route, fx, csrf).await;
                assert_eq!(response.status(), 403, "{label} with csrf {csrf:?}");
                let page = response.text().await.unwrap();
                assert!(page.contains("reload and try again"), "{label}: {page}");
            }
        }
        Guard::HeaderCsrf => {
            for csrf in [None, Some(""), Some(forged_csrf.as_str()), Some(other_csrf)] {
                let response = send_api(app, admin, route, fx, csrf).await;
                assert_error(response, 403, "csrf_failed").await;
            }
        }
        Guard::SameOrigin => {
            // No session yet, so no token: the forgery is a post from another site's page.
            let response = client_from("127.0.0.1")
                .post(format!("{}{}", app.address, route.path))
                .header("origin", "https://evil.example")
                .form(&[
                    ("name", "admin"),
                    ("password", PASSWORD),
                    ("password2", PASSWORD),
                    ("token", "x"),
                ])
                .send()
                .await
                .unwrap();
            assert!(session_cookie(&response).is_none(), "{label}");
            assert_eq!(response.status(), 403, "{label}");
            let page = response.text().await.unwrap();
            assert!(page.contains("sent from another site"), "{label}: {page}");
        }
        Guard::JsonOnly => {
            // What another site's page can send without a preflight: a urlencoded form, or
            // JSON text in a text/plain form. Neither logs in, even with the right password.
            let client = client_from("127.0.0.1");
            let url = format!("{}{}", app.address, route.path);
            let form = client
                .post(&url)
                .form(&[("name", "admin"), ("password", PASSWORD)]);
            let plain = client
                .post(&url)
                .header("content-type", "text/plain")
                .body(json!({ "name": "admin", "password": PASSWORD }).to_string());
            for request in [form, plain] {
                let response = request.send().await.unwrap();
                assert!(session_cookie(&response).is_none(), "{label}");
                assert_error(response, 415, "unsupported_media_type").await;
            }
        }
        Guard::SignedLink => {
            let client = client_from("127.0.0.1");
            let forged = fx.forged_link(route);
            for (token, status) in [(forged.as_str(), 403), ("", 404)] {
                let response = client
                    .post(format!("{}{}", app.address, fx.path(route, token)))
                    .form(&[("comment", fx.comment.to_string())])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), status, "{label} with token {token:?}");
            }
        }
        Guard::EditToken => {
            let bad = [
                "",
                "0".repeat(fx.edit_token.len()).as_str(),
                fx.other_edit_token.as_str(),
            ]
            .map(str::to_string);
            for token in [None, Some(&bad[0]), Some(&bad[1]), Some(&bad[2])] {
                let mut request = app
                    .client
                    .request(
                        method(route),
                        format!("{}{}", app.address, fx.path(route, "")),
                    )
                    .json(&json!({ "body": "changed by a forged request" }));
                if let Some(token) = token {
                    request = request.header("x-edit-token", token);
                }
                assert_error(request.send().await.unwrap(), 403, "invalid_edit_token").await;
            }
        }
        Guard::ReaderSession => {
            let forged = format!("Bearer {}", "0".repeat(64));
            for header in [None, Some(""), Some("Bearer "), Some(forged.as_str())] {
                let mut request = app
                    .client
                    .request(
                        method(route),
                        format!("{}{}", app.address, fx.path(route, "")),
                    )
                    .json(&json!({ "body": "changed by a forged request" }));
                if let Some(header) = header {
                    request = request.header("authorization", header);
                }
                assert_error(request.send().await.unwrap(), 401, "session_expired").await;
            }
        }
        Guard::Anonymous => {}
    }
}

both_backends! {
    async fn every_state_changing_route_refuses_a_missing_or_forged_token(app: TestApp) {
        let admin = Admin::login(&app).await;
        let other = Admin::login_as(&app, "admin").await;
        assert_ne!(admin.csrf, other.csrf);
        let posted = app.post_ok("/p/", "Ann", "Hello", None).await;
        let second = app.post_ok("/p/", "Bob", "Hi", None).await;
        let ban = admin.post("/bans", json!({ "kind": "name", "value": "Eve" })).await;
        let threads = admin.get("/threads").await;
        let fx = Fixture {
            comment: posted["comment"]["id"].as_i64().unwrap(),
            edit_token: posted["edit_token"].as_str().unwrap().to_string(),
            other_edit_token: second["edit_token"].as_str().unwrap().to_string(),
            ban: ban["id"].as_i64().unwrap(),
            thread: threads["threads"][0]["id"].as_i64().unwrap(),
        };
        let before = snapshot(&admin).await;
        let mut checked = 0;
        for route in kith::http::all_routes().filter(|r| r.writes()) {
            check_route(&app, &admin, &other.csrf, route, &fx).await;
            checked += usize::from(route.guard != Guard::Anonymous);
        }
        assert!(checked >= 30, "only {checked} guarded routes: is the table complete?");
        assert_eq!(snapshot(&admin).await, before, "a refused request changed something");
        // The same requests with the real tokens do get through (so the 403s above came from
        // the token check, not from a broken request).
        let ok = admin.form(&format!("/admin/comments/{}/edit", fx.comment), &[("csrf", &admin.csrf), ("body", "edited")]).await;
        assert_eq!(ok.status(), 303);
        let ok = admin.send(Method::POST, "/comments/moderate", Some(json!({ "ids": [fx.comment], "action": "spam" }))).await;
        assert_eq!(ok.status(), 200);
        let ok = app
            .client
            .delete(format!("{}/comments/{}", app.api, second["comment"]["id"]))
            .header("x-edit-token", &fx.other_edit_token)
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200);
    }
}

#[test]
fn every_route_declares_a_guard_that_fits_it() {
    let routes: Vec<&Route> = kith::http::all_routes().collect();
    assert!(routes.len() > 50, "{}", routes.len());
    for route in &routes {
        let label = format!("{} {}", route.method, route.path);
        assert_eq!(route.writes(), route.guard != Guard::Read, "{label}");
        let allowed: &[Guard] = if route.path.starts_with("/admin/api/") {
            &[Guard::Read, Guard::HeaderCsrf, Guard::JsonOnly]
        } else if route.path.starts_with("/admin") {
            &[Guard::Read, Guard::FormCsrf, Guard::SameOrigin]
        } else if route.path.starts_with("/mail/") {
            &[Guard::Read, Guard::SignedLink]
        } else if route.path.starts_with("/api/v1/") {
            &[
                Guard::Read,
                Guard::Anonymous,
                Guard::EditToken,
                Guard::ReaderSession,
            ]
        } else {
            panic!("{label}: a route outside the known areas")
        };
        assert!(allowed.contains(&route.guard), "{label}: {:?}", route.guard);
    }
    // Only the ways in are open without a session.
    let open: Vec<&str> = routes
        .iter()
        .filter(|r| matches!(r.guard, Guard::SameOrigin | Guard::JsonOnly))
        .map(|r| r.path)
        .collect();
    assert_eq!(open, ["/admin/login", "/admin/setup", "/admin/api/login"]);
}
