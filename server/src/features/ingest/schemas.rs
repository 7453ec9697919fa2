//! Request and response bodies of `POST /ingest/sales-daily`.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    extract::{Validate, Violations},
    upsert::fields::{
        count_schema, lax_int, money, or_blank, price_schema, total_schema, MAX_PRICE, MAX_TOTAL,
    },
};

/// The batch: 1..`INGEST_MAX_ROWS` rows (the upper bound is checked by the
/// handler, which knows the setting).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct IngestRequest {
    /// The rows, in order; errors refer to them by 0-based `row_index`.
    #[schema(min_items = 1, max_items = 10_000)]
    pub(crate) records: Vec<SalesDailyRow>,
}

/// One daily sales row keyed by natural keys.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub(crate) struct SalesDailyRow {
    /// Sales date (added to the calendar, not as a holiday, when missing).
    #[schema(value_type = String, format = Date, example = "2024-01-15")]
    pub(crate) date: NaiveDate,
    /// Store code (1..20 characters, exact match on `store.code`).
    #[schema(min_length = 1, max_length = 20)]
    pub(crate) store_code: String,
    /// Product SKU (1..50 characters, exact match on `product.sku`).
    #[schema(min_length = 1, max_length = 50)]
    pub(crate) sku: String,
    /// Units sold (>= 0). A numeric string such as `"10"` is accepted.
    #[serde(deserialize_with = "lax_int")]
    #[schema(schema_with = count_schema)]
    pub(crate) quantity: i64,
    /// Unit price (>= 0, at most 2 decimal places); JSON number or numeric
    /// string. Absent, null or an empty string: the product's `base_price`,
    /// or no price when the product has none.
    #[serde(default, deserialize_with = "optional_money")]
    #[schema(schema_with = unit_price_schema)]
    pub(crate) unit_price: Option<Decimal>,
    /// Row total (>= 0, at most 2 decimal places); not checked against
    /// quantity × unit_price. JSON number or numeric string. Absent, null or
    /// an empty string: quantity × unit price, or no total without a price.
    #[serde(default, deserialize_with = "optional_money")]
    #[schema(schema_with = total_amount_schema)]
    pub(crate) total_amount: Option<Decimal>,
}

/// An optional amount: a JSON number, a numeric string, or null / an empty
/// string (a blank CSV cell) for none.
fn optional_money<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Decimal>, D::Error> {
    use serde::de::Error;
    use serde_json::Value;
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(value) => <Decimal as Deserialize>::deserialize(value)
            .map(Some)
            .map_err(D::Error::custom),
    }
}

fn unit_price_schema() -> utoipa::openapi::schema::Schema {
    or_blank(price_schema(
        true,
        "Unit price (>= 0, at most 2 decimal places, <= 99999999.99); JSON number or numeric string. \
         Absent, null or blank: the product's base_price, else no price (left missing, never invented)",
    ))
}

fn total_amount_schema() -> utoipa::openapi::schema::Schema {
    or_blank(total_schema(
        true,
        "Row total (>= 0, at most 2 decimal places, <= 9999999999.99); JSON number or numeric string. \
         Absent, null or blank: quantity × unit price, else no total",
    ))
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
            v.length(&format!("records.{i}.store_code"), &row.store_code, 1, 20);
            v.length(&format!("records.{i}.sku"), &row.sku, 1, 50);
            v.range(
                &format!("records.{i}.quantity"),
                row.quantity,
                0,
                i64::from(i32::MAX),
            );
            if let Some(price) = row.unit_price {
                money(v, &format!("records.{i}.unit_price"), price, MAX_PRICE);
            }
            match (row.total_amount, row.unit_price) {
                (Some(total), _) => {
                    money(v, &format!("records.{i}.total_amount"), total, MAX_TOTAL);
                }
                (None, Some(price))
                    if price
                        .checked_mul(Decimal::from(row.quantity.max(0)))
                        .is_none_or(|total| total > MAX_TOTAL) =>
                {
                    v.push(
                        &format!("records.{i}.total_amount"),
                        format!(
                            "quantity × unit_price is over {MAX_TOTAL}; give total_amount explicitly"
                        ),
                        "less_than_equal",
                    );
                }
                _ => {}
            }
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
