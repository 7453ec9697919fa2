//! The context one pipeline run's steps share: the run itself (request,
//! client, events), what the steps hand on to each other, how a step's
//! outcome is told, and the headline figures a finished run leaves.

use chrono::{NaiveDate, Utc};
use serde_json::{json, Map, Value};
use tokio::sync::mpsc::UnboundedSender;

use super::{
    client::{CallError, PlatformClient},
    runtime::DemoRuntime,
    schemas::{DemoRunRequest, EventType, StepEvent, StepStatus},
};
use crate::state::AppState;

/// The alias the pipeline maintains.
pub const DEMO_ALIAS: &str = "demo-production";

/// A model trained by the `train` step.
#[derive(Debug, Clone)]
pub struct Trained {
    /// Model type.
    pub model_type: String,
    /// The config it was trained with.
    pub config: Value,
    /// Artifact path from the train response.
    pub model_path: String,
}

/// The backtest winner.
#[derive(Debug, Clone)]
pub struct Winner {
    /// Model type.
    pub model_type: String,
    /// Its value of the winner metric.
    pub value: f64,
    /// Its aggregated metrics.
    pub metrics: Value,
}

/// What a step reports.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Terminal status.
    pub status: StepStatus,
    /// Human detail.
    pub detail: String,
    /// Structured payload.
    pub data: Map<String, Value>,
}

impl Outcome {
    /// An outcome with a payload (`data` must be a JSON object).
    pub fn new(status: StepStatus, detail: impl Into<String>, data: Value) -> Self {
        Self {
            status,
            detail: detail.into(),
            data: match data {
                Value::Object(map) => map,
                _ => Map::new(),
            },
        }
    }

    /// A skipped step.
    pub fn skip(detail: impl Into<String>) -> Self {
        Self::new(StepStatus::Skip, detail, json!({}))
    }

    /// A failed step.
    pub fn fail(detail: impl Into<String>) -> Self {
        Self::new(StepStatus::Fail, detail, json!({}))
    }
}

/// Why a step could not finish (mapped to `fail`).
#[derive(Debug)]
pub enum StepError {
    /// A call that did not answer 2xx.
    Call(CallError),
    /// Anything else.
    Other(String),
}

impl From<CallError> for StepError {
    fn from(error: CallError) -> Self {
        Self::Call(error)
    }
}

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Call(error) => error.fmt(f),
            Self::Other(message) => write!(f, "unexpected error: {message}"),
        }
    }
}

/// Result of a step function.
pub type StepResult = Result<Outcome, StepError>;

/// Index and phase of the step in progress (stamped on its events).
#[derive(Debug, Clone, Default)]
pub struct Position {
    pub(super) step_name: String,
    pub(super) step_index: usize,
    pub(super) total_steps: usize,
    pub(super) phase_name: String,
    pub(super) phase_index: usize,
    pub(super) phase_total: usize,
}

/// Everything the steps share during one run.
#[derive(Debug)]
pub struct Run {
    /// Settings and pool (read-only use: settings, file system paths).
    pub state: AppState,
    /// The in-process client of the platform.
    pub client: PlatformClient,
    /// The validated request.
    pub request: DemoRunRequest,
    /// Lock and HITL relay.
    pub runtime: std::sync::Arc<DemoRuntime>,
    /// Where this run's events go.
    pub(super) events: UnboundedSender<StepEvent>,
    /// The step in progress.
    pub(super) position: Position,
    /// Focus store.
    pub store_id: Option<i64>,
    /// Focus product.
    pub product_id: Option<i64>,
    /// First day of sales.
    pub date_start: Option<NaiveDate>,
    /// Last day of sales.
    pub date_end: Option<NaiveDate>,
    /// Models trained by the `train` step.
    pub trained: Vec<Trained>,
    /// Models the backtest scored.
    pub backtested: usize,
    /// The backtest winner.
    pub winner: Option<Winner>,
    /// Run registered for the winner.
    pub winning_run_id: Option<String>,
    /// Run registered by `v2_train` (showcase).
    pub v2_run_id: Option<String>,
    /// Path of the V2 model (showcase).
    pub v2_model_path: Option<String>,
    /// Session opened by an agent step.
    pub agent_session_id: Option<String>,
    /// Other objects the run created, for the workspace record.
    pub created: Map<String, Value>,
    /// HITL decisions, for the workspace record.
    pub approval_events: Vec<Value>,
    /// Knowledge-step events, for the workspace record.
    pub rag_events: Vec<Value>,
    /// Jobs the run submitted.
    pub job_ids: Vec<String>,
    /// The demo alias's run before `safer_promote_flow` moved it.
    pub alias_restore: Option<String>,
    /// Whether the embedding provider can be used (knowledge steps).
    pub embedding_reachable: bool,
    /// The workspace recording this run.
    pub workspace_id: Option<String>,
}

