//! The feature families of a feature set (§2.1): one strict config object
//! per family (lags, rolling statistics, calendar, exogenous, lifecycle,
//! replenishment, promotions, imputation), their defaults, OpenAPI schemas
//! and conversions into the core feature specs.

use forecastlab_core::{
    features::{Aggregation, Imputation},
    frame::PromoKind,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::extract::Violations;

pub(super) fn schema_version() -> String {
    "1.0".to_owned()
}

fn yes() -> bool {
    true
}

pub(super) fn check_schema_version(v: &mut Violations, field: &str, value: &str) {
    let parts: Vec<&str> = value.split('.').collect();
    let ok = (2..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if !ok {
        v.push(
            field,
            "String should match pattern '^\\d+\\.\\d+(\\.\\d+)?$'",
            "string_pattern_mismatch",
        );
    }
}

pub(super) fn check_positive(v: &mut Violations, field: &str, values: &[i64]) {
    for (i, value) in values.iter().enumerate() {
        if *value <= 0 {
            v.push(
                &format!("{field}.{i}"),
                "Value error, every value must be a positive integer",
                "value_error",
            );
        }
    }
}

/// A list of positive integers up to `max` (at least `min_items` of them).
fn positive_list(min_items: usize, max: i64, description: &str) -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(max)),
        )
        .min_items(Some(min_items))
        .description(Some(description))
        .build()
}

fn lags_schema() -> utoipa::openapi::schema::Array {
    positive_list(
        1,
        365,
        "Lags in rows (non-empty, each > 0 and ≤ FEATURE_MAX_LAG, default 365)",
    )
}

fn windows_schema() -> utoipa::openapi::schema::Array {
    positive_list(
        1,
        90,
        "Windows in rows (non-empty, each > 0 and ≤ FEATURE_MAX_WINDOW, default 90)",
    )
}

fn price_lags_schema() -> utoipa::openapi::schema::Array {
    positive_list(
        0,
        365,
        "Price lags in rows (each > 0 and ≤ FEATURE_MAX_LAG, default 365; may be empty)",
    )
}

pub(super) fn entity_columns_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["store_id", "product_id"])),
        )
        .description(Some("Grouping keys (subset of `store_id`, `product_id`)"))
        .build()
}

fn kinds_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["pct_off", "bogo", "bundle", "markdown"])),
        )
        .min_items(Some(1))
        .unique_items(true)
        .description(Some("Promotion kinds to track (non-empty, no duplicates)"))
        .build()
}

fn strategies_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::RefOr(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([
                    "zero",
                    "ffill",
                    "bfill",
                    "mean",
                    "expanding_mean",
                    "drop",
                ]))
                .into(),
        )))
        .description(Some("Column → strategy, applied in the order given"))
        .build()
}

pub(super) fn to_usize(values: &[i64]) -> Vec<usize> {
    values
        .iter()
        .map(|v| usize::try_from(*v).unwrap_or(0))
        .collect()
}

/// Lag features: `lag_{k}` = target `k` rows earlier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LagConfig {
    /// Schema version (`^\d+\.\d+(\.\d+)?$`).
    #[serde(default = "schema_version")]
    #[schema(pattern = r"^[0-9]+\.[0-9]+(\.[0-9]+)?$")]
    pub schema_version: String,
    /// Lags in rows (non-empty, each > 0 and ≤ `FEATURE_MAX_LAG`).
    #[serde(default = "default_lags")]
    #[schema(schema_with = lags_schema)]
    pub lags: Vec<i64>,
    /// Source column (only `quantity`).
    #[serde(default = "quantity")]
    #[schema(pattern = "^quantity$")]
    pub target_column: String,
    /// Replaces NaN lag values when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fill_value: Option<f64>,
}

fn default_lags() -> Vec<i64> {
    vec![1, 7, 14, 28]
}

pub(super) fn quantity() -> String {
    "quantity".to_owned()
}

/// Rolling statistics of the one-row-shifted target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollingConfig {
    /// Schema version.
    #[serde(default = "schema_version")]
    #[schema(pattern = r"^[0-9]+\.[0-9]+(\.[0-9]+)?$")]
    pub schema_version: String,
    /// Windows in rows (non-empty, each > 0 and ≤ `FEATURE_MAX_WINDOW`).
    #[serde(default = "default_windows")]
    #[schema(schema_with = windows_schema)]
    pub windows: Vec<i64>,
    /// Aggregations: `mean`, `std` (sample), `min`, `max`, `sum`.
    #[serde(default = "default_aggregations")]
    pub aggregations: Vec<AggregationName>,
    /// Source column (only `quantity`).
    #[serde(default = "quantity")]
    #[schema(pattern = "^quantity$")]
    pub target_column: String,
    /// Minimum non-null values per window (default: the window; 1 … the
    /// smallest window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 90)]
    pub min_periods: Option<i64>,
}

