//! Background job workers.
//!
//! A [`WorkerPool`] runs `JOBS_WORKERS` workers inside a process: the server
//! starts one next to the HTTP listener, and `forecastlab worker` runs one
//! on its own. Any number of processes may share one PostgreSQL database:
//! each worker claims the oldest pending job atomically
//! ([`queue::claim`]), heartbeats while it runs (publishing progress and
//! reading cancellation requests), and writes the outcome only while it
//! still owns the job. Every worker also sweeps for jobs whose heartbeat is
//! older than `JOBS_STALE_AFTER_SECONDS` (their worker died): they are
//! requeued until `JOBS_MAX_ATTEMPTS` claims were made, then failed with
//! `WORKER_LOST`. On graceful shutdown a worker stops claiming, lets its
//! running job finish for a grace period, and otherwise hands it back to the
//! queue.

use std::{sync::Arc, time::Duration};

use axum::http::StatusCode;
use serde_json::Value;
use tokio::{sync::watch, task::JoinHandle};

use crate::{problem::Problem, state::AppState};

pub mod batch;
pub mod context;
pub mod handlers;
pub mod queue;
pub mod shards;
pub mod train;

pub use context::{JobContext, JobFailure};
pub use handlers::{Handlers, JobHandler};

/// How long a running job may keep going after shutdown was requested
/// before it is handed back to the queue.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A set of workers in this process.
#[derive(Debug)]
pub struct WorkerPool {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// A fresh worker id: process id, a random tag and the worker index.
fn worker_id(tag: &str, index: usize) -> String {
    format!("{}-{tag}-w{index}", std::process::id())
}

impl WorkerPool {
    /// Starts `workers` workers with the standard handlers (0 → an empty
    /// pool).
    pub fn start(state: &AppState, workers: usize) -> Self {
        Self::start_with(state, workers, Handlers::standard())
    }

    /// Starts `workers` workers with the given handlers.
    pub fn start_with(state: &AppState, workers: usize, handlers: Handlers) -> Self {
        let (stop, _) = watch::channel(false);
        let handlers = Arc::new(handlers);
        let tag = &crate::features::registry::service::new_id()[..8];
        let tasks = (0..workers)
            .map(|index| {
                let worker = Worker {
                    state: state.clone(),
                    id: worker_id(tag, index),
                    handlers: handlers.clone(),
                    stop: stop.subscribe(),
                };
                tokio::spawn(worker.run())
            })
            .collect();
        if workers > 0 {
            tracing::info!(workers, "job workers started");
        }
        Self { stop, tasks }
    }

    /// Number of workers.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// True when the pool has no workers.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Stops claiming, waits for running jobs (up to [`SHUTDOWN_GRACE`],
    /// after which they are handed back to the queue) and joins the workers.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Runs a worker-only process (`forecastlab worker`) until Ctrl-C/SIGTERM.
pub async fn run_worker_process(state: AppState, workers: usize) -> anyhow::Result<()> {
    let pool = WorkerPool::start(&state, workers.max(1));
    tracing::info!(
        workers = pool.len(),
        database = state.db.backend_name(),
        "ForecastLab worker running"
    );
    crate::signal::shutdown_signal().await;
    tracing::info!("worker stopping");
    pool.shutdown().await;
    state.db.close().await;
    Ok(())
}

#[derive(Debug)]
struct Worker {
    state: AppState,
    id: String,
    handlers: Arc<Handlers>,
    stop: watch::Receiver<bool>,
}

fn heartbeat_interval(state: &AppState) -> Duration {
    Duration::from_secs(state.settings.jobs_heartbeat_seconds.max(1))
}

impl Worker {
    async fn run(mut self) {
        let poll = Duration::from_millis(self.state.settings.jobs_poll_interval_ms.max(10));
        let sweep_every = heartbeat_interval(&self.state);
        let mut last_sweep: Option<tokio::time::Instant> = None;
        let signal = self.state.job_signal.clone();
        loop {
            if *self.stop.borrow() {
                break;
            }
            if last_sweep.is_none_or(|at| at.elapsed() >= sweep_every) {
                self.sweep().await;
                last_sweep = Some(tokio::time::Instant::now());
            }
            let notified = signal.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match queue::claim(&self.state.db, &self.id).await {
                Ok(Some(job)) => self.execute(job).await,
                Ok(None) => {
                    tokio::select! {
                        () = &mut notified => {}
                        () = tokio::time::sleep(poll) => {}
                        _ = self.stop.changed() => {}
                    }
                }
                Err(error) => {
                    tracing::warn!(worker = %self.id, %error, "claiming a job failed");
                    tokio::select! {
                        () = tokio::time::sleep(poll) => {}
                        _ = self.stop.changed() => {}
                    }
                }
            }
        }
    }

