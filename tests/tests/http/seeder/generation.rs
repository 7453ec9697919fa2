//! POST /seeder/generate and GET /seeder/status: determinism on and across
//! both databases, preset properties measured on the output, overrides and
//! the request's validation.

use std::collections::HashMap;

use forecastlab_tests::{both_backends, Backend, TestApp};
use serde_json::json;

use super::{checksums, everything, generate, table_counts, TABLES};

async fn status_scenarios_channels(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let status = app.get("/seeder/status").await;
    let body = status.assert_ok();
    assert_eq!(body["sales"], 0);
    assert_eq!(body["stores"], 0);
    assert!(body["date_range_start"].is_null() && body["last_updated"].is_null());

    let scenarios = app.get("/seeder/scenarios").await;
    let list = scenarios.assert_ok().as_array().unwrap().clone();
    let names: Vec<&str> = list.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "retail_standard",
            "holiday_rush",
            "high_variance",
            "stockout_heavy",
            "new_launches",
            "sparse",
            "demo_minimal",
            "showcase_rich"
        ]
    );
    let holiday = &list[1];
    assert_eq!(holiday["start_date"], "2024-10-01");
    assert_eq!(holiday["end_date"], "2024-12-31");
    assert_eq!(list[4]["products"], 100);
    assert!(list
        .iter()
        .all(|s| s["description"].as_str().is_some_and(|d| !d.is_empty())));

    let channels = app.get("/seeder/channels").await;
    assert_eq!(
        channels.assert_ok(),
        &json!({"channels": ["click_collect", "in_store", "online", "wholesale"], "total": 4})
    );

    generate(&app, &json!({"scenario": "demo_minimal", "stores": 1, "products": 2, "start_date": "2024-01-01", "end_date": "2024-01-10"})).await;
    let status = app.get("/seeder/status").await;
    let body = status.assert_ok();
    assert_eq!(body["stores"], 1);
    assert_eq!(body["products"], 2);
    assert_eq!(body["calendar"], 10);
    assert_eq!(body["inventory"], 20);
    assert_eq!(
        body["sales"].as_i64().unwrap(),
        app.rows("sales_daily").await
    );
    assert_eq!(body["date_range_start"], "2024-01-01");
    assert_eq!(body["date_range_end"], "2024-01-10");
    assert!(body["last_updated"].is_string());
}

