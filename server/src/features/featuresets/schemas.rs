//! Request and response bodies of `/featuresets/*` (§2.1, §2.2, §2.6).
//!
//! Every config object is strict: unknown keys are a 422, integers must be
//! JSON integers, booleans JSON booleans. Field order is the serialisation
//! order of `config_hash` (16 hex of SHA-256 over the compact JSON of the
//! config with defaults filled in and null members left out).

use chrono::NaiveDate;
use forecastlab_core::features::{
    CalendarSpec, ExogenousSpec, FeatureSpec, ImputedColumn, LagSpec, LifecycleSpec, PromotionSpec,
    ReplenishmentSpec, RollingSpec,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::groups::{
    check_positive, check_schema_version, entity_columns_schema, parse_imputation, quantity,
    schema_version, to_usize,
};
pub use super::groups::{
    AggregationName, CalendarConfig, ExogenousConfig, ImputationConfig, ImputationName, LagConfig,
    LifecycleConfig, PromoKindName, PromotionConfig, ReplenishmentConfig, RollingConfig,
};
use crate::extract::{Validate, Violations};

/// A feature set: which families to compute and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeatureSetConfig {
    /// Schema version.
    #[serde(default = "schema_version")]
    #[schema(pattern = r"^[0-9]+\.[0-9]+(\.[0-9]+)?$")]
    pub schema_version: String,
    /// Name, 1–100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Grouping keys (subset of `store_id`, `product_id`).
    #[serde(default = "default_entities")]
    #[schema(schema_with = entity_columns_schema)]
    pub entity_columns: Vec<String>,
    /// Date column (only `date`).
    #[serde(default = "date_column")]
    #[schema(pattern = "^date$")]
    pub date_column: String,
    /// Target column (only `quantity`).
    #[serde(default = "quantity")]
    pub target_column: String,
    /// Lags (null = off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag_config: Option<LagConfig>,
    /// Rolling statistics (null = off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolling_config: Option<RollingConfig>,
    /// Calendar (null = off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar_config: Option<CalendarConfig>,
    /// Price / promotion / inventory (null = off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exogenous_config: Option<ExogenousConfig>,
    /// Lifecycle (null = off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_config: Option<LifecycleConfig>,
    /// Replenishment (null = off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replenishment_config: Option<ReplenishmentConfig>,
    /// Promotions per kind (null = off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion_config: Option<PromotionConfig>,
    /// Imputation (null = off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imputation_config: Option<ImputationConfig>,
}

fn default_entities() -> Vec<String> {
    vec!["store_id".to_owned(), "product_id".to_owned()]
}

fn date_column() -> String {
    "date".to_owned()
}

impl FeatureSetConfig {
    /// `config_hash`: 16 hex of SHA-256 over the compact JSON, nulls
    /// excluded, defaults included, keys in declaration order.
    pub fn config_hash(&self) -> String {
        let canonical = serde_json::to_string(self).unwrap_or_default();
        forecastlab_core::model_config::hash16(&canonical)
    }

