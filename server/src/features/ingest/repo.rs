//! SQL of the ingest slice: natural-key resolution and the bulk upsert.
//!
//! Both backends resolve keys with two set queries. The upsert is
//! backend-specific because that is where the speed is: PostgreSQL gets the
//! whole batch as seven arrays in **one** `INSERT … SELECT FROM UNNEST(…)`
//! statement; SQLite gets multi-row `INSERT … VALUES (…),(…) … ON CONFLICT`
//! statements of [`SQLITE_ROWS_PER_STATEMENT`] rows inside one transaction
//! (SQLite limits the number of bound parameters per statement).

use crate::db::BeginWrite;
use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::{prelude::ToPrimitive, Decimal};

use crate::db::Db;

/// A row whose natural keys resolved, ready to write.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResolvedRow {
    pub(crate) date: NaiveDate,
    pub(crate) store_id: i32,
    pub(crate) product_id: i32,
    pub(crate) quantity: i32,
    /// None: no price in the row and no base price (stored as NULL).
    pub(crate) unit_price: Option<Decimal>,
    pub(crate) total_amount: Option<Decimal>,
}

/// A product found by SKU: its id and base price.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Product {
    pub(crate) id: i32,
    pub(crate) base_price: Option<Decimal>,
}

/// What the two set queries found.
#[derive(Debug, Default)]
pub(crate) struct Resolution {
    pub(crate) stores: HashMap<String, i32>,
    pub(crate) products: HashMap<String, Product>,
}

/// Rows per SQLite statement: 6 parameters each keeps a statement at
/// 12,000 parameters, well under SQLite's limit of 32,766.
pub(crate) const SQLITE_ROWS_PER_STATEMENT: usize = 2_000;

/// (code, id) of a store.
type StoreKey = (String, i32);
/// (SKU, id, base price as text) of a product.
type ProductKey = (String, i32, Option<String>);

/// Resolves store codes and SKUs (exact, case-sensitive), with each
/// product's base price.
pub(crate) async fn resolve(
    db: &Db,
    codes: Vec<String>,
    skus: Vec<String>,
) -> Result<Resolution, sqlx::Error> {
    let (stores, products): (Vec<StoreKey>, Vec<ProductKey>) = match db {
        Db::Postgres(pool) => (
            sqlx::query_as("SELECT code, id FROM store WHERE code = ANY($1)")
                .bind(&codes)
                .fetch_all(pool)
                .await?,
            sqlx::query_as(
                "SELECT sku, id, CAST(base_price AS TEXT) FROM product WHERE sku = ANY($1)",
            )
            .bind(&skus)
            .fetch_all(pool)
            .await?,
        ),
        Db::Sqlite(pool) => {
            let json = |values: Vec<String>| serde_json::to_string(&values).unwrap_or_default();
            (
                sqlx::query_as(
                    "SELECT code, id FROM store WHERE code IN (SELECT value FROM json_each($1))",
                )
                .bind(json(codes))
                .fetch_all(pool)
                .await?,
                sqlx::query_as(
                    "SELECT sku, id, CAST(base_price AS TEXT) FROM product \
                     WHERE sku IN (SELECT value FROM json_each($1))",
                )
                .bind(json(skus))
                .fetch_all(pool)
                .await?,
            )
        }
    };
    Ok(Resolution {
        stores: stores.into_iter().collect(),
        products: products
            .into_iter()
            .map(|(sku, id, base_price)| {
                let base_price = base_price.and_then(|text| text.trim().parse::<Decimal>().ok());
                (sku, Product { id, base_price })
            })
            .collect(),
    })
}

const PG_UPSERT: &str = "INSERT INTO sales_daily \
     (date, store_id, product_id, quantity, unit_price, total_amount) \
     SELECT * FROM UNNEST($1::date[], $2::int4[], $3::int4[], $4::int4[], $5::numeric[], $6::numeric[]) \
     ON CONFLICT (date, store_id, product_id) DO UPDATE SET \
     quantity = EXCLUDED.quantity, unit_price = EXCLUDED.unit_price, \
     total_amount = EXCLUDED.total_amount, updated_at = now()";

const SQLITE_UPSERT_HEAD: &str = "INSERT INTO sales_daily \
     (date, store_id, product_id, quantity, unit_price, total_amount) VALUES ";

const SQLITE_UPSERT_TAIL: &str = " ON CONFLICT (date, store_id, product_id) DO UPDATE SET \
     quantity = excluded.quantity, unit_price = excluded.unit_price, \
     total_amount = excluded.total_amount, \
     updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

fn sqlite_upsert_sql(rows: usize) -> String {
    let mut sql = String::with_capacity(SQLITE_UPSERT_HEAD.len() + rows * 16 + 200);
    sql.push_str(SQLITE_UPSERT_HEAD);
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str("(?,?,?,?,?,?)");
    }
    sql.push_str(SQLITE_UPSERT_TAIL);
    sql
}

/// Inserts or updates `rows` (distinct grains) in one transaction; returns
/// the affected-row count (inserts + updates).
pub(crate) async fn upsert(db: &Db, rows: &[ResolvedRow]) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    match db {
        Db::Postgres(pool) => {
            let n = rows.len();
            let mut dates = Vec::with_capacity(n);
            let mut stores = Vec::with_capacity(n);
            let mut products = Vec::with_capacity(n);
            let mut quantities = Vec::with_capacity(n);
            let mut prices = Vec::with_capacity(n);
            let mut totals = Vec::with_capacity(n);
            for row in rows {
                dates.push(row.date);
                stores.push(row.store_id);
                products.push(row.product_id);
                quantities.push(row.quantity);
                prices.push(row.unit_price);
                totals.push(row.total_amount);
            }
            let result = sqlx::query(PG_UPSERT)
                .bind(dates)
                .bind(stores)
                .bind(products)
                .bind(quantities)
                .bind(prices)
                .bind(totals)
                .execute(pool)
                .await?;
            Ok(result.rows_affected())
        }
        Db::Sqlite(pool) => {
            let mut tx = pool.begin_write().await?;
            let mut affected = 0;
            for chunk in rows.chunks(SQLITE_ROWS_PER_STATEMENT) {
                let sql = sqlite_upsert_sql(chunk.len());
                let mut query = sqlx::query(&sql);
                for row in chunk {
                    query = query
                        .bind(row.date)
                        .bind(row.store_id)
                        .bind(row.product_id)
                        .bind(row.quantity)
                        .bind(row.unit_price.and_then(|price| price.to_f64()))
                        .bind(row.total_amount.and_then(|total| total.to_f64()));
                }
                affected += query.execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
            Ok(affected)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_statement_has_one_group_per_row() {
        let sql = sqlite_upsert_sql(3);
        assert_eq!(sql.matches("(?,?,?,?,?,?)").count(), 3);
        assert!(sql.contains("ON CONFLICT (date, store_id, product_id) DO UPDATE"));
        const { assert!(SQLITE_ROWS_PER_STATEMENT * 6 < 32_766) };
    }
}
