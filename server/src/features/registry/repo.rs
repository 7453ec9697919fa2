//! SQL of the registry: `model_run`, `deployment_alias`, `alias_history`.
//! Every statement is written once for both dialects.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sqlx::types::Json;

use super::schemas::{AliasHistoryEntry, AliasResponse, RunResponse, RunStatus};
use crate::{
    db::{BeginWrite, Db},
    with_db,
};

/// A `model_run` row as stored.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RunRow {
    run_id: String,
    status: String,
    model_type: String,
    model_config: Json<Value>,
    feature_config: Option<Json<Value>>,
    config_hash: String,
    data_window_start: NaiveDate,
    data_window_end: NaiveDate,
    store_id: i32,
    product_id: i32,
    metrics: Option<Json<Value>>,
    artifact_uri: Option<String>,
    artifact_hash: Option<String>,
    artifact_size_bytes: Option<i32>,
    runtime_info: Option<Json<Value>>,
    agent_context: Option<Json<Value>>,
    git_sha: Option<String>,
    error_message: Option<String>,
    started_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl RunRow {
    pub(crate) fn into_response(self) -> RunResponse {
        let runtime_info = self.runtime_info.map(|json| json.0);
        let feature_frame_version = runtime_info
            .as_ref()
            .and_then(|info| info.get("feature_frame_version"))
            .and_then(Value::as_i64);
        let feature_groups = runtime_info
            .as_ref()
            .and_then(|info| info.get("feature_groups"))
            .filter(|groups| groups.is_object())
            .cloned();
        RunResponse {
            model_family: model_family(&self.model_type),
            run_id: self.run_id,
            status: RunStatus::parse(&self.status).unwrap_or(RunStatus::Pending),
            model_type: self.model_type,
            model_config: self.model_config.0,
            feature_config: self.feature_config.map(|json| json.0),
            config_hash: self.config_hash,
            data_window_start: self.data_window_start,
            data_window_end: self.data_window_end,
            store_id: i64::from(self.store_id),
            product_id: i64::from(self.product_id),
            metrics: self.metrics.map(|json| json.0),
            artifact_uri: self.artifact_uri,
            artifact_hash: self.artifact_hash,
            artifact_size_bytes: self.artifact_size_bytes.map(i64::from),
            runtime_info,
            agent_context: self.agent_context.map(|json| json.0),
            git_sha: self.git_sha,
            error_message: self.error_message,
            feature_frame_version,
            feature_groups,
            started_at: self.started_at,
            completed_at: self.completed_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

const RUN_COLUMNS: &str = "run_id, status, model_type, model_config, feature_config, config_hash, \
     data_window_start, data_window_end, store_id, product_id, metrics, artifact_uri, \
     artifact_hash, artifact_size_bytes, runtime_info, agent_context, git_sha, error_message, \
     started_at, completed_at, created_at, updated_at";

/// Values of a new run.
#[derive(Debug)]
pub(crate) struct NewRun<'a> {
    pub(crate) run_id: &'a str,
    pub(crate) model_type: &'a str,
    pub(crate) model_config: &'a Value,
    pub(crate) feature_config: Option<&'a Value>,
    pub(crate) config_hash: &'a str,
    pub(crate) data_window_start: NaiveDate,
    pub(crate) data_window_end: NaiveDate,
    pub(crate) store_id: i64,
    pub(crate) product_id: i64,
    pub(crate) runtime_info: &'a Value,
    pub(crate) agent_context: Option<&'a Value>,
    pub(crate) git_sha: Option<&'a str>,
    /// Set for a run registered in its final state; `None` inserts it
    /// `pending`.
    pub(crate) ended: Option<Ended<'a>>,
}

/// The final state of a run inserted after its work ended.
#[derive(Debug)]
pub(crate) struct Ended<'a> {
    pub(crate) status: RunStatus,
    pub(crate) started_at: DateTime<Utc>,
    pub(crate) metrics: Option<&'a Value>,
    /// `(uri, sha256, size)`.
    pub(crate) artifact: Option<(&'a str, &'a str, i64)>,
    pub(crate) error_message: Option<&'a str>,
}

pub(crate) async fn insert_run(db: &Db, run: &NewRun<'_>) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    let ended = run.ended.as_ref();
    let status = ended.map_or(RunStatus::Pending, |e| e.status);
    let artifact = ended.and_then(|e| e.artifact);
    with_db!(db, pool => {
        sqlx::query(
            "INSERT INTO model_run (run_id, status, model_type, model_config, feature_config, \
             config_hash, data_window_start, data_window_end, store_id, product_id, runtime_info, \
             agent_context, git_sha, created_at, updated_at, metrics, artifact_uri, artifact_hash, \
             artifact_size_bytes, error_message, started_at, completed_at) \
             VALUES ($1, $14, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $15, $16, \
             $17, $18, $19, $20, $21)",
        )
        .bind(run.run_id)
        .bind(run.model_type)
        .bind(Json(run.model_config))
        .bind(run.feature_config.map(Json))
        .bind(run.config_hash)
        .bind(run.data_window_start)
        .bind(run.data_window_end)
        .bind(run.store_id)
        .bind(run.product_id)
        .bind(Json(run.runtime_info))
        .bind(run.agent_context.map(Json))
        .bind(run.git_sha)
        .bind(now)
        .bind(status.as_str())
        .bind(ended.and_then(|e| e.metrics).map(Json))
        .bind(artifact.map(|(uri, _, _)| uri))
        .bind(artifact.map(|(_, hash, _)| hash))
        .bind(artifact.map(|(_, _, size)| size))
        .bind(ended.and_then(|e| e.error_message))
        .bind(ended.map(|e| e.started_at))
        .bind(ended.map(|_| now))
        .execute(pool)
        .await
        .map(|_| ())
    })
}

pub(crate) async fn find_run(db: &Db, run_id: &str) -> Result<Option<RunResponse>, sqlx::Error> {
    let sql = format!("SELECT {RUN_COLUMNS} FROM model_run WHERE run_id = $1");
    let row = with_db!(db, pool => {
        sqlx::query_as::<_, RunRow>(&sql).bind(run_id).fetch_optional(pool).await
    })?;
    Ok(row.map(RunRow::into_response))
}

/// How many of a series' newest runs of a config and window the
/// duplicate check reads.
pub(crate) const DUPLICATE_CANDIDATES: usize = 20;

/// A series' duplicate candidates: `(run_id, runtime_info)`, newest first.
pub(crate) type Candidates = Vec<(String, Option<Value>)>;

/// Series whose duplicate candidates one query reads.
const DUPLICATE_KEYS_PER_QUERY: usize = 200;

/// Non-archived runs with the same config hash, series and window, newest
/// first, with their runtime_info (for the feature frame version).
pub(crate) async fn duplicate_candidates(
    db: &Db,
    config_hash: &str,
    store_id: i64,
    product_id: i64,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Candidates, sqlx::Error> {
    let rows: Vec<(String, Option<Json<Value>>)> = with_db!(db, pool => {
        sqlx::query_as(
            "SELECT run_id, runtime_info FROM model_run WHERE config_hash = $1 AND store_id = $2 \
             AND product_id = $3 AND data_window_start = $4 AND data_window_end = $5 \
             AND status <> 'archived' ORDER BY created_at DESC, id DESC LIMIT $6",
        )
        .bind(config_hash)
        .bind(store_id)
        .bind(product_id)
        .bind(start)
        .bind(end)
        .bind(DUPLICATE_CANDIDATES as i64)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(|(id, info)| (id, info.map(|json| json.0)))
        .collect())
}

/// [`duplicate_candidates`] of many series (`(store_id, product_id)`) of
/// one config hash and window: each series' newest
/// [`DUPLICATE_CANDIDATES`] runs, newest first.
pub(crate) async fn duplicate_candidates_many(
    db: &Db,
    config_hash: &str,
    keys: &[(i64, i64)],
    start: NaiveDate,
    end: NaiveDate,
) -> Result<HashMap<(i64, i64), Candidates>, sqlx::Error> {
    type CandidateRow = (i32, i32, String, Option<Json<Value>>);
    let mut found: HashMap<(i64, i64), Candidates> = HashMap::new();
    for group in keys.chunks(DUPLICATE_KEYS_PER_QUERY) {
        let series = (0..group.len())
            .map(|i| format!("(${}, ${})", 5 + 2 * i, 6 + 2 * i))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT store_id, product_id, run_id, runtime_info FROM (\
             SELECT store_id, product_id, run_id, runtime_info, created_at, id, ROW_NUMBER() \
             OVER (PARTITION BY store_id, product_id ORDER BY created_at DESC, id DESC) AS newest_rank \
             FROM model_run WHERE config_hash = $1 AND data_window_start = $2 \
             AND data_window_end = $3 AND status <> 'archived' \
             AND (store_id, product_id) IN (VALUES {series})) AS newest \
             WHERE newest_rank <= $4 ORDER BY store_id, product_id, created_at DESC, id DESC"
        );
        let rows: Vec<CandidateRow> = with_db!(db, pool => {
            let mut query = sqlx::query_as(&sql)
                .bind(config_hash)
                .bind(start)
                .bind(end)
                .bind(DUPLICATE_CANDIDATES as i64);
            for (store_id, product_id) in group {
                query = query.bind(*store_id).bind(*product_id);
            }
            query.fetch_all(pool).await
        })?;
        for (store_id, product_id, run_id, info) in rows {
            found
                .entry((i64::from(store_id), i64::from(product_id)))
                .or_default()
                .push((run_id, info.map(|json| json.0)));
        }
    }
    Ok(found)
}

/// Filters and ordering of a run listing; `order_by` is an allow-listed
/// column name, never client text.
#[derive(Debug)]
pub(crate) struct RunFilter<'a> {
    pub(crate) model_type: Option<&'a str>,
    pub(crate) status: Option<RunStatus>,
    pub(crate) store_id: Option<i64>,
    pub(crate) product_id: Option<i64>,
    pub(crate) order_by: &'static str,
    pub(crate) descending: bool,
    pub(crate) limit: i64,
    pub(crate) offset: i64,
}

const RUN_WHERE: &str = "($1 IS NULL OR model_type = $1) AND ($2 IS NULL OR status = $2) \
     AND ($3 IS NULL OR store_id = $3) AND ($4 IS NULL OR product_id = $4)";

pub(crate) async fn list_runs(
    db: &Db,
    filter: &RunFilter<'_>,
) -> Result<(Vec<RunResponse>, i64), sqlx::Error> {
    let direction = if filter.descending { "DESC" } else { "ASC" };
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM model_run WHERE {RUN_WHERE} \
         ORDER BY {} {direction}, id {direction} LIMIT $5 OFFSET $6",
        filter.order_by
    );
    let count_sql = format!("SELECT COUNT(*) FROM model_run WHERE {RUN_WHERE}");
    let status = filter.status.map(RunStatus::as_str);
    let (rows, total) = with_db!(db, pool => {
        let rows = sqlx::query_as::<_, RunRow>(&sql)
            .bind(filter.model_type)
            .bind(status)
            .bind(filter.store_id)
            .bind(filter.product_id)
            .bind(filter.limit)
            .bind(filter.offset)
            .fetch_all(pool)
            .await?;
        let total: i64 = sqlx::query_scalar(&count_sql)
            .bind(filter.model_type)
            .bind(status)
            .bind(filter.store_id)
            .bind(filter.product_id)
            .fetch_one(pool)
            .await?;
        Ok::<_, sqlx::Error>((rows, total))
    })?;
    Ok((rows.into_iter().map(RunRow::into_response).collect(), total))
}

