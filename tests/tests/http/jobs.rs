//! /jobs: submission with up-front validation (422, nothing queued),
//! background execution of train / predict / backtest / batch jobs by the
//! server's worker pool, registry integration, cancellation in every state,
//! recovery of jobs whose worker died, listing — on SQLite and PostgreSQL.

use std::time::Duration;

use chrono::{Days, NaiveDate};
use forecastlab_tests::{
    both_backends,
    fixtures::{self, Sale},
    jobs::{finished, submit, wait_for},
    Backend, TestApp,
};
use serde_json::{json, Value};

/// Seeds `stores × products` daily series of `days` days from 2024-01-01
/// with a weekly pattern (store and product ids 1, 2, …).
async fn seed_sales(app: &TestApp, stores: i64, products: i64, days: i64) {
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let list = |n: i64, row: &dyn Fn(i64) -> String| (1..=n).map(row).collect::<Vec<_>>().join(",");
    app.exec(&format!(
        "INSERT INTO store (id, code, name) VALUES {};\
         INSERT INTO product (id, sku, name) VALUES {};",
        list(stores, &|s| format!("({s}, 'S{s}', 'Store {s}')")),
        list(products, &|p| format!("({p}, 'SKU{p}', 'Product {p}')")),
    ))
    .await;
    fixtures::calendar(app, start, start + Days::new(days as u64 - 1)).await;
    let mut rows = Vec::new();
    for s in 1..=stores {
        for p in 1..=products {
            for d in 0..days {
                let date = (start + Days::new(d as u64)).to_string();
                let quantity = 10 + (d % 7) * 2 + s + p;
                let total = format!("{}.{:02}", quantity * 5 / 2, quantity * 250 % 100);
                rows.push(Sale::new(&date, s, p, quantity, "2.50", &total));
            }
        }
    }
    fixtures::sales(app, &rows).await;
}

fn train_params(store: i64, product: i64) -> Value {
    json!({
        "model_type": "seasonal_naive",
        "season_length": 7,
        "store_id": store,
        "product_id": product,
        "start_date": "2024-01-01",
        "end_date": "2024-03-31",
    })
}

