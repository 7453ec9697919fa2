//! Ingest logic: resolve natural keys, reject rows that do not resolve,
//! fill absent prices (the product's base price, else none), merge repeated
//! grains (last row wins), add missing calendar days, upsert the rest.

use std::{
    collections::{hash_map::Entry, HashMap},
    time::Instant,
};

use super::schemas::{IngestErrorCode, IngestResponse, IngestRowError, SalesDailyRow};
use crate::{
    db::Db,
    problem::Problem,
    upsert::{
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

    let mut keys = KeyCache::default();
    keys.resolve(
        db,
        rows.iter().map(|row| row.store_code.as_str()),
        rows.iter().map(|row| row.sku.as_str()),
    )
    .await
    .map_err(database_error)?;

    let mut errors = Vec::new();
    let mut accepted: Vec<ResolvedRow> = Vec::with_capacity(rows.len());
    let mut positions: HashMap<(chrono::NaiveDate, i32, i32), usize> =
        HashMap::with_capacity(rows.len());
    let mut duplicates_merged = 0u64;
    for (row_index, row) in rows.into_iter().enumerate() {
        let (code, message) = match (keys.store(&row.store_code), keys.product_key(&row.sku)) {
            (Some(store_id), Some(product)) => {
                let resolved = sales::priced(&row, store_id, product);
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
        keys.ensure_days(db, accepted.iter().map(|row| row.date))
            .await
            .map_err(database_error)?
    };
    let prices_from_base_price = accepted.iter().filter(|row| row.price_from_base).count() as u64;
    let prices_missing = accepted
        .iter()
        .filter(|row| row.unit_price.is_none())
        .count() as u64;
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
