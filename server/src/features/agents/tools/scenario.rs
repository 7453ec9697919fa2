//! The experiment agent's scenario tools (operations-ai spec §5.5):
//! `propose_scenario` simulates candidate what-ifs on a trained model
//! through the scenarios slice (read-only), and the gated `save_scenario`
//! saves one as a plan with `source = "agent"` and the approval columns —
//! only once a human approved it.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{arguments, spec, ToolFailure, ToolResult};
use crate::{
    extract::validate,
    features::{
        agents::repo::{self, AgentPlan},
        scenarios::{
            schemas::{
                PriceAssumption, PromotionAssumption, PromotionKind, ScenarioAssumptions,
                ScenarioComparison, ScenarioCreate, ScenarioMethod, MAX_HORIZON,
            },
            service as scenarios,
            simulate::{self, Scenario},
        },
    },
    problem::Problem,
    state::AppState,
};
use forecastlab_core::ai::ToolSpec;

/// Who approved a gated call, and when.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Approval<'a> {
    /// The approver (`approved_by` of the decision).
    pub(crate) by: &'a str,
    /// The moment of the decision.
    pub(crate) at: DateTime<Utc>,
}

/// The scenario tools.
pub(super) fn specs() -> Vec<ToolSpec> {
    let run_id =
        json!({"type": "string", "description": "Model artifact key (12 hex) of a trained model"});
    let horizon = json!({"type": "integer", "minimum": 1, "maximum": MAX_HORIZON, "default": 14});
    vec![
        spec(
            "propose_scenario",
            "Simulate what-if scenarios on a trained model without saving anything: the given \
             assumptions, or else candidate price cuts, a promotion and a price rise over the \
             horizon. Returns each candidate's units and revenue against the baseline and \
             recommends one for the objective (units or revenue).",
            json!({
                "type": "object",
                "properties": {
                    "run_id": run_id,
                    "horizon": horizon,
                    "objective": {"type": "string", "enum": ["units", "revenue"], "default": "revenue"},
                    "assumptions": {"type": "object", "description": "Scenario assumptions (price, promotion, holiday, inventory, lifecycle) to simulate instead of the candidates"}
                },
                "required": ["run_id"]
            }),
        ),
        spec(
            "save_scenario",
            "Save a scenario plan (simulated and stored with its snapshot); needs human approval.",
            json!({
                "type": "object",
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 200},
                    "run_id": run_id,
                    "horizon": horizon,
                    "assumptions": {"type": "object"},
                    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 20},
                    "method": {"type": "string", "enum": ["heuristic", "model_exogenous", "elasticity"]}
                },
                "required": ["name", "run_id", "horizon"]
            }),
        ),
    ]
}

/// What the model wants more of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Objective {
    Units,
    Revenue,
}

#[derive(Debug, Deserialize)]
struct ProposeArgs {
    run_id: String,
    #[serde(default = "fourteen")]
    horizon: i64,
    #[serde(default = "revenue")]
    objective: Objective,
    #[serde(default)]
    assumptions: Option<ScenarioAssumptions>,
}

fn fourteen() -> i64 {
    14
}

fn revenue() -> Objective {
    Objective::Revenue
}

/// The save request of a `save_scenario` call, validated like
/// `POST /scenarios`.
fn save_request(args: &Value) -> Result<ScenarioCreate, ToolFailure> {
    let request: ScenarioCreate = arguments(args)?;
    validate(&request, None)?;
    Ok(request)
}

/// Checks a `save_scenario` call and describes it for the approver.
pub(super) fn describe_save(args: &Value) -> Result<String, ToolFailure> {
    let request = save_request(args)?;
    Ok(format!(
        "Save scenario plan '{}' for model {} over {} days",
        request.name, request.run_id, request.horizon
    ))
}

/// Candidate assumptions over the horizon `first..=last`.
fn candidates(
    first: chrono::NaiveDate,
    last: chrono::NaiveDate,
) -> Vec<(String, ScenarioAssumptions)> {
    let price = |change_pct: f64| ScenarioAssumptions {
        price: Some(PriceAssumption {
            change_pct,
            start_date: first,
            end_date: last,
        }),
        ..ScenarioAssumptions::default()
    };
    let promotion = ScenarioAssumptions {
        promotion: Some(PromotionAssumption {
            kind: PromotionKind::PctOff,
            start_date: first,
            end_date: (first + chrono::Duration::days(6)).min(last),
        }),
        ..ScenarioAssumptions::default()
    };
    vec![
        ("price cut 10%".to_owned(), price(-0.10)),
        ("percent-off promotion, first week".to_owned(), promotion),
        ("price rise 5%".to_owned(), price(0.05)),
    ]
}

fn outcome(
    label: &str,
    assumptions: &ScenarioAssumptions,
    comparison: &ScenarioComparison,
) -> Value {
    json!({
        "label": label,
        "assumptions": assumptions,
        "method": comparison.method,
        "scenario_total_units": comparison.scenario_total_units,
        "units_delta": comparison.units_delta,
        "units_delta_pct": comparison.units_delta_pct,
        "scenario_revenue": comparison.scenario_revenue,
        "revenue_delta": comparison.revenue_delta,
        "coverage_verdict": comparison.coverage_verdict,
    })
}