impl Run {
    /// A run of `request` through `client`, emitting on `events`.
    pub fn new(
        state: AppState,
        client: PlatformClient,
        request: DemoRunRequest,
        runtime: std::sync::Arc<DemoRuntime>,
        events: UnboundedSender<StepEvent>,
    ) -> Self {
        Self {
            state,
            client,
            request,
            runtime,
            events,
            position: Position::default(),
            store_id: None,
            product_id: None,
            date_start: None,
            date_end: None,
            trained: Vec::new(),
            backtested: 0,
            winner: None,
            winning_run_id: None,
            v2_run_id: None,
            v2_model_path: None,
            agent_session_id: None,
            created: Map::new(),
            approval_events: Vec::new(),
            rag_events: Vec::new(),
            job_ids: Vec::new(),
            alias_restore: None,
            embedding_reachable: false,
            workspace_id: None,
        }
    }

    /// The focus series and data window, or an error naming the missing
    /// step.
    pub fn series(&self) -> Result<(i64, i64, NaiveDate, NaiveDate), StepError> {
        match (
            self.store_id,
            self.product_id,
            self.date_start,
            self.date_end,
        ) {
            (Some(s), Some(p), Some(a), Some(b)) => Ok((s, p, a, b)),
            _ => Err(StepError::Other(
                "no focus series: the status step did not complete".into(),
            )),
        }
    }

    /// Emits an event stamped with the current step's position; a closed
    /// receiver (the client left) is ignored and the run goes on.
    pub fn emit(
        &self,
        event_type: EventType,
        status: Option<StepStatus>,
        outcome: Option<(&str, f64, Map<String, Value>)>,
    ) {
        let p = &self.position;
        let (detail, duration_ms, data) = outcome.unwrap_or(("", 0.0, Map::new()));
        let _ = self.events.send(StepEvent {
            event_type,
            step_name: p.step_name.clone(),
            step_index: p.step_index,
            total_steps: p.total_steps,
            status,
            detail: detail.to_owned(),
            duration_ms,
            data,
            timestamp: Utc::now(),
            phase_name: Some(p.phase_name.clone()),
            phase_index: Some(p.phase_index),
            phase_total: Some(p.phase_total),
        });
    }
}

/// An event outside any step: `pipeline_complete` or `error`.
pub fn bare_event(
    event_type: EventType,
    step_name: &str,
    step_index: usize,
    status: StepStatus,
    detail: String,
    data: Map<String, Value>,
) -> StepEvent {
    StepEvent {
        event_type,
        step_name: step_name.to_owned(),
        step_index,
        total_steps: step_index,
        status: Some(status),
        detail,
        duration_ms: 0.0,
        data,
        timestamp: Utc::now(),
        phase_name: None,
        phase_index: None,
        phase_total: None,
    }
}

/// `{train_model_types, backtest}` when either is set, else null.
pub fn run_config(request: &DemoRunRequest) -> Value {
    if request.train_model_types.is_none() && request.backtest.is_none() {
        return Value::Null;
    }
    json!({"train_model_types": request.train_model_types, "backtest": request.backtest})
}

/// The headline figures of a finished run.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Winner model type.
    pub winner_model_type: Option<String>,
    /// Winner metric value.
    pub winner_wape: Option<f64>,
    /// Registered winner run.
    pub winning_run_id: Option<String>,
    /// Wall clock in seconds.
    pub wall_clock_s: f64,
    /// A step failed.
    pub failed: bool,
    /// The workspace row, when kept.
    pub workspace_id: Option<String>,
}

impl Summary {
    /// The headline figures of `run`, finished after `wall_clock_s`.
    pub(super) fn of(
        run: &Run,
        wall_clock_s: f64,
        failed: bool,
        workspace_id: Option<String>,
    ) -> Self {
        Self {
            winner_model_type: run.winner.as_ref().map(|w| w.model_type.clone()),
            winner_wape: run
                .winner
                .as_ref()
                .map(|w| w.value)
                .filter(|v| v.is_finite()),
            winning_run_id: run.winning_run_id.clone(),
            wall_clock_s,
            failed,
            workspace_id,
        }
    }
}
