//! Series named by natural keys (`store_code`, `sku`) wherever a request
//! names one: train, predict, train-global, backtest (single and listed
//! series), explain, jobs (train, backtest, batch) and the scenarios built
//! on a model trained by keys, and the experiment agent's `run_backtest`
//! tool, on both databases. Ids alone still work
//! unchanged; unknown keys are 404s, contradicting or missing names and NUL
//! characters 422s naming the field.

use forecastlab_llm_testing::{ProviderServer, Turn};
use forecastlab_tests::{agents::scripted_app, both_backends, fixtures, jobs, Backend, TestApp};
use serde_json::{json, Map, Value};

/// Two stores (`S1`, `S2`) × two products (`SKU1`, `SKU2`), ids 1 and 2,
/// 120 days of a weekly pattern.
async fn seeded(backend: Backend) -> TestApp {
    let app = TestApp::spawn(backend).await;
    fixtures::weekly_sales(&app, 2, 2, 120).await;
    app
}

/// `base` with the members of `names` added.
fn with(base: &Value, names: Value) -> Value {
    let mut body = base.clone();
    if let (Some(body), Some(names)) = (body.as_object_mut(), names.as_object()) {
        body.extend(names.clone());
    }
    body
}

fn train_body(names: Value) -> Value {
    with(
        &json!({
            "train_start_date": "2024-01-01", "train_end_date": "2024-04-15",
            "config": {"model_type": "seasonal_naive", "season_length": 7},
        }),
        names,
    )
}

fn backtest_body(names: Value) -> Value {
    with(
        &json!({
            "start_date": "2024-01-01", "end_date": "2024-04-29",
            "config": {
                "model_config_main": {"model_type": "seasonal_naive", "season_length": 7},
                "include_baselines": false,
            },
        }),
        names,
    )
}

fn explain_body(names: Value) -> Value {
    with(
        &json!({"model_type": "naive", "as_of_date": "2024-04-15"}),
        names,
    )
}

/// The forecast values of a predict response.
fn forecasts(response: &Value) -> Vec<Value> {
    response["forecasts"]
        .as_array()
        .map(|points| points.iter().map(|p| p["forecast"].clone()).collect())
        .unwrap_or_default()
}

async fn train_and_predict_by_keys(backend: Backend) {
    let app = seeded(backend).await;
    let by_keys = app
        .post(
            "/forecasting/train",
            &train_body(json!({"store_code": "S2", "sku": "SKU1"})),
        )
        .await
        .assert_ok()
        .clone();
    assert_eq!(by_keys["store_id"], 2);
    assert_eq!(by_keys["product_id"], 1);
    let by_ids = app
        .post(
            "/forecasting/train",
            &train_body(json!({"store_id": 2, "product_id": 1})),
        )
        .await
        .assert_ok()
        .clone();
    assert_eq!(by_ids["n_observations"], by_keys["n_observations"]);

    // Predict names the series by keys, by ids, or mixed: one forecast.
    let path = by_keys["model_path"].clone();
    let predict = |names: Value| with(&json!({"model_path": path, "horizon": 7}), names);
    let mut answers = Vec::new();
    for names in [
        json!({"store_code": "S2", "sku": "SKU1"}),
        json!({"store_id": 2, "product_id": 1}),
        json!({"store_id": 2, "sku": "SKU1"}),
        json!({"store_code": "S2", "store_id": 2, "product_id": 1, "sku": "SKU1"}),
    ] {
        let answer = app
            .post("/forecasting/predict", &predict(names))
            .await
            .assert_ok()
            .clone();
        assert_eq!(answer["store_id"], 2);
        assert_eq!(answer["product_id"], 1);
        assert_eq!(forecasts(&answer).len(), 7);
        answers.push(forecasts(&answer));
    }
    assert!(answers.windows(2).all(|pair| pair[0] == pair[1]));
    // The model's own rule still holds when the series is named by keys.
    app.post(
        "/forecasting/predict",
        &predict(json!({"store_code": "S1", "sku": "SKU1"})),
    )
    .await
    .assert_problem_mentions(400, "BAD_REQUEST", "trained for store 2 product 1");

    // Mixed: the store by id, the product by SKU.
    let mixed = app
        .post(
            "/forecasting/train",
            &train_body(json!({"store_id": 1, "sku": "SKU2"})),
        )
        .await
        .assert_ok()
        .clone();
    assert_eq!(mixed["store_id"], 1);
    assert_eq!(mixed["product_id"], 2);
}

