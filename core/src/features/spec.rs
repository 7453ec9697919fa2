//! The feature-set configuration the engine computes (the validated form of
//! the `/featuresets` request's `config`), and its limits.

use crate::{frame::PromoKind, CoreError};

/// Rolling aggregations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregation {
    /// Mean of the non-null values.
    Mean,
    /// Sample standard deviation (divisor count − 1).
    Std,
    /// Minimum.
    Min,
    /// Maximum.
    Max,
    /// Sum.
    Sum,
}

impl Aggregation {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mean => "mean",
            Self::Std => "std",
            Self::Min => "min",
            Self::Max => "max",
            Self::Sum => "sum",
        }
    }

    /// Parses a wire name.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Mean, Self::Std, Self::Min, Self::Max, Self::Sum]
            .into_iter()
            .find(|a| a.as_str() == name)
    }
}

/// Lag features of the target.
#[derive(Debug, Clone, PartialEq)]
pub struct LagSpec {
    /// Lags in rows, request order.
    pub lags: Vec<usize>,
    /// Replaces NaN in lag columns when set.
    pub fill_value: Option<f64>,
}

/// Rolling statistics of the one-row-shifted target.
#[derive(Debug, Clone, PartialEq)]
pub struct RollingSpec {
    /// Windows in rows, request order.
    pub windows: Vec<usize>,
    /// Aggregations, request order.
    pub aggregations: Vec<Aggregation>,
    /// Minimum non-null values per window (default: the window).
    pub min_periods: Option<usize>,
}

/// Calendar columns.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::struct_excessive_bools)]
pub struct CalendarSpec {
    /// Day of week.
    pub day_of_week: bool,
    /// Month.
    pub month: bool,
    /// Quarter.
    pub quarter: bool,
    /// Year.
    pub year: bool,
    /// Weekend flag.
    pub is_weekend: bool,
    /// Month-end flag.
    pub is_month_end: bool,
    /// Holiday flag from the calendar table.
    pub is_holiday: bool,
    /// sin/cos instead of raw day-of-week and month.
    pub cyclical: bool,
}

/// Price, promotion and inventory columns.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::struct_excessive_bools)]
pub struct ExogenousSpec {
    /// Emit price lags.
    pub include_price: bool,
    /// Price lags in rows.
    pub price_lags: Vec<usize>,
    /// Emit `price_pct_change_7d`.
    pub include_price_change: bool,
    /// Emit `promo_active` (same-day, any promotion kind).
    pub include_promo: bool,
    /// Emit `inventory_on_hand_lag_1`.
    pub include_inventory: bool,
    /// Emit `stockout_lag_1`.
    pub include_stockout_flag: bool,
}

/// Product lifecycle columns.
#[derive(Debug, Clone, PartialEq)]
pub struct LifecycleSpec {
    /// Emit `days_since_launch_lag{N}`.
    pub include_days_since_launch: bool,
    /// Emit `days_since_discontinue_lag{N}`.
    pub include_days_since_discontinue: bool,
    /// N.
    pub lag_days: usize,
}

/// Replenishment columns.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplenishmentSpec {
    /// Emit `days_since_last_replenishment_lag{N}`.
    pub include_days_since_last: bool,
    /// Emit `replenishment_count_w{W}_lag{N}`.
    pub include_count_window: bool,
    /// N.
    pub lag_days: usize,
    /// W.
    pub count_window_days: usize,
}

/// Promotion columns per kind.
#[derive(Debug, Clone, PartialEq)]
pub struct PromotionSpec {
    /// Kinds (emitted alphabetically).
    pub kinds: Vec<PromoKind>,
    /// Emit `promo_{kind}_active_lag{N}`.
    pub include_active: bool,
    /// Emit `promo_{kind}_intensity_lag{N}`.
    pub include_intensity: bool,
    /// N.
    pub lag_days: usize,
}

/// Imputation strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imputation {
    /// NaN := 0.
    Zero,
    /// Forward fill.
    Ffill,
    /// Backward fill (reads later rows: a leakage risk).
    Bfill,
    /// Series mean (reads later rows: a leakage risk).
    Mean,
    /// Mean of the earlier non-null values.
    ExpandingMean,
    /// Drop rows where the column is null.
    Drop,
}

impl Imputation {
    /// Parses a wire name.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "zero" => Self::Zero,
            "ffill" => Self::Ffill,
            "bfill" => Self::Bfill,
            "mean" => Self::Mean,
            "expanding_mean" => Self::ExpandingMean,
            "drop" => Self::Drop,
            _ => return None,
        })
    }
}

