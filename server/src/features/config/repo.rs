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

/// What a change of embedder does to the RAG generations (see
/// `features::rag::generations`), written with the settings.
#[derive(Debug, Clone, Default)]
pub(crate) struct GenerationChange {
    /// Upsert this `(key, value)`: pins the serving embedder.
    pub(crate) pin: Option<(&'static str, Value)>,
    /// Delete the row of this key: the configured embedder serves again.
    pub(crate) unpin: Option<&'static str>,
    /// Delete the chunks of this abandoned target generation
    /// `(label, dimension)`.
    pub(crate) purge: Option<(String, i32)>,
}

/// Upserts every `(key, value)` and applies `generation`, in one
/// transaction.
pub(crate) async fn upsert(
    db: &Db,
    changes: &[(&str, Value)],
    generation: &GenerationChange,
) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    with_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        if let Some((label, dimension)) = &generation.purge {
            sqlx::query("DELETE FROM document_chunk WHERE embedder = $1 AND dimension = $2")
                .bind(label)
                .bind(*dimension)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(key) = generation.unpin {
            sqlx::query("DELETE FROM app_config WHERE key = $1")
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        if let Some((key, value)) = &generation.pin {
            sqlx::query(
                "INSERT INTO app_config (key, value, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, \
                 updated_at = EXCLUDED.updated_at",
            )
            .bind(*key)
            .bind(Json(value))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
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
