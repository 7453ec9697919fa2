//! Request and response bodies of `POST /backtesting/run`.

use chrono::NaiveDate;
use forecastlab_core::{
    backtest::{HorizonBucket, SplitSpec, SplitStrategy},
    metrics::Metrics,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    data::series_names::SeriesNames,
    extract::{Validate, Violations},
};

/// Most explicitly listed series one request may name.
pub const MAX_LISTED_SERIES: usize = 10_000;

/// Backtest request. Name one series with `store_id` (or `store_code`) +
/// `product_id` (or `sku`) (the upstream shape), or many with `series` (a
/// list of such pairs, or `"all"` for every series with sales in the
/// window) — not both.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BacktestRequest {
    /// Store of the single series (≥ 1); it or `store_code` is required
    /// unless `series` is given.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub store_id: Option<i64>,
    /// Store of the single series by code (exact, 1–20 characters), in
    /// place of or with `store_id` (then both must name the same store).
    #[serde(default)]
    #[schema(min_length = 1, max_length = 20)]
    pub store_code: Option<String>,
    /// Product of the single series (≥ 1); it or `sku` is required unless
    /// `series` is given.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub product_id: Option<i64>,
    /// Product of the single series by SKU (exact, 1–50 characters), in
    /// place of or with `product_id` (then both must name the same product).
    #[serde(default)]
    #[schema(min_length = 1, max_length = 50)]
    pub sku: Option<String>,
    /// Many series: a list of `{store_id | store_code, product_id | sku}`
    /// pairs (1–10 000), or
    /// the string `"all"`. The response then carries `series_results`,
    /// `pooled` and `skipped_series` instead of the single-series members.
    #[serde(default)]
    pub series: Option<SeriesSelection>,
    /// First day of the data window (inclusive).
    #[schema(value_type = String, format = Date, example = "2024-01-01")]
    pub start_date: NaiveDate,
    /// Last day of the data window (inclusive); must be after `start_date`.
    #[schema(value_type = String, format = Date, example = "2024-06-30")]
    pub end_date: NaiveDate,
    /// What to run.
    pub config: BacktestConfig,
}

/// Which series a many-series backtest covers.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum SeriesSelection {
    /// `"all"`: every series with sales in the window.
    All(AllSeries),
    /// The listed pairs (duplicates are ignored).
    List(Vec<SeriesName>),
}

/// The literal `"all"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum AllSeries {
    /// Every series.
    #[serde(rename = "all")]
    All,
}

/// One (store, product) pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeriesRef {
    /// Store id (≥ 1).
    #[schema(minimum = 1)]
    pub store_id: i64,
    /// Product id (≥ 1).
    #[schema(minimum = 1)]
    pub product_id: i64,
}

/// One (store, product) pair of a request: the store by `store_id` or
/// `store_code` (or both, naming the same store), the product by
/// `product_id` or `sku` (likewise).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeriesName {
    /// Store id (≥ 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub store_id: Option<i64>,
    /// Store code (exact, 1–20 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 20)]
    pub store_code: Option<String>,
    /// Product id (≥ 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub product_id: Option<i64>,
    /// Product SKU (exact, 1–50 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 50)]
    pub sku: Option<String>,
}

impl SeriesName {
    /// The names, borrowed.
    pub fn names(&self) -> SeriesNames<'_> {
        SeriesNames {
            store_id: self.store_id,
            store_code: self.store_code.as_deref(),
            product_id: self.product_id,
            sku: self.sku.as_deref(),
        }
    }
}

/// Checks a listed selection under `series`: 1–10 000 entries, each naming
/// its store and product within the field rules.
pub fn check_series_list(v: &mut Violations, list: &[SeriesName]) {
    if list.is_empty() {
        v.push("series", "List should have at least 1 item", "too_short");
    }
    if list.len() > MAX_LISTED_SERIES {
        v.push(
            "series",
            format!("List should have at most {MAX_LISTED_SERIES} items"),
            "too_long",
        );
    }
    for (i, pair) in list.iter().enumerate().take(MAX_LISTED_SERIES) {
        let prefix = format!("series.{i}.");
        let names = pair.names();
        names.check(v, &prefix, i64::MAX);
        names.require(v, &prefix);
    }
}

