//! Request and response types of `/jobs`, and the typed parameters of each
//! job type (validated when the job is submitted and again when a worker
//! runs it).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use crate::{
    data::series_names::{SeriesNames, SKU_MAX, STORE_CODE_MAX},
    extract::{Validate, Violations},
    features::{
        forecasting::schemas::{check_interval_level, Strategy},
        registry::schemas::MAX_INT,
    },
    problem::{FieldError, Problem},
};

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobType {
    /// Fit one model on one series and register it.
    Train,
    /// Forecast with a trained model.
    Predict,
    /// Time-series cross-validation of one model on one series.
    Backtest,
    /// Train (and optionally backtest) one model on many series in
    /// parallel, registering one run per series.
    Batch,
    /// Generate a synthetic data set too big for one synchronous
    /// `POST /seeder/generate`.
    Seed,
}

impl JobType {
    /// Every job type.
    pub const ALL: [Self; 5] = [
        Self::Train,
        Self::Predict,
        Self::Backtest,
        Self::Batch,
        Self::Seed,
    ];

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Train => "train",
            Self::Predict => "predict",
            Self::Backtest => "backtest",
            Self::Batch => "batch",
            Self::Seed => "seed",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "train" => Self::Train,
            "predict" => Self::Predict,
            "backtest" => Self::Backtest,
            "batch" => Self::Batch,
            "seed" => Self::Seed,
            _ => return None,
        })
    }
}

/// Lifecycle of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Queued.
    Pending,
    /// Claimed by a worker.
    Running,
    /// Finished with a result.
    Completed,
    /// Finished with an error.
    Failed,
    /// Cancelled before or while running.
    Cancelled,
}

impl JobStatus {
    /// Every status.
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Running,
        Self::Completed,
        Self::Failed,
        Self::Cancelled,
    ];

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "pending" => Self::Pending,
            "running" => Self::Running,
            "completed" => Self::Completed,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            _ => return None,
        })
    }

    /// Whether the job is finished.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

/// Body of `POST /jobs`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobCreate {
    /// `train`, `predict`, `backtest`, `batch` or `seed`.
    pub job_type: JobType,
    /// Parameters of the job type (see the endpoint description).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub params: Map<String, Value>,
}

impl Validate for JobCreate {}

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

/// Progress of a running job.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobProgress {
    /// Units done (series, folds, …).
    pub done: i64,
    /// Units in total (0 while unknown).
    pub total: i64,
}

/// The shard jobs of a split batch, counted by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct ShardCounts {
    /// Every shard.
    pub total: i64,
    /// Waiting for a worker.
    pub pending: i64,
    /// Held by a worker.
    pub running: i64,
    /// Finished with a result.
    pub completed: i64,
    /// Finished with an error.
    pub failed: i64,
    /// Cancelled with their batch.
    pub cancelled: i64,
}

/// One job.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobResponse {
    /// 32-hex job id.
    pub job_id: String,
    /// Job type.
    pub job_type: JobType,
    /// Status.
    pub status: JobStatus,
    /// Parameters as submitted, with store codes and SKUs replaced by the
    /// ids they name.
    #[schema(value_type = Object)]
    pub params: Value,
    /// Result (completed jobs).
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
    /// Error message (failed jobs).
    pub error_message: Option<String>,
    /// Error class (`BAD_REQUEST`, `NOT_FOUND`, `WORKER_LOST`, …).
    pub error_type: Option<String>,
    /// The error as a problem object (`type, title, status, detail, code`).
    #[schema(value_type = Option<Object>)]
    pub error: Option<Value>,
    /// Registry run created by a train job.
    pub run_id: Option<String>,
    /// Progress.
    pub progress: JobProgress,
    /// The batch this job is a shard of (shard jobs only).
    pub parent_job_id: Option<String>,
    /// How many shard jobs of a split batch are in each status (split
    /// batches only; list them with `GET /jobs?parent_job_id=…`).
    pub shards: Option<ShardCounts>,
    /// How many times a worker claimed the job.
    pub attempts: i64,
    /// Worker holding the job while it runs.
    pub worker_id: Option<String>,
    /// Whether cancellation of the running job was requested.
    pub cancel_requested: bool,
    /// Last heartbeat of the worker.
    pub heartbeat_at: Option<DateTime<Utc>>,
    /// First start.
    pub started_at: Option<DateTime<Utc>>,
    /// End.
    pub completed_at: Option<DateTime<Utc>>,
    /// Submission time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Query of `GET /jobs`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobListQuery {
    /// Page (≥ 1).
    #[serde(default = "crate::features::registry::schemas::one")]
    #[param(default = 1, minimum = 1, maximum = 1_000_000)]
    pub page: i64,
    /// Page size (1–100, default 20).
    #[serde(default = "crate::features::registry::schemas::twenty")]
    #[param(default = 20, minimum = 1, maximum = 100)]
    pub page_size: i64,
    /// Job type filter.
    pub job_type: Option<JobType>,
    /// Status filter.
    pub status: Option<JobStatus>,
    /// `created_at` (default), `completed_at`, `job_type` or `status`;
    /// anything else falls back to `created_at desc`.
    pub sort_by: Option<String>,
    /// `asc` or `desc` (default).
    pub sort_order: Option<String>,
    /// Also list the shard jobs of split batches (default `false`: the
    /// jobs users submitted, each split batch once, with its shards
    /// counted under `shards`).
    #[serde(default)]
    #[param(default = false)]
    pub include_shards: bool,
    /// Only the shard jobs of this batch (32-hex job id; 404 when no such
    /// job exists).
    #[param(pattern = "^[0-9a-f]{32}$")]
    pub parent_job_id: Option<String>,
}

impl Validate for JobListQuery {
    fn validate(&self, v: &mut Violations) {
        v.range("page", self.page, 1, 1_000_000);
        v.range("page_size", self.page_size, 1, 100);
        if let Some(parent) = &self.parent_job_id {
            if !is_hex(parent, 32) {
                v.push(
                    "parent_job_id",
                    "must be a 32-hex job id (lowercase)",
                    "value_error",
                );
            }
        }
    }
}

/// A page of jobs.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobListResponse {
    /// Jobs of this page.
    pub jobs: Vec<JobResponse>,
    /// Size of the filtered set.
    pub total: i64,
    /// Page.
    pub page: i64,
    /// Page size.
    pub page_size: i64,
}
