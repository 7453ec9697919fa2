//! Ingest logic: resolve natural keys, reject rows that do not resolve,
//! merge repeated grains (last row wins), upsert the rest.

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
    upsert::sales::{self, ResolvedRow},
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
    let mut dates = HashSet::new();
    for row in &rows {
        codes.insert(row.store_code.as_str());
        skus.insert(row.sku.as_str());
        dates.insert(row.date);
    }
    let resolution = repo::resolve(
        db,
        codes.into_iter().map(str::to_owned).collect(),
        skus.into_iter().map(str::to_owned).collect(),
        dates.into_iter().collect(),
    )
    .await
    .map_err(database_error)?;

    let mut errors = Vec::new();
    let mut accepted: Vec<ResolvedRow> = Vec::with_capacity(rows.len());
    let mut positions: HashMap<(chrono::NaiveDate, i32, i32), usize> =
        HashMap::with_capacity(rows.len());
    let mut duplicates_merged = 0u64;
    for (row_index, row) in rows.into_iter().enumerate() {
        let store_id = resolution.stores.get(&row.store_code).copied();
        let product_id = resolution.products.get(&row.sku).copied();
        let known_date = resolution.dates.contains(&row.date);
        let (code, message) = match (store_id, product_id, known_date) {
            (Some(store_id), Some(product_id), true) => {
                let resolved = ResolvedRow {
                    date: row.date,
                    store_id,
                    product_id,
                    // Validated to be within 0..=i32::MAX.
                    quantity: i32::try_from(row.quantity).unwrap_or(i32::MAX),
                    unit_price: row.unit_price,
                    total_amount: row.total_amount,
                };
                match positions.entry((row.date, store_id, product_id)) {
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
            (None, _, _) => (
                IngestErrorCode::UnknownStore,
                format!("Unknown store code '{}'", row.store_code),
            ),
            (_, None, _) => (
                IngestErrorCode::UnknownProduct,
                format!("Unknown product SKU '{}'", row.sku),
            ),
            (_, _, false) => (
                IngestErrorCode::UnknownDate,
                format!("Date {} is not in the calendar", row.date),
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
        errors,
        duration_ms,
    })
}