/// What a backtest runs (immutable, extra keys forbidden).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BacktestConfig {
    /// Config schema version.
    #[serde(default = "schema_version")]
    pub schema_version: String,
    /// How the folds are cut.
    #[serde(default)]
    pub split_config: SplitConfig,
    /// The model under test: a model config discriminated by `model_type`
    /// (any registered model, e.g. `{"model_type": "seasonal_naive",
    /// "season_length": 7}`); its fields are validated by the model.
    #[schema(value_type = Object, example = json!({"model_type": "seasonal_naive", "season_length": 7}))]
    pub model_config_main: serde_json::Value,
    /// Also run `naive` and `seasonal_naive` (season 7) on the same folds.
    #[serde(default = "yes")]
    pub include_baselines: bool,
    /// Keep per-fold dates, actuals and predictions (metrics are always
    /// kept).
    #[serde(default = "yes")]
    pub store_fold_details: bool,
    /// Fit the (feature-aware) main model once per fold across every
    /// selected series instead of once per series: a global model with
    /// series-level columns, folds cut on the common date axis. Needs
    /// `series`; default false.
    #[serde(default)]
    pub global_model: bool,
}

fn schema_version() -> String {
    "1.0".to_owned()
}

fn yes() -> bool {
    true
}

/// Fold layout (immutable, extra keys forbidden).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitConfig {
    /// `expanding` (training grows) or `sliding` (fixed-size training).
    #[serde(default)]
    #[schema(value_type = String, example = "expanding")]
    pub strategy: SplitStrategyBody,
    /// Folds wanted, 2–20 (and at most `BACKTEST_MAX_SPLITS`); fewer are
    /// run when the series is short.
    #[serde(default = "default_n_splits")]
    #[schema(minimum = 2, maximum = 20)]
    #[schema(minimum = 2, maximum = 20)]
    pub n_splits: i64,
    /// Rows in the first (expanding) or every (sliding) training window,
    /// ≥ 7 (≥ 30 for feature-aware models).
    #[serde(default = "default_min_train_size")]
    #[schema(minimum = 7)]
    #[schema(minimum = 7)]
    pub min_train_size: i64,
    /// Rows left out between training and test, 0–30 (and at most
    /// `BACKTEST_MAX_GAP`).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 30)]
    #[schema(minimum = 0, maximum = 30)]
    pub gap: i64,
    /// Rows per test window, 1–90, greater than `gap`.
    #[serde(default = "default_horizon")]
    #[schema(minimum = 1, maximum = 90)]
    #[schema(minimum = 1, maximum = 90)]
    pub horizon: i64,
}

impl Default for SplitConfig {
    fn default() -> Self {
        Self {
            strategy: SplitStrategyBody::Expanding,
            n_splits: default_n_splits(),
            min_train_size: default_min_train_size(),
            gap: 0,
            horizon: default_horizon(),
        }
    }
}

fn default_n_splits() -> i64 {
    5
}

fn default_min_train_size() -> i64 {
    30
}

fn default_horizon() -> i64 {
    14
}

/// Wire form of the split strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SplitStrategyBody {
    /// Training always starts at the first row.
    #[default]
    Expanding,
    /// Training keeps `min_train_size` rows.
    Sliding,
}

impl SplitConfig {
    /// The splitter parameters (call after validation).
    pub fn spec(&self) -> SplitSpec {
        SplitSpec {
            strategy: match self.strategy {
                SplitStrategyBody::Expanding => SplitStrategy::Expanding,
                SplitStrategyBody::Sliding => SplitStrategy::Sliding,
            },
            n_splits: to_usize(self.n_splits),
            min_train_size: to_usize(self.min_train_size),
            gap: to_usize(self.gap),
            horizon: to_usize(self.horizon),
        }
    }
}

fn to_usize(value: i64) -> usize {
    usize::try_from(value).unwrap_or(0)
}

