//! The experiment agent's tools (operations-ai spec §5.5): the registry and
//! the backtester, called in process through their service functions, so
//! every rule of those slices (validation, lifecycle, alias policy)
//! applies to the agent exactly as to an HTTP client.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{
    arguments,
    scenario::{self, Approval},
    spec, ToolFailure, ToolResult,
};
use crate::{
    extract::validate,
    features::{
        backtesting::{self, schemas::BacktestRequest},
        registry::{
            schemas::{AliasCreate, RunListQuery, RunResponse, RunStatus, RunUpdate},
            service as registry,
        },
    },
    state::AppState,
};
use forecastlab_core::ai::ToolSpec;

fn object(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required})
}

/// The experiment agent's tools.
pub(super) fn specs() -> Vec<ToolSpec> {
    let run_id = json!({"type": "string", "description": "32-hex run id"});
    vec![
        spec(
            "list_runs",
            "List registered model runs, newest first, with optional filters.",
            object(
                json!({
                    "page": {"type": "integer", "minimum": 1, "default": 1},
                    "page_size": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
                    "model_type": {"type": "string"},
                    "status": {"type": "string", "enum": ["pending", "running", "success", "failed", "archived"]},
                    "store_id": {"type": "integer", "minimum": 1},
                    "product_id": {"type": "integer", "minimum": 1}
                }),
                &[],
            ),
        ),
        spec(
            "get_run",
            "Get one model run with its config, metrics and artifact; null when it does not exist.",
            object(json!({"run_id": run_id}), &["run_id"]),
        ),
        spec(
            "run_backtest",
            "Backtest a model on one series (time-series cross-validation), with the naive and \
             seasonal-naive baselines; returns the mean metrics of each model. Name the series \
             by store_id or store_code, and by product_id or sku.",
            object(
                json!({
                    "store_id": {"type": "integer", "minimum": 1},
                    "store_code": {"type": "string", "minLength": 1, "maxLength": 20},
                    "product_id": {"type": "integer", "minimum": 1},
                    "sku": {"type": "string", "minLength": 1, "maxLength": 50},
                    "start_date": {"type": "string", "format": "date"},
                    "end_date": {"type": "string", "format": "date"},
                    "model_type": {"type": "string", "default": "naive"},
                    "n_splits": {"type": "integer", "minimum": 2, "maximum": 20, "default": 5},
                    "horizon": {"type": "integer", "minimum": 1, "maximum": 90, "default": 7},
                    "strategy": {"type": "string", "enum": ["expanding", "sliding"], "default": "expanding"},
                    "min_train_size": {"type": "integer", "minimum": 7, "default": 30},
                    "include_baselines": {"type": "boolean", "default": true}
                }),
                &["start_date", "end_date"],
            ),
        ),
        spec(
            "compare_backtest_results",
            "Compare two backtest results metric by metric (difference, percent change, better \
             model) with an MAE-based recommendation.",
            object(
                json!({"result_a": {"type": "object"}, "result_b": {"type": "object"}}),
                &["result_a", "result_b"],
            ),
        ),
        spec(
            "compare_runs",
            "Diff two registered runs: config keys that differ, every metric with b - a, and the \
             data window.",
            object(
                json!({"run_id_a": run_id, "run_id_b": run_id}),
                &["run_id_a", "run_id_b"],
            ),
        ),
        spec(
            "create_alias",
            "Point a deployment alias at a successful run (needs human approval).",
            object(
                json!({
                    "alias_name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9\\-_]*$", "maxLength": 100},
                    "run_id": run_id,
                    "description": {"type": "string", "maxLength": 500}
                }),
                &["alias_name", "run_id"],
            ),
        ),
        spec(
            "archive_run",
            "Archive a model run (needs human approval).",
            object(json!({"run_id": run_id}), &["run_id"]),
        ),
    ]
    .into_iter()
    .chain(scenario::specs())
    .collect()
}

#[derive(Debug, Deserialize)]
struct ListRunsArgs {
    #[serde(default = "one")]
    page: i64,
    #[serde(default = "ten")]
    page_size: i64,
    #[serde(default)]
    model_type: Option<String>,
    #[serde(default)]
    status: Option<RunStatus>,
    #[serde(default)]
    store_id: Option<i64>,
    #[serde(default)]
    product_id: Option<i64>,
}

