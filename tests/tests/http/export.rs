//! `GET /export/*`: CSV content and headers, filters, the round trip
//! (export, send back through the bulk upserts into a fresh database,
//! export again → the same bytes), streaming of a large table, 400/422
//! for bad filters and 404 for unknown stores and products.

use forecastlab_tests::{both_backends, fixtures, Backend, TestApp, TestResponse};
use serde_json::{json, Map, Value};

/// Every export, with the upsert that takes its rows back: (export path,
/// upsert method, upsert path, list field).
const EXPORTS: [(&str, &str, &str, &str); 7] = [
    ("/export/stores", "PUT", "/dimensions/stores", "stores"),
    (
        "/export/products",
        "PUT",
        "/dimensions/products",
        "products",
    ),
    ("/export/calendar", "PUT", "/dimensions/calendar", "days"),
    (
        "/export/sales-daily",
        "POST",
        "/ingest/sales-daily",
        "records",
    ),
    (
        "/export/inventory",
        "POST",
        "/ingest/inventory-snapshots",
        "records",
    ),
    (
        "/export/promotions",
        "POST",
        "/ingest/promotions",
        "records",
    ),
    ("/export/prices", "POST", "/ingest/price-history", "records"),
];

/// The CSV of a response: header and records.
fn parse(response: &TestResponse) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(response.text.as_bytes());
    let header = reader
        .headers()
        .expect("CSV header")
        .iter()
        .map(str::to_owned)
        .collect();
    let records = reader
        .records()
        .map(|record| {
            record
                .expect("CSV record")
                .iter()
                .map(str::to_owned)
                .collect()
        })
        .collect();
    (header, records)
}

/// GETs an export and checks it is a CSV attachment.
async fn export(app: &TestApp, path: &str) -> TestResponse {
    let response = app.get(path).await;
    response.assert_status(200);
    assert!(
        response.content_type().starts_with("text/csv"),
        "{path}: {}",
        response.content_type()
    );
    let disposition = response
        .headers
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        disposition.starts_with("attachment; filename="),
        "{disposition}"
    );
    assert!(disposition.ends_with(".csv\""), "{disposition}");
    response
}

/// The CSV rows as upsert rows: one object per record, an empty cell null.
fn rows(response: &TestResponse) -> Vec<Value> {
    let (header, records) = parse(response);
    records
        .into_iter()
        .map(|record| {
            let object: Map<String, Value> = header
                .iter()
                .zip(record)
                .map(|(name, cell)| {
                    let value = if cell.is_empty() {
                        Value::Null
                    } else {
                        Value::String(cell)
                    };
                    (name.clone(), value)
                })
                .collect();
            Value::Object(object)
        })
        .collect()
}

