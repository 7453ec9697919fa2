//! `/explain/*` on both databases: ad-hoc explanations of target-only
//! models equal the forecaster's numbers, reason codes fire on the data
//! that should fire them, every registered model that explains itself adds
//! up (base + Σ contributions = its forecast) at several steps through
//! runs and predict jobs, and bad input is a problem that stores nothing.

use forecastlab_tests::{
    both_backends,
    fixtures::{self, d, Sale, Snapshot},
    jobs,
    json::with,
    Backend, TestApp,
};
use serde_json::{json, Value};

/// Models built into this server that explain themselves, and how.
const EXPLAINERS: [(&str, &str); 8] = [
    ("naive", "rule_based"),
    ("seasonal_naive", "rule_based"),
    ("moving_average", "rule_based"),
    ("weighted_moving_average", "rule_based"),
    ("seasonal_average", "rule_based"),
    ("trend_regression_baseline", "component"),
    ("prophet_like", "component"),
    ("regression", "shap"),
];

fn price(day: i64) -> f64 {
    [9.0, 10.0, 11.0, 10.0][(day / 15 % 4) as usize]
}

fn quantity(day: i64) -> i64 {
    let dow = (day % 7) as f64;
    let lift = if day % 23 < 3 { 1.3 } else { 1.0 };
    let mut state = (day as u64)
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    state ^= state >> 29;
    let noise = ((state % 1000) as f64 / 1000.0 - 0.5) * 4.0;
    ((20.0 + 5.0 * dow) * (price(day) / 10.0).powf(-1.5) * lift + noise)
        .round()
        .max(0.0) as i64
}

fn date(day: i64) -> String {
    (d("2024-01-01") + chrono::Days::new(day as u64)).to_string()
}

/// Product 1: 274 days of retail-like sales (to 2024-09-30) with
/// chain-wide promotions every 23 days. Product 2: launched 2024-09-20,
/// sold from then on.
async fn seed(app: &TestApp) {
    app.exec(
        "INSERT INTO store (id, code, name) VALUES (1, 'S1', 'Store 1');\n\
         INSERT INTO product (id, sku, name, launch_date) VALUES (1, 'P1', 'Product 1', NULL), \
         (2, 'P2', 'Product 2', '2024-09-20');",
    )
    .await;
    fixtures::calendar(app, d("2024-01-01"), d("2024-12-31")).await;
    let mut sales: Vec<Sale> = (0..274)
        .map(|day| {
            let (q, p) = (quantity(day), price(day));
            Sale::new(
                &date(day),
                1,
                1,
                q,
                &format!("{p:.2}"),
                &format!("{:.2}", p * q as f64),
            )
        })
        .collect();
    sales.extend((263..274).map(|day| Sale::new(&date(day), 1, 2, 4, "5.00", "20.00")));
    fixtures::sales(app, &sales).await;
    let promos: Vec<String> = (0..366)
        .filter(|day| day % 23 == 0)
        .map(|day| {
            format!(
                "(1, NULL, 'promo {day}', 0.2000, '{}', '{}', 'pct_off')",
                date(day),
                date(day + 2)
            )
        })
        .collect();
    app.exec(&format!(
        "INSERT INTO promotion (product_id, store_id, name, discount_pct, start_date, end_date, kind) VALUES {};",
        promos.join(", ")
    ))
    .await;
}

fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-6 * a.abs().max(1.0),
        "{what}: {a} != {b}"
    );
}

