//! The planning phase of the showcase: a saved price-cut plan for the
//! champion and a ranked comparison with a holiday plan.

use chrono::Days;
use serde_json::{json, Value};

use super::{
    run::{Outcome, Run, StepResult},
    schemas::StepStatus,
};

/// The 12-hex artifact key inside an artifact URI or path
/// (`…model_<key>.flmodel`).
pub fn artifact_key(uri: &str) -> Option<String> {
    let start = uri.rfind("model_")? + "model_".len();
    let key: String = uri[start..].chars().take(12).collect();
    (key.len() == 12 && key.bytes().all(|b| b.is_ascii_hexdigit())).then_some(key)
}

/// Tags of the plans the pipeline saves: the kind, `source:showcase`, and
/// `workspace:<name or id>` on kept runs.
fn tags(run: &Run, kind: &str) -> Vec<String> {
    let mut tags = vec![
        "showcase".to_owned(),
        kind.to_owned(),
        "source:showcase".to_owned(),
    ];
    let label = run
        .request
        .workspace_name
        .clone()
        .or_else(|| run.workspace_id.clone());
    if let Some(label) = label {
        tags.push(format!("workspace:{label}"));
    }
    tags
}

fn record_plan(run: &mut Run, scenario_id: &str) {
    let plans = run
        .created
        .entry("scenario_plan_ids")
        .or_insert_with(|| json!([]));
    if let Some(list) = plans.as_array_mut() {
        list.push(json!(scenario_id));
    }
}

/// Step 16: the champion is the run registered by `register` (the alias
/// itself was moved to a placeholder by `safer_promote_flow`).
pub async fn simulate_and_save(run: &mut Run) -> StepResult {
    let (_, _, _, end) = run.series()?;
    let Some(run_id) = run.winning_run_id.clone() else {
        return Ok(Outcome::fail("no champion registered"));
    };
    let champion = run.client.get(&format!("/registry/runs/{run_id}")).await?;
    let uri = champion["artifact_uri"].as_str().unwrap_or_default();
    let Some(key) = artifact_key(uri) else {
        return Ok(Outcome::fail(format!(
            "run {run_id} has no model artifact key ({uri})"
        )));
    };
    let tags = tags(run, "price");
    let body = json!({
        "name": "showcase-price-cut-10pct", "run_id": key, "horizon": 14,
        "assumptions": {"price": {"change_pct": -0.1, "start_date": end + Days::new(1),
                                  "end_date": end + Days::new(14)}},
        "tags": tags,
    });
    let plan = run.client.post("/scenarios", &body).await?;
    let scenario_id = plan["scenario_id"].as_str().unwrap_or_default().to_owned();
    record_plan(run, &scenario_id);
    run.created
        .insert("scenario_artifact_key".into(), json!(key));
    let comparison = &plan["comparison"];
    Ok(Outcome::new(
        StepStatus::Pass,
        format!(
            "saved plan {scenario_id} (revenue delta {})",
            comparison["revenue_delta"]
        ),
        json!({"scenario_id": scenario_id, "method": plan["method"],
               "units_delta": comparison["units_delta"],
               "revenue_delta": comparison["revenue_delta"], "winner_run_id": run_id,
               "artifact_key": key, "tags": tags}),
    ))
}

/// Step 17: a holiday plan, then both ranked by revenue delta.
pub async fn multi_plan_compare(run: &mut Run) -> StepResult {
    let (_, _, _, end) = run.series()?;
    let Some(key) = run
        .created
        .get("scenario_artifact_key")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return Ok(Outcome::skip("no price plan to compare with"));
    };
    let first: Vec<String> = run
        .created
        .get("scenario_plan_ids")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let body = json!({
        "name": "showcase-holiday-uplift", "run_id": key, "horizon": 14,
        "assumptions": {"holiday": {"dates": [end + Days::new(7)]}},
        "tags": tags(run, "holiday"),
    });
    let plan = match run.client.post("/scenarios", &body).await {
        Ok(plan) => plan,
        Err(error) => {
            return Ok(Outcome::new(
                StepStatus::Warn,
                format!("holiday plan not saved: {error}"),
                json!({}),
            ))
        }
    };
    let second = plan["scenario_id"].as_str().unwrap_or_default().to_owned();
    record_plan(run, &second);
    let mut ids = first;
    ids.push(second);
    let compared = run
        .client
        .post(
            "/scenarios/compare",
            &json!({"scenario_ids": ids, "rank_by": "revenue_delta"}),
        )
        .await?;
    let ranked: Vec<Value> = compared["scenarios"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let winner = ranked.first().cloned().unwrap_or(Value::Null);
    Ok(Outcome::new(
        StepStatus::Pass,
        format!("{} plans ranked by revenue_delta", ranked.len()),
        json!({"winner_scenario_id": winner["scenario_id"], "winner_name": winner["name"],
               "ranked_by": "revenue_delta", "ranked": ranked}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_keys_come_from_uris_and_paths() {
        assert_eq!(
            artifact_key("demo/naive-model_0123456789ab.flmodel").as_deref(),
            Some("0123456789ab")
        );
        assert_eq!(
            artifact_key("/x/artifacts/models/model_abcdefabcdef.flmodel").as_deref(),
            Some("abcdefabcdef")
        );
        assert_eq!(artifact_key("demo/stale-alias-placeholder.joblib"), None);
        assert_eq!(artifact_key("model_12"), None);
    }
}
