//! Job workers in separate processes (`forecastlab worker`) sharing one
//! PostgreSQL database: 200 queued jobs are drained by two worker processes
//! with every job executed exactly once, and a job whose worker is killed
//! with SIGKILL mid-run is recovered by the surviving worker after the
//! stale timeout.
//!
//! Needs the local PostgreSQL service (`TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`), like the black-box suite.

use std::{
    collections::HashSet,
    path::Path,
    time::{Duration, Instant},
};

use forecastlab_server::{
    config::Settings,
    db::{execute_script, Db},
    features::jobs::{
        schemas::{JobCreate, JobType},
        service,
    },
    state::AppState,
    with_db,
};
use serde_json::{json, Value};

#[path = "support/synthetic_sales.rs"]
mod synthetic_sales;

#[path = "support/postgres.rs"]
mod postgres;
#[path = "support/worker.rs"]
mod worker;

use postgres::TempDatabase;
use worker::WorkerProcess;

fn settings(url: &str, dir: &Path) -> Settings {
    let vars = [
        ("DATABASE_URL", url.to_owned()),
        ("APP_ENV", "testing".to_owned()),
        ("JOBS_WORKERS", "0".to_owned()),
        (
            "FORECAST_MODEL_ARTIFACTS_DIR",
            dir.join("models").display().to_string(),
        ),
        (
            "REGISTRY_ARTIFACT_ROOT",
            dir.join("registry").display().to_string(),
        ),
    ];
    Settings::from_lookup(|name| {
        vars.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.clone())
    })
    .expect("settings")
}

/// Seeds `stores × products` daily series of `days` days.
async fn seed(db: &Db, stores: i64, products: i64, days: i64) {
    let sql = synthetic_sales::script(stores, products, days, |s, p, d| 5 + (d + s + p) % 9);
    execute_script(db, &sql).await.expect("seed");
}

async fn scalar(db: &Db, sql: &str) -> i64 {
    with_db!(db, pool => sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await).expect(sql)
}

async fn submit(state: &AppState, job_type: JobType, params: Value) -> String {
    let Value::Object(params) = params else {
        panic!("params must be an object")
    };
    service::submit(state, JobCreate { job_type, params })
        .await
        .expect("submit")
        .job_id
}

