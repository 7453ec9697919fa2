//! API-key authentication, checked on every operation the OpenAPI document
//! lists, so a route added later cannot slip through unprotected.

use forecastlab_server::apikeys::{self, Scope};
use forecastlab_tests::{both_backends, Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::Value;

both_backends!(every_route_in_the_document_is_protected, keys_are_checked);

/// Every (method, path) of the document, path parameters filled in.
async fn operations(app: &TestApp) -> Vec<(Method, String, String)> {
    let document = app.get("/openapi.json").await;
    let document = document.assert_ok();
    let mut out = Vec::new();
    for (template, item) in document["paths"].as_object().expect("paths") {
        let concrete = template
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "0123456789abcdef0123456789abcdef"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                out.push((method, template.clone(), concrete.clone()));
            }
        }
    }
    assert!(
        out.len() > 30,
        "the document lists only {} operations",
        out.len()
    );
    out
}

async fn call(
    app: &TestApp,
    method: &Method,
    path: &str,
    key: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = app.client.request(method.clone(), app.url(path));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if *method != Method::GET && *method != Method::DELETE {
        request = request.json(&serde_json::json!({}));
    }
    let response = request.send().await.expect("request failed");
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

fn is_open(template: &str) -> bool {
    template == "/health" || template == "/health/ready"
}

fn is_admin(method: &Method, template: &str) -> bool {
    matches!(
        (method.as_str(), template),
        ("POST", "/seeder/generate")
            | ("POST", "/seeder/append")
            | ("POST", "/seeder/phase2-enrichment")
            | ("DELETE", "/seeder/data")
            | ("PATCH", "/config/ai")
    )
}

async fn every_route_in_the_document_is_protected(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("AUTH_ENABLED", "true")]).await;
    let read = apikeys::create(&app.db, "reader", Scope::Read)
        .await
        .unwrap()
        .key;
    let write = apikeys::create(&app.db, "writer", Scope::Write)
        .await
        .unwrap()
        .key;
    for (method, template, path) in operations(&app).await {
        let what = format!("{method} {template}");
        let (status, body) = call(&app, &method, &path, None).await;
        if is_open(&template) {
            assert_eq!(status, StatusCode::OK, "{what} must stay open");
            continue;
        }
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{what} without a key: {body}"
        );
        assert_eq!(body["code"], "UNAUTHORIZED");

        let (status, body) = call(&app, &method, &path, Some(&read)).await;
        if method == Method::GET {
            assert!(
                status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                "{what} with a read key: {status} {body}"
            );
        } else {
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{what} with a read key: {body}"
            );
            assert_eq!(body["code"], "FORBIDDEN");
            let (status, body) = call(&app, &method, &path, Some(&write)).await;
            if is_admin(&method, &template) {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{what} with a write key: {body}"
                );
                assert_eq!(body["required_scope"], "admin");
            } else {
                assert!(
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                    "{what} with a write key: {status} {body}"
                );
            }
        }
    }
}

async fn keys_are_checked(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("APP_ENV", "production")]).await;
    let admin = apikeys::create(&app.db, "ops", Scope::Admin).await.unwrap();
    // On by default in production.
    let (status, _) = call(&app, &Method::GET, "/seeder/status", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = call(&app, &Method::GET, "/seeder/status", Some(&admin.key)).await;
    assert_eq!(status, StatusCode::OK);
    // A wrong secret for a known id, a malformed key, another scheme.
    let forged = format!("{}{}", &admin.key[..admin.key.len() - 4], "0000");
    for key in [forged.as_str(), "flk_nope", "Basic abc"] {
        let (status, body) = call(&app, &Method::GET, "/seeder/status", Some(key)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{key}: {body}");
    }
    let response = app
        .client
        .get(app.url("/seeder/status"))
        .header("authorization", format!("Basic {}", admin.key))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers().get("www-authenticate").unwrap(),
        "Bearer"
    );
    // Only a salted hash is stored.
    let stored = app
        .count(&format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM api_key WHERE secret_hash LIKE '%{}%' OR key_id = '{}'",
            &admin.key[21..], admin.key_id
        ))
        .await;
    assert_eq!(
        stored, 1,
        "only the id row matches; the secret is not stored"
    );
    // Revoked keys stop working (after the verification cache expires for
    // keys already seen; a fresh key is refused at once).
    let fresh = apikeys::create(&app.db, "temp", Scope::Read).await.unwrap();
    assert!(apikeys::revoke(&app.db, &fresh.key_id).await.unwrap());
    let (status, _) = call(&app, &Method::GET, "/seeder/status", Some(&fresh.key)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The seeder's production guard still applies behind auth.
    let (status, body) = call(&app, &Method::POST, "/seeder/generate", Some(&admin.key)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "FORBIDDEN");
}
