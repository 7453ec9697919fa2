//! SQL of `app_config`: one row per overridden key, value `{"v": scalar}`.

use chrono::Utc;
use serde_json::{json, Value};
use sqlx::types::Json;

use crate::{
    db::{BeginWrite, Db},
    with_db,
};

/// Every persisted override, `(key, value)`, sorted by key.
pub(crate) async fn overrides(db: &Db) -> Result<Vec<(String, Value)>, sqlx::Error> {
    let rows: Vec<(String, Json<Value>)> = with_db!(db, pool => {
        sqlx::query_as("SELECT key, value FROM app_config ORDER BY key")
            .fetch_all(pool)
            .await
    })?;
    Ok(rows
        .into_iter()
        .map(|(key, value)| (key, value.0.get("v").cloned().unwrap_or(Value::Null)))
        .collect())
}

/// Upserts every `(key, value)` in one transaction.
pub(crate) async fn upsert(db: &Db, changes: &[(&str, Value)]) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    with_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        for (key, value) in changes {
            sqlx::query(
                "INSERT INTO app_config (key, value, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, \
                 updated_at = EXCLUDED.updated_at",
            )
            .bind(*key)
            .bind(Json(json!({ "v": value })))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    })
}

/// Number of indexed RAG chunks.
pub(crate) async fn chunk_count(db: &Db) -> Result<i64, sqlx::Error> {
    with_db!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM document_chunk").fetch_one(pool).await
    })
}
