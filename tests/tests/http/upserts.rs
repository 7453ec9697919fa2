//! Bulk upserts by natural key: `PUT /dimensions/{stores,products,calendar}`
//! and `POST /ingest/{promotions,price-history,inventory-snapshots}` —
//! inserts, idempotent re-sends, updates, merged duplicates, per-row
//! unknown keys, calendar days created on first use, and 422s that write
//! nothing.

use forecastlab_tests::{both_backends, fixtures, Backend, TestApp};
use serde_json::{json, Value};

async fn text(app: &TestApp, sql: &str) -> Option<String> {
    forecastlab_server::with_db!(&app.db, pool => {
        sqlx::query_scalar::<_, Option<String>>(sql).fetch_one(pool).await
    })
    .unwrap_or_else(|e| panic!("{e}: {sql}"))
}

fn counts(body: &Value) -> (u64, u64, u64, u64) {
    (
        body["processed_count"].as_u64().unwrap(),
        body["rejected_count"].as_u64().unwrap(),
        body["total_received"].as_u64().unwrap(),
        body["duplicates_merged"].as_u64().unwrap(),
    )
}

async fn stores_insert_update_and_resend(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let batch = json!({"stores": [
        {"code": "S1", "name": "One", "region": "North", "city": "Oslo", "store_type": "express"},
        {"code": "S2", "name": "Two"},
    ]});
    let body = app
        .put("/dimensions/stores", &batch)
        .await
        .assert_ok()
        .clone();
    assert_eq!(counts(&body), (2, 0, 2, 0));
    assert_eq!(body["errors"], json!([]));
    assert_eq!(body["calendar_days_created"], 0);
    assert_eq!(app.rows("store").await, 2);
    let id = fixtures::store_id(&app, "S1").await;

    // The same batch again: nothing new, same ids.
    let again = app.put("/dimensions/stores", &batch).await;
    assert_eq!(counts(again.assert_ok()), (2, 0, 2, 0));
    assert_eq!(app.rows("store").await, 2);
    assert_eq!(fixtures::store_id(&app, "S1").await, id);

    // An update replaces the attributes (absent → null); a later duplicate wins.
    let update = json!({"stores": [
        {"code": "S1", "name": "First", "region": "South"},
        {"code": "S3", "name": "Three"},
        {"code": "S1", "name": "Uno", "city": "Bergen"},
    ]});
    let body = app
        .put("/dimensions/stores", &update)
        .await
        .assert_ok()
        .clone();
    assert_eq!(counts(&body), (2, 0, 3, 1));
    assert_eq!(app.rows("store").await, 3);
    assert_eq!(fixtures::store_id(&app, "S1").await, id);
    let read = app.get(&format!("/dimensions/stores/{id}")).await;
    let store = read.assert_ok();
    assert_eq!(store["name"], "Uno");
    assert_eq!(store["city"], "Bergen");
    assert_eq!(store["region"], Value::Null);
    assert_eq!(store["store_type"], Value::Null);
}

async fn store_validation_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let long = "x".repeat(21);
    let response = app
        .put(
            "/dimensions/stores",
            &json!({"stores": [{"code": "OK", "name": "fine"}, {"code": long, "name": ""}]}),
        )
        .await;
    response.assert_invalid_fields(&["stores.1.code", "stores.1.name"]);
    app.put("/dimensions/stores", &json!({"stores": []}))
        .await
        .assert_invalid("stores");
    app.put(
        "/dimensions/stores",
        &json!({"stores": [{"name": "no code"}]}),
    )
    .await
    .assert_problem(422, "VALIDATION_ERROR");
    assert_eq!(app.rows("store").await, 0);
}

async fn batch_over_the_limit_is_rejected(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("INGEST_MAX_ROWS", "2")]).await;
    let stores: Vec<Value> = (0..3)
        .map(|i| json!({"code": format!("S{i}"), "name": "n"}))
        .collect();
    let response = app
        .put("/dimensions/stores", &json!({ "stores": stores }))
        .await;
    let body = response.assert_invalid("stores");
    assert_eq!(body["max_rows"], 2);
    assert_eq!(app.rows("store").await, 0);
}

