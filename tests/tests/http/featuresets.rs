//! `/featuresets/compute` and `/featuresets/preview` through HTTP on both
//! databases: hand-checked values on a tiny fixture (lags, rolling
//! statistics, calendar, price and promotion features from real rows),
//! every validation error, the enforced limits, preview sampling and
//! `config_hash` stability.

use forecastlab_tests::{
    both_backends,
    fixtures::{self, d, Sale, Snapshot},
    json::{merged, without},
    Backend, TestApp, TestResponse,
};
use serde_json::{json, Value};

/// Quantities of the ten fixture days 2024-01-01 … 2024-01-10.
const QUANTITIES: [i64; 10] = [3, 5, 4, 6, 8, 7, 9, 12, 10, 11];

/// Store and product ids of the fixture series (plus a second store).
struct Fixture {
    store: i64,
    other_store: i64,
    product: i64,
}

/// Ten days of sales (price 10.00, then 12.00 from 2024-01-08), a holiday
/// on 2024-01-01, promotions (this store, chain-wide, another store), a
/// stockout on 2024-01-05, a replenishment on 2024-01-02 and product
/// lifecycle dates.
async fn fixture(app: &TestApp) -> Fixture {
    fixtures::calendar(app, d("2023-12-01"), d("2024-01-31")).await;
    app.exec("UPDATE calendar SET is_holiday = TRUE, holiday_name = 'New Year' WHERE date = '2024-01-01'")
        .await;
    let store = fixtures::store(app, "S1").insert().await;
    let other_store = fixtures::store(app, "S2").insert().await;
    let product = fixtures::product(app, "P1")
        .launch_date("2023-12-01")
        .discontinue_date("2024-03-01")
        .insert()
        .await;
    let rows: Vec<Sale> = QUANTITIES
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let price = if i >= 7 { "12.00" } else { "10.00" };
            Sale::new(
                &format!("2024-01-{:02}", i + 1),
                store,
                product,
                *q,
                price,
                "1.00",
            )
        })
        .collect();
    fixtures::sales(app, &rows).await;
    app.exec(&format!(
        "INSERT INTO promotion (product_id, store_id, name, discount_pct, start_date, end_date, kind) VALUES \
         ({product}, {store}, 'own markdown', 0.25, '2024-01-03', '2024-01-04', 'markdown'), \
         ({product}, NULL, 'chain pct', 0.10, '2024-01-05', '2024-01-05', 'pct_off'), \
         ({product}, {other_store}, 'other store', 0.50, '2024-01-07', '2024-01-07', 'markdown')"
    ))
    .await;
    fixtures::inventory(
        app,
        &[Snapshot {
            date: "2024-01-05".into(),
            store_id: store,
            product_id: product,
            on_hand_qty: 0,
            on_order_qty: 5,
            is_stockout: true,
        }],
    )
    .await;
    app.exec(&format!(
        "INSERT INTO replenishment_event (date, store_id, product_id, lead_time_days, ordered_qty, received_qty) \
         VALUES ('2024-01-02', {store}, {product}, 2, 20, 20)"
    ))
    .await;
    Fixture {
        store,
        other_store,
        product,
    }
}

fn body(f: &Fixture, config: Value) -> Value {
    json!({
        "store_id": f.store,
        "product_id": f.product,
        "cutoff_date": "2024-01-10",
        "lookback_days": 30,
        "config": config,
    })
}

async fn compute_request(app: &TestApp, request: &Value) -> TestResponse {
    app.post("/featuresets/compute", request).await
}

/// Computes `config` on the fixture series (cutoff 2024-01-10, 30 days back).
async fn compute(app: &TestApp, f: &Fixture, config: Value) -> TestResponse {
    compute_request(app, &body(f, config)).await
}

fn feature(response: &Value, row: usize, column: &str) -> Value {
    response["rows"][row]["features"][column].clone()
}

fn approx(value: &Value, expected: f64) {
    let got = value
        .as_f64()
        .unwrap_or_else(|| panic!("expected {expected}, got {value}"));
    assert!(
        (got - expected).abs() < 1e-9,
        "expected {expected}, got {got}"
    );
}

