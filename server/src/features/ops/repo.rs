//! Read-only SQL of the ops view over `model_run`, `deployment_alias`,
//! `job` and `sales_daily`. Written once for both dialects except the JSON
//! extraction of backtest job results.

use chrono::NaiveDate;
use serde_json::Value;
use sqlx::types::Json;

use crate::{db::Db, with_db};

/// The newest sales day of the series of the run aliased `r`.
const LATEST_DATA: &str = "(SELECT MAX(s.date) FROM sales_daily s \
     WHERE s.store_id = r.store_id AND s.product_id = r.product_id)";

/// `(status, count)` of a table with a `status` column.
pub(crate) async fn status_counts(
    db: &Db,
    table: &'static str,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let sql = format!("SELECT status, CAST(COUNT(*) AS BIGINT) FROM {table} GROUP BY status");
    with_db!(db, pool => {
        sqlx::query_as::<_, (String, i64)>(&sql).fetch_all(pool).await
    })
}

/// An alias with the facts of its run.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AliasRow {
    pub(crate) alias_name: String,
    /// Internal id of the run (orders registrations).
    pub(crate) id: i64,
    pub(crate) run_id: String,
    pub(crate) model_type: String,
    pub(crate) status: String,
    pub(crate) store_id: i64,
    pub(crate) product_id: i64,
    pub(crate) data_window_end: NaiveDate,
    pub(crate) runtime_info: Option<Json<Value>>,
    pub(crate) metrics: Option<Json<Value>>,
    pub(crate) latest_data_date: Option<NaiveDate>,
}

/// Every alias with its run, by name; the most recently moved alias of a
/// series first among equals is decided by the caller.
pub(crate) async fn aliases(db: &Db) -> Result<Vec<AliasRow>, sqlx::Error> {
    let sql = format!(
        "SELECT a.alias_name, CAST(r.id AS BIGINT) AS id, r.run_id, r.model_type, r.status, \
         CAST(r.store_id AS BIGINT) AS store_id, CAST(r.product_id AS BIGINT) AS product_id, \
         r.data_window_end, r.runtime_info, r.metrics, {LATEST_DATA} AS latest_data_date \
         FROM deployment_alias a JOIN model_run r ON r.id = a.run_id \
         ORDER BY a.updated_at DESC, a.id DESC"
    );
    with_db!(db, pool => {
        sqlx::query_as::<_, AliasRow>(&sql).fetch_all(pool).await
    })
}

/// A run id with its `runtime_info` and `metrics`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RunBrief {
    pub(crate) run_id: String,
    pub(crate) runtime_info: Option<Json<Value>>,
    pub(crate) metrics: Option<Json<Value>>,
}

/// The newest `success` run of a series registered after the run with
/// internal id `after`.
pub(crate) async fn newer_success_run(
    db: &Db,
    store_id: i64,
    product_id: i64,
    after: i64,
) -> Result<Option<RunBrief>, sqlx::Error> {
    const SQL: &str = "SELECT run_id, runtime_info, metrics FROM model_run \
        WHERE status = 'success' AND store_id = $1 AND product_id = $2 AND id > $3 \
        ORDER BY id DESC LIMIT 1";
    with_db!(db, pool => {
        sqlx::query_as::<_, RunBrief>(SQL)
            .bind(store_id)
            .bind(product_id)
            .bind(after)
            .fetch_optional(pool)
            .await
    })
}

/// Up to 20 `success` runs of a series and model type registered before
/// the run with internal id `before`, newest first.
pub(crate) async fn earlier_success_runs(
    db: &Db,
    alias: &AliasRow,
) -> Result<Vec<RunBrief>, sqlx::Error> {
    const SQL: &str = "SELECT run_id, runtime_info, metrics FROM model_run \
        WHERE status = 'success' AND store_id = $1 AND product_id = $2 AND model_type = $3 \
        AND id < $4 AND metrics IS NOT NULL ORDER BY id DESC LIMIT 20";
    with_db!(db, pool => {
        sqlx::query_as::<_, RunBrief>(SQL)
            .bind(alias.store_id)
            .bind(alias.product_id)
            .bind(&alias.model_type)
            .bind(alias.id)
            .fetch_all(pool)
            .await
    })
}

/// The freshest `success` run of each series (latest data window) with
/// the series' newest sales day.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SeriesChampion {
    pub(crate) run_id: String,
    pub(crate) model_type: String,
    pub(crate) store_id: i64,
    pub(crate) product_id: i64,
    pub(crate) data_window_end: NaiveDate,
    pub(crate) latest_data_date: Option<NaiveDate>,
}

/// [`SeriesChampion`] of every series with a `success` run.
pub(crate) async fn freshest_runs(db: &Db) -> Result<Vec<SeriesChampion>, sqlx::Error> {
    let sql = format!(
        "SELECT r.run_id, r.model_type, CAST(r.store_id AS BIGINT) AS store_id, \
         CAST(r.product_id AS BIGINT) AS product_id, r.data_window_end, \
         {LATEST_DATA} AS latest_data_date \
         FROM (SELECT run_id, model_type, store_id, product_id, data_window_end, \
               ROW_NUMBER() OVER (PARTITION BY store_id, product_id \
                                  ORDER BY data_window_end DESC, id DESC) AS rn \
               FROM model_run WHERE status = 'success') r \
         WHERE r.rn = 1"
    );
    with_db!(db, pool => {
        sqlx::query_as::<_, SeriesChampion>(&sql).fetch_all(pool).await
    })
}

/// One completed backtest job: series, model type and WAPE.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BacktestScore {
    pub(crate) store_id: i64,
    pub(crate) product_id: i64,
    pub(crate) model_type: String,
    pub(crate) wape: Option<f64>,
}

/// The newest 2,000 completed backtest jobs, newest first.
pub(crate) async fn backtest_scores(db: &Db) -> Result<Vec<BacktestScore>, sqlx::Error> {
    const TAIL: &str = "FROM job WHERE job_type = 'backtest' AND status = 'completed' \
        AND result IS NOT NULL ORDER BY completed_at DESC, id DESC LIMIT 2000";
    let sql = match db {
        Db::Postgres(_) => format!(
            "SELECT CAST(result->>'store_id' AS BIGINT), CAST(result->>'product_id' AS BIGINT), \
             result->>'model_type', \
             CAST(result->'aggregated_metrics'->>'wape' AS DOUBLE PRECISION) {TAIL}"
        ),
        Db::Sqlite(_) => format!(
            "SELECT CAST(json_extract(result, '$.store_id') AS INTEGER), \
             CAST(json_extract(result, '$.product_id') AS INTEGER), \
             json_extract(result, '$.model_type'), \
             CAST(json_extract(result, '$.aggregated_metrics.wape') AS REAL) {TAIL}"
        ),
    };
    type Score = (Option<i64>, Option<i64>, Option<String>, Option<f64>);
    let rows = with_db!(db, pool => {
        sqlx::query_as::<_, Score>(&sql).fetch_all(pool).await
    })?;
    Ok(rows
        .into_iter()
        .map(|(store_id, product_id, model_type, wape)| BacktestScore {
            store_id: store_id.unwrap_or_default(),
            product_id: product_id.unwrap_or_default(),
            model_type: model_type.unwrap_or_default(),
            wape,
        })
        .collect())
}
