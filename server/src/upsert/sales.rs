//! Daily sales (`sales_daily`) by (date, store code, SKU): the write shared
//! by `POST /ingest/sales-daily` and `forecastlab import sales`, and the
//! [`Table`] the import streams through.
//!
//! The write is backend-specific because that is where the speed is:
//! PostgreSQL gets the whole batch as six arrays in **one**
//! `INSERT … SELECT FROM UNNEST(…)` statement; SQLite gets multi-row
//! `INSERT … VALUES (…),(…) … ON CONFLICT` statements of
//! [`SQLITE_ROWS_PER_STATEMENT`] rows inside one transaction (SQLite limits
//! the number of bound parameters per statement). Existing rows keep their
//! `created_at` and `channel` (new rows get `in_store`).

use chrono::NaiveDate;
use rust_decimal::{prelude::ToPrimitive, Decimal};

use super::{fields::MAX_TOTAL, rows::SalesDailyRow, KeyCache, ProductKey, RowError, Table};
use crate::{
    db::{BeginWrite, Db},
    extract::Violations,
};

/// A row whose natural keys resolved, ready to write.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResolvedRow {
    pub(crate) date: NaiveDate,
    pub(crate) store_id: i32,
    pub(crate) product_id: i32,
    pub(crate) quantity: i32,
    /// None: no price in the row and no base price (stored as NULL).
    pub(crate) unit_price: Option<Decimal>,
    /// None: no total and no price to compute it from (stored as NULL).
    pub(crate) total_amount: Option<Decimal>,
    /// The row gave no unit price and took the product's base price.
    pub(crate) price_from_base: bool,
}

/// `row` with ids and its prices: an absent unit price is the product's
/// base price (or none), an absent total is quantity × unit price (or none;
/// also none when the product would not fit `numeric(12,2)` — the row's
/// check refuses that when the unit price was given).
pub(crate) fn priced(row: &SalesDailyRow, store_id: i32, product: ProductKey) -> ResolvedRow {
    // Checked to be within 0..=i32::MAX.
    let quantity = i32::try_from(row.quantity).unwrap_or(i32::MAX);
    let unit_price = row.unit_price.or(product.base_price);
    let total_amount = row.total_amount.or_else(|| {
        unit_price
            .and_then(|price| price.checked_mul(Decimal::from(quantity)))
            .filter(|total| *total <= MAX_TOTAL)
    });
    ResolvedRow {
        date: row.date,
        store_id,
        product_id: product.id,
        quantity,
        unit_price,
        total_amount,
        price_from_base: row.unit_price.is_none() && product.base_price.is_some(),
    }
}

/// Rows per SQLite statement: 6 parameters each keeps a statement at
/// 12,000 parameters, well under SQLite's limit of 32,766.
pub(crate) const SQLITE_ROWS_PER_STATEMENT: usize = 2_000;

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
pub(crate) async fn write(db: &Db, rows: &[ResolvedRow]) -> Result<u64, sqlx::Error> {
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

/// `sales_daily` by (date, store code, SKU). Through [`super::apply`] a
/// date the calendar lacks is added to it, as the HTTP ingest does.
#[derive(Debug)]
pub(crate) struct Sales;

impl Table for Sales {
    type Row = SalesDailyRow;
    const LIST: &'static str = "records";
    fn check(row: &SalesDailyRow, prefix: &str, v: &mut Violations) {
        row.check(prefix, v);
    }
    fn key(row: &SalesDailyRow) -> String {
        format!(
            "{}\u{1f}{}\u{1f}{}",
            row.date.format("%Y-%m-%d"),
            row.store_code,
            row.sku
        )
    }
    fn codes(row: &SalesDailyRow) -> Vec<&str> {
        vec![&row.store_code]
    }
    fn skus(row: &SalesDailyRow) -> Vec<&str> {
        vec![&row.sku]
    }
    fn day(row: &SalesDailyRow) -> Option<NaiveDate> {
        Some(row.date)
    }
    type Resolved = ResolvedRow;
    fn resolve(row: &SalesDailyRow, keys: &KeyCache) -> Result<ResolvedRow, RowError> {
        let store_id = keys
            .store(&row.store_code)
            .ok_or_else(|| RowError::unknown_store("store_code", &row.store_code))?;
        let product = keys
            .product_key(&row.sku)
            .ok_or_else(|| RowError::unknown_product("sku", &row.sku))?;
        Ok(priced(row, store_id, product))
    }
    async fn write(db: &Db, rows: &[ResolvedRow]) -> Result<u64, sqlx::Error> {
        write(db, rows).await
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

    fn row(json: &str) -> SalesDailyRow {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn absent_prices_come_from_the_product_or_stay_missing() {
        let with_base = ProductKey {
            id: 7,
            base_price: Some(Decimal::new(250, 2)),
        };
        let without_base = ProductKey {
            id: 8,
            base_price: None,
        };
        let bare = row(r#"{"date":"2024-01-01","store_code":"S","sku":"A","quantity":4}"#);
        let from_base = priced(&bare, 1, with_base);
        assert_eq!(from_base.unit_price, Some(Decimal::new(250, 2)));
        assert_eq!(from_base.total_amount, Some(Decimal::new(1000, 2)));
        assert!(from_base.price_from_base);
        let missing = priced(&bare, 1, without_base);
        assert_eq!((missing.unit_price, missing.total_amount), (None, None));
        assert!(!missing.price_from_base);

        let given = row(
            r#"{"date":"2024-01-01","store_code":"S","sku":"A","quantity":"3","unit_price":"1.10","total_amount":""}"#,
        );
        let own = priced(&given, 1, with_base);
        assert_eq!(own.unit_price, Some(Decimal::new(110, 2)));
        assert_eq!(own.total_amount, Some(Decimal::new(330, 2)));
        assert!(!own.price_from_base);
    }
}
