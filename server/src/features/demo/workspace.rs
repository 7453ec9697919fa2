//! Recording kept runs as `showcase_workspace` rows: created (`running`)
//! before the first step, finalized before `pipeline_complete`. A database
//! error here is logged and never breaks the pipeline (the run then has no
//! workspace id).

use serde_json::{json, Map, Value};

use super::{
    repo::{self, NewWorkspace, WorkspaceFinal},
    run::{run_config, Run, Summary, DEMO_ALIAS},
    schemas::Preservation,
};

/// Creates the row of a kept run; `None` for ephemeral runs or when the
/// database refused.
pub async fn create(run: &Run) -> Option<String> {
    let request = &run.request;
    if request.preservation != Preservation::Keep {
        return None;
    }
    let workspace_id = uuid::Uuid::new_v4().simple().to_string();
    let overrides = request
        .seed_overrides
        .as_ref()
        .filter(|o| !o.is_empty())
        .and_then(|o| serde_json::to_value(o).ok());
    let new = NewWorkspace {
        workspace_id: &workspace_id,
        name: request.workspace_name.as_deref(),
        seed: request.seed,
        scenario: request.scenario.as_str(),
        reset: request.reset,
        skip_seed: request.skip_seed,
        replayed_from_workspace_id: request.replayed_from_workspace_id.as_deref(),
        seed_overrides: overrides,
        user_scope: request
            .user_scope
            .and_then(|s| serde_json::to_value(s).ok()),
        run_config: Some(run_config(request)).filter(|v| !v.is_null()),
    };
    match repo::insert(&run.state.db, &new).await {
        Ok(()) => Some(workspace_id),
        Err(error) => {
            tracing::warn!(%error, "demo workspace not recorded");
            None
        }
    }
}

/// The sparse `created_objects` of a run: null and empty values left out.
pub fn created_objects(run: &Run, summary: &Summary) -> Map<String, Value> {
    let mut objects = run.created.clone();
    let mut put = |key: &str, value: Value| {
        objects.insert(key.to_owned(), value);
    };
    put("winning_run_id", json!(summary.winning_run_id));
    put("v2_run_id", json!(run.v2_run_id));
    put("v2_model_path", json!(run.v2_model_path));
    put(
        "alias",
        json!(summary.winning_run_id.as_ref().map(|_| DEMO_ALIAS)),
    );
    put("agent_session_id", json!(run.agent_session_id));
    let mut types: Vec<&str> = run.trained.iter().map(|t| t.model_type.as_str()).collect();
    types.sort_unstable();
    types.dedup();
    put("train_model_types", json!(types));
    objects.retain(|_, value| match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    });
    objects
}

/// Groups the step timeline by phase: `{wall_clock_s, phases: [{phase,
/// duration_ms, steps: [{step, status, duration_ms}]}]}`.
pub fn phase_summaries(timeline: &[Value], wall_clock_s: f64) -> Value {
    let mut phases: Vec<Value> = Vec::new();
    for entry in timeline {
        let phase = entry["phase"].clone();
        let duration = entry["duration_ms"].as_f64().unwrap_or(0.0);
        let step = json!({"step": entry["step"], "status": entry["status"],
                          "duration_ms": duration});
        match phases.last_mut() {
            Some(last) if last["phase"] == phase => {
                let total = last["duration_ms"].as_f64().unwrap_or(0.0) + duration;
                last["duration_ms"] = json!(total);
                if let Some(steps) = last["steps"].as_array_mut() {
                    steps.push(step);
                }
            }
            _ => phases.push(json!({"phase": phase, "duration_ms": duration, "steps": [step]})),
        }
    }
    json!({"wall_clock_s": wall_clock_s, "phases": phases})
}