async fn lags_and_rolling_hand_checked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app).await;
    let resp = compute(
        &app,
        &f,
        json!({
            "name": "basic",
            "lag_config": {"lags": [1, 2]},
            "rolling_config": {"windows": [3], "aggregations": ["mean", "std", "max"]},
        }),
    )
    .await;
    let r = resp.assert_ok();
    assert_eq!(
        r["feature_columns"],
        json!([
            "lag_1",
            "lag_2",
            "rolling_mean_3",
            "rolling_std_3",
            "rolling_max_3"
        ])
    );
    assert_eq!(r["row_count"], 10);
    assert_eq!(r["rows"].as_array().unwrap().len(), 10);
    assert_eq!(r["cutoff_date"], "2024-01-10");
    assert_eq!(r["rows"][0]["date"], "2024-01-01");
    assert_eq!(r["rows"][0]["store_id"], f.store);
    assert_eq!(r["rows"][9]["product_id"], f.product);
    // Lags: NaN → null for the first k rows.
    assert_eq!(feature(r, 0, "lag_1"), Value::Null);
    approx(&feature(r, 2, "lag_1"), 5.0);
    approx(&feature(r, 2, "lag_2"), 3.0);
    approx(&feature(r, 9, "lag_1"), 10.0);
    // Rolling over the three rows before: row 3 sees 3, 5, 4.
    assert_eq!(feature(r, 2, "rolling_mean_3"), Value::Null);
    approx(&feature(r, 3, "rolling_mean_3"), 4.0);
    approx(&feature(r, 3, "rolling_std_3"), 1.0);
    approx(&feature(r, 4, "rolling_mean_3"), 5.0);
    approx(&feature(r, 9, "rolling_mean_3"), (9.0 + 12.0 + 10.0) / 3.0);
    approx(&feature(r, 9, "rolling_std_3"), (7.0f64 / 3.0).sqrt());
    approx(&feature(r, 9, "rolling_max_3"), 12.0);
    assert_eq!(
        r["null_counts"],
        json!({"lag_1": 1, "lag_2": 2, "rolling_mean_3": 3, "rolling_std_3": 3, "rolling_max_3": 3})
    );
    assert!(r["duration_ms"].as_f64().unwrap() >= 0.0);
    let hash = r["config_hash"].as_str().unwrap();
    assert_eq!(hash.len(), 16);
    assert!(hash
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));

    // The cutoff is inclusive and nothing after it is read.
    let mut earlier = body(&f, json!({"name": "basic", "lag_config": {"lags": [1]}}));
    earlier["cutoff_date"] = json!("2024-01-05");
    let resp = compute_request(&app, &earlier).await;
    let r = resp.assert_ok();
    assert_eq!(r["row_count"], 5);
    assert_eq!(r["rows"][4]["date"], "2024-01-05");
    approx(&feature(r, 4, "lag_1"), 6.0);

    // fill_value replaces the NaN lags.
    let resp = compute(
        &app,
        &f,
        json!({"name": "fill", "lag_config": {"lags": [2], "fill_value": -1.0}}),
    )
    .await;
    approx(&feature(resp.assert_ok(), 0, "lag_2"), -1.0);
}

async fn calendar_columns_hand_checked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app).await;
    let resp = compute(&app, &f, json!({"name": "cal", "calendar_config": {}})).await;
    let r = resp.assert_ok();
    assert_eq!(
        r["feature_columns"],
        json!([
            "dow_sin",
            "dow_cos",
            "month_sin",
            "month_cos",
            "quarter",
            "is_weekend",
            "is_month_end",
            "is_holiday"
        ])
    );
    // 2024-01-01 is a Monday (dow 0) and a holiday in the calendar table.
    approx(&feature(r, 0, "dow_sin"), 0.0);
    approx(&feature(r, 0, "dow_cos"), 1.0);
    approx(
        &feature(r, 0, "month_sin"),
        (std::f64::consts::TAU / 12.0).sin(),
    );
    assert_eq!(feature(r, 0, "quarter"), json!(1));
    assert_eq!(feature(r, 0, "is_holiday"), json!(1));
    assert_eq!(feature(r, 1, "is_holiday"), json!(0));
    assert_eq!(feature(r, 5, "is_weekend"), json!(1));
    assert_eq!(feature(r, 4, "is_weekend"), json!(0));
    assert_eq!(feature(r, 9, "is_month_end"), json!(0));
    approx(
        &feature(r, 2, "dow_sin"),
        (std::f64::consts::TAU * 2.0 / 7.0).sin(),
    );

    let resp = compute(
        &app,
        &f,
        json!({"name": "raw", "calendar_config": {
            "use_cyclical_encoding": false, "include_year": true, "include_is_holiday": false
        }}),
    )
    .await;
    let r = resp.assert_ok();
    assert_eq!(
        r["feature_columns"],
        json!([
            "day_of_week",
            "month",
            "quarter",
            "year",
            "is_weekend",
            "is_month_end"
        ])
    );
    assert_eq!(feature(r, 6, "day_of_week"), json!(6));
    assert_eq!(feature(r, 6, "month"), json!(1));
    assert_eq!(feature(r, 6, "year"), json!(2024));
}

