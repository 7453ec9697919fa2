//! Loading many series at once (as a batch job does) gives every series
//! exactly what loading it alone gives — sales rows, product dates,
//! store-specific and chain-wide promotions and prices, holidays and the
//! per-series observation tables — and a batch trained on that data
//! forecasts as `POST /forecasting/train` on the same series does, on
//! SQLite and PostgreSQL.

use chrono::NaiveDate;
use forecastlab_core::SeriesKey;
use forecastlab_server::data::{
    many_series::load_many_series_data,
    series_data::{load_series_data, SideTables},
};
use forecastlab_tests::{
    both_backends,
    jobs::{finished, submit, wait_for},
    Backend, TestApp,
};
use serde_json::{json, Value};

const START: &str = "2024-01-01";
const END: &str = "2024-03-31";

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// Three stores × four products of the seeder's retail preset, plus rows
/// that make every case of the store filter appear: a chain-wide and a
/// store-specific promotion and price of product 1, and a promotion of
/// another store.
async fn seeded(backend: Backend) -> TestApp {
    let app = TestApp::spawn(backend).await;
    app.post(
        "/seeder/generate",
        &json!({"scenario": "retail_standard", "seed": 11, "stores": 3, "products": 4,
                "start_date": START, "end_date": END}),
    )
    .await
    .assert_status(201);
    app.exec(
        "INSERT INTO promotion (product_id, store_id, name, discount_pct, start_date, end_date, kind) \
         VALUES (1, NULL, 'chain', 0.1, '2024-02-01', '2024-02-07', 'pct_off'), \
                (1, 2, 'store 2', 0.2, '2024-02-10', '2024-02-12', 'pct_off'), \
                (2, 3, 'store 3', 0.3, '2023-12-20', '2024-01-05', 'pct_off');\
         INSERT INTO price_history (product_id, store_id, price, valid_from, valid_to) \
         VALUES (1, NULL, 4.25, '2024-01-15', NULL), (1, 1, 3.75, '2023-11-01', '2024-01-20');",
    )
    .await;
    app
}

/// Every (store, product) pair of the seeded data, and one without sales.
fn keys() -> Vec<SeriesKey> {
    let mut keys: Vec<SeriesKey> = (1..=3)
        .flat_map(|store_id| {
            (1..=4).map(move |product_id| SeriesKey {
                store_id,
                product_id,
            })
        })
        .collect();
    keys.push(SeriesKey {
        store_id: 3,
        product_id: 99,
    });
    keys
}

async fn many_series_load_matches_single_loads(backend: Backend) {
    let app = seeded(backend).await;
    let (start, end) = (date(START), date(END));
    let keys = keys();
    for tables in [SideTables::all(), SideTables::none()] {
        let many = load_many_series_data(&app.db, &keys, start, end, tables)
            .await
            .unwrap();
        assert_eq!(many.len(), keys.len());
        for (key, loaded) in keys.iter().zip(&many) {
            let alone = load_series_data(&app.db, *key, start, end, end, tables)
                .await
                .unwrap();
            assert_eq!(loaded.key, *key);
            // NaN prices compare as JSON nulls.
            assert_eq!(
                serde_json::to_value(loaded).unwrap(),
                serde_json::to_value(&alone).unwrap(),
                "{key:?} with {tables:?}"
            );
        }
    }
    // The data is not vacuous: sales everywhere but the unknown product,
    // holidays, both kinds of promotion and price rows.
    let many = load_many_series_data(&app.db, &keys, start, end, SideTables::all())
        .await
        .unwrap();
    assert!(many[..12].iter().all(|series| series.len() == 91));
    assert!(many[12].is_empty());
    assert!(!many[0].holidays.is_empty());
    let first = &many[0];
    assert!(first.price_history.iter().any(|p| p.store_specific));
    assert!(first.price_history.iter().any(|p| !p.store_specific));
    let chain_wide = |series: &forecastlab_core::frame::SeriesData| {
        series
            .promotions
            .iter()
            .any(|p| p.start == date("2024-02-01"))
    };
    let store_two = |series: &forecastlab_core::frame::SeriesData| {
        series
            .promotions
            .iter()
            .any(|p| p.start == date("2024-02-10"))
    };
    // Product 1 of stores 1, 2, 3: the chain-wide promotion everywhere,
    // store 2's only in store 2.
    assert!([0, 4, 8].iter().all(|&i| chain_wide(&many[i])));
    assert!(!store_two(&many[0]) && store_two(&many[4]) && !store_two(&many[8]));
    // A key named twice is loaded once.
    let twice = load_many_series_data(&app.db, &[keys[0], keys[0]], start, end, SideTables::all())
        .await
        .unwrap();
    assert_eq!(twice.len(), 1);
}

/// The forecast of `model_path` for store 2 product 1, 14 days ahead.
async fn forecast(app: &TestApp, model_path: &str) -> Value {
    let predicted = app
        .post(
            "/forecasting/predict",
            &json!({"store_id": 2, "product_id": 1, "horizon": 14, "model_path": model_path}),
        )
        .await;
    predicted.assert_ok()["forecasts"].clone()
}

async fn batch_forecasts_as_single_training(backend: Backend) {
    let app = seeded(backend).await;
    let job = submit(
        &app,
        "batch",
        json!({"model_type": "regression", "start_date": START, "end_date": END,
               "store_ids": [2], "product_ids": [1, 2]}),
    )
    .await;
    let job = wait_for(&app, job["job_id"].as_str().unwrap(), finished).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["result"]["series_succeeded"], 2, "{job}");
    let entry = job["result"]["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["product_id"] == 1)
        .unwrap()
        .clone();

    let trained = app
        .post(
            "/forecasting/train",
            &json!({"store_id": 2, "product_id": 1, "train_start_date": START,
                    "train_end_date": END, "config": {"model_type": "regression"}}),
        )
        .await;
    let trained = trained.assert_ok();
    assert_eq!(
        entry["metrics"]["n_observations"],
        trained["n_observations"]
    );
    let single_path = trained["model_path"].as_str().unwrap();
    let single_key = trained["artifact_key"].as_str().unwrap();
    let batch_path = single_path.replace(single_key, entry["artifact_key"].as_str().unwrap());
    assert_ne!(batch_path, single_path);
    let from_batch = forecast(&app, &batch_path).await;
    assert_eq!(from_batch.as_array().unwrap().len(), 14);
    assert_eq!(from_batch, forecast(&app, single_path).await);
}

both_backends!(
    many_series_load_matches_single_loads,
    batch_forecasts_as_single_training
);