async fn products_upsert_with_money_and_dates(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let batch = json!({"products": [
        {"sku": "A-1", "name": "Apple", "category": "Fruit", "brand": "Orchard",
         "base_price": "2.50", "base_cost": 1.2, "launch_date": "2024-01-01",
         "discontinue_date": "2025-01-01"},
        {"sku": "B-1", "name": "Bread"},
    ]});
    let body = app
        .put("/dimensions/products", &batch)
        .await
        .assert_ok()
        .clone();
    assert_eq!(counts(&body), (2, 0, 2, 0));
    let id = fixtures::product_id(&app, "A-1").await;
    let product = app.get(&format!("/dimensions/products/{id}")).await;
    let product = product.assert_ok();
    assert_eq!(product["category"], "Fruit");
    assert_eq!(product["base_price"], "2.50");
    assert_eq!(product["base_cost"], "1.20");
    assert_eq!(
        text(
            &app,
            "SELECT CAST(launch_date AS TEXT) FROM product WHERE sku = 'A-1'"
        )
        .await
        .as_deref(),
        Some("2024-01-01")
    );
    let update = json!({"products": [{"sku": "A-1", "name": "Apple", "base_price": 3}]});
    app.put("/dimensions/products", &update).await.assert_ok();
    let product = app.get(&format!("/dimensions/products/{id}")).await;
    assert_eq!(product.assert_ok()["base_price"], "3.00");
    assert_eq!(product.body["category"], Value::Null);
    assert_eq!(app.rows("product").await, 2);
}

async fn product_validation_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .put(
            "/dimensions/products",
            &json!({"products": [
                {"sku": "A", "name": "a", "base_price": "-1"},
                {"sku": "B", "name": "b", "base_cost": "1.005"},
                {"sku": "C", "name": "c", "launch_date": "2024-02-01", "discontinue_date": "2024-01-01"},
                {"sku": "D", "name": "d", "launch_date": "2024-02-30"},
            ]}),
        )
        .await;
    response.assert_problem(422, "VALIDATION_ERROR");
    let fixed = app
        .put(
            "/dimensions/products",
            &json!({"products": [
                {"sku": "A", "name": "a", "base_price": "-1"},
                {"sku": "B", "name": "b", "base_cost": "1.005"},
                {"sku": "C", "name": "c", "launch_date": "2024-02-01", "discontinue_date": "2024-01-01"},
            ]}),
        )
        .await;
    fixed.assert_invalid_fields(&[
        "products.0.base_price",
        "products.1.base_cost",
        "products.2.discontinue_date",
    ]);
    assert_eq!(app.rows("product").await, 0);
}

async fn calendar_marks_holidays(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let batch = json!({"days": [
        {"date": "2024-12-25", "is_holiday": true, "holiday_name": "Christmas"},
        {"date": "2024-12-24"},
    ]});
    let body = app
        .put("/dimensions/calendar", &batch)
        .await
        .assert_ok()
        .clone();
    assert_eq!(counts(&body), (2, 0, 2, 0));
    assert_eq!(
        app.count("SELECT CAST(day_of_week * 1000 + month * 10 + quarter AS BIGINT) FROM calendar WHERE date = '2024-12-25'").await,
        2 * 1000 + 12 * 10 + 4
    );
    assert_eq!(
        app.count("SELECT CAST(year AS BIGINT) FROM calendar WHERE date = '2024-12-24'")
            .await,
        2024
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM calendar WHERE is_holiday")
            .await,
        1
    );
    // Un-mark one, mark the other.
    let flip = json!({"days": [
        {"date": "2024-12-25", "is_holiday": false},
        {"date": "2024-12-24", "is_holiday": "yes", "holiday_name": "Eve"},
    ]});
    app.put("/dimensions/calendar", &flip).await.assert_ok();
    assert_eq!(
        text(&app, "SELECT holiday_name FROM calendar WHERE is_holiday")
            .await
            .as_deref(),
        Some("Eve")
    );
    assert_eq!(app.rows("calendar").await, 2);
    app.put(
        "/dimensions/calendar",
        &json!({"days": [{"date": "2024-01-01", "holiday_name": "New Year"}]}),
    )
    .await
    .assert_invalid_fields(&["days.0.holiday_name"]);
    app.put(
        "/dimensions/calendar",
        &json!({"days": [{"date": "2024-13-01"}]}),
    )
    .await
    .assert_problem(422, "VALIDATION_ERROR");
    assert_eq!(app.rows("calendar").await, 2);
    // Year 0 (1 BC, as chrono reads it) is stored on both databases.
    app.put(
        "/dimensions/calendar",
        &json!({"days": [{"date": "0000-01-01", "is_holiday": "TRUE", "holiday_name": ""}]}),
    )
    .await
    .assert_ok();
    assert_eq!(app.rows("calendar").await, 3);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM calendar WHERE is_holiday AND date < '2000-01-01'")
            .await,
        1
    );
}