async fn wait_until(what: &str, timeout: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_worker_processes_drain_200_jobs_exactly_once() {
    let database = TempDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let state = forecastlab_server::cli::prepare(settings(&database.url, dir.path()))
        .await
        .unwrap();
    seed(&state.db, 4, 5, 40).await;
    let mut job_ids = Vec::new();
    for i in 0..200i64 {
        let params = json!({
            "model_type": "naive",
            "store_id": 1 + i % 4,
            "product_id": 1 + (i / 4) % 5,
            "start_date": "2024-01-01",
            "end_date": "2024-02-09",
        });
        job_ids.push(submit(&state, JobType::Train, params).await);
    }
    let a = WorkerProcess::spawn(&database.url, dir.path(), 2, &[], None);
    let b = WorkerProcess::spawn(&database.url, dir.path(), 2, &[], None);
    wait_until("200 finished jobs", Duration::from_secs(180), async || {
        scalar(
            &state.db,
            "SELECT COUNT(*) FROM job WHERE status IN ('completed', 'failed', 'cancelled')",
        )
        .await
            == 200
    })
    .await;

    assert_eq!(
        scalar(
            &state.db,
            "SELECT COUNT(*) FROM job WHERE status = 'completed'"
        )
        .await,
        200
    );
    // Claimed exactly once each.
    assert_eq!(
        scalar(&state.db, "SELECT COUNT(*) FROM job WHERE attempts <> 1").await,
        0
    );
    // Executed exactly once each: every execution registers one model run
    // tagged with its job id, and each job's result names its own run.
    assert_eq!(
        scalar(&state.db, "SELECT COUNT(*) FROM model_run").await,
        200
    );
    assert_eq!(
        scalar(
            &state.db,
            "SELECT COUNT(DISTINCT runtime_info->>'job_id') FROM model_run WHERE status = 'success'"
        )
        .await,
        200
    );
    assert_eq!(
        scalar(
            &state.db,
            "SELECT COUNT(*) FROM job j JOIN model_run r ON r.run_id = j.run_id \
             WHERE j.result->>'run_id' = r.run_id AND r.runtime_info->>'job_id' = j.job_id"
        )
        .await,
        200
    );
    // Both processes took part.
    let workers: Vec<String> = match &state.db {
        Db::Postgres(pool) => sqlx::query_scalar("SELECT DISTINCT worker_id FROM job")
            .fetch_all(pool)
            .await
            .unwrap(),
        Db::Sqlite(_) => unreachable!(),
    };
    let pids: HashSet<&str> = workers.iter().filter_map(|w| w.split('-').next()).collect();
    assert!(pids.contains(a.pid().as_str()), "{workers:?}");
    assert!(pids.contains(b.pid().as_str()), "{workers:?}");
    assert_eq!(job_ids.iter().collect::<HashSet<_>>().len(), 200);
    drop((a, b));
    state.db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_worker_job_is_recovered_by_the_other_worker() {
    let database = TempDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let state = forecastlab_server::cli::prepare(settings(&database.url, dir.path()))
        .await
        .unwrap();
    // 1,000 series: the batch job does real work for long enough to be
    // killed mid-run.
    seed(&state.db, 20, 50, 30).await;
    // One unsplit batch (sharding is off), so the whole job is recovered.
    let timing = [
        ("JOBS_HEARTBEAT_SECONDS", "1"),
        ("JOBS_STALE_AFTER_SECONDS", "3"),
        ("JOBS_MAX_ATTEMPTS", "3"),
        ("JOBS_BATCH_SHARD_SIZE", "0"),
    ]
    .map(|(key, value)| (key.to_owned(), value.to_owned()));
    let mut first = WorkerProcess::spawn(&database.url, dir.path(), 1, &timing, None);
    let job_id = submit(
        &state,
        JobType::Batch,
        json!({"model_type": "naive", "start_date": "2024-01-01", "end_date": "2024-01-30"}),
    )
    .await;
    let first_pid = first.pid();
    let job_sql =
        format!("SELECT worker_id FROM job WHERE job_id = '{job_id}' AND status = 'running'");
    let owner = |state: AppState, sql: String| async move {
        match &state.db {
            Db::Postgres(pool) => sqlx::query_scalar::<_, Option<String>>(&sql)
                .fetch_optional(pool)
                .await
                .unwrap()
                .flatten(),
            Db::Sqlite(_) => unreachable!(),
        }
    };
    wait_until(
        "the first worker to claim the job",
        Duration::from_secs(60),
        async || {
            owner(state.clone(), job_sql.clone())
                .await
                .is_some_and(|worker| worker.starts_with(&format!("{first_pid}-")))
        },
    )
    .await;
    let second = WorkerProcess::spawn(&database.url, dir.path(), 1, &timing, None);
    let killed_at = Instant::now();
    first.kill();

    let done_sql = format!(
        "SELECT COUNT(*) FROM job WHERE job_id = '{job_id}' AND status IN ('completed', 'failed', 'cancelled')"
    );
    wait_until(
        "the job to be recovered",
        Duration::from_secs(180),
        async || scalar(&state.db, &done_sql).await == 1,
    )
    .await;
    let (status, attempts, worker, total): (String, i32, String, Option<i64>) = match &state.db {
        Db::Postgres(pool) => sqlx::query_as(
            "SELECT status, attempts, worker_id, CAST(result->>'series_total' AS BIGINT) \
             FROM job WHERE job_id = $1",
        )
        .bind(&job_id)
        .fetch_one(pool)
        .await
        .unwrap(),
        Db::Sqlite(_) => unreachable!(),
    };
    assert_eq!(status, "completed");
    assert_eq!(attempts, 2);
    assert!(
        worker.starts_with(&format!("{}-", second.pid())),
        "{worker} should be the surviving worker"
    );
    assert_eq!(total, Some(1000));
    // Not before the stale timeout.
    assert!(killed_at.elapsed() >= Duration::from_secs(3));
    drop(second);
    state.db.close().await;
}