async fn train_predict_end_to_end(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed_sales(&app, 1, 1, 91).await;
    let queued = submit(&app, "train", train_params(1, 1)).await;
    let job_id = queued["job_id"].as_str().unwrap().to_owned();
    assert_eq!(job_id.len(), 32);
    assert!(matches!(
        queued["status"].as_str(),
        Some("pending" | "running" | "completed")
    ));
    assert_eq!(queued["job_type"], "train");
    assert_eq!(queued["params"]["season_length"], 7);

    let job = wait_for(&app, &job_id, finished).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["attempts"], 1);
    assert!(job["worker_id"].is_string());
    assert_eq!(job["progress"], json!({"done": 1, "total": 1}));
    assert!(job["started_at"].is_string() && job["completed_at"].is_string());
    let result = &job["result"];
    let run_id = result["run_id"].as_str().unwrap();
    assert_eq!(job["run_id"], run_id);
    assert_eq!(result["model_type"], "seasonal_naive");
    assert_eq!(result["n_observations"], 91);
    assert_eq!(result["artifact_key"].as_str().unwrap().len(), 12);

    // The trained model is in the registry with metrics and a verifiable artifact.
    let run = app.get(&format!("/registry/runs/{run_id}")).await;
    let run = run.assert_ok();
    assert_eq!(run["status"], "success");
    assert_eq!(run["model_type"], "seasonal_naive");
    assert_eq!(run["metrics"]["n_observations"], 91);
    assert_eq!(run["data_window_end"], "2024-03-31");
    assert_eq!(run["runtime_info"]["job_id"], job_id.as_str());
    assert!(run["started_at"].is_string() && run["completed_at"].is_string());
    assert_eq!(run["artifact_hash"].as_str().unwrap().len(), 64);
    let verify = app.get(&format!("/registry/runs/{run_id}/verify")).await;
    assert_eq!(verify.assert_ok()["verified"], true);
    // Tampering with the registry copy is detected.
    let uri = run["artifact_uri"].as_str().unwrap();
    let stored = app.dir.path().join("artifacts/registry").join(uri);
    let mut bytes = std::fs::read(&stored).unwrap();
    bytes[20] ^= 0xff;
    std::fs::write(&stored, bytes).unwrap();
    let verify = app.get(&format!("/registry/runs/{run_id}/verify")).await;
    assert_eq!(verify.assert_ok()["verified"], false);

    // Predict with the artifact key: seasonal naive repeats the last week.
    let predict = submit(
        &app,
        "predict",
        json!({"run_id": result["artifact_key"], "horizon": 10}),
    )
    .await;
    let predict = wait_for(&app, predict["job_id"].as_str().unwrap(), finished).await;
    assert_eq!(predict["status"], "completed", "{predict}");
    let forecasts = predict["result"]["forecasts"].as_array().unwrap();
    assert_eq!(forecasts.len(), 10);
    assert_eq!(forecasts[0]["date"], "2024-04-01");
    assert_eq!(forecasts[9]["date"], "2024-04-10");
    // Day index 84..90 of the seed: quantity = 10 + (d % 7) * 2 + 2.
    let last_week: Vec<f64> = (84..91).map(|d| (12 + (d % 7) * 2) as f64).collect();
    for (h, forecast) in forecasts.iter().enumerate() {
        assert_eq!(forecast["forecast"].as_f64().unwrap(), last_week[h % 7]);
    }
    assert_eq!(predict["result"]["store_id"], 1);

    // The registry copy was tampered with: predicting through the run id
    // refuses the corrupt artifact and the job fails with the problem.
    let by_run = submit(&app, "predict", json!({"run_id": run_id, "horizon": 3})).await;
    let by_run = wait_for(&app, by_run["job_id"].as_str().unwrap(), finished).await;
    assert_eq!(by_run["status"], "failed", "{by_run}");
    assert_eq!(by_run["error"]["status"], 400);

    // A missing artifact fails the job with a 404 problem.
    let missing = submit(&app, "predict", json!({"run_id": "0123456789ab"})).await;
    let missing = wait_for(&app, missing["job_id"].as_str().unwrap(), finished).await;
    assert_eq!(missing["status"], "failed");
    assert_eq!(missing["error_type"], "NOT_FOUND");
    assert_eq!(missing["error"]["status"], 404);
    assert_eq!(missing["error"]["code"], "NOT_FOUND");
    assert!(missing["error_message"]
        .as_str()
        .unwrap()
        .contains("0123456789ab"));
}

async fn predict_through_registry_run(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed_sales(&app, 1, 1, 60).await;
    let mut params = train_params(1, 1);
    params["model_type"] = json!("naive");
    params.as_object_mut().unwrap().remove("season_length");
    params["end_date"] = json!("2024-02-29");
    let train = submit(&app, "train", params).await;
    let train = wait_for(&app, train["job_id"].as_str().unwrap(), finished).await;
    assert_eq!(train["status"], "completed", "{train}");
    let run_id = train["run_id"].as_str().unwrap();
    let predict = submit(&app, "predict", json!({"run_id": run_id, "horizon": 2})).await;
    let predict = wait_for(&app, predict["job_id"].as_str().unwrap(), finished).await;
    assert_eq!(predict["status"], "completed", "{predict}");
    let forecasts = predict["result"]["forecasts"].as_array().unwrap();
    // Naive: the last observed value (day 59: 10 + (59 % 7) * 2 + 2 = 18).
    assert_eq!(forecasts[0]["forecast"].as_f64().unwrap(), 18.0);
    assert_eq!(forecasts[0]["date"], "2024-03-01");
}

