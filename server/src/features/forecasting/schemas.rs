//! Request and response bodies of `/forecasting/train` and
//! `/forecasting/predict`.

use chrono::NaiveDate;
use forecastlab_core::{frame::FrameGroup, SeriesKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    data::series_names::SeriesNames,
    extract::{Validate, Violations},
    features::backtesting::schemas::{check_series_list, SeriesRef, SeriesSelection},
};

/// Largest horizon `/forecasting/predict` accepts.
pub const MAX_HORIZON: i64 = 90;

/// `POST /forecasting/train` body (unknown keys are rejected).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainRequest {
    /// Store id (≥ 1). Give it or `store_code`.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub store_id: Option<i64>,
    /// Store code (exact, 1–20 characters), in place of or with `store_id`
    /// (then both must name the same store).
    #[serde(default)]
    #[schema(min_length = 1, max_length = 20)]
    pub store_code: Option<String>,
    /// Product id (≥ 1). Give it or `sku`.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub product_id: Option<i64>,
    /// Product SKU (exact, 1–50 characters), in place of or with
    /// `product_id` (then both must name the same product).
    #[serde(default)]
    #[schema(min_length = 1, max_length = 50)]
    pub sku: Option<String>,
    /// First training day (inclusive).
    pub train_start_date: NaiveDate,
    /// Last training day (inclusive); must be after `train_start_date`.
    pub train_end_date: NaiveDate,
    /// Model config: `model_type` plus that model's fields (defaults apply
    /// to omitted fields; unknown fields → 422).
    #[schema(value_type = Object, example = json!({"model_type": "seasonal_naive", "season_length": 7}))]
    pub config: serde_json::Value,
    /// Feature frame version for feature-aware models (1 or 2, default 1).
    #[serde(default = "default_frame_version")]
    #[schema(minimum = 1, maximum = 2)]
    pub feature_frame_version: i64,
    /// V2 feature groups (null = the default groups); must be null for
    /// version 1.
    #[serde(default)]
    pub feature_groups: Option<Vec<String>>,
}

fn default_frame_version() -> i64 {
    1
}

impl TrainRequest {
    /// The request a job trains `key` with over `[start, end]`: named by
    /// ids, `config` and the frame selection as given.
    pub fn for_series(
        key: SeriesKey,
        (start, end): (NaiveDate, NaiveDate),
        config: Value,
        feature_frame_version: i64,
        feature_groups: Option<Vec<String>>,
    ) -> Self {
        Self {
            store_id: Some(key.store_id),
            store_code: None,
            product_id: Some(key.product_id),
            sku: None,
            train_start_date: start,
            train_end_date: end,
            config,
            feature_frame_version,
            feature_groups,
        }
    }

    /// The series' names.
    pub fn names(&self) -> SeriesNames<'_> {
        SeriesNames {
            store_id: self.store_id,
            store_code: self.store_code.as_deref(),
            product_id: self.product_id,
            sku: self.sku.as_deref(),
        }
    }

    /// The `model_type` member of the config.
    pub fn model_type(&self) -> Option<&str> {
        self.config.get("model_type").and_then(|v| v.as_str())
    }
}

impl Validate for TrainRequest {
    fn validate(&self, v: &mut Violations) {
        let names = self.names();
        names.check(v, "", i64::MAX);
        names.require(v, "");
        if self.train_end_date <= self.train_start_date {
            v.push(
                "train_end_date",
                "train_end_date must be after train_start_date",
                "value_error",
            );
        }
        v.range("feature_frame_version", self.feature_frame_version, 1, 2);
        match &self.config {
            serde_json::Value::Object(map) => match map.get("model_type") {
                None => v.push("config.model_type", "Field required", "missing"),
                Some(serde_json::Value::String(_)) => {}
                Some(_) => v.push(
                    "config.model_type",
                    "Input should be a valid string",
                    "string_type",
                ),
            },
            _ => v.push(
                "config",
                "Input should be an object with a model_type",
                "model_type",
            ),
        }
        if let Some(groups) = &self.feature_groups {
            if self.feature_frame_version == 1 {
                v.push(
                    "feature_groups",
                    "feature_groups requires feature_frame_version 2",
                    "value_error",
                );
            } else {
                let known: Vec<&str> = FrameGroup::ALL.iter().map(|g| g.as_str()).collect();
                for (i, group) in groups.iter().enumerate() {
                    if FrameGroup::parse(group).is_none() {
                        v.push(
                            &format!("feature_groups.{i}"),
                            format!("Input should be one of: {}", known.join(", ")),
                            "enum",
                        );
                    }
                }
            }
        }
    }
}

