//! Sharded batch jobs. A `batch` job over more series than
//! `JOBS_BATCH_SHARD_SIZE` is split into shard jobs: rows of the same `job`
//! table with the parent's id and the series each one trains. Any worker
//! of any process claims shards like every other job (`FOR UPDATE SKIP
//! LOCKED` on PostgreSQL, the single-process claim on SQLite), a shard
//! whose worker died is requeued by the stale-job sweep, and cancelling the
//! parent cancels its pending shards and stops its running ones.
//!
//! Once split, the parent is parked: `running` without a worker or a
//! heartbeat (so the sweep never requeues it). Whoever finishes the last
//! shard settles it — progress, status and result aggregate the shards —
//! with a guarded update, so exactly one writer wins; every sweep also
//! settles parked parents, which covers a worker that died in between.

use chrono::{DateTime, Utc};
use forecastlab_core::SeriesKey;
use serde_json::{json, Value};
use sqlx::types::Json;

use super::{
    context::{JobContext, JobFailure},
    queue::database_now,
};
use crate::{db::Db, features::registry::service::new_id, with_db};

/// The series of a shard as stored in `job.shard_series`
/// (`[[store_id, product_id], …]`).
pub fn encode_series(keys: &[SeriesKey]) -> Value {
    Value::Array(
        keys.iter()
            .map(|key| json!([key.store_id, key.product_id]))
            .collect(),
    )
}

/// Parses `job.shard_series`; `None` when it is not a list of pairs.
pub fn decode_series(value: &Value) -> Option<Vec<SeriesKey>> {
    value
        .as_array()?
        .iter()
        .map(|pair| {
            let pair = pair.as_array()?;
            match pair.as_slice() {
                [store, product] => Some(SeriesKey {
                    store_id: store.as_i64()?,
                    product_id: product.as_i64()?,
                }),
                _ => None,
            }
        })
        .collect()
}

/// Splits the running parent batch of `ctx` into shards of at most
/// `shard_size` series (once: a retried parent reuses its shards) and
/// parks it. Returns how the handler ends: `Deferred` once the shards are
/// queued, `Cancelled` when the job is no longer ours, `Failed` on a
/// database error.
pub async fn split(
    ctx: &JobContext,
    params: &Value,
    keys: &[SeriesKey],
    shard_size: usize,
) -> JobFailure {
    match queue_shards(ctx, params, keys, shard_size).await {
        Ok(()) => JobFailure::Deferred,
        Err(failure) => failure,
    }
}