/// Two stores, three products (one a bundle member), January days with a
/// holiday, sales, inventory, promotions and prices — all through the
/// bulk upserts, with text that needs CSV quoting.
async fn seed(app: &TestApp) {
    let ok = |response: TestResponse| {
        let body = response.assert_ok().clone();
        assert_eq!(body["rejected_count"], 0, "{body}");
    };
    ok(app
        .put(
            "/dimensions/stores",
            &json!({"stores": [
                {"code": "S2", "name": "Second, \"big\"", "region": "North", "city": "Oslo", "store_type": "hyper"},
                {"code": "S1", "name": "First"},
            ]}),
        )
        .await);
    ok(app
        .put(
            "/dimensions/products",
            &json!({"products": [
                {"sku": "B", "name": "Bread\nloaf", "category": "Bakery", "base_price": "2.5", "base_cost": 1,
                 "launch_date": "2023-06-01", "discontinue_date": "2025-01-01"},
                {"sku": "A", "name": "Apples", "brand": "Orchard"},
                {"sku": "C", "name": "Cider", "subcategory": "Drinks", "base_price": "4.99"},
            ]}),
        )
        .await);
    ok(app
        .put(
            "/dimensions/calendar",
            &json!({"days": [
                {"date": "2024-01-01", "is_holiday": true, "holiday_name": "New Year"},
                {"date": "2024-01-02"}, {"date": "2024-01-03"}, {"date": "2024-01-04"},
            ]}),
        )
        .await);
    let sale = |date: &str, store: &str, sku: &str, quantity: i64, price: &str, total: &str| {
        json!({"date": date, "store_code": store, "sku": sku, "quantity": quantity,
               "unit_price": price, "total_amount": total})
    };
    ok(app
        .post(
            "/ingest/sales-daily",
            &json!({"records": [
                sale("2024-01-02", "S2", "B", 3, "2.50", "7.50"),
                sale("2024-01-01", "S1", "A", 10, "1", "10"),
                sale("2024-01-01", "S2", "A", 0, "1.10", "0"),
                sale("2024-01-03", "S1", "C", 1, "4.99", "4.99"),
                sale("2024-01-02", "S1", "A", 7, "0.95", "6.65"),
            ]}),
        )
        .await);
    ok(app
        .post(
            "/ingest/inventory-snapshots",
            &json!({"records": [
                {"date": "2024-01-01", "store_code": "S1", "sku": "A", "on_hand_qty": 0},
                {"date": "2024-01-02", "store_code": "S2", "sku": "B", "on_hand_qty": 5, "on_order_qty": 2},
            ]}),
        )
        .await);
    ok(app
        .post(
            "/ingest/promotions",
            &json!({"records": [
                {"sku": "A", "name": "Chain, wide", "discount_pct": "0.15", "start_date": "2024-01-01", "end_date": "2024-01-02"},
                {"sku": "A", "store_code": "S1", "name": "Two for one", "kind": "bogo",
                 "bundle_member_skus": ["C", "B"], "start_date": "2024-01-03", "end_date": "2024-01-04"},
                {"sku": "B", "store_code": "S2", "name": "Markdown", "kind": "markdown",
                 "discount_amount": "0.5", "start_date": "2024-01-02", "end_date": "2024-01-02"},
            ]}),
        )
        .await);
    ok(app
        .post(
            "/ingest/price-history",
            &json!({"records": [
                {"sku": "A", "price": "1.00", "valid_from": "2024-01-01", "valid_to": "2024-01-01"},
                {"sku": "A", "price": "0.95", "valid_from": "2024-01-02"},
                {"sku": "B", "store_code": "S2", "price": 2.5, "valid_from": "2024-01-03"},
            ]}),
        )
        .await);
}

async fn exports_hold_every_row_in_key_order(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let (header, records) = parse(&export(&app, "/export/sales-daily").await);
    assert_eq!(
        header,
        [
            "date",
            "store_code",
            "sku",
            "quantity",
            "unit_price",
            "total_amount"
        ]
    );
    assert_eq!(
        records,
        [
            ["2024-01-01", "S1", "A", "10", "1.00", "10.00"],
            ["2024-01-01", "S2", "A", "0", "1.10", "0.00"],
            ["2024-01-02", "S1", "A", "7", "0.95", "6.65"],
            ["2024-01-02", "S2", "B", "3", "2.50", "7.50"],
            ["2024-01-03", "S1", "C", "1", "4.99", "4.99"],
        ]
    );
    let stores = export(&app, "/export/stores").await;
    assert_eq!(
        stores.text,
        "code,name,region,city,store_type\nS1,First,,,\nS2,\"Second, \"\"big\"\"\",North,Oslo,hyper\n"
    );
    let (header, products) = parse(&export(&app, "/export/products").await);
    assert_eq!(header.len(), 9);
    assert_eq!(
        products[1],
        [
            "B",
            "Bread\nloaf",
            "Bakery",
            "",
            "",
            "2.50",
            "1.00",
            "2023-06-01",
            "2025-01-01"
        ]
    );
    let (_, days) = parse(
        &export(
            &app,
            "/export/calendar?start_date=2024-01-01&end_date=2024-01-02",
        )
        .await,
    );
    assert_eq!(
        days,
        [
            ["2024-01-01", "true", "New Year"],
            ["2024-01-02", "false", ""]
        ]
    );
    let (_, inventory) = parse(&export(&app, "/export/inventory").await);
    assert_eq!(
        inventory,
        [
            ["2024-01-01", "S1", "A", "0", "0", "true"],
            ["2024-01-02", "S2", "B", "5", "2", "false"]
        ]
    );
    let (_, promotions) = parse(&export(&app, "/export/promotions").await);
    assert_eq!(
        promotions,
        [
            [
                "A",
                "",
                "Chain, wide",
                "pct_off",
                "0.1500",
                "",
                "2024-01-01",
                "2024-01-02",
                ""
            ],
            [
                "A",
                "S1",
                "Two for one",
                "bogo",
                "",
                "",
                "2024-01-03",
                "2024-01-04",
                "C|B"
            ],
            [
                "B",
                "S2",
                "Markdown",
                "markdown",
                "",
                "0.50",
                "2024-01-02",
                "2024-01-02",
                ""
            ],
        ]
    );
    let (_, prices) = parse(&export(&app, "/export/prices").await);
    assert_eq!(
        prices,
        [
            ["A", "", "1.00", "2024-01-01", "2024-01-01"],
            ["A", "", "0.95", "2024-01-02", ""],
            ["B", "S2", "2.50", "2024-01-03", ""],
        ]
    );
    // An empty table is a header row alone.
    app.exec("DELETE FROM inventory_snapshot_daily").await;
    let empty = export(&app, "/export/inventory").await;
    assert_eq!(
        empty.text,
        "date,store_code,sku,on_hand_qty,on_order_qty,is_stockout\n"
    );
}

