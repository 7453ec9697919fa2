//! The typed parameters of each job type, validated when the job is
//! submitted and again when a worker runs it.

use chrono::NaiveDate;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::{
    data::series_names::{SeriesNames, SKU_MAX, STORE_CODE_MAX},
    extract::{Validate, Violations},
    features::{
        forecasting::schemas::{check_interval_level, Strategy},
        registry::schemas::MAX_INT,
    },
    problem::{FieldError, Problem},
};

fn default_model_type() -> String {
    "naive".to_owned()
}

/// Model selection shared by train, backtest and batch: `model_type`
/// (default `naive`), the upstream knobs `season_length` (seasonal_naive)
/// and `window_size` (moving_average), or a full `config` object.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct ModelChoice {
    /// Model type (default `naive`).
    #[serde(default = "default_model_type")]
    pub model_type: String,
    /// Season length, applied to `seasonal_naive` only.
    #[serde(default)]
    pub season_length: Option<u32>,
    /// Window size, applied to `moving_average` only.
    #[serde(default)]
    pub window_size: Option<u32>,
    /// A full model config (its `model_type`, if present, must match).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub config: Option<Map<String, Value>>,
}

impl ModelChoice {
    /// The JSON config handed to the plugin's builder.
    pub fn config_value(&self) -> Value {
        let mut config = self.config.clone().unwrap_or_default();
        config
            .entry("model_type")
            .or_insert_with(|| Value::String(self.model_type.clone()));
        if let (Some(season), "seasonal_naive") = (self.season_length, self.model_type.as_str()) {
            config.entry("season_length").or_insert(season.into());
        }
        if let (Some(window), "moving_average") = (self.window_size, self.model_type.as_str()) {
            config.entry("window_size").or_insert(window.into());
        }
        Value::Object(config)
    }

    fn check(&self, v: &mut Violations) {
        v.length("model_type", &self.model_type, 1, 50);
        if let Some(model_type) = self.config.as_ref().and_then(|c| c.get("model_type")) {
            if model_type.as_str() != Some(self.model_type.as_str()) {
                v.push(
                    "config.model_type",
                    "config.model_type must equal model_type",
                    "value_error",
                );
            }
        }
    }
}

fn check_series(v: &mut Violations, names: SeriesNames<'_>) {
    names.check(v, "", MAX_INT);
    names.require(v, "");
}

fn check_window(v: &mut Violations, start: NaiveDate, end: NaiveDate) {
    if end <= start {
        v.push(
            "end_date",
            "end_date must be after start_date",
            "value_error",
        );
    }
}

/// Parameters of a `train` job.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainParams {
    /// Model type (default `naive`).
    #[serde(default = "default_model_type")]
    pub model_type: String,
    /// Season length, applied to `seasonal_naive` only.
    #[serde(default)]
    pub season_length: Option<u32>,
    /// Window size, applied to `moving_average` only.
    #[serde(default)]
    pub window_size: Option<u32>,
    /// A full model config (its `model_type`, if present, must match).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub config: Option<Map<String, Value>>,
    /// Store (≥ 1). Give it or `store_code`.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 2147483647)]
    pub store_id: Option<i64>,
    /// Store by code (exact, 1–20 characters), in place of or with
    /// `store_id` (then both must name the same store). Replaced by the id
    /// it names when the job is submitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 20)]
    pub store_code: Option<String>,
    /// Product (≥ 1). Give it or `sku`.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 2147483647)]
    pub product_id: Option<i64>,
    /// Product by SKU (exact, 1–50 characters), in place of or with
    /// `product_id` (then both must name the same product). Replaced by the
    /// id it names when the job is submitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 50)]
    pub sku: Option<String>,
    /// First training day.
    pub start_date: NaiveDate,
    /// Last training day (after `start_date`).
    pub end_date: NaiveDate,
    /// Feature frame version for feature-aware models (1 or 2, default 1).
    #[serde(default = "default_frame_version")]
    pub feature_frame_version: i64,
    /// V2 feature groups (feature-aware models, version 2 only).
    #[serde(default)]
    pub feature_groups: Option<Vec<String>>,
}

fn default_frame_version() -> i64 {
    1
}

impl TrainParams {
    /// The series' names.
    pub fn names(&self) -> SeriesNames<'_> {
        SeriesNames {
            store_id: self.store_id,
            store_code: self.store_code.as_deref(),
            product_id: self.product_id,
            sku: self.sku.as_deref(),
        }
    }

    /// The model selection.
    pub fn model(&self) -> ModelChoice {
        ModelChoice {
            model_type: self.model_type.clone(),
            season_length: self.season_length,
            window_size: self.window_size,
            config: self.config.clone(),
        }
    }
}

