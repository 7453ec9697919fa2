//! SQL of the ingest slice: natural-key resolution (two set queries on
//! both backends). The rows are written by the sales upsert shared with
//! `forecastlab import` ([`crate::upsert::sales::write`]).

use std::collections::HashMap;

use rust_decimal::Decimal;

use crate::db::Db;

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