async fn filters_narrow_the_rows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let keys = |response: &TestResponse| -> Vec<String> {
        parse(response)
            .1
            .into_iter()
            .map(|record| record[..3].join("/"))
            .collect()
    };
    let s1 = fixtures::store_id(&app, "S1").await;
    let a = fixtures::product_id(&app, "A").await;
    let cases = [
        (
            "start_date=2024-01-02",
            vec!["2024-01-02/S1/A", "2024-01-02/S2/B", "2024-01-03/S1/C"],
        ),
        (
            "end_date=2024-01-01",
            vec!["2024-01-01/S1/A", "2024-01-01/S2/A"],
        ),
        (
            "start_date=2024-01-02&end_date=2024-01-02",
            vec!["2024-01-02/S1/A", "2024-01-02/S2/B"],
        ),
        (
            "store_code=S1",
            vec!["2024-01-01/S1/A", "2024-01-02/S1/A", "2024-01-03/S1/C"],
        ),
        ("sku=A&store_code=S2", vec!["2024-01-01/S2/A"]),
        ("start_date=2024-02-01", vec![]),
    ];
    for (query, expected) in cases {
        let response = export(&app, &format!("/export/sales-daily?{query}")).await;
        assert_eq!(keys(&response), expected, "{query}");
    }
    // Ids, alone or with the matching keys, filter the same way.
    let by_ids = export(
        &app,
        &format!("/export/sales-daily?store_id={s1}&product_id={a}"),
    )
    .await;
    let by_both = export(
        &app,
        &format!("/export/sales-daily?store_id={s1}&store_code=S1&product_id={a}&sku=A"),
    )
    .await;
    assert_eq!(keys(&by_ids), ["2024-01-01/S1/A", "2024-01-02/S1/A"]);
    assert_eq!(by_ids.text, by_both.text);
    // Periods overlapping the range; a store filter drops chain-wide rows.
    let (_, promotions) = parse(&export(&app, "/export/promotions?start_date=2024-01-03").await);
    assert_eq!(promotions.len(), 1);
    assert_eq!(promotions[0][2], "Two for one");
    let (_, prices) = parse(&export(&app, "/export/prices?start_date=2024-01-05&sku=A").await);
    assert_eq!(prices, [["A", "", "0.95", "2024-01-02", ""]]);
    let (_, prices) = parse(&export(&app, "/export/prices?store_code=S2").await);
    assert_eq!(prices, [["B", "S2", "2.50", "2024-01-03", ""]]);
    let (_, inventory) =
        parse(&export(&app, "/export/inventory?store_code=S2&end_date=2024-01-31").await);
    assert_eq!(inventory.len(), 1);
    assert_eq!(inventory[0][1], "S2");
}

/// Sends every export of `from` into `to` through the bulk upserts.
async fn send_back(from: &TestApp, to: &TestApp) {
    for (path, method, upsert, list) in EXPORTS {
        let response = export(from, path).await;
        let rows = rows(&response);
        assert!(!rows.is_empty(), "{path}");
        let body = json!({ list: rows });
        let answer = match method {
            "PUT" => to.put(upsert, &body).await,
            _ => to.post(upsert, &body).await,
        };
        let answer = answer.assert_ok();
        assert_eq!(answer["rejected_count"], 0, "{upsert}: {answer}");
        assert_eq!(answer["processed_count"], rows.len(), "{upsert}: {answer}");
    }
}