async fn dimensions(app: &TestApp) {
    app.put(
        "/dimensions/stores",
        &json!({"stores": [{"code": "S1", "name": "One"}, {"code": "S2", "name": "Two"}]}),
    )
    .await
    .assert_ok();
    app.put(
        "/dimensions/products",
        &json!({"products": [{"sku": "A", "name": "a"}, {"sku": "B", "name": "b"}]}),
    )
    .await
    .assert_ok();
}

async fn inventory_creates_days_and_reports_unknown_keys(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    dimensions(&app).await;
    fixtures::calendar(&app, fixtures::d("2024-01-01"), fixtures::d("2024-01-01")).await;
    let batch = json!({"records": [
        {"date": "2024-01-01", "store_code": "S1", "sku": "A", "on_hand_qty": 5, "on_order_qty": 2},
        {"date": "2024-01-02", "store_code": "S1", "sku": "A", "on_hand_qty": "0"},
        {"date": "2024-01-03", "store_code": "S9", "sku": "A", "on_hand_qty": 1},
        {"date": "2024-01-04", "store_code": "S1", "sku": "Z", "on_hand_qty": 1},
    ]});
    let response = app.post("/ingest/inventory-snapshots", &batch).await;
    let body = response.assert_ok().clone();
    assert_eq!(counts(&body), (2, 2, 4, 0));
    assert_eq!(body["calendar_days_created"], 1);
    assert_eq!(body["errors"][0]["row_index"], 2);
    assert_eq!(body["errors"][0]["error_code"], "UNKNOWN_STORE");
    assert_eq!(body["errors"][0]["field"], "store_code");
    assert!(body["errors"][0]["error_message"]
        .as_str()
        .unwrap()
        .contains("S9"));
    assert_eq!(body["errors"][1]["row_index"], 3);
    assert_eq!(body["errors"][1]["error_code"], "UNKNOWN_PRODUCT");
    // Only the accepted row's missing day was created, not a holiday.
    assert_eq!(app.rows("calendar").await, 2);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM calendar WHERE date = '2024-01-02' AND NOT is_holiday AND day_of_week = 1").await,
        1
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM inventory_snapshot_daily WHERE is_stockout AND on_order_qty = 0"
        )
        .await,
        1
    );
    // Re-send with a changed count: updated in place.
    let update = json!({"records": [
        {"date": "2024-01-01", "store_code": "S1", "sku": "A", "on_hand_qty": 7, "is_stockout": "false"},
    ]});
    let body = app
        .post("/ingest/inventory-snapshots", &update)
        .await
        .assert_ok()
        .clone();
    assert_eq!(body["calendar_days_created"], 0);
    assert_eq!(app.rows("inventory_snapshot_daily").await, 2);
    assert_eq!(
        app.count("SELECT CAST(on_hand_qty AS BIGINT) FROM inventory_snapshot_daily WHERE date = '2024-01-01'").await,
        7
    );
    app.post(
        "/ingest/inventory-snapshots",
        &json!({"records": [{"date": "2024-01-05", "store_code": "S1", "sku": "A", "on_hand_qty": -1}]}),
    )
    .await
    .assert_invalid_fields(&["records.0.on_hand_qty"]);
    assert_eq!(app.rows("calendar").await, 2);
}

