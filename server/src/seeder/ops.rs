//! Deleting seeded data by scope (shared by `DELETE /seeder/data` and
//! `forecastlab seed --reset`).

use crate::db::BeginWrite;
use crate::db::Db;

/// Fact tables, in delete order.
pub const FACT_TABLES: [&str; 7] = [
    "replenishment_event",
    "sales_returns",
    "exogenous_signal",
    "sales_daily",
    "inventory_snapshot_daily",
    "price_history",
    "promotion",
];

/// Dimension tables, in delete order.
pub const DIMENSION_TABLES: [&str; 3] = ["store", "product", "calendar"];

/// What to delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteScope {
    /// Facts, then dimensions.
    All,
    /// Facts only.
    Facts,
    /// Dimensions (and the facts that reference them).
    Dimensions,
}

impl DeleteScope {
    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Facts => "facts",
            Self::Dimensions => "dimensions",
        }
    }

    /// Tables touched, in delete order.
    pub fn tables(self) -> Vec<&'static str> {
        let mut tables = FACT_TABLES.to_vec();
        if self != Self::Facts {
            tables.extend(DIMENSION_TABLES);
        }
        tables
    }
}

/// Counts (and unless `dry_run`, deletes) the rows of `scope`'s tables in
/// one transaction; returns (table, rows) in delete order.
pub async fn delete(
    db: &Db,
    scope: DeleteScope,
    dry_run: bool,
) -> Result<Vec<(&'static str, u64)>, sqlx::Error> {
    let mut out = Vec::new();
    crate::with_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        for table in scope.tables() {
            // Table names come from the fixed lists above, never from input.
            let count: i64 = sqlx::query_scalar(&format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}"))
                .fetch_one(&mut *tx)
                .await?;
            if !dry_run && count > 0 {
                sqlx::query(&format!("DELETE FROM {table}")).execute(&mut *tx).await?;
            }
            out.push((table, count.max(0) as u64));
        }
        if dry_run {
            tx.rollback().await?;
        } else {
            tx.commit().await?;
        }
        Ok::<(), sqlx::Error>(())
    })?;
    Ok(out)
}
