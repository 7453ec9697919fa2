//! Bulk upserts by natural key, shared by the HTTP routes
//! (`PUT /dimensions/*`, `POST /ingest/*`) and `forecastlab import`, so a
//! row means the same thing whichever way it arrives.
//!
//! A batch is processed as: resolve store codes and SKUs (set queries,
//! remembered in a [`KeyCache`]); report each row whose key does not
//! resolve (a [`RowError`]) and keep the others; merge rows repeating a
//! natural key (the later row wins); add missing calendar days; write the
//! rest in canonical key order in one transaction.

pub(crate) mod fields;
mod keys;
pub(crate) mod rows;
pub(crate) mod sales;
mod tables;
mod write;

use std::collections::{hash_map::Entry, HashMap};

use chrono::NaiveDate;
use serde::{de::DeserializeOwned, Serialize};

pub(crate) use keys::{KeyCache, ProductKey};
pub(crate) use sales::Sales;
pub(crate) use tables::{Calendar, Inventory, Prices, Products, Promotions, Stores};

use crate::{db::Db, extract::Violations, problem::Problem};

/// Why a row was not written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(clippy::enum_variant_names)] // The names are the wire codes.
pub(crate) enum RowErrorCode {
    /// A store code matches no store.
    UnknownStore,
    /// A SKU matches no product.
    UnknownProduct,
}

/// One row that was not written.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct RowError {
    /// 0-based position of the row in the request list (for an import, the
    /// 1-based line of the file).
    pub(crate) row_index: usize,
    /// Machine code.
    pub(crate) error_code: RowErrorCode,
    /// The field whose value did not resolve.
    pub(crate) field: String,
    /// Human message naming the offending value.
    pub(crate) error_message: String,
}

impl RowError {
    fn unknown_store(field: &str, code: &str) -> Self {
        Self {
            row_index: 0,
            error_code: RowErrorCode::UnknownStore,
            field: field.to_owned(),
            error_message: format!("Unknown store code '{code}'"),
        }
    }

    fn unknown_product(field: &str, sku: &str) -> Self {
        Self {
            row_index: 0,
            error_code: RowErrorCode::UnknownProduct,
            field: field.to_owned(),
            error_message: format!("Unknown product SKU '{sku}'"),
        }
    }
}

/// A table that takes bulk upserts by natural key.
pub(crate) trait Table {
    /// One row as a client sends it.
    type Row: DeserializeOwned + Clone + Send + Sync + 'static;
    /// The JSON field holding the list in a request body (`stores`).
    const LIST: &'static str;
    /// Records the row's field violations under `prefix`.
    fn check(row: &Self::Row, prefix: &str, v: &mut Violations);
    /// The natural key, as one string that sorts in canonical order.
    fn key(row: &Self::Row) -> String;
    /// Store codes the row names.
    fn codes(row: &Self::Row) -> Vec<&str>;
    /// SKUs the row names.
    fn skus(row: &Self::Row) -> Vec<&str>;
    /// The calendar day the row needs, if its table references the calendar.
    fn day(row: &Self::Row) -> Option<NaiveDate>;
    /// The row with ids in place of natural keys.
    type Resolved: Send + Sync;
    /// The row with ids in place of natural keys, or why it cannot be
    /// written.
    fn resolve(row: &Self::Row, keys: &KeyCache) -> Result<Self::Resolved, RowError>;
    /// Writes distinct resolved rows in one transaction; returns the rows
    /// inserted or updated.
    fn write(
        db: &Db,
        rows: &[Self::Resolved],
    ) -> impl std::future::Future<Output = Result<u64, sqlx::Error>> + Send;
}

/// What a batch did.
#[derive(Debug, Default, Clone, Serialize)]
pub(crate) struct Outcome {
    /// Rows inserted or updated.
    pub(crate) processed: u64,
    /// Rows merged into a later row with the same natural key.
    pub(crate) duplicates_merged: u64,
    /// Calendar days added because a row needed them.
    pub(crate) days_created: u64,
    /// Rows not written, in input order.
    pub(crate) errors: Vec<RowError>,
}

/// Checks every row of a request list under `LIST.i`; an empty list is a
/// violation of the list itself.
pub(crate) fn check_list<T: Table>(rows: &[T::Row], v: &mut Violations) {
    if rows.is_empty() {
        v.push(
            T::LIST,
            "List should have at least 1 item after validation, not 0",
            "too_short",
        );
    }
    for (i, row) in rows.iter().enumerate() {
        T::check(row, &format!("{}.{i}", T::LIST), v);
    }
}

