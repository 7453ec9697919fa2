//! Request and response types of `/jobs`; the typed parameters of each job
//! type are in [`super::params`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::params::is_hex;
use crate::extract::{Validate, Violations};

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