async fn exports_round_trip_through_the_upserts(backend: Backend) {
    let source = TestApp::spawn(backend).await;
    seed(&source).await;
    let target = TestApp::spawn(backend).await;
    send_back(&source, &target).await;
    for (path, ..) in EXPORTS {
        let before = export(&source, path).await;
        let after = export(&target, path).await;
        assert_eq!(before.text, after.text, "{path}");
    }
    // Sending the same files again changes nothing.
    let counts = target.rows("promotion").await + target.rows("price_history").await;
    send_back(&source, &target).await;
    assert_eq!(
        target.rows("promotion").await + target.rows("price_history").await,
        counts
    );
    for (path, ..) in EXPORTS {
        assert_eq!(
            export(&source, path).await.text,
            export(&target, path).await.text,
            "{path}"
        );
    }
}

async fn large_exports_stream_every_row(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // 4 stores × 25 products × 120 days = 12,000 rows, several chunks.
    fixtures::weekly_sales(&app, 4, 25, 120).await;
    let response = export(&app, "/export/sales-daily").await;
    assert!(
        response.headers.get("content-length").is_none(),
        "streamed, not buffered"
    );
    assert!(
        response.text.len() > 3 * 64 * 1024,
        "{}",
        response.text.len()
    );
    let (_, records) = parse(&response);
    assert_eq!(records.len() as i64, app.rows("sales_daily").await);
    let mut sorted = records.clone();
    sorted.sort();
    assert_eq!(records, sorted, "natural-key order");
}

async fn bad_filters_are_problems(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let s1 = fixtures::store_id(&app, "S1").await;
    let a = fixtures::product_id(&app, "A").await;
    for path in [
        "/export/sales-daily?start_date=2024-01-05&end_date=2024-01-01",
        "/export/inventory?start_date=2024-01-05&end_date=2024-01-01",
        "/export/promotions?start_date=2024-01-05&end_date=2024-01-01",
        "/export/prices?start_date=2024-01-05&end_date=2024-01-01",
        "/export/calendar?start_date=2024-01-05&end_date=2024-01-01",
    ] {
        app.get(path).await.assert_problem(400, "BAD_REQUEST");
    }
    let long_sku = format!("/export/sales-daily?sku={}", "x".repeat(51));
    let invalid = [
        (
            "/export/sales-daily?start_date=2024-02-30",
            "query.start_date",
        ),
        ("/export/calendar?end_date=yesterday", "query.end_date"),
        ("/export/sales-daily?store_id=abc", "query.store_id"),
        ("/export/prices?store_code=", "query.store_code"),
        (long_sku.as_str(), "query.sku"),
    ];
    for (path, field) in invalid {
        app.get(path).await.assert_invalid(field);
    }
    // An id and a key naming different rows.
    app.get(&format!("/export/sales-daily?store_id={s1}&store_code=S2"))
        .await
        .assert_invalid("query.store_code");
    app.get(&format!("/export/promotions?product_id={a}&sku=B"))
        .await
        .assert_invalid("query.sku");
    // Unknown stores and products.
    for path in [
        "/export/sales-daily?store_code=NOPE",
        "/export/inventory?sku=NOPE",
        "/export/promotions?store_id=999999",
        "/export/prices?product_id=999999",
        "/export/sales-daily?store_id=999999&store_code=S1",
    ] {
        app.get(path).await.assert_problem(404, "NOT_FOUND");
    }
    let missing = app.get("/export/sales-daily?sku=NOPE").await;
    assert!(missing.body["detail"].as_str().unwrap().contains("'NOPE'"));
}

async fn exports_are_in_the_openapi_document(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let document = app.get("/openapi.json").await;
    let paths = &document.assert_ok()["paths"];
    for (path, ..) in EXPORTS {
        let operation = &paths[path]["get"];
        assert!(
            operation["responses"]["200"]["content"]["text/csv"].is_object(),
            "{path}: {operation}"
        );
    }
    let sales = &paths["/export/sales-daily"]["get"];
    let names: Vec<&str> = sales["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "start_date",
            "end_date",
            "store_id",
            "store_code",
            "product_id",
            "sku"
        ]
    );
    for status in ["400", "404", "422"] {
        assert!(sales["responses"][status].is_object(), "{status}");
    }
}

both_backends!(
    exports_hold_every_row_in_key_order,
    filters_narrow_the_rows,
    exports_round_trip_through_the_upserts,
    large_exports_stream_every_row,
    bad_filters_are_problems,
    exports_are_in_the_openapi_document,
);