/// Field changes of a PATCH (already validated).
#[derive(Debug, Default)]
pub(crate) struct RunChanges<'a> {
    pub(crate) status: Option<RunStatus>,
    pub(crate) metrics: Option<&'a Value>,
    pub(crate) artifact_uri: Option<&'a str>,
    pub(crate) artifact_hash: Option<&'a str>,
    pub(crate) artifact_size_bytes: Option<i64>,
    pub(crate) error_message: Option<&'a str>,
    pub(crate) set_started_at: bool,
    pub(crate) set_completed_at: bool,
}

/// Applies `changes` when the run is still in `expected` status; false when
/// no row matched (missing, or the status changed meanwhile).
pub(crate) async fn update_run(
    db: &Db,
    run_id: &str,
    expected: RunStatus,
    changes: &RunChanges<'_>,
) -> Result<bool, sqlx::Error> {
    let now = Utc::now();
    let started = changes.set_started_at.then_some(now);
    let completed = changes.set_completed_at.then_some(now);
    let affected = with_db!(db, pool => {
        sqlx::query(
            "UPDATE model_run SET status = COALESCE($3, status), metrics = COALESCE($4, metrics), \
             artifact_uri = COALESCE($5, artifact_uri), artifact_hash = COALESCE($6, artifact_hash), \
             artifact_size_bytes = COALESCE($7, artifact_size_bytes), \
             error_message = COALESCE($8, error_message), started_at = COALESCE($9, started_at), \
             completed_at = COALESCE($10, completed_at), updated_at = $11 \
             WHERE run_id = $1 AND status = $2",
        )
        .bind(run_id)
        .bind(expected.as_str())
        .bind(changes.status.map(RunStatus::as_str))
        .bind(changes.metrics.map(Json))
        .bind(changes.artifact_uri)
        .bind(changes.artifact_hash)
        .bind(changes.artifact_size_bytes)
        .bind(changes.error_message)
        .bind(started)
        .bind(completed)
        .bind(now)
        .execute(pool)
        .await
        .map(|result| result.rows_affected())
    })?;
    Ok(affected == 1)
}