/// `POST /forecasting/train` response.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrainResponse {
    /// Store id.
    pub store_id: i64,
    /// Product id.
    pub product_id: i64,
    /// Model type trained.
    pub model_type: String,
    /// Artifact path (`<FORECAST_MODEL_ARTIFACTS_DIR>/model_<key>.flmodel`).
    pub model_path: String,
    /// 16-hex SHA-256 of the canonical config JSON.
    pub config_hash: String,
    /// Rows used for fitting.
    pub n_observations: usize,
    /// First training day.
    pub train_start_date: NaiveDate,
    /// Last training day.
    pub train_end_date: NaiveDate,
    /// Wall time of the request in milliseconds.
    pub duration_ms: f64,
    /// The 12-hex artifact key (jobs report it as `run_id`; scenarios and
    /// predict accept it in place of the path).
    pub artifact_key: String,
    /// Lowercase hex SHA-256 of the artifact file.
    pub artifact_sha256: String,
    /// Model family (`baseline`, `tree`, `additive`).
    pub model_family: String,
    /// Whether the model was fitted on a feature frame.
    pub requires_features: bool,
    /// The canonical config the model was built with (defaults filled in).
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
}

/// Multi-step strategy for feature-aware models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// One model, future rows built once from what is known at the cutoff
    /// (unknown lags are missing values).
    Direct,
    /// Step by step: each prediction fills the lags of the following steps.
    Recursive,
}

impl Strategy {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Recursive => "recursive",
        }
    }
}

/// `POST /forecasting/predict` body (unknown keys are rejected).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PredictRequest {
    /// Store id (≥ 1); the store must match the artifact's. Give it or `store_code`.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub store_id: Option<i64>,
    /// Store code (exact, 1–20 characters), in place of or with `store_id`
    /// (then both must name the same store).
    #[serde(default)]
    #[schema(min_length = 1, max_length = 20)]
    pub store_code: Option<String>,
    /// Product id (≥ 1); the product must match the artifact's. Give it or `sku`.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub product_id: Option<i64>,
    /// Product SKU (exact, 1–50 characters), in place of or with
    /// `product_id` (then both must name the same product).
    #[serde(default)]
    #[schema(min_length = 1, max_length = 50)]
    pub sku: Option<String>,
    /// Steps to forecast (1–90).
    #[schema(minimum = 1, maximum = 90)]
    pub horizon: i64,
    /// Artifact path returned by train, or its 12-hex artifact key.
    #[schema(min_length = 1, max_length = 1024)]
    pub model_path: String,
    /// Nominal coverage of a prediction interval, strictly between 0 and 1
    /// (e.g. 0.8, 0.95); omitted → no interval (bounds null).
    #[serde(default)]
    #[schema(exclusive_minimum = 0.0, exclusive_maximum = 1.0)]
    pub interval_level: Option<f64>,
    /// Feature-aware models only: `direct` or `recursive` (default
    /// `recursive`, the more accurate one on the seeded holdout comparison).
    #[serde(default)]
    pub strategy: Option<Strategy>,
}

impl PredictRequest {
    /// The series' names.
    pub fn names(&self) -> SeriesNames<'_> {
        SeriesNames {
            store_id: self.store_id,
            store_code: self.store_code.as_deref(),
            product_id: self.product_id,
            sku: self.sku.as_deref(),
        }
    }
}

impl Validate for PredictRequest {
    fn validate(&self, v: &mut Violations) {
        let names = self.names();
        names.check(v, "", i64::MAX);
        names.require(v, "");
        v.range("horizon", self.horizon, 1, MAX_HORIZON);
        v.length("model_path", &self.model_path, 1, 1024);
        check_interval_level(v, self.interval_level);
    }
}

