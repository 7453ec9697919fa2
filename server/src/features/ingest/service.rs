//! Ingest logic: resolve natural keys, reject rows that do not resolve,
//! fill absent prices (the product's base price, else none), merge repeated
//! grains (last row wins), add missing calendar days, upsert the rest.

use rust_decimal::Decimal;
use std::{
    collections::{hash_map::Entry, HashMap, HashSet},
    time::Instant,
};

use super::{
    repo,
    schemas::{IngestErrorCode, IngestResponse, IngestRowError, SalesDailyRow},
};
use crate::{
    db::Db,
    problem::Problem,
    upsert::{
        fields::MAX_TOTAL,
        sales::{self, ResolvedRow},
        KeyCache,
    },
};

fn database_error(error: sqlx::Error) -> Problem {
    Problem::database(
        &error,
        "The sales-daily ingest failed because of a database error; nothing was written.",
    )
}

/// Ingests a validated batch.
pub(crate) async fn ingest(db: &Db, rows: Vec<SalesDailyRow>) -> Result<IngestResponse, Problem> {
    let started = Instant::now();
    let total_received = rows.len() as u64;

    let mut codes = HashSet::new();
    let mut skus = HashSet::new();
    for row in &rows {
        codes.insert(row.store_code.as_str());
        skus.insert(row.sku.as_str());
    }
    let resolution = repo::resolve(
        db,
        codes.into_iter().map(str::to_owned).collect(),
        skus.into_iter().map(str::to_owned).collect(),
    )
    .await
    .map_err(database_error)?;

    let mut errors = Vec::new();
    let mut accepted: Vec<Priced> = Vec::with_capacity(rows.len());
    let mut positions: HashMap<(chrono::NaiveDate, i32, i32), usize> =
        HashMap::with_capacity(rows.len());
    let mut duplicates_merged = 0u64;
    for (row_index, row) in rows.into_iter().enumerate() {
        let store_id = resolution.stores.get(&row.store_code).copied();
        let product = resolution.products.get(&row.sku).copied();
        let (code, message) = match (store_id, product) {
            (Some(store_id), Some(product)) => {
                let resolved = resolve_prices(&row, store_id, product);
                match positions.entry((row.date, store_id, product.id)) {
                    Entry::Occupied(slot) => {
                        accepted[*slot.get()] = resolved;
                        duplicates_merged += 1;
                    }
                    Entry::Vacant(slot) => {
                        slot.insert(accepted.len());
                        accepted.push(resolved);
                    }
                }
                continue;
            }
            (None, _) => (
                IngestErrorCode::UnknownStore,
                format!("Unknown store code '{}'", row.store_code),
            ),
            (_, None) => (
                IngestErrorCode::UnknownProduct,
                format!("Unknown product SKU '{}'", row.sku),
            ),
        };
        errors.push(IngestRowError {
            row_index,
            store_code: row.store_code,
            sku: row.sku,
            date: row.date,
            error_code: code,
            error_message: message,
        });
    }

    let calendar_days_created = if accepted.is_empty() {
        0
    } else {
        KeyCache::default()
            .ensure_days(db, accepted.iter().map(|priced| priced.row.date))
            .await
            .map_err(database_error)?
    };
    let prices_from_base_price = accepted.iter().filter(|row| row.price_from_base).count() as u64;
    let prices_missing = accepted
        .iter()
        .filter(|row| row.row.unit_price.is_none())
        .count() as u64;
    let mut accepted: Vec<ResolvedRow> = accepted.into_iter().map(|row| row.row).collect();
    // Concurrent batches lock rows in one canonical order, so two ingests
    // of the same rows in different orders cannot deadlock.
    accepted.sort_unstable_by_key(|row| (row.date, row.store_id, row.product_id));
    let processed_count = sales::write(db, &accepted).await.map_err(database_error)?;
    let duration_ms = (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0;
    Ok(IngestResponse {
        processed_count,
        rejected_count: errors.len() as u64,
        total_received,
        duplicates_merged,
        calendar_days_created,
        prices_from_base_price,
        prices_missing,
        errors,
        duration_ms,
    })
}

/// A resolved row and whether its price came from the product.
struct Priced {
    row: ResolvedRow,
    price_from_base: bool,
}

/// The row with ids and its prices: an absent unit price is the product's
/// base price (or none), an absent total is quantity × unit price (or none).
fn resolve_prices(row: &SalesDailyRow, store_id: i32, product: repo::Product) -> Priced {
    // Validated to be within 0..=i32::MAX.
    let quantity = i32::try_from(row.quantity).unwrap_or(i32::MAX);
    let price_from_base = row.unit_price.is_none() && product.base_price.is_some();
    let unit_price = row.unit_price.or(product.base_price);
    // A computed total beyond numeric(12,2) stays missing (validation
    // already refuses such a row when its unit price was given).
    let total_amount = row.total_amount.or_else(|| {
        unit_price
            .and_then(|price| price.checked_mul(Decimal::from(quantity)))
            .filter(|total| *total <= MAX_TOTAL)
    });
    Priced {
        row: ResolvedRow {
            date: row.date,
            store_id,
            product_id: product.id,
            quantity,
            unit_price,
            total_amount,
        },
        price_from_base,
    }
}
