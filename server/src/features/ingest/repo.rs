//! SQL of the sales ingest: natural-key resolution with three set queries
//! on either backend (the write is [`crate::upsert::sales::write`], shared
//! with `forecastlab import`).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use crate::db::Db;

/// What the three set queries found.
#[derive(Debug, Default)]
pub(crate) struct Resolution {
    pub(crate) stores: HashMap<String, i32>,
    pub(crate) products: HashMap<String, i32>,
    pub(crate) dates: HashSet<NaiveDate>,
}

/// Resolves store codes, SKUs and dates (exact, case-sensitive).
pub(crate) async fn resolve(
    db: &Db,
    codes: Vec<String>,
    skus: Vec<String>,
    dates: Vec<NaiveDate>,
) -> Result<Resolution, sqlx::Error> {
    let (stores, products, dates) = match db {
        Db::Postgres(pool) => (
            sqlx::query_as::<_, (String, i32)>("SELECT code, id FROM store WHERE code = ANY($1)")
                .bind(&codes)
                .fetch_all(pool)
                .await?,
            sqlx::query_as::<_, (String, i32)>("SELECT sku, id FROM product WHERE sku = ANY($1)")
                .bind(&skus)
                .fetch_all(pool)
                .await?,
            sqlx::query_scalar::<_, NaiveDate>("SELECT date FROM calendar WHERE date = ANY($1)")
                .bind(&dates)
                .fetch_all(pool)
                .await?,
        ),
        Db::Sqlite(pool) => {
            let json = |values: Vec<String>| serde_json::to_string(&values).unwrap_or_default();
            let dates: Vec<String> = dates
                .iter()
                .map(|d| d.format("%Y-%m-%d").to_string())
                .collect();
            (
                sqlx::query_as::<_, (String, i32)>(
                    "SELECT code, id FROM store WHERE code IN (SELECT value FROM json_each($1))",
                )
                .bind(json(codes))
                .fetch_all(pool)
                .await?,
                sqlx::query_as::<_, (String, i32)>(
                    "SELECT sku, id FROM product WHERE sku IN (SELECT value FROM json_each($1))",
                )
                .bind(json(skus))
                .fetch_all(pool)
                .await?,
                sqlx::query_scalar::<_, NaiveDate>(
                    "SELECT date FROM calendar WHERE date IN (SELECT value FROM json_each($1))",
                )
                .bind(json(dates))
                .fetch_all(pool)
                .await?,
            )
        }
    };
    Ok(Resolution {
        stores: stores.into_iter().collect(),
        products: products.into_iter().collect(),
        dates: dates.into_iter().collect(),
    })
}