fn default_windows() -> Vec<i64> {
    vec![7, 14, 28]
}

fn default_aggregations() -> Vec<AggregationName> {
    vec![AggregationName::Mean, AggregationName::Std]
}

/// A rolling aggregation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AggregationName {
    /// Mean.
    Mean,
    /// Sample standard deviation.
    Std,
    /// Minimum.
    Min,
    /// Maximum.
    Max,
    /// Sum.
    Sum,
}

impl From<AggregationName> for Aggregation {
    fn from(value: AggregationName) -> Self {
        match value {
            AggregationName::Mean => Self::Mean,
            AggregationName::Std => Self::Std,
            AggregationName::Min => Self::Min,
            AggregationName::Max => Self::Max,
            AggregationName::Sum => Self::Sum,
        }
    }
}

/// Calendar columns (pure functions of the date, plus `is_holiday` from the
/// calendar table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(clippy::struct_excessive_bools)]
pub struct CalendarConfig {
    /// Schema version.
    #[serde(default = "schema_version")]
    #[schema(pattern = r"^[0-9]+\.[0-9]+(\.[0-9]+)?$")]
    pub schema_version: String,
    /// `dow_sin`/`dow_cos` (cyclical) or `day_of_week` (0 = Monday).
    #[serde(default = "yes")]
    pub include_day_of_week: bool,
    /// `month_sin`/`month_cos` (cyclical) or `month`.
    #[serde(default = "yes")]
    pub include_month: bool,
    /// `quarter`.
    #[serde(default = "yes")]
    pub include_quarter: bool,
    /// `year`.
    #[serde(default)]
    pub include_year: bool,
    /// `is_weekend`.
    #[serde(default = "yes")]
    pub include_is_weekend: bool,
    /// `is_month_end`.
    #[serde(default = "yes")]
    pub include_is_month_end: bool,
    /// `is_holiday` (1 when the calendar table marks the date a holiday).
    #[serde(default = "yes")]
    pub include_is_holiday: bool,
    /// sin/cos encodings instead of raw values.
    #[serde(default = "yes")]
    pub use_cyclical_encoding: bool,
}

/// Price, promotion and inventory columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(clippy::struct_excessive_bools)]
pub struct ExogenousConfig {
    /// Schema version.
    #[serde(default = "schema_version")]
    #[schema(pattern = r"^[0-9]+\.[0-9]+(\.[0-9]+)?$")]
    pub schema_version: String,
    /// Emit `price_lag_{k}` for each of `price_lags`.
    #[serde(default = "yes")]
    pub include_price: bool,
    /// Price lags in rows (each > 0 and ≤ `FEATURE_MAX_LAG`; may be empty).
    #[serde(default = "default_price_lags")]
    #[schema(schema_with = price_lags_schema)]
    pub price_lags: Vec<i64>,
    /// Emit `price_pct_change_7d` = p[i−1]/p[i−8] − 1.
    #[serde(default = "yes")]
    pub include_price_change: bool,
    /// Emit `promo_active`: 1 when a promotion of the product (this store or
    /// chain-wide) covers the row date, from the promotion table.
    #[serde(default = "yes")]
    pub include_promo: bool,
    /// Emit `inventory_on_hand_lag_1`: the previous row's on-hand units from
    /// the inventory snapshots (null when no snapshot).
    #[serde(default)]
    pub include_inventory: bool,
    /// Emit `stockout_lag_1`: the previous row's stockout flag from the
    /// inventory snapshots (0 when no snapshot).
    #[serde(default = "yes")]
    pub include_stockout_flag: bool,
}

fn default_price_lags() -> Vec<i64> {
    vec![7, 28]
}

/// Product lifecycle columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LifecycleConfig {
    /// Schema version.
    #[serde(default = "schema_version")]
    #[schema(pattern = r"^[0-9]+\.[0-9]+(\.[0-9]+)?$")]
    pub schema_version: String,
    /// `days_since_launch_lag{N}`.
    #[serde(default = "yes")]
    pub include_days_since_launch: bool,
    /// `days_since_discontinue_lag{N}` (negative before discontinuation).
    #[serde(default = "yes")]
    pub include_days_since_discontinue: bool,
    /// N, 1 … 30.
    #[serde(default = "one")]
    #[schema(minimum = 1, maximum = 30)]
    pub lag_days: i64,
}

