//! /seeder/*: generation (determinism on and across both databases, preset
//! properties measured on the output, overrides), append, delete scopes,
//! verify, exogenous reads, phase-2 enrichment and the production guard.

use std::collections::{BTreeMap, HashMap};

use forecastlab_tests::{both_backends, Backend, TestApp, TestResponse};
use reqwest::Method;
use serde_json::{json, Value};

/// Every seeded table with a row expression whose text is identical on both
/// databases (money in cents, floats in millionths, booleans as 0/1).
const TABLES: [(&str, &str, &str); 10] = [
    ("store", "id", "CAST(id AS TEXT) || '|' || code || '|' || name || '|' || COALESCE(region, '~') || '|' || COALESCE(city, '~') || '|' || COALESCE(store_type, '~')"),
    ("product", "id", "CAST(id AS TEXT) || '|' || sku || '|' || name || '|' || COALESCE(category, '~') || '|' || COALESCE(brand, '~') || '|' || COALESCE(CAST(CAST(ROUND(base_price * 100) AS BIGINT) AS TEXT), '~') || '|' || COALESCE(CAST(CAST(ROUND(base_cost * 100) AS BIGINT) AS TEXT), '~') || '|' || COALESCE(lifecycle_stage, '~') || '|' || COALESCE(CAST(launch_date AS TEXT), '~') || '|' || COALESCE(CAST(discontinue_date AS TEXT), '~')"),
    ("calendar", "date", "CAST(date AS TEXT) || '|' || CAST(day_of_week AS TEXT) || '|' || CAST(month AS TEXT) || '|' || CAST(quarter AS TEXT) || '|' || CAST(year AS TEXT) || '|' || CASE WHEN is_holiday THEN '1' ELSE '0' END || '|' || COALESCE(holiday_name, '~')"),
    ("sales_daily", "id", "CAST(id AS TEXT) || '|' || CAST(date AS TEXT) || '|' || CAST(store_id AS TEXT) || '|' || CAST(product_id AS TEXT) || '|' || CAST(quantity AS TEXT) || '|' || CAST(CAST(ROUND(unit_price * 100) AS BIGINT) AS TEXT) || '|' || CAST(CAST(ROUND(total_amount * 100) AS BIGINT) AS TEXT) || '|' || channel"),
    ("price_history", "id", "CAST(id AS TEXT) || '|' || CAST(product_id AS TEXT) || '|' || COALESCE(CAST(store_id AS TEXT), '~') || '|' || CAST(CAST(ROUND(price * 100) AS BIGINT) AS TEXT) || '|' || CAST(valid_from AS TEXT) || '|' || COALESCE(CAST(valid_to AS TEXT), '~')"),
    ("promotion", "id", "CAST(id AS TEXT) || '|' || CAST(product_id AS TEXT) || '|' || COALESCE(CAST(store_id AS TEXT), '~') || '|' || name || '|' || COALESCE(CAST(CAST(ROUND(discount_pct * 10000) AS BIGINT) AS TEXT), '~') || '|' || COALESCE(CAST(CAST(ROUND(discount_amount * 100) AS BIGINT) AS TEXT), '~') || '|' || CAST(start_date AS TEXT) || '|' || CAST(end_date AS TEXT) || '|' || kind || '|' || COALESCE(CAST(bundle_member_product_ids AS TEXT), '~')"),
    ("inventory_snapshot_daily", "id", "CAST(id AS TEXT) || '|' || CAST(date AS TEXT) || '|' || CAST(store_id AS TEXT) || '|' || CAST(product_id AS TEXT) || '|' || CAST(on_hand_qty AS TEXT) || '|' || CAST(on_order_qty AS TEXT) || '|' || CASE WHEN is_stockout THEN '1' ELSE '0' END"),
    ("exogenous_signal", "id", "CAST(id AS TEXT) || '|' || CAST(date AS TEXT) || '|' || signal_name || '|' || COALESCE(CAST(store_id AS TEXT), '~') || '|' || CASE WHEN is_global THEN '1' ELSE '0' END || '|' || CAST(CAST(ROUND(value * 1000000) AS BIGINT) AS TEXT)"),
    ("sales_returns", "id", "CAST(id AS TEXT) || '|' || CAST(date AS TEXT) || '|' || CAST(store_id AS TEXT) || '|' || CAST(product_id AS TEXT) || '|' || CAST(return_quantity AS TEXT) || '|' || return_reason"),
    ("replenishment_event", "id", "CAST(id AS TEXT) || '|' || CAST(date AS TEXT) || '|' || CAST(store_id AS TEXT) || '|' || CAST(product_id AS TEXT) || '|' || CAST(lead_time_days AS TEXT) || '|' || CAST(ordered_qty AS TEXT) || '|' || CAST(received_qty AS TEXT)"),
];