impl BacktestRequest {
    /// The single series' names.
    pub fn names(&self) -> SeriesNames<'_> {
        SeriesNames {
            store_id: self.store_id,
            store_code: self.store_code.as_deref(),
            product_id: self.product_id,
            sku: self.sku.as_deref(),
        }
    }
}

impl Validate for BacktestRequest {
    fn validate(&self, v: &mut Violations) {
        let names = self.names();
        names.check(v, "", i64::MAX);
        match &self.series {
            None => names.require(v, ""),
            Some(selection) => {
                for (field, given) in [
                    ("store_id", self.store_id.is_some()),
                    ("store_code", self.store_code.is_some()),
                    ("product_id", self.product_id.is_some()),
                    ("sku", self.sku.is_some()),
                ] {
                    if given {
                        v.push(
                            field,
                            "Give either one series (store_id/store_code + product_id/sku) \
                             or series, not both",
                            "value_error",
                        );
                    }
                }
                if let SeriesSelection::List(list) = selection {
                    check_series_list(v, list);
                }
            }
        }
        if self.end_date <= self.start_date {
            v.push(
                "end_date",
                "end_date must be after start_date",
                "value_error",
            );
        }
        if self.config.global_model && self.series.is_none() {
            v.push(
                "config.global_model",
                "A global model needs many series: name them with 'series'",
                "value_error",
            );
        }
        let split = &self.config.split_config;
        v.range("config.split_config.n_splits", split.n_splits, 2, 20);
        v.min(
            "config.split_config.min_train_size",
            split.min_train_size,
            7,
        );
        v.range("config.split_config.gap", split.gap, 0, 30);
        v.range("config.split_config.horizon", split.horizon, 1, 90);
        if split.horizon <= split.gap {
            v.push(
                "config.split_config.horizon",
                format!(
                    "horizon ({}) must be greater than gap ({})",
                    split.horizon, split.gap
                ),
                "value_error",
            );
        }
        match &self.config.model_config_main {
            serde_json::Value::Object(map) => match map.get("model_type") {
                Some(serde_json::Value::String(_)) => {}
                Some(_) => v.push(
                    "config.model_config_main.model_type",
                    "Input should be a valid string",
                    "string_type",
                ),
                None => v.push(
                    "config.model_config_main.model_type",
                    "Field required",
                    "missing",
                ),
            },
            _ => v.push(
                "config.model_config_main",
                "Input should be an object with a model_type",
                "model_type",
            ),
        }
    }
}

/// The metrics of one evaluation; non-finite values are `null`. MASE and
/// RMSSE divide by the in-sample seasonal naive (S = 7) error of the fold's
/// training window (`null` when that window is flat or no longer than a
/// week).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MetricsBody {
    /// Mean absolute error.
    pub mae: Option<f64>,
    /// Root mean squared error.
    pub rmse: Option<f64>,
    /// sMAPE, 0–200 (a point with actual = forecast = 0 counts as 0).
    pub smape: Option<f64>,
    /// WAPE in percent (`null` when every actual is zero).
    pub wape: Option<f64>,
    /// Mean of actual − forecast (positive = under-forecast).
    pub bias: Option<f64>,
    /// Mean absolute scaled error (MAE / in-sample seasonal naive MAE).
    pub mase: Option<f64>,
    /// Root mean squared scaled error (sqrt(MSE / in-sample seasonal naive
    /// MSE)).
    pub rmsse: Option<f64>,
}

/// A float for the wire: `None` (JSON `null`) when not finite.
pub fn finite(value: f64) -> Option<f64> {
    value.is_finite().then_some(value)
}

impl From<Metrics> for MetricsBody {
    fn from(m: Metrics) -> Self {
        Self {
            mae: finite(m.mae),
            rmse: finite(m.rmse),
            smape: finite(m.smape),
            wape: finite(m.wape),
            bias: finite(m.bias),
            mase: finite(m.mase),
            rmsse: finite(m.rmsse),
        }
    }
}