fn one() -> i64 {
    1
}

fn ten() -> i64 {
    10
}

#[derive(Debug, Deserialize)]
struct RunIdArgs {
    run_id: String,
}

#[derive(Debug, Deserialize)]
struct CompareRunsArgs {
    run_id_a: String,
    run_id_b: String,
}

/// `run_backtest` arguments; the series is named by id, natural key or
/// both, resolved by the backtester like a `POST /backtesting/run` body.
#[derive(Debug, Deserialize)]
struct BacktestArgs {
    #[serde(default)]
    store_id: Option<i64>,
    #[serde(default)]
    store_code: Option<String>,
    #[serde(default)]
    product_id: Option<i64>,
    #[serde(default)]
    sku: Option<String>,
    start_date: String,
    end_date: String,
    #[serde(default = "naive")]
    model_type: String,
    #[serde(default = "five")]
    n_splits: i64,
    #[serde(default = "seven")]
    horizon: i64,
    #[serde(default = "expanding")]
    strategy: String,
    #[serde(default = "thirty")]
    min_train_size: i64,
    #[serde(default = "yes")]
    include_baselines: bool,
}

fn naive() -> String {
    "naive".to_owned()
}

fn five() -> i64 {
    5
}

fn seven() -> i64 {
    7
}

fn expanding() -> String {
    "expanding".to_owned()
}