async fn global_training_lists_series_by_keys(backend: Backend) {
    let app = seeded(backend).await;
    let body = json!({
        "series": [
            {"store_code": "S1", "sku": "SKU1"},
            {"store_id": 2, "sku": "SKU2"},
            {"store_id": 1, "product_id": 1},
        ],
        "train_start_date": "2024-01-01", "train_end_date": "2024-04-15",
        "config": {"model_type": "regression"},
    });
    let trained = app
        .post("/forecasting/train-global", &body)
        .await
        .assert_ok()
        .clone();
    // The third entry names the first series again: it counts once.
    assert_eq!(
        trained["series"],
        json!([
            {"store_id": 1, "product_id": 1},
            {"store_id": 2, "product_id": 2},
        ])
    );
    let predicted = app
        .post(
            "/forecasting/predict",
            &json!({"store_code": "S2", "sku": "SKU2", "horizon": 3,
                    "model_path": trained["artifact_key"]}),
        )
        .await
        .assert_ok()
        .clone();
    assert_eq!(forecasts(&predicted).len(), 3);
}

async fn backtest_by_keys(backend: Backend) {
    let app = seeded(backend).await;
    let single = app
        .post(
            "/backtesting/run",
            &backtest_body(json!({"store_code": "S1", "sku": "SKU2"})),
        )
        .await
        .assert_ok()
        .clone();
    assert_eq!(single["store_id"], 1);
    assert_eq!(single["product_id"], 2);
    let by_ids = app
        .post(
            "/backtesting/run",
            &backtest_body(json!({"store_id": 1, "product_id": 2})),
        )
        .await
        .assert_ok()
        .clone();
    assert_eq!(
        single["main_model_results"]["aggregated_metrics"],
        by_ids["main_model_results"]["aggregated_metrics"]
    );

    let many = app
        .post(
            "/backtesting/run",
            &backtest_body(json!({"series": [
                {"store_code": "S2", "sku": "SKU1"},
                {"store_id": 1, "sku": "SKU1"},
                {"store_id": 2, "product_id": 1},
            ]})),
        )
        .await
        .assert_ok()
        .clone();
    let named: Vec<(Value, Value)> = many["series_results"]
        .as_array()
        .expect("series_results")
        .iter()
        .map(|s| (s["store_id"].clone(), s["product_id"].clone()))
        .collect();
    assert_eq!(named.len(), 2, "{many}");
    assert!(named.contains(&(json!(2), json!(1))));
    assert!(named.contains(&(json!(1), json!(1))));
}

async fn explain_by_keys(backend: Backend) {
    let app = seeded(backend).await;
    let by_keys = app
        .post(
            "/explain/forecast",
            &explain_body(json!({"store_code": "S2", "sku": "SKU2"})),
        )
        .await
        .assert_ok()
        .clone();
    let by_ids = app
        .post(
            "/explain/forecast",
            &explain_body(json!({"store_id": 2, "product_id": 2})),
        )
        .await
        .assert_ok()
        .clone();
    assert_eq!(by_keys["forecast_value"], by_ids["forecast_value"]);
    assert_eq!(by_keys["store_id"], 2);
}

/// Job params with the model and window of a train or backtest job.
fn job_params(names: Value) -> Value {
    with(
        &json!({"model_type": "seasonal_naive", "season_length": 7,
                "start_date": "2024-01-01", "end_date": "2024-04-15"}),
        names,
    )
}

async fn jobs_created_by_keys_complete(backend: Backend) {
    let app = seeded(backend).await;
    // The job stores the ids the keys name; the worker needs no lookups.
    let queued = jobs::submit(
        &app,
        "train",
        job_params(json!({"store_code": "S2", "sku": "SKU2"})),
    )
    .await;
    assert_eq!(queued["params"]["store_id"], 2);
    assert_eq!(queued["params"]["product_id"], 2);
    assert!(queued["params"].get("store_code").is_none());
    assert!(queued["params"].get("sku").is_none());
    let job = jobs::wait_for(&app, queued["job_id"].as_str().unwrap(), jobs::finished).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["result"]["store_id"], 2);
    assert_eq!(job["result"]["product_id"], 2);

    let backtest = jobs::run(
        &app,
        "backtest",
        job_params(json!({"store_id": 1, "sku": "SKU2", "n_splits": 2})),
    )
    .await;
    assert_eq!(backtest["store_id"], 1);
    assert_eq!(backtest["product_id"], 2);

    let batch = jobs::submit(
        &app,
        "batch",
        job_params(json!({"store_codes": ["S2"], "skus": ["SKU1", "SKU2"], "product_ids": [1]})),
    )
    .await;
    assert_eq!(batch["params"]["store_ids"], json!([2]));
    assert_eq!(batch["params"]["product_ids"], json!([1, 2]));
    assert!(batch["params"].get("store_codes").is_none());
    let batch = jobs::wait_for(&app, batch["job_id"].as_str().unwrap(), jobs::finished).await;
    assert_eq!(batch["status"], "completed", "{batch}");

    // Unknown or contradicting keys: nothing is queued.
    let before = app.rows("job").await;
    app.post(
        "/jobs",
        &json!({"job_type": "train", "params": job_params(json!({"store_code": "NOPE", "product_id": 1}))}),
    )
    .await
    .assert_problem_mentions(404, "NOT_FOUND", "Store code 'NOPE' not found");
    app.post(
        "/jobs",
        &json!({"job_type": "backtest", "params": job_params(json!({"store_id": 1, "product_id": 1, "sku": "SKU2"}))}),
    )
    .await
    .assert_invalid_fields(&["params.sku"]);
    app.post(
        "/jobs",
        &json!({"job_type": "batch", "params": job_params(json!({"skus": ["SKU1", "NOPE"]}))}),
    )
    .await
    .assert_problem_mentions(404, "NOT_FOUND", "SKU 'NOPE' not found");
    app.post(
        "/jobs",
        &json!({"job_type": "train", "params": job_params(json!({"sku": "SKU1"}))}),
    )
    .await
    .assert_invalid_fields(&["params.store_id"]);
    assert_eq!(app.rows("job").await, before);
}