#[derive(Debug, sqlx::FromRow)]
struct AliasRow {
    alias_name: String,
    run_id: String,
    run_status: String,
    model_type: String,
    description: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<AliasRow> for AliasResponse {
    fn from(row: AliasRow) -> Self {
        Self {
            alias_name: row.alias_name,
            run_id: row.run_id,
            run_status: RunStatus::parse(&row.run_status).unwrap_or(RunStatus::Pending),
            model_type: row.model_type,
            description: row.description,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

const ALIAS_SELECT: &str = "SELECT a.alias_name, r.run_id, r.status AS run_status, r.model_type, \
     a.description, a.created_at, a.updated_at \
     FROM deployment_alias a JOIN model_run r ON r.id = a.run_id";

pub(crate) async fn find_alias(db: &Db, name: &str) -> Result<Option<AliasResponse>, sqlx::Error> {
    let sql = format!("{ALIAS_SELECT} WHERE a.alias_name = $1");
    let row = with_db!(db, pool => {
        sqlx::query_as::<_, AliasRow>(&sql).bind(name).fetch_optional(pool).await
    })?;
    Ok(row.map(Into::into))
}

pub(crate) async fn list_aliases(db: &Db) -> Result<Vec<AliasResponse>, sqlx::Error> {
    let sql = format!("{ALIAS_SELECT} ORDER BY a.alias_name ASC");
    let rows = with_db!(db, pool => sqlx::query_as::<_, AliasRow>(&sql).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Audit fields of an alias change.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Audit<'a> {
    pub(crate) actor: Option<&'a str>,
    pub(crate) reason: Option<&'a str>,
}

/// Appends one `alias_history` row through the open transaction `$tx`.
macro_rules! record_history {
    ($tx:expr, $name:expr, $action:expr, $from:expr, $to:expr, $description:expr, $audit:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO alias_history (alias_name, action, from_run_id, to_run_id, description, \
             actor, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind($name)
        .bind($action)
        .bind($from)
        .bind($to)
        .bind($description)
        .bind($audit.actor)
        .bind($audit.reason)
        .bind($now)
        .execute($tx)
        .await?
    };
}

/// Creates or moves `name` onto the run with internal id of `run_id` and
/// records the change; returns the history action.
pub(crate) async fn upsert_alias(
    db: &Db,
    name: &str,
    run_id: &str,
    description: Option<&str>,
    audit: Audit<'_>,
) -> Result<&'static str, sqlx::Error> {
    let now = Utc::now();
    with_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let previous: Option<String> = sqlx::query_scalar(
            "SELECT r.run_id FROM deployment_alias a JOIN model_run r ON r.id = a.run_id \
             WHERE a.alias_name = $1",
        )
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO deployment_alias (alias_name, run_id, description, created_at, updated_at) \
             VALUES ($1, (SELECT id FROM model_run WHERE run_id = $2), $3, $4, $4) \
             ON CONFLICT (alias_name) DO UPDATE SET run_id = EXCLUDED.run_id, \
             description = EXCLUDED.description, updated_at = EXCLUDED.updated_at",
        )
        .bind(name)
        .bind(run_id)
        .bind(description)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let action = match previous.as_deref() {
            None => "create",
            Some(old) if old == run_id => "update",
            Some(_) => "move",
        };
        record_history!(&mut *tx, name, action, previous.as_deref(), Some(run_id), description, audit, now);
        tx.commit().await?;
        Ok(action)
    })
}

/// Deletes `name` and records it; false when it did not exist.
pub(crate) async fn delete_alias(
    db: &Db,
    name: &str,
    audit: Audit<'_>,
) -> Result<bool, sqlx::Error> {
    let now = Utc::now();
    with_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let previous: Option<(String, Option<String>)> = sqlx::query_as(
            "SELECT r.run_id, a.description FROM deployment_alias a JOIN model_run r ON r.id = a.run_id \
             WHERE a.alias_name = $1",
        )
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((old_run, description)) = previous else {
            return Ok(false);
        };
        let deleted = sqlx::query("DELETE FROM deployment_alias WHERE alias_name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if deleted == 0 {
            return Ok(false);
        }
        record_history!(&mut *tx, name, "delete", Some(old_run), None::<&str>, description, audit, now);
        tx.commit().await?;
        Ok(true)
    })
}

