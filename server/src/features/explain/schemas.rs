//! Request and response bodies of `/explain/*` (spec §6.2, §6.4).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    data::series_names::SeriesNames,
    extract::{Validate, Violations},
};

/// Largest step that can be explained.
pub const MAX_STEP: i64 = 90;

/// Weighting of the weighted moving average.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WeightStrategy {
    /// 1, 2, …, W.
    Linear,
    /// decay^(W−1), …, 1.
    Exponential,
}

/// `POST /explain/forecast` body: fit a target-only model on the series up
/// to `as_of_date` and explain one step of its forecast.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplainRequest {
    /// Store id (≥ 1). Give it or `store_code`.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 2147483647)]
    pub store_id: Option<i64>,
    /// Store code (exact, 1–20 characters), in place of or with `store_id`
    /// (then both must name the same store).
    #[serde(default)]
    #[schema(min_length = 1, max_length = 20)]
    pub store_code: Option<String>,
    /// Product id (≥ 1). Give it or `sku`.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 2147483647)]
    pub product_id: Option<i64>,
    /// Product SKU (exact, 1–50 characters), in place of or with
    /// `product_id` (then both must name the same product).
    #[serde(default)]
    #[schema(min_length = 1, max_length = 50)]
    pub sku: Option<String>,
    /// Any target-only model of the registry (`naive`, `seasonal_naive`,
    /// `moving_average`, `weighted_moving_average`, `seasonal_average`,
    /// `trend_regression_baseline`, …).
    #[schema(min_length = 1, max_length = 50)]
    pub model_type: String,
    /// Last day of history used; the forecast starts the day after.
    pub as_of_date: NaiveDate,
    /// Season length (1–365) for seasonal models (default 7).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 365)]
    pub season_length: Option<i64>,
    /// Window (1–90) for moving averages (default 7).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 90)]
    pub window_size: Option<i64>,
    /// Weighting of the weighted moving average (default `linear`).
    #[serde(default)]
    pub weight_strategy: Option<WeightStrategy>,
    /// Exponential decay, strictly between 0 and 1 (default 0.7).
    #[serde(default)]
    #[schema(exclusive_minimum = 0.0, exclusive_maximum = 1.0)]
    pub decay: Option<f64>,
    /// Seasonal cycles averaged (2–12, default 4).
    #[serde(default)]
    #[schema(minimum = 2, maximum = 12)]
    pub lookback_cycles: Option<i64>,
    /// Drop the extreme seasonal samples (default false).
    #[serde(default)]
    pub trim_outliers: Option<bool>,
    /// Horizon step to explain (1–90, default 1).
    #[serde(default = "one")]
    #[schema(minimum = 1, maximum = 90, default = 1)]
    pub step: i64,
}

fn one() -> i64 {
    1
}

impl ExplainRequest {
    /// The series' names.
    pub fn names(&self) -> SeriesNames<'_> {
        SeriesNames {
            store_id: self.store_id,
            store_code: self.store_code.as_deref(),
            product_id: self.product_id,
            sku: self.sku.as_deref(),
        }
    }

    /// The model parameters given (null ones omitted), as config members.
    pub fn parameters(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut out = serde_json::Map::new();
        let mut put = |name: &str, value: Option<serde_json::Value>| {
            if let Some(value) = value {
                out.insert(name.to_owned(), value);
            }
        };
        put("season_length", self.season_length.map(Into::into));
        put("window_size", self.window_size.map(Into::into));
        put(
            "weight_strategy",
            self.weight_strategy
                .and_then(|w| serde_json::to_value(w).ok()),
        );
        put("decay", self.decay.map(Into::into));
        put("lookback_cycles", self.lookback_cycles.map(Into::into));
        put("trim_outliers", self.trim_outliers.map(Into::into));
        out
    }
}

impl Validate for ExplainRequest {
    fn validate(&self, v: &mut Violations) {
        let names = self.names();
        names.check(v, "", i64::from(i32::MAX));
        names.require(v, "");
        v.length("model_type", &self.model_type, 1, 50);
        if let Some(s) = self.season_length {
            v.range("season_length", s, 1, 365);
        }
        if let Some(w) = self.window_size {
            v.range("window_size", w, 1, 90);
        }
        if let Some(d) = self.decay {
            if !(d > 0.0 && d < 1.0) {
                v.push(
                    "decay",
                    "Input should be greater than 0 and less than 1",
                    "value_error",
                );
            }
        }
        if let Some(c) = self.lookback_cycles {
            v.range("lookback_cycles", c, 2, 12);
        }
        v.range("step", self.step, 1, MAX_STEP);
    }
}

/// Query of the `GET /explain/*` routes.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StepQuery {
    /// Horizon step to explain (1–90, default 1).
    #[param(default = 1, minimum = 1, maximum = 90)]
    pub step: Option<i64>,
}

impl StepQuery {
    /// The step (default 1).
    pub fn step(&self) -> usize {
        usize::try_from(self.step.unwrap_or(1)).unwrap_or(1)
    }
}

impl Validate for StepQuery {
    fn validate(&self, v: &mut Violations) {
        if let Some(step) = self.step {
            v.range("step", step, 1, MAX_STEP);
        }
    }
}

/// One driver of the explained forecast.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DriverOut {
    /// Driver name (a rule or a feature column).
    pub name: String,
    /// Family (`trend`, `day_of_week`, `price`, `promotion`, …).
    pub group: String,
    /// The value read (null when missing).
    pub feature_value: Option<f64>,
    /// Signed contribution to the forecast.
    pub contribution: f64,
    /// `positive`, `negative` or `neutral`.
    pub direction: String,
    /// One sentence.
    pub description: String,
}

/// Contributions summed per family.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GroupContribution {
    /// Family.
    pub group: String,
    /// Σ contributions of its drivers.
    pub contribution: f64,
}

/// An advisory signal.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReasonCode {
    /// `stockout_constrained`, `promotion_overlap`, `lifecycle_decay`,
    /// `holiday_effect` or `insufficient_history`.
    pub code: String,
    /// `info` or `warn`.
    pub severity: String,
    /// What fired it.
    pub detail: String,
}

/// `ForecastExplanation`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ForecastExplanation {
    /// 32-hex id of the stored explanation.
    pub explanation_id: String,
    /// Store.
    pub store_id: i64,
    /// Product.
    pub product_id: i64,
    /// Model type.
    pub model_type: String,
    /// `rule_based` (baselines), `component` (exact linear contributions)
    /// or `shap` (exact TreeSHAP).
    pub method: String,
    /// Horizon step explained (1 = the day after `as_of_date`).
    pub step: usize,
    /// The day forecast.
    pub forecast_date: NaiveDate,
    /// The forecast of that step.
    pub forecast_value: f64,
    /// Base value the contributions are added to (0 for rule-based).
    pub base_value: f64,
    /// Drivers (rule-based: main driver first; others by |contribution|).
    pub drivers: Vec<DriverOut>,
    /// Contributions per family, by |contribution|.
    pub groups: Vec<GroupContribution>,
    /// Advisory signals.
    pub reason_codes: Vec<ReasonCode>,
    /// `high`, `medium` or `low`.
    pub confidence: String,
    /// Caveats, correlation disclaimer first.
    pub caveats: Vec<String>,
    /// Four sentences for an agent or a person.
    pub agent_summary: String,
    /// Last day of history.
    pub as_of_date: NaiveDate,
    /// Registry run or artifact key explained, if any.
    pub run_id: Option<String>,
    /// Predict job explained, if any.
    pub job_id: Option<String>,
    /// When it was computed (UTC).
    pub generated_at: DateTime<Utc>,
}
