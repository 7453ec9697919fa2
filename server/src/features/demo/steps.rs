//! The steps of the legacy flow (§7.5), each driving the platform through
//! its public routes.

use chrono::{Days, NaiveDate, Utc};
use futures::future::join_all;
use serde_json::{json, Map, Value};

use super::{
    client::CallError,
    run::{Outcome, Run, StepError, StepResult, Trained, Winner, DEMO_ALIAS},
    schemas::{DemoBacktestConfig, DemoStrategy, ScenarioPreset, StepStatus},
};

/// Days held out of training at the end of the data.
pub const HOLDOUT_DAYS: u64 = 14;
/// Lookback of the feature step.
const FEATURE_LOOKBACK: i64 = 60;
/// The default models.
pub const DEFAULT_MODELS: [&str; 3] = ["naive", "seasonal_naive", "moving_average"];
/// The agent step's message.
const AGENT_PROMPT: &str = "List the latest model runs.";

/// Runs the legacy flow's step called `name`.
pub async fn run_step(name: &str, run: &mut Run) -> StepResult {
    match name {
        "precheck" => precheck(run).await,
        "reset" => reset(run).await,
        "seed" => seed(run).await,
        "status" => status(run).await,
        "features" => features(run).await,
        "train" => train(run).await,
        "backtest" => backtest(run).await,
        "register" => register(run).await,
        "verify" => verify(run).await,
        "agent" => agent(run).await,
        "cleanup" => cleanup(run).await,
        other => Ok(Outcome::fail(format!("unknown step {other}"))),
    }
}

async fn precheck(run: &mut Run) -> StepResult {
    let health = run.client.get("/health").await?;
    let status = health["status"].as_str().unwrap_or("unknown");
    let outcome = if status == "ok" {
        StepStatus::Pass
    } else {
        StepStatus::Fail
    };
    Ok(Outcome::new(
        outcome,
        format!("/health -> {status}"),
        json!({}),
    ))
}

async fn reset(run: &mut Run) -> StepResult {
    if !run.request.reset {
        return Ok(Outcome::skip("reset not requested"));
    }
    let body = json!({"scope": "all", "dry_run": false});
    let result = run.client.delete("/seeder/data", Some(&body)).await?;
    let deleted: u64 = result["records_deleted"]
        .as_object()
        .map(|counts| counts.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0);
    Ok(Outcome::new(
        StepStatus::Pass,
        format!("deleted {deleted} rows"),
        json!({"records_deleted": result["records_deleted"]}),
    ))
}

/// `(stores, products, days)` of the seed profile of a preset.
pub fn seed_profile(scenario: ScenarioPreset) -> (i64, i64, u64) {
    match scenario {
        ScenarioPreset::ShowcaseRich => (5, 15, 180),
        _ => (3, 10, 91),
    }
}

async fn seed(run: &mut Run) -> StepResult {
    if run.request.skip_seed {
        return Ok(Outcome::skip("skip_seed=true: using the existing data"));
    }
    let (stores, products, days) = seed_profile(run.request.scenario);
    let end = Utc::now().date_naive();
    let start = end - Days::new(days - 1);
    let scenario = run.request.scenario.as_str();
    let mut body = json!({
        "scenario": scenario, "seed": run.request.seed, "stores": stores,
        "products": products, "start_date": start, "end_date": end,
        "sparsity": 0.0, "dry_run": false,
    });
    let overrides = run
        .request
        .seed_overrides
        .as_ref()
        .filter(|o| !o.is_empty());
    if let Some(overrides) = overrides {
        body["overrides"] = serde_json::to_value(overrides).unwrap_or(Value::Null);
    }
    let result = run.client.post("/seeder/generate", &body).await?;
    let created = &result["records_created"];
    let mut data = json!({"records_created": created, "scenario": scenario});
    if overrides.is_some() {
        data["overrides_applied"] = result["overrides_applied"].clone();
    }
    Ok(Outcome::new(
        StepStatus::Pass,
        format!("seeded {scenario} ({stores} stores x {products} products)"),
        data,
    ))
}