/// Which input column an imputation strategy applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImputedColumn {
    /// `quantity` (the target).
    Quantity,
    /// `unit_price`.
    UnitPrice,
    /// `total_amount`.
    TotalAmount,
}

/// A complete, validated feature-set configuration. `None` = family off.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FeatureSpec {
    /// Lags.
    pub lag: Option<LagSpec>,
    /// Rolling statistics.
    pub rolling: Option<RollingSpec>,
    /// Calendar.
    pub calendar: Option<CalendarSpec>,
    /// Price / promotion / inventory.
    pub exogenous: Option<ExogenousSpec>,
    /// Lifecycle.
    pub lifecycle: Option<LifecycleSpec>,
    /// Replenishment.
    pub replenishment: Option<ReplenishmentSpec>,
    /// Promotions per kind.
    pub promotion: Option<PromotionSpec>,
    /// Imputation (runs first), in request order.
    pub imputation: Vec<(ImputedColumn, Imputation)>,
}

/// Upper bounds enforced on a [`FeatureSpec`] (`FEATURE_MAX_LAG`,
/// `FEATURE_MAX_WINDOW`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureLimits {
    /// Largest lag (target and price lags, lifecycle/promotion/replenishment
    /// `lag_days`).
    pub max_lag: usize,
    /// Largest rolling window (and replenishment count window).
    pub max_window: usize,
}

impl Default for FeatureLimits {
    fn default() -> Self {
        Self {
            max_lag: 365,
            max_window: 90,
        }
    }
}

/// A limit a spec exceeds: the offending field path and the setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitViolation {
    /// Field path in the request config (`config.lag_config.lags.0`).
    pub field: String,
    /// Setting name (`FEATURE_MAX_LAG`).
    pub setting: &'static str,
    /// The limit.
    pub limit: usize,
    /// The requested value.
    pub value: usize,
}

impl LimitViolation {
    /// Human message naming the setting.
    pub fn message(&self) -> String {
        format!(
            "{} exceeds {}={} (got {})",
            self.field, self.setting, self.limit, self.value
        )
    }
}

impl FeatureSpec {
    /// Every value over the limits (empty when the spec is within them).
    pub fn check_limits(&self, limits: &FeatureLimits) -> Vec<LimitViolation> {
        let mut out = Vec::new();
        let mut lag = |field: String, value: usize| {
            if value > limits.max_lag {
                out.push(LimitViolation {
                    field,
                    setting: "FEATURE_MAX_LAG",
                    limit: limits.max_lag,
                    value,
                });
            }
        };
        if let Some(spec) = &self.lag {
            for (i, k) in spec.lags.iter().enumerate() {
                lag(format!("config.lag_config.lags.{i}"), *k);
            }
        }
        if let Some(spec) = &self.exogenous {
            for (i, k) in spec.price_lags.iter().enumerate() {
                lag(format!("config.exogenous_config.price_lags.{i}"), *k);
            }
        }
        if let Some(spec) = &self.rolling {
            for (i, w) in spec.windows.iter().enumerate() {
                if *w > limits.max_window {
                    out.push(LimitViolation {
                        field: format!("config.rolling_config.windows.{i}"),
                        setting: "FEATURE_MAX_WINDOW",
                        limit: limits.max_window,
                        value: *w,
                    });
                }
            }
        }
        out
    }

    /// Validates the structural rules of §2.2 (non-empty lists, positive
    /// lags and windows, ranges of `lag_days`, no duplicate kinds).
    pub fn validate(&self) -> Result<(), CoreError> {
        if let Some(spec) = &self.lag {
            if spec.lags.is_empty() || spec.lags.contains(&0) {
                return Err(CoreError::config("lags must be non-empty and positive"));
            }
        }
        if let Some(spec) = &self.rolling {
            if spec.windows.is_empty() || spec.windows.contains(&0) {
                return Err(CoreError::config("windows must be non-empty and positive"));
            }
            if spec.min_periods == Some(0) {
                return Err(CoreError::config("min_periods must be positive"));
            }
        }
        if let Some(spec) = &self.exogenous {
            if spec.price_lags.contains(&0) {
                return Err(CoreError::config("price_lags must be positive"));
            }
        }
        if let Some(spec) = &self.promotion {
            let mut kinds = spec.kinds.clone();
            kinds.sort();
            kinds.dedup();
            if spec.kinds.is_empty() || kinds.len() != spec.kinds.len() {
                return Err(CoreError::config(
                    "kinds_to_track must be non-empty without duplicates",
                ));
            }
        }
        Ok(())
    }
}