/// FNV-1a over the rows' texts, with the row count: one value per table.
async fn checksums(app: &TestApp) -> BTreeMap<&'static str, (usize, u64)> {
    let mut out = BTreeMap::new();
    for (table, order, expr) in TABLES {
        let sql = format!("SELECT {expr} FROM {table} ORDER BY {order}");
        let rows: Vec<String> = forecastlab_server::with_db!(&app.db, pool => {
            sqlx::query_scalar(&sql).fetch_all(pool).await
        })
        .unwrap_or_else(|e| panic!("checksum of {table}: {e}"));
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for row in &rows {
            for byte in row.bytes().chain(std::iter::once(b'\n')) {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        out.insert(table, (rows.len(), hash));
    }
    out
}

/// A small request that turns on every generator.
fn everything(seed: u64) -> Value {
    json!({
        "scenario": "retail_standard", "seed": seed, "stores": 2, "products": 4,
        "start_date": "2024-01-01", "end_date": "2024-03-31",
        "enable_exogenous": true, "weather_temperature_sensitivity": 0.02,
        "enable_returns": true, "enable_substitution": true, "substitute_groups": [[1, 2]],
        "enable_multichannel": true, "online_promo_uplift": 1.5,
        "enable_lifecycle": true, "lifecycle_discontinue_probability": 0.5,
        "enable_bundles": true, "bundle_probability": 0.5,
        "enable_markdowns": true, "markdown_trigger": "stockout_risk",
        "enable_lead_time": true, "mean_lead_time_days": 5,
        "changepoints": [{"date": "2024-02-01", "demand_multiplier": 1.5, "decay_days": 10}],
        "yearly_seasonality_amplitude": 0.2
    })
}

async fn generate(app: &TestApp, body: &Value) -> Value {
    let response = app.post("/seeder/generate", body).await;
    response.assert_status(201).clone()
}

/// `DELETE /seeder/data` with a body.
async fn delete_data(app: &TestApp, body: &Value) -> TestResponse {
    app.request(Method::DELETE, "/seeder/data", Some(body))
        .await
}

async fn table_counts(app: &TestApp) -> Vec<i64> {
    let mut out = Vec::new();
    for (table, _, _) in TABLES {
        out.push(app.rows(table).await);
    }
    out
}

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

async fn delete_scopes_and_dry_run(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    generate(&app, &json!({"stores": 2, "products": 3, "start_date": "2024-01-01", "end_date": "2024-01-20", "enable_returns": true})).await;
    let before = table_counts(&app).await;
    let sales = app.rows("sales_daily").await;

    let dry = delete_data(&app, &json!({"scope": "facts", "dry_run": true})).await;
    let body = dry.assert_ok();
    assert_eq!(body["dry_run"], true);
    assert_eq!(body["records_deleted"]["sales_daily"], sales);
    assert!(body["records_deleted"].get("store").is_none());
    assert!(body["message"].as_str().unwrap().contains("would delete"));
    assert_eq!(table_counts(&app).await, before);

    let bad = delete_data(&app, &json!({"scope": "everything"})).await;
    bad.assert_problem(422, "VALIDATION_ERROR");
    assert_eq!(table_counts(&app).await, before);

    let facts = delete_data(&app, &json!({"scope": "facts"})).await;
    let body = facts.assert_ok();
    assert_eq!(
        body["records_deleted"]["inventory_snapshot_daily"],
        2 * 3 * 20
    );
    assert!(body["message"].as_str().unwrap().starts_with("Deleted"));
    assert_eq!(app.rows("sales_daily").await, 0);
    assert_eq!(app.rows("store").await, 2);

    let dims = delete_data(&app, &json!({"scope": "dimensions"})).await;
    let body = dims.assert_ok();
    assert_eq!(body["records_deleted"]["store"], 2);
    assert_eq!(body["records_deleted"]["calendar"], 20);
    assert_eq!(body["records_deleted"]["sales_daily"], 0);
    assert!(table_counts(&app).await.iter().all(|n| *n == 0));

    // No body means scope all; ids continue after a reset.
    generate(
        &app,
        &json!({"stores": 1, "products": 1, "start_date": "2024-01-01", "end_date": "2024-01-05"}),
    )
    .await;
    assert_eq!(
        app.count("SELECT CAST(MIN(id) AS BIGINT) FROM store").await,
        3
    );
    let all = app.delete("/seeder/data").await;
    assert_eq!(all.assert_ok()["records_deleted"]["product"], 1);
    assert!(table_counts(&app).await.iter().all(|n| *n == 0));
}

async fn verify_reports_checks(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let empty = app.post("/seeder/verify", &json!({})).await;
    let body = empty.assert_ok();
    assert_eq!(body["passed"], true);
    assert_eq!(body["total_checks"], 5);
    assert_eq!(body["failed_count"], 0);
    assert!(body["warning_count"].as_u64().unwrap() >= 2);
    let names: Vec<&str> = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Foreign Key Integrity",
            "Non-Negative Constraints",
            "Calendar Date Coverage",
            "Data Presence",
            "Dimension Completeness"
        ]
    );

    generate(
        &app,
        &json!({"stores": 1, "products": 2, "start_date": "2024-01-01", "end_date": "2024-01-31"}),
    )
    .await;
    let full = app.post("/seeder/verify", &json!({})).await;
    let body = full.assert_ok();
    assert_eq!(body["passed"], true);
    assert_eq!(body["passed_count"], 5);
    assert_eq!(body["checks"][4]["details"][0], "stores: 1");

    // A hole in the calendar is a warning, not a failure.
    app.exec("DELETE FROM inventory_snapshot_daily WHERE date = '2024-01-15'; DELETE FROM sales_daily WHERE date = '2024-01-15'; DELETE FROM calendar WHERE date = '2024-01-15'").await;
    let gap = app.post("/seeder/verify", &json!({})).await;
    let body = gap.assert_ok();
    assert_eq!(body["passed"], true);
    assert_eq!(body["checks"][2]["status"], "warning");
}

