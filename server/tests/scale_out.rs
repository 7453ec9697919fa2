//! Scale-out: three `forecastlab worker` processes, each in its own
//! working directory with no disk in common, share one PostgreSQL database
//! and one S3-compatible artifact store (moto, started locally). A batch of
//! 300 series is split into shards that all three claim; one worker is
//! SIGKILLed while it holds a shard, and that shard is finished by the
//! others. Every series is trained exactly once, and every run's registry
//! artifact is read back and verified (SHA-256, decodable, the right
//! series) from this, a fourth, process.
//!
//! It lives beside the `forecastlab` binary's own package so that the
//! binary it starts is the one just built.
//!
//! Needs the local PostgreSQL service (`TEST_POSTGRES_URL`) and
//! `moto_server` (PyPI `moto[server]`) on `PATH`.

use std::{
    collections::{HashMap, HashSet},
    path::Path,
    time::{Duration, Instant},
};

use forecastlab_core::artifact::Artifact;
use forecastlab_server::{
    config::Settings,
    db::{execute_script, Db},
    features::jobs::{
        schemas::{JobCreate, JobType},
        service,
    },
    state::AppState,
};
use futures::TryStreamExt;
use object_store::ObjectStore;
use serde_json::{json, Value};

#[path = "support/postgres.rs"]
mod postgres;
#[path = "support/s3_servers.rs"]
pub mod s3_servers;
#[path = "support/synthetic_sales.rs"]
mod synthetic_sales;
#[path = "support/worker.rs"]
mod worker;

use postgres::TempDatabase;
use s3_servers::S3Server;
use worker::WorkerProcess;

const PREFIX: &str = "fleet";

/// The settings every worker of the fleet runs with.
fn worker_env(store: &S3Server) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("JOBS_HEARTBEAT_SECONDS", "1"),
        ("JOBS_STALE_AFTER_SECONDS", "3"),
        ("JOBS_MAX_ATTEMPTS", "3"),
        ("JOBS_BATCH_SHARD_SIZE", "10"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec();
    env.extend(store.settings(PREFIX));
    env
}

fn settings(url: &str, dir: &Path, store: &S3Server) -> Settings {
    let mut vars: Vec<(String, String)> = vec![
        ("DATABASE_URL".into(), url.to_owned()),
        ("APP_ENV".into(), "testing".into()),
        ("JOBS_WORKERS".into(), "0".into()),
        (
            "FORECAST_MODEL_ARTIFACTS_DIR".into(),
            dir.join("models").display().to_string(),
        ),
        (
            "REGISTRY_ARTIFACT_ROOT".into(),
            dir.join("registry").display().to_string(),
        ),
    ];
    vars.extend(store.settings(PREFIX));
    Settings::from_lookup(|name| {
        vars.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    })
    .expect("settings")
}

fn pool(db: &Db) -> &sqlx::PgPool {
    match db {
        Db::Postgres(pool) => pool,
        Db::Sqlite(_) => unreachable!("the scale-out test runs on PostgreSQL"),
    }
}

async fn scalar(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(pool(db))
        .await
        .expect(sql)
}

