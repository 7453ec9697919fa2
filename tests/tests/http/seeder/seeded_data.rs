//! What is done to seeded data: DELETE /seeder/data scopes and dry runs,
//! verify, append, exogenous reads, phase-2 enrichment and the production
//! guard.

use forecastlab_tests::{both_backends, Backend, TestApp};
use reqwest::Method;
use serde_json::json;

use super::{delete_data, generate, table_counts};

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
    delete_scopes_and_dry_run,
    verify_reports_checks,
    append_extends_the_window,
    exogenous_reads,
    exogenous_read_is_capped,
    phase2_enrichment_is_idempotent,
    production_guard,
);