async fn status(run: &mut Run) -> StepResult {
    let status = run.client.get("/seeder/status").await?;
    let date = |key: &str| {
        status[key]
            .as_str()
            .and_then(|d| d.parse::<NaiveDate>().ok())
    };
    let (Some(start), Some(end)) = (date("date_range_start"), date("date_range_end")) else {
        return Ok(Outcome::fail(
            "no sales data: seed the database first (skip_seed=false)",
        ));
    };
    let mut outcome = StepStatus::Pass;
    let mut note = String::new();
    let mut applied = false;
    if let Some(scope) = run.request.user_scope {
        let store = run
            .client
            .get(&format!("/dimensions/stores/{}", scope.store_id))
            .await;
        let product = run
            .client
            .get(&format!("/dimensions/products/{}", scope.product_id))
            .await;
        if store.is_ok() && product.is_ok() {
            run.store_id = Some(scope.store_id);
            run.product_id = Some(scope.product_id);
            note = " (user-selected)".into();
            applied = true;
        } else {
            outcome = StepStatus::Warn;
            note = format!(
                " (user_scope store {} / product {} not found: using the first pair)",
                scope.store_id, scope.product_id
            );
        }
    }
    if !applied {
        let stores = run
            .client
            .get("/dimensions/stores?page=1&page_size=1")
            .await?;
        let products = run
            .client
            .get("/dimensions/products?page=1&page_size=1")
            .await?;
        run.store_id = stores["stores"][0]["id"].as_i64();
        run.product_id = products["products"][0]["id"].as_i64();
        if run.store_id.is_none() || run.product_id.is_none() {
            return Ok(Outcome::fail(
                "no stores or products: seed the database first",
            ));
        }
    }
    run.date_start = Some(start);
    run.date_end = Some(end);
    let (store_id, product_id, _, _) = run.series()?;
    let mut data = json!({
        "store_id": store_id, "product_id": product_id,
        "date_range_start": start, "date_range_end": end,
    });
    if applied {
        data["user_scope_applied"] = json!(true);
    }
    Ok(Outcome::new(
        outcome,
        format!("store {store_id} / product {product_id}, {start}..{end}{note}"),
        data,
    ))
}

async fn features(run: &mut Run) -> StepResult {
    let (store_id, product_id, _, end) = run.series()?;
    let body = json!({
        "store_id": store_id, "product_id": product_id, "cutoff_date": end,
        "lookback_days": FEATURE_LOOKBACK,
        "config": {
            "name": "demo",
            "lag_config": {"lags": [1, 7, 14]},
            "rolling_config": {"windows": [7, 14], "aggregations": ["mean", "std"]},
            "calendar_config": {},
        },
    });
    let result = run.client.post("/featuresets/compute", &body).await?;
    let rows = result["row_count"].as_u64().unwrap_or(0);
    let columns = result["feature_columns"].as_array().map_or(0, Vec::len);
    Ok(Outcome::new(
        StepStatus::Pass,
        format!("{rows} rows x {columns} feature columns"),
        json!({"row_count": rows, "column_count": columns}),
    ))
}

/// The train config of a model type.
pub fn model_config_of(model_type: &str) -> Value {
    match model_type {
        "seasonal_naive" => json!({"model_type": model_type, "season_length": 7}),
        "moving_average" => json!({"model_type": model_type, "window_size": 7}),
        _ => json!({"model_type": model_type}),
    }
}

/// Last training day: the data's end minus the hold-out.
pub fn train_end(end: NaiveDate) -> NaiveDate {
    end - Days::new(HOLDOUT_DAYS)
}

/// Trains `configs` on the focus series in parallel.
pub async fn train_all(
    run: &Run,
    configs: Vec<Value>,
    end: NaiveDate,
) -> Result<Vec<Trained>, StepError> {
    let (store_id, product_id, start, _) = run.series()?;
    let calls = configs.into_iter().map(|config| {
        let body = json!({
            "store_id": store_id, "product_id": product_id,
            "train_start_date": start, "train_end_date": end, "config": config,
        });
        async move {
            let result = run.client.post("/forecasting/train", &body).await?;
            Ok::<_, CallError>(Trained {
                model_type: result["model_type"].as_str().unwrap_or_default().to_owned(),
                config: body["config"].clone(),
                model_path: result["model_path"].as_str().unwrap_or_default().to_owned(),
            })
        }
    });
    let mut trained = Vec::new();
    for result in join_all(calls).await {
        trained.push(result?);
    }
    Ok(trained)
}