/// Finalizes the row (also after a failed step).
pub async fn finalize(run: &Run, workspace_id: &str, summary: &Summary, timeline: &[Value]) {
    let mut result = json!({
        "winner_model_type": summary.winner_model_type,
        "winner_wape": summary.winner_wape,
        "wall_clock_s": summary.wall_clock_s,
    });
    if let Some(source) = &run.request.replayed_from_workspace_id {
        result["story_reproduction"] = story_reproduction(run, source).await;
    }
    let nonempty = |events: &[Value]| (!events.is_empty()).then(|| json!(events));
    let update = WorkspaceFinal {
        status: if summary.failed {
            "failed"
        } else {
            "completed"
        },
        store_id: run.store_id,
        product_id: run.product_id,
        date_start: run.date_start,
        date_end: run.date_end,
        created_objects: Value::Object(created_objects(run, summary)),
        result_summary: result,
        approval_events: nonempty(&run.approval_events),
        rag_events: nonempty(&run.rag_events),
        job_ids: nonempty(&run.job_ids.iter().map(|id| json!(id)).collect::<Vec<_>>()),
        phase_summaries: phase_summaries(timeline, summary.wall_clock_s),
    };
    if let Err(error) = repo::finalize(&run.state.db, workspace_id, &update).await {
        tracing::warn!(%error, workspace_id, "demo workspace not finalized");
    }
}

/// Whether a replay reproduced its source's agent and knowledge stories:
/// `reproduced`, `not_reproduced`, `not_applicable` (the source had none)
/// or `unknown` (the source row is gone).
async fn story_reproduction(run: &Run, source_id: &str) -> Value {
    let source = repo::find(&run.state.db, source_id).await.ok().flatten();
    let Some(source) = source else {
        return json!({"agent": "unknown", "knowledge": "unknown",
                      "source_workspace_id": source_id});
    };
    let agent = compare_stories(
        source.approval_events.as_ref().map(|j| &j.0),
        &run.approval_events,
        |_| true,
    );
    let knowledge = compare_stories(
        source.rag_events.as_ref().map(|j| &j.0),
        &run.rag_events,
        |event| {
            matches!(event["event"].as_str(), Some("index" | "retrieve"))
                && event["status"] != "skip"
        },
    );
    json!({"agent": agent, "knowledge": knowledge, "source_workspace_id": source_id})
}

/// Compares the relevant events of a source slot with this run's.
pub fn compare_stories(
    source: Option<&Value>,
    replay: &[Value],
    relevant: impl Fn(&Value) -> bool,
) -> &'static str {
    let source: Vec<&Value> = source
        .and_then(Value::as_array)
        .map(|events| events.iter().filter(|e| relevant(e)).collect())
        .unwrap_or_default();
    if source.is_empty() {
        return "not_applicable";
    }
    let replayed = replay.iter().filter(|e| relevant(e)).count();
    if replayed >= source.len() {
        "reproduced"
    } else {
        "not_reproduced"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeline_groups_consecutive_steps_by_phase() {
        let timeline = [
            json!({"step": "precheck", "phase": "data", "status": "pass", "duration_ms": 1.0}),
            json!({"step": "seed", "phase": "data", "status": "skip", "duration_ms": 2.0}),
            json!({"step": "train", "phase": "modeling", "status": "pass", "duration_ms": 4.0}),
        ];
        let summary = phase_summaries(&timeline, 0.5);
        assert_eq!(summary["wall_clock_s"], 0.5);
        assert_eq!(summary["phases"][0]["phase"], "data");
        assert_eq!(summary["phases"][0]["duration_ms"], 3.0);
        assert_eq!(summary["phases"][0]["steps"].as_array().unwrap().len(), 2);
        assert_eq!(summary["phases"][1]["steps"][0]["step"], "train");
    }

    #[test]
    fn story_comparison() {
        let index = json!({"event": "index", "status": "pass"});
        let skip = json!({"event": "index", "status": "skip"});
        let relevant = |e: &Value| e["status"] != "skip";
        assert_eq!(compare_stories(None, &[], relevant), "not_applicable");
        assert_eq!(
            compare_stories(Some(&json!([skip])), &[], relevant),
            "not_applicable"
        );
        assert_eq!(
            compare_stories(
                Some(&json!([index])),
                std::slice::from_ref(&index),
                relevant
            ),
            "reproduced"
        );
        assert_eq!(
            compare_stories(Some(&json!([index])), &[skip], relevant),
            "not_reproduced"
        );
    }
}