async fn backtest_job(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed_sales(&app, 1, 1, 120).await;
    let job = submit(
        &app,
        "backtest",
        json!({"model_type": "naive", "store_id": 1, "product_id": 1,
               "start_date": "2024-01-01", "end_date": "2024-04-29",
               "n_splits": 4, "test_size": 7}),
    )
    .await;
    let job = wait_for(&app, job["job_id"].as_str().unwrap(), finished).await;
    assert_eq!(job["status"], "completed", "{job}");
    let result = &job["result"];
    assert_eq!(result["n_splits"], 4);
    assert_eq!(result["backtest_id"].as_str().unwrap().len(), 16);
    assert_eq!(job["progress"], json!({"done": 1, "total": 1}));
    assert_eq!(result["model_type"], "naive");
    assert_eq!(result["leakage_check_passed"], true);
    let folds = result["fold_metrics"].as_array().unwrap();
    assert_eq!(folds.len(), 4);
    let mean_mae: f64 = folds
        .iter()
        .map(|f| f["mae"].as_f64().unwrap())
        .sum::<f64>()
        / 4.0;
    let aggregated = result["aggregated_metrics"]["mae"].as_f64().unwrap();
    assert!((aggregated - mean_mae).abs() < 1e-9);
    assert!(aggregated > 0.0);
    // A series that is too short fails the job with the splitter's message.
    let short = submit(
        &app,
        "backtest",
        json!({"model_type": "naive", "store_id": 1, "product_id": 1,
               "start_date": "2024-01-01", "end_date": "2024-01-20"}),
    )
    .await;
    let short = wait_for(&app, short["job_id"].as_str().unwrap(), finished).await;
    assert_eq!(short["status"], "failed");
    assert!(
        short["error_message"]
            .as_str()
            .unwrap()
            .contains("Need at least 44"),
        "{short}"
    );
}

async fn failed_train_marks_the_run_failed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed_sales(&app, 1, 1, 30).await;
    let job = submit(&app, "train", train_params(1, 2)).await;
    let job = wait_for(&app, job["job_id"].as_str().unwrap(), finished).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["error_type"], "BAD_REQUEST");
    assert_eq!(job["error"]["status"], 400);
    assert_eq!(job["error"]["type"], "/errors/bad-request");
    let message = job["error_message"].as_str().unwrap();
    assert!(message.starts_with("No training data found"), "{message}");
    let run_id = job["run_id"].as_str().unwrap();
    let run = app.get(&format!("/registry/runs/{run_id}")).await;
    assert_eq!(run.body["status"], "failed");
    assert_eq!(run.body["error_message"], message);
    assert!(run.body["artifact_uri"].is_null());
}