/// The 422 for a request list longer than `max_rows` (`INGEST_MAX_ROWS`).
pub(crate) fn check_limit<T: Table>(len: usize, max_rows: usize) -> Result<(), Problem> {
    if len <= max_rows {
        return Ok(());
    }
    Err(Problem::invalid_field(
        T::LIST,
        format!("List should have at most {max_rows} items after validation, not {len}"),
        "too_long",
    )
    .with_extension("max_rows", max_rows))
}

/// Outcome of a validated batch (always 200, even when every row was
/// rejected).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct UpsertResponse {
    /// Rows inserted or updated (one per distinct natural key written).
    pub(crate) processed_count: u64,
    /// Rows not written because a key did not resolve (see `errors`).
    pub(crate) rejected_count: u64,
    /// Rows in the request.
    pub(crate) total_received: u64,
    /// Rows that repeated the natural key of a later row in the same batch
    /// and were merged into it (the later row wins).
    pub(crate) duplicates_merged: u64,
    /// Calendar days added because a row's date was not in the calendar
    /// yet (not holidays; a calendar upsert marks holidays).
    pub(crate) calendar_days_created: u64,
    /// The rows not written.
    pub(crate) errors: Vec<RowError>,
    /// Server-side processing time, rounded to 2 decimals.
    pub(crate) duration_ms: f64,
}

/// Upserts a validated request list of at most `max_rows` rows and
/// answers with its outcome.
pub(crate) async fn respond<T: Table>(
    db: &Db,
    rows: Vec<T::Row>,
    max_rows: usize,
) -> Result<axum::Json<UpsertResponse>, Problem> {
    check_limit::<T>(rows.len(), max_rows)?;
    let started = std::time::Instant::now();
    let total_received = rows.len() as u64;
    let outcome = apply::<T>(
        db,
        &mut KeyCache::default(),
        rows.into_iter().enumerate().collect(),
    )
    .await
    .map_err(|error| {
        Problem::database(
            &error,
            "The upsert failed because of a database error; nothing was written.",
        )
    })?;
    Ok(axum::Json(UpsertResponse {
        processed_count: outcome.processed,
        rejected_count: outcome.errors.len() as u64,
        total_received,
        duplicates_merged: outcome.duplicates_merged,
        calendar_days_created: outcome.days_created,
        errors: outcome.errors,
        duration_ms: (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0,
    }))
}

/// Upserts already checked `rows`, each with the index errors report.
pub(crate) async fn apply<T: Table>(
    db: &Db,
    keys: &mut KeyCache,
    rows: Vec<(usize, T::Row)>,
) -> Result<Outcome, sqlx::Error> {
    keys.resolve(
        db,
        rows.iter().flat_map(|(_, row)| T::codes(row)),
        rows.iter().flat_map(|(_, row)| T::skus(row)),
    )
    .await?;
    let mut outcome = Outcome::default();
    let mut accepted: Vec<(String, Option<NaiveDate>, T::Resolved)> =
        Vec::with_capacity(rows.len());
    let mut positions: HashMap<String, usize> = HashMap::with_capacity(rows.len());
    for (row_index, row) in &rows {
        match T::resolve(row, keys) {
            Ok(value) => {
                let entry = (T::key(row), T::day(row), value);
                match positions.entry(entry.0.clone()) {
                    Entry::Occupied(slot) => {
                        accepted[*slot.get()] = entry;
                        outcome.duplicates_merged += 1;
                    }
                    Entry::Vacant(slot) => {
                        slot.insert(accepted.len());
                        accepted.push(entry);
                    }
                }
            }
            Err(mut error) => {
                error.row_index = *row_index;
                outcome.errors.push(error);
            }
        }
    }
    if accepted.is_empty() {
        return Ok(outcome);
    }
    outcome.days_created = keys
        .ensure_days(db, accepted.iter().filter_map(|(_, day, _)| *day))
        .await?;
    // Concurrent batches touch rows in one canonical order, so two batches
    // of the same rows in different orders cannot deadlock.
    accepted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let batch: Vec<T::Resolved> = accepted.into_iter().map(|(_, _, row)| row).collect();
    outcome.processed = T::write(db, &batch).await?;
    Ok(outcome)
}