async fn wait_until(what: &str, timeout: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sends the signal `name` (`STOP`, `CONT`) to the process `pid`.
fn signal(pid: &str, name: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), pid])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{name} {pid}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_share_a_sharded_batch_and_survive_a_kill() {
    let database = TempDatabase::create().await;
    let store = S3Server::moto("scale-out").await.expect("moto");
    let dirs: Vec<tempfile::TempDir> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    let state: AppState =
        forecastlab_server::cli::prepare(settings(&database.url, dirs[3].path(), &store))
            .await
            .unwrap();
    // 15 stores × 20 products = 300 series of 90 days.
    let sql = synthetic_sales::script(15, 20, 90, |s, p, d| 5 + (d * 3 + s + p) % 11);
    execute_script(&state.db, &sql).await.expect("seed");

    let env = worker_env(&store);
    let mut workers: Vec<WorkerProcess> = dirs[..3]
        .iter()
        .map(|dir| WorkerProcess::spawn(&database.url, dir.path(), 1, &env, None))
        .collect();
    let Value::Object(params) = json!({
        "model_type": "seasonal_naive", "season_length": 7,
        "start_date": "2024-01-01", "end_date": "2024-03-30",
    }) else {
        unreachable!()
    };
    let parent = service::submit(
        &state,
        JobCreate {
            job_type: JobType::Batch,
            params,
        },
    )
    .await
    .expect("submit")
    .job_id;

    // Kill the first worker while it holds a shard and others are done.
    let victim = workers[0].pid();
    let shards_of = |status: &str| {
        format!(
            "SELECT COUNT(*) FROM job WHERE parent_id = \
             (SELECT id FROM job WHERE job_id = '{parent}') AND status = '{status}'"
        )
    };
    let victim_running = format!("{} AND worker_id LIKE '{victim}-%'", shards_of("running"));
    // Between seeing the shard running and the kill the victim may finish
    // it, so it is frozen first (SIGSTOP) and killed only if, frozen, it
    // still holds a running shard; otherwise it is thawed and watched again.
    loop {
        wait_until(
            "the first worker to run a shard mid-batch",
            Duration::from_secs(120),
            async || {
                scalar(&state.db, &victim_running).await > 0
                    && scalar(&state.db, &shards_of("completed")).await > 0
            },
        )
        .await;
        signal(&victim, "STOP");
        // A commit the victim sent just before it froze lands meanwhile.
        tokio::time::sleep(Duration::from_millis(300)).await;
        if scalar(&state.db, &victim_running).await > 0 {
            break;
        }
        signal(&victim, "CONT");
    }
    workers[0].kill();

    wait_until(
        "the batch to finish",
        Duration::from_secs(300),
        async || {
            service::get(&state, &parent)
                .await
                .is_ok_and(|job| job.completed_at.is_some())
        },
    )
    .await;
    let job = serde_json::to_value(service::get(&state, &parent).await.unwrap()).unwrap();
    assert_eq!(job["status"], "completed", "{job}");
    let result = &job["result"];
    assert_eq!(result["series_total"], 300, "{result}");
    assert_eq!(result["series_succeeded"], 300);
    assert_eq!(result["shards"], 30);
    assert_eq!(job["progress"], json!({"done": 300, "total": 300}));

    // Every shard completed; the killed worker's shard was claimed again
    // and finished by a survivor; all three workers ran shards.
    let shards: Vec<(String, i32, String)> = sqlx::query_as(
        "SELECT status, attempts, worker_id FROM job WHERE parent_id = \
         (SELECT id FROM job WHERE job_id = $1)",
    )
    .bind(&parent)
    .fetch_all(pool(&state.db))
    .await
    .unwrap();
    assert_eq!(shards.len(), 30);
    assert!(shards.iter().all(|(status, _, _)| status == "completed"));
    let owner_pid = |worker: &str| worker.split('-').next().unwrap_or_default().to_owned();
    let retried: Vec<&(String, i32, String)> = shards
        .iter()
        .filter(|(_, attempts, _)| *attempts > 1)
        .collect();
    assert!(!retried.is_empty(), "the killed worker's shard was retried");
    assert!(retried
        .iter()
        .all(|(_, _, worker)| owner_pid(worker) != victim));
    let finishers: HashSet<String> = shards.iter().map(|(_, _, w)| owner_pid(w)).collect();
    assert!(finishers.contains(&workers[1].pid()) && finishers.contains(&workers[2].pid()));

    // Every series trained exactly once: one successful run each.
    let runs: Vec<(i32, i32, String, String, i32)> = sqlx::query_as(
        "SELECT store_id, product_id, artifact_uri, artifact_hash, artifact_size_bytes \
         FROM model_run WHERE status = 'success'",
    )
    .fetch_all(pool(&state.db))
    .await
    .unwrap();
    assert_eq!(runs.len(), 300);
    let mut per_series: HashMap<(i32, i32), usize> = HashMap::new();
    for (store_id, product_id, ..) in &runs {
        *per_series.entry((*store_id, *product_id)).or_default() += 1;
    }
    assert_eq!(per_series.len(), 300);
    assert!(per_series.values().all(|&n| n == 1));
    let listed: HashSet<(i64, i64)> = result["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["store_id"].as_i64().unwrap(),
                r["product_id"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(listed.len(), 300);

    // Every artifact is in the shared store, not on a worker's disk, and
    // reads back verified from this process.
    for dir in &dirs[..3] {
        assert!(!dir.path().join("models").exists());
        assert!(!dir.path().join("registry").exists());
    }
    for (store_id, product_id, uri, hash, size) in &runs {
        let (computed, read) = state.artifacts.hash_registry(uri).await.unwrap();
        assert_eq!(&computed, hash, "{uri}");
        assert_eq!(read, u64::try_from(*size).unwrap());
        let bytes = state.artifacts.get_registry(uri).await.unwrap();
        let artifact = Artifact::decode(&bytes).expect("a valid artifact");
        assert_eq!(artifact.header.metadata["store_id"], *store_id);
        assert_eq!(artifact.header.metadata["product_id"], *product_id);
    }
    let client = store.client().unwrap();
    let prefix = object_store::path::Path::from(format!("{PREFIX}/registry/runs"));
    let copies: Vec<_> = client.list(Some(&prefix)).try_collect().await.unwrap();
    // At least one copy per run (a killed attempt may have left one more).
    assert!(copies.len() >= 300, "{} registry copies", copies.len());
    drop(workers);
    state.db.close().await;
}