async fn scenario_simulate_by_keys(backend: Backend) {
    let app = seeded(backend).await;
    let trained = app
        .post(
            "/forecasting/train",
            &train_body(json!({"store_code": "S1", "sku": "SKU2"})),
        )
        .await
        .assert_ok()
        .clone();
    let simulated = app
        .post(
            "/scenarios/simulate",
            &json!({"run_id": trained["artifact_key"], "horizon": 7,
                    "assumptions": {"price": {"change_pct": -0.1,
                    "start_date": "2024-04-16", "end_date": "2024-04-22"}}}),
        )
        .await
        .assert_ok()
        .clone();
    assert_eq!(simulated["store_id"], 1);
    assert_eq!(simulated["product_id"], 2);
    let saved = app
        .post(
            "/scenarios",
            &json!({"name": "by keys", "run_id": trained["artifact_key"], "horizon": 7}),
        )
        .await;
    let saved = saved.assert_status(201);
    assert_eq!(saved["store_id"], 1);
    assert_eq!(saved["product_id"], 2);
}

/// Every route that names a series, with a body naming it by `names`.
fn bodies(names: Value) -> Vec<(&'static str, Value)> {
    vec![
        ("/forecasting/train", train_body(names.clone())),
        (
            "/forecasting/predict",
            with(
                &json!({"model_path": "0123456789ab", "horizon": 3}),
                names.clone(),
            ),
        ),
        ("/backtesting/run", backtest_body(names.clone())),
        ("/explain/forecast", explain_body(names)),
    ]
}

async fn bad_names_are_refused(backend: Backend) {
    let app = seeded(backend).await;
    for (path, body) in bodies(json!({"store_code": "NOPE", "product_id": 1})) {
        app.post(path, &body).await.assert_problem_mentions(
            404,
            "NOT_FOUND",
            "Store code 'NOPE' not found",
        );
    }
    for (path, body) in bodies(json!({"store_id": 1, "sku": "sku1"})) {
        // SKUs match exactly (case-sensitive).
        app.post(path, &body).await.assert_problem_mentions(
            404,
            "NOT_FOUND",
            "SKU 'sku1' not found",
        );
    }
    for (path, body) in bodies(json!({"store_id": 1, "store_code": "S2", "product_id": 1})) {
        let response = app.post(path, &body).await;
        response.assert_invalid_fields(&["store_code"]);
        assert_eq!(response.body["errors"][0]["type"], "key_mismatch");
    }
    for (path, body) in bodies(json!({})) {
        app.post(path, &body)
            .await
            .assert_invalid_fields(&["store_id", "product_id"]);
    }
    for (path, body) in bodies(json!({"store_code": "S\u{0}1", "product_id": 1})) {
        let response = app.post(path, &body).await;
        response.assert_invalid_fields(&["store_code"]);
        assert_eq!(response.body["errors"][0]["type"], "string_nul");
    }
    for (path, body) in bodies(json!({"store_code": "S".repeat(21), "sku": ""})) {
        app.post(path, &body)
            .await
            .assert_invalid_fields(&["store_code", "sku"]);
    }

    // Listed series report the entry.
    let listed = |series: Value| backtest_body(json!({"series": series}));
    app.post(
        "/backtesting/run",
        &listed(json!([{"store_id": 1, "product_id": 1}, {"store_code": "S1", "product_id": 2, "sku": "SKU1"}])),
    )
    .await
    .assert_invalid_fields(&["series.1.sku"]);
    app.post(
        "/backtesting/run",
        &listed(json!([{"store_code": "S9", "sku": "SKU1"}])),
    )
    .await
    .assert_problem_mentions(404, "NOT_FOUND", "Store code 'S9' not found");
    app.post("/backtesting/run", &listed(json!([{"sku": "SKU1"}])))
        .await
        .assert_invalid_fields(&["series.0.store_id"]);
    app.post(
        "/forecasting/train-global",
        &json!({"series": [{"store_code": "S1", "sku": "SKU\u{0}"}],
                "train_start_date": "2024-01-01", "train_end_date": "2024-04-15",
                "config": {"model_type": "regression"}}),
    )
    .await
    .assert_invalid_fields(&["series.0.sku"]);
    // One series and a list at once stays refused.
    app.post(
        "/backtesting/run",
        &backtest_body(json!({"store_code": "S1", "series": "all"})),
    )
    .await
    .assert_invalid_fields(&["store_code"]);
}