async fn generate_is_deterministic(backend: Backend) {
    let a = TestApp::spawn(backend).await;
    let b = TestApp::spawn(backend).await;
    let result = generate(&a, &everything(7)).await;
    generate(&b, &everything(7)).await;
    assert_eq!(result["seed"], 7);
    assert_eq!(result["success"], true);
    let created = &result["records_created"];
    assert_eq!(created["stores"], 2);
    assert_eq!(created["products"], 4);
    assert_eq!(created["calendar"], 91);
    assert_eq!(created["inventory"], 2 * 4 * 91);
    assert!(result["message"].as_str().unwrap().contains("seed 7"));
    let sums_a = checksums(&a).await;
    let sums_b = checksums(&b).await;
    assert_eq!(sums_a, sums_b);
    // Every generator wrote something, and the counts match the response.
    for (table, key) in [
        ("sales_daily", "sales"),
        ("inventory_snapshot_daily", "inventory"),
        ("price_history", "price_history"),
        ("promotion", "promotions"),
        ("exogenous_signal", "exogenous_signals"),
        ("sales_returns", "sales_returns"),
        ("replenishment_event", "replenishment_events"),
    ] {
        assert!(sums_a[table].0 > 0, "{table} is empty");
        assert_eq!(
            sums_a[table].0 as i64,
            created[key].as_i64().unwrap(),
            "{table}"
        );
    }
    assert!(
        a.count("SELECT CAST(COUNT(*) AS BIGINT) FROM sales_daily WHERE channel <> 'in_store'")
            .await
            > 0
    );
    assert!(
        a.count("SELECT CAST(COUNT(*) AS BIGINT) FROM product WHERE launch_date IS NOT NULL")
            .await
            == 4
    );
    assert!(
        a.count("SELECT CAST(COUNT(*) AS BIGINT) FROM promotion WHERE kind = 'markdown'")
            .await
            > 0
    );

    // A different seed gives different data.
    let c = TestApp::spawn(backend).await;
    generate(&c, &everything(8)).await;
    let sums_c = checksums(&c).await;
    assert_ne!(sums_a["sales_daily"], sums_c["sales_daily"]);
    assert_ne!(sums_a["store"], sums_c["store"]);

    // `overrides: {}` is exactly the absent case.
    let d = TestApp::spawn(backend).await;
    let mut body = everything(7);
    body["overrides"] = json!({});
    let result = generate(&d, &body).await;
    assert!(result["overrides_applied"].is_null());
    assert_eq!(checksums(&d).await, sums_a);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgres_write_identical_data() {
    let sqlite = TestApp::spawn(Backend::Sqlite).await;
    let postgres = TestApp::spawn(Backend::Postgres).await;
    generate(&sqlite, &everything(11)).await;
    generate(&postgres, &everything(11)).await;
    let a = checksums(&sqlite).await;
    let b = checksums(&postgres).await;
    for (table, _, _) in TABLES {
        assert_eq!(
            a[table], b[table],
            "{table} differs between SQLite and PostgreSQL"
        );
    }
    let sparse = json!({"scenario": "sparse", "seed": 5, "stores": 3, "products": 4, "start_date": "2024-05-01", "end_date": "2024-06-30"});
    let sqlite = TestApp::spawn(Backend::Sqlite).await;
    let postgres = TestApp::spawn(Backend::Postgres).await;
    generate(&sqlite, &sparse).await;
    generate(&postgres, &sparse).await;
    assert_eq!(checksums(&sqlite).await, checksums(&postgres).await);
}

async fn quantities(app: &TestApp, sql: &str) -> Vec<(i64, i64, i64)> {
    forecastlab_server::with_db!(&app.db, pool => {
        sqlx::query_as::<_, (i64, i64, i64)>(sql).fetch_all(pool).await
    })
    .unwrap()
}

async fn holiday_rush_lifts_december(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // No window in the request: the preset's pinned Q4 2024 window applies.
    let result = generate(
        &app,
        &json!({"scenario": "holiday_rush", "stores": 2, "products": 5}),
    )
    .await;
    assert_eq!(result["records_created"]["calendar"], 92);
    let per_month = quantities(
        &app,
        "SELECT CAST(c.month AS BIGINT), CAST(SUM(s.quantity) AS BIGINT), CAST(COUNT(DISTINCT s.date) AS BIGINT) \
         FROM sales_daily s JOIN calendar c ON c.date = s.date GROUP BY c.month ORDER BY c.month",
    )
    .await;
    let daily: HashMap<i64, f64> = per_month
        .iter()
        .map(|(m, q, d)| (*m, *q as f64 / *d as f64))
        .collect();
    assert!(
        daily[&12] > 1.5 * daily[&10],
        "December {} vs October {}",
        daily[&12],
        daily[&10]
    );
    assert!(daily[&11] > daily[&10]);
    let black_friday = app
        .count("SELECT CAST(COUNT(*) AS BIGINT) FROM calendar WHERE date = '2024-11-29' AND holiday_name = 'Black Friday'")
        .await;
    assert_eq!(black_friday, 1);
}

async fn stockout_heavy_share(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    generate(&app, &json!({"scenario": "stockout_heavy", "seed": 3, "stores": 2, "products": 5, "start_date": "2024-01-01", "end_date": "2024-04-29"})).await;
    let total = app.rows("inventory_snapshot_daily").await;
    let out = app
        .count("SELECT CAST(COUNT(*) AS BIGINT) FROM inventory_snapshot_daily WHERE is_stockout")
        .await;
    assert_eq!(total, 2 * 5 * 120);
    let share = out as f64 / total as f64;
    assert!((share - 0.25).abs() < 0.05, "stockout share {share}");
    // Stockout days end with nothing on hand; sales on them are capped.
    assert_eq!(
        app.count("SELECT CAST(COUNT(*) AS BIGINT) FROM inventory_snapshot_daily WHERE is_stockout AND on_hand_qty <> 0").await,
        0
    );
    let rows = quantities(
        &app,
        "SELECT CAST(CASE WHEN i.is_stockout THEN 1 ELSE 0 END AS BIGINT), CAST(SUM(s.quantity) AS BIGINT), CAST(COUNT(*) AS BIGINT) \
         FROM sales_daily s JOIN inventory_snapshot_daily i \
         ON i.date = s.date AND i.store_id = s.store_id AND i.product_id = s.product_id \
         GROUP BY CAST(CASE WHEN i.is_stockout THEN 1 ELSE 0 END AS BIGINT) ORDER BY 1",
    )
    .await;
    let mean = |k: i64| {
        rows.iter()
            .find(|r| r.0 == k)
            .map(|r| r.1 as f64 / r.2 as f64)
            .unwrap()
    };
    assert!(
        mean(1) < 0.5 * mean(0),
        "stockout-day mean {} vs normal {}",
        mean(1),
        mean(0)
    );
}

async fn sparse_inactive_share(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    generate(&app, &json!({"scenario": "sparse", "stores": 4, "products": 10, "start_date": "2024-01-01", "end_date": "2024-03-30"})).await;
    let active = app
        .count("SELECT CAST(COUNT(*) AS BIGINT) FROM (SELECT DISTINCT store_id, product_id FROM sales_daily) AS pairs")
        .await;
    let inactive_share = 1.0 - active as f64 / 40.0;
    assert!(
        (inactive_share - 0.5).abs() <= 0.05,
        "inactive share {inactive_share}"
    );
    // Gaps remove days from active series; slow movers add zero days.
    let rows = app.rows("sales_daily").await;
    assert!(rows < active * 90, "{rows} rows for {active} active pairs");
    assert!(
        app.count("SELECT CAST(COUNT(*) AS BIGINT) FROM sales_daily WHERE quantity = 0")
            .await
            > 0
    );
}

async fn per_series_cv(app: &TestApp) -> f64 {
    let rows = quantities(app, "SELECT CAST(store_id AS BIGINT), CAST(product_id AS BIGINT), CAST(quantity AS BIGINT) FROM sales_daily").await;
    let mut series: HashMap<(i64, i64), Vec<f64>> = HashMap::new();
    for (s, p, q) in rows {
        series.entry((s, p)).or_default().push(q as f64);
    }
    let cvs: Vec<f64> = series
        .values()
        .map(|v| {
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64;
            var.sqrt() / mean
        })
        .collect();
    cvs.iter().sum::<f64>() / cvs.len() as f64
}

async fn high_variance_is_noisier(backend: Backend) {
    let window = json!({"stores": 2, "products": 5, "start_date": "2024-01-01", "end_date": "2024-03-30", "seed": 9});
    let standard = TestApp::spawn(backend).await;
    let mut body = window.clone();
    body["scenario"] = json!("retail_standard");
    generate(&standard, &body).await;
    let noisy = TestApp::spawn(backend).await;
    body["scenario"] = json!("high_variance");
    generate(&noisy, &body).await;
    let (cv_standard, cv_noisy) = (per_series_cv(&standard).await, per_series_cv(&noisy).await);
    assert!(
        cv_noisy > cv_standard + 0.1,
        "high_variance CV {cv_noisy} vs retail_standard {cv_standard}"
    );
}

async fn new_launches_and_demo_minimal_dimensions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let result = generate(&app, &json!({"scenario": "new_launches", "stores": 1, "start_date": "2024-01-01", "end_date": "2024-01-30"})).await;
    assert_eq!(result["records_created"]["products"], 100);
    assert_eq!(app.rows("product").await, 100);
    let launched = app
        .count("SELECT CAST(COUNT(*) AS BIGINT) FROM product WHERE launch_date IS NOT NULL")
        .await;
    assert!((15..=45).contains(&launched), "{launched} launches");
    // Nothing sells before its launch date.
    assert_eq!(
        app.count("SELECT CAST(COUNT(*) AS BIGINT) FROM sales_daily s JOIN product p ON p.id = s.product_id WHERE s.date < p.launch_date").await,
        0
    );

    let demo = TestApp::spawn(backend).await;
    let result = generate(&demo, &json!({"scenario": "demo_minimal"})).await;
    let created = &result["records_created"];
    assert_eq!(
        (
            created["stores"].as_i64(),
            created["products"].as_i64(),
            created["calendar"].as_i64()
        ),
        (Some(3), Some(10), Some(92))
    );
    let today = chrono::Utc::now().date_naive();
    let first = (today - chrono::Days::new(91))
        .format("%Y-%m-%d")
        .to_string();
    let window = forecastlab_server::with_db!(&demo.db, pool => {
        sqlx::query_as::<_, (String, String)>("SELECT CAST(MIN(date) AS TEXT), CAST(MAX(date) AS TEXT) FROM calendar").fetch_one(pool).await
    })
    .unwrap();
    assert_eq!(window, (first, today.format("%Y-%m-%d").to_string()));
}