fn one() -> i64 {
    1
}

/// Replenishment columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplenishmentConfig {
    /// Schema version.
    #[serde(default = "schema_version")]
    #[schema(pattern = r"^[0-9]+\.[0-9]+(\.[0-9]+)?$")]
    pub schema_version: String,
    /// `days_since_last_replenishment_lag{N}`.
    #[serde(default = "yes")]
    pub include_days_since_last: bool,
    /// `replenishment_count_w{W}_lag{N}`.
    #[serde(default = "yes")]
    pub include_count_window: bool,
    /// N, 1 … 30.
    #[serde(default = "one")]
    #[schema(minimum = 1, maximum = 30)]
    pub lag_days: i64,
    /// W, 7 … 60.
    #[serde(default = "fourteen")]
    #[schema(minimum = 7, maximum = 60)]
    pub count_window_days: i64,
}

fn fourteen() -> i64 {
    14
}

/// Promotion columns per kind, from the promotion table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromotionConfig {
    /// Schema version.
    #[serde(default = "schema_version")]
    #[schema(pattern = r"^[0-9]+\.[0-9]+(\.[0-9]+)?$")]
    pub schema_version: String,
    /// Kinds (non-empty, no duplicates; columns are emitted alphabetically).
    #[serde(default = "default_kinds")]
    #[schema(schema_with = kinds_schema)]
    pub kinds_to_track: Vec<PromoKindName>,
    /// `promo_{kind}_active_lag{N}`.
    #[serde(default = "yes")]
    pub include_active: bool,
    /// `promo_{kind}_intensity_lag{N}` (largest `discount_pct`).
    #[serde(default = "yes")]
    pub include_intensity: bool,
    /// N, 1 … 30.
    #[serde(default = "one")]
    #[schema(minimum = 1, maximum = 30)]
    pub lag_days: i64,
}

fn default_kinds() -> Vec<PromoKindName> {
    vec![PromoKindName::Markdown]
}

/// A promotion kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PromoKindName {
    /// Percentage off.
    PctOff,
    /// Buy one get one.
    Bogo,
    /// Bundle.
    Bundle,
    /// Markdown.
    Markdown,
}

impl From<PromoKindName> for PromoKind {
    fn from(value: PromoKindName) -> Self {
        match value {
            PromoKindName::PctOff => Self::PctOff,
            PromoKindName::Bogo => Self::Bogo,
            PromoKindName::Bundle => Self::Bundle,
            PromoKindName::Markdown => Self::Markdown,
        }
    }
}

/// Imputation strategies per input column (run before any feature).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImputationConfig {
    /// Schema version.
    #[serde(default = "schema_version")]
    #[schema(pattern = r"^[0-9]+\.[0-9]+(\.[0-9]+)?$")]
    pub schema_version: String,
    /// Column → strategy. `bfill` and `mean` read later rows of the window
    /// (a leakage risk, allowed as upstream does). Columns other than
    /// `quantity`, `unit_price`, `total_amount` are skipped.
    /// Values: `zero`, `ffill`, `bfill`, `mean`, `expanding_mean`, `drop`;
    /// applied in the order given.
    #[serde(default = "default_strategies")]
    #[schema(schema_with = strategies_schema)]
    pub strategies: serde_json::Map<String, serde_json::Value>,
}

fn default_strategies() -> serde_json::Map<String, serde_json::Value> {
    let mut map = serde_json::Map::new();
    for (column, strategy) in [
        ("quantity", "zero"),
        ("unit_price", "ffill"),
        ("total_amount", "zero"),
    ] {
        map.insert(column.to_owned(), serde_json::Value::from(strategy));
    }
    map
}

pub(super) fn parse_imputation(value: &serde_json::Value) -> Option<ImputationName> {
    serde_json::from_value(value.clone()).ok()
}

/// An imputation strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImputationName {
    /// NaN := 0.
    Zero,
    /// Forward fill.
    Ffill,
    /// Backward fill.
    Bfill,
    /// Series mean.
    Mean,
    /// Mean of earlier values.
    ExpandingMean,
    /// Drop the row.
    Drop,
}

impl From<ImputationName> for Imputation {
    fn from(value: ImputationName) -> Self {
        match value {
            ImputationName::Zero => Self::Zero,
            ImputationName::Ffill => Self::Ffill,
            ImputationName::Bfill => Self::Bfill,
            ImputationName::Mean => Self::Mean,
            ImputationName::ExpandingMean => Self::ExpandingMean,
            ImputationName::Drop => Self::Drop,
        }
    }
}
