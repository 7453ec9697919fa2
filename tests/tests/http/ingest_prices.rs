//! `POST /ingest/sales-daily` for data without prices and without calendar
//! days: an absent unit price is the product's base price or stays missing
//! (null, never invented), an absent total is quantity × price, and dates
//! the calendar lacks are added to it.

use forecastlab_tests::{both_backends, fixtures, Backend, TestApp, TestResponse};
use serde_json::{json, Value};

const URL: &str = "/ingest/sales-daily";

/// Store S1; product P with base price 2.50, product N without one; no
/// calendar days.
async fn setup(backend: Backend) -> TestApp {
    let app = TestApp::spawn(backend).await;
    fixtures::store(&app, "S1").insert().await;
    fixtures::product(&app, "P")
        .base_price("2.50")
        .insert()
        .await;
    fixtures::product(&app, "N").insert().await;
    app
}

async fn ingest(app: &TestApp, records: Value) -> TestResponse {
    app.post(URL, &json!({ "records": records })).await
}

/// The sales rows as the export writes them (empty cell = no value).
async fn sales(app: &TestApp) -> Vec<String> {
    let response = app.get("/export/sales-daily").await;
    response.assert_status(200);
    response.text.lines().skip(1).map(str::to_owned).collect()
}

async fn absent_prices_take_the_base_price_or_stay_missing(backend: Backend) {
    let app = setup(backend).await;
    let response = ingest(
        &app,
        json!([
            {"date": "2024-01-01", "store_code": "S1", "sku": "P", "quantity": 4},
            {"date": "2024-01-01", "store_code": "S1", "sku": "N", "quantity": 3},
            {"date": "2024-01-02", "store_code": "S1", "sku": "P", "quantity": 2, "unit_price": "3"},
            {"date": "2024-01-02", "store_code": "S1", "sku": "N", "quantity": 1, "unit_price": "", "total_amount": "5"},
            {"date": "2024-01-03", "store_code": "S1", "sku": "N", "quantity": 5, "unit_price": null, "total_amount": null},
        ]),
    )
    .await;
    let body = response.assert_ok();
    assert_eq!(body["processed_count"], 5);
    assert_eq!(body["rejected_count"], 0);
    assert_eq!(body["prices_from_base_price"], 1);
    assert_eq!(body["prices_missing"], 3);
    assert_eq!(body["calendar_days_created"], 3);
    assert_eq!(app.rows("calendar").await, 3);
    assert_eq!(
        sales(&app).await,
        [
            "2024-01-01,S1,N,3,,",
            "2024-01-01,S1,P,4,2.50,10.00",
            "2024-01-02,S1,N,1,,5.00",
            "2024-01-02,S1,P,2,3.00,6.00",
            "2024-01-03,S1,N,5,,",
        ]
    );
    assert_eq!(
        app.count("SELECT CAST(COUNT(*) AS BIGINT) FROM sales_daily WHERE unit_price IS NULL")
            .await,
        3
    );
    // Revenue sums the known totals; rows without one add nothing.
    let kpis = app
        .get("/analytics/kpis?start_date=2024-01-01&end_date=2024-01-03")
        .await;
    assert_eq!(kpis.assert_ok()["metrics"]["total_revenue"], "21.00");
    assert_eq!(kpis.body["metrics"]["total_units"], 15);

    // A later batch with a price fills it in; days already there are kept.
    let again = ingest(
        &app,
        json!([{"date": "2024-01-01", "store_code": "S1", "sku": "N", "quantity": 3, "unit_price": 1.5}]),
    )
    .await;
    let body = again.assert_ok();
    assert_eq!(body["prices_missing"], 0);
    assert_eq!(body["calendar_days_created"], 0);
    assert_eq!(sales(&app).await[0], "2024-01-01,S1,N,3,1.50,4.50");
}

async fn price_features_see_missing_prices(backend: Backend) {
    let app = setup(backend).await;
    let records: Vec<Value> = (1..=10)
        .map(|day| {
            let mut row = json!({"date": format!("2024-01-{day:02}"), "store_code": "S1",
                                 "sku": "N", "quantity": day});
            if day <= 5 {
                row["unit_price"] = json!("2.00");
            }
            row
        })
        .collect();
    ingest(&app, Value::Array(records)).await.assert_ok();
    let store = fixtures::store_id(&app, "S1").await;
    let product = fixtures::product_id(&app, "N").await;
    let response = app
        .post(
            "/featuresets/compute",
            &json!({"store_id": store, "product_id": product, "cutoff_date": "2024-01-10",
                    "lookback_days": 30,
                    "config": {"name": "prices", "exogenous_config": {"price_lags": [1]}}}),
        )
        .await;
    let body = response.assert_ok();
    let lag = |date: &str| -> Value {
        body["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["date"] == date)
            .unwrap_or_else(|| panic!("no row {date}: {body}"))["features"]["price_lag_1"]
            .clone()
    };
    assert_eq!(lag("2024-01-06"), json!(2.0));
    // The price of 01-06 is missing, so is its lag: null, never 0.
    assert_eq!(lag("2024-01-07"), Value::Null);
    assert_eq!(lag("2024-01-10"), Value::Null);
}

async fn prices_are_still_checked(backend: Backend) {
    let app = setup(backend).await;
    let base = json!({"date": "2024-01-01", "store_code": "S1", "sku": "P", "quantity": 1000});
    let with = |extra: Value| {
        let mut row = base.clone();
        for (key, value) in extra.as_object().unwrap() {
            row[key] = value.clone();
        }
        json!([row])
    };
    ingest(&app, with(json!({"unit_price": "-1"})))
        .await
        .assert_invalid("records.0.unit_price");
    ingest(&app, with(json!({"total_amount": "1.001"})))
        .await
        .assert_invalid("records.0.total_amount");
    ingest(&app, with(json!({"unit_price": "abc"})))
        .await
        .assert_invalid("records.0.unit_price");
    // quantity × unit_price beyond numeric(12,2) needs an explicit total.
    ingest(&app, with(json!({"unit_price": "99999999.99"})))
        .await
        .assert_invalid("records.0.total_amount");
    assert_eq!(app.rows("sales_daily").await, 0);
    assert_eq!(app.rows("calendar").await, 0);
    // The OpenAPI document says the prices are optional.
    let document = app.get("/openapi.json").await;
    let row = &document.assert_ok()["components"]["schemas"]["SalesDailyRow"];
    let required: Vec<&str> = row["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(required, ["date", "store_code", "sku", "quantity"]);
    let response = &document.body["components"]["schemas"]["IngestResponse"]["properties"];
    for field in [
        "calendar_days_created",
        "prices_from_base_price",
        "prices_missing",
    ] {
        assert!(response[field].is_object(), "{field}");
    }
}

both_backends!(
    absent_prices_take_the_base_price_or_stay_missing,
    price_features_see_missing_prices,
    prices_are_still_checked,
);