fn thirty() -> i64 {
    30
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
struct CompareBacktestArgs {
    result_a: Value,
    result_b: Value,
}

#[derive(Debug, Deserialize)]
struct AliasArgs {
    alias_name: String,
    run_id: String,
    #[serde(default)]
    description: Option<String>,
}

/// A run as the model needs it (no runtime details).
fn run_summary(run: &RunResponse) -> Value {
    json!({
        "run_id": run.run_id,
        "status": run.status,
        "model_type": run.model_type,
        "model_config": run.model_config,
        "store_id": run.store_id,
        "product_id": run.product_id,
        "data_window_start": run.data_window_start,
        "data_window_end": run.data_window_end,
        "metrics": run.metrics,
        "artifact_uri": run.artifact_uri,
        "created_at": run.created_at,
    })
}

fn alias_request(args: &Value, session_id: &str) -> Result<AliasCreate, ToolFailure> {
    let alias: AliasArgs = arguments(args)?;
    let request = AliasCreate {
        alias_name: alias.alias_name,
        run_id: alias.run_id,
        description: alias.description,
        actor: Some(format!("agent:{session_id}")),
        reason: Some("approved agent action".to_owned()),
    };
    validate(&request, None)?;
    Ok(request)
}

/// Checks a gated call's arguments and describes the action.
pub(super) fn describe(tool: &str, args: &Value) -> Result<String, ToolFailure> {
    match tool {
        "create_alias" => {
            let request = alias_request(args, "-")?;
            Ok(format!(
                "Point alias '{}' at run {}",
                request.alias_name, request.run_id
            ))
        }
        "archive_run" => {
            let run: RunIdArgs = arguments(args)?;
            Ok(format!("Archive run {}", run.run_id))
        }
        "save_scenario" => scenario::describe_save(args),
        other => Ok(format!("Agent requested approval for {other}")),
    }
}

/// Runs one of the experiment tools.
pub(super) async fn execute(
    state: &AppState,
    session_id: &str,
    tool: &str,
    args: &Value,
    approval: Option<Approval<'_>>,
) -> ToolResult {
    match tool {
        "propose_scenario" => scenario::propose(state, args).await,
        "save_scenario" => scenario::save(state, session_id, args, approval).await,
        "list_runs" => list_runs(state, arguments(args)?).await,
        "get_run" => {
            let RunIdArgs { run_id } = arguments(args)?;
            match registry::get_run(state, &run_id).await {
                Ok(run) => Ok(run_summary(&run)),
                Err(problem) if problem.status.as_u16() == 404 => Ok(Value::Null),
                Err(problem) => Err(problem.into()),
            }
        }
        "run_backtest" => run_backtest(state, arguments(args)?).await,
        "compare_backtest_results" => {
            let CompareBacktestArgs { result_a, result_b } = arguments(args)?;
            Ok(compare_backtest_results(&result_a, &result_b))
        }
        "compare_runs" => {
            let CompareRunsArgs { run_id_a, run_id_b } = arguments(args)?;
            let diff = registry::compare(state, &run_id_a, &run_id_b).await?;
            Ok(json!({
                "run_a": run_summary(&diff.run_a),
                "run_b": run_summary(&diff.run_b),
                "config_diff": diff.config_diff,
                "metrics_diff": diff.metrics_diff,
                "data_window_diff": diff.data_window_diff,
            }))
        }
        "create_alias" => {
            let alias = registry::upsert_alias(state, alias_request(args, session_id)?).await?;
            Ok(serde_json::to_value(alias).unwrap_or(Value::Null))
        }
        "archive_run" => {
            let RunIdArgs { run_id } = arguments(args)?;
            let update = RunUpdate {
                status: Some(RunStatus::Archived),
                ..RunUpdate::default()
            };
            let run = registry::update_run(state, &run_id, update).await?;
            Ok(run_summary(&run))
        }
        other => Err(ToolFailure::new(
            "unknown_tool",
            format!("Unknown tool: {other}"),
        )),
    }
}

async fn list_runs(state: &AppState, args: ListRunsArgs) -> ToolResult {
    let query = RunListQuery {
        page: args.page,
        page_size: args.page_size,
        model_type: args.model_type,
        status: args.status,
        store_id: args.store_id,
        product_id: args.product_id,
        sort_by: None,
        sort_order: None,
    };
    validate(&query, None)?;
    let page = registry::list_runs(state, query).await?;
    Ok(json!({
        "total": page.total,
        "page": page.page,
        "page_size": page.page_size,
        "runs": page.runs.iter().map(run_summary).collect::<Vec<_>>(),
    }))
}

async fn run_backtest(state: &AppState, args: BacktestArgs) -> ToolResult {
    let body = json!({
        "store_id": args.store_id,
        "store_code": args.store_code,
        "product_id": args.product_id,
        "sku": args.sku,
        "start_date": args.start_date,
        "end_date": args.end_date,
        "config": {
            "split_config": {
                "strategy": args.strategy,
                "n_splits": args.n_splits,
                "horizon": args.horizon,
                "min_train_size": args.min_train_size,
            },
            "model_config_main": {"model_type": args.model_type},
            "include_baselines": args.include_baselines,
            "store_fold_details": false,
        },
    });
    let request: BacktestRequest = arguments(&body)?;
    validate(&request, None)?;
    let response = backtesting::service::run(state, request).await?;
    let summarise = |result: &backtesting::schemas::ModelBacktestResult| {
        json!({
            "model_type": result.model_type,
            "aggregated_metrics": result.aggregated_metrics,
            "folds": result.fold_results.len(),
        })
    };
    Ok(json!({
        "backtest_id": response.backtest_id,
        "store_id": response.store_id,
        "product_id": response.product_id,
        "split_config": response.split_config,
        "main_model_results": response.main_model_results.as_ref().map(summarise),
        "baseline_results": response
            .baseline_results
            .as_ref()
            .map(|results| results.iter().map(summarise).collect::<Vec<_>>()),
        "comparison_summary": response.comparison_summary,
        "leakage_check_passed": response.leakage_check_passed,
    }))
}

/// The metrics of a backtest result as the model passes it: the main
/// model's `aggregated_metrics`, a bare `aggregated_metrics`, or a metric
/// object itself.
fn metrics_of(result: &Value) -> Map<String, Value> {
    let candidates = [
        &result["main_model_results"]["aggregated_metrics"],
        &result["aggregated_metrics"],
        &result["metrics"],
        result,
    ];
    candidates
        .into_iter()
        .find_map(|candidate| {
            candidate
                .as_object()
                .filter(|map| map.values().any(Value::is_number))
        })
        .cloned()
        .unwrap_or_default()
}

fn name_of(result: &Value, fallback: &str) -> String {
    [
        &result["main_model_results"]["model_type"],
        &result["model_type"],
    ]
    .into_iter()
    .find_map(Value::as_str)
    .unwrap_or(fallback)
    .to_owned()
}

/// Compares two backtest results metric by metric (every metric is an
/// error: smaller magnitude is better): `b − a`, the percent change from
/// `a` (`null` when `a` is 0), the better model, and a recommendation from
/// the MAE.
pub(crate) fn compare_backtest_results(result_a: &Value, result_b: &Value) -> Value {
    let a = metrics_of(result_a);
    let b = metrics_of(result_b);
    let name_a = name_of(result_a, "model_a");
    let name_b = name_of(result_b, "model_b");
    let mut metrics = Map::new();
    for (key, left) in &a {
        let (Some(left), Some(right)) = (left.as_f64(), b.get(key).and_then(Value::as_f64)) else {
            continue;
        };
        let diff = right - left;
        let percent = (left != 0.0).then(|| diff / left.abs() * 100.0);
        let better = match left.abs().partial_cmp(&right.abs()) {
            Some(std::cmp::Ordering::Less) => "a",
            Some(std::cmp::Ordering::Greater) => "b",
            _ => "tie",
        };
        metrics.insert(
            key.clone(),
            json!({"a": left, "b": right, "diff": diff, "percent_change": percent, "better_model": better}),
        );
    }
    let recommendation = match (
        a.get("mae").and_then(Value::as_f64),
        b.get("mae").and_then(Value::as_f64),
    ) {
        (Some(left), Some(right)) if left < right => {
            format!("{name_a} has the lower MAE ({left:.4} vs {right:.4}); prefer {name_a}.")
        }
        (Some(left), Some(right)) if right < left => {
            format!("{name_b} has the lower MAE ({right:.4} vs {left:.4}); prefer {name_b}.")
        }
        (Some(_), Some(_)) => "Both models have the same MAE; either will do.".to_owned(),
        _ => "MAE is missing from at least one result; no recommendation.".to_owned(),
    };
    json!({"model_a": name_a, "model_b": name_b, "metrics": metrics, "recommendation": recommendation})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_reports_diffs_and_recommends_by_mae() {
        let a = json!({"main_model_results": {"model_type": "naive",
            "aggregated_metrics": {"mae": 4.0, "rmse": 5.0, "bias": -1.0, "wape": null}}});
        let b = json!({"model_type": "seasonal_naive",
            "aggregated_metrics": {"mae": 3.0, "rmse": 6.0, "bias": 1.0}});
        let out = compare_backtest_results(&a, &b);
        assert_eq!(out["model_a"], "naive");
        assert_eq!(out["model_b"], "seasonal_naive");
        assert_eq!(out["metrics"]["mae"]["diff"], -1.0);
        assert_eq!(out["metrics"]["mae"]["percent_change"], -25.0);
        assert_eq!(out["metrics"]["mae"]["better_model"], "b");
        assert_eq!(out["metrics"]["rmse"]["better_model"], "a");
        assert_eq!(out["metrics"]["bias"]["better_model"], "tie");
        assert!(out["metrics"].get("wape").is_none());
        assert_eq!(
            out["recommendation"],
            "seasonal_naive has the lower MAE (3.0000 vs 4.0000); prefer seasonal_naive."
        );
    }

    #[test]
    fn comparison_handles_zero_and_missing_metrics() {
        let out = compare_backtest_results(&json!({"mae": 0.0}), &json!({"mae": 0.0}));
        assert!(out["metrics"]["mae"]["percent_change"].is_null());
        assert_eq!(out["metrics"]["mae"]["better_model"], "tie");
        assert_eq!(
            out["recommendation"],
            "Both models have the same MAE; either will do."
        );
        let none = compare_backtest_results(&json!({"rmse": 1.0}), &json!({}));
        assert_eq!(none["metrics"], json!({}));
        assert!(none["recommendation"]
            .as_str()
            .unwrap()
            .contains("no recommendation"));
    }

    #[test]
    fn gated_calls_are_checked_before_they_are_held() {
        assert_eq!(
            describe(
                "create_alias",
                &json!({"alias_name": "prod", "run_id": "abc"})
            )
            .unwrap(),
            "Point alias 'prod' at run abc"
        );
        let bad = describe(
            "create_alias",
            &json!({"alias_name": "Bad Name", "run_id": "abc"}),
        )
        .unwrap_err();
        assert_eq!(bad.error_type(), "VALIDATION_ERROR");
        assert!(describe("archive_run", &json!({})).is_err());
        assert_eq!(
            describe("archive_run", &json!({"run_id": "r1"})).unwrap(),
            "Archive run r1"
        );
    }
}
