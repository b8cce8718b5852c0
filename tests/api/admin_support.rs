//! An admin client for the tests: logs in through the API and sends the session cookie and the
//! CSRF token with every call.

use std::net::IpAddr;

use kith::domain::admin::{AdminName, Password};
use kith::service::admin::auth;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;

pub const PASSWORD: &str = "a long test password";

pub struct Admin {
    pub base: String,
    pub client: reqwest::Client,
    pub cookie: String,
    pub csrf: String,
}

/// Creates the admin `name` with [`PASSWORD`].
pub async fn create_admin(app: &TestApp, name: &str) {
    let name = name.to_string();
    kith::service::blocking(&app.state, move |_, conn| {
        auth::create_admin(
            conn,
            &AdminName::parse(&name)?,
            &Password::parse(PASSWORD.into())?,
        )
    })
    .await
    .unwrap();
}

/// A client whose requests come from `ip` (any 127.x.y.z address reaches the test server).
pub fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The `name=value` part of a response's session cookie.
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("kith_admin="))
        .map(|v| v.split(';').next().unwrap().to_string())
}

pub async fn login_raw(app: &TestApp, name: &str, password: &str, ip: &str) -> reqwest::Response {
    client_from(ip)
        .post(format!("{}/admin/api/login", app.address))
        .json(&json!({ "name": name, "password": password }))
        .send()
        .await
        .unwrap()
}

impl Admin {
    /// Creates an admin `admin` and logs in.
    pub async fn login(app: &TestApp) -> Self {
        create_admin(app, "admin").await;
        Self::login_as(app, "admin").await
    }

    pub async fn login_as(app: &TestApp, name: &str) -> Self {
        let response = login_raw(app, name, PASSWORD, "127.0.0.1").await;
        assert_eq!(response.status(), 200);
        let cookie = session_cookie(&response).expect("a session cookie");
        let body: Value = response.json().await.unwrap();
        Self {
            base: format!("{}/admin/api", app.address),
            client: client_from("127.0.0.1"),
            cookie,
            csrf: body["csrf_token"].as_str().unwrap().to_string(),
        }
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    /// A GET that must answer 200; its JSON.
    pub async fn get(&self, path: &str) -> Value {
        let response = self.send(Method::GET, path, None).await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// A POST that must succeed (2xx); its JSON (or null).
    pub async fn post(&self, path: &str, body: Value) -> Value {
        let response = self.send(Method::POST, path, Some(body)).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "POST {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// A comment's real status (the public API shows spam as pending to its sender).
    pub async fn status(&self, id: i64) -> String {
        self.get(&format!("/comments/{id}")).await["status"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Applies a queue action to comments.
    pub async fn moderate(&self, ids: &[i64], action: &str) -> Value {
        self.post(
            "/comments/moderate",
            json!({ "ids": ids, "action": action }),
        )
        .await
    }

    /// The comments of a queue tab (`status`), with extra query terms.
    pub async fn queue(&self, status: &str, extra: &str) -> Value {
        self.get(&format!("/comments?status={status}{extra}")).await
    }

    /// Ids in a queue tab, in the order shown.
    pub async fn queue_ids(&self, status: &str, extra: &str) -> Vec<i64> {
        self.queue(status, extra).await["comments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect()
    }

    /// Fetches an admin page (HTML) with the session.
    pub async fn page(&self, path: &str) -> (u16, String) {
        let base = self.base.trim_end_matches("/admin/api");
        let response = self
            .client
            .get(format!("{base}{path}"))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// Submits an admin form (urlencoded pairs) with the session; the raw response.
    pub async fn form(&self, path: &str, pairs: &[(&str, &str)]) -> reqwest::Response {
        let base = self.base.trim_end_matches("/admin/api");
        self.client
            .post(format!("{base}{path}"))
            .header("cookie", &self.cookie)
            .form(pairs)
            .send()
            .await
            .unwrap()
    }
}

/// Posts a comment from `ip` with the given author, e-mail and body; the response JSON and
/// the status.
pub async fn post_from(
    app: &TestApp,
    ip: &str,
    key: &str,
    author: &str,
    email: &str,
    body: &str,
) -> (u16, Value) {
    let response = client_from(ip)
        .post(format!("{}/comments", app.api))
        .json(&json!({
            "thread_key": key,
            "thread_title": "A post",
            "thread_url": "https://blog.example/post/",
            "author": author,
            "email": email,
            "body": body,
        }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Posts a comment that must be accepted; its id and status.
pub async fn post(
    app: &TestApp,
    key: &str,
    author: &str,
    email: &str,
    body: &str,
) -> (i64, String) {
    let (status, json) = post_from(app, "127.0.0.1", key, author, email, body).await;
    assert_eq!(status, 201, "{json}");
    (
        json["comment"]["id"].as_i64().unwrap(),
        json["comment"]["status"].as_str().unwrap().to_string(),
    )
}