async fn price_promotion_inventory_from_real_rows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app).await;
    let resp = compute(
        &app,
        &f,
        json!({
            "name": "exo",
            "exogenous_config": {"price_lags": [7]},
            "lifecycle_config": {},
            "promotion_config": {"kinds_to_track": ["pct_off", "markdown"]},
            "replenishment_config": {},
        }),
    )
    .await;
    let r = resp.assert_ok();
    assert_eq!(
        r["feature_columns"],
        json!([
            "price_lag_7",
            "price_pct_change_7d",
            "promo_active",
            "stockout_lag_1",
            "days_since_launch_lag1",
            "days_since_discontinue_lag1",
            "promo_markdown_active_lag1",
            "promo_markdown_intensity_lag1",
            "promo_pct_off_active_lag1",
            "promo_pct_off_intensity_lag1",
            "days_since_last_replenishment_lag1",
            "replenishment_count_w14_lag1",
        ])
    );
    // Prices: 10.00 for seven rows, then 12.00.
    assert_eq!(feature(r, 6, "price_lag_7"), Value::Null);
    approx(&feature(r, 7, "price_lag_7"), 10.0);
    assert_eq!(feature(r, 7, "price_pct_change_7d"), Value::Null);
    approx(&feature(r, 8, "price_pct_change_7d"), 12.0 / 10.0 - 1.0);
    // Same-day promotion flag: own store (01-03, 01-04) and chain-wide
    // (01-05) count; another store's promotion (01-07) does not.
    let promo: Vec<Value> = (0..10).map(|i| feature(r, i, "promo_active")).collect();
    assert_eq!(
        promo,
        [0, 0, 1, 1, 1, 0, 0, 0, 0, 0].map(|v| json!(v)).to_vec()
    );
    // Stockout on 01-05 shows on the next row.
    assert_eq!(feature(r, 0, "stockout_lag_1"), Value::Null);
    assert_eq!(feature(r, 5, "stockout_lag_1"), json!(1));
    assert_eq!(feature(r, 4, "stockout_lag_1"), json!(0));
    // Lifecycle, one row back: launch 2023-12-01, discontinue 2024-03-01.
    assert_eq!(feature(r, 0, "days_since_launch_lag1"), Value::Null);
    approx(&feature(r, 1, "days_since_launch_lag1"), 31.0);
    approx(&feature(r, 1, "days_since_discontinue_lag1"), -60.0);
    // Kinds alphabetically; markdown active on 01-03/04 → rows 3, 4.
    assert_eq!(feature(r, 0, "promo_markdown_active_lag1"), Value::Null);
    assert_eq!(feature(r, 2, "promo_markdown_active_lag1"), json!(0));
    assert_eq!(feature(r, 3, "promo_markdown_active_lag1"), json!(1));
    approx(&feature(r, 4, "promo_markdown_intensity_lag1"), 0.25);
    assert_eq!(feature(r, 5, "promo_markdown_intensity_lag1"), Value::Null);
    assert_eq!(feature(r, 7, "promo_markdown_active_lag1"), json!(0));
    assert_eq!(feature(r, 5, "promo_pct_off_active_lag1"), json!(1));
    approx(&feature(r, 5, "promo_pct_off_intensity_lag1"), 0.1);
    // Replenishment on 01-02.
    assert_eq!(
        feature(r, 1, "days_since_last_replenishment_lag1"),
        Value::Null
    );
    approx(&feature(r, 2, "days_since_last_replenishment_lag1"), 0.0);
    approx(&feature(r, 4, "days_since_last_replenishment_lag1"), 2.0);
    assert_eq!(feature(r, 1, "replenishment_count_w14_lag1"), json!(0));
    assert_eq!(feature(r, 2, "replenishment_count_w14_lag1"), json!(1));

    // On-hand units from the snapshots.
    let resp = compute(
        &app,
        &f,
        json!({"name": "inv", "exogenous_config": {
            "include_price": false, "include_price_change": false, "include_promo": false,
            "include_inventory": true, "include_stockout_flag": false
        }}),
    )
    .await;
    let r = resp.assert_ok();
    assert_eq!(r["feature_columns"], json!(["inventory_on_hand_lag_1"]));
    approx(&feature(r, 5, "inventory_on_hand_lag_1"), 0.0);
    assert_eq!(feature(r, 6, "inventory_on_hand_lag_1"), Value::Null);
    assert_eq!(r["null_counts"]["inventory_on_hand_lag_1"], 9);
    let _ = f.other_store;
}