/// Stability index per metric (100 · population std / |mean| over folds).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StabilityBody {
    /// Of MAE.
    pub mae_stability: Option<f64>,
    /// Of RMSE.
    pub rmse_stability: Option<f64>,
    /// Of sMAPE.
    pub smape_stability: Option<f64>,
    /// Of WAPE.
    pub wape_stability: Option<f64>,
    /// Of bias.
    pub bias_stability: Option<f64>,
    /// Of MASE.
    pub mase_stability: Option<f64>,
    /// Of RMSSE.
    pub rmsse_stability: Option<f64>,
}

impl From<Metrics> for StabilityBody {
    fn from(m: Metrics) -> Self {
        Self {
            mae_stability: finite(m.mae),
            rmse_stability: finite(m.rmse),
            smape_stability: finite(m.smape),
            wape_stability: finite(m.wape),
            bias_stability: finite(m.bias),
            mase_stability: finite(m.mase),
            rmsse_stability: finite(m.rmsse),
        }
    }
}

/// Metrics per horizon bucket; buckets without points are omitted.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct BucketMetricsBody {
    /// Days 1–7 after the first test date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub h_1_7: Option<MetricsBody>,
    /// Days 8–14.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub h_8_14: Option<MetricsBody>,
    /// Days 15–28.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub h_15_28: Option<MetricsBody>,
    /// Day 29 and later.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub h_29_plus: Option<MetricsBody>,
}

impl BucketMetricsBody {
    /// From (bucket, metrics) pairs.
    pub fn from_pairs(pairs: &[(HorizonBucket, Metrics)]) -> Self {
        let mut body = Self::default();
        for (bucket, metrics) in pairs {
            let slot = match bucket {
                HorizonBucket::H1To7 => &mut body.h_1_7,
                HorizonBucket::H8To14 => &mut body.h_8_14,
                HorizonBucket::H15To28 => &mut body.h_15_28,
                HorizonBucket::H29Plus => &mut body.h_29_plus,
            };
            *slot = Some(MetricsBody::from(*metrics));
        }
        body
    }
}

/// Boundaries of one fold (dates of its first and last rows).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SplitBoundary {
    /// 0-based fold number.
    pub fold_index: usize,
    /// First training date.
    #[schema(value_type = String, format = Date)]
    pub train_start: NaiveDate,
    /// Last training date.
    #[schema(value_type = String, format = Date)]
    pub train_end: NaiveDate,
    /// First test date.
    #[schema(value_type = String, format = Date)]
    pub test_start: NaiveDate,
    /// Last test date.
    #[schema(value_type = String, format = Date)]
    pub test_end: NaiveDate,
    /// Training rows.
    pub train_size: usize,
    /// Test rows.
    pub test_size: usize,
}

/// One fold of one model.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FoldResult {
    /// 0-based fold number.
    pub fold_index: usize,
    /// Where the fold lies.
    pub split: SplitBoundary,
    /// Test dates (empty when `store_fold_details` is false).
    #[schema(value_type = Vec<String>)]
    pub dates: Vec<NaiveDate>,
    /// Actual values (empty when `store_fold_details` is false).
    pub actuals: Vec<f64>,
    /// Predictions (empty when `store_fold_details` is false; non-finite → null).
    pub predictions: Vec<Option<f64>>,
    /// Metrics over the test window.
    pub metrics: MetricsBody,
    /// Metrics per horizon bucket.
    pub horizon_bucket_metrics: BucketMetricsBody,
}

/// One model's backtest on one series.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ModelBacktestResult {
    /// Model type.
    pub model_type: String,
    /// `config_hash` of the model config.
    pub config_hash: String,
    /// One entry per fold.
    pub fold_results: Vec<FoldResult>,
    /// Per-metric mean over folds (NaN folds skipped).
    pub aggregated_metrics: MetricsBody,
    /// Stability index per metric (misnamed upstream; kept for clients).
    pub metric_std: StabilityBody,
    /// Per-bucket means over the folds that reported the bucket; `null`
    /// when no fold had any bucket.
    pub bucketed_aggregated_metrics: Option<BucketMetricsBody>,
    /// Whether the model used a feature frame.
    pub feature_aware: bool,
    /// `observed` for feature-aware models (recorded test-window prices,
    /// promotions and holidays), else `null`.
    pub exogenous_policy: Option<String>,
}