fn sum_up(e: &Value) -> f64 {
    e["base_value"].as_f64().unwrap()
        + e["drivers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["contribution"].as_f64().unwrap())
            .sum::<f64>()
}

async fn predicted(app: &TestApp, model_path: &str, step: usize) -> f64 {
    let body = app
        .post(
            "/forecasting/predict",
            &json!({"store_id": 1, "product_id": 1, "horizon": step, "model_path": model_path}),
        )
        .await
        .assert_ok()
        .clone();
    body["forecasts"][step - 1]["forecast"].as_f64().unwrap()
}

/// Ad-hoc explanations reproduce the forecaster: for each target-only
/// model and step, the explained value is what the same model trained on
/// the same history predicts; parameters given reach the model.
async fn ad_hoc_explanations_match_the_forecaster(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let cases = [
        (json!({"model_type": "naive"}), json!({})),
        (
            json!({"model_type": "seasonal_naive", "season_length": 14}),
            json!({"season_length": 14}),
        ),
        (
            json!({"model_type": "moving_average", "window_size": 10}),
            json!({"window_size": 10}),
        ),
        (
            json!({"model_type": "weighted_moving_average", "window_size": 5, "weight_strategy": "exponential", "decay": 0.5}),
            json!({"window_size": 5, "weight_strategy": "exponential", "decay": 0.5}),
        ),
        (
            json!({"model_type": "seasonal_average", "lookback_cycles": 3, "trim_outliers": true}),
            json!({"lookback_cycles": 3, "trim_outliers": true}),
        ),
        (
            json!({"model_type": "trend_regression_baseline"}),
            json!({}),
        ),
    ];
    let mut stored = 0;
    for (config, params) in cases {
        let model_type = config["model_type"].as_str().unwrap();
        let trained = app
            .post(
                "/forecasting/train",
                &json!({"store_id": 1, "product_id": 1, "train_start_date": "2024-01-01",
                        "train_end_date": "2024-09-30", "config": config}),
            )
            .await
            .assert_ok()
            .clone();
        for step in [1_usize, 3, 9] {
            let mut body = json!({"store_id": 1, "product_id": 1, "model_type": model_type,
                                  "as_of_date": "2024-09-30", "step": step});
            for (k, v) in params.as_object().unwrap() {
                body[k] = v.clone();
            }
            let e = app
                .post("/explain/forecast", &body)
                .await
                .assert_ok()
                .clone();
            stored += 1;
            let expected = predicted(&app, trained["model_path"].as_str().unwrap(), step).await;
            close(e["forecast_value"].as_f64().unwrap(), expected, model_type);
            close(sum_up(&e), expected, model_type);
            assert_eq!(e["step"], step);
            assert_eq!(
                e["forecast_date"],
                (d("2024-09-30") + chrono::Days::new(step as u64)).to_string()
            );
            assert_eq!(e["as_of_date"], "2024-09-30");
            assert_eq!(e["explanation_id"].as_str().unwrap().len(), 32);
            let method = EXPLAINERS.iter().find(|(m, _)| *m == model_type).unwrap().1;
            assert_eq!(e["method"], method);
            if method == "rule_based" {
                assert_eq!(e["base_value"], 0.0);
                assert_eq!(e["drivers"][0]["contribution"], e["forecast_value"]);
                assert_eq!(e["drivers"][0]["direction"], "positive");
            }
            let summary = e["agent_summary"].as_str().unwrap();
            assert!(summary.starts_with("Store 1, product 1: the "), "{summary}");
            assert!(summary.contains(&format!("{:.1}", expected)), "{summary}");
            assert!(e["caveats"][0].as_str().unwrap().contains("not causes"));
            // product 1's promotions overlap the 30 days before 2024-09-30
            assert_eq!(e["reason_codes"][0]["code"], "promotion_overlap");
        }
    }
    assert_eq!(app.rows("forecast_explanation").await, stored);
    // The spec's named drivers and rules.
    let naive = app
        .post(
            "/explain/forecast",
            &json!({"store_id": 1, "product_id": 1, "model_type": "naive", "as_of_date": "2024-09-30"}),
        )
        .await
        .assert_ok()
        .clone();
    assert_eq!(naive["drivers"][0]["name"], "last_observation");
    assert_eq!(naive["drivers"][1]["name"], "recent_trend");
    assert_eq!(naive["drivers"][1]["contribution"], 0.0);
    assert_eq!(naive["confidence"], "medium");
    assert_eq!(naive["step"], 1);
    assert!(naive["caveats"][1]
        .as_str()
        .unwrap()
        .contains("seasonality"));
    let ma = app
        .post(
            "/explain/forecast",
            &json!({"store_id": 1, "product_id": 1, "model_type": "moving_average", "as_of_date": "2024-09-30"}),
        )
        .await
        .assert_ok()
        .clone();
    assert_eq!(ma["drivers"][0]["name"], "window_mean");
    assert_eq!(ma["drivers"][1]["name"], "window_dispersion");
    assert_eq!(ma["drivers"][1]["direction"], "neutral");
    // retail-like weekly swings keep the coefficient of variation < 0.5
    assert_eq!(ma["confidence"], "high");
}

/// Reason codes fire on the data that should fire them, in order.
async fn reason_codes_follow_the_data(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    // Stockouts on 2 of the last 31 days, a holiday on the forecast day.
    let snapshots: Vec<Snapshot> = (243..274)
        .map(|day| Snapshot {
            date: date(day),
            store_id: 1,
            product_id: 2,
            on_hand_qty: if day % 15 == 0 { 0 } else { 10 },
            on_order_qty: 0,
            is_stockout: day % 15 == 0,
        })
        .collect();
    fixtures::inventory(&app, &snapshots).await;
    app.exec("UPDATE calendar SET is_holiday = TRUE, holiday_name = 'Harvest Day' WHERE date = '2024-10-01'")
        .await;
    // Product 2: 11 days of history, launched 10 days before as-of.
    let e = app
        .post(
            "/explain/forecast",
            &json!({"store_id": 1, "product_id": 2, "model_type": "naive", "as_of_date": "2024-09-30"}),
        )
        .await
        .assert_ok()
        .clone();
    let codes: Vec<&str> = e["reason_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "stockout_constrained",
            "lifecycle_decay",
            "holiday_effect",
            "insufficient_history"
        ]
    );
    assert!(e["reason_codes"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("2 of 31"));
    assert_eq!(e["reason_codes"][0]["severity"], "warn");
    assert!(e["reason_codes"][2]["detail"]
        .as_str()
        .unwrap()
        .contains("Harvest Day"));
    assert_eq!(e["confidence"], "low");
    assert_eq!(e["caveats"].as_array().unwrap().len(), 4);
    assert!(e["agent_summary"]
        .as_str()
        .unwrap()
        .ends_with("Advisory signals: stockout_constrained, lifecycle_decay, holiday_effect, insufficient_history."));
    // Step 2 lands after the holiday: no holiday code.
    let later = app
        .post(
            "/explain/forecast",
            &json!({"store_id": 1, "product_id": 2, "model_type": "naive", "as_of_date": "2024-09-30", "step": 2}),
        )
        .await
        .assert_ok()
        .clone();
    assert!(!later["reason_codes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["code"] == "holiday_effect"));
}

/// Every enabled model of the registry is trained by a job (which
/// registers a run) and explained through the run and a predict job at
/// several steps: models that explain themselves add up to their forecast
/// within 1e-6; the built-in ones must explain themselves.
async fn every_model_explains_runs_and_jobs_additively(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let catalog = app.get("/forecasting/models").await.assert_ok().clone();
    let names: Vec<String> = catalog["models"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["enabled"] == json!(true))
        .map(|m| m["model_type"].as_str().unwrap().to_owned())
        .collect();
    let mut explained = Vec::new();
    for name in &names {
        let trained = jobs::submit(
            &app,
            "train",
            json!({"model_type": name, "store_id": 1, "product_id": 1,
                   "start_date": "2024-01-01", "end_date": "2024-09-30"}),
        )
        .await;
        let job = jobs::wait_for(&app, trained["job_id"].as_str().unwrap(), jobs::finished).await;
        if job["status"] != "completed" {
            eprintln!("{name}: not trainable here: {}", job["error_message"]);
            continue;
        }
        let result = &job["result"];
        let run_id = result["run_id"].as_str().unwrap();
        let model_path = result["model_path"].as_str().unwrap();
        let mut explains = true;
        for step in [1_usize, 4, 10] {
            let response = app
                .get(&format!("/explain/runs/{run_id}?step={step}"))
                .await;
            if response.status.as_u16() == 400
                && response.body["detail"]
                    .as_str()
                    .unwrap_or("")
                    .contains("cannot explain")
            {
                explains = false;
                break;
            }
            let e = response.assert_ok().clone();
            let expected = predicted(&app, model_path, step).await;
            close(e["forecast_value"].as_f64().unwrap(), expected, name);
            close(sum_up(&e), expected, name);
            assert_eq!(e["run_id"], run_id);
            assert_eq!(e["model_type"], name.as_str());
            assert_eq!(e["as_of_date"], "2024-09-30");
            let groups: f64 = e["groups"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g["contribution"].as_f64().unwrap())
                .sum();
            close(groups + e["base_value"].as_f64().unwrap(), expected, name);
            if let Some((_, method)) = EXPLAINERS.iter().find(|(m, _)| m == name) {
                assert_eq!(e["method"], *method, "{name}");
            }
        }
        if !explains {
            assert!(
                !EXPLAINERS.iter().any(|(m, _)| m == name),
                "{name} must explain itself"
            );
            continue;
        }
        explained.push(name.clone());
        // The same through a completed predict job.
        let submitted = jobs::submit(
            &app,
            "predict",
            json!({"run_id": result["artifact_key"], "horizon": 5}),
        )
        .await;
        let job_id = submitted["job_id"].as_str().unwrap();
        let done = jobs::wait_for(&app, job_id, jobs::finished).await;
        assert_eq!(done["status"], "completed");
        let e = app
            .get(&format!("/explain/jobs/{job_id}?step=5"))
            .await
            .assert_ok()
            .clone();
        let forecast = done["result"]["forecasts"][4]["forecast"].as_f64().unwrap();
        close(e["forecast_value"].as_f64().unwrap(), forecast, name);
        close(sum_up(&e), forecast, name);
        assert_eq!(e["job_id"], job_id);
        // A train job cannot be explained.
        app.get(&format!(
            "/explain/jobs/{}",
            trained["job_id"].as_str().unwrap()
        ))
        .await
        .assert_problem(400, "BAD_REQUEST");
    }
    for (name, _) in EXPLAINERS {
        assert!(explained.iter().any(|n| n == name), "{name} not explained");
    }
}

/// Bad input: a problem naming the field or the cause; nothing stored.
async fn bad_input_is_a_problem_and_stores_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let good =
        json!({"store_id": 1, "product_id": 1, "model_type": "naive", "as_of_date": "2024-09-30"});
    for (body, field) in [
        (with(&good, |b| b["extra"] = json!(1)), "extra"),
        (with(&good, |b| b["store_id"] = json!(0)), "store_id"),
        (with(&good, |b| b["decay"] = json!(1.0)), "decay"),
        (with(&good, |b| b["window_size"] = json!(91)), "window_size"),
        (
            with(&good, |b| b["season_length"] = json!(0)),
            "season_length",
        ),
        (
            with(&good, |b| b["lookback_cycles"] = json!(1)),
            "lookback_cycles",
        ),
        (
            with(&good, |b| b["weight_strategy"] = json!("cubic")),
            "weight_strategy",
        ),
        (with(&good, |b| b["step"] = json!(0)), "step"),
        (with(&good, |b| b["step"] = json!(91)), "step"),
        (
            with(&good, |b| b["as_of_date"] = json!("yesterday")),
            "as_of_date",
        ),
    ] {
        app.post("/explain/forecast", &body)
            .await
            .assert_invalid(field);
    }
    app.post(
        "/explain/forecast",
        &with(&good, |b| b["model_type"] = json!("oracle")),
    )
    .await
    .assert_problem_mentions(400, "BAD_REQUEST", "Unknown model type");
    app.post(
        "/explain/forecast",
        &with(&good, |b| b["model_type"] = json!("regression")),
    )
    .await
    .assert_problem_mentions(400, "BAD_REQUEST", "feature-aware");
    app.post(
        "/explain/forecast",
        &with(&good, |b| b["as_of_date"] = json!("2023-01-01")),
    )
    .await
    .assert_problem_mentions(400, "BAD_REQUEST", "No sales");
    // Product 2 has 11 days: a 30-day season is too long.
    app.post(
        "/explain/forecast",
        &json!({"store_id": 1, "product_id": 2, "model_type": "seasonal_naive",
                "season_length": 30, "as_of_date": "2024-09-30"}),
    )
    .await
    .assert_problem_mentions(400, "BAD_REQUEST", "at least 30");
    // Unknown run / job → 404; bad step → 422.
    app.get("/explain/runs/0123456789abcdef0123456789abcdef")
        .await
        .assert_problem(404, "NOT_FOUND");
    app.get("/explain/jobs/0123456789abcdef0123456789abcdef")
        .await
        .assert_problem(404, "NOT_FOUND");
    app.get("/explain/jobs/0123456789abcdef0123456789abcdef?step=0")
        .await
        .assert_invalid("query.step");
    assert_eq!(app.rows("forecast_explanation").await, 0);
}

both_backends!(
    ad_hoc_explanations_match_the_forecaster,
    reason_codes_follow_the_data,
    every_model_explains_runs_and_jobs_additively,
    bad_input_is_a_problem_and_stores_nothing,
);