async fn preview_returns_last_rows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app).await;
    let request = json!({
        "store_id": f.store,
        "product_id": f.product,
        "cutoff_date": "2024-01-10",
        "sample_rows": 3,
        "config": {"name": "p", "lag_config": {"lags": [1]}},
    });
    let resp = app.post("/featuresets/preview", &request).await;
    let r = resp.assert_ok();
    assert_eq!(r["row_count"], 3);
    let dates: Vec<&str> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["date"].as_str().unwrap())
        .collect();
    assert_eq!(dates, ["2024-01-08", "2024-01-09", "2024-01-10"]);
    approx(&feature(r, 0, "lag_1"), 9.0);
    // Null counts cover the whole computed frame, not only the sample.
    assert_eq!(r["null_counts"]["lag_1"], 1);
    // Default sample is 10 rows.
    let default = without(&request, &["sample_rows"]);
    let resp = app.post("/featuresets/preview", &default).await;
    assert_eq!(resp.assert_ok()["row_count"], 10);
    // Preview has no lookback_days.
    let extra = merged(&request, &json!({"lookback_days": 30}));
    app.post("/featuresets/preview", &extra)
        .await
        .assert_problem(422, "VALIDATION_ERROR");
    for bad in [0, 101] {
        let wrong = merged(&request, &json!({ "sample_rows": bad }));
        app.post("/featuresets/preview", &wrong)
            .await
            .assert_invalid_fields(&["sample_rows"]);
    }
}