impl Validate for TrainParams {
    fn validate(&self, v: &mut Violations) {
        self.model().check(v);
        v.range("feature_frame_version", self.feature_frame_version, 1, 2);
        check_series(v, self.names());
        check_window(v, self.start_date, self.end_date);
    }
}

fn default_horizon() -> i64 {
    14
}

/// Parameters of a `predict` job.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PredictParams {
    /// A 12-hex artifact key (the `artifact_key` of a train result) or a
    /// 32-hex registry run id.
    pub run_id: String,
    /// Steps ahead (1 – `FORECAST_MAX_HORIZON`, default 14).
    #[serde(default = "default_horizon")]
    pub horizon: i64,
    /// Nominal coverage of a prediction interval, strictly between 0 and 1;
    /// omitted → no interval.
    #[serde(default)]
    pub interval_level: Option<f64>,
    /// Feature-aware models only: `direct` or `recursive` (default
    /// `recursive`).
    #[serde(default)]
    pub strategy: Option<Strategy>,
}

/// True for `len` lowercase hex characters.
pub fn is_hex(value: &str, len: usize) -> bool {
    value.len() == len
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Validate for PredictParams {
    fn validate(&self, v: &mut Violations) {
        if !is_hex(&self.run_id, 12) && !is_hex(&self.run_id, 32) {
            v.push(
                "run_id",
                "run_id must be a 12-hex artifact key or a 32-hex registry run id",
                "string_pattern_mismatch",
            );
        }
        v.min("horizon", self.horizon, 1);
        check_interval_level(v, self.interval_level);
    }
}

fn default_splits() -> i64 {
    5
}

fn default_test_size() -> i64 {
    14
}

fn default_min_train() -> i64 {
    30
}

/// Parameters of a `backtest` job (expanding-window splits).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BacktestParams {
    /// Model type (default `naive`).
    #[serde(default = "default_model_type")]
    pub model_type: String,
    /// Season length, applied to `seasonal_naive` only.
    #[serde(default)]
    pub season_length: Option<u32>,
    /// Window size, applied to `moving_average` only.
    #[serde(default)]
    pub window_size: Option<u32>,
    /// A full model config (its `model_type`, if present, must match).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub config: Option<Map<String, Value>>,
    /// Store (≥ 1). Give it or `store_code`.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 2147483647)]
    pub store_id: Option<i64>,
    /// Store by code (exact, 1–20 characters), in place of or with
    /// `store_id` (then both must name the same store). Replaced by the id
    /// it names when the job is submitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 20)]
    pub store_code: Option<String>,
    /// Product (≥ 1). Give it or `sku`.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 2147483647)]
    pub product_id: Option<i64>,
    /// Product by SKU (exact, 1–50 characters), in place of or with
    /// `product_id` (then both must name the same product). Replaced by the
    /// id it names when the job is submitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 50)]
    pub sku: Option<String>,
    /// First day of data.
    pub start_date: NaiveDate,
    /// Last day of data (after `start_date`).
    pub end_date: NaiveDate,
    /// Number of folds (2 – `BACKTEST_MAX_SPLITS`, default 5).
    #[serde(default = "default_splits")]
    pub n_splits: i64,
    /// Test window per fold (1–90, default 14).
    #[serde(default = "default_test_size")]
    pub test_size: i64,
    /// Rows skipped between train and test (0 – `BACKTEST_MAX_GAP`).
    #[serde(default)]
    pub gap: i64,
    /// Minimum training rows (≥ 7, default 30).
    #[serde(default = "default_min_train")]
    pub min_train_size: i64,
    /// Also run the naive and seasonal-naive baselines and report the
    /// comparison (default false).
    #[serde(default)]
    pub include_baselines: bool,
}

impl BacktestParams {
    /// The series' names.
    pub fn names(&self) -> SeriesNames<'_> {
        SeriesNames {
            store_id: self.store_id,
            store_code: self.store_code.as_deref(),
            product_id: self.product_id,
            sku: self.sku.as_deref(),
        }
    }

    /// The model selection.
    pub fn model(&self) -> ModelChoice {
        ModelChoice {
            model_type: self.model_type.clone(),
            season_length: self.season_length,
            window_size: self.window_size,
            config: self.config.clone(),
        }
    }
}

impl Validate for BacktestParams {
    fn validate(&self, v: &mut Violations) {
        self.model().check(v);
        check_series(v, self.names());
        check_window(v, self.start_date, self.end_date);
        v.min("n_splits", self.n_splits, 2);
        v.range("test_size", self.test_size, 1, 90);
        v.min("gap", self.gap, 0);
        v.range("min_train_size", self.min_train_size, 7, 100_000);
        if self.test_size <= self.gap {
            v.push(
                "test_size",
                "test_size must be greater than gap",
                "value_error",
            );
        }
    }
}