    async fn sweep(&self) {
        let stale = Duration::from_secs(self.state.settings.jobs_stale_after_seconds.max(1));
        let max_attempts = i64::from(self.state.settings.jobs_max_attempts.max(1));
        match queue::sweep_stale(&self.state.db, stale, max_attempts).await {
            Ok(sweep) if sweep != queue::Sweep::default() => {
                tracing::warn!(
                    worker = %self.id,
                    requeued = sweep.requeued,
                    finished = sweep.finished,
                    "recovered jobs whose worker stopped heartbeating"
                );
                if sweep.requeued > 0 {
                    self.state.job_signal.notify_waiters();
                }
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(worker = %self.id, %error, "stale-job sweep failed"),
        }
        if let Err(error) = shards::settle_parked(&self.state.db).await {
            tracing::warn!(worker = %self.id, %error, "settling split batches failed");
        }
    }

    async fn execute(&mut self, job: queue::ClaimedJob) {
        let owner = queue::Owner {
            id: job.id,
            worker_id: self.id.clone(),
            attempt: job.attempt,
        };
        let shard = job.shard_series.as_ref().and_then(shards::decode_series);
        let ctx = JobContext::new(
            self.state.clone(),
            owner.clone(),
            job.job_id.clone(),
            job.run_id.clone(),
            shard,
        );
        tracing::debug!(worker = %self.id, job_id = %job.job_id, job_type = job.job_type.as_str(), attempt = job.attempt, "job claimed");
        let heartbeat = tokio::spawn(heartbeat_loop(ctx.clone(), heartbeat_interval(&self.state)));
        let work = match self.handlers.get(job.job_type) {
            Some(handler) => handler.run(ctx.clone(), job.params.clone()),
            None => {
                let job_type = job.job_type.as_str();
                Box::pin(async move {
                    Err(JobFailure::Failed(Problem::bad_request(format!(
                        "No handler for job type '{job_type}' in this worker"
                    ))))
                })
            }
        };
        // A panicking handler must not take the worker down.
        let work = tokio::spawn(work);
        tokio::pin!(work);
        let mut stop = self.stop.clone();
        let outcome = tokio::select! {
            joined = &mut work => Some(joined),
            () = stop_then_grace(&mut stop) => None,
        };
        let db = &self.state.db;
        let Some(joined) = outcome else {
            heartbeat.abort();
            ctx.cancel();
            work.abort();
            match persist(|| queue::release(db, &owner)).await {
                Ok(true) => {
                    tracing::info!(job_id = %job.job_id, "job handed back to the queue at shutdown")
                }
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(job_id = %job.job_id, %error, "could not hand a job back")
                }
            }
            return;
        };
        let outcome = joined.unwrap_or_else(|error| {
            Err(JobFailure::Failed(Problem::internal(format!(
                "job handler panicked: {error}"
            ))))
        });
        if ctx.is_lost() {
            heartbeat.abort();
            tracing::warn!(job_id = %job.job_id, "job was taken over by another worker; result dropped");
            return;
        }
        if matches!(outcome, Err(JobFailure::Deferred)) {
            heartbeat.abort();
            tracing::debug!(job_id = %job.job_id, "job split into shards");
            return;
        }
        // A job that failed only because the database was unreachable or
        // busy did nothing durable: it goes back to the queue (the attempt
        // does not count) instead of failing.
        if matches!(&outcome, Err(JobFailure::Failed(problem)) if problem.status == StatusCode::SERVICE_UNAVAILABLE)
        {
            let released = persist(|| queue::release(db, &owner)).await;
            heartbeat.abort();
            tracing::warn!(job_id = %job.job_id, ?released, "database unavailable; job handed back to the queue");
            return;
        }
        let written = self.write_outcome(&owner, &ctx, &outcome).await;
        // The heartbeat keeps the claim alive until the outcome is written,
        // so a database outage while writing it cannot get the job requeued
        // and run twice.
        heartbeat.abort();
        match written {
            Ok(true) => {
                if let Some(parent) = job.parent_id {
                    if let Err(error) = persist(|| shards::settle(db, parent)).await {
                        tracing::warn!(job_id = %job.job_id, %error, "could not settle the parent batch");
                    }
                }
            }
            Ok(false) => {
                tracing::warn!(job_id = %job.job_id, "job outcome not written: no longer owned")
            }
            Err(error) => {
                tracing::error!(job_id = %job.job_id, %error, "could not write the job outcome")
            }
        }
        self.state.job_finished.notify_waiters();
    }