    /// Checks the rules of §2.2; field names are prefixed with `prefix`.
    fn check(&self, v: &mut Violations, prefix: &str) {
        let f = |name: &str| format!("{prefix}.{name}");
        check_schema_version(v, &f("schema_version"), &self.schema_version);
        v.length(&f("name"), &self.name, 1, 100);
        for (i, column) in self.entity_columns.iter().enumerate() {
            v.one_of(
                &f(&format!("entity_columns.{i}")),
                column,
                &["store_id", "product_id"],
            );
        }
        v.one_of(&f("date_column"), &self.date_column, &["date"]);
        v.one_of(&f("target_column"), &self.target_column, &["quantity"]);
        if let Some(c) = &self.lag_config {
            check_schema_version(v, &f("lag_config.schema_version"), &c.schema_version);
            if c.lags.is_empty() {
                v.push(
                    &f("lag_config.lags"),
                    "List should have at least 1 item after validation, not 0",
                    "too_short",
                );
            }
            check_positive(v, &f("lag_config.lags"), &c.lags);
            v.one_of(
                &f("lag_config.target_column"),
                &c.target_column,
                &["quantity"],
            );
            if c.fill_value.is_some_and(|x| !x.is_finite()) {
                v.push(
                    &f("lag_config.fill_value"),
                    "Input should be a finite number",
                    "finite_number",
                );
            }
        }
        if let Some(c) = &self.rolling_config {
            check_schema_version(v, &f("rolling_config.schema_version"), &c.schema_version);
            if c.windows.is_empty() {
                v.push(
                    &f("rolling_config.windows"),
                    "List should have at least 1 item after validation, not 0",
                    "too_short",
                );
            }
            check_positive(v, &f("rolling_config.windows"), &c.windows);
            v.one_of(
                &f("rolling_config.target_column"),
                &c.target_column,
                &["quantity"],
            );
            if let Some(min_periods) = c.min_periods {
                let smallest = c.windows.iter().copied().min().unwrap_or(1).max(1);
                v.range(&f("rolling_config.min_periods"), min_periods, 1, smallest);
            }
        }
        if let Some(c) = &self.calendar_config {
            check_schema_version(v, &f("calendar_config.schema_version"), &c.schema_version);
        }
        if let Some(c) = &self.exogenous_config {
            check_schema_version(v, &f("exogenous_config.schema_version"), &c.schema_version);
            check_positive(v, &f("exogenous_config.price_lags"), &c.price_lags);
        }
        if let Some(c) = &self.lifecycle_config {
            check_schema_version(v, &f("lifecycle_config.schema_version"), &c.schema_version);
            v.range(&f("lifecycle_config.lag_days"), c.lag_days, 1, 30);
        }
        if let Some(c) = &self.replenishment_config {
            check_schema_version(
                v,
                &f("replenishment_config.schema_version"),
                &c.schema_version,
            );
            v.range(&f("replenishment_config.lag_days"), c.lag_days, 1, 30);
            v.range(
                &f("replenishment_config.count_window_days"),
                c.count_window_days,
                7,
                60,
            );
        }
        if let Some(c) = &self.promotion_config {
            check_schema_version(v, &f("promotion_config.schema_version"), &c.schema_version);
            if c.kinds_to_track.is_empty() {
                v.push(
                    &f("promotion_config.kinds_to_track"),
                    "List should have at least 1 item after validation, not 0",
                    "too_short",
                );
            }
            let mut seen = Vec::new();
            for kind in &c.kinds_to_track {
                if seen.contains(kind) {
                    v.push(
                        &f("promotion_config.kinds_to_track"),
                        "Value error, kinds_to_track must not contain duplicates",
                        "value_error",
                    );
                    break;
                }
                seen.push(*kind);
            }
            v.range(&f("promotion_config.lag_days"), c.lag_days, 1, 30);
        }
        if let Some(c) = &self.imputation_config {
            check_schema_version(v, &f("imputation_config.schema_version"), &c.schema_version);
            for (column, strategy) in &c.strategies {
                if parse_imputation(strategy).is_none() {
                    v.push(
                        &f(&format!("imputation_config.strategies.{column}")),
                        "Input should be 'zero', 'ffill', 'bfill', 'mean', 'expanding_mean' or 'drop'",
                        "enum",
                    );
                }
            }
        }
    }

