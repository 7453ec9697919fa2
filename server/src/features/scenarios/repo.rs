//! SQL of the `scenario_plan` table and the unit-price look-up of
//! scenarios.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use forecastlab_core::SeriesKey;
use serde_json::Value;
use sqlx::types::Json;

use crate::{
    db::{Backend, Db},
    with_db,
};

/// Unit price of the most recent priced `sales_daily` row of each series
/// in `keys` (one query; series without priced sales are absent).
pub async fn latest_unit_prices(
    db: &Db,
    keys: &[SeriesKey],
) -> Result<HashMap<SeriesKey, f64>, sqlx::Error> {
    let mut out = HashMap::with_capacity(keys.len());
    // Bounded batches keep the parameter count well under every backend's
    // limit.
    for chunk in keys.chunks(400) {
        let pairs: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
            .collect();
        let sql = format!(
            "SELECT CAST(s.store_id AS BIGINT), CAST(s.product_id AS BIGINT), \
             CAST(s.unit_price AS DOUBLE PRECISION) FROM sales_daily s \
             JOIN (SELECT store_id, product_id, MAX(date) AS date FROM sales_daily \
                   WHERE unit_price IS NOT NULL AND (store_id, product_id) IN ({}) \
                   GROUP BY store_id, product_id) m \
             ON s.store_id = m.store_id AND s.product_id = m.product_id AND s.date = m.date",
            pairs.join(", ")
        );
        let rows: Vec<(i64, i64, f64)> = with_db!(db, pool => {
            let mut query = sqlx::query_as::<_, (i64, i64, f64)>(&sql);
            for key in chunk {
                query = query.bind(key.store_id).bind(key.product_id);
            }
            query.fetch_all(pool).await
        })?;
        for (store_id, product_id, price) in rows {
            out.insert(
                SeriesKey {
                    store_id,
                    product_id,
                },
                price,
            );
        }
    }
    Ok(out)
}

/// A stored plan.
#[derive(Debug, sqlx::FromRow)]
pub struct PlanRow {
    /// 32-hex id.
    pub scenario_id: String,
    /// Name.
    pub name: String,
    /// Store.
    pub store_id: i64,
    /// Product.
    pub product_id: i64,
    /// Artifact key.
    pub run_id: String,
    /// Horizon.
    pub horizon: i64,
    /// Raw assumptions.
    pub assumptions: Json<Value>,
    /// Comparison snapshot.
    pub comparison: Json<Value>,
    /// Method.
    pub method: String,
    /// Tags.
    pub tags: Json<Value>,
    /// Source plan.
    pub cloned_from: Option<String>,
    /// `user` / `agent`.
    pub source: String,
    /// Agent session.
    pub agent_session_id: Option<String>,
    /// Approver.
    pub approved_by: Option<String>,
    /// Decision time.
    pub approved_at: Option<DateTime<Utc>>,
    /// Decision.
    pub approval_decision: Option<String>,
    /// Saved at.
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "scenario_id, name, CAST(store_id AS BIGINT) AS store_id, \
     CAST(product_id AS BIGINT) AS product_id, run_id, CAST(horizon AS BIGINT) AS horizon, \
     assumptions, comparison, method, tags, cloned_from, source, agent_session_id, approved_by, \
     approved_at, approval_decision, created_at";

/// A plan to insert.
#[derive(Debug)]
pub struct NewPlan<'a> {
    /// 32-hex id.
    pub scenario_id: &'a str,
    /// Name.
    pub name: &'a str,
    /// Series.
    pub key: SeriesKey,
    /// Artifact key.
    pub run_id: &'a str,
    /// Horizon.
    pub horizon: i64,
    /// Raw assumptions.
    pub assumptions: &'a Value,
    /// Comparison snapshot.
    pub comparison: &'a Value,
    /// Method.
    pub method: &'a str,
    /// Tags.
    pub tags: &'a [String],
    /// Source plan.
    pub cloned_from: Option<&'a str>,
    /// Saved at.
    pub created_at: DateTime<Utc>,
}

/// Inserts a plan (source `user`).
pub async fn insert(db: &Db, plan: &NewPlan<'_>) -> Result<(), sqlx::Error> {
    with_db!(db, pool => {
        sqlx::query(
            "INSERT INTO scenario_plan (scenario_id, name, store_id, product_id, run_id, horizon, \
             assumptions, comparison, method, tags, cloned_from, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
        )
        .bind(plan.scenario_id)
        .bind(plan.name)
        .bind(plan.key.store_id)
        .bind(plan.key.product_id)
        .bind(plan.run_id)
        .bind(plan.horizon)
        .bind(Json(plan.assumptions))
        .bind(Json(plan.comparison))
        .bind(plan.method)
        .bind(Json(plan.tags))
        .bind(plan.cloned_from)
        .bind(plan.created_at)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// One plan by id.
pub async fn find(db: &Db, scenario_id: &str) -> Result<Option<PlanRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM scenario_plan WHERE scenario_id = $1");
    with_db!(db, pool => {
        sqlx::query_as::<_, PlanRow>(&sql).bind(scenario_id).fetch_optional(pool).await
    })
}

/// Several plans by id (any order; unknown ids are absent).
pub async fn find_many(db: &Db, ids: &[String]) -> Result<Vec<PlanRow>, sqlx::Error> {
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT {COLUMNS} FROM scenario_plan WHERE scenario_id IN ({})",
        placeholders.join(", ")
    );
    with_db!(db, pool => {
        let mut query = sqlx::query_as::<_, PlanRow>(&sql);
        for id in ids {
            query = query.bind(id);
        }
        query.fetch_all(pool).await
    })
}

/// The tag filter: every tag must be in the plan's list (`$3…`).
fn tag_filter(backend: Backend, tags: usize, first: usize) -> String {
    (0..tags)
        .map(|i| match backend {
            Backend::Postgres => format!("tags @> jsonb_build_array(CAST(${} AS TEXT))", first + i),
            Backend::Sqlite => format!(
                "EXISTS (SELECT 1 FROM json_each(scenario_plan.tags) WHERE json_each.value = ${})",
                first + i
            ),
        })
        .fold("TRUE".to_owned(), |acc, clause| {
            format!("{acc} AND {clause}")
        })
}

/// A page of plans (newest first) carrying every tag in `tags`, and the
/// number of such plans.
pub async fn list(
    db: &Db,
    tags: &[String],
    limit: i64,
    offset: i64,
) -> Result<(Vec<PlanRow>, i64), sqlx::Error> {
    let filter = tag_filter(db.backend(), tags.len(), 3);
    let sql = format!(
        "SELECT {COLUMNS} FROM scenario_plan WHERE {filter} \
         ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2"
    );
    let count_filter = tag_filter(db.backend(), tags.len(), 1);
    let count_sql = format!("SELECT COUNT(*) FROM scenario_plan WHERE {count_filter}");
    with_db!(db, pool => {
        let mut query = sqlx::query_as::<_, PlanRow>(&sql).bind(limit).bind(offset);
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
        for tag in tags {
            query = query.bind(tag);
            count = count.bind(tag);
        }
        let rows = query.fetch_all(pool).await?;
        let total = count.fetch_one(pool).await?;
        Ok((rows, total))
    })
}

/// Deletes a plan; true when it existed.
pub async fn delete(db: &Db, scenario_id: &str) -> Result<bool, sqlx::Error> {
    let affected = with_db!(db, pool => {
        sqlx::query("DELETE FROM scenario_plan WHERE scenario_id = $1")
            .bind(scenario_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(affected > 0)
}
