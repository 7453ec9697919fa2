//! `POST /ingest/sales-daily`: validation, natural-key resolution, idempotent
//! upsert, duplicate grains, both write paths (PostgreSQL UNNEST, SQLite
//! chunked multi-row upsert).

use forecastlab_tests::{
    both_backends,
    fixtures::{self, d},
    json::{merged, without},
    Backend, TestApp, TestResponse,
};
use serde_json::{json, Value};

const URL: &str = "/ingest/sales-daily";

/// Two stores, two products, January 2024.
async fn setup(backend: Backend) -> TestApp {
    setup_with(backend, &[]).await
}

async fn setup_with(backend: Backend, overrides: &[(&str, &str)]) -> TestApp {
    let app = TestApp::spawn_with(backend, overrides).await;
    fixtures::store(&app, "S001").insert().await;
    fixtures::store(&app, "S002").insert().await;
    fixtures::product(&app, "SKU-1").insert().await;
    fixtures::product(&app, "SKU-2").insert().await;
    fixtures::calendar(&app, d("2024-01-01"), d("2024-01-31")).await;
    app
}

fn row(date: &str, store: &str, sku: &str, quantity: i64, price: &str, total: &str) -> Value {
    json!({"date": date, "store_code": store, "sku": sku, "quantity": quantity,
           "unit_price": price, "total_amount": total})
}

/// Posts `records` as one batch.
async fn ingest(app: &TestApp, records: &[Value]) -> TestResponse {
    app.post(URL, &json!({ "records": records })).await
}

async fn text(app: &TestApp, sql: &str) -> String {
    forecastlab_server::with_db!(&app.db, pool => {
        sqlx::query_scalar::<_, String>(sql).fetch_one(pool).await
    })
    .unwrap_or_else(|e| panic!("{e}: {sql}"))
}

async fn cents(app: &TestApp) -> i64 {
    app.count("SELECT CAST(ROUND(COALESCE(SUM(total_amount), 0) * 100) AS BIGINT) FROM sales_daily")
        .await
}

async fn valid_batch_is_written(backend: Backend) {
    let app = setup(backend).await;
    let response = ingest(
        &app,
        &[
            row("2024-01-01", "S001", "SKU-1", 10, "2.50", "25.00"),
            row("2024-01-01", "S002", "SKU-1", 0, "2.50", "0.00"),
            row("2024-01-02", "S001", "SKU-2", 3, "1.99", "5.97"),
        ],
    )
    .await;
    let body = response.assert_ok();
    assert!(response.headers.contains_key("x-request-id"));
    assert_eq!(body["processed_count"], 3);
    assert_eq!(body["rejected_count"], 0);
    assert_eq!(body["total_received"], 3);
    assert_eq!(body["duplicates_merged"], 0);
    assert_eq!(body["errors"], json!([]));
    assert!(body["duration_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(app.rows("sales_daily").await, 3);
    assert_eq!(
        app.count("SELECT CAST(SUM(quantity) AS BIGINT) FROM sales_daily")
            .await,
        13
    );
    assert_eq!(cents(&app).await, 2500 + 597);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sales_daily WHERE channel = 'in_store'")
            .await,
        3
    );
    let s1 = fixtures::store_id(&app, "S001").await;
    let p2 = fixtures::product_id(&app, "SKU-2").await;
    assert_eq!(
        app.count(&format!(
            "SELECT CAST(quantity AS BIGINT) FROM sales_daily \
             WHERE store_id = {s1} AND product_id = {p2} AND date = '2024-01-02'"
        ))
        .await,
        3
    );
}

async fn resend_is_idempotent_and_changes_update(backend: Backend) {
    let app = setup(backend).await;
    let batch = [
        row("2024-01-05", "S001", "SKU-1", 10, "2.50", "25.00"),
        row("2024-01-06", "S001", "SKU-1", 4, "2.50", "10.00"),
    ];
    ingest(&app, &batch).await.assert_ok();
    // A channel set by someone else must survive the upsert.
    app.exec("UPDATE sales_daily SET channel = 'online' WHERE date = '2024-01-05'")
        .await;
    let created = text(
        &app,
        "SELECT CAST(created_at AS TEXT) FROM sales_daily WHERE date = '2024-01-05'",
    )
    .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sales_daily WHERE updated_at > created_at")
            .await,
        0
    );
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;

    let again = ingest(&app, &batch).await;
    assert_eq!(again.assert_ok()["processed_count"], 2);
    assert_eq!(app.rows("sales_daily").await, 2);
    assert_eq!(cents(&app).await, 3500);
    assert_eq!(
        text(
            &app,
            "SELECT CAST(created_at AS TEXT) FROM sales_daily WHERE date = '2024-01-05'"
        )
        .await,
        created
    );
    assert_eq!(
        text(
            &app,
            "SELECT channel FROM sales_daily WHERE date = '2024-01-05'"
        )
        .await,
        "online"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sales_daily WHERE updated_at > created_at")
            .await,
        2
    );

    // A changed row updates in place (10 → 15).
    let changed = [row("2024-01-05", "S001", "SKU-1", 15, "2.60", "39.00")];
    assert_eq!(
        ingest(&app, &changed).await.assert_ok()["processed_count"],
        1
    );
    assert_eq!(app.rows("sales_daily").await, 2);
    assert_eq!(
        app.count("SELECT CAST(quantity AS BIGINT) FROM sales_daily WHERE date = '2024-01-05'")
            .await,
        15
    );
    assert_eq!(cents(&app).await, 3900 + 1000);
}