/// One series of a many-series backtest.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SeriesBacktestResult {
    /// Store id.
    pub store_id: i64,
    /// Product id.
    pub product_id: i64,
    /// Rows loaded for the series.
    pub n_observations: usize,
    /// The main model's result.
    pub main_model_results: ModelBacktestResult,
    /// Baseline results (`null` when baselines are off).
    pub baseline_results: Option<Vec<ModelBacktestResult>>,
    /// Main model versus baselines (`null` when baselines are off).
    #[schema(value_type = Option<Object>)]
    pub comparison_summary: Option<serde_json::Value>,
}

/// One model's metrics pooled over every series of a many-series backtest.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PooledModelResult {
    /// Model type.
    pub model_type: String,
    /// Series this model ran on.
    pub n_series: usize,
    /// Test points over all series and folds.
    pub n_points: usize,
    /// Metrics over every test point of every fold of every series (WAPE is
    /// Σ|error| / Σ|actual| over the whole set).
    pub pooled_metrics: MetricsBody,
    /// Mean over series of each series' aggregated metrics (NaN skipped).
    pub mean_series_metrics: MetricsBody,
    /// Pooled metrics per horizon bucket (`null` when there are none).
    pub bucketed_pooled_metrics: Option<BucketMetricsBody>,
    /// Portfolio WRMSSE (M5 definition, bottom level): per fold, the RMSSE
    /// of each series (scaled by its one-step in-sample error from its first
    /// sale on) weighted by its revenue over the last 28 training days; the
    /// mean over folds. `null` when no series has a scale and a weight.
    pub wrmsse: Option<f64>,
}

/// Pooled results of a many-series backtest.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PooledResults {
    /// Series evaluated.
    pub n_series: usize,
    /// The main model.
    pub main_model: PooledModelResult,
    /// Baselines (`null` when off).
    pub baselines: Option<Vec<PooledModelResult>>,
    /// Main versus baselines on the pooled metrics (`null` when off).
    #[schema(value_type = Option<Object>)]
    pub comparison_summary: Option<serde_json::Value>,
}

/// A series of a many-series request that could not be backtested.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SkippedSeries {
    /// Store id.
    pub store_id: i64,
    /// Product id.
    pub product_id: i64,
    /// Rows found in the window.
    pub n_observations: usize,
    /// Why (no data, too little data for the folds, model error).
    pub reason: String,
}

/// Backtest result. Single-series requests fill `store_id`, `product_id`,
/// `main_model_results`, `baseline_results` and `comparison_summary`;
/// many-series requests leave those `null` and fill `series_results`,
/// `pooled` and `skipped_series`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BacktestResponse {
    /// 16 hex characters.
    pub backtest_id: String,
    /// Store of a single-series backtest.
    pub store_id: Option<i64>,
    /// Product of a single-series backtest.
    pub product_id: Option<i64>,
    /// `config_hash` of the backtest config (model config included).
    pub config_hash: String,
    /// The split config used (defaults filled in).
    pub split_config: SplitConfig,
    /// The main model (single series).
    pub main_model_results: Option<ModelBacktestResult>,
    /// The baselines (single series; `null` when off).
    pub baseline_results: Option<Vec<ModelBacktestResult>>,
    /// Per metric: `{main, naive, vs_naive_pct, seasonal_naive,
    /// vs_seasonal_pct}` (single series; `null` when baselines are off).
    #[schema(value_type = Option<Object>)]
    pub comparison_summary: Option<serde_json::Value>,
    /// Wall time in milliseconds.
    pub duration_ms: f64,
    /// Every fold of every series trains strictly before it tests.
    pub leakage_check_passed: bool,
    /// Per-series results (many-series requests only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub series_results: Option<Vec<SeriesBacktestResult>>,
    /// Pooled results (many-series requests only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pooled: Option<PooledResults>,
    /// Series that could not be backtested (many-series requests only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub skipped_series: Option<Vec<SkippedSeries>>,
}
