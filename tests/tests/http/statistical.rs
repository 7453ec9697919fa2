//! The statistical models (Croston, SBA, TSB, ADIDA, IMAPA, Theta,
//! optimised Theta, AutoETS, MSTL, AutoARIMA) on every path on both databases: the catalog, train and
//! predict with intervals, single- and many-series backtests with MASE,
//! RMSSE and WRMSSE, background jobs and the registry, and their config
//! validation.

use chrono::{Days, NaiveDate};
use forecastlab_tests::{
    both_backends,
    fixtures::{self, Sale},
    jobs,
    json::merged,
    Backend, TestApp,
};
use serde_json::{json, Value};

/// Every statistical model with a non-default config.
const MODELS: [(&str, &str); 10] = [
    ("croston", r#"{"model_type": "croston"}"#),
    ("croston_sba", r#"{"model_type": "croston_sba"}"#),
    (
        "tsb",
        r#"{"model_type": "tsb", "alpha_d": 0.2, "alpha_p": 0.1}"#,
    ),
    ("adida", r#"{"model_type": "adida"}"#),
    ("imapa", r#"{"model_type": "imapa"}"#),
    ("theta", r#"{"model_type": "theta", "season_length": 7}"#),
    (
        "optimized_theta",
        r#"{"model_type": "optimized_theta", "season_length": 7, "decomposition_type": "additive"}"#,
    ),
    (
        "auto_ets",
        r#"{"model_type": "auto_ets", "season_length": 7, "model": "ZZZ"}"#,
    ),
    ("mstl", r#"{"model_type": "mstl", "season_lengths": [7]}"#),
    (
        "auto_arima",
        r#"{"model_type": "auto_arima", "season_length": 7, "max_p": 3, "max_q": 3}"#,
    ),
];

const DAYS: u64 = 200;

fn config(text: &str) -> Value {
    serde_json::from_str(text).expect("config JSON")
}

fn day(offset: u64) -> String {
    (NaiveDate::from_ymd_opt(2024, 1, 1).expect("date") + Days::new(offset)).to_string()
}

/// Weekly pattern with deterministic noise (product 1) and intermittent
/// demand with explicit zero rows (product 2), both in store 1 at 2.50.
fn smooth(t: u64) -> i64 {
    let noise = ((t * 7919) % 11) as i64 - 5;
    20 + [0, 2, 4, 6, 14, 24, 18][(t % 7) as usize] + noise
}

fn intermittent(t: u64) -> i64 {
    if (t * 31 + 7) % 5 < 2 {
        1 + ((t * 13) % 6) as i64
    } else {
        0
    }
}

async fn seed(app: &TestApp) {
    let store = fixtures::store(app, "ST").insert().await;
    assert_eq!(store, 1);
    for sku in ["SMOOTH", "SPARSE"] {
        fixtures::product(app, sku).insert().await;
    }
    fixtures::calendar(
        app,
        NaiveDate::from_ymd_opt(2024, 1, 1).expect("date"),
        NaiveDate::from_ymd_opt(2024, 12, 31).expect("date"),
    )
    .await;
    let rows: Vec<Sale> = (0..DAYS)
        .flat_map(|t| [(1, smooth(t)), (2, intermittent(t))].map(move |(p, q)| (t, p, q)))
        .map(|(t, product, q)| {
            Sale::new(
                &day(t),
                1,
                product,
                q,
                "2.50",
                &format!("{:.2}", q as f64 * 2.5),
            )
        })
        .collect();
    fixtures::sales(app, &rows).await;
}

/// The seasonal models (the others are the intermittent family).
fn is_seasonal(model: &str) -> bool {
    matches!(
        model,
        "theta" | "optimized_theta" | "auto_ets" | "mstl" | "auto_arima"
    )
}

/// The product a model is exercised on: intermittent models on product 2.
fn product_of(model: &str) -> i64 {
    if is_seasonal(model) {
        1
    } else {
        2
    }
}

async fn train(app: &TestApp, product: i64, config: &Value) -> Value {
    let body = json!({
        "store_id": 1, "product_id": product,
        "train_start_date": day(0), "train_end_date": day(DAYS - 1),
        "config": config,
    });
    app.post("/forecasting/train", &body)
        .await
        .assert_ok()
        .clone()
}

async fn predict(app: &TestApp, product: i64, model_path: &str, extra: Value) -> Value {
    let body =
        json!({"store_id": 1, "product_id": product, "horizon": 14, "model_path": model_path});
    app.post("/forecasting/predict", &merged(&body, &extra))
        .await
        .assert_ok()
        .clone()
}

fn points(response: &Value) -> Vec<f64> {
    response["forecasts"]
        .as_array()
        .expect("forecasts")
        .iter()
        .map(|f| f["forecast"].as_f64().expect("a number"))
        .collect()
}

async fn listed_in_the_catalog(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let catalog = app.get("/forecasting/models").await;
    let models = catalog.assert_ok()["models"]
        .as_array()
        .expect("models")
        .clone();
    for (name, _) in MODELS {
        let entry = models
            .iter()
            .find(|m| m["model_type"] == name)
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(entry["family"], "baseline", "{name}");
        assert_eq!(entry["builtin"], true, "{name}");
        assert_eq!(entry["enabled"], true, "{name}");
        assert_eq!(entry["opt_in"], false, "{name}");
        assert_eq!(entry["requires_features"], false, "{name}");
    }
}

async fn every_model_trains_and_predicts_with_intervals(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let mut flat = std::collections::HashMap::new();
    for (name, text) in MODELS {
        let product = product_of(name);
        let trained = train(&app, product, &config(text)).await;
        assert_eq!(trained["model_type"], name);
        assert_eq!(trained["n_observations"], DAYS);
        let path = trained["model_path"].as_str().expect("model_path");
        let predicted = predict(&app, product, path, json!({"interval_level": 0.9})).await;
        assert_eq!(predicted["model_type"], name);
        let values = points(&predicted);
        assert_eq!(values.len(), 14);
        for f in predicted["forecasts"].as_array().expect("forecasts") {
            let (lo, p, hi) = (
                f["lower_bound"].as_f64().expect("lower"),
                f["forecast"].as_f64().expect("forecast"),
                f["upper_bound"].as_f64().expect("upper"),
            );
            assert!(lo <= p && p <= hi && lo < hi, "{name}: {f}");
        }
        // The artifact key reloads the same model.
        let key = trained["artifact_key"].as_str().expect("key");
        assert_eq!(
            points(&predict(&app, product, key, json!({})).await),
            values
        );
        if is_seasonal(name) {
            // The weekly pattern survives: Saturdays (day % 7 = 5) peak.
            let peak = (0..7)
                .max_by(|a, b| values[*a].total_cmp(&values[*b]))
                .expect("a week");
            assert_eq!((DAYS as usize + peak) % 7, 5, "{name}: {values:?}");
        } else {
            // Intermittent models forecast a flat rate between the mean
            // demand and the largest size.
            assert!(
                values.iter().all(|v| (v - values[0]).abs() < 1e-12),
                "{name}"
            );
            assert!(values[0] > 0.0 && values[0] < 6.0, "{name}: {}", values[0]);
            flat.insert(name, values[0]);
        }
    }
    // SBA is Croston debiased by 1 − α/2 = 0.95.
    assert!((flat["croston_sba"] - 0.95 * flat["croston"]).abs() < 1e-9);
}

async fn backtests_report_scale_free_metrics(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    for (name, text) in MODELS {
        let body = json!({
            "store_id": 1, "product_id": product_of(name),
            "start_date": day(0), "end_date": day(DAYS - 1),
            "config": {
                "model_config_main": config(text),
                "split_config": {"n_splits": 3, "min_train_size": 60, "horizon": 14},
            },
        });
        let response = app.post("/backtesting/run", &body).await;
        let result = response.assert_ok();
        let main = &result["main_model_results"];
        assert_eq!(main["model_type"], name);
        let folds = main["fold_results"].as_array().expect("folds");
        assert_eq!(folds.len(), 3);
        for fold in folds {
            let m = &fold["metrics"];
            let (mase, rmsse) = (m["mase"].as_f64(), m["rmsse"].as_f64());
            assert!(mase.is_some_and(|v| v > 0.0), "{name}: {m}");
            assert!(rmsse.is_some_and(|v| v > 0.0), "{name}: {m}");
        }
        let mase = main["aggregated_metrics"]["mase"].as_f64().expect("mase");
        let mean = folds
            .iter()
            .map(|f| f["metrics"]["mase"].as_f64().unwrap_or(f64::NAN))
            .sum::<f64>()
            / 3.0;
        assert!((mase - mean).abs() < 1e-9, "{name}");
        let summary = &result["comparison_summary"]["mase"];
        assert_eq!(summary["main"].as_f64(), Some(mase));
        assert!(summary["seasonal_naive"].is_number(), "{summary}");
        if is_seasonal(name) {
            // On a weekly pattern the seasonal models beat the naive forecast.
            assert!(
                summary["vs_naive_pct"].as_f64().unwrap_or(-1.0) > 0.0,
                "{summary}"
            );
        }
    }
}

async fn many_series_backtest_has_a_portfolio_wrmsse(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let body = json!({
        "series": "all",
        "start_date": day(0), "end_date": day(DAYS - 1),
        "config": {
            "model_config_main": {"model_type": "imapa"},
            "split_config": {"n_splits": 2, "min_train_size": 60, "horizon": 28},
        },
    });
    let response = app.post("/backtesting/run", &body).await;
    let result = response.assert_ok();
    let pooled = &result["pooled"];
    assert_eq!(pooled["n_series"], 2);
    let main = &pooled["main_model"];
    let wrmsse = main["wrmsse"].as_f64().expect("wrmsse");
    assert!(wrmsse > 0.0 && wrmsse.is_finite(), "{main}");
    assert!(main["pooled_metrics"]["mase"].as_f64().is_some(), "{main}");
    for baseline in pooled["baselines"].as_array().expect("baselines") {
        assert!(baseline["wrmsse"].as_f64().is_some(), "{baseline}");
    }
}

async fn jobs_and_the_registry_run_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    // A batch over both series with a backtest: every run carries MASE.
    let result = jobs::run(
        &app,
        "batch",
        json!({"model_type": "theta", "config": {"model_type": "theta", "season_length": 7},
               "start_date": day(0), "end_date": day(DAYS - 1),
               "backtest": true, "n_splits": 2, "test_size": 14}),
    )
    .await;
    assert_eq!(result["series_succeeded"], 2, "{result}");
    for entry in result["runs"].as_array().expect("runs") {
        let run_id = entry["run_id"].as_str().expect("run_id");
        let run = app.get(&format!("/registry/runs/{run_id}")).await;
        let run = run.assert_ok();
        assert_eq!(run["model_type"], "theta");
        assert!(run["metrics"]["mase"].as_f64().is_some(), "{run}");
        let verify = app.get(&format!("/registry/runs/{run_id}/verify")).await;
        assert_eq!(verify.body["verified"], true);
    }
    // A train job, then a predict job through its artifact key.
    let trained = jobs::run(
        &app,
        "train",
        json!({"model_type": "croston_sba", "store_id": 1, "product_id": 2,
               "start_date": day(0), "end_date": day(DAYS - 1)}),
    )
    .await;
    assert_eq!(trained["model_type"], "croston_sba", "{trained}");
    let direct = train(&app, 2, &json!({"model_type": "croston_sba"})).await;
    let expected = points(
        &predict(
            &app,
            2,
            direct["model_path"].as_str().expect("path"),
            json!({}),
        )
        .await,
    );
    let predicted = jobs::run(
        &app,
        "predict",
        json!({"run_id": trained["artifact_key"], "horizon": 14}),
    )
    .await;
    let values: Vec<f64> = predicted["forecasts"]
        .as_array()
        .expect("forecasts")
        .iter()
        .map(|f| f["forecast"].as_f64().expect("forecast"))
        .collect();
    assert_eq!(values, expected);
}

async fn bad_configs_are_422_and_short_series_400(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let cases = [
        (
            json!({"model_type": "tsb", "alpha_d": 0.0}),
            "config.alpha_d",
        ),
        (
            json!({"model_type": "tsb", "alpha_p": 1.5}),
            "config.alpha_p",
        ),
        (
            json!({"model_type": "croston", "alpha": 0.1}),
            "config.alpha",
        ),
        (
            json!({"model_type": "theta", "season_length": 0}),
            "config.season_length",
        ),
        // serde names the variants, not the field, for an unknown one.
        (
            json!({"model_type": "optimized_theta", "decomposition_type": "both"}),
            "config",
        ),
        (
            json!({"model_type": "auto_arima", "max_d": 3}),
            "config.max_d",
        ),
        (
            json!({"model_type": "auto_arima", "season_length": 400}),
            "config.season_length",
        ),
    ];
    for (bad, field) in cases {
        let body = json!({
            "store_id": 1, "product_id": 1,
            "train_start_date": day(0), "train_end_date": day(DAYS - 1),
            "config": bad,
        });
        let response = app.post("/forecasting/train", &body).await;
        response.assert_invalid(field);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM model_run").await, 0);
    // Three days are too few for Theta.
    let body = json!({
        "store_id": 1, "product_id": 1,
        "train_start_date": day(0), "train_end_date": day(2),
        "config": {"model_type": "theta"},
    });
    app.post("/forecasting/train", &body)
        .await
        .assert_problem_mentions(400, "BAD_REQUEST", "at least 4");
    // AutoARIMA fits two days (its minimum): the model without ARMA
    // terms, forecasting their mean inside a proper interval.
    let body = json!({
        "store_id": 1, "product_id": 1,
        "train_start_date": day(0), "train_end_date": day(1),
        "config": {"model_type": "auto_arima"},
    });
    let trained = app.post("/forecasting/train", &body).await;
    let trained = trained.assert_ok();
    assert_eq!(trained["n_observations"], 2);
    let path = trained["model_path"].as_str().expect("model_path");
    let predicted = predict(&app, 1, path, json!({"interval_level": 0.8})).await;
    let mean = (smooth(0) + smooth(1)) as f64 / 2.0;
    for f in predicted["forecasts"].as_array().expect("forecasts") {
        assert_eq!(f["forecast"].as_f64(), Some(mean), "{f}");
        let (lo, hi) = (f["lower_bound"].as_f64(), f["upper_bound"].as_f64());
        assert!(
            lo.zip(hi).is_some_and(|(lo, hi)| lo < mean && mean < hi),
            "{f}"
        );
    }
}

both_backends!(
    listed_in_the_catalog,
    every_model_trains_and_predicts_with_intervals,
    backtests_report_scale_free_metrics,
    many_series_backtest_has_a_portfolio_wrmsse,
    jobs_and_the_registry_run_them,
    bad_configs_are_422_and_short_series_400,
);