async fn train(run: &mut Run) -> StepResult {
    let (_, _, _, end) = run.series()?;
    let types: Vec<String> = match &run.request.train_model_types {
        Some(types) => types.clone(),
        None => DEFAULT_MODELS.iter().map(|t| (*t).to_owned()).collect(),
    };
    for model_type in &types {
        if let Some(flag) = forecastlab_model_taxonomy::lookup(model_type).and_then(|k| k.flag) {
            if !run.state.settings.flag_enabled(flag) {
                return Ok(Outcome::fail(format!(
                    "{model_type} is an opt-in model: set {}=true to train it",
                    flag.to_uppercase()
                )));
            }
        }
    }
    let configs = types.iter().map(|t| model_config_of(t)).collect();
    run.trained = train_all(run, configs, train_end(end)).await?;
    let names: Vec<&str> = run.trained.iter().map(|t| t.model_type.as_str()).collect();
    Ok(Outcome::new(
        StepStatus::Pass,
        format!("trained {}", names.join(", ")),
        json!({"trained": names}),
    ))
}

/// The `split_config` of a backtest request.
pub fn split_config(config: &DemoBacktestConfig) -> Value {
    let strategy = match config.strategy {
        DemoStrategy::Expanding => "expanding",
        DemoStrategy::Sliding => "sliding",
    };
    json!({
        "strategy": strategy, "n_splits": config.n_splits,
        "min_train_size": config.min_train_size, "gap": config.gap,
        "horizon": config.horizon,
    })
}

/// The winner among `(model_type, metrics)`: lowest `metric`, entries
/// without a finite value skipped; ties keep the first.
pub fn pick_winner(scores: &[(String, Value)], metric: &str) -> Option<Winner> {
    let mut best: Option<Winner> = None;
    for (model_type, metrics) in scores {
        let Some(value) = metrics.get(metric).and_then(Value::as_f64) else {
            continue;
        };
        if value.is_finite() && best.as_ref().is_none_or(|b| value < b.value) {
            best = Some(Winner {
                model_type: model_type.clone(),
                value,
                metrics: metrics.clone(),
            });
        }
    }
    best
}

async fn backtest(run: &mut Run) -> StepResult {
    let (store_id, product_id, start, end) = run.series()?;
    let config = run.request.backtest.unwrap_or_default();
    let split = split_config(&config);
    let client = &run.client;
    let calls = run.trained.iter().map(|trained| {
        let body = json!({
            "store_id": store_id, "product_id": product_id,
            "start_date": start, "end_date": end,
            "config": {"split_config": split, "model_config_main": trained.config,
                       "include_baselines": false, "store_fold_details": false},
        });
        let model_type = trained.model_type.clone();
        async move {
            let result = client.post("/backtesting/run", &body).await?;
            Ok::<_, CallError>((
                model_type,
                result["main_model_results"]["aggregated_metrics"].clone(),
            ))
        }
    });
    let mut scores = Vec::new();
    for result in join_all(calls).await {
        scores.push(result?);
    }
    run.backtested = scores.len();
    let metric = config.metric.as_str();
    let per_model: Map<String, Value> = scores.iter().cloned().collect();
    run.winner = pick_winner(&scores, metric);
    let Some(winner) = &run.winner else {
        return Ok(Outcome::new(
            StepStatus::Fail,
            format!("no model has a finite {metric}"),
            json!({"per_model": per_model, "winner": null, "winner_wape": null}),
        ));
    };
    Ok(Outcome::new(
        StepStatus::Pass,
        format!(
            "winner {} ({metric}={:.4})",
            winner.model_type, winner.value
        ),
        json!({"per_model": per_model, "winner": winner.model_type, "winner_wape": winner.value}),
    ))
}

/// Copies an artifact into `<registry root>/demo/<model_type>-<stem>.<ext>`
/// and returns `(uri, sha256, size)`.
pub async fn copy_artifact(
    run: &Run,
    model_type: &str,
    model_path: &str,
) -> Result<(String, String, u64), StepError> {
    let store = &run.state.artifacts;
    let key = store
        .model_key(model_path)
        .map_err(|error| StepError::Other(format!("{error}: {model_path}")))?;
    let name = std::path::Path::new(model_path)
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("model.bin");
    store
        .copy_to_registry_as(&key, format!("demo/{model_type}-{name}"))
        .await
        .map_err(|error| StepError::Other(error.to_string()))
}

