//! `/analytics`: KPI formulas against hand-computed values, every drilldown
//! dimension, time-series bucketing, date-range rules, inventory status.

use forecastlab_tests::{
    both_backends,
    fixtures::{self, d, Sale, Snapshot},
    Backend, TestApp,
};
use serde_json::{json, Value};

/// Ids of the fixture.
#[allow(dead_code)]
struct Ids {
    s1: i64,
    s2: i64,
    s3: i64,
    p1: i64,
    p2: i64,
    p3: i64,
}

/// Three stores (S3 without region), three products (P3 without category),
/// eight sales rows (see each test for the sums they imply).
async fn setup(backend: Backend) -> (TestApp, Ids) {
    let app = TestApp::spawn(backend).await;
    let s1 = fixtures::store(&app, "S1").region("North").insert().await;
    let s2 = fixtures::store(&app, "S2").region("South").insert().await;
    let s3 = fixtures::store(&app, "S3").insert().await;
    let p1 = fixtures::product(&app, "P1")
        .category("Dairy")
        .insert()
        .await;
    let p2 = fixtures::product(&app, "P2")
        .category("Bakery")
        .insert()
        .await;
    let p3 = fixtures::product(&app, "P3").insert().await;
    fixtures::calendar(&app, d("2023-12-01"), d("2024-06-30")).await;
    fixtures::sales(
        &app,
        &[
            Sale::new("2024-01-01", s1, p1, 10, "2.50", "25.00"),
            Sale::new("2024-01-01", s2, p1, 4, "2.50", "10.00"),
            Sale::new("2024-01-03", s1, p2, 3, "1.99", "5.97"),
            Sale::new("2024-01-07", s3, p3, 0, "5.00", "0.00"),
            Sale::new("2024-01-08", s2, p2, 7, "1.99", "13.93").channel("online"),
            Sale::new("2024-02-15", s1, p3, 1, "100.00", "100.00"),
            Sale::new("2024-04-02", s3, p1, 2, "2.50", "5.00"),
            Sale::new("2023-12-31", s1, p1, 1, "2.50", "2.50"),
        ],
    )
    .await;
    (
        app,
        Ids {
            s1,
            s2,
            s3,
            p1,
            p2,
            p3,
        },
    )
}

const H1: &str = "start_date=2024-01-01&end_date=2024-06-30";

fn metrics(
    revenue: &str,
    units: i64,
    tx: i64,
    avg_price: Option<&str>,
    basket: Option<&str>,
) -> Value {
    json!({"total_revenue": revenue, "total_units": units, "total_transactions": tx,
           "avg_unit_price": avg_price, "avg_basket_value": basket})
}

async fn kpis(app: &TestApp, query: &str) -> Value {
    let response = app.get(&format!("/analytics/kpis?{query}")).await;
    response.assert_ok().clone()
}