async fn promotions_upsert_by_natural_key(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    dimensions(&app).await;
    let batch = json!({"records": [
        {"sku": "A", "store_code": "S1", "name": "Spring", "discount_pct": "0.25",
         "start_date": "2024-03-01", "end_date": "2024-03-10"},
        {"sku": "A", "name": "Chain-wide", "kind": "markdown", "discount_amount": "1.50",
         "start_date": "2024-03-01", "end_date": "2024-03-31"},
        {"sku": "A", "name": "Pair", "kind": "bundle", "bundle_member_skus": ["A", "B"],
         "start_date": "2024-04-01", "end_date": "2024-04-02"},
        {"sku": "A", "name": "Ghost", "kind": "bogo", "bundle_member_skus": ["Q"],
         "start_date": "2024-04-01", "end_date": "2024-04-02"},
    ]});
    let body = app
        .post("/ingest/promotions", &batch)
        .await
        .assert_ok()
        .clone();
    assert_eq!(counts(&body), (3, 1, 4, 0));
    assert_eq!(body["errors"][0]["row_index"], 3);
    assert_eq!(body["errors"][0]["field"], "bundle_member_skus");
    assert_eq!(app.rows("promotion").await, 3);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM promotion WHERE store_id IS NULL")
            .await,
        2
    );
    let b = fixtures::product_id(&app, "B").await;
    let members = text(
        &app,
        "SELECT CAST(bundle_member_product_ids AS TEXT) FROM promotion WHERE kind = 'bundle'",
    )
    .await
    .unwrap();
    assert!(members.contains(&b.to_string()), "{members}");

    // Same keys again with a new end date: updated, not duplicated (the
    // chain-wide one too, whose store is NULL).
    let update = json!({"records": [
        {"sku": "A", "store_code": "S1", "name": "Spring", "discount_pct": 0.3,
         "start_date": "2024-03-01", "end_date": "2024-03-15"},
        {"sku": "A", "name": "Chain-wide", "kind": "markdown", "discount_amount": "2",
         "start_date": "2024-03-01", "end_date": "2024-03-20"},
    ]});
    let body = app
        .post("/ingest/promotions", &update)
        .await
        .assert_ok()
        .clone();
    assert_eq!(counts(&body), (2, 0, 2, 0));
    assert_eq!(app.rows("promotion").await, 3);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM promotion WHERE end_date IN ('2024-03-15', '2024-03-20')")
            .await,
        2
    );
    app.post(
        "/ingest/promotions",
        &json!({"records": [{"sku": "A", "name": "x", "kind": "bogo",
                             "start_date": "2024-01-02", "end_date": "2024-01-01"}]}),
    )
    .await
    .assert_invalid_fields(&["records.0.end_date", "records.0.bundle_member_skus"]);
    app.post(
        "/ingest/promotions",
        &json!({"records": [{"sku": "A", "name": "x", "kind": "free",
                             "start_date": "2024-01-01", "end_date": "2024-01-01"}]}),
    )
    .await
    .assert_invalid_fields(&["records.0.kind"]);
    assert_eq!(app.rows("promotion").await, 3);
}

async fn price_history_upsert_by_natural_key(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    dimensions(&app).await;
    let batch = json!({"records": [
        {"sku": "A", "price": "2.00", "valid_from": "2024-01-01", "valid_to": "2024-01-31"},
        {"sku": "A", "store_code": "S2", "price": 2.2, "valid_from": "2024-01-01"},
        {"sku": "A", "price": "2.10", "valid_from": "2024-01-01", "valid_to": "2024-02-29"},
        {"sku": "B", "store_code": "nope", "price": "1", "valid_from": "2024-01-01"},
    ]});
    let body = app
        .post("/ingest/price-history", &batch)
        .await
        .assert_ok()
        .clone();
    assert_eq!(counts(&body), (2, 1, 4, 1));
    assert_eq!(body["errors"][0]["error_code"], "UNKNOWN_STORE");
    assert_eq!(app.rows("price_history").await, 2);
    assert_eq!(
        app.count(
            "SELECT CAST(ROUND(price * 100) AS BIGINT) FROM price_history WHERE store_id IS NULL"
        )
        .await,
        210
    );
    app.post("/ingest/price-history", &batch).await.assert_ok();
    assert_eq!(app.rows("price_history").await, 2);
    app.post(
        "/ingest/price-history",
        &json!({"records": [{"sku": "A", "price": "1.001", "valid_from": "2024-02-01", "valid_to": "2024-01-01"}]}),
    )
    .await
    .assert_invalid_fields(&["records.0.price", "records.0.valid_to"]);
    app.post("/ingest/price-history", &json!({"records": []}))
        .await
        .assert_invalid("records");
    assert_eq!(app.rows("price_history").await, 2);
}

async fn upserts_are_in_the_openapi_document(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let document = app.get("/openapi.json").await;
    let paths = &document.assert_ok()["paths"];
    for (path, method) in [
        ("/dimensions/stores", "put"),
        ("/dimensions/products", "put"),
        ("/dimensions/calendar", "put"),
        ("/ingest/promotions", "post"),
        ("/ingest/price-history", "post"),
        ("/ingest/inventory-snapshots", "post"),
    ] {
        let operation = &paths[path][method];
        assert!(operation["requestBody"].is_object(), "{method} {path}");
        assert!(operation["responses"]["422"].is_object(), "{method} {path}");
    }
    let store = &document.body["components"]["schemas"]["StoreRow"]["properties"]["code"];
    assert_eq!(store["maxLength"], 20);
    assert_eq!(store["minLength"], 1);
}

both_backends!(
    stores_insert_update_and_resend,
    store_validation_writes_nothing,
    batch_over_the_limit_is_rejected,
    products_upsert_with_money_and_dates,
    product_validation_writes_nothing,
    calendar_marks_holidays,
    inventory_creates_days_and_reports_unknown_keys,
    promotions_upsert_by_natural_key,
    price_history_upsert_by_natural_key,
    upserts_are_in_the_openapi_document,
);
