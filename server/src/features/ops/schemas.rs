//! Request and response shapes of `/ops`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::extract::{Validate, Violations};

/// Why an alias is stale (see the README, "Ops summary").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StaleReason {
    /// The run behind the alias is no longer `success` (archived, failed).
    RunNotSuccess,
    /// A newer `success` run of the same series uses another feature frame
    /// version (a missing version counts as 1).
    FeatureFrameVersionMismatch,
    /// The series has sales more than `OPS_STALE_AFTER_DAYS` days after the
    /// run's last training day.
    DataNewerThanModel,
}

/// Direction of an error metric between two runs (lower is better).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    /// Worse by more than 5 %.
    Degrading,
    /// Within ±5 %.
    Stable,
    /// Better by more than 5 %.
    Improving,
    /// Nothing to compare with.
    NoBaseline,
}

/// Why a series is a retraining candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CandidateReason {
    /// The champion's data window ends more than `OPS_STALE_AFTER_DAYS`
    /// days before the series' newest sales day.
    DataBehind,
    /// The series' latest completed backtest job scored a WAPE more than
    /// 5 % worse than the one before it (same model type).
    BacktestDegraded,
}

/// Runs per status.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct RunCounts {
    /// `pending` runs.
    pub pending: i64,
    /// `running` runs.
    pub running: i64,
    /// `success` runs.
    pub success: i64,
    /// `failed` runs.
    pub failed: i64,
    /// `archived` runs.
    pub archived: i64,
}

/// Jobs per status.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct JobCounts {
    /// Queued jobs.
    pub pending: i64,
    /// Jobs being worked on.
    pub running: i64,
    /// Finished jobs.
    pub completed: i64,
    /// Jobs that failed.
    pub failed: i64,
    /// Cancelled jobs.
    pub cancelled: i64,
}

/// One stale alias.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaleAlias {
    /// Alias name.
    pub alias_name: String,
    /// Run the alias points to.
    pub run_id: String,
    /// That run's model type.
    pub model_type: String,
    /// That run's status.
    pub run_status: String,
    /// Store of the series.
    pub store_id: i64,
    /// Product of the series.
    pub product_id: i64,
    /// The most serious reason.
    pub stale_reason: StaleReason,
    /// Every reason that applies, most serious first.
    pub reasons: Vec<StaleReason>,
    /// The run's feature frame version (null = 1).
    pub feature_frame_version: Option<i64>,
    /// The newer `success` run of the series, when there is one.
    pub newer_run_id: Option<String>,
    /// Its feature frame version.
    pub newer_feature_frame_version: Option<i64>,
    /// The run's last training day.
    pub data_window_end: NaiveDate,
    /// The series' newest sales day.
    pub latest_data_date: Option<NaiveDate>,
    /// Days between the two (null without sales).
    pub days_behind: Option<i64>,
    /// One-line explanation.
    pub detail: String,
}

/// `GET /ops/summary`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpsSummary {
    /// When this summary was computed.
    pub generated_at: DateTime<Utc>,
    /// `OPS_STALE_AFTER_DAYS` in force.
    pub stale_after_days: i64,
    /// Every registered run.
    pub total_runs: i64,
    /// Runs per status.
    pub runs_by_status: RunCounts,
    /// Every deployment alias.
    pub total_aliases: i64,
    /// Number of stale aliases.
    pub stale_aliases_count: i64,
    /// The stale aliases, by name.
    pub stale_aliases: Vec<StaleAlias>,
    /// Every job.
    pub total_jobs: i64,
    /// Jobs per status.
    pub jobs_by_status: JobCounts,
}

/// `limit` of the ranked ops lists.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OpsLimitQuery {
    /// Most items returned (1–100, default 20).
    #[serde(default = "default_limit")]
    #[param(default = 20, minimum = 1, maximum = 100)]
    pub limit: i64,
}

fn default_limit() -> i64 {
    20
}

impl Validate for OpsLimitQuery {
    fn validate(&self, v: &mut Violations) {
        v.range("limit", self.limit, 1, 100);
    }
}

/// The two latest completed backtest jobs of a series and model type.
#[derive(Debug, Serialize, ToSchema)]
pub struct BacktestTrend {
    /// Model type both jobs backtested.
    pub model_type: String,
    /// WAPE of the latest job.
    pub latest_wape: f64,
    /// WAPE of the job before it.
    pub previous_wape: f64,
    /// `(latest − previous) / previous` (null when previous is 0).
    pub relative_change: Option<f64>,
    /// Direction of the change.
    pub trend: Trend,
}

/// One series that should be retrained.
#[derive(Debug, Serialize, ToSchema)]
pub struct RetrainingCandidate {
    /// Store of the series.
    pub store_id: i64,
    /// Product of the series.
    pub product_id: i64,
    /// The series' champion: the run of its most recently moved alias, else
    /// its `success` run with the latest data window.
    pub champion_run_id: Option<String>,
    /// The champion's model type.
    pub champion_model_type: Option<String>,
    /// The alias that makes the champion, if any.
    pub alias_name: Option<String>,
    /// The champion's last training day.
    pub data_window_end: Option<NaiveDate>,
    /// The series' newest sales day.
    pub latest_data_date: Option<NaiveDate>,
    /// Days between the two.
    pub days_behind: Option<i64>,
    /// Why it is listed.
    pub reasons: Vec<CandidateReason>,
    /// The backtest comparison, when the series has two completed backtest
    /// jobs of one model type.
    pub backtest: Option<BacktestTrend>,
}

/// `GET /ops/retraining-candidates`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RetrainingCandidates {
    /// Candidates, furthest behind first (degraded backtests without a lag
    /// after them), at most `limit`.
    pub candidates: Vec<RetrainingCandidate>,
    /// Candidates before the limit.
    pub total: i64,
    /// `OPS_STALE_AFTER_DAYS` in force.
    pub stale_after_days: i64,
}

/// Health of one alias's model against its predecessor.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelHealthItem {
    /// Alias name.
    pub alias_name: String,
    /// Run behind the alias.
    pub run_id: String,
    /// Its model type.
    pub model_type: String,
    /// Store of the series.
    pub store_id: i64,
    /// Product of the series.
    pub product_id: i64,
    /// The run's metrics.
    #[schema(value_type = Option<Object>)]
    pub metrics: Option<Value>,
    /// The previous `success` run of the same series and model type
    /// (registered before it) that has metrics.
    pub previous_run_id: Option<String>,
    /// Its metrics.
    #[schema(value_type = Option<Object>)]
    pub previous_metrics: Option<Value>,
    /// The compared metric: the first of wape, mae, rmse, smape, mase that
    /// both carry.
    pub metric: Option<String>,
    /// Its latest value.
    pub latest_value: Option<f64>,
    /// Its previous value.
    pub previous_value: Option<f64>,
    /// `(latest − previous) / |previous|`.
    pub relative_change: Option<f64>,
    /// Direction of the change.
    pub trend: Trend,
}

/// `GET /ops/model-health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelHealth {
    /// One item per alias, most degraded first, at most `limit`.
    pub items: Vec<ModelHealthItem>,
    /// Aliases before the limit.
    pub total: i64,
    /// Items whose trend is `degrading`.
    pub degrading_count: i64,
}
