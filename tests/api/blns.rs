//! Every naughty string as a name and as a body: a 2xx or a 4xx, never a 5xx; what is
//! accepted reads back byte for byte.

use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::TestApp;

fn naughty_strings() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/blns/blns.txt"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    // Split on \n only (payloads contain U+2028, VT, FF...); skip comments and blank lines.
    let lines: Vec<String> = text
        .split('\n')
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), 516, "blns.txt has 516 payload lines");
    lines
}

both_backends! {
    async fn naughty_strings_never_cause_a_server_error(app: TestApp) {
        let mut accepted = Vec::new();
        let mut refused = 0;
        for (i, s) in naughty_strings().into_iter().enumerate() {
            let response = app
                .post_comment(&json!({"thread_key": "/blns/", "author": s, "email": "n@example.com", "body": s}))
                .await;
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            assert!(status < 500, "line {i} {s:?} gave {status}: {body}");
            if status == 201 {
                accepted.push((body["comment"]["id"].as_i64().unwrap(), s, body["edit_token"].as_str().unwrap().to_string()));
            } else {
                assert!((400..500).contains(&status));
                assert!(body["error"].is_string());
                refused += 1;
            }
        }
        assert!(accepted.len() > 300, "most strings are fine names and bodies ({} accepted, {refused} refused)", accepted.len());
        let mut cursor = String::new();
        let mut stored = std::collections::HashMap::new();
        loop {
            let page: Value = app.get_thread(&format!("key=/blns/&limit=100&cursor={cursor}")).await.json().await.unwrap();
            for c in page["comments"].as_array().unwrap() {
                stored.insert(c["id"].as_i64().unwrap(), c["author"].as_str().unwrap().to_string());
            }
            match page["next_cursor"].as_str() { Some(n) => cursor = n.to_string(), None => break }
        }
        for (id, s, token) in accepted {
            assert_eq!(&stored[&id], &s, "author of {id}");
            // The markdown source, as the author's edit form gets it.
            let source: Value = app
                .client
                .get(format!("{}/comments/{id}/source", app.api))
                .header("x-edit-token", token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(source["body"], s.as_str(), "body of {id}");
        }
    }
}

/// A valid comment with one field replaced.
fn with_field(field: &str, value: &str) -> Value {
    let mut body = json!({
        "thread_key": "/fields/", "thread_title": "Fields", "thread_url": "https://blog.example/fields/",
        "author": "Nat", "email": "n@example.com", "website": "https://nat.example/", "body": "hello",
    });
    body[field] = Value::from(value);
    body
}

both_backends! {
    async fn naughty_strings_in_each_public_field_alone_never_cause_a_server_error(app: TestApp) {
        let strings = naughty_strings();
        for field in ["email", "website", "thread_key", "thread_title", "thread_url"] {
            let mut accepted = 0;
            for (i, s) in strings.iter().enumerate() {
                let response = app.post_comment(&with_field(field, s)).await;
                let status = response.status().as_u16();
                let body: Value = response.json().await.unwrap();
                assert!(status < 500, "{field} line {i} {s:?} gave {status}: {body}");
                if status == 201 {
                    accepted += 1;
                } else {
                    assert!(body["error"].is_string(), "{field}: {body}");
                }
            }
            // Each field accepts something and refuses something of the list.
            assert!(accepted < strings.len(), "{field} refused nothing");
            assert!(field == "email" || field == "website" || field == "thread_url" || accepted > 0, "{field} accepted nothing");
        }
        for (i, s) in strings.iter().enumerate() {
            let preview = app.client.post(format!("{}/preview", app.api)).json(&json!({"body": s})).send().await.unwrap();
            assert!(preview.status().as_u16() < 500, "preview line {i} {s:?}");
            let counts = app.client.post(format!("{}/counts", app.api)).json(&json!({"keys": [s]})).send().await.unwrap();
            assert!(counts.status().as_u16() < 500, "counts line {i} {s:?}");
            let thread = app.get_thread(&format!("key={}", urlencode(s))).await;
            assert!(thread.status().as_u16() < 500, "thread line {i} {s:?}");
            let html = app.client.get(format!("{}/thread.html?key={}", app.api, urlencode(s))).send().await.unwrap();
            assert!(html.status().as_u16() < 500, "thread.html line {i} {s:?}");
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