/// The OpenAPI document declares the natural keys with the dimension
/// rules, the ids as optional with their minimum, and that at least one
/// name of each pair must be given (`allOf` of the object and one `anyOf`
/// per pair).
async fn openapi_declares_the_keys(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let doc = app.get("/openapi.json").await.assert_ok().clone();
    let schemas = &doc["components"]["schemas"];
    for name in [
        "TrainRequest",
        "PredictRequest",
        "BacktestRequest",
        "ExplainRequest",
        "SeriesName",
    ] {
        let all_of = schemas[name]["allOf"].as_array().expect("allOf");
        let schema = &all_of[0];
        let alternatives = |pair: &Value| -> Vec<Value> {
            let branches = pair["anyOf"].as_array().cloned().unwrap_or_default();
            branches.iter().map(|b| b["required"][0].clone()).collect()
        };
        assert_eq!(
            alternatives(&all_of[1]),
            [json!("store_id"), json!("store_code")]
        );
        assert_eq!(
            alternatives(&all_of[2]),
            [json!("product_id"), json!("sku")]
        );
        let properties: &Map<String, Value> = schema["properties"].as_object().expect("properties");
        assert_eq!(properties["store_code"]["maxLength"], 20, "{name}");
        assert_eq!(properties["store_code"]["minLength"], 1, "{name}");
        assert_eq!(properties["sku"]["maxLength"], 50, "{name}");
        assert_eq!(properties["store_id"]["minimum"], 1, "{name}");
        let required = schema["required"].as_array().cloned().unwrap_or_default();
        for field in ["store_id", "product_id", "store_code", "sku"] {
            assert!(!required.contains(&json!(field)), "{name}.{field}");
        }
    }
}

/// The experiment agent backtests a series it names by store code and SKU;
/// an unknown SKU comes back to the model as a not-found tool result.
async fn the_agent_backtests_by_keys(backend: Backend) {
    let server = ProviderServer::openai().await;
    let app = scripted_app(backend, &server, &[]).await;
    fixtures::weekly_sales(&app, 2, 2, 120).await;
    let session = app
        .post("/agents/sessions", &json!({"agent_type": "experiment"}))
        .await;
    let session_id = session.assert_status(201)["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let dates = json!({"start_date": "2024-01-01", "end_date": "2024-04-29"});
    server
        .push(
            Turn::tool_call(
                "run_backtest",
                with(&dates, json!({"store_code": "S2", "sku": "SKU1"})),
            )
            .and_tool_call(
                "run_backtest",
                with(&dates, json!({"store_id": 1, "sku": "NOPE"})),
            ),
        )
        .push(Turn::text("Backtested."));
    let chat = app
        .post(
            &format!("/agents/sessions/{session_id}/chat"),
            &json!({"message": "Backtest SKU1 at store S2."}),
        )
        .await;
    let body = chat.assert_status(200);
    let by_keys = &body["tool_calls"][0]["result"];
    assert_eq!(by_keys["store_id"], 2, "{by_keys}");
    assert_eq!(by_keys["product_id"], 1, "{by_keys}");
    assert_eq!(by_keys["main_model_results"]["model_type"], "naive");
    assert!(by_keys["main_model_results"]["aggregated_metrics"]["mae"].is_number());
    let unknown = &body["tool_calls"][1]["result"];
    assert_eq!(unknown["error_type"], "NOT_FOUND", "{unknown}");
}

both_backends!(
    the_agent_backtests_by_keys,
    train_and_predict_by_keys,
    global_training_lists_series_by_keys,
    backtest_by_keys,
    explain_by_keys,
    jobs_created_by_keys_complete,
    scenario_simulate_by_keys,
    bad_names_are_refused,
    openapi_declares_the_keys,
);