async fn validation_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app).await;
    let ok = body(&f, json!({"name": "v", "lag_config": {"lags": [1]}}));
    let request_cases = [
        (json!({"store_id": 0}), "store_id"),
        (json!({"product_id": -1}), "product_id"),
        (json!({"store_id": "1"}), "store_id"),
        (json!({"lookback_days": 0}), "lookback_days"),
        (json!({"lookback_days": 1096}), "lookback_days"),
        (json!({"cutoff_date": "2024-13-01"}), "cutoff_date"),
        (json!({"unexpected": true}), "unexpected"),
        (json!({"config": {"name": ""}}), "config.name"),
        (json!({"config": {"name": "x".repeat(101)}}), "config.name"),
    ];
    // Each config below is sent with `"name": "x"`.
    let config_cases = [
        (json!({"schema_version": "v1"}), "config.schema_version"),
        (json!({"extra": 1}), "config.extra"),
        (json!({"target_column": "price"}), "config.target_column"),
        (
            json!({"lag_config": {"lags": []}}),
            "config.lag_config.lags",
        ),
        (
            json!({"lag_config": {"lags": [1, 0]}}),
            "config.lag_config.lags.1",
        ),
        (
            json!({"lag_config": {"lags": [1], "bogus": 2}}),
            "config.lag_config.bogus",
        ),
        (
            json!({"lag_config": {"lags": [1.5]}}),
            "config.lag_config.lags.0",
        ),
        (
            json!({"lag_config": {"schema_version": "1.0.0.1"}}),
            "config.lag_config.schema_version",
        ),
        (
            json!({"rolling_config": {"windows": []}}),
            "config.rolling_config.windows",
        ),
        (
            json!({"rolling_config": {"windows": [-3]}}),
            "config.rolling_config.windows.0",
        ),
        (
            json!({"rolling_config": {"aggregations": ["median"]}}),
            "config.rolling_config.aggregations.0",
        ),
        (
            json!({"rolling_config": {"windows": [3], "min_periods": 4}}),
            "config.rolling_config.min_periods",
        ),
        (
            json!({"calendar_config": {"include_year": "yes"}}),
            "config.calendar_config.include_year",
        ),
        (
            json!({"exogenous_config": {"price_lags": [0]}}),
            "config.exogenous_config.price_lags.0",
        ),
        (
            json!({"lifecycle_config": {"lag_days": 31}}),
            "config.lifecycle_config.lag_days",
        ),
        (
            json!({"replenishment_config": {"count_window_days": 6}}),
            "config.replenishment_config.count_window_days",
        ),
        (
            json!({"replenishment_config": {"lag_days": 0}}),
            "config.replenishment_config.lag_days",
        ),
        (
            json!({"promotion_config": {"kinds_to_track": []}}),
            "config.promotion_config.kinds_to_track",
        ),
        (
            json!({"promotion_config": {"kinds_to_track": ["bogo", "bogo"]}}),
            "config.promotion_config.kinds_to_track",
        ),
        (
            json!({"promotion_config": {"kinds_to_track": ["flash"]}}),
            "config.promotion_config.kinds_to_track.0",
        ),
        (
            json!({"imputation_config": {"strategies": {"quantity": "median"}}}),
            "config.imputation_config.strategies.quantity",
        ),
    ];
    let named = |config: Value| json!({ "config": merged(&json!({"name": "x"}), &config) });
    let cases = request_cases
        .into_iter()
        .chain(config_cases.map(|(config, field)| (named(config), field)));
    for (patch, field) in cases {
        compute_request(&app, &merged(&ok, &patch))
            .await
            .assert_invalid(field);
    }
    // Missing required fields.
    compute_request(
        &app,
        &json!({"store_id": 1, "product_id": 1, "cutoff_date": "2024-01-01"}),
    )
    .await
    .assert_invalid_fields(&["config"]);
    let no_name = merged(&ok, &json!({"config": {}}));
    compute_request(&app, &no_name)
        .await
        .assert_invalid_fields(&["config.name"]);
}

async fn limits_name_the_setting(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app).await;
    let resp = compute(
        &app,
        &f,
        json!({"name": "big", "lag_config": {"lags": [1, 366]}}),
    )
    .await;
    let problem = resp.assert_problem_mentions(422, "VALIDATION_ERROR", "FEATURE_MAX_LAG");
    assert_eq!(problem["settings"], json!(["FEATURE_MAX_LAG"]));
    resp.assert_invalid_fields(&["config.lag_config.lags.1"]);

    let resp = compute(
        &app,
        &f,
        json!({"name": "wide", "rolling_config": {"windows": [91]}}),
    )
    .await;
    resp.assert_problem_mentions(422, "VALIDATION_ERROR", "FEATURE_MAX_WINDOW");
    resp.assert_invalid_fields(&["config.rolling_config.windows.0"]);

    let resp = compute(
        &app,
        &f,
        json!({"name": "price", "exogenous_config": {"price_lags": [400]}}),
    )
    .await;
    resp.assert_invalid_fields(&["config.exogenous_config.price_lags.0"]);

    // The limits come from the settings.
    let strict = TestApp::spawn_with(
        backend,
        &[("FEATURE_MAX_LAG", "5"), ("FEATURE_MAX_WINDOW", "3")],
    )
    .await;
    let g = fixture(&strict).await;
    let resp = compute(
        &strict,
        &g,
        json!({"name": "s", "lag_config": {"lags": [6]}, "rolling_config": {"windows": [4]}}),
    )
    .await;
    let problem = resp.assert_problem_mentions(422, "VALIDATION_ERROR", "FEATURE_MAX_LAG=5");
    assert_eq!(
        problem["settings"],
        json!(["FEATURE_MAX_LAG", "FEATURE_MAX_WINDOW"])
    );
    let resp = compute(
        &strict,
        &g,
        json!({"name": "s", "lag_config": {"lags": [5]}, "rolling_config": {"windows": [3]}}),
    )
    .await;
    resp.assert_ok();
}