async fn append_extends_the_window(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let empty = app
        .post(
            "/seeder/append",
            &json!({"start_date": "2024-02-01", "end_date": "2024-02-10"}),
        )
        .await;
    empty.assert_problem_mentions(400, "BAD_REQUEST", "generate");
    let inverted = app
        .post(
            "/seeder/append",
            &json!({"start_date": "2024-02-10", "end_date": "2024-02-01"}),
        )
        .await;
    inverted.assert_problem(422, "VALIDATION_ERROR");
    let missing = app
        .post("/seeder/append", &json!({"start_date": "2024-02-10"}))
        .await;
    missing.assert_invalid_fields(&["end_date"]);
    assert!(table_counts(&app).await.iter().all(|n| *n == 0));

    generate(
        &app,
        &json!({"stores": 2, "products": 2, "start_date": "2024-01-01", "end_date": "2024-01-31"}),
    )
    .await;
    let sales_before = app.rows("sales_daily").await;
    let appended = app
        .post(
            "/seeder/append",
            &json!({"start_date": "2024-01-25", "end_date": "2024-02-10", "seed": 5}),
        )
        .await;
    appended.assert_status(201);
    // Only what was written counts: 2024-01-25..31 existed already.
    let created = &appended.body["records_created"];
    assert_eq!(created["stores"], 0);
    assert_eq!(created["calendar"], 10);
    assert_eq!(created["inventory"], 2 * 2 * 10);
    assert!(appended.body["message"]
        .as_str()
        .unwrap()
        .contains("2024-01-25"));
    // Overlapping days keep their original rows; new days are added.
    assert_eq!(app.rows("calendar").await, 41);
    assert_eq!(app.rows("inventory_snapshot_daily").await, 2 * 2 * 41);
    assert_eq!(
        app.rows("sales_daily").await,
        sales_before + created["sales"].as_i64().unwrap()
    );
    assert_eq!(
        app.count("SELECT CAST(COUNT(*) AS BIGINT) FROM (SELECT date, store_id, product_id FROM sales_daily GROUP BY date, store_id, product_id HAVING COUNT(*) > 1) AS d").await,
        0
    );
}

