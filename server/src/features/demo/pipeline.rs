//! The orchestrator: the step tables of both flows, the run context the
//! steps share, and the loop that emits one `step_start` and one
//! `step_complete` per step and always ends with `pipeline_complete`.

use std::{panic::AssertUnwindSafe, time::Instant};

use chrono::{NaiveDate, Utc};
use futures::FutureExt;
use serde_json::{json, Map, Value};
use tokio::sync::mpsc::UnboundedSender;

use super::{
    client::{CallError, PlatformClient},
    runtime::DemoRuntime,
    schemas::{DemoRunRequest, EventType, ScenarioPreset, StepEvent, StepStatus},
    steps, workspace,
};
use crate::state::AppState;

/// The alias the pipeline maintains.
pub const DEMO_ALIAS: &str = "demo-production";

/// The legacy flow (every preset but `showcase_rich`): 11 steps, 6 phases.
pub const LEGACY_FLOW: [(&str, &str); 11] = [
    ("data", "precheck"),
    ("data", "reset"),
    ("data", "seed"),
    ("data", "status"),
    ("data", "features"),
    ("modeling", "train"),
    ("decision", "backtest"),
    ("decision", "register"),
    ("verify", "verify"),
    ("agents", "agent"),
    ("cleanup", "cleanup"),
];

/// The step table of a preset.
pub fn flow(scenario: ScenarioPreset) -> &'static [(&'static str, &'static str)] {
    match scenario {
        ScenarioPreset::ShowcaseRich => &super::showcase::SHOWCASE_FLOW,
        _ => &LEGACY_FLOW,
    }
}

/// The phases of a table in order of first appearance.
pub fn phases(table: &[(&'static str, &str)]) -> Vec<&'static str> {
    let mut phases: Vec<&'static str> = Vec::new();
    for (phase, _) in table {
        if !phases.contains(phase) {
            phases.push(phase);
        }
    }
    phases
}

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
    step_name: String,
    step_index: usize,
    total_steps: usize,
    phase_name: String,
    phase_index: usize,
    phase_total: usize,
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
    events: UnboundedSender<StepEvent>,
    position: Position,
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

/// Runs every step of the request's flow in order, stopping at the first
/// failure, then releases the pipeline lock (`guard`) and emits
/// `pipeline_complete`, so a client that starts the next run on seeing it
/// is not refused. A panicking step counts as a failed one.
pub async fn execute(mut run: Run, guard: tokio::sync::OwnedMutexGuard<()>) {
    let started = Instant::now();
    let table = flow(run.request.scenario);
    let phase_list = phases(table);
    let workspace_id = workspace::create(&run).await;
    run.workspace_id = workspace_id.clone();
    let mut failed = false;
    let mut timeline: Vec<Value> = Vec::new();
    for (index, (phase, name)) in table.iter().enumerate() {
        run.position = Position {
            step_name: (*name).to_owned(),
            step_index: index + 1,
            total_steps: table.len(),
            phase_name: (*phase).to_owned(),
            phase_index: phase_list.iter().position(|p| p == phase).unwrap_or(0) + 1,
            phase_total: phase_list.len(),
        };
        run.emit(EventType::StepStart, None, None);
        let step_started = Instant::now();
        let outcome = match AssertUnwindSafe(steps::run_step(name, &mut run))
            .catch_unwind()
            .await
        {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(error)) => Outcome::fail(format!("{name}: {error}")),
            Err(_) => Outcome::fail(format!("{name}: unexpected error: the step panicked")),
        };
        let duration_ms = step_started.elapsed().as_secs_f64() * 1000.0;
        run.emit(
            EventType::StepComplete,
            Some(outcome.status),
            Some((&outcome.detail, duration_ms, outcome.data)),
        );
        timeline.push(
            json!({"step": name, "phase": phase, "status": outcome.status,
                             "duration_ms": duration_ms}),
        );
        if outcome.status == StepStatus::Fail {
            failed = true;
            break;
        }
    }
    let wall_clock_s = started.elapsed().as_secs_f64();
    let summary = Summary::of(&run, wall_clock_s, failed, workspace_id);
    if let Some(id) = &summary.workspace_id {
        workspace::finalize(&run, id, &summary, &timeline).await;
    }
    let status = if failed {
        StepStatus::Fail
    } else {
        StepStatus::Pass
    };
    let detail = format!(
        "runs={} winner={} wall_clock={:.2}s",
        run.backtested,
        summary.winner_model_type.as_deref().unwrap_or("n/a"),
        wall_clock_s
    );
    let data = json!({
        "winner_model_type": summary.winner_model_type,
        "winner_wape": summary.winner_wape,
        "winning_run_id": summary.winning_run_id,
        "alias": summary.winning_run_id.as_ref().map(|_| DEMO_ALIAS),
        "wall_clock_s": wall_clock_s,
        "time_in_routes_s": run.client.time_in_routes().as_secs_f64(),
        "v2_run_id": run.v2_run_id,
        "workspace_id": summary.workspace_id,
        "run_config": run_config(&run.request),
    });
    let Value::Object(data) = data else {
        return;
    };
    drop(guard);
    let _ = run.events.send(bare_event(
        EventType::PipelineComplete,
        "summary",
        table.len(),
        status,
        detail,
        data,
    ));
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
    fn of(run: &Run, wall_clock_s: f64, failed: bool, workspace_id: Option<String>) -> Self {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_table_has_eleven_steps_in_six_phases() {
        let table = flow(ScenarioPreset::DemoMinimal);
        assert_eq!(table.len(), 11);
        assert_eq!(
            phases(table),
            ["data", "modeling", "decision", "verify", "agents", "cleanup"]
        );
        for preset in [ScenarioPreset::Sparse, ScenarioPreset::HolidayRush] {
            assert_eq!(flow(preset).len(), 11);
        }
    }
}