    /// The engine's form of this (validated) config.
    pub fn to_spec(&self) -> FeatureSpec {
        let days = |n: i64| usize::try_from(n).unwrap_or(1);
        FeatureSpec {
            lag: self.lag_config.as_ref().map(|c| LagSpec {
                lags: to_usize(&c.lags),
                fill_value: c.fill_value,
            }),
            rolling: self.rolling_config.as_ref().map(|c| RollingSpec {
                windows: to_usize(&c.windows),
                aggregations: c.aggregations.iter().map(|a| (*a).into()).collect(),
                min_periods: c.min_periods.map(days),
            }),
            calendar: self.calendar_config.as_ref().map(|c| CalendarSpec {
                day_of_week: c.include_day_of_week,
                month: c.include_month,
                quarter: c.include_quarter,
                year: c.include_year,
                is_weekend: c.include_is_weekend,
                is_month_end: c.include_is_month_end,
                is_holiday: c.include_is_holiday,
                cyclical: c.use_cyclical_encoding,
            }),
            exogenous: self.exogenous_config.as_ref().map(|c| ExogenousSpec {
                include_price: c.include_price,
                price_lags: to_usize(&c.price_lags),
                include_price_change: c.include_price_change,
                include_promo: c.include_promo,
                include_inventory: c.include_inventory,
                include_stockout_flag: c.include_stockout_flag,
            }),
            lifecycle: self.lifecycle_config.as_ref().map(|c| LifecycleSpec {
                include_days_since_launch: c.include_days_since_launch,
                include_days_since_discontinue: c.include_days_since_discontinue,
                lag_days: days(c.lag_days),
            }),
            replenishment: self
                .replenishment_config
                .as_ref()
                .map(|c| ReplenishmentSpec {
                    include_days_since_last: c.include_days_since_last,
                    include_count_window: c.include_count_window,
                    lag_days: days(c.lag_days),
                    count_window_days: days(c.count_window_days),
                }),
            promotion: self.promotion_config.as_ref().map(|c| PromotionSpec {
                kinds: c.kinds_to_track.iter().map(|k| (*k).into()).collect(),
                include_active: c.include_active,
                include_intensity: c.include_intensity,
                lag_days: days(c.lag_days),
            }),
            imputation: self
                .imputation_config
                .as_ref()
                .map(|c| {
                    c.strategies
                        .iter()
                        .filter_map(|(column, strategy)| {
                            let column = match column.as_str() {
                                "quantity" => ImputedColumn::Quantity,
                                "unit_price" => ImputedColumn::UnitPrice,
                                "total_amount" => ImputedColumn::TotalAmount,
                                _ => return None,
                            };
                            Some((column, parse_imputation(strategy)?.into()))
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// `POST /featuresets/compute` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComputeFeaturesRequest {
    /// Store id (≥ 1).
    #[schema(minimum = 1)]
    pub store_id: i64,
    /// Product id (≥ 1).
    #[schema(minimum = 1)]
    pub product_id: i64,
    /// Last date included (inclusive); nothing after it is read.
    pub cutoff_date: NaiveDate,
    /// Days before the cutoff to load, 1 … 1095 (default 365).
    #[serde(default = "default_lookback")]
    #[schema(minimum = 1, maximum = 1095)]
    pub lookback_days: i64,
    /// The feature set.
    pub config: FeatureSetConfig,
}

fn default_lookback() -> i64 {
    365
}

impl Validate for ComputeFeaturesRequest {
    fn validate(&self, v: &mut Violations) {
        v.min("store_id", self.store_id, 1);
        v.min("product_id", self.product_id, 1);
        v.range("lookback_days", self.lookback_days, 1, 1095);
        self.config.check(v, "config");
    }
}

/// `POST /featuresets/preview` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewFeaturesRequest {
    /// Store id (≥ 1).
    #[schema(minimum = 1)]
    pub store_id: i64,
    /// Product id (≥ 1).
    #[schema(minimum = 1)]
    pub product_id: i64,
    /// Last date included (inclusive).
    pub cutoff_date: NaiveDate,
    /// The feature set.
    pub config: FeatureSetConfig,
    /// Rows returned (the last ones), 1 … 100 (default 10).
    #[serde(default = "default_sample_rows")]
    #[schema(minimum = 1, maximum = 100)]
    pub sample_rows: i64,
}

fn default_sample_rows() -> i64 {
    10
}

impl Validate for PreviewFeaturesRequest {
    fn validate(&self, v: &mut Violations) {
        v.min("store_id", self.store_id, 1);
        v.min("product_id", self.product_id, 1);
        v.range("sample_rows", self.sample_rows, 1, 100);
        self.config.check(v, "config");
    }
}

/// One output row.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeatureRow {
    /// Row date.
    pub date: NaiveDate,
    /// Store id.
    pub store_id: i64,
    /// Product id.
    pub product_id: i64,
    /// Feature values by column (integers for flags, counts and calendar
    /// parts; null for NaN).
    #[schema(value_type = Object)]
    pub features: serde_json::Map<String, serde_json::Value>,
}

/// Response of both endpoints.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ComputeFeaturesResponse {
    /// Rows in ascending date order (preview: the last `sample_rows`).
    pub rows: Vec<FeatureRow>,
    /// Produced columns in pipeline order.
    pub feature_columns: Vec<String>,
    /// 16-hex hash of the config (nulls excluded).
    pub config_hash: String,
    /// Echo of the cutoff.
    pub cutoff_date: NaiveDate,
    /// Number of entries in `rows`.
    pub row_count: usize,
    /// Nulls per column over the whole computed frame (also for preview).
    #[schema(value_type = Object)]
    pub null_counts: serde_json::Map<String, serde_json::Value>,
    /// Wall time in milliseconds, rounded to 2 decimals.
    pub duration_ms: f64,
}