async fn kpi_formulas(backend: Backend) {
    let (app, ids) = setup(backend).await;
    let body = kpis(&app, H1).await;
    assert_eq!(
        body["metrics"],
        metrics(
            "159.90",
            27,
            7,
            Some("5.922222222222222222222222222"),
            Some("22.84285714285714285714285714")
        )
    );
    assert_eq!(body["start_date"], "2024-01-01");
    assert_eq!(body["end_date"], "2024-06-30");
    assert!(body["store_id"].is_null());
    assert!(body["product_id"].is_null());
    assert!(body["category"].is_null());

    let body = kpis(&app, &format!("{H1}&store_id={}", ids.s1)).await;
    assert_eq!(
        body["metrics"],
        metrics(
            "130.97",
            14,
            3,
            Some("9.355"),
            Some("43.65666666666666666666666667")
        )
    );
    assert_eq!(body["store_id"], ids.s1);

    let body = kpis(&app, &format!("{H1}&product_id={}", ids.p1)).await;
    assert_eq!(
        body["metrics"],
        metrics(
            "40.00",
            16,
            3,
            Some("2.50"),
            Some("13.33333333333333333333333333")
        )
    );
    let body = kpis(&app, &format!("{H1}&category=Dairy")).await;
    assert_eq!(body["metrics"]["total_revenue"], "40.00");
    assert_eq!(body["category"], "Dairy");
    let body = kpis(&app, &format!("{H1}&category=Bakery&store_id={}", ids.s2)).await;
    assert_eq!(
        body["metrics"],
        metrics("13.93", 7, 1, Some("1.99"), Some("13.93"))
    );
    // Case-sensitive category, unknown ids: empty.
    let body = kpis(&app, &format!("{H1}&category=dairy")).await;
    assert_eq!(body["metrics"], metrics("0", 0, 0, None, None));

    // Both bounds inclusive: the 2023-12-31 row counts only when in range.
    let body = kpis(&app, "start_date=2023-12-31&end_date=2024-01-01").await;
    assert_eq!(body["metrics"]["total_revenue"], "37.50");
    let body = kpis(&app, "start_date=2024-01-01&end_date=2024-01-01").await;
    assert_eq!(body["metrics"]["total_revenue"], "35.00");

    // No rows: "0" and nulls. Zero units: null price, basket from revenue.
    let body = kpis(&app, "start_date=2025-01-01&end_date=2025-01-31").await;
    assert_eq!(body["metrics"], metrics("0", 0, 0, None, None));
    let body = kpis(
        &app,
        &format!(
            "start_date=2024-01-07&end_date=2024-01-07&product_id={}",
            ids.p3
        ),
    )
    .await;
    assert_eq!(body["metrics"], metrics("0.00", 0, 1, None, Some("0.00")));
}

async fn date_range_rules(backend: Backend) {
    let (app, _) = setup(backend).await;
    for path in [
        "/analytics/kpis",
        "/analytics/drilldowns",
        "/analytics/timeseries",
    ] {
        let extra = if path.ends_with("drilldowns") {
            "&dimension=store"
        } else {
            ""
        };
        let inverted = app
            .get(&format!(
                "{path}?start_date=2024-02-01&end_date=2024-01-31{extra}"
            ))
            .await;
        let problem = inverted.assert_problem(400, "BAD_REQUEST");
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains("2024-02-01") && detail.contains("2024-01-31"),
            "{detail}"
        );
        // Exactly 730 days (2024 is a leap year) is allowed, 731 is not.
        app.get(&format!(
            "{path}?start_date=2024-01-01&end_date=2025-12-31{extra}"
        ))
        .await
        .assert_ok();
        let too_long = app
            .get(&format!(
                "{path}?start_date=2024-01-01&end_date=2026-01-01{extra}"
            ))
            .await;
        let problem = too_long.assert_problem(400, "BAD_REQUEST");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains("731") && detail.contains("730"), "{detail}");
        for (query, field) in [
            ("end_date=2024-01-31", "query.start_date"),
            (
                "start_date=2024-01-01&end_date=2024-02-30",
                "query.end_date",
            ),
            (format!("{H1}&store_id=abc").as_str(), "query.store_id"),
        ] {
            app.get(&format!("{path}?{query}{extra}"))
                .await
                .assert_invalid_fields(&[field]);
        }
    }
    // The limit is a setting.
    let app = TestApp::spawn_with(backend, &[("ANALYTICS_MAX_DATE_RANGE_DAYS", "10")]).await;
    app.get("/analytics/kpis?start_date=2024-01-01&end_date=2024-01-11")
        .await
        .assert_ok();
    app.get("/analytics/kpis?start_date=2024-01-01&end_date=2024-01-12")
        .await
        .assert_problem(400, "BAD_REQUEST");
}

async fn drilldown(app: &TestApp, query: &str) -> Value {
    let response = app.get(&format!("/analytics/drilldowns?{query}")).await;
    response.assert_ok().clone()
}

