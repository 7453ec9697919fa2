//! SQL of the `job` table used by the HTTP API (the queue's own statements
//! live in `crate::jobs::queue`).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;

use super::schemas::{JobProgress, JobResponse, JobStatus, JobType, ShardCounts};
use crate::{db::Db, with_db};

/// A `job` row as stored.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct JobRow {
    job_id: String,
    job_type: String,
    status: String,
    params: Json<Value>,
    result: Option<Json<Value>>,
    error_message: Option<String>,
    error_type: Option<String>,
    error: Option<Json<Value>>,
    run_id: Option<String>,
    progress_done: i64,
    progress_total: i64,
    parent_job_id: Option<String>,
    shards_total: i64,
    shards_pending: i64,
    shards_running: i64,
    shards_completed: i64,
    shards_failed: i64,
    attempts: i64,
    worker_id: Option<String>,
    cancel_requested: bool,
    heartbeat_at: Option<DateTime<Utc>>,
    started_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<JobRow> for JobResponse {
    fn from(row: JobRow) -> Self {
        Self {
            job_id: row.job_id,
            job_type: JobType::parse(&row.job_type).unwrap_or(JobType::Train),
            status: JobStatus::parse(&row.status).unwrap_or(JobStatus::Pending),
            params: row.params.0,
            result: row.result.map(|json| json.0),
            error_message: row.error_message,
            error_type: row.error_type,
            error: row.error.map(|json| json.0),
            run_id: row.run_id,
            progress: JobProgress {
                done: row.progress_done,
                total: row.progress_total,
            },
            parent_job_id: row.parent_job_id,
            shards: (row.shards_total > 0).then(|| {
                let settled = row.shards_pending
                    + row.shards_running
                    + row.shards_completed
                    + row.shards_failed;
                ShardCounts {
                    total: row.shards_total,
                    pending: row.shards_pending,
                    running: row.shards_running,
                    completed: row.shards_completed,
                    failed: row.shards_failed,
                    cancelled: row.shards_total - settled,
                }
            }),
            attempts: row.attempts,
            worker_id: row.worker_id,
            cancel_requested: row.cancel_requested,
            heartbeat_at: row.heartbeat_at,
            started_at: row.started_at,
            completed_at: row.completed_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// The columns of a [`JobRow`] (from `job`, unaliased): a shard names its
/// parent, a split batch counts its shards by status (through the
/// `parent_id` index).
const JOB_COLUMNS: &str = "job_id, job_type, status, params, result, error_message, error_type, \
     error, run_id, CAST(progress_done AS BIGINT) AS progress_done, \
     CAST(progress_total AS BIGINT) AS progress_total, CAST(attempts AS BIGINT) AS attempts, \
     worker_id, cancel_requested, heartbeat_at, started_at, completed_at, created_at, updated_at, \
     (SELECT p.job_id FROM job p WHERE p.id = job.parent_id) AS parent_job_id, \
     (SELECT CAST(COUNT(*) AS BIGINT) FROM job c WHERE c.parent_id = job.id) AS shards_total, \
     (SELECT CAST(COUNT(*) AS BIGINT) FROM job c WHERE c.parent_id = job.id \
      AND c.status = 'pending') AS shards_pending, \
     (SELECT CAST(COUNT(*) AS BIGINT) FROM job c WHERE c.parent_id = job.id \
      AND c.status = 'running') AS shards_running, \
     (SELECT CAST(COUNT(*) AS BIGINT) FROM job c WHERE c.parent_id = job.id \
      AND c.status = 'completed') AS shards_completed, \
     (SELECT CAST(COUNT(*) AS BIGINT) FROM job c WHERE c.parent_id = job.id \
      AND c.status = 'failed') AS shards_failed";

/// Queues a job (status `pending`).
pub(crate) async fn insert_job(
    db: &Db,
    job_id: &str,
    job_type: JobType,
    params: &Value,
) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    with_db!(db, pool => {
        sqlx::query(
            "INSERT INTO job (job_id, job_type, status, params, created_at, updated_at) \
             VALUES ($1, $2, 'pending', $3, $4, $4)",
        )
        .bind(job_id)
        .bind(job_type.as_str())
        .bind(Json(params))
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// One job.
pub(crate) async fn find_job(db: &Db, job_id: &str) -> Result<Option<JobResponse>, sqlx::Error> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM job WHERE job_id = $1");
    let row = with_db!(db, pool => {
        sqlx::query_as::<_, JobRow>(&sql).bind(job_id).fetch_optional(pool).await
    })?;
    Ok(row.map(Into::into))
}

/// Filters and allow-listed ordering of a job listing.
#[derive(Debug)]
pub(crate) struct JobFilter {
    pub(crate) job_type: Option<JobType>,
    pub(crate) status: Option<JobStatus>,
    /// Shard jobs are listed too (else top-level jobs only).
    pub(crate) include_shards: bool,
    /// Only the shards of the job with this id.
    pub(crate) parent_job_id: Option<String>,
    pub(crate) order_by: &'static str,
    pub(crate) descending: bool,
    pub(crate) limit: i64,
    pub(crate) offset: i64,
}

const JOB_WHERE: &str = "($1 IS NULL OR job_type = $1) AND ($2 IS NULL OR status = $2) \
     AND ($3 OR parent_id IS NULL) \
     AND ($4 IS NULL OR parent_id = (SELECT p.id FROM job p WHERE p.job_id = $4))";

/// A page of jobs and the size of the filtered set.
pub(crate) async fn list_jobs(
    db: &Db,
    filter: &JobFilter,
) -> Result<(Vec<JobResponse>, i64), sqlx::Error> {
    let direction = if filter.descending { "DESC" } else { "ASC" };
    // NULL completed_at sorts last either way.
    let nulls = if filter.order_by == "completed_at" {
        "CASE WHEN completed_at IS NULL THEN 1 ELSE 0 END, "
    } else {
        ""
    };
    let sql = format!(
        "SELECT {JOB_COLUMNS} FROM job WHERE {JOB_WHERE} \
         ORDER BY {nulls}{} {direction}, id {direction} LIMIT $5 OFFSET $6",
        filter.order_by
    );
    let count_sql = format!("SELECT COUNT(*) FROM job WHERE {JOB_WHERE}");
    let job_type = filter.job_type.map(JobType::as_str);
    let status = filter.status.map(JobStatus::as_str);
    let include_shards = filter.include_shards || filter.parent_job_id.is_some();
    let parent = filter.parent_job_id.as_deref();
    let (rows, total) = with_db!(db, pool => {
        let rows = sqlx::query_as::<_, JobRow>(&sql)
            .bind(job_type)
            .bind(status)
            .bind(include_shards)
            .bind(parent)
            .bind(filter.limit)
            .bind(filter.offset)
            .fetch_all(pool)
            .await?;
        let total: i64 = sqlx::query_scalar(&count_sql)
            .bind(job_type)
            .bind(status)
            .bind(include_shards)
            .bind(parent)
            .fetch_one(pool)
            .await?;
        Ok::<_, sqlx::Error>((rows, total))
    })?;
    Ok((rows.into_iter().map(Into::into).collect(), total))
}

/// Cancels a pending job at once; true when it was pending.
pub(crate) async fn cancel_pending(db: &Db, job_id: &str) -> Result<bool, sqlx::Error> {
    let now = Utc::now();
    let affected = with_db!(db, pool => {
        sqlx::query(
            "UPDATE job SET status = 'cancelled', completed_at = $2, updated_at = $2, \
             error_message = 'Cancelled by request before it started', error_type = 'CANCELLED' \
             WHERE job_id = $1 AND status = 'pending'",
        )
        .bind(job_id)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(affected == 1)
}

/// Asks the worker of a running job to stop at its next checkpoint; true
/// when the job was running.
pub(crate) async fn request_cancel(db: &Db, job_id: &str) -> Result<bool, sqlx::Error> {
    let now = Utc::now();
    let affected = with_db!(db, pool => {
        sqlx::query(
            "UPDATE job SET cancel_requested = TRUE, updated_at = $2 \
             WHERE job_id = $1 AND status = 'running'",
        )
        .bind(job_id)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(affected == 1)
}