async fn no_data_is_404(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app).await;
    let request = body(&f, json!({"name": "n", "lag_config": {}}));
    let other_store = merged(&request, &json!({"store_id": f.other_store}));
    compute_request(&app, &other_store)
        .await
        .assert_problem_mentions(404, "NOT_FOUND", "No data found");
    // A cutoff before the first sale.
    let early = merged(
        &body(&f, json!({"name": "n"})),
        &json!({"cutoff_date": "2023-12-31"}),
    );
    compute_request(&app, &early)
        .await
        .assert_problem(404, "NOT_FOUND");
    // Unknown ids are 404 too, not a database error.
    let unknown = merged(
        &body(&f, json!({"name": "n"})),
        &json!({"product_id": 999_999}),
    );
    app.post(
        "/featuresets/preview",
        &without(&unknown, &["lookback_days"]),
    )
    .await
    .assert_problem(404, "NOT_FOUND");
}

async fn config_hash_is_stable(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = fixture(&app).await;
    let hash = |response: &Value| response["config_hash"].as_str().unwrap().to_owned();
    let minimal = compute(&app, &f, json!({"name": "x"})).await;
    // 16 hex of SHA-256 over the compact JSON with defaults, nulls left out.
    assert_eq!(hash(minimal.assert_ok()), "6c12b1a783eccdd4");
    assert_eq!(minimal.body["feature_columns"], json!([]));
    let explicit = compute(
        &app,
        &f,
        json!({
            "schema_version": "1.0", "name": "x", "description": null,
            "entity_columns": ["store_id", "product_id"], "date_column": "date",
            "target_column": "quantity", "lag_config": null, "promotion_config": null
        }),
    )
    .await;
    assert_eq!(hash(explicit.assert_ok()), "6c12b1a783eccdd4");
    let lagged = compute(
        &app,
        &f,
        json!({"name": "x", "lag_config": {"fill_value": 0.0}}),
    )
    .await;
    assert_eq!(hash(lagged.assert_ok()), "0ccbc6975c98c2a1");
    // The same config always hashes the same, on compute and preview.
    let preview = without(
        &body(&f, json!({"name": "x", "lag_config": {"fill_value": 0.0}})),
        &["lookback_days"],
    );
    let again = app.post("/featuresets/preview", &preview).await;
    assert_eq!(hash(again.assert_ok()), "0ccbc6975c98c2a1");
    let other = compute(&app, &f, json!({"name": "y"})).await;
    assert_ne!(hash(other.assert_ok()), "6c12b1a783eccdd4");
}

