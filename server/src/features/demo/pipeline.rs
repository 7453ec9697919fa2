//! The orchestrator: the step tables of both flows, the run context the
//! steps share, and the loop that emits one `step_start` and one
//! `step_complete` per step and always ends with `pipeline_complete`.

use std::{panic::AssertUnwindSafe, time::Instant};

use futures::FutureExt;
use serde_json::{json, Value};

use super::{
    run::{bare_event, run_config, Outcome, Position, Run, StepResult, Summary, DEMO_ALIAS},
    schemas::{EventType, ScenarioPreset, StepStatus},
    showcase, steps, workspace,
};

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
        ScenarioPreset::ShowcaseRich => &showcase::SHOWCASE_FLOW,
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

/// Runs the step called `name`: the showcase's own steps in a
/// `showcase_rich` run, the legacy flow's otherwise.
async fn run_step(name: &str, run: &mut Run) -> StepResult {
    if run.request.scenario == ScenarioPreset::ShowcaseRich && showcase::OWN_STEPS.contains(&name) {
        showcase::run_step(name, run).await
    } else {
        steps::run_step(name, run).await
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
        let outcome = match AssertUnwindSafe(run_step(name, &mut run))
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

    #[test]
    fn showcase_table_has_24_steps_in_10_phases() {
        assert_eq!(showcase::SHOWCASE_FLOW.len(), 24);
        assert_eq!(
            phases(&showcase::SHOWCASE_FLOW),
            [
                "data",
                "modeling",
                "decision",
                "portfolio",
                "planning",
                "knowledge",
                "verify",
                "agents",
                "ops",
                "cleanup"
            ]
        );
        for name in showcase::OWN_STEPS {
            assert!(
                showcase::SHOWCASE_FLOW
                    .iter()
                    .any(|(_, step)| *step == name),
                "{name}"
            );
        }
    }
}