async fn exogenous_reads(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (query, status, code) in [
        (
            "signal_name=macro_index&start_date=2024-02-01&end_date=2024-01-01",
            400,
            "BAD_REQUEST",
        ),
        (
            "signal_name=macro_index&start_date=2020-01-01&end_date=2024-01-01",
            400,
            "BAD_REQUEST",
        ),
        (
            "start_date=2024-01-01&end_date=2024-01-31",
            422,
            "VALIDATION_ERROR",
        ),
        (
            "signal_name=macro_index&start_date=2024-13-01&end_date=2024-01-31",
            422,
            "VALIDATION_ERROR",
        ),
    ] {
        let response = app.get(&format!("/seeder/exogenous?{query}")).await;
        response.assert_problem(status, code);
    }
    generate(&app, &json!({"stores": 2, "products": 1, "start_date": "2024-01-01", "end_date": "2024-01-10", "enable_exogenous": true})).await;
    let weather = app.get("/seeder/exogenous?signal_name=weather_temp_c&start_date=2024-01-01&end_date=2024-01-05").await;
    let body = weather.assert_ok();
    assert_eq!(body["total"], 10);
    let one = app.get("/seeder/exogenous?signal_name=weather_temp_c&start_date=2024-01-01&end_date=2024-01-05&store_id=1").await;
    let body = one.assert_ok();
    assert_eq!(body["total"], 5);
    assert!(body["records"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["store_id"] == 1 && r["is_global"] == false));
    let global = app.get("/seeder/exogenous?signal_name=macro_index&start_date=2024-01-01&end_date=2024-01-10&store_id=2").await;
    let body = global.assert_ok();
    assert_eq!(body["total"], 10);
    let records = body["records"].as_array().unwrap();
    assert!(records
        .iter()
        .all(|r| r["store_id"].is_null() && r["is_global"] == true && r["value"].is_f64()));
    assert_eq!(records[0]["date"], "2024-01-01");
    assert_eq!(records[9]["date"], "2024-01-10");
}

async fn exogenous_read_is_capped(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let calendar = match backend {
        Backend::Postgres | Backend::PgVector => {
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 500) \
             INSERT INTO calendar (date, day_of_week, month, quarter, year, is_holiday) \
             SELECT DATE '2020-01-01' + i, 0, 1, 1, 2020, false FROM n"
        }
        Backend::Sqlite => {
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 500) \
             INSERT INTO calendar (date, day_of_week, month, quarter, year, is_holiday) \
             SELECT date('2020-01-01', '+' || i || ' days'), 0, 1, 1, 2020, false FROM n"
        }
    };
    app.exec(calendar).await;
    app.exec(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) \
         INSERT INTO store (code, name) SELECT 'X' || CAST(i AS TEXT), 'x' FROM n",
    )
    .await;
    app.exec(
        "INSERT INTO exogenous_signal (date, signal_name, store_id, is_global, value) \
         SELECT c.date, 'weather_temp_c', s.id, false, 1.5 FROM calendar c CROSS JOIN store s",
    )
    .await;
    assert_eq!(app.rows("exogenous_signal").await, 50_100);
    let all = app.get("/seeder/exogenous?signal_name=weather_temp_c&start_date=2020-01-01&end_date=2021-12-31").await;
    all.assert_problem_mentions(400, "BAD_REQUEST", "50000");
    let one = app.get("/seeder/exogenous?signal_name=weather_temp_c&start_date=2020-01-01&end_date=2021-12-31&store_id=1").await;
    assert_eq!(one.assert_ok()["total"], 501);
}