async fn batch_job_registers_every_series(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed_sales(&app, 2, 3, 70).await;
    let job = submit(
        &app,
        "batch",
        json!({"model_type": "naive", "start_date": "2024-01-01", "end_date": "2024-03-10",
               "backtest": true, "n_splits": 2, "test_size": 7}),
    )
    .await;
    let job = wait_for(&app, job["job_id"].as_str().unwrap(), finished).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["progress"], json!({"done": 6, "total": 6}));
    let result = &job["result"];
    assert_eq!(result["series_total"], 6);
    assert_eq!(result["series_succeeded"], 6);
    let runs = result["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 6);
    for entry in runs {
        let run = app
            .get(&format!(
                "/registry/runs/{}",
                entry["run_id"].as_str().unwrap()
            ))
            .await;
        let run = run.assert_ok();
        assert_eq!(run["status"], "success");
        assert_eq!(run["store_id"], entry["store_id"]);
        // Registered once trained and copied: the copy is under the run's
        // id, and the run started before it completed.
        assert_eq!(run["runtime_info"]["job_id"], job["job_id"]);
        assert_eq!(
            run["artifact_uri"],
            format!(
                "runs/{}/model_{}.flmodel",
                entry["run_id"].as_str().unwrap(),
                entry["artifact_key"].as_str().unwrap()
            )
        );
        assert!(
            time(&run["started_at"]) <= time(&run["completed_at"]),
            "{run}"
        );
        assert!(run["metrics"]["mae"].as_f64().unwrap() >= 0.0);
        assert_eq!(run["metrics"]["n_observations"], 70);
        let verify = app
            .get(&format!(
                "/registry/runs/{}/verify",
                run["run_id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(verify.body["verified"], true);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM model_run").await, 6);

    // A selection: only store 2, products 1 and 3.
    let job = submit(
        &app,
        "batch",
        json!({"start_date": "2024-01-01", "end_date": "2024-03-10",
               "store_ids": [2], "product_ids": [1, 3]}),
    )
    .await;
    let job = wait_for(&app, job["job_id"].as_str().unwrap(), finished).await;
    assert_eq!(job["result"]["series_total"], 2, "{job}");
    assert_eq!(app.count("SELECT COUNT(*) FROM model_run").await, 8);
}

fn time(value: &Value) -> chrono::DateTime<chrono::Utc> {
    value.as_str().unwrap().parse().unwrap()
}

/// Feature-aware models (here the always-on `regression`) work in every
/// job type: a train job, predict jobs through the artifact key and the
/// registry run (the same forecasts as `POST /forecasting/predict`), and a
/// batch with a backtest whose runs predict too.
async fn feature_aware_models_in_every_job_type(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed_sales(&app, 2, 2, 70).await;
    let mut params = train_params(1, 2);
    params["model_type"] = json!("regression");
    params.as_object_mut().unwrap().remove("season_length");
    params["end_date"] = json!("2024-03-10");
    let train = submit(&app, "train", params).await;
    let train = wait_for(&app, train["job_id"].as_str().unwrap(), finished).await;
    assert_eq!(train["status"], "completed", "{train}");
    let result = &train["result"];
    assert_eq!(result["model_type"], "regression");
    assert_eq!(result["n_observations"], 70);
    let run_id = result["run_id"].as_str().unwrap();
    let run = app.get(&format!("/registry/runs/{run_id}")).await;
    let run = run.assert_ok();
    assert_eq!(run["status"], "success");
    assert_eq!(run["model_type"], "regression");
    assert_eq!(run["runtime_info"]["feature_frame_version"], 1);

    let direct = app
        .post(
            "/forecasting/predict",
            &json!({"store_id": 1, "product_id": 2, "horizon": 7,
                    "model_path": result["model_path"], "interval_level": 0.8}),
        )
        .await;
    let direct = direct.assert_ok().clone();
    for id in [result["artifact_key"].clone(), json!(run_id)] {
        let job = submit(
            &app,
            "predict",
            json!({"run_id": id, "horizon": 7, "interval_level": 0.8}),
        )
        .await;
        let job = wait_for(&app, job["job_id"].as_str().unwrap(), finished).await;
        assert_eq!(job["status"], "completed", "{job}");
        let predicted = &job["result"];
        assert_eq!(predicted["run_id"], id);
        assert_eq!(predicted["store_id"], 1);
        assert_eq!(predicted["product_id"], 2);
        assert_eq!(predicted["strategy"], "recursive");
        assert_eq!(predicted["interval_method"], direct["interval_method"]);
        assert_eq!(predicted["forecasts"], direct["forecasts"]);
        assert_eq!(predicted["forecasts"][0]["date"], "2024-03-11");
        let point = &predicted["forecasts"][6];
        assert!(point["lower_bound"].as_f64().unwrap() <= point["forecast"].as_f64().unwrap());
    }

    let batch = submit(
        &app,
        "batch",
        json!({"model_type": "regression", "start_date": "2024-01-01", "end_date": "2024-03-10",
               "backtest": true, "n_splits": 2, "test_size": 7}),
    )
    .await;
    let batch = wait_for(&app, batch["job_id"].as_str().unwrap(), finished).await;
    assert_eq!(batch["status"], "completed", "{batch}");
    assert_eq!(batch["result"]["series_succeeded"], 4, "{batch}");
    let runs = batch["result"]["runs"].as_array().unwrap();
    let keys: Vec<(i64, i64)> = runs
        .iter()
        .map(|r| {
            (
                r["store_id"].as_i64().unwrap(),
                r["product_id"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(keys, vec![(1, 1), (1, 2), (2, 1), (2, 2)]);
    for entry in runs {
        assert_eq!(entry["status"], "success", "{entry}");
        // Backtested through the backtesting slice's feature-aware folds.
        let mae = entry["metrics"]["mae"].as_f64().expect("backtest MAE");
        assert!((0.0..5.0).contains(&mae), "{entry}");
        assert_eq!(entry["metrics"]["n_observations"], 70);
    }
    let last = runs[3]["run_id"].as_str().unwrap();
    let job = submit(&app, "predict", json!({"run_id": last, "horizon": 3})).await;
    let job = wait_for(&app, job["job_id"].as_str().unwrap(), finished).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["result"]["store_id"], 2);
    assert_eq!(job["result"]["product_id"], 2);
    assert_eq!(job["result"]["forecasts"].as_array().unwrap().len(), 3);
    assert!(job["result"]["forecasts"][0]["lower_bound"].is_null());

    // A series too short for the folds is trained anyway and says why it
    // has no backtest metrics.
    let short = submit(
        &app,
        "batch",
        json!({"model_type": "naive", "start_date": "2024-02-20", "end_date": "2024-03-10",
               "store_ids": [1], "product_ids": [1], "backtest": true, "n_splits": 2, "test_size": 7}),
    )
    .await;
    let short = wait_for(&app, short["job_id"].as_str().unwrap(), finished).await;
    assert_eq!(short["status"], "completed", "{short}");
    let entry = &short["result"]["runs"][0];
    assert_eq!(entry["status"], "success", "{entry}");
    assert!(entry["metrics"]["mae"].is_null(), "{entry}");
    assert!(entry["backtest_skipped"].is_string(), "{entry}");
}

async fn validation_queues_nothing(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("JOBS_WORKERS", "0")]).await;
    let cases = [
        (json!({"job_type": "explode", "params": {}}), "job_type"),
        (
            json!({"job_type": "train", "params": {}, "extra": 1}),
            "extra",
        ),
        (
            json!({"job_type": "train", "params": {"product_id": 1, "start_date": "2024-01-01", "end_date": "2024-02-01"}}),
            "params.store_id",
        ),
        (
            json!({"job_type": "train", "params": {"store_id": 0, "product_id": 1, "start_date": "2024-01-01", "end_date": "2024-02-01"}}),
            "params.store_id",
        ),
        (
            json!({"job_type": "train", "params": {"store_id": 1, "product_id": 1, "start_date": "2024-03-01", "end_date": "2024-02-01"}}),
            "params.end_date",
        ),
        (
            json!({"job_type": "train", "params": {"store_id": 1, "product_id": 1, "start_date": "2024-01-01", "end_date": "2024-02-01", "model_type": "crystal_ball"}}),
            "params.model_type",
        ),
        (
            json!({"job_type": "train", "params": {"store_id": 1, "product_id": 1, "start_date": "2024-01-01", "end_date": "2024-02-01", "model_type": "lightgbm"}}),
            "params.model_type",
        ),
        (
            json!({"job_type": "train", "params": {"store_id": 1, "product_id": 1, "start_date": "2024-01-01", "end_date": "2024-02-01", "surprise": true}}),
            "params.surprise",
        ),
        (
            json!({"job_type": "train", "params": {"store_id": 1, "product_id": 1, "start_date": "2024-01-01", "end_date": "2024-02-01", "model_type": "moving_average", "config": {"window_size": 0}}}),
            "params.config",
        ),
        (
            json!({"job_type": "train", "params": {"store_id": "one", "product_id": 1, "start_date": "2024-01-01", "end_date": "2024-02-01"}}),
            "params.store_id",
        ),
        (
            json!({"job_type": "predict", "params": {"run_id": "not-an-id"}}),
            "params.run_id",
        ),
        (
            json!({"job_type": "predict", "params": {"run_id": "0123456789ab", "horizon": 10000}}),
            "params.horizon",
        ),
        (
            json!({"job_type": "predict", "params": {"run_id": "0123456789ab", "interval_level": 1.5}}),
            "params.interval_level",
        ),
        (
            json!({"job_type": "predict", "params": {"run_id": "0123456789ab", "strategy": "sideways"}}),
            "params.strategy",
        ),
        (
            json!({"job_type": "batch", "params": {"start_date": "2024-01-01", "end_date": "2024-02-01", "feature_frame_version": 3}}),
            "params.feature_frame_version",
        ),
        (
            json!({"job_type": "backtest", "params": {"store_id": 1, "product_id": 1, "start_date": "2024-01-01", "end_date": "2024-02-01", "n_splits": 1}}),
            "params.n_splits",
        ),
        (
            json!({"job_type": "backtest", "params": {"store_id": 1, "product_id": 1, "start_date": "2024-01-01", "end_date": "2024-02-01", "n_splits": 500}}),
            "params.n_splits",
        ),
        (
            json!({"job_type": "backtest", "params": {"store_id": 1, "product_id": 1, "start_date": "2024-01-01", "end_date": "2024-02-01", "gap": 5, "test_size": 5}}),
            "params.test_size",
        ),
        (
            json!({"job_type": "batch", "params": {"start_date": "2024-01-01", "end_date": "2024-02-01", "store_ids": []}}),
            "params.store_ids",
        ),
    ];
    for (body, field) in cases {
        app.post("/jobs", &body).await.assert_invalid(field);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM job").await, 0);
}

async fn cancel_in_each_state(backend: Backend) {
    // No workers: jobs stay pending.
    let app = TestApp::spawn_with(backend, &[("JOBS_WORKERS", "0")]).await;
    let job = submit(&app, "train", train_params(1, 1)).await;
    let job_id = job["job_id"].as_str().unwrap();
    assert_eq!(job["status"], "pending");
    let cancelled = app.delete(&format!("/jobs/{job_id}")).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    assert_eq!(cancelled.body["status"], "cancelled");
    assert!(cancelled.body["completed_at"].is_string());
    let again = app.delete(&format!("/jobs/{job_id}")).await;
    assert_eq!(
        again.assert_problem(400, "BAD_REQUEST")["detail"],
        "Cannot cancel job in status 'cancelled'"
    );
    for status in ["completed", "failed"] {
        app.exec(&format!(
            "INSERT INTO job (job_id, job_type, status, params) VALUES ('{status}00000000000000000000000', 'train', '{status}', '{{}}')"
        ))
        .await;
        let response = app
            .delete(&format!("/jobs/{status}00000000000000000000000"))
            .await;
        assert_eq!(
            response.assert_problem(400, "BAD_REQUEST")["detail"],
            format!("Cannot cancel job in status '{status}'")
        );
    }
    let missing = app.delete("/jobs/ffffffffffffffffffffffffffffffff").await;
    assert_eq!(
        missing.assert_problem(404, "NOT_FOUND")["detail"],
        "Job not found: ffffffffffffffffffffffffffffffff. Use GET /jobs to list available jobs."
    );
    app.get("/jobs/ffffffffffffffffffffffffffffffff")
        .await
        .assert_problem(404, "NOT_FOUND");
}

async fn cancel_running_batch(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[("JOBS_WORKERS", "1"), ("JOBS_HEARTBEAT_SECONDS", "1")],
    )
    .await;
    seed_sales(&app, 20, 50, 30).await;
    let job = submit(
        &app,
        "batch",
        json!({"start_date": "2024-01-01", "end_date": "2024-01-30"}),
    )
    .await;
    let job_id = job["job_id"].as_str().unwrap();
    let running = wait_for(&app, job_id, |job| {
        job["status"] == "running" || finished(job)
    })
    .await;
    assert_eq!(running["status"], "running", "finished too fast: {running}");
    // The batch is split into 20 shards: cancelling it stops the running
    // shards (202, the batch ends when they stop) — or, caught between two
    // shards, cancels the pending ones and the batch at once (200).
    let response = app.delete(&format!("/jobs/{job_id}")).await;
    assert_eq!(response.body["cancel_requested"], true, "{}", response.text);
    match response.status.as_u16() {
        202 => assert_eq!(response.body["status"], "running"),
        200 => assert_eq!(response.body["status"], "cancelled"),
        status => panic!("{status}: {}", response.text),
    }
    let job = wait_for(&app, job_id, finished).await;
    assert_eq!(job["status"], "cancelled", "{job}");
    assert_eq!(job["error_type"], "CANCELLED");
    let (done, total) = (
        job["progress"]["done"].as_i64().unwrap(),
        job["progress"]["total"].as_i64().unwrap(),
    );
    assert_eq!(total, 1000);
    assert!(done < total, "{done}/{total}");
    // Runs registered before the cancellation stay; no more are added.
    let runs = app.count("SELECT COUNT(*) FROM model_run").await;
    assert!(runs < 1000);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM model_run").await, runs);
}

async fn dead_worker_jobs_are_recovered(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[
            ("JOBS_WORKERS", "1"),
            ("JOBS_HEARTBEAT_SECONDS", "1"),
            ("JOBS_STALE_AFTER_SECONDS", "1"),
            ("JOBS_MAX_ATTEMPTS", "3"),
        ],
    )
    .await;
    seed_sales(&app, 1, 1, 60).await;
    let params = json!({"model_type": "naive", "store_id": 1, "product_id": 1,
                        "start_date": "2024-01-01", "end_date": "2024-02-29"})
    .to_string();
    // Claimed by workers that died long ago: one with attempts left, one
    // out of attempts, one whose cancellation was requested.
    app.exec(&format!(
        "INSERT INTO job (job_id, job_type, status, params, worker_id, heartbeat_at, attempts, started_at) VALUES \
         ('a0000000000000000000000000000000', 'train', 'running', '{params}', 'dead-w0', '2020-01-01T00:00:00+00:00', 1, '2020-01-01T00:00:00+00:00'), \
         ('b0000000000000000000000000000000', 'train', 'running', '{params}', 'dead-w1', '2020-01-01T00:00:00+00:00', 3, '2020-01-01T00:00:00+00:00'); \
         INSERT INTO job (job_id, job_type, status, params, worker_id, heartbeat_at, attempts, cancel_requested) VALUES \
         ('c0000000000000000000000000000000', 'train', 'running', '{params}', 'dead-w2', '2020-01-01T00:00:00+00:00', 1, TRUE)"
    ))
    .await;
    let retried = wait_for(&app, "a0000000000000000000000000000000", finished).await;
    assert_eq!(retried["status"], "completed", "{retried}");
    assert_eq!(retried["attempts"], 2);
    assert_ne!(retried["worker_id"], "dead-w0");
    let exhausted = wait_for(&app, "b0000000000000000000000000000000", finished).await;
    assert_eq!(exhausted["status"], "failed");
    assert_eq!(exhausted["error_type"], "WORKER_LOST");
    assert_eq!(exhausted["error"]["code"], "WORKER_LOST");
    assert_eq!(exhausted["attempts"], 3);
    let cancelled = wait_for(&app, "c0000000000000000000000000000000", finished).await;
    assert_eq!(cancelled["status"], "cancelled");
}

async fn list_jobs(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("JOBS_WORKERS", "0")]).await;
    let a = submit(&app, "train", train_params(1, 1)).await;
    let b = submit(&app, "predict", json!({"run_id": "0123456789ab"})).await;
    let c = submit(&app, "train", train_params(1, 2)).await;
    app.delete(&format!("/jobs/{}", b["job_id"].as_str().unwrap()))
        .await
        .assert_ok();
    let all = app.get("/jobs").await;
    let all = all.assert_ok();
    assert_eq!(all["total"], 3);
    assert_eq!(all["jobs"][0]["job_id"], c["job_id"]);
    assert_eq!(all["jobs"][2]["job_id"], a["job_id"]);
    let trains = app.get("/jobs?job_type=train").await;
    assert_eq!(trains.body["total"], 2);
    let cancelled = app.get("/jobs?status=cancelled").await;
    assert_eq!(cancelled.body["total"], 1);
    assert_eq!(cancelled.body["jobs"][0]["job_id"], b["job_id"]);
    let by_type = app.get("/jobs?sort_by=job_type&sort_order=asc").await;
    assert_eq!(by_type.body["jobs"][0]["job_type"], "predict");
    let completed_first = app.get("/jobs?sort_by=completed_at&sort_order=desc").await;
    assert_eq!(completed_first.body["jobs"][0]["job_id"], b["job_id"]);
    let asc = app.get("/jobs?sort_order=asc").await;
    assert_eq!(asc.body["jobs"][0]["job_id"], a["job_id"]);
    let fallback = app.get("/jobs?sort_by=1%3Bdrop&sort_order=asc").await;
    assert_eq!(fallback.assert_ok()["jobs"][0]["job_id"], c["job_id"]);
    let page = app.get("/jobs?page=2&page_size=2").await;
    assert_eq!(page.body["jobs"].as_array().unwrap().len(), 1);
    for (query, field) in [
        ("status=bogus", "query.status"),
        ("job_type=nope", "query.job_type"),
        ("page=0", "query.page"),
        ("page_size=0", "query.page_size"),
    ] {
        app.get(&format!("/jobs?{query}"))
            .await
            .assert_invalid_fields(&[field]);
    }
}

