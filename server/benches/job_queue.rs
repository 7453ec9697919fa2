//! Job queue throughput: N trivial jobs (naive train on a short series,
//! registered in the registry) through the PostgreSQL queue with two
//! workers, against the same work run in a loop in-process.
//!
//! ```text
//! cargo bench -p forecastlab-server --bench job_queue
//! BENCH_JOBS=1000 BENCH_REPS=3 cargo bench -p forecastlab-server --bench job_queue
//! ```
//!
//! Each repetition uses a fresh database with the same seed (100 series of
//! 30 days). "In-process loop" runs, per job, exactly what a train job's
//! handler does — the forecasting service's train (load, fit, write the
//! artifact) and the registry run (create, running, copy + hash, success) —
//! without the queue. "Queue" starts a two-worker pool, submits the N jobs
//! through the jobs service (validation + insert) and stops the clock when
//! the last one is completed.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use forecastlab_core::SeriesKey;
use forecastlab_server::{
    config::Settings,
    db::{execute_script, Db},
    features::{
        forecasting::{model::build_model, schemas::TrainRequest, service as forecasting},
        jobs::{
            schemas::{JobCreate, JobType},
            service as jobs,
        },
    },
    jobs::{train, WorkerPool},
    state::AppState,
    with_db,
};
use serde_json::{json, Map, Value};
use sqlx::Connection;

#[path = "../tests/support/synthetic_sales.rs"]
mod synthetic_sales;

const STORES: i64 = 10;
const PRODUCTS: i64 = 10;
const DAYS: i64 = 30;

fn admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn with_database(admin: &str, name: &str) -> String {
    let scheme_end = admin.find("://").map_or(0, |i| i + 3);
    let (base, query) = admin
        .split_once('?')
        .map_or((admin, None), |(b, q)| (b, Some(q)));
    let root = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{root}/{name}?{query}"),
        None => format!("{root}/{name}"),
    }
}

async fn admin(sql: &str) {
    let mut connection = sqlx::PgConnection::connect(&admin_url())
        .await
        .expect("PostgreSQL must be reachable (TEST_POSTGRES_URL)");
    sqlx::query(sql).execute(&mut connection).await.expect(sql);
}

async fn fresh_state(dir: &std::path::Path) -> (AppState, String) {
    let name = format!("forecastlab_bench_{}", uuid::Uuid::new_v4().simple());
    admin(&format!("CREATE DATABASE \"{name}\"")).await;
    let vars = [
        ("DATABASE_URL", with_database(&admin_url(), &name)),
        ("APP_ENV", "testing".to_owned()),
        ("LOG_LEVEL", "error".to_owned()),
        ("JOBS_WORKERS", "0".to_owned()),
        ("JOBS_POLL_INTERVAL_MS", "50".to_owned()),
        (
            "FORECAST_MODEL_ARTIFACTS_DIR",
            dir.join(&name).join("models").display().to_string(),
        ),
        (
            "REGISTRY_ARTIFACT_ROOT",
            dir.join(&name).join("registry").display().to_string(),
        ),
    ];
    let settings =
        Settings::from_lookup(|key| vars.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone()))
            .expect("settings");
    let state = forecastlab_server::cli::prepare(settings)
        .await
        .expect("database");
    seed(&state.db).await;
    (state, name)
}