async fn phase2_enrichment_is_idempotent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let empty = app.post("/seeder/phase2-enrichment", &json!({})).await;
    let body = empty.assert_problem_mentions(422, "UNPROCESSABLE_ENTITY", "/seeder/generate");
    assert_eq!(body["type"], "/errors/unprocessable-entity");
    for bad in [
        json!({"seed": "42"}),
        json!({"returns_probability": 1.5}),
        json!({"seed": -1}),
        json!({"discontinue_probability": "0.1"}),
    ] {
        app.post("/seeder/phase2-enrichment", &bad)
            .await
            .assert_problem(422, "VALIDATION_ERROR");
    }

    generate(
        &app,
        &json!({"stores": 2, "products": 3, "start_date": "2024-01-01", "end_date": "2024-02-29"}),
    )
    .await;
    let first = app
        .post(
            "/seeder/phase2-enrichment",
            &json!({"seed": 4, "returns_probability": 0.2, "discontinue_probability": 0.5}),
        )
        .await;
    first.assert_status(201);
    let created = first.body["records_created"].clone();
    assert_eq!(first.body["success"], true);
    assert_eq!(created["product"], 3);
    assert!(created["replenishment_event"].as_u64().unwrap() > 0);
    assert_eq!(created["exogenous_signal"], 2 * 60 + 60);
    assert!(created["sales_returns"].as_u64().unwrap() > 0);
    assert_eq!(app.count("SELECT CAST(COUNT(*) AS BIGINT) FROM product WHERE launch_date IS NOT NULL AND lifecycle_stage IS NOT NULL").await, 3);
    assert_eq!(
        app.rows("sales_returns").await as u64,
        created["sales_returns"].as_u64().unwrap()
    );
    let counts = table_counts(&app).await;

    let second = app
        .post(
            "/seeder/phase2-enrichment",
            &json!({"seed": 4, "returns_probability": 0.2, "discontinue_probability": 0.5}),
        )
        .await;
    second.assert_status(201);
    assert_eq!(second.body["success"], true);
    for table in ["replenishment_event", "exogenous_signal", "sales_returns"] {
        assert_eq!(second.body["records_created"][table], 0, "{table}");
        assert_eq!(
            second.body["records_skipped"][table], created[table],
            "{table}"
        );
    }
    assert_eq!(table_counts(&app).await, counts);
}

async fn production_guard(backend: Backend) {
    // Authentication (on by default in production) is tested in auth.rs.
    let app = TestApp::spawn_with(
        backend,
        &[("APP_ENV", "production"), ("AUTH_ENABLED", "false")],
    )
    .await;
    for (method, path, body) in [
        (Method::POST, "/seeder/generate", json!({"dry_run": true})),
        (
            Method::POST,
            "/seeder/append",
            json!({"start_date": "2024-01-01", "end_date": "2024-01-02"}),
        ),
        (Method::DELETE, "/seeder/data", json!({"scope": "facts"})),
        (Method::POST, "/seeder/phase2-enrichment", json!({})),
    ] {
        app.request(method, path, Some(&body))
            .await
            .assert_problem_mentions(403, "FORBIDDEN", "SEEDER_ALLOW_PRODUCTION");
    }
    // Reads stay open.
    app.get("/seeder/status").await.assert_ok();
    app.post("/seeder/verify", &json!({})).await.assert_ok();

    let allowed = TestApp::spawn_with(
        backend,
        &[
            ("APP_ENV", "production"),
            ("AUTH_ENABLED", "false"),
            ("SEEDER_ALLOW_PRODUCTION", "true"),
        ],
    )
    .await;
    let response = allowed
        .post("/seeder/generate", &json!({"dry_run": true}))
        .await;
    response.assert_status(201);
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
    delete_scopes_and_dry_run,
    verify_reports_checks,
    append_extends_the_window,
    exogenous_reads,
    exogenous_read_is_capped,
    phase2_enrichment_is_idempotent,
    production_guard,
);
