//! The foundation: health, problem+json for every kind of error, OpenAPI and
//! docs, the plugin registry reaching the server, both databases migrated.

use forecastlab_core::{
    taxonomy::{InputKind, ModelFamily},
    CoreError, FittedModel, Forecaster, ModelRegistration,
};
use forecastlab_tests::{both_backends, Backend, TestApp};
use reqwest::Method;
use serde_json::json;

/// A model registered by this test crate only: the server must list it
/// without naming it anywhere.
#[derive(Debug)]
struct RegistryProbe;

impl Forecaster for RegistryProbe {
    fn model_type(&self) -> &'static str {
        "registry_probe"
    }
    fn config_json(&self) -> serde_json::Value {
        json!({"schema_version": "1.0", "model_type": "registry_probe"})
    }
    fn fit(
        &self,
        _: &forecastlab_core::TrainingData<'_>,
    ) -> Result<Box<dyn FittedModel>, CoreError> {
        Err(CoreError::Unsupported("probe only".into()))
    }
}

fn build_probe(_: &serde_json::Value) -> Result<Box<dyn Forecaster>, CoreError> {
    Ok(Box::new(RegistryProbe))
}

fn load_probe(_: &[u8]) -> Result<Box<dyn FittedModel>, CoreError> {
    Err(CoreError::Unsupported("probe only".into()))
}

forecastlab_core::inventory::submit! {
    ModelRegistration {
        name: "registry_probe",
        family: ModelFamily::Baseline,
        input: InputKind::TargetOnly,
        flag: None,
        version: "0.0.1",
        build: build_probe,
        load: load_probe,
    }
}

async fn health_and_readiness(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let health = app.get("/health").await;
    assert_eq!(
        health.assert_ok(),
        &json!({"status": "ok", "database": null})
    );
    assert!(health.headers.contains_key("x-request-id"));
    let ready = app.get("/health/ready").await;
    assert_eq!(
        ready.assert_ok(),
        &json!({"status": "ok", "database": "connected"})
    );
}

async fn request_id_is_echoed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .client
        .get(app.url("/nowhere"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me-123");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["request_id"], "trace-me-123");
    assert_eq!(body["instance"], "/requests/trace-me-123");
}

async fn framework_errors_are_problems(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.get("/no/such/route")
        .await
        .assert_problem(404, "NOT_FOUND");
    let wrong_method = app.request(Method::DELETE, "/health", None).await;
    wrong_method.assert_problem(405, "METHOD_NOT_ALLOWED");
    assert!(wrong_method.headers.contains_key("allow"));
}

async fn malformed_requests_are_problems(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("MAX_BODY_BYTES", "4096")]).await;
    let broken = app
        .send_raw(
            Method::POST,
            "/ingest/sales-daily",
            "application/json",
            "{\"records\": [",
        )
        .await;
    broken.assert_problem(422, "VALIDATION_ERROR");
    assert_eq!(broken.body["errors"][0]["type"], "json_invalid");

    let wrong_type = app
        .send_raw(Method::POST, "/ingest/sales-daily", "text/plain", "records")
        .await;
    wrong_type.assert_problem(415, "UNSUPPORTED_MEDIA_TYPE");

    let row = json!({"date": "2024-01-01", "store_code": "S0001", "sku": "SKU-1",
                     "quantity": 1, "unit_price": "1.00", "total_amount": "1.00"});
    let huge = json!({"records": vec![row; 200]});
    let too_large = app.post("/ingest/sales-daily", &huge).await;
    too_large.assert_problem(413, "PAYLOAD_TOO_LARGE");
    assert_eq!(app.rows("sales_daily").await, 0);

    let bad_query = app.get("/dimensions/stores?page=abc").await;
    bad_query.assert_invalid_fields(&["query.page"]);
}

async fn schema_is_migrated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for table in [
        "store",
        "product",
        "calendar",
        "sales_daily",
        "price_history",
        "promotion",
        "inventory_snapshot_daily",
        "exogenous_signal",
        "sales_returns",
        "replenishment_event",
        "model_run",
        "deployment_alias",
        "job",
        "batch_job",
        "batch_job_item",
        "scenario_plan",
        "showcase_workspace",
        "document_source",
        "document_chunk",
        "agent_session",
        "app_config",
    ] {
        assert_eq!(app.rows(table).await, 0, "{table}");
    }
    // Natural keys and checks are enforced by the database itself.
    app.exec("INSERT INTO store (code, name) VALUES ('S0001', 'A')")
        .await;
    let duplicate = forecastlab_server::db::execute_script(
        &app.db,
        "INSERT INTO store (code, name) VALUES ('S0001', 'B')",
    )
    .await;
    assert!(duplicate.is_err(), "store.code must be unique");
    let bad_dow = forecastlab_server::db::execute_script(
        &app.db,
        "INSERT INTO calendar (date, day_of_week, month, quarter, year, is_holiday) \
         VALUES ('2024-01-01', 7, 1, 1, 2024, false)",
    )
    .await;
    assert!(bad_dow.is_err(), "day_of_week must be 0..6");
}