/// Registers a `success` run (pending → running → success) and returns
/// its id. `create` is the body of the create call (e.g. with
/// `runtime_info_extras`); `update` is the body of the success PATCH.
pub async fn register_success(
    run: &Run,
    create: Value,
    update: Value,
) -> Result<String, StepError> {
    let run_id = start_run(run, &create).await?;
    finish_run(run, &run_id, update).await?;
    Ok(run_id)
}

/// Creates a registry run from `create` and marks it `running`; returns
/// its id.
async fn start_run(run: &Run, create: &Value) -> Result<String, StepError> {
    let created = run.client.post("/registry/runs", create).await?;
    let run_id = created["run_id"].as_str().unwrap_or_default().to_owned();
    run.client
        .patch(
            &format!("/registry/runs/{run_id}"),
            &json!({"status": "running"}),
        )
        .await?;
    Ok(run_id)
}

/// Marks the running registry run `run_id` `success` with the fields of
/// `update`.
async fn finish_run(run: &Run, run_id: &str, mut update: Value) -> Result<(), StepError> {
    update["status"] = json!("success");
    run.client
        .patch(&format!("/registry/runs/{run_id}"), &update)
        .await?;
    Ok(())
}

/// Points the demo alias at `run_id`.
pub async fn set_alias(run: &Run, run_id: &str) -> Result<(), StepError> {
    let body = json!({"alias_name": DEMO_ALIAS, "run_id": run_id,
                      "description": "Set by the demo pipeline", "actor": "demo-pipeline"});
    run.client.post("/registry/aliases", &body).await?;
    Ok(())
}

/// Legacy `register`: copies the winner's artifact into the registry,
/// registers it as a `success` run and points the demo alias at it.
pub async fn register(run: &mut Run) -> StepResult {
    let (store_id, product_id, start, end) = run.series()?;
    let Some(winner) = run.winner.clone() else {
        return Ok(Outcome::fail("no backtest winner to register"));
    };
    let Some(trained) = run
        .trained
        .iter()
        .find(|t| t.model_type == winner.model_type)
    else {
        return Ok(Outcome::fail("the winner was not trained"));
    };
    let create = json!({
        "model_type": winner.model_type, "model_config": trained.config,
        "data_window_start": start, "data_window_end": train_end(end),
        "store_id": store_id, "product_id": product_id,
    });
    // The copy into the registry does not depend on the run: it proceeds
    // while the run is created and started.
    let (copied, started) = tokio::join!(
        copy_artifact(run, &winner.model_type, &trained.model_path),
        start_run(run, &create)
    );
    let run_id = started?;
    let (uri, hash, size) = match copied {
        Ok(copied) => copied,
        Err(error) => {
            let failed = json!({"status": "failed"});
            let _ = run
                .client
                .patch(&format!("/registry/runs/{run_id}"), &failed)
                .await;
            return Err(error);
        }
    };
    let update = json!({"metrics": winner.metrics, "artifact_uri": uri,
                        "artifact_hash": hash, "artifact_size_bytes": size});
    finish_run(run, &run_id, update).await?;
    set_alias(run, &run_id).await?;
    run.winning_run_id = Some(run_id.clone());
    Ok(Outcome::new(
        StepStatus::Pass,
        format!("registered {run_id} as {DEMO_ALIAS}"),
        json!({"run_id": run_id, "alias": DEMO_ALIAS}),
    ))
}

/// Legacy `verify`: the registered artifact's checksum.
pub async fn verify(run: &mut Run) -> StepResult {
    let Some(run_id) = run.winning_run_id.clone() else {
        return Ok(Outcome::fail("no registered run to verify"));
    };
    let result = run
        .client
        .get(&format!("/registry/runs/{run_id}/verify"))
        .await?;
    let verified = result["verified"].as_bool().unwrap_or(false);
    let status = if verified {
        StepStatus::Pass
    } else {
        StepStatus::Fail
    };
    Ok(Outcome::new(
        status,
        format!("artifact verified={verified}"),
        json!({"verified": verified}),
    ))
}