#[derive(Debug, sqlx::FromRow)]
struct HistoryRow {
    alias_name: String,
    action: String,
    from_run_id: Option<String>,
    to_run_id: Option<String>,
    description: Option<String>,
    actor: Option<String>,
    reason: Option<String>,
    created_at: DateTime<Utc>,
}

pub(crate) async fn alias_history(
    db: &Db,
    name: &str,
) -> Result<Vec<AliasHistoryEntry>, sqlx::Error> {
    let rows = with_db!(db, pool => {
        sqlx::query_as::<_, HistoryRow>(
            "SELECT alias_name, action, from_run_id, to_run_id, description, actor, reason, \
             created_at FROM alias_history WHERE alias_name = $1 ORDER BY id ASC",
        )
        .bind(name)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(|row| AliasHistoryEntry {
            alias_name: row.alias_name,
            action: row.action,
            from_run_id: row.from_run_id,
            to_run_id: row.to_run_id,
            description: row.description,
            actor: row.actor,
            reason: row.reason,
            created_at: row.created_at,
        })
        .collect())
}

/// `baseline`, `tree` or `additive` for a model type (unknown → baseline).
pub fn model_family(model_type: &str) -> &'static str {
    if forecastlab_core::taxonomy::lookup(model_type).is_none() {
        if let Some(registration) = forecastlab_core::model(model_type) {
            return registration.family.as_str();
        }
        tracing::warn!(model_type, "unknown model type; reporting family baseline");
    }
    forecastlab_core::taxonomy::family_of(model_type).as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_come_from_the_taxonomy() {
        assert_eq!(model_family("naive"), "baseline");
        assert_eq!(model_family("lightgbm"), "tree");
        assert_eq!(model_family("prophet_like"), "additive");
        assert_eq!(model_family("something_else"), "baseline");
    }
}