async fn unknown_keys_are_reported_per_row(backend: Backend) {
    let app = setup(backend).await;
    let response = ingest(
        &app,
        &[
            row("2024-01-01", "S001", "SKU-1", 1, "1.00", "1.00"),
            row("2024-01-01", "NOPE", "SKU-1", 1, "1.00", "1.00"),
            row("2024-01-01", "S001", "SKU-X", 1, "1.00", "1.00"),
            // A date the calendar lacks is added, not rejected.
            row("2030-01-01", "S001", "SKU-1", 1, "1.00", "1.00"),
            // Precedence: store before product.
            row("2030-01-01", "NOPE", "SKU-X", 1, "1.00", "1.00"),
            row("2030-01-01", "S002", "SKU-X", 1, "1.00", "1.00"),
            // Case-sensitive match.
            row("2024-01-02", "s001", "SKU-1", 1, "1.00", "1.00"),
            row("2024-01-03", "S002", "SKU-2", 2, "1.00", "2.00"),
        ],
    )
    .await;
    let body = response.assert_ok();
    assert_eq!(body["processed_count"], 3);
    assert_eq!(body["rejected_count"], 5);
    assert_eq!(body["total_received"], 8);
    assert_eq!(body["calendar_days_created"], 1);
    let errors = body["errors"].as_array().unwrap();
    let got: Vec<(u64, &str)> = errors
        .iter()
        .map(|e| {
            (
                e["row_index"].as_u64().unwrap(),
                e["error_code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (1, "UNKNOWN_STORE"),
            (2, "UNKNOWN_PRODUCT"),
            (4, "UNKNOWN_STORE"),
            (5, "UNKNOWN_PRODUCT"),
            (6, "UNKNOWN_STORE"),
        ]
    );
    assert_eq!(errors[0]["store_code"], "NOPE");
    assert_eq!(errors[0]["sku"], "SKU-1");
    assert_eq!(errors[0]["date"], "2024-01-01");
    assert!(errors[0]["error_message"]
        .as_str()
        .unwrap()
        .contains("NOPE"));
    assert!(errors[1]["error_message"]
        .as_str()
        .unwrap()
        .contains("SKU-X"));
    assert_eq!(app.rows("sales_daily").await, 3);
    assert_eq!(cents(&app).await, 400);
    // The ingest never creates stores or products; the new day is no holiday.
    assert_eq!(app.rows("store").await, 2);
    assert_eq!(app.rows("product").await, 2);
    assert_eq!(app.rows("calendar").await, 32);
    assert_eq!(
        app.count(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM calendar WHERE date = '2030-01-01' \
             AND is_holiday = FALSE AND holiday_name IS NULL AND day_of_week = 1 AND year = 2030"
        )
        .await,
        1
    );
}

async fn all_rows_rejected_is_still_200(backend: Backend) {
    let app = setup(backend).await;
    let response = ingest(&app, &[row("2024-01-01", "X", "Y", 1, "1", "1")]).await;
    let body = response.assert_ok();
    assert_eq!(body["processed_count"], 0);
    assert_eq!(body["rejected_count"], 1);
    assert_eq!(app.rows("sales_daily").await, 0);
}

async fn duplicate_grain_in_one_batch_is_merged_last_wins(backend: Backend) {
    let app = setup(backend).await;
    let response = ingest(
        &app,
        &[
            row("2024-01-01", "S001", "SKU-1", 1, "1.00", "1.00"),
            row("2024-01-01", "S002", "SKU-1", 2, "1.00", "2.00"),
            row("2024-01-01", "S001", "SKU-1", 5, "1.00", "5.00"),
            row("2024-01-01", "S001", "SKU-1", 7, "1.00", "7.00"),
        ],
    )
    .await;
    let body = response.assert_ok();
    assert_eq!(body["processed_count"], 2);
    assert_eq!(body["duplicates_merged"], 2);
    assert_eq!(body["rejected_count"], 0);
    assert_eq!(body["total_received"], 4);
    assert_eq!(app.rows("sales_daily").await, 2);
    let s1 = fixtures::store_id(&app, "S001").await;
    assert_eq!(
        app.count(&format!(
            "SELECT CAST(quantity AS BIGINT) FROM sales_daily WHERE store_id = {s1}"
        ))
        .await,
        7
    );
}

async fn decimals_accept_numbers_and_strings(backend: Backend) {
    let app = setup(backend).await;
    let response = ingest(
        &app,
        &[
            json!({"date": "2024-01-01", "store_code": "S001", "sku": "SKU-1",
                   "quantity": "10", "unit_price": 12.99, "total_amount": 129.9}),
            json!({"date": "2024-01-02", "store_code": "S001", "sku": "SKU-1",
                   "quantity": 3, "unit_price": "0.10", "total_amount": "0.30"}),
            json!({"date": "2024-01-03", "store_code": "S001", "sku": "SKU-1",
                   "quantity": 0, "unit_price": 0, "total_amount": "5.000"}),
        ],
    )
    .await;
    assert_eq!(response.assert_ok()["processed_count"], 3);
    assert_eq!(cents(&app).await, 12990 + 30 + 500);
    assert_eq!(
        app.count("SELECT CAST(SUM(quantity) AS BIGINT) FROM sales_daily")
            .await,
        13
    );
    assert_eq!(
        app.count("SELECT CAST(ROUND(unit_price * 100) AS BIGINT) FROM sales_daily WHERE date = '2024-01-01'")
            .await,
        1299
    );
}

async fn invalid_rows_reject_the_whole_batch(backend: Backend) {
    let app = setup(backend).await;
    let good = row("2024-01-01", "S001", "SKU-1", 1, "1.00", "1.00");
    let bad = |patch: Value| merged(&good, &patch);
    let cases = [
        (json!({"records": []}), "records", "too_short"),
        (
            json!({"records": [good, bad(json!({"quantity": -1}))]}),
            "records.1.quantity",
            "greater_than_equal",
        ),
        (
            json!({"records": [good, bad(json!({"date": "2024-02-30"}))]}),
            "records.1.date",
            "value_error",
        ),
        (
            json!({"records": [bad(json!({"date": "01/02/2024"}))]}),
            "records.0.date",
            "value_error",
        ),
        (
            json!({"records": [bad(json!({"store_code": ""}))]}),
            "records.0.store_code",
            "string_too_short",
        ),
        (
            json!({"records": [bad(json!({"store_code": "C".repeat(21)}))]}),
            "records.0.store_code",
            "string_too_long",
        ),
        (
            json!({"records": [bad(json!({"sku": ""}))]}),
            "records.0.sku",
            "string_too_short",
        ),
        (
            json!({"records": [bad(json!({"sku": "X".repeat(51)}))]}),
            "records.0.sku",
            "string_too_long",
        ),
        (
            json!({"records": [good, good, bad(json!({"unit_price": "1.001"}))]}),
            "records.2.unit_price",
            "decimal_max_places",
        ),
        (
            json!({"records": [bad(json!({"unit_price": "-0.01"}))]}),
            "records.0.unit_price",
            "greater_than_equal",
        ),
        (
            json!({"records": [bad(json!({"total_amount": "-5"}))]}),
            "records.0.total_amount",
            "greater_than_equal",
        ),
        (
            json!({"records": [bad(json!({"total_amount": "99999999999.00"}))]}),
            "records.0.total_amount",
            "less_than_equal",
        ),
        (
            json!({"records": [bad(json!({"quantity": 3_000_000_000_i64}))]}),
            "records.0.quantity",
            "less_than_equal",
        ),
        (
            json!({"records": [bad(json!({"unit_price": "abc", "total_amount": "1"}))]}),
            "records.0.unit_price",
            "value_error",
        ),
        (
            json!({"records": [bad(json!({"quantity": 1.5, "unit_price": "1", "total_amount": "1"}))]}),
            "records.0.quantity",
            "value_error",
        ),
        (
            json!({"records": [without(&bad(json!({"unit_price": "1", "total_amount": "1"})), &["quantity"])]}),
            "records.0.quantity",
            "missing",
        ),
        (json!({"rows": []}), "records", "missing"),
    ];
    for (body, field, kind) in cases {
        let response = app.post(URL, &body).await;
        let errors = response.assert_invalid(field)["errors"].as_array().unwrap();
        assert!(
            errors
                .iter()
                .any(|e| e["field"] == field && e["type"] == kind),
            "expected {field}/{kind}: {}",
            response.text
        );
    }
    assert_eq!(app.rows("sales_daily").await, 0);
    let response = app
        .send_raw(reqwest::Method::POST, URL, "application/json", "{not json")
        .await;
    response.assert_problem(422, "VALIDATION_ERROR");
    assert_eq!(app.rows("sales_daily").await, 0);
}

async fn batch_over_the_row_limit_is_rejected(backend: Backend) {
    let app = setup_with(backend, &[("INGEST_MAX_ROWS", "3")]).await;
    let rows: Vec<Value> = (1..=4)
        .map(|day| {
            row(
                &format!("2024-01-{day:02}"),
                "S001",
                "SKU-1",
                1,
                "1.00",
                "1.00",
            )
        })
        .collect();
    let response = ingest(&app, &rows).await;
    let problem = response.assert_problem(422, "VALIDATION_ERROR");
    assert_eq!(problem["errors"][0]["field"], "records");
    assert_eq!(problem["errors"][0]["type"], "too_long");
    assert_eq!(problem["max_rows"], 3);
    assert_eq!(app.rows("sales_daily").await, 0);
    // Exactly the limit is fine.
    let response = ingest(&app, &rows[..3]).await;
    assert_eq!(response.assert_ok()["processed_count"], 3);
}

async fn default_limit_is_ten_thousand(backend: Backend) {
    let app = setup(backend).await;
    let rows: Vec<Value> = (0..10_001)
        .map(|_| row("2024-01-01", "NOPE", "SKU-1", 1, "1.00", "1.00"))
        .collect();
    let response = ingest(&app, &rows).await;
    assert_eq!(
        response.assert_problem(422, "VALIDATION_ERROR")["max_rows"],
        10_000
    );
    let response = ingest(&app, &rows[..10_000]).await;
    let body = response.assert_ok();
    assert_eq!(body["rejected_count"], 10_000);
    assert_eq!(app.rows("sales_daily").await, 0);
}

/// More rows than one SQLite statement carries (2,000): the chunked path and
/// the single UNNEST statement write exactly the same.
async fn large_batch_uses_the_bulk_path(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    fixtures::store(&app, "S1").insert().await;
    fixtures::store(&app, "S2").insert().await;
    for p in 0..25 {
        fixtures::product(&app, &format!("P{p:02}")).insert().await;
    }
    fixtures::calendar(&app, d("2024-01-01"), d("2024-04-30")).await;
    let days: Vec<_> = d("2024-01-01").iter_days().take(100).collect();
    let mut rows = Vec::new();
    for (i, day) in days.iter().enumerate() {
        for s in ["S1", "S2"] {
            for p in 0..25 {
                let q = (i + p) % 7;
                rows.push(row(
                    &day.format("%Y-%m-%d").to_string(),
                    s,
                    &format!("P{p:02}"),
                    q as i64,
                    "1.25",
                    &format!("{:.2}", q as f64 * 1.25),
                ));
            }
        }
    }
    assert_eq!(rows.len(), 5_000);
    let expected_units: i64 = rows.iter().map(|r| r["quantity"].as_i64().unwrap()).sum();
    let response = ingest(&app, &rows).await;
    let body = response.assert_ok();
    assert_eq!(body["processed_count"], 5_000);
    assert_eq!(app.rows("sales_daily").await, 5_000);
    assert_eq!(
        app.count("SELECT CAST(SUM(quantity) AS BIGINT) FROM sales_daily")
            .await,
        expected_units
    );
    assert_eq!(cents(&app).await, expected_units * 125);
    // Second time: all updates, nothing new.
    let response = ingest(&app, &rows).await;
    assert_eq!(response.assert_ok()["processed_count"], 5_000);
    assert_eq!(app.rows("sales_daily").await, 5_000);
}

both_backends!(
    valid_batch_is_written,
    resend_is_idempotent_and_changes_update,
    unknown_keys_are_reported_per_row,
    all_rows_rejected_is_still_200,
    duplicate_grain_in_one_batch_is_merged_last_wins,
    decimals_accept_numbers_and_strings,
    invalid_rows_reject_the_whole_batch,
    batch_over_the_row_limit_is_rejected,
    default_limit_is_ten_thousand,
    large_batch_uses_the_bulk_path,
);