/// The provider of the default agent model when its key (or Ollama) is
/// configured; `Err(detail)` otherwise.
pub fn agent_provider(run: &Run) -> Result<String, String> {
    let config = run.state.ai.current().models;
    let provider = config.default_model.provider();
    if config.usable(provider) {
        Ok(format!("{provider:?}").to_lowercase())
    } else {
        Err(format!(
            "no API key for the agent model {}: agent step not configured",
            config.default_model
        ))
    }
}

/// Opens an experiment session and sends `message`; `Err(detail)` on any
/// failure (the step then skips).
pub async fn agent_chat(run: &mut Run, message: &str) -> Result<Value, String> {
    let session = run
        .client
        .post("/agents/sessions", &json!({"agent_type": "experiment"}))
        .await
        .map_err(|e| format!("session not created: {e}"))?;
    let session_id = session["session_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    run.agent_session_id = Some(session_id.clone());
    run.client
        .post(
            &format!("/agents/sessions/{session_id}/chat"),
            &json!({"message": message}),
        )
        .await
        .map_err(|e| format!("chat failed: {e}"))
}

async fn agent(run: &mut Run) -> StepResult {
    if let Err(detail) = agent_provider(run) {
        return Ok(Outcome::skip(detail));
    }
    match agent_chat(run, AGENT_PROMPT).await {
        Ok(reply) => {
            let tokens = reply["tokens_used"].as_i64().unwrap_or(0);
            let calls = reply["tool_calls"].as_array().map_or(0, Vec::len);
            Ok(Outcome::new(
                StepStatus::Pass,
                format!("agent answered ({tokens} tokens, {calls} tool calls)"),
                json!({"tokens_used": tokens, "tool_calls_count": calls}),
            ))
        }
        Err(detail) => Ok(Outcome::skip(detail)),
    }
}

/// Closes the agent session, if any: `(closed, warning)`.
pub async fn close_session(run: &mut Run) -> (bool, Option<String>) {
    let Some(session_id) = run.agent_session_id.clone() else {
        return (false, None);
    };
    match run
        .client
        .delete(&format!("/agents/sessions/{session_id}"), None)
        .await
    {
        Ok(_) => {
            run.created
                .insert("agent_session_id".into(), json!(session_id));
            (true, None)
        }
        Err(error) => (
            false,
            Some(format!("session {session_id} not closed: {error}")),
        ),
    }
}

async fn cleanup(run: &mut Run) -> StepResult {
    if run.agent_session_id.is_none() {
        return Ok(Outcome::new(
            StepStatus::Skip,
            "nothing to clean up",
            json!({"agent_session_closed": false, "alias_restored": false,
                   "restored_run_id": null}),
        ));
    }
    let (closed, warning) = close_session(run).await;
    let data = json!({"agent_session_closed": closed, "alias_restored": false,
                      "restored_run_id": null});
    Ok(match warning {
        Some(detail) => Outcome::new(StepStatus::Warn, detail, data),
        None => Outcome::new(StepStatus::Pass, "agent session closed", data),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn winner_is_the_lowest_finite_metric() {
        let scores = vec![
            ("naive".to_owned(), json!({"wape": 0.4, "mae": 1.0})),
            (
                "seasonal_naive".to_owned(),
                json!({"wape": null, "mae": 0.1}),
            ),
            (
                "moving_average".to_owned(),
                json!({"wape": 0.3, "mae": 2.0}),
            ),
        ];
        let winner = pick_winner(&scores, "wape").unwrap();
        assert_eq!(
            (winner.model_type.as_str(), winner.value),
            ("moving_average", 0.3)
        );
        assert_eq!(
            pick_winner(&scores, "mae").unwrap().model_type,
            "seasonal_naive"
        );
        assert!(pick_winner(&scores, "rmse").is_none());
    }

    #[test]
    fn profiles_and_configs() {
        assert_eq!(seed_profile(ScenarioPreset::DemoMinimal), (3, 10, 91));
        assert_eq!(seed_profile(ScenarioPreset::ShowcaseRich), (5, 15, 180));
        assert_eq!(model_config_of("seasonal_naive")["season_length"], 7);
        assert_eq!(model_config_of("moving_average")["window_size"], 7);
        let end = NaiveDate::from_ymd_opt(2024, 3, 31).unwrap();
        assert_eq!(train_end(end).to_string(), "2024-03-17");
        let split = split_config(&DemoBacktestConfig::default());
        assert_eq!(split["horizon"], 14);
        assert_eq!(split["strategy"], "expanding");
    }
}
