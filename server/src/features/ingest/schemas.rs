//! Request and response bodies of `POST /ingest/sales-daily`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::extract::{Validate, Violations};
pub(crate) use crate::upsert::rows::SalesDailyRow;

/// The batch: 1..`INGEST_MAX_ROWS` rows (the upper bound is checked by the
/// handler, which knows the setting).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct IngestRequest {
    /// The rows, in order; errors refer to them by 0-based `row_index`.
    #[schema(min_items = 1, max_items = 10_000)]
    pub(crate) records: Vec<SalesDailyRow>,
}

impl Validate for IngestRequest {
    fn validate(&self, v: &mut Violations) {
        if self.records.is_empty() {
            v.push(
                "records",
                "List should have at least 1 item after validation, not 0",
                "too_short",
            );
        }
        for (i, row) in self.records.iter().enumerate() {
            row.check(&format!("records.{i}"), v);
        }
    }
}

/// Why a row was not written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(clippy::enum_variant_names)] // The names are the wire codes.
pub(crate) enum IngestErrorCode {
    /// `store_code` matches no store.
    UnknownStore,
    /// `sku` matches no product.
    UnknownProduct,
}

/// One rejected row (exactly one error per row, in the precedence store,
/// product).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct IngestRowError {
    /// 0-based position of the row in `records`.
    pub(crate) row_index: usize,
    /// The row's store code.
    pub(crate) store_code: String,
    /// The row's SKU.
    pub(crate) sku: String,
    /// The row's date.
    #[schema(value_type = String, format = Date)]
    pub(crate) date: NaiveDate,
    /// Machine code.
    pub(crate) error_code: IngestErrorCode,
    /// Human message naming the offending value.
    pub(crate) error_message: String,
}

/// Outcome of a validated batch (always 200, even when every row was rejected).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct IngestResponse {
    /// Rows inserted or updated (one per distinct grain written).
    pub(crate) processed_count: u64,
    /// Rows rejected because a store code or SKU did not resolve.
    pub(crate) rejected_count: u64,
    /// Rows in the request.
    pub(crate) total_received: u64,
    /// Accepted rows that repeated the (date, store, product) grain of a
    /// later row in the same batch and were merged into it (last row wins).
    pub(crate) duplicates_merged: u64,
    /// Calendar days added because a written row's date was not in the
    /// calendar yet (not holidays; `PUT /dimensions/calendar` marks them).
    pub(crate) calendar_days_created: u64,
    /// Written rows without `unit_price` that took the product's
    /// `base_price`.
    pub(crate) prices_from_base_price: u64,
    /// Written rows left without a price (no `unit_price` and no
    /// `base_price`): their price stays missing (null), never invented.
    pub(crate) prices_missing: u64,
    /// The rejected rows.
    pub(crate) errors: Vec<IngestRowError>,
    /// Server-side processing time, rounded to 2 decimals.
    pub(crate) duration_ms: f64,
}