    /// Writes a finished job's outcome (retrying while the database is
    /// unreachable); false when the job is no longer ours.
    async fn write_outcome(
        &self,
        owner: &queue::Owner,
        ctx: &JobContext,
        outcome: &Result<Value, JobFailure>,
    ) -> Result<bool, sqlx::Error> {
        let db = &self.state.db;
        let (done, total) = ctx.progress();
        let run_id = |value: &Value| {
            value
                .get("run_id")
                .and_then(Value::as_str)
                .filter(|id| id.len() == 32)
                .map(str::to_owned)
        };
        match outcome {
            Ok(result) => {
                let run = run_id(result);
                let finish = queue::Finish {
                    status: "completed",
                    result: Some(result),
                    error_message: None,
                    error_type: None,
                    error: None,
                    done: done.max(total),
                    total,
                    run_id: run.as_deref(),
                };
                persist(|| queue::finish(db, owner, &finish)).await
            }
            Err(JobFailure::Deferred) => Ok(true),
            Err(JobFailure::Cancelled) => {
                let error = serde_json::json!({
                    "type": "/errors/cancelled",
                    "title": "Cancelled",
                    "status": 409,
                    "detail": "Cancelled by request while running",
                    "code": "CANCELLED",
                });
                let finish = queue::Finish {
                    status: "cancelled",
                    result: None,
                    error_message: Some("Cancelled by request while running"),
                    error_type: Some("CANCELLED"),
                    error: Some(&error),
                    done,
                    total,
                    run_id: None,
                };
                persist(|| queue::finish(db, owner, &finish)).await
            }
            Err(JobFailure::Failed(problem)) => {
                let message: String = problem.detail.chars().take(2000).collect();
                let error = problem.to_json(None);
                let finish = queue::Finish {
                    status: "failed",
                    result: None,
                    error_message: Some(&message),
                    error_type: Some(&problem.code),
                    error: Some(&error),
                    done,
                    total,
                    run_id: None,
                };
                persist(|| queue::finish(db, owner, &finish)).await
            }
        }
    }
}

/// How long a worker keeps retrying a queue write while the database is
/// unreachable.
const PERSIST_FOR: Duration = Duration::from_secs(120);

/// Runs a queue write, retrying it while the database is unreachable or
/// busy (up to [`PERSIST_FOR`]).
async fn persist<T, F, Fut>(mut write: F) -> Result<T, sqlx::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, sqlx::Error>>,
{
    let started = tokio::time::Instant::now();
    let mut pause = Duration::from_millis(100);
    loop {
        match write().await {
            Ok(value) => return Ok(value),
            Err(error)
                if crate::db::errors::classify(&error) != crate::db::errors::DbErrorKind::Other
                    && started.elapsed() < PERSIST_FOR =>
            {
                tracing::debug!(%error, "queue write failed; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
            Err(error) => return Err(error),
        }
    }
}

async fn stop_then_grace(stop: &mut watch::Receiver<bool>) {
    while !*stop.borrow() {
        if stop.changed().await.is_err() {
            // The pool was dropped without shutdown: keep running the job.
            std::future::pending::<()>().await;
        }
    }
    tokio::time::sleep(SHUTDOWN_GRACE).await;
}

async fn heartbeat_loop(ctx: JobContext, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let (done, total) = ctx.progress();
        match queue::heartbeat(&ctx.state().db, ctx.owner(), done, total).await {
            Ok(Some(cancel)) => {
                if cancel {
                    ctx.cancel();
                }
            }
            Ok(None) => {
                ctx.mark_lost();
                return;
            }
            Err(error) => tracing::warn!(job_id = ctx.job_id(), %error, "heartbeat failed"),
        }
    }
}