async fn generate_validation_and_override_bounds(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cases = [
        (json!({"stores": 0}), "stores"),
        (json!({"stores": 101}), "stores"),
        (json!({"products": 501}), "products"),
        (json!({"seed": -1}), "seed"),
        (json!({"sparsity": 1.5}), "sparsity"),
        (
            json!({"start_date": "2024-02-01", "end_date": "2024-01-01"}),
            "end_date",
        ),
        (
            json!({"channel_mix": {"teleport": 1.0}}),
            "channel_mix.teleport",
        ),
        (json!({"channel_mix": {"online": 0.0}}), "channel_mix"),
        (json!({"mean_lead_time_days": 400}), "mean_lead_time_days"),
        (
            json!({"changepoints": [{"date": "2024-01-01", "demand_multiplier": -1}]}),
            "changepoints.0.demand_multiplier",
        ),
    ];
    let override_cases = [
        (json!({"stores": 0}), "overrides.stores"),
        (json!({"stores": 101}), "overrides.stores"),
        (json!({"products": 0}), "overrides.products"),
        (json!({"products": 501}), "overrides.products"),
        (json!({"window_days": 74}), "overrides.window_days"),
        (json!({"window_days": 366}), "overrides.window_days"),
        (json!({"sparsity": 0.91}), "overrides.sparsity"),
        (
            json!({"promotion_intensity": 0.51}),
            "overrides.promotion_intensity",
        ),
        (
            json!({"stockout_intensity": -0.01}),
            "overrides.stockout_intensity",
        ),
        (json!({"noise_sigma": 0.6}), "overrides.noise_sigma"),
        (json!({"turbo": 1}), "overrides"),
        (json!({"stores": "5"}), "overrides.stores"),
        (json!({"stores": 2.5}), "overrides.stores"),
    ];
    let cases = cases
        .into_iter()
        .chain(override_cases.map(|(overrides, field)| (json!({ "overrides": overrides }), field)));
    for (body, field) in cases {
        let response = app.post("/seeder/generate", &body).await;
        response.assert_problem(422, "VALIDATION_ERROR");
        let fields = response.error_fields();
        assert!(
            fields
                .iter()
                .any(|f| f == field || f.starts_with(&format!("{field}."))),
            "{body}: {fields:?}"
        );
    }
    let unknown = app
        .post("/seeder/generate", &json!({"overrides": {"turbo": 1}}))
        .await;
    assert_eq!(unknown.body["errors"][0]["type"], "extra_forbidden");
    // Bad input changed nothing.
    assert!(table_counts(&app).await.iter().all(|n| *n == 0));

    // Both edges of every override are accepted (dry run: nothing written).
    for overrides in [
        json!({"stores": 1, "products": 1, "window_days": 75, "sparsity": 0.0, "promotion_intensity": 0.0, "stockout_intensity": 0.0, "noise_sigma": 0.0}),
        json!({"stores": 100, "products": 500, "window_days": 365, "sparsity": 0.9, "promotion_intensity": 0.5, "stockout_intensity": 0.5, "noise_sigma": 0.5}),
    ] {
        let response = app
            .post("/seeder/generate", &json!({"dry_run": true, "end_date": "2024-12-31", "stores": 7, "overrides": overrides}))
            .await;
        response.assert_status(201);
        let created = &response.body["records_created"];
        assert_eq!(created["stores"], overrides["stores"]);
        assert_eq!(created["products"], overrides["products"]);
        assert_eq!(
            created["calendar"].as_i64().unwrap(),
            overrides["window_days"].as_i64().unwrap() + 1
        );
        assert_eq!(created["sales"], 0);
        assert_eq!(response.body["overrides_applied"], overrides);
        assert!(response.body["message"]
            .as_str()
            .unwrap()
            .starts_with("Dry run"));
    }
    assert!(table_counts(&app).await.iter().all(|n| *n == 0));

    // Precedence on real data: overrides beat the scalar fields.
    let result = generate(
        &app,
        &json!({"stores": 3, "products": 4, "end_date": "2024-12-31", "sparsity": 0.1,
                "overrides": {"stores": 1, "products": 2, "window_days": 80, "stockout_intensity": 0}}),
    )
    .await;
    assert_eq!(result["records_created"]["stores"], 1);
    assert_eq!(app.rows("store").await, 1);
    assert_eq!(app.rows("product").await, 2);
    assert_eq!(app.rows("calendar").await, 81);
    assert_eq!(
        app.count(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM inventory_snapshot_daily WHERE is_stockout"
        )
        .await,
        0
    );
    assert_eq!(result["overrides_applied"]["stores"], 1);
}
both_backends!(
    status_scenarios_channels,
    generate_is_deterministic,
    holiday_rush_lifts_december,
    stockout_heavy_share,
    sparse_inactive_share,
    high_variance_is_noisier,
    new_launches_and_demo_minimal_dimensions,
    generate_validation_and_override_bounds,
);