async fn drop_state(state: AppState, name: String) {
    state.db.close().await;
    admin(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
}

async fn seed(db: &Db) {
    let sql = synthetic_sales::script(STORES, PRODUCTS, DAYS, |s, p, d| 3 + (s + p + d) % 7);
    execute_script(db, &sql).await.expect("seed");
}

fn job_params(i: usize) -> Value {
    let i = i as i64;
    json!({
        "model_type": "naive",
        "store_id": 1 + i % STORES,
        "product_id": 1 + (i / STORES) % PRODUCTS,
        "start_date": "2024-01-01",
        "end_date": "2024-01-30",
    })
}

/// The work of one train job without the queue.
async fn train_in_process(state: &AppState, params: &Value) {
    let store_id = params["store_id"].as_i64().unwrap();
    let product_id = params["product_id"].as_i64().unwrap();
    let (start, end) = (
        NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
        NaiveDate::from_ymd_opt(2024, 1, 30).unwrap(),
    );
    let config = json!({"model_type": "naive"});
    let (registration, model) = build_model(state, &config).expect("model");
    let key = SeriesKey {
        store_id,
        product_id,
    };
    let run_id = train::start_run(
        state,
        registration.name,
        &model.config_json(),
        key,
        start,
        end,
        Map::new(),
    )
    .await
    .expect("run");
    let trained = forecasting::train(
        state,
        TrainRequest {
            store_id: Some(store_id),
            store_code: None,
            product_id: Some(product_id),
            sku: None,
            train_start_date: start,
            train_end_date: end,
            config,
            feature_frame_version: 1,
            feature_groups: None,
        },
    )
    .await
    .expect("train");
    let mut metrics = Map::new();
    metrics.insert("n_observations".into(), trained.n_observations.into());
    train::finish_run(state, &run_id, &trained.artifact_key, metrics)
        .await
        .expect("finish");
}

async fn count(db: &Db, sql: &str) -> i64 {
    with_db!(db, pool => sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await).expect(sql)
}

async fn run_loop(n: usize, dir: &std::path::Path) -> Duration {
    let (state, name) = fresh_state(dir).await;
    let params: Vec<Value> = (0..n).map(job_params).collect();
    let started = Instant::now();
    for p in &params {
        train_in_process(&state, p).await;
    }
    let elapsed = started.elapsed();
    assert_eq!(
        count(
            &state.db,
            "SELECT COUNT(*) FROM model_run WHERE status = 'success'"
        )
        .await,
        n as i64
    );
    drop_state(state, name).await;
    elapsed
}

async fn run_queue(n: usize, dir: &std::path::Path) -> Duration {
    let (state, name) = fresh_state(dir).await;
    let params: Vec<Value> = (0..n).map(job_params).collect();
    let started = Instant::now();
    let pool = WorkerPool::start(&state, 2);
    for p in params {
        let Value::Object(params) = p else {
            unreachable!()
        };
        jobs::submit(
            &state,
            JobCreate {
                job_type: JobType::Train,
                params,
            },
        )
        .await
        .expect("submit");
    }
    loop {
        let done = count(
            &state.db,
            "SELECT COUNT(*) FROM job WHERE status IN ('completed', 'failed', 'cancelled')",
        )
        .await;
        if done == n as i64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    pool.shutdown().await;
    assert_eq!(
        count(
            &state.db,
            "SELECT COUNT(*) FROM job WHERE status = 'completed'"
        )
        .await,
        n as i64
    );
    assert_eq!(
        count(&state.db, "SELECT COUNT(*) FROM job WHERE attempts <> 1").await,
        0
    );
    drop_state(state, name).await;
    elapsed
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

fn main() {
    let n: usize = std::env::var("BENCH_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let reps: usize = std::env::var("BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut in_process, mut queued) = (Vec::new(), Vec::new());
    runtime.block_on(async {
        for rep in 0..reps {
            let a = run_loop(n, dir.path()).await.as_secs_f64();
            let b = run_queue(n, dir.path()).await.as_secs_f64();
            eprintln!(
                "rep {}: in-process loop {a:.3} s, queue (2 workers) {b:.3} s",
                rep + 1
            );
            in_process.push(a);
            queued.push(b);
        }
    });
    let (a, b) = (median(in_process), median(queued));
    println!("job_queue: {n} naive train jobs on PostgreSQL, {reps} repetitions (medians)");
    println!("{:<34} {:>10} {:>12}", "variant", "seconds", "jobs/s");
    println!(
        "{:<34} {:>10.3} {:>12.1}",
        "in-process loop (no queue)",
        a,
        n as f64 / a
    );
    println!(
        "{:<34} {:>10.3} {:>12.1}",
        "queue, 2 workers (submit → done)",
        b,
        n as f64 / b
    );
    println!("ratio queue / loop: {:.2} (target ≤ 2.00)", b / a);
}
