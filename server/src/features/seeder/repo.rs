//! SQL of the seeder slice: status counts, integrity checks and the
//! exogenous read. (Bulk writes live in the engine, `crate::seeder`.)

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;

use super::schemas::{ExogenousRecord, SeederStatus};
use crate::{db::Db, with_db};

const STATUS: &str = "SELECT \
    (SELECT CAST(COUNT(*) AS BIGINT) FROM store), \
    (SELECT CAST(COUNT(*) AS BIGINT) FROM product), \
    (SELECT CAST(COUNT(*) AS BIGINT) FROM calendar), \
    (SELECT CAST(COUNT(*) AS BIGINT) FROM sales_daily), \
    (SELECT CAST(COUNT(*) AS BIGINT) FROM inventory_snapshot_daily), \
    (SELECT CAST(COUNT(*) AS BIGINT) FROM price_history), \
    (SELECT CAST(COUNT(*) AS BIGINT) FROM promotion), \
    (SELECT CAST(COUNT(*) AS BIGINT) FROM exogenous_signal), \
    (SELECT CAST(COUNT(*) AS BIGINT) FROM sales_returns), \
    (SELECT CAST(COUNT(*) AS BIGINT) FROM replenishment_event)";

const SALES_RANGE: &str = "SELECT MIN(date), MAX(date) FROM sales_daily";
const LAST_UPDATED: &str = "SELECT updated_at FROM sales_daily ORDER BY updated_at DESC LIMIT 1";

/// Row counts and the sales date range.
pub(crate) async fn status(db: &Db) -> Result<SeederStatus, sqlx::Error> {
    with_db!(db, pool => {
        let row = sqlx::query(STATUS).fetch_one(pool).await?;
        let count = |i: usize| row.try_get::<i64, _>(i);
        let mut status = SeederStatus {
            stores: count(0)?,
            products: count(1)?,
            calendar: count(2)?,
            sales: count(3)?,
            inventory: count(4)?,
            price_history: count(5)?,
            promotions: count(6)?,
            exogenous_signals: count(7)?,
            sales_returns: count(8)?,
            replenishment_events: count(9)?,
            date_range_start: None,
            date_range_end: None,
            last_updated: None,
        };
        if status.sales > 0 {
            let range = sqlx::query(SALES_RANGE).fetch_one(pool).await?;
            status.date_range_start = range.try_get::<Option<NaiveDate>, _>(0)?;
            status.date_range_end = range.try_get::<Option<NaiveDate>, _>(1)?;
            status.last_updated = sqlx::query_scalar::<_, DateTime<Utc>>(LAST_UPDATED)
                .fetch_optional(pool)
                .await?;
        }
        Ok(status)
    })
}

/// (stores, products) in the database.
pub(crate) async fn dimension_counts(db: &Db) -> Result<(i64, i64), sqlx::Error> {
    const SQL: &str = "SELECT (SELECT CAST(COUNT(*) AS BIGINT) FROM store), \
        (SELECT CAST(COUNT(*) AS BIGINT) FROM product)";
    with_db!(db, pool => sqlx::query_as(SQL).fetch_one(pool).await)
}

/// Inputs of the five integrity checks.
#[derive(Debug, Default)]
pub(crate) struct VerifyCounts {
    pub(crate) orphan_store: i64,
    pub(crate) orphan_product: i64,
    pub(crate) orphan_calendar: i64,
    pub(crate) negative_quantity: i64,
    pub(crate) calendar_days: i64,
    pub(crate) calendar_span_days: Option<i64>,
    pub(crate) sales: i64,
    pub(crate) stores: i64,
    pub(crate) products: i64,
}

