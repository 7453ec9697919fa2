//! Natural keys to ids: store codes and SKUs resolved with set queries and
//! remembered (an import resolves each key once, whatever the file size),
//! and calendar days created on first use.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use crate::db::Db;

/// A product found by SKU: its id and base price (the price of a sales
/// row that gives none).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ProductKey {
    /// `product.id`.
    pub(crate) id: i32,
    /// `product.base_price`, when set.
    pub(crate) base_price: Option<Decimal>,
}

/// Ids found so far. Codes and SKUs match exactly (case-sensitive); a key
/// that did not resolve is asked again next time (it may have been added).
#[derive(Debug, Default)]
pub(crate) struct KeyCache {
    stores: HashMap<String, i32>,
    products: HashMap<String, ProductKey>,
    days: HashSet<NaiveDate>,
}

/// A SQLite `json_each` list or a PostgreSQL array of `values`.
fn json_list<T: serde::Serialize>(values: &[T]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".to_owned())
}

/// Rows `SELECT {columns} FROM {table}` whose `key` is one of `wanted`.
async fn lookup<T>(
    db: &Db,
    table: &str,
    key: &str,
    columns: &str,
    wanted: Vec<String>,
) -> Result<Vec<T>, sqlx::Error>
where
    T: Send
        + Unpin
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>,
{
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    match db {
        Db::Postgres(pool) => {
            let sql = format!("SELECT {columns} FROM {table} WHERE {key} = ANY($1)");
            sqlx::query_as(&sql).bind(wanted).fetch_all(pool).await
        }
        Db::Sqlite(pool) => {
            let sql = format!(
                "SELECT {columns} FROM {table} WHERE {key} IN (SELECT value FROM json_each($1))"
            );
            sqlx::query_as(&sql)
                .bind(json_list(&wanted))
                .fetch_all(pool)
                .await
        }
    }
}

impl KeyCache {
    /// Resolves every code and SKU not resolved yet.
    pub(crate) async fn resolve<'a>(
        &mut self,
        db: &Db,
        codes: impl IntoIterator<Item = &'a str>,
        skus: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), sqlx::Error> {
        let codes: HashSet<&str> = codes
            .into_iter()
            .filter(|c| !self.stores.contains_key(*c))
            .collect();
        let skus: HashSet<&str> = skus
            .into_iter()
            .filter(|s| !self.products.contains_key(*s))
            .collect();
        let codes = codes.into_iter().map(str::to_owned).collect();
        let skus = skus.into_iter().map(str::to_owned).collect();
        let stores: Vec<(String, i32)> = lookup(db, "store", "code", "code, id", codes).await?;
        self.stores.extend(stores);
        let products: Vec<(String, i32, Option<String>)> = lookup(
            db,
            "product",
            "sku",
            "sku, id, CAST(base_price AS TEXT)",
            skus,
        )
        .await?;
        self.products
            .extend(products.into_iter().map(|(sku, id, base_price)| {
                let base_price = base_price.and_then(|text| text.trim().parse().ok());
                (sku, ProductKey { id, base_price })
            }));
        Ok(())
    }

    /// The id of store `code`, once resolved.
    pub(crate) fn store(&self, code: &str) -> Option<i32> {
        self.stores.get(code).copied()
    }

    /// The id of product `sku`, once resolved.
    pub(crate) fn product(&self, sku: &str) -> Option<i32> {
        self.products.get(sku).map(|product| product.id)
    }

    /// The id and base price of product `sku`, once resolved.
    pub(crate) fn product_key(&self, sku: &str) -> Option<ProductKey> {
        self.products.get(sku).copied()
    }

    /// Adds the calendar days among `dates` that the calendar lacks (not a
    /// holiday, no name; a holiday import marks them later); returns how
    /// many were created.
    pub(crate) async fn ensure_days(
        &mut self,
        db: &Db,
        dates: impl IntoIterator<Item = NaiveDate>,
    ) -> Result<u64, sqlx::Error> {
        let mut wanted: Vec<NaiveDate> = dates
            .into_iter()
            .filter(|d| !self.days.contains(d))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if wanted.is_empty() {
            return Ok(0);
        }
        wanted.sort_unstable();
        let days: Vec<serde_json::Value> =
            wanted.iter().map(|d| day_json(*d, false, None)).collect();
        let created = super::write::insert_missing_days(db, &days).await?;
        self.days.extend(wanted);
        Ok(created)
    }
}

/// One calendar row as JSON: the date and its derived attributes
/// (day of week 0 = Monday).
pub(crate) fn day_json(
    date: NaiveDate,
    is_holiday: bool,
    holiday_name: Option<&str>,
) -> serde_json::Value {
    serde_json::json!({
        "date": date.format("%Y-%m-%d").to_string(),
        "day_of_week": date.weekday().num_days_from_monday(),
        "month": date.month(),
        "quarter": (date.month() - 1) / 3 + 1,
        "year": date.year(),
        "is_holiday": is_holiday,
        "holiday_name": holiday_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_calendar_attributes() {
        let day = day_json(NaiveDate::from_ymd_opt(2024, 11, 30).unwrap(), false, None);
        assert_eq!(day["day_of_week"], 5); // a Saturday
        assert_eq!(day["month"], 11);
        assert_eq!(day["quarter"], 4);
        assert_eq!(day["year"], 2024);
        assert_eq!(day["is_holiday"], false);
        let first = day_json(
            NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
            true,
            Some("New Year"),
        );
        assert_eq!(first["day_of_week"], 0);
        assert_eq!(first["quarter"], 1);
        assert_eq!(first["holiday_name"], "New Year");
    }
}
