//! The queue statements on `job`: atomic claiming, heartbeats, guarded
//! completion, release on shutdown, and recovery of jobs whose worker died.
//!
//! Every write a worker makes after claiming is guarded by
//! `worker_id = me AND attempts = my attempt AND status = 'running'`, so a
//! worker that lost its job (declared dead and requeued) can never
//! overwrite the new owner's state.
//!
//! Heartbeats and the stale cutoff are read from one clock, the database's
//! ([`database_now`]): workers on machines whose clocks disagree never
//! declare each other dead early (or late).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;

use crate::{db::Db, features::jobs::schemas::JobType, with_db};

/// The current time of the database server. PostgreSQL is shared by
/// workers on many machines, so its clock is the one all of them use; an
/// SQLite file is only shared by processes of one machine, whose clock it
/// is.
pub async fn database_now(db: &Db) -> Result<DateTime<Utc>, sqlx::Error> {
    match db {
        Db::Postgres(pool) => {
            sqlx::query_scalar::<_, DateTime<Utc>>("SELECT now()")
                .fetch_one(pool)
                .await
        }
        Db::Sqlite(_) => Ok(Utc::now()),
    }
}

/// A job a worker now owns.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    /// Internal row id.
    pub id: i64,
    /// External id.
    pub job_id: String,
    /// Type.
    pub job_type: JobType,
    /// Parameters.
    pub params: Value,
    /// This claim's attempt number (1 for the first).
    pub attempt: i64,
    /// Registry run a previous attempt created, if any.
    pub run_id: Option<String>,
    /// Row id of the parent batch of a shard.
    pub parent_id: Option<i64>,
    /// The series of a shard (`[[store_id, product_id], …]`).
    pub shard_series: Option<Value>,
}

type ClaimRow = (
    i64,
    String,
    String,
    Json<Value>,
    i64,
    Option<String>,
    Option<i64>,
    Option<Json<Value>>,
);

const CLAIM_SET: &str = "SET status = 'running', worker_id = $1, attempts = attempts + 1, \
     heartbeat_at = $2, started_at = COALESCE(started_at, $2), updated_at = $2";
const CLAIM_RETURNING: &str = "RETURNING CAST(id AS BIGINT), job_id, job_type, params, \
     CAST(attempts AS BIGINT), run_id, CAST(parent_id AS BIGINT), shard_series";

/// Claims the oldest pending job, atomically: on PostgreSQL with
/// `FOR UPDATE SKIP LOCKED` (workers never block each other), on SQLite
/// with a single guarded `UPDATE … RETURNING` (writers are serialized).
pub async fn claim(db: &Db, worker_id: &str) -> Result<Option<ClaimedJob>, sqlx::Error> {
    let now = database_now(db).await?;
    let row: Option<ClaimRow> = match db {
        Db::Postgres(pool) => {
            let sql = format!(
                "UPDATE job {CLAIM_SET} WHERE id = (SELECT id FROM job WHERE status = 'pending' \
                 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) {CLAIM_RETURNING}"
            );
            sqlx::query_as(&sql)
                .bind(worker_id)
                .bind(now)
                .fetch_optional(pool)
                .await?
        }
        Db::Sqlite(pool) => {
            let sql = format!(
                "UPDATE job {CLAIM_SET} WHERE id = (SELECT id FROM job WHERE status = 'pending' \
                 ORDER BY id LIMIT 1) AND status = 'pending' {CLAIM_RETURNING}"
            );
            sqlx::query_as(&sql)
                .bind(worker_id)
                .bind(now)
                .fetch_optional(pool)
                .await?
        }
    };
    Ok(row.and_then(
        |(id, job_id, job_type, params, attempt, run_id, parent_id, shard_series)| {
            Some(ClaimedJob {
                id,
                job_id,
                job_type: JobType::parse(&job_type)?,
                params: params.0,
                attempt,
                run_id,
                parent_id,
                shard_series: shard_series.map(|series| series.0),
            })
        },
    ))
}

/// Who holds a claimed job.
#[derive(Debug, Clone)]
pub struct Owner {
    /// Row id.
    pub id: i64,
    /// Worker id.
    pub worker_id: String,
    /// Attempt number of the claim.
    pub attempt: i64,
}

const OWNED: &str = "id = $1 AND worker_id = $2 AND attempts = $3 AND status = 'running'";

/// Records a heartbeat and progress. `None` when the job is no longer ours
/// (requeued after we were declared dead, or finished by someone else);
/// otherwise whether cancellation was requested.
pub async fn heartbeat(
    db: &Db,
    owner: &Owner,
    done: i64,
    total: i64,
) -> Result<Option<bool>, sqlx::Error> {
    let now = database_now(db).await?;
    let sql = format!(
        "UPDATE job SET heartbeat_at = $4, progress_done = $5, progress_total = $6, \
         updated_at = $4 WHERE {OWNED} RETURNING cancel_requested"
    );
    with_db!(db, pool => {
        sqlx::query_scalar::<_, bool>(&sql)
            .bind(owner.id)
            .bind(&owner.worker_id)
            .bind(owner.attempt)
            .bind(now)
            .bind(done)
            .bind(total)
            .fetch_optional(pool)
            .await
    })
}