/// An interval level must lie strictly between 0 and 1.
pub fn check_interval_level(v: &mut Violations, level: Option<f64>) {
    if level.is_some_and(|level| !(level > 0.0 && level < 1.0)) {
        v.push(
            "interval_level",
            "Input should be greater than 0 and less than 1",
            "value_error",
        );
    }
}

/// One forecast day.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ForecastPoint {
    /// Calendar day (`train_end_date + h`).
    pub date: NaiveDate,
    /// Point forecast (not clipped at 0; null if not finite).
    pub forecast: Option<f64>,
    /// Lower interval bound (null without `interval_level`).
    pub lower_bound: Option<f64>,
    /// Upper interval bound (null without `interval_level`).
    pub upper_bound: Option<f64>,
}

/// `POST /forecasting/predict` response.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PredictResponse {
    /// Store id.
    pub store_id: i64,
    /// Product id.
    pub product_id: i64,
    /// One entry per horizon day.
    pub forecasts: Vec<ForecastPoint>,
    /// Model type of the artifact.
    pub model_type: String,
    /// Config hash stored in the artifact.
    pub config_hash: String,
    /// Steps forecast.
    pub horizon: usize,
    /// Wall time of the request in milliseconds.
    pub duration_ms: f64,
    /// Interval level used, if any.
    pub interval_level: Option<f64>,
    /// How the interval was estimated (null without an interval).
    pub interval_method: Option<String>,
    /// Strategy used for a feature-aware model (null for target-only).
    pub strategy: Option<Strategy>,
    /// The artifact key.
    pub artifact_key: String,
}

/// A finite float, or `None` (sent as `null`).
pub fn finite(value: f64) -> Option<f64> {
    value.is_finite().then_some(value)
}

/// `POST /forecasting/train-global` body (unknown keys are rejected).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GlobalTrainRequest {
    /// The series to fit on: a list of `{store_id | store_code, product_id |
    /// sku}` pairs (1–10 000), or `"all"` for every series with sales in the window.
    pub series: SeriesSelection,
    /// First training day (inclusive).
    pub train_start_date: NaiveDate,
    /// Last training day (inclusive); must be after `train_start_date`.
    pub train_end_date: NaiveDate,
    /// Model config of a feature-aware model (`regression`, `lightgbm`, …):
    /// `model_type` plus that model's fields.
    #[schema(value_type = Object, example = json!({"model_type": "regression"}))]
    pub config: serde_json::Value,
}

impl Validate for GlobalTrainRequest {
    fn validate(&self, v: &mut Violations) {
        if let SeriesSelection::List(list) = &self.series {
            check_series_list(v, list);
        }
        if self.train_end_date <= self.train_start_date {
            v.push(
                "train_end_date",
                "train_end_date must be after train_start_date",
                "value_error",
            );
        }
        match self.config.get("model_type") {
            None => v.push("config.model_type", "Field required", "missing"),
            Some(serde_json::Value::String(_)) => {}
            Some(_) => v.push(
                "config.model_type",
                "Input should be a valid string",
                "string_type",
            ),
        }
    }
}

/// A series a global fit left out, and why.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GlobalSkippedSeries {
    /// Store id.
    pub store_id: i64,
    /// Product id.
    pub product_id: i64,
    /// Why (no rows in the window, fewer than 30 rows).
    pub reason: String,
}

/// `POST /forecasting/train-global` response.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GlobalTrainResponse {
    /// Model type trained.
    pub model_type: String,
    /// Artifact path; `/forecasting/predict` forecasts any of `series` from it.
    pub model_path: String,
    /// The 12-hex artifact key.
    pub artifact_key: String,
    /// Lowercase hex SHA-256 of the artifact file.
    pub artifact_sha256: String,
    /// 16-hex SHA-256 of the canonical config JSON.
    pub config_hash: String,
    /// The canonical config the model was built with (defaults filled in).
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    /// Model family.
    pub model_family: String,
    /// Series the one model was fitted on.
    pub series: Vec<SeriesRef>,
    /// Series left out.
    pub skipped_series: Vec<GlobalSkippedSeries>,
    /// Training rows over every series.
    pub n_observations: usize,
    /// First training day.
    pub train_start_date: NaiveDate,
    /// Last training day (the forecast origin of every series).
    pub train_end_date: NaiveDate,
    /// Wall time of the request in milliseconds.
    pub duration_ms: f64,
}
