//! `/api/v1/openapi.json`: an OpenAPI 3.1 document generated from the code that describes
//! every public API route with the statuses it can answer.

use serde_json::Value;

use crate::helpers::{Db, spawn_app};

#[actix_web::test]
async fn every_public_api_route_is_in_the_openapi_document() {
    let app = spawn_app(Db::Sqlite).await;
    let response = app
        .client
        .get(format!("{}/api/v1/openapi.json", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let mut described = 0;
    for route in kith::http::api::API_ROUTES {
        let operation = &paths
            .get(route.path)
            .unwrap_or_else(|| panic!("{} is not in the document", route.path))[route.method];
        assert!(
            operation.is_object(),
            "{} {} is not in the document",
            route.method,
            route.path
        );
        let responses = operation["responses"].as_object().unwrap();
        // A redirect is the success of a route that sends the browser on (sign-in start).
        assert!(
            responses
                .keys()
                .any(|s| s.starts_with('2') || s.starts_with('3')),
            "{} {}: no success answer",
            route.method,
            route.path
        );
        for status in ["400", "403", "404"] {
            assert!(
                responses.contains_key(status),
                "{} {}: no {status}",
                route.method,
                route.path
            );
        }
        if route.writes() {
            assert!(
                responses.contains_key("429"),
                "{} {}: no 429",
                route.method,
                route.path
            );
        }
        // Every path parameter of the route is declared.
        for name in route
            .path
            .split('{')
            .skip(1)
            .filter_map(|p| p.split('}').next())
        {
            let declared = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["name"] == name && p["in"] == "path" && p["required"] == true);
            assert!(
                declared,
                "{} {}: path parameter {name} undeclared",
                route.method, route.path
            );
        }
        described += 1;
    }
    // Nothing in the document that the server does not route.
    let operations: usize = paths
        .values()
        .map(|item| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| *k != "parameters")
                .count()
        })
        .sum();
    assert_eq!(operations, described);
    // Every schema referenced is defined.
    let text = doc.to_string();
    for reference in text.split("\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap();
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "undefined schema {name}"
        );
    }
}

#[actix_web::test]
async fn openapi_document_matches_what_a_route_answers() {
    let app = spawn_app(Db::Sqlite).await;
    let doc: Value = app
        .client
        .get(format!("{}/api/v1/openapi.json", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let settings = &doc["components"]["schemas"]["PublicSettings"];
    let answer: Value = app
        .client
        .get(format!("{}/settings", app.api))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for required in settings["required"].as_array().unwrap() {
        let name = required.as_str().unwrap();
        assert!(
            answer.get(name).is_some(),
            "settings answer lacks {name}: {answer}"
        );
    }
    for name in answer.as_object().unwrap().keys() {
        assert!(
            settings["properties"][name].is_object(),
            "{name} undocumented"
        );
    }
}