/// A split batch is one entry of `GET /jobs` (its shards counted under
/// `shards`); `include_shards=true` lists the shard jobs too and
/// `parent_job_id` only those of one batch.
async fn split_batch_lists_once(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("JOBS_BATCH_SHARD_SIZE", "2")]).await;
    seed_sales(&app, 1, 5, 40).await;
    let train = submit(&app, "train", train_params(1, 1)).await;
    let queued = submit(
        &app,
        "batch",
        json!({"model_type": "naive", "start_date": "2024-01-01", "end_date": "2024-02-09"}),
    )
    .await;
    let batch_id = queued["job_id"].as_str().unwrap().to_owned();
    let batch = wait_for(&app, &batch_id, finished).await;
    assert_eq!(batch["status"], "completed", "{batch}");
    assert_eq!(batch["result"]["shards"], 3);
    assert_eq!(batch["result"]["series_succeeded"], 5);
    assert!(batch["parent_job_id"].is_null());
    let counts = json!({"total": 3, "pending": 0, "running": 0, "completed": 3,
                        "failed": 0, "cancelled": 0});
    assert_eq!(batch["shards"], counts);
    wait_for(&app, train["job_id"].as_str().unwrap(), finished).await;

    // Default: the two jobs that were submitted, newest first.
    let listed = app.get("/jobs").await;
    let listed = listed.assert_ok();
    assert_eq!(listed["total"], 2, "{listed}");
    assert_eq!(listed["jobs"][0]["job_id"], batch_id.as_str());
    assert_eq!(listed["jobs"][0]["shards"], counts);
    assert!(listed["jobs"][1]["shards"].is_null());
    let batches = app.get("/jobs?job_type=batch&status=completed").await;
    assert_eq!(batches.assert_ok()["total"], 1);

    // Every job, shards included.
    let all = app.get("/jobs?include_shards=true&page_size=100").await;
    let all = all.assert_ok();
    assert_eq!(all["total"], 5);
    let shard_rows: Vec<&Value> = all["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|job| !job["parent_job_id"].is_null())
        .collect();
    assert_eq!(shard_rows.len(), 3);
    assert!(shard_rows
        .iter()
        .all(|job| job["parent_job_id"] == batch_id.as_str() && job["shards"].is_null()));

    // The shards of one batch, with the other filters; one shard's detail.
    let shards = app
        .get(&format!("/jobs?parent_job_id={batch_id}&sort_order=asc"))
        .await;
    let shards = shards.assert_ok();
    assert_eq!(shards["total"], 3);
    let sizes: Vec<i64> = shards["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|job| job["progress"]["total"].as_i64().unwrap())
        .collect();
    assert_eq!(sizes, [2, 2, 1]);
    let failed = app
        .get(&format!("/jobs?parent_job_id={batch_id}&status=failed"))
        .await;
    assert_eq!(failed.assert_ok()["total"], 0);
    let shard_id = shards["jobs"][0]["job_id"].as_str().unwrap();
    let shard = app.get(&format!("/jobs/{shard_id}")).await;
    assert_eq!(shard.assert_ok()["parent_job_id"], batch_id.as_str());
    assert_eq!(shard.body["status"], "completed");
    let none = app
        .get(&format!(
            "/jobs?parent_job_id={}",
            train["job_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(none.assert_ok()["total"], 0, "a train job has no shards");

    // An unknown batch is a 404; malformed flags and ids are 422s.
    app.get("/jobs?parent_job_id=0123456789abcdef0123456789abcdef")
        .await
        .assert_problem(404, "NOT_FOUND");
    for (query, field) in [
        ("parent_job_id=xyz", "query.parent_job_id"),
        (
            "parent_job_id=0123456789ABCDEF0123456789ABCDEF",
            "query.parent_job_id",
        ),
        ("include_shards=maybe", "query.include_shards"),
    ] {
        app.get(&format!("/jobs?{query}"))
            .await
            .assert_invalid_fields(&[field]);
    }
}

both_backends!(
    train_predict_end_to_end,
    predict_through_registry_run,
    backtest_job,
    failed_train_marks_the_run_failed,
    batch_job_registers_every_series,
    feature_aware_models_in_every_job_type,
    validation_queues_nothing,
    cancel_in_each_state,
    cancel_running_batch,
    dead_worker_jobs_are_recovered,
    list_jobs,
    split_batch_lists_once,
);