async fn queue_shards(
    ctx: &JobContext,
    params: &Value,
    keys: &[SeriesKey],
    shard_size: usize,
) -> Result<(), JobFailure> {
    let state = ctx.state();
    let owner = ctx.owner();
    let now = database_now(&state.db).await?;
    let total = i64::try_from(keys.len()).unwrap_or(i64::MAX);
    // The guarded parking update comes first, so the transaction holds the
    // write lock from its first statement (SQLite) and proves we still own
    // the job before any shard is written.
    with_db!(&state.db, pool => {
        let mut tx = pool.begin().await?;
        let parked = sqlx::query(
            "UPDATE job SET worker_id = NULL, heartbeat_at = NULL, progress_done = 0, \
             progress_total = $4, updated_at = $5 \
             WHERE id = $1 AND worker_id = $2 AND attempts = $3 AND status = 'running'",
        )
        .bind(owner.id)
        .bind(&owner.worker_id)
        .bind(owner.attempt)
        .bind(total)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if parked != 1 {
            tx.rollback().await?;
            return Err(lost(ctx));
        }
        let existing: i64 =
            sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM job WHERE parent_id = $1")
                .bind(owner.id)
                .fetch_one(&mut *tx)
                .await?;
        if existing == 0 {
            for chunk in keys.chunks(shard_size.max(1)) {
                sqlx::query(
                    "INSERT INTO job (job_id, job_type, status, params, parent_id, shard_series, \
                     progress_total, created_at, updated_at) \
                     VALUES ($1, 'batch', 'pending', $2, $3, $4, $5, $6, $6)",
                )
                .bind(new_id())
                .bind(Json(params))
                .bind(owner.id)
                .bind(Json(encode_series(chunk)))
                .bind(i64::try_from(chunk.len()).unwrap_or(i64::MAX))
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(())
    })?;
    state.job_signal.notify_waiters();
    // A cancellation that arrived while splitting reaches the shards now.
    let cancel_requested: bool = with_db!(&state.db, pool => {
        sqlx::query_scalar("SELECT cancel_requested FROM job WHERE id = $1")
            .bind(owner.id)
            .fetch_one(pool)
            .await
    })?;
    if cancel_requested {
        cancel_children(&state.db, owner.id).await?;
    }
    settle(&state.db, owner.id).await?;
    Ok(())
}

/// Marks the job of `ctx` as taken away from this worker.
fn lost(ctx: &JobContext) -> JobFailure {
    ctx.mark_lost();
    JobFailure::Cancelled
}

/// Cancels the shards of parent row `parent_id`: pending ones at once,
/// running ones at their next checkpoint.
pub async fn cancel_children(db: &Db, parent_id: i64) -> Result<(), sqlx::Error> {
    let now = database_now(db).await?;
    with_db!(db, pool => {
        sqlx::query(
            "UPDATE job SET status = 'cancelled', completed_at = $2, updated_at = $2, \
             error_message = 'Cancelled with its batch before it started', \
             error_type = 'CANCELLED' WHERE parent_id = $1 AND status = 'pending'",
        )
        .bind(parent_id)
        .bind(now)
        .execute(pool)
        .await?;
        sqlx::query(
            "UPDATE job SET cancel_requested = TRUE, updated_at = $2 \
             WHERE parent_id = $1 AND status = 'running'",
        )
        .bind(parent_id)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// The row id of a parked parent `job_id` (a split batch), if it is one.
pub async fn parked_parent(db: &Db, job_id: &str) -> Result<Option<i64>, sqlx::Error> {
    with_db!(db, pool => {
        sqlx::query_scalar::<_, i64>(
            "SELECT CAST(id AS BIGINT) FROM job p WHERE job_id = $1 AND status = 'running' \
             AND worker_id IS NULL AND EXISTS (SELECT 1 FROM job c WHERE c.parent_id = p.id)",
        )
        .bind(job_id)
        .fetch_optional(pool)
        .await
    })
}

/// Settles every parked parent (progress, and the outcome of those whose
/// shards all finished); returns how many were finished.
pub async fn settle_parked(db: &Db) -> Result<u64, sqlx::Error> {
    let parents: Vec<i64> = with_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT CAST(id AS BIGINT) FROM job p WHERE status = 'running' \
             AND worker_id IS NULL AND EXISTS (SELECT 1 FROM job c WHERE c.parent_id = p.id)",
        )
        .fetch_all(pool)
        .await
    })?;
    let mut finished = 0;
    for parent in parents {
        if settle(db, parent).await? {
            finished += 1;
        }
    }
    Ok(finished)
}

type ShardRow = (
    String,
    String,
    Option<Json<Value>>,
    i64,
    Option<String>,
    Option<Json<Value>>,
);

/// Publishes the progress of parked parent `parent_id` and, once every
/// shard finished, its outcome; true when this call finished it.
pub async fn settle(db: &Db, parent_id: i64) -> Result<bool, sqlx::Error> {
    let shards: Vec<ShardRow> = with_db!(db, pool => {
        sqlx::query_as(
            "SELECT job_id, status, result, CAST(progress_done AS BIGINT), error_type, error \
             FROM job WHERE parent_id = $1 ORDER BY id",
        )
        .bind(parent_id)
        .fetch_all(pool)
        .await
    })?;
    if shards.is_empty() {
        return Ok(false);
    }
    let now = database_now(db).await?;
    let done: i64 = shards.iter().map(|shard| shard.3).sum();
    let open = shards
        .iter()
        .any(|shard| matches!(shard.1.as_str(), "pending" | "running"));
    if open {
        with_db!(db, pool => {
            sqlx::query(
                "UPDATE job SET progress_done = $2, updated_at = $3 \
                 WHERE id = $1 AND status = 'running' AND worker_id IS NULL",
            )
            .bind(parent_id)
            .bind(done)
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        return Ok(false);
    }
    let (cancel_requested, started_at): (bool, Option<DateTime<Utc>>) = with_db!(db, pool => {
        sqlx::query_as("SELECT cancel_requested, started_at FROM job WHERE id = $1")
            .bind(parent_id)
            .fetch_one(pool)
            .await
    })?;
    let outcome = aggregate(&shards, cancel_requested, started_at, now);
    let affected = with_db!(db, pool => {
        sqlx::query(
            "UPDATE job SET status = $2, result = $3, error_message = $4, error_type = $5, \
             error = $6, completed_at = $7, updated_at = $7, progress_done = $8 \
             WHERE id = $1 AND status = 'running' AND worker_id IS NULL",
        )
        .bind(parent_id)
        .bind(outcome.status)
        .bind(outcome.result.as_ref().map(Json))
        .bind(outcome.error_message.as_deref())
        .bind(outcome.error_type.as_deref())
        .bind(outcome.error.as_ref().map(Json))
        .bind(now)
        .bind(done)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(affected == 1)
}

/// A parent's final state.
#[derive(Debug, PartialEq)]
struct Outcome {
    status: &'static str,
    result: Option<Value>,
    error_message: Option<String>,
    error_type: Option<String>,
    error: Option<Value>,
}

/// The parent's outcome from its finished shards: cancelled when asked to
/// be (or a shard was cancelled), failed when a shard failed, else
/// completed with every shard's runs merged.
fn aggregate(
    shards: &[ShardRow],
    cancel_requested: bool,
    started_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Outcome {
    let count = shards.len();
    if cancel_requested || shards.iter().any(|shard| shard.1 == "cancelled") {
        let detail = "Cancelled by request while its shards ran";
        return Outcome {
            status: "cancelled",
            result: None,
            error_message: Some(detail.to_owned()),
            error_type: Some("CANCELLED".to_owned()),
            error: Some(json!({
                "type": "/errors/cancelled", "title": "Cancelled", "status": 409,
                "detail": detail, "code": "CANCELLED",
            })),
        };
    }
    if let Some((index, shard)) = shards
        .iter()
        .enumerate()
        .find(|(_, shard)| shard.1 != "completed")
    {
        let mut error = shard.5.as_ref().map_or_else(
            || json!({"type": "/errors/internal", "title": "Internal Server Error", "status": 500}),
            |error| error.0.clone(),
        );
        let cause = error["detail"].as_str().unwrap_or("no detail").to_owned();
        let detail = format!(
            "Shard {} of {count} (job {}) failed: {cause}",
            index + 1,
            shard.0
        );
        error["detail"] = json!(detail);
        return Outcome {
            status: "failed",
            result: None,
            error_message: Some(detail.chars().take(2000).collect()),
            error_type: Some(
                shard
                    .4
                    .clone()
                    .unwrap_or_else(|| "INTERNAL_ERROR".to_owned()),
            ),
            error: Some(error),
        };
    }
    let results: Vec<&Value> = shards
        .iter()
        .filter_map(|shard| shard.2.as_ref().map(|result| &result.0))
        .collect();
    let sum = |field: &str| -> u64 { results.iter().filter_map(|r| r[field].as_u64()).sum() };
    let mut runs: Vec<Value> = results
        .iter()
        .filter_map(|result| result["runs"].as_array())
        .flatten()
        .cloned()
        .collect();
    runs.sort_by_key(|entry| {
        (
            entry["store_id"].as_i64().unwrap_or_default(),
            entry["product_id"].as_i64().unwrap_or_default(),
        )
    });
    let first = results.first().copied().cloned().unwrap_or(Value::Null);
    let duration_ms = started_at.map_or(0.0, |at| (now - at).num_milliseconds() as f64);
    Outcome {
        status: "completed",
        result: Some(json!({
            "model_type": first["model_type"],
            "series_total": sum("series_total"),
            "series_succeeded": sum("series_succeeded"),
            "series_failed": sum("series_failed"),
            "backtest": first["backtest"],
            "runs": runs,
            "duration_ms": duration_ms,
            "shards": count,
        })),
        error_message: None,
        error_type: None,
        error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(status: &str, result: Option<Value>) -> ShardRow {
        (
            format!("job-{status}"),
            status.to_owned(),
            result.map(Json),
            1,
            (status == "failed").then(|| "BAD_REQUEST".to_owned()),
            (status == "failed").then(|| Json(json!({"status": 400, "detail": "boom"}))),
        )
    }

    #[test]
    fn series_round_trip() {
        let keys = vec![
            SeriesKey {
                store_id: 1,
                product_id: 2,
            },
            SeriesKey {
                store_id: 3,
                product_id: 4,
            },
        ];
        assert_eq!(decode_series(&encode_series(&keys)).unwrap(), keys);
        assert!(decode_series(&json!([[1]])).is_none());
        assert!(decode_series(&json!({"a": 1})).is_none());
    }

    #[test]
    fn completed_shards_merge() {
        let run = |s: i64| json!({"store_id": s, "product_id": 1, "status": "success"});
        let shards = vec![
            shard(
                "completed",
                Some(json!({"model_type": "naive", "backtest": false,
                "series_total": 2, "series_succeeded": 1, "series_failed": 1,
                "runs": [run(3), run(4)]})),
            ),
            shard(
                "completed",
                Some(json!({"model_type": "naive", "backtest": false,
                "series_total": 2, "series_succeeded": 2, "series_failed": 0,
                "runs": [run(1), run(2)]})),
            ),
        ];
        let now = Utc::now();
        let outcome = aggregate(&shards, false, Some(now), now);
        assert_eq!(outcome.status, "completed");
        let result = outcome.result.unwrap();
        assert_eq!(result["series_total"], 4);
        assert_eq!(result["series_succeeded"], 3);
        assert_eq!(result["series_failed"], 1);
        assert_eq!(result["shards"], 2);
        let stores: Vec<i64> = result["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["store_id"].as_i64().unwrap())
            .collect();
        assert_eq!(stores, [1, 2, 3, 4]);
    }

    #[test]
    fn a_failed_or_cancelled_shard_decides() {
        let now = Utc::now();
        let failed = aggregate(
            &[shard("completed", Some(json!({}))), shard("failed", None)],
            false,
            None,
            now,
        );
        assert_eq!(failed.status, "failed");
        assert_eq!(failed.error_type.as_deref(), Some("BAD_REQUEST"));
        assert!(failed
            .error_message
            .unwrap()
            .starts_with("Shard 2 of 2 (job job-failed) failed: boom"));
        let cancelled = aggregate(&[shard("completed", Some(json!({})))], true, None, now);
        assert_eq!(cancelled.status, "cancelled");
        let cancelled = aggregate(&[shard("cancelled", None)], false, None, now);
        assert_eq!(cancelled.status, "cancelled");
    }
}