/// Stores the registry run a train job created (so a retry reuses it).
pub async fn attach_run(db: &Db, owner: &Owner, run_id: &str) -> Result<bool, sqlx::Error> {
    let sql = format!("UPDATE job SET run_id = $4 WHERE {OWNED}");
    let affected = with_db!(db, pool => {
        sqlx::query(&sql)
            .bind(owner.id)
            .bind(&owner.worker_id)
            .bind(owner.attempt)
            .bind(run_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(affected == 1)
}

/// How a job ended.
#[derive(Debug)]
pub struct Finish<'a> {
    /// `completed`, `failed` or `cancelled`.
    pub status: &'static str,
    /// Result (completed).
    pub result: Option<&'a Value>,
    /// Error message (≤ 2000 characters).
    pub error_message: Option<&'a str>,
    /// Error class.
    pub error_type: Option<&'a str>,
    /// Error as a problem object.
    pub error: Option<&'a Value>,
    /// Final progress.
    pub done: i64,
    /// Final progress total.
    pub total: i64,
    /// Registry run to record (from the result).
    pub run_id: Option<&'a str>,
}

/// Writes the outcome if the job is still ours; false otherwise.
pub async fn finish(db: &Db, owner: &Owner, outcome: &Finish<'_>) -> Result<bool, sqlx::Error> {
    let now = database_now(db).await?;
    let sql = format!(
        "UPDATE job SET status = $4, result = $5, error_message = $6, error_type = $7, \
         error = $8, completed_at = $9, updated_at = $9, heartbeat_at = $9, progress_done = $10, \
         progress_total = $11, run_id = COALESCE($12, run_id) WHERE {OWNED}"
    );
    let affected = with_db!(db, pool => {
        sqlx::query(&sql)
            .bind(owner.id)
            .bind(&owner.worker_id)
            .bind(owner.attempt)
            .bind(outcome.status)
            .bind(outcome.result.map(Json))
            .bind(outcome.error_message)
            .bind(outcome.error_type)
            .bind(outcome.error.map(Json))
            .bind(now)
            .bind(outcome.done)
            .bind(outcome.total)
            .bind(outcome.run_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(affected == 1)
}

/// Hands a job back to the queue on graceful shutdown (the attempt does
/// not count).
pub async fn release(db: &Db, owner: &Owner) -> Result<bool, sqlx::Error> {
    let now = database_now(db).await?;
    let sql = format!(
        "UPDATE job SET status = 'pending', worker_id = NULL, heartbeat_at = NULL, \
         attempts = attempts - 1, updated_at = $4 WHERE {OWNED}"
    );
    let affected = with_db!(db, pool => {
        sqlx::query(&sql)
            .bind(owner.id)
            .bind(&owner.worker_id)
            .bind(owner.attempt)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(affected == 1)
}

/// What a stale-job sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sweep {
    /// Jobs put back to `pending` for another attempt.
    pub requeued: u64,
    /// Jobs failed (attempts exhausted) or cancelled (cancel requested).
    pub finished: u64,
}

/// Recovers running jobs whose last heartbeat is more than `stale_after`
/// old by the database clock: requeued while attempts remain, else failed
/// with `WORKER_LOST`; a job whose cancellation was requested ends
/// `cancelled`.
pub async fn sweep_stale(
    db: &Db,
    stale_after: Duration,
    max_attempts: i64,
) -> Result<Sweep, sqlx::Error> {
    let now = database_now(db).await?;
    let cutoff = now - chrono::Duration::from_std(stale_after).unwrap_or_default();
    let detail = format!(
        "The worker running this job stopped heartbeating; it was retried up to \
         {max_attempts} time(s) and is now failed."
    );
    let error = serde_json::json!({
        "type": "/errors/worker-lost",
        "title": "Worker Lost",
        "status": 500,
        "detail": detail,
        "code": "WORKER_LOST",
    });
    with_db!(db, pool => {
        let requeued = sqlx::query(
            "UPDATE job SET status = 'pending', worker_id = NULL, heartbeat_at = NULL, \
             updated_at = $1 WHERE status = 'running' AND heartbeat_at < $2 AND attempts < $3 \
             AND cancel_requested = FALSE",
        )
        .bind(now)
        .bind(cutoff)
        .bind(max_attempts)
        .execute(pool)
        .await?
        .rows_affected();
        let cancelled = sqlx::query(
            "UPDATE job SET status = 'cancelled', completed_at = $1, updated_at = $1, \
             error_message = 'Cancelled by request; its worker stopped before acknowledging', \
             error_type = 'CANCELLED' \
             WHERE status = 'running' AND heartbeat_at < $2 AND cancel_requested = TRUE",
        )
        .bind(now)
        .bind(cutoff)
        .execute(pool)
        .await?
        .rows_affected();
        let failed = sqlx::query(
            "UPDATE job SET status = 'failed', completed_at = $1, updated_at = $1, \
             error_message = $4, error_type = 'WORKER_LOST', error = $5 \
             WHERE status = 'running' AND heartbeat_at < $2 AND attempts >= $3",
        )
        .bind(now)
        .bind(cutoff)
        .bind(max_attempts)
        .bind(&detail)
        .bind(Json(&error))
        .execute(pool)
        .await?
        .rows_affected();
        Ok(Sweep {
            requeued,
            finished: cancelled + failed,
        })
    })
}
