//! `forecastlab migrate-data`: an install seeded and used on SQLite is
//! copied onto PostgreSQL (ids, sequences, row counts, checksums) and the
//! API answers the same there; a non-empty target is refused unless
//! forced; a run that fails half-way leaves the target untouched and can
//! be run again.

use forecastlab_server::migrate_data;
use forecastlab_tests::{jobs, Backend, TestApp};
use serde_json::{json, Value};

/// Timestamps to 5 fractional digits (SQLite keeps nanoseconds,
/// PostgreSQL microseconds) so both databases' answers compare.
fn normalized(value: &Value) -> Value {
    match value {
        Value::String(text) => {
            let timestamp = text.len() > 20
                && text.as_bytes().get(10) == Some(&b'T')
                && chrono::DateTime::parse_from_rfc3339(text).is_ok();
            if timestamp {
                // PostgreSQL keeps whole microseconds (the migration rounds
                // SQLite's nanoseconds to them): compare at that precision.
                let at = chrono::DateTime::parse_from_rfc3339(text).unwrap();
                let below_micros = i64::from(at.timestamp_subsec_nanos() % 1_000);
                let rounded = at - chrono::Duration::nanoseconds(below_micros)
                    + chrono::Duration::microseconds(i64::from(below_micros >= 500));
                json!(rounded.format("%Y-%m-%dT%H:%M:%S%.6f").to_string())
            } else {
                value.clone()
            }
        }
        Value::Array(items) => Value::Array(items.iter().map(normalized).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(key, _)| key.as_str() != "duration_ms" && key.as_str() != "request_id")
                .map(|(key, value)| (key.clone(), normalized(value)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Where two JSON documents first differ (object key order aside).
fn difference(a: &Value, b: &Value, at: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for key in x.keys().chain(y.keys()) {
                let (left, right) = (x.get(key), y.get(key));
                match (left, right) {
                    (Some(l), Some(r)) => {
                        if let Some(found) = difference(l, r, &format!("{at}.{key}")) {
                            return Some(found);
                        }
                    }
                    _ => return Some(format!("{at}.{key}: {left:?} vs {right:?}")),
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (l, r))| difference(l, r, &format!("{at}[{i}]"))),
        _ => (a != b).then(|| format!("{at}: {a} vs {b}")),
    }
}

/// The answers compared across databases.
async fn answers(app: &TestApp, run_id: &str, job_id: &str) -> Vec<(String, Value)> {
    let mut paths = vec![
        "/dimensions/stores?page_size=100".to_owned(),
        "/dimensions/products?page_size=100".to_owned(),
        "/analytics/kpis?start_date=2024-01-01&end_date=2024-03-31".to_owned(),
        "/registry/runs?page_size=100".to_owned(),
        format!("/registry/runs/{run_id}"),
        format!("/registry/runs/{run_id}/verify"),
        "/registry/aliases/prod".to_owned(),
        "/jobs?page_size=100".to_owned(),
        format!("/jobs/{job_id}"),
    ];
    let mut out = Vec::new();
    for path in paths.drain(..) {
        let response = app.get(&path).await;
        let body = response.assert_ok().clone();
        out.push((path, normalized(&body)));
    }
    out
}

async fn seeded_sqlite_app() -> (TestApp, String, String) {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.post(
        "/seeder/generate",
        &json!({"scenario": "retail_standard", "seed": 7, "stores": 2, "products": 3,
                "start_date": "2024-01-01", "end_date": "2024-03-31"}),
    )
    .await
    .assert_ok();
    let trained = jobs::run(
        &app,
        "train",
        json!({"model_type": "seasonal_naive", "season_length": 7, "store_id": 1,
               "product_id": 1, "start_date": "2024-01-01", "end_date": "2024-03-31"}),
    )
    .await;
    let run_id = trained["run_id"].as_str().unwrap().to_owned();
    app.post(
        "/registry/aliases",
        &json!({"alias_name": "prod", "run_id": run_id}),
    )
    .await
    .assert_ok();
    let batch = jobs::submit(
        &app,
        "batch",
        json!({"model_type": "naive", "start_date": "2024-01-01", "end_date": "2024-03-31"}),
    )
    .await;
    let job_id = batch["job_id"].as_str().unwrap().to_owned();
    let batch = jobs::wait_for(&app, &job_id, jobs::finished).await;
    assert_eq!(batch["status"], "completed", "{batch}");
    (app, run_id, job_id)
}

/// The PostgreSQL app that reads the SQLite app's artifacts.
async fn postgres_app(source: &TestApp) -> TestApp {
    let artifacts = source.dir.path().join("artifacts");
    let models = artifacts.join("models").display().to_string();
    let registry = artifacts.join("registry").display().to_string();
    TestApp::spawn_with(
        Backend::Postgres,
        &[
            ("FORECAST_MODEL_ARTIFACTS_DIR", &models),
            ("REGISTRY_ARTIFACT_ROOT", &registry),
            ("JOBS_WORKERS", "0"),
        ],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_install_moves_to_postgres_with_the_same_answers() {
    let (source, run_id, job_id) = seeded_sqlite_app().await;
    let target = postgres_app(&source).await;

    let reports = migrate_data::run(&source.database_url, &target.database_url, false)
        .await
        .expect("migrate-data");
    let report = |table: &str| reports.iter().find(|r| r.table == table).unwrap().clone();
    for table in [
        "store",
        "product",
        "calendar",
        "sales_daily",
        "model_run",
        "job",
    ] {
        let rows = report(table).rows;
        assert!(rows > 0, "{table} was copied");
        assert_eq!(
            i64::try_from(rows).unwrap(),
            target.rows(table).await,
            "{table}"
        );
        assert_eq!(
            target.rows(table).await,
            source.rows(table).await,
            "{table}"
        );
    }
    // Parents before children.
    let position = |table: &str| reports.iter().position(|r| r.table == table).unwrap();
    assert!(position("store") < position("sales_daily"));
    assert!(position("model_run") < position("deployment_alias"));

    let before = answers(&source, &run_id, &job_id).await;
    let after = answers(&target, &run_id, &job_id).await;
    for ((path, sqlite), (_, postgres)) in before.iter().zip(&after) {
        let found = difference(sqlite, postgres, path);
        assert!(found.is_none(), "differs after the migration: {found:?}");
    }
    assert_eq!(after[5].1["verified"], true);

    // Sequences continue after the copied ids.
    let max_store = target
        .count("SELECT CAST(MAX(id) AS BIGINT) FROM store")
        .await;
    target
        .exec("INSERT INTO store (code, name) VALUES ('NEW', 'New store')")
        .await;
    assert_eq!(
        target
            .count("SELECT CAST(id AS BIGINT) FROM store WHERE code = 'NEW'")
            .await,
        max_store + 1
    );

    // The target now holds data the source does not: refused unless forced.
    let error = migrate_data::run(&source.database_url, &target.database_url, false)
        .await
        .unwrap_err();
    let message = format!("{error:#}");
    assert!(
        message.contains("not empty") && message.contains("--force"),
        "{message}"
    );
    let forced = migrate_data::run(&source.database_url, &target.database_url, true)
        .await
        .expect("forced");
    assert_eq!(forced, reports, "the same rows and checksums");
    assert_eq!(
        target
            .count("SELECT COUNT(*) FROM store WHERE code = 'NEW'")
            .await,
        0
    );
    // A target that already equals the source may be migrated again.
    migrate_data::run(&source.database_url, &target.database_url, false)
        .await
        .expect("re-run onto an identical target");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_run_leaves_the_target_untouched_and_can_be_rerun() {
    let (source, _, _) = seeded_sqlite_app().await;
    let target = postgres_app(&source).await;
    // SQLite does not enforce VARCHAR lengths; PostgreSQL refuses this row
    // after the dimension and fact tables were already copied.
    let long = "x".repeat(80);
    source
        .exec(&format!(
            "UPDATE model_run SET model_type = '{long}' WHERE id = (SELECT MIN(id) FROM model_run)"
        ))
        .await;
    let error = migrate_data::run(&source.database_url, &target.database_url, false)
        .await
        .unwrap_err();
    assert!(format!("{error:#}").contains("model_run"), "{error:#}");
    for table in ["store", "sales_daily", "model_run", "job"] {
        assert_eq!(target.rows(table).await, 0, "{table} must stay empty");
    }

    source
        .exec(&format!(
            "UPDATE model_run SET model_type = 'seasonal_naive' WHERE model_type = '{long}'"
        ))
        .await;
    let reports = migrate_data::run(&source.database_url, &target.database_url, false)
        .await
        .expect("the re-run completes");
    assert_eq!(
        i64::try_from(reports.iter().find(|r| r.table == "store").unwrap().rows).unwrap(),
        target.rows("store").await
    );

    // Bad arguments are refused before anything is written.
    let missing = format!("sqlite://{}", source.dir.path().join("nope.db").display());
    let error = migrate_data::run(&missing, &target.database_url, false)
        .await
        .unwrap_err();
    assert!(format!("{error:#}").contains("does not exist"), "{error:#}");
    let error = migrate_data::run(&target.database_url, &target.database_url, false)
        .await
        .unwrap_err();
    assert!(format!("{error:#}").contains("sqlite://"), "{error:#}");
}
