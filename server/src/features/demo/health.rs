//! Liveness of a workspace's soft references: each is probed concurrently
//! through the platform's own routes in process (10 s each); 2xx → alive,
//! 404 → dead, anything else → unknown. Never a 500.

use std::time::Duration;

use chrono::Utc;
use futures::future::join_all;
use serde_json::Value;

use super::{
    client::PlatformClient,
    repo::WorkspaceRow,
    ws_schemas::{ReferenceHealth, ReferenceStatus, WorkspaceHealth},
};

/// Time limit of one probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// One reference to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Key in `created_objects` (or `job_ids`).
    pub key: String,
    /// Kind of object.
    pub ref_type: &'static str,
    /// The id.
    pub ref_id: String,
    /// Route probed.
    pub probe_path: String,
}

fn nonempty_str(value: &Value) -> Option<&str> {
    value.as_str().filter(|s| !s.is_empty())
}

/// The probe targets of a workspace, in the documented order. The batch of
/// this platform is a job, so `batch_id` is probed at `/jobs/{id}`.
pub fn targets(created: &Value, job_ids: Option<&Value>) -> Vec<Target> {
    let mut targets = Vec::new();
    let mut push = |key: &str, ref_type: &'static str, id: &str, path: String| {
        targets.push(Target {
            key: key.to_owned(),
            ref_type,
            ref_id: id.to_owned(),
            probe_path: path,
        });
    };
    for key in ["winning_run_id", "v2_run_id", "stale_alias_run_id"] {
        if let Some(id) = nonempty_str(&created[key]) {
            push(key, "model_run", id, format!("/registry/runs/{id}"));
        }
    }
    for id in created["scenario_plan_ids"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if let Some(id) = nonempty_str(id) {
            push(
                "scenario_plan_ids",
                "scenario_plan",
                id,
                format!("/scenarios/{id}"),
            );
        }
    }
    if let Some(name) = nonempty_str(&created["alias"]) {
        push("alias", "alias", name, format!("/registry/aliases/{name}"));
    }
    if let Some(id) = nonempty_str(&created["batch_id"]) {
        push("batch_id", "batch", id, format!("/jobs/{id}"));
    }
    if let Some(id) = nonempty_str(&created["agent_session_id"]) {
        push(
            "agent_session_id",
            "agent_session",
            id,
            format!("/agents/sessions/{id}"),
        );
    }
    let mut jobs: Vec<&str> = Vec::new();
    for list in [created.get("job_ids"), job_ids] {
        for id in list.and_then(Value::as_array).into_iter().flatten() {
            if let Some(id) = nonempty_str(id).filter(|id| !jobs.contains(id)) {
                jobs.push(id);
            }
        }
    }
    for id in jobs {
        push("job_ids", "job", id, format!("/jobs/{id}"));
    }
    targets
}

/// Classifies a probe's answer.
pub fn classify(status: Option<u16>) -> ReferenceStatus {
    match status {
        Some(code) if (200..300).contains(&code) => ReferenceStatus::Alive,
        Some(404) => ReferenceStatus::Dead,
        _ => ReferenceStatus::Unknown,
    }
}

/// Probes every reference of `row`.
pub async fn check(client: &PlatformClient, row: &WorkspaceRow) -> WorkspaceHealth {
    let targets = targets(&row.created_objects.0, row.job_ids.as_ref().map(|j| &j.0));
    let probes = targets.iter().map(|target| async move {
        let answer = tokio::time::timeout(
            PROBE_TIMEOUT,
            client.send(axum::http::Method::GET, &target.probe_path, None),
        )
        .await;
        let status = match answer {
            Ok(Ok((status, _))) => Some(status),
            _ => None,
        };
        ReferenceHealth {
            key: target.key.clone(),
            ref_type: target.ref_type.to_owned(),
            ref_id: target.ref_id.clone(),
            status: classify(status),
            probe_path: target.probe_path.clone(),
        }
    });
    let references = join_all(probes).await;
    let count =
        |wanted: ReferenceStatus| references.iter().filter(|r| r.status == wanted).count() as i64;
    WorkspaceHealth {
        workspace_id: row.workspace_id.clone(),
        workspace_status: row.status.clone(),
        partial_run: row.status != "completed",
        alive: count(ReferenceStatus::Alive),
        dead: count(ReferenceStatus::Dead),
        unknown: count(ReferenceStatus::Unknown),
        references,
        checked_at: Utc::now(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn targets_follow_the_documented_order_and_skip_non_references() {
        let created = json!({
            "alias": "demo-production", "winning_run_id": "r1", "v2_run_id": "",
            "scenario_plan_ids": ["p1", 3, "p2"], "batch_id": "b1",
            "agent_session_id": "s1", "v2_model_path": "x", "train_model_types": ["naive"],
            "job_ids": ["j1"],
        });
        let targets = targets(&created, Some(&json!(["j1", "j2"])));
        let keys: Vec<(&str, &str)> = targets
            .iter()
            .map(|t| (t.key.as_str(), t.ref_id.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("winning_run_id", "r1"),
                ("scenario_plan_ids", "p1"),
                ("scenario_plan_ids", "p2"),
                ("alias", "demo-production"),
                ("batch_id", "b1"),
                ("agent_session_id", "s1"),
                ("job_ids", "j1"),
                ("job_ids", "j2"),
            ]
        );
        assert_eq!(targets[0].probe_path, "/registry/runs/r1");
        assert_eq!(targets[4].probe_path, "/jobs/b1");
    }

    #[test]
    fn classification() {
        assert_eq!(classify(Some(200)), ReferenceStatus::Alive);
        assert_eq!(classify(Some(404)), ReferenceStatus::Dead);
        assert_eq!(classify(Some(410)), ReferenceStatus::Unknown);
        assert_eq!(classify(Some(500)), ReferenceStatus::Unknown);
        assert_eq!(classify(None), ReferenceStatus::Unknown);
    }
}