fn summary(body: &Value) -> Vec<(String, String, i64, String)> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item["dimension_value"].as_str().unwrap().to_owned(),
                item["metrics"]["total_revenue"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                item["rank"].as_i64().unwrap(),
                item["revenue_share_pct"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn s(value: &str, revenue: &str, rank: i64, share: &str) -> (String, String, i64, String) {
    (value.to_owned(), revenue.to_owned(), rank, share.to_owned())
}

async fn drilldown_dimensions(backend: Backend) {
    let (app, ids) = setup(backend).await;
    let body = drilldown(&app, &format!("dimension=store&{H1}")).await;
    assert_eq!(body["dimension"], "store");
    assert_eq!(body["total_items"], 3);
    assert_eq!(
        summary(&body),
        vec![
            s("S1", "130.97", 1, "81.91"),
            s("S2", "23.93", 2, "14.97"),
            s("S3", "5.00", 3, "3.13"),
        ]
    );
    let first = &body["items"][0];
    assert_eq!(first["dimension_id"], ids.s1);
    assert_eq!(
        first["metrics"],
        metrics(
            "130.97",
            14,
            3,
            Some("9.355"),
            Some("43.65666666666666666666666667")
        )
    );
    assert_eq!(
        body["items"][1]["metrics"],
        metrics(
            "23.93",
            11,
            2,
            Some("2.175454545454545454545454545"),
            Some("11.965")
        )
    );
    assert_eq!(body["items"][2]["dimension_id"], ids.s3);
    assert_eq!(body["start_date"], "2024-01-01");
    assert!(body["store_id"].is_null());

    // Regions: S3 has none and is left out, also from the grand total.
    let body = drilldown(&app, &format!("dimension=region&{H1}")).await;
    assert_eq!(body["total_items"], 2);
    assert_eq!(
        summary(&body),
        vec![
            s("North", "130.97", 1, "84.55"),
            s("South", "23.93", 2, "15.45")
        ]
    );
    assert!(body["items"][0]["dimension_id"].is_null());

    let body = drilldown(&app, &format!("dimension=category&{H1}")).await;
    assert_eq!(
        summary(&body),
        vec![
            s("Dairy", "40.00", 1, "66.78"),
            s("Bakery", "19.90", 2, "33.22")
        ]
    );
    assert_eq!(
        body["items"][1]["metrics"],
        metrics("19.90", 10, 2, Some("1.99"), Some("9.95"))
    );

    let body = drilldown(&app, &format!("dimension=product&{H1}")).await;
    assert_eq!(body["total_items"], 3);
    assert_eq!(
        summary(&body),
        vec![
            s("P3", "100.00", 1, "62.54"),
            s("P1", "40.00", 2, "25.02"),
            s("P2", "19.90", 3, "12.45"),
        ]
    );
    assert_eq!(body["items"][0]["dimension_id"], ids.p3);

    let body = drilldown(&app, &format!("dimension=date&{H1}")).await;
    assert_eq!(body["total_items"], 6);
    let dates: Vec<String> = summary(&body).into_iter().map(|row| row.0).collect();
    assert_eq!(
        dates,
        [
            "2024-02-15",
            "2024-01-01",
            "2024-01-08",
            "2024-01-03",
            "2024-04-02",
            "2024-01-07"
        ]
    );
    assert!(body["items"][0]["dimension_id"].is_null());
    assert_eq!(body["items"][5]["metrics"]["avg_unit_price"], Value::Null);

    // max_items limits the list, not total_items or the grand total.
    let body = drilldown(&app, &format!("dimension=product&max_items=2&{H1}")).await;
    assert_eq!(body["total_items"], 3);
    assert_eq!(
        summary(&body),
        vec![s("P3", "100.00", 1, "62.54"), s("P1", "40.00", 2, "25.02")]
    );
    let body = drilldown(&app, &format!("dimension=product&max_items=1&{H1}")).await;
    assert_eq!(body["items"].as_array().unwrap().len(), 1);

    // Filters.
    let body = drilldown(&app, &format!("dimension=product&store_id={}&{H1}", ids.s1)).await;
    assert_eq!(body["store_id"], ids.s1);
    assert_eq!(
        summary(&body),
        vec![
            s("P3", "100.00", 1, "76.35"),
            s("P1", "25.00", 2, "19.09"),
            s("P2", "5.97", 3, "4.56"),
        ]
    );
    let body = drilldown(&app, &format!("dimension=store&product_id={}&{H1}", ids.p1)).await;
    assert_eq!(body["product_id"], ids.p1);
    assert_eq!(
        summary(&body),
        vec![
            s("S1", "25.00", 1, "62.50"),
            s("S2", "10.00", 2, "25.00"),
            s("S3", "5.00", 3, "12.50"),
        ]
    );

    // Nothing in range; only zero revenue.
    let body = drilldown(
        &app,
        "dimension=store&start_date=2025-01-01&end_date=2025-01-02",
    )
    .await;
    assert_eq!(body["items"], json!([]));
    assert_eq!(body["total_items"], 0);
    let body = drilldown(
        &app,
        "dimension=store&start_date=2024-01-07&end_date=2024-01-07",
    )
    .await;
    assert_eq!(summary(&body), vec![s("S3", "0.00", 1, "0.00")]);
}

async fn drilldown_validation(backend: Backend) {
    let (app, _) = setup(backend).await;
    for (query, field) in [
        (format!("dimension=brand&{H1}"), "query.dimension"),
        (H1.to_owned(), "query.dimension"),
        (
            format!("dimension=store&max_items=0&{H1}"),
            "query.max_items",
        ),
        (
            format!("dimension=store&max_items=101&{H1}"),
            "query.max_items",
        ),
        (
            format!("dimension=store&max_items=x&{H1}"),
            "query.max_items",
        ),
    ] {
        app.get(&format!("/analytics/drilldowns?{query}"))
            .await
            .assert_invalid_fields(&[field]);
    }
    drilldown(&app, &format!("dimension=store&max_items=100&{H1}")).await;
}

async fn series(app: &TestApp, query: &str) -> Vec<(String, String, i64, i64)> {
    let response = app.get(&format!("/analytics/timeseries?{query}")).await;
    let body = response.assert_ok();
    let points = body["points"].as_array().unwrap();
    assert_eq!(body["total_points"], points.len());
    points
        .iter()
        .map(|p| {
            (
                p["period"].as_str().unwrap().to_owned(),
                p["metrics"]["total_revenue"].as_str().unwrap().to_owned(),
                p["metrics"]["total_units"].as_i64().unwrap(),
                p["metrics"]["total_transactions"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn pt(period: &str, revenue: &str, units: i64, tx: i64) -> (String, String, i64, i64) {
    (period.to_owned(), revenue.to_owned(), units, tx)
}

async fn timeseries_buckets(backend: Backend) {
    let (app, ids) = setup(backend).await;
    let range = "start_date=2024-01-03&end_date=2024-04-30";
    let day = vec![
        pt("2024-01-03", "5.97", 3, 1),
        pt("2024-01-07", "0.00", 0, 1),
        pt("2024-01-08", "13.93", 7, 1),
        pt("2024-02-15", "100.00", 1, 1),
        pt("2024-04-02", "5.00", 2, 1),
    ];
    let cases = [
        (range.to_owned(), day.clone()),
        (format!("{range}&granularity=day"), day),
        // The first week starts on Monday 2024-01-01, before start_date; the
        // 2024-01-01 rows are outside the range and not summed.
        (
            format!("{range}&granularity=week"),
            vec![
                pt("2024-01-01", "5.97", 3, 2),
                pt("2024-01-08", "13.93", 7, 1),
                pt("2024-02-12", "100.00", 1, 1),
                pt("2024-04-01", "5.00", 2, 1),
            ],
        ),
        // No zero filling: March is absent.
        (
            format!("{range}&granularity=month"),
            vec![
                pt("2024-01-01", "19.90", 10, 3),
                pt("2024-02-01", "100.00", 1, 1),
                pt("2024-04-01", "5.00", 2, 1),
            ],
        ),
        (
            format!("{range}&granularity=quarter"),
            vec![
                pt("2024-01-01", "119.90", 11, 4),
                pt("2024-04-01", "5.00", 2, 1),
            ],
        ),
        // Week across the year boundary: Sunday 2023-12-31 belongs to the
        // week of Monday 2023-12-25.
        (
            "start_date=2023-12-31&end_date=2024-01-01&granularity=week".to_owned(),
            vec![
                pt("2023-12-25", "2.50", 1, 1),
                pt("2024-01-01", "35.00", 14, 2),
            ],
        ),
        // Filters.
        (
            format!("{H1}&granularity=month&category=Dairy"),
            vec![
                pt("2024-01-01", "35.00", 14, 2),
                pt("2024-04-01", "5.00", 2, 1),
            ],
        ),
        (
            format!("{H1}&granularity=quarter&store_id={}", ids.s2),
            vec![pt("2024-01-01", "23.93", 11, 2)],
        ),
        (
            format!("{H1}&product_id={}", ids.p3),
            vec![
                pt("2024-01-07", "0.00", 0, 1),
                pt("2024-02-15", "100.00", 1, 1),
            ],
        ),
        (
            "start_date=2025-01-01&end_date=2025-01-31".to_owned(),
            vec![],
        ),
    ];
    for (query, expected) in cases {
        assert_eq!(series(&app, &query).await, expected, "{query}");
    }
    let response = app
        .get(&format!(
            "/analytics/timeseries?{H1}&granularity=week&store_id={}&category=Bakery",
            ids.s1
        ))
        .await;
    let body = response.assert_ok();
    assert_eq!(body["granularity"], "week");
    assert_eq!(body["store_id"], ids.s1);
    assert_eq!(body["category"], "Bakery");
    assert!(body["product_id"].is_null());
    assert_eq!(
        body["points"][0]["metrics"],
        metrics("5.97", 3, 1, Some("1.99"), Some("5.97"))
    );

    app.get(&format!("/analytics/timeseries?{H1}&granularity=year"))
        .await
        .assert_invalid_fields(&["query.granularity"]);
}

async fn inventory_status(backend: Backend) {
    let (app, ids) = setup(backend).await;
    let empty = app.get("/analytics/inventory-status").await;
    assert_eq!(
        empty.assert_ok(),
        &json!({"items": [], "total_items": 0, "store_id": null, "product_id": null})
    );
    let snap = |date: &str, store_id, product_id, on_hand, on_order, stockout| Snapshot {
        date: date.to_owned(),
        store_id,
        product_id,
        on_hand_qty: on_hand,
        on_order_qty: on_order,
        is_stockout: stockout,
    };
    fixtures::inventory(
        &app,
        &[
            snap("2024-01-01", ids.s1, ids.p1, 5, 0, false),
            snap("2024-01-03", ids.s1, ids.p1, 2, 10, false),
            snap("2024-01-02", ids.s1, ids.p1, 7, 0, false),
            snap("2024-01-02", ids.s1, ids.p2, 0, 20, true),
            snap("2024-01-01", ids.s2, ids.p1, 9, 0, false),
        ],
    )
    .await;
    let response = app.get("/analytics/inventory-status").await;
    let body = response.assert_ok();
    assert_eq!(body["total_items"], 3);
    assert_eq!(
        body["items"],
        json!([
            {"store_id": ids.s1, "product_id": ids.p1, "date": "2024-01-03",
             "on_hand_qty": 2, "on_order_qty": 10, "is_stockout": false},
            {"store_id": ids.s1, "product_id": ids.p2, "date": "2024-01-02",
             "on_hand_qty": 0, "on_order_qty": 20, "is_stockout": true},
            {"store_id": ids.s2, "product_id": ids.p1, "date": "2024-01-01",
             "on_hand_qty": 9, "on_order_qty": 0, "is_stockout": false},
        ])
    );
    let response = app
        .get(&format!(
            "/analytics/inventory-status?product_id={}",
            ids.p1
        ))
        .await;
    let body = response.assert_ok();
    assert_eq!(body["total_items"], 2);
    assert_eq!(body["product_id"], ids.p1);
    assert_eq!(body["items"][1]["store_id"], ids.s2);
    let response = app
        .get(&format!(
            "/analytics/inventory-status?store_id={}&product_id={}",
            ids.s1, ids.p2
        ))
        .await;
    assert_eq!(response.assert_ok()["items"][0]["is_stockout"], true);
    let response = app.get("/analytics/inventory-status?store_id=999999").await;
    assert_eq!(response.assert_ok()["items"], json!([]));
    app.get("/analytics/inventory-status?store_id=abc")
        .await
        .assert_invalid_fields(&["query.store_id"]);
}

both_backends!(
    kpi_formulas,
    date_range_rules,
    drilldown_dimensions,
    drilldown_validation,
    timeseries_buckets,
    inventory_status,
);