/// Parameters of a `batch` job: one model trained on many series.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchParams {
    /// Model type (default `naive`).
    #[serde(default = "default_model_type")]
    pub model_type: String,
    /// Season length, applied to `seasonal_naive` only.
    #[serde(default)]
    pub season_length: Option<u32>,
    /// Window size, applied to `moving_average` only.
    #[serde(default)]
    pub window_size: Option<u32>,
    /// A full model config (its `model_type`, if present, must match).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub config: Option<Map<String, Value>>,
    /// First training day.
    pub start_date: NaiveDate,
    /// Last training day (after `start_date`).
    pub end_date: NaiveDate,
    /// Only these stores (default: every store with sales in the window).
    #[serde(default)]
    pub store_ids: Option<Vec<i64>>,
    /// Only these stores, by code (exact, 1–20 characters each; with
    /// `store_ids`, the stores of both lists). Replaced by their ids in
    /// `store_ids` when the job is submitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_items = 1, max_items = 10000)]
    pub store_codes: Option<Vec<String>>,
    /// Only these products (default: every product with sales).
    #[serde(default)]
    pub product_ids: Option<Vec<i64>>,
    /// Only these products, by SKU (exact, 1–50 characters each; with
    /// `product_ids`, the products of both lists). Replaced by their ids
    /// in `product_ids` when the job is submitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_items = 1, max_items = 10000)]
    pub skus: Option<Vec<String>>,
    /// Also backtest each series and store the aggregated metrics on its run.
    #[serde(default)]
    pub backtest: bool,
    /// Backtest folds (default 3).
    #[serde(default = "default_batch_splits")]
    pub n_splits: i64,
    /// Backtest test window (default 14).
    #[serde(default = "default_test_size")]
    pub test_size: i64,
    /// Feature frame version for feature-aware models (1 or 2, default 1).
    #[serde(default = "default_frame_version")]
    pub feature_frame_version: i64,
    /// V2 feature groups (feature-aware models, version 2 only).
    #[serde(default)]
    pub feature_groups: Option<Vec<String>>,
}

fn default_batch_splits() -> i64 {
    3
}

impl BatchParams {
    /// The model selection.
    pub fn model(&self) -> ModelChoice {
        ModelChoice {
            model_type: self.model_type.clone(),
            season_length: self.season_length,
            window_size: self.window_size,
            config: self.config.clone(),
        }
    }
}

impl Validate for BatchParams {
    fn validate(&self, v: &mut Violations) {
        self.model().check(v);
        v.range("feature_frame_version", self.feature_frame_version, 1, 2);
        check_window(v, self.start_date, self.end_date);
        for (field, ids) in [
            ("store_ids", &self.store_ids),
            ("product_ids", &self.product_ids),
        ] {
            if let Some(ids) = ids {
                if ids.is_empty() || ids.len() > 10_000 {
                    v.push(field, "must list 1 to 10000 ids", "value_error");
                }
                if ids.iter().any(|id| *id < 1 || *id > MAX_INT) {
                    v.push(field, "ids must be positive integers", "greater_than_equal");
                }
            }
        }
        for (field, keys, max) in [
            ("store_codes", &self.store_codes, STORE_CODE_MAX),
            ("skus", &self.skus, SKU_MAX),
        ] {
            if let Some(keys) = keys {
                if keys.is_empty() || keys.len() > 10_000 {
                    v.push(field, "must list 1 to 10000 keys", "value_error");
                }
                for (i, key) in keys.iter().enumerate().take(10_000) {
                    v.length(&format!("{field}.{i}"), key, 1, max);
                }
            }
        }
        v.min("n_splits", self.n_splits, 2);
        v.range("test_size", self.test_size, 1, 90);
    }
}

/// Deserializes and validates job params; errors name `params.<field>`.
pub fn parse_params<T: DeserializeOwned + Validate>(params: &Value) -> Result<T, Problem> {
    let parsed: T = serde_path_to_error::deserialize(params).map_err(|error| {
        let path = error.path().to_string().replace('[', ".").replace(']', "");
        let message = error.into_inner().to_string();
        let (field, message, kind) = if let Some(name) = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
        {
            let field = if path.is_empty() || path == "." {
                format!("params.{name}")
            } else {
                format!("params.{path}.{name}")
            };
            (field, "Field required".to_owned(), "missing")
        } else {
            let field = if path.is_empty() || path == "." {
                "params".to_owned()
            } else {
                format!("params.{path}")
            };
            let kind = if message.starts_with("unknown field") {
                "extra_forbidden"
            } else if message.starts_with("invalid type") {
                "type_error"
            } else {
                "value_error"
            };
            (field, message, kind)
        };
        Problem::validation(vec![FieldError::new(field, message, kind)])
    })?;
    crate::extract::validate(&parsed, Some("params"))?;
    Ok(parsed)
}