/// The feature-aware data path (`forecasting::feature_aware`) reads every
/// side table on both databases: a V2 frame with all groups trains and
/// forecasts with both multi-step strategies; fewer than 30 rows is a 400.
async fn feature_aware_frames_read_every_side_table(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    fixtures::calendar(&app, d("2023-12-01"), d("2024-03-31")).await;
    let store = fixtures::store(&app, "S1").insert().await;
    let product = fixtures::product(&app, "P1")
        .launch_date("2023-12-15")
        .discontinue_date("2024-06-01")
        .insert()
        .await;
    let start = d("2024-01-01");
    let rows: Vec<Sale> = (0..60u64)
        .map(|i| {
            let date = start + chrono::Days::new(i);
            let price = if i % 20 < 10 { "10.00" } else { "12.00" };
            let quantity = 20 + (i % 7) as i64 * 3 - if i % 20 < 10 { 0 } else { 5 };
            Sale::new(&date.to_string(), store, product, quantity, price, "1.00")
        })
        .collect();
    fixtures::sales(&app, &rows).await;
    let snapshots: Vec<Snapshot> = (0..60u64)
        .step_by(3)
        .map(|i| Snapshot {
            date: (start + chrono::Days::new(i)).to_string(),
            store_id: store,
            product_id: product,
            on_hand_qty: (i % 11) as i64,
            on_order_qty: 0,
            is_stockout: i % 11 == 0,
        })
        .collect();
    fixtures::inventory(&app, &snapshots).await;
    app.exec(&format!(
        "INSERT INTO promotion (product_id, store_id, name, discount_pct, start_date, end_date, kind, bundle_member_product_ids) VALUES \
         ({product}, {store}, 'md', 0.30, '2024-01-10', '2024-01-14', 'markdown', NULL), \
         ({product}, NULL, 'bundle', NULL, '2024-03-02', '2024-03-04', 'bundle', '[1]')"
    ))
    .await;
    app.exec(&format!(
        "INSERT INTO price_history (product_id, store_id, price, valid_from, valid_to) VALUES \
         ({product}, NULL, 11.00, '2024-01-01', NULL), \
         ({product}, {store}, 15.00, '2024-03-03', '2024-03-10')"
    ))
    .await;
    app.exec(&format!(
        "INSERT INTO exogenous_signal (date, signal_name, store_id, is_global, value) VALUES \
         ('2024-01-05', 'weather_temp_c', NULL, TRUE, 3.5), \
         ('2024-01-05', 'weather_temp_c', {store}, FALSE, 4.5), \
         ('2024-02-20', 'macro_index', NULL, TRUE, 101.0), \
         ('2024-03-02', 'weather_precip_mm', NULL, TRUE, 2.0)"
    ))
    .await;
    app.exec(&format!(
        "INSERT INTO sales_returns (date, store_id, product_id, return_quantity, return_reason) VALUES \
         ('2024-02-10', {store}, {product}, 2, 'damaged'), ('2024-02-10', {store}, {product}, 1, 'other')"
    ))
    .await;
    app.exec(&format!(
        "INSERT INTO replenishment_event (date, store_id, product_id, lead_time_days, ordered_qty, received_qty) \
         VALUES ('2024-02-01', {store}, {product}, 3, 50, 40), ('2024-02-25', {store}, {product}, 3, 50, 50)"
    ))
    .await;
    let groups = [
        "target_history",
        "calendar",
        "rolling",
        "trend",
        "price_promo",
        "inventory",
        "lifecycle",
        "replenishment",
        "returns",
        "exogenous_weather",
        "exogenous_macro",
    ];
    let train = app
        .post(
            "/forecasting/train",
            &json!({
                "store_id": store, "product_id": product,
                "train_start_date": "2024-01-01", "train_end_date": "2024-02-29",
                "config": {"model_type": "prophet_like"},
                "feature_frame_version": 2, "feature_groups": groups,
            }),
        )
        .await;
    let trained = train.assert_ok();
    assert_eq!(trained["n_observations"], 60);
    let model_path = trained["model_path"].clone();
    for strategy in ["direct", "recursive"] {
        let predict = app
            .post(
                "/forecasting/predict",
                &json!({
                    "store_id": store, "product_id": product, "horizon": 7,
                    "model_path": model_path, "strategy": strategy,
                }),
            )
            .await;
        let forecasts = predict.assert_ok()["forecasts"].as_array().unwrap().clone();
        assert_eq!(forecasts.len(), 7);
        assert_eq!(forecasts[0]["date"], "2024-03-01");
        assert!(forecasts
            .iter()
            .all(|f| f["forecast"].as_f64().is_some_and(f64::is_finite)));
    }
    // Fewer than 30 rows for a feature-aware model is a 400.
    let short = app
        .post(
            "/forecasting/train",
            &json!({
                "store_id": store, "product_id": product,
                "train_start_date": "2024-01-01", "train_end_date": "2024-01-20",
                "config": {"model_type": "prophet_like"},
            }),
        )
        .await;
    short.assert_problem(400, "BAD_REQUEST");
}

both_backends!(
    feature_aware_frames_read_every_side_table,
    lags_and_rolling_hand_checked,
    calendar_columns_hand_checked,
    price_promotion_inventory_from_real_rows,
    preview_returns_last_rows,
    validation_errors,
    limits_name_the_setting,
    no_data_is_404,
    config_hash_is_stable,
);