const VERIFY: &str = "SELECT \
    (SELECT CAST(COUNT(*) AS BIGINT) FROM sales_daily s WHERE NOT EXISTS (SELECT 1 FROM store t WHERE t.id = s.store_id)), \
    (SELECT CAST(COUNT(*) AS BIGINT) FROM sales_daily s WHERE NOT EXISTS (SELECT 1 FROM product p WHERE p.id = s.product_id)), \
    (SELECT CAST(COUNT(*) AS BIGINT) FROM sales_daily s WHERE NOT EXISTS (SELECT 1 FROM calendar c WHERE c.date = s.date)), \
    (SELECT CAST(COUNT(*) AS BIGINT) FROM sales_daily WHERE quantity < 0), \
    (SELECT CAST(COUNT(*) AS BIGINT) FROM calendar), \
    (SELECT CAST(COUNT(*) AS BIGINT) FROM sales_daily), \
    (SELECT CAST(COUNT(*) AS BIGINT) FROM store), \
    (SELECT CAST(COUNT(*) AS BIGINT) FROM product)";

const CALENDAR_RANGE: &str = "SELECT MIN(date), MAX(date) FROM calendar";

/// Counts for `POST /seeder/verify`.
pub(crate) async fn verify_counts(db: &Db) -> Result<VerifyCounts, sqlx::Error> {
    with_db!(db, pool => {
        let row = sqlx::query(VERIFY).fetch_one(pool).await?;
        let range = sqlx::query(CALENDAR_RANGE).fetch_one(pool).await?;
        let first: Option<NaiveDate> = range.try_get(0)?;
        let last: Option<NaiveDate> = range.try_get(1)?;
        Ok(VerifyCounts {
            orphan_store: row.try_get(0)?,
            orphan_product: row.try_get(1)?,
            orphan_calendar: row.try_get(2)?,
            negative_quantity: row.try_get(3)?,
            calendar_days: row.try_get(4)?,
            sales: row.try_get(5)?,
            stores: row.try_get(6)?,
            products: row.try_get(7)?,
            calendar_span_days: first.zip(last).map(|(a, b)| (b - a).num_days() + 1),
        })
    })
}

/// Rows that would answer an exogenous read (for the 50,000-row cap).
pub(crate) async fn exogenous_count(
    db: &Db,
    signal: &str,
    start: NaiveDate,
    end: NaiveDate,
    store_id: Option<i64>,
) -> Result<i64, sqlx::Error> {
    const SQL: &str = "SELECT CAST(COUNT(*) AS BIGINT) FROM exogenous_signal \
        WHERE signal_name = $1 AND date BETWEEN $2 AND $3 \
        AND ($4 IS NULL OR store_id = $4 OR is_global)";
    with_db!(db, pool => {
        sqlx::query_scalar(SQL)
            .bind(signal)
            .bind(start)
            .bind(end)
            .bind(store_id)
            .fetch_one(pool)
            .await
    })
}

/// The rows, date ascending then store (global rows first).
pub(crate) async fn exogenous_rows(
    db: &Db,
    signal: &str,
    start: NaiveDate,
    end: NaiveDate,
    store_id: Option<i64>,
) -> Result<Vec<ExogenousRecord>, sqlx::Error> {
    const SQL: &str = "SELECT date, signal_name, CAST(store_id AS BIGINT), is_global, value \
        FROM exogenous_signal \
        WHERE signal_name = $1 AND date BETWEEN $2 AND $3 \
        AND ($4 IS NULL OR store_id = $4 OR is_global) \
        ORDER BY date, CASE WHEN store_id IS NULL THEN 0 ELSE 1 END, store_id, id";
    with_db!(db, pool => {
        let rows = sqlx::query(SQL)
            .bind(signal)
            .bind(start)
            .bind(end)
            .bind(store_id)
            .fetch_all(pool)
            .await?;
        rows.iter()
            .map(|r| {
                let value: f64 = r.try_get(4)?;
                Ok(ExogenousRecord {
                    date: r.try_get(0)?,
                    signal_name: r.try_get(1)?,
                    store_id: r.try_get(2)?,
                    is_global: r.try_get(3)?,
                    value: value.is_finite().then_some(value),
                })
            })
            .collect()
    })
}
