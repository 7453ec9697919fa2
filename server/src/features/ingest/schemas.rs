//! Request and response bodies of `POST /ingest/sales-daily`.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use crate::extract::{Validate, Violations};

/// Largest value of `numeric(10,2)` (`unit_price`).
const MAX_UNIT_PRICE: Decimal = Decimal::from_parts(1_410_065_407, 2, 0, false, 2);
/// Largest value of `numeric(12,2)` (`total_amount`).
const MAX_TOTAL_AMOUNT: Decimal = Decimal::from_parts(3_567_587_327, 232, 0, false, 2);

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
    /// Sales date (must exist in `calendar`).
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
    #[schema(schema_with = quantity_schema)]
    pub(crate) quantity: i64,
    /// Unit price (>= 0, at most 2 decimal places); JSON number or numeric string.
    #[schema(schema_with = unit_price_schema)]
    pub(crate) unit_price: Decimal,
    /// Row total (>= 0, at most 2 decimal places); not checked against
    /// quantity × unit_price. JSON number or numeric string.
    #[schema(schema_with = total_amount_schema)]
    pub(crate) total_amount: Decimal,
}

/// `integer` in 0..=i32::MAX, or a string of digits.
fn quantity_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0))
                .maximum(Some(i32::MAX)),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(r"^\s*\+?0*[0-9]{1,9}\s*$")),
        )
        .description(Some(
            "Units sold (>= 0); a JSON integer or a string of digits",
        ))
        .build()
        .into()
}

/// A non-negative amount with at most 2 decimal places, up to `max`: a JSON
/// number or a decimal string.
fn money_schema(max: f64, digits: u8, description: &str) -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .minimum(Some(0))
                .maximum(Some(max))
                .multiple_of(Some(0.01)),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(format!(r"^[0-9]{{1,{digits}}}(\.[0-9]{{1,2}})?$"))),
        )
        .description(Some(description))
        .build()
        .into()
}

fn unit_price_schema() -> utoipa::openapi::schema::Schema {
    money_schema(
        99_999_999.99,
        8,
        "Unit price (>= 0, at most 2 decimal places, <= 99999999.99); JSON number or numeric string",
    )
}

fn total_amount_schema() -> utoipa::openapi::schema::Schema {
    money_schema(
        9_999_999_999.99,
        10,
        "Row total (>= 0, at most 2 decimal places, <= 9999999999.99); JSON number or numeric string",
    )
}

/// Accepts a JSON integer, an integral float or a numeric string.
fn lax_int<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    use serde::de::Error;
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(i64),
        Float(f64),
        Text(String),
    }
    match Raw::deserialize(deserializer)
        .map_err(|_| D::Error::custom("invalid type: expected an integer"))?
    {
        Raw::Int(value) => Ok(value),
        Raw::Float(value) if value.fract() == 0.0 && value.abs() < 9.0e15 => Ok(value as i64),
        Raw::Float(_) => Err(D::Error::custom(
            "Input should be a valid integer, got a number with a fractional part",
        )),
        Raw::Text(text) => text.trim().parse::<i64>().map_err(|_| {
            D::Error::custom(
                "Input should be a valid integer, unable to parse string as an integer",
            )
        }),
    }
}

fn money(v: &mut Violations, field: &str, value: Decimal, max: Decimal) {
    if value.is_sign_negative() && !value.is_zero() {
        v.push(
            field,
            "Input should be greater than or equal to 0",
            "greater_than_equal",
        );
    } else if value > max {
        v.push(
            field,
            format!("Input should be less than or equal to {max}"),
            "less_than_equal",
        );
    }
    if value.normalize().scale() > 2 {
        v.push(
            field,
            "Decimal input should have no more than 2 decimal places",
            "decimal_max_places",
        );
    }
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
            money(
                v,
                &format!("records.{i}.unit_price"),
                row.unit_price,
                MAX_UNIT_PRICE,
            );
            money(
                v,
                &format!("records.{i}.total_amount"),
                row.total_amount,
                MAX_TOTAL_AMOUNT,
            );
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
    /// `date` is not in the calendar.
    UnknownDate,
}

/// One rejected row (exactly one error per row, in the precedence store,
/// product, date).
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
    /// Rows rejected because a natural key did not resolve.
    pub(crate) rejected_count: u64,
    /// Rows in the request.
    pub(crate) total_received: u64,
    /// Accepted rows that repeated the (date, store, product) grain of a
    /// later row in the same batch and were merged into it (last row wins).
    pub(crate) duplicates_merged: u64,
    /// The rejected rows.
    pub(crate) errors: Vec<IngestRowError>,
    /// Server-side processing time, rounded to 2 decimals.
    pub(crate) duration_ms: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_limits_match_the_columns() {
        assert_eq!(MAX_UNIT_PRICE.to_string(), "99999999.99");
        assert_eq!(MAX_TOTAL_AMOUNT.to_string(), "9999999999.99");
    }
}