async fn openapi_and_docs_are_served(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let spec = app.get("/openapi.json").await;
    let body = spec.assert_ok();
    assert!(body["openapi"].as_str().unwrap().starts_with("3."));
    assert!(body["paths"]["/health"]["get"].is_object());
    assert!(body["paths"]["/forecasting/models"]["get"].is_object());
    let docs = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.unwrap();
    assert!(
        html.contains("swagger-ui"),
        "docs page must embed Swagger UI"
    );
    // The page's assets come from the binary, not a CDN.
    assert!(!html.contains("https://"), "docs page must work offline");
    let bundle = app
        .client
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), 200);
    assert!(bundle.bytes().await.unwrap().len() > 100_000);
}

/// Every operation has an `operationId` of its own, and every response link
/// names an existing operation and only parameters that operation takes.
async fn openapi_operations_are_uniquely_named_and_linked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let spec = app.get("/openapi.json").await.assert_ok().clone();
    let mut operations = std::collections::BTreeMap::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            let parameters: Vec<&str> = operation["parameters"]
                .as_array()
                .map(|list| list.iter().filter_map(|p| p["name"].as_str()).collect())
                .unwrap_or_default();
            let previous =
                operations.insert(id.to_owned(), (format!("{method} {path}"), parameters));
            assert!(
                previous.is_none(),
                "operationId {id} names both {method} {path} and {}",
                previous.unwrap().0
            );
        }
    }
    let mut links = 0;
    for item in spec["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            for response in operation["responses"].as_object().unwrap().values() {
                let Some(response_links) = response["links"].as_object() else {
                    continue;
                };
                for (name, link) in response_links {
                    links += 1;
                    let target = link["operationId"].as_str().unwrap();
                    let (_, parameters) = operations
                        .get(target)
                        .unwrap_or_else(|| panic!("link {name} names no operation: {target}"));
                    for parameter in link["parameters"].as_object().unwrap().keys() {
                        assert!(
                            parameters.contains(&parameter.as_str()),
                            "link {name}: {target} takes no parameter {parameter}"
                        );
                    }
                }
            }
        }
    }
    assert!(
        links >= 11,
        "the create and list operations link onward ({links} links)"
    );
}

async fn plugin_registered_elsewhere_is_listed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let catalog = app.get("/forecasting/models").await;
    let models = catalog.assert_ok()["models"].as_array().unwrap().clone();
    let probe = models
        .iter()
        .find(|m| m["model_type"] == "registry_probe")
        .expect("the test crate's plugin is listed");
    assert_eq!(probe["compiled_in"], true);
    assert_eq!(probe["enabled"], true);
    assert_eq!(probe["builtin"], false);
    let lightgbm = models
        .iter()
        .find(|m| m["model_type"] == "lightgbm")
        .unwrap();
    assert_eq!(lightgbm["opt_in"], true);
    assert_eq!(lightgbm["flag"], "forecast_enable_lightgbm");
    assert_eq!(lightgbm["cargo_feature"], "lightgbm");
    for name in [
        "naive",
        "seasonal_naive",
        "moving_average",
        "weighted_moving_average",
        "seasonal_average",
        "trend_regression_baseline",
        "regression",
        "prophet_like",
        "xgboost",
        "random_forest",
    ] {
        assert!(
            models.iter().any(|m| m["model_type"] == name),
            "{name} listed"
        );
    }
}

async fn gzip_is_offered(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .client
        .get(app.url("/openapi.json"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
}

both_backends!(
    health_and_readiness,
    request_id_is_echoed,
    framework_errors_are_problems,
    malformed_requests_are_problems,
    schema_is_migrated,
    openapi_and_docs_are_served,
    openapi_operations_are_uniquely_named_and_linked,
    plugin_registered_elsewhere_is_listed,
    gzip_is_offered,
);