/// `propose_scenario`: simulates and ranks, saves nothing.
pub(super) async fn propose(state: &AppState, args: &Value) -> ToolResult {
    let args: ProposeArgs = arguments(args)?;
    if !(1..=MAX_HORIZON).contains(&args.horizon) {
        return Err(ToolFailure::arguments(format!(
            "horizon must be between 1 and {MAX_HORIZON}"
        )));
    }
    let horizon = usize::try_from(args.horizon).unwrap_or(1);
    let run = |assumptions: ScenarioAssumptions| {
        let scenario = Scenario {
            horizon,
            assumptions,
            method: None,
            name: None,
        };
        let run_id = args.run_id.clone();
        async move { simulate::simulate(state, &run_id, &scenario).await }
    };
    let baseline = run(ScenarioAssumptions::default()).await?;
    let (Some(first), Some(last)) = (baseline.points.first(), baseline.points.last()) else {
        return Err(ToolFailure::new(
            "empty_forecast",
            "The model forecast no days.",
        ));
    };
    let proposals = match args.assumptions {
        Some(assumptions) => vec![("given assumptions".to_owned(), assumptions)],
        None => candidates(first.date, last.date),
    };
    let mut outcomes = Vec::with_capacity(proposals.len());
    let mut best: Option<(f64, String)> = None;
    for (label, assumptions) in proposals {
        let comparison = run(assumptions.clone()).await?;
        let score = match args.objective {
            Objective::Units => comparison.units_delta,
            Objective::Revenue => comparison.revenue_delta,
        };
        if best.as_ref().is_none_or(|(top, _)| score > *top) {
            best = Some((score, label.clone()));
        }
        outcomes.push(outcome(&label, &assumptions, &comparison));
    }
    let what = match args.objective {
        Objective::Units => "units",
        Objective::Revenue => "revenue",
    };
    let recommendation = match &best {
        Some((score, label)) if *score > 0.0 => {
            format!("'{label}' raises {what} the most ({score:+.2} against the baseline).")
        }
        _ => format!("No candidate raises {what} above the baseline; keep the plan as it is."),
    };
    Ok(json!({
        "run_id": baseline.run_id,
        "store_id": baseline.store_id,
        "product_id": baseline.product_id,
        "model_type": baseline.model_type,
        "horizon": baseline.horizon,
        "objective": what,
        "baseline": {
            "total_units": baseline.baseline_total_units,
            "revenue": baseline.baseline_revenue,
            "unit_price_used": baseline.unit_price_used,
        },
        "candidates": outcomes,
        "recommended": best.filter(|(score, _)| *score > 0.0).map(|(_, label)| label),
        "recommendation": recommendation,
        "disclaimer": baseline.disclaimer,
    }))
}

/// `save_scenario`: simulates the request and saves it as an agent plan
/// of `session_id`, with the approval when there was one.
pub(super) async fn save(
    state: &AppState,
    session_id: &str,
    args: &Value,
    approval: Option<Approval<'_>>,
) -> ToolResult {
    let request = save_request(args)?;
    let scenario = Scenario {
        horizon: usize::try_from(request.horizon).unwrap_or(1),
        assumptions: request.assumptions.clone(),
        method: request.method,
        name: Some(request.name.clone()),
    };
    let comparison = simulate::simulate(state, &request.run_id, &scenario).await?;
    let scenario_id = uuid::Uuid::new_v4().simple().to_string();
    let assumptions = serde_json::to_value(&request.assumptions).map_err(Problem::internal)?;
    let snapshot = serde_json::to_value(&comparison).map_err(Problem::internal)?;
    let method: ScenarioMethod = comparison.method;
    repo::insert_agent_plan(
        &state.db,
        &AgentPlan {
            scenario_id: &scenario_id,
            name: &request.name,
            store_id: comparison.store_id,
            product_id: comparison.product_id,
            run_id: &comparison.run_id,
            horizon: request.horizon,
            assumptions: &assumptions,
            comparison: &snapshot,
            method: method.as_str(),
            tags: &request.tags,
            session_id,
            approved_by: approval.map(|a| a.by),
            approved_at: approval.map(|a| a.at),
            created_at: Utc::now(),
        },
    )
    .await
    .map_err(|error| Problem::database(&error, "Could not save the scenario plan."))?;
    let plan = scenarios::get(state, &scenario_id).await?;
    Ok(serde_json::to_value(plan).unwrap_or(Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_calls_are_checked_like_the_route() {
        let ok = json!({"name": "cut", "run_id": "abcdef012345", "horizon": 7,
            "assumptions": {"price": {"change_pct": -0.1, "start_date": "2024-10-01", "end_date": "2024-10-07"}}});
        assert_eq!(
            describe_save(&ok).unwrap(),
            "Save scenario plan 'cut' for model abcdef012345 over 7 days"
        );
        let far = json!({"name": "cut", "run_id": "abcdef012345", "horizon": 91});
        assert_eq!(
            describe_save(&far).unwrap_err().error_type(),
            "VALIDATION_ERROR"
        );
        let unknown =
            json!({"name": "cut", "run_id": "abcdef012345", "horizon": 7, "colour": "red"});
        assert_eq!(
            describe_save(&unknown).unwrap_err().error_type(),
            "invalid_arguments"
        );
    }

    #[test]
    fn candidates_stay_inside_the_horizon() {
        let first = chrono::NaiveDate::from_ymd_opt(2024, 10, 1).unwrap();
        let last = chrono::NaiveDate::from_ymd_opt(2024, 10, 3).unwrap();
        let all = candidates(first, last);
        assert_eq!(all.len(), 3);
        let promotion = all[1].1.promotion.as_ref().unwrap();
        assert_eq!(promotion.end_date, last);
        assert_eq!(all[0].1.price.as_ref().unwrap().change_pct, -0.10);
    }
}
