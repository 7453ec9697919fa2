//! The `showcase_rich` flow (§7.6): 24 steps in 10 phases. Steps shared
//! with the legacy flow (precheck … features, train) come from
//! [`super::steps`]; the knowledge and HITL steps live in
//! [`super::knowledge`] and [`super::hitl`].

use std::time::{Duration, Instant};

use chrono::Days;
use futures::future::join_all;
use serde_json::{json, Map, Value};

use super::{
    client::CallError,
    run::{Outcome, Run, StepError, StepResult, DEMO_ALIAS},
    schemas::StepStatus,
    steps::{self, model_config_of, pick_winner, register_success, set_alias, train_end},
};

/// The showcase flow: 24 steps, 10 phases.
pub const SHOWCASE_FLOW: [(&str, &str); 24] = [
    ("data", "precheck"),
    ("data", "reset"),
    ("data", "seed"),
    ("data", "status"),
    ("data", "features"),
    ("data", "phase2_enrichment"),
    ("data", "historical_backfill"),
    ("modeling", "train"),
    ("modeling", "v2_train"),
    ("decision", "backtest"),
    ("decision", "register"),
    ("decision", "champion_compat_compare"),
    ("decision", "stale_alias_trigger"),
    ("decision", "safer_promote_flow"),
    ("portfolio", "batch_preset"),
    ("planning", "scenario_simulate_and_save"),
    ("planning", "multi_plan_compare"),
    ("knowledge", "embedding_provider_probe"),
    ("knowledge", "rag_index_subset"),
    ("knowledge", "rag_retrieve_probe"),
    ("verify", "verify"),
    ("agents", "agent_hitl_flow"),
    ("ops", "ops_snapshot"),
    ("cleanup", "cleanup"),
];

/// Steps whose showcase behaviour differs from (or is absent in) the
/// legacy flow.
pub const OWN_STEPS: [&str; 18] = [
    "phase2_enrichment",
    "historical_backfill",
    "v2_train",
    "backtest",
    "register",
    "champion_compat_compare",
    "stale_alias_trigger",
    "safer_promote_flow",
    "batch_preset",
    "scenario_simulate_and_save",
    "multi_plan_compare",
    "embedding_provider_probe",
    "rag_index_subset",
    "rag_retrieve_probe",
    "verify",
    "agent_hitl_flow",
    "ops_snapshot",
    "cleanup",
];

/// Placeholder artifact of the registry-only runs.
const PLACEHOLDER_URI: &str = "demo/stale-alias-placeholder.joblib";
/// Batch poll interval: from 10 ms, growing by 10 ms per poll up to every
/// 100 ms. A job finished by this process's workers wakes the poll at once
/// ([`AppState::job_finished`](crate::state::AppState)); the timer covers
/// jobs finished by workers elsewhere.
const BATCH_POLL_STEP: Duration = Duration::from_millis(10);
const BATCH_POLL_MAX: Duration = Duration::from_millis(100);
/// Batch time limit.
const BATCH_TIMEOUT: Duration = Duration::from_secs(90);

/// Runs the showcase step `name`.
pub async fn run_step(name: &str, run: &mut Run) -> StepResult {
    match name {
        "phase2_enrichment" => phase2(run).await,
        "historical_backfill" => backfill(run).await,
        "v2_train" => v2_train(run).await,
        "backtest" => backtest(run).await,
        "register" => register(run).await,
        "champion_compat_compare" => compat_compare(run).await,
        "stale_alias_trigger" => stale_alias(run).await,
        "safer_promote_flow" => safer_promote(run).await,
        "batch_preset" => batch(run).await,
        "scenario_simulate_and_save" => super::planning::simulate_and_save(run).await,
        "multi_plan_compare" => super::planning::multi_plan_compare(run).await,
        "embedding_provider_probe" => super::knowledge::probe(run).await,
        "rag_index_subset" => super::knowledge::index(run).await,
        "rag_retrieve_probe" => super::knowledge::retrieve(run).await,
        "verify" => verify(run).await,
        "agent_hitl_flow" => super::hitl::agent_hitl_flow(run).await,
        "ops_snapshot" => ops_snapshot(run).await,
        "cleanup" => cleanup(run).await,
        other => Ok(Outcome::fail(format!("unknown step {other}"))),
    }
}

async fn phase2(run: &mut Run) -> StepResult {
    let result = run
        .client
        .post(
            "/seeder/phase2-enrichment",
            &json!({"seed": run.request.seed}),
        )
        .await?;
    Ok(Outcome::new(
        StepStatus::Pass,
        "phase-2 enrichment written",
        json!({"records_created": result["records_created"]}),
    ))
}

async fn backfill(run: &mut Run) -> StepResult {
    let (store_id, product_id, start, end) = run.series()?;
    let days = (end - start).num_days() + 1;
    if days < 3 * 15 + 30 {
        return Ok(Outcome::skip(format!(
            "{days} days of data: too short to backfill"
        )));
    }
    let cutoffs: Vec<_> = (1..=3u64).map(|k| end - Days::new(14 * k)).collect();
    let models = ["naive", "seasonal_naive"];
    let mut jobs = Vec::new();
    for cutoff in &cutoffs {
        for model in models {
            jobs.push((*cutoff, model_config_of(model)));
        }
    }
    let client = &run.client;
    let trained = join_all(jobs.iter().map(|(cutoff, config)| {
        let body = json!({"store_id": store_id, "product_id": product_id,
                          "train_start_date": start, "train_end_date": cutoff, "config": config});
        async move { client.post("/forecasting/train", &body).await }
    }))
    .await;
    let mut created = 0;
    for ((cutoff, config), result) in jobs.iter().zip(trained) {
        let result = result?;
        let create = json!({"model_type": config["model_type"], "model_config": config,
                            "data_window_start": start, "data_window_end": cutoff,
                            "store_id": store_id, "product_id": product_id});
        let update = json!({"metrics": {}, "artifact_uri": result["model_path"]});
        match register_success(run, create, update).await {
            Ok(_) => created += 1,
            // The duplicate policy refused it: already registered.
            Err(StepError::Call(CallError::Http { status: 409, .. })) => {}
            Err(error) => return Err(error),
        }
    }
    let status = if created > 0 {
        StepStatus::Pass
    } else {
        StepStatus::Warn
    };
    Ok(Outcome::new(
        status,
        format!("{created} historical runs registered"),
        json!({"runs_created": created, "cutoffs": cutoffs, "models": models}),
    ))
}

async fn v2_train(run: &mut Run) -> StepResult {
    let (store_id, product_id, start, end) = run.series()?;
    let body = json!({"store_id": store_id, "product_id": product_id,
                      "train_start_date": start, "train_end_date": train_end(end),
                      "config": {"model_type": "prophet_like"}, "feature_frame_version": 2});
    let trained = run.client.post("/forecasting/train", &body).await?;
    let model_path = trained["model_path"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if !std::path::Path::new(&model_path).is_file() {
        return Ok(Outcome::fail(format!(
            "the V2 model file {model_path} does not exist"
        )));
    }
    let create = json!({"model_type": "prophet_like", "model_config": body["config"],
                        "data_window_start": start, "data_window_end": train_end(end),
                        "store_id": store_id, "product_id": product_id,
                        "runtime_info_extras": {"feature_frame_version": 2}});
    let update = json!({"metrics": {}, "artifact_uri": model_path});
    let run_id = register_success(run, create, update).await?;
    let registered = run.client.get(&format!("/registry/runs/{run_id}")).await?;
    let mut groups: Vec<String> = registered["feature_groups"]
        .as_object()
        .map(|g| g.keys().cloned().collect())
        .unwrap_or_default();
    groups.sort();
    let columns: usize = registered["feature_groups"].as_object().map_or(0, |g| {
        g.values().filter_map(Value::as_array).map(Vec::len).sum()
    });
    run.v2_run_id = Some(run_id.clone());
    run.v2_model_path = Some(model_path.clone());
    Ok(Outcome::new(
        StepStatus::Pass,
        format!("V2 prophet_like registered as {run_id}"),
        json!({"v2_run_id": run_id, "feature_frame_version": 2, "model_type": "prophet_like",
               "feature_columns_count": columns, "feature_groups": groups,
               "artifact_uri_full": model_path}),
    ))
}

async fn backtest(run: &mut Run) -> StepResult {
    let (store_id, product_id, start, end) = run.series()?;
    let config = run.request.backtest.unwrap_or_default();
    let body = json!({
        "store_id": store_id, "product_id": product_id, "start_date": start, "end_date": end,
        "config": {"split_config": steps::split_config(&config),
                   "model_config_main": {"model_type": "prophet_like"},
                   "include_baselines": true, "store_fold_details": false},
    });
    let result = run.client.post("/backtesting/run", &body).await?;
    let main = &result["main_model_results"];
    let mut scores = vec![(
        main["model_type"]
            .as_str()
            .unwrap_or("prophet_like")
            .to_owned(),
        main["aggregated_metrics"].clone(),
    )];
    for baseline in result["baseline_results"].as_array().into_iter().flatten() {
        let name = baseline["model_type"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        scores.push((name, baseline["aggregated_metrics"].clone()));
    }
    run.backtested = scores.len();
    let metric = config.metric.as_str();
    run.winner = pick_winner(&scores, metric);
    let per_model: Map<String, Value> = scores.into_iter().collect();
    let bucketed = main["bucketed_aggregated_metrics"].clone();
    let Some(winner) = &run.winner else {
        return Ok(Outcome::new(
            StepStatus::Fail,
            format!("no model has a finite {metric}"),
            json!({"per_model": per_model, "winner": null, "winner_wape": null,
                   "bucketed_aggregated_metrics": bucketed}),
        ));
    };
    Ok(Outcome::new(
        StepStatus::Pass,
        format!(
            "winner {} ({metric}={:.4})",
            winner.model_type, winner.value
        ),
        json!({"per_model": per_model, "winner": winner.model_type,
               "winner_wape": winner.value, "bucketed_aggregated_metrics": bucketed}),
    ))
}

async fn register(run: &mut Run) -> StepResult {
    let v2_wins = run
        .winner
        .as_ref()
        .is_some_and(|w| w.model_type == "prophet_like");
    match (v2_wins, run.v2_run_id.clone()) {
        (true, Some(v2)) => {
            set_alias(run, &v2).await?;
            run.winning_run_id = Some(v2.clone());
            Ok(Outcome::new(
                StepStatus::Pass,
                format!("the V2 run {v2} won: aliased as {DEMO_ALIAS}"),
                json!({"run_id": v2, "alias": DEMO_ALIAS, "winner": "v2"}),
            ))
        }
        _ => steps::register(run).await,
    }
}

/// Normalized feature frame version (a missing one is 1).
fn version(run: &Value) -> i64 {
    run["feature_frame_version"].as_i64().unwrap_or(1)
}

async fn compat_compare(run: &mut Run) -> StepResult {
    let Some(v2) = run.v2_run_id.clone() else {
        return Ok(Outcome::skip("no V2 run"));
    };
    let (store_id, product_id, _, _) = run.series()?;
    let runs = run
        .client
        .get(&format!(
            "/registry/runs?store_id={store_id}&product_id={product_id}&status=success&page_size=100"
        ))
        .await?;
    let v1 = runs["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| version(r) == 1 && r["run_id"] != v2.as_str())
        .and_then(|r| r["run_id"].as_str().map(str::to_owned));
    let Some(v1) = v1 else {
        return Ok(Outcome::skip("no V1 champion on this series"));
    };
    let diff = run
        .client
        .get(&format!("/registry/compare/{v1}/{v2}"))
        .await?;
    let compatible = version(&diff["run_a"]) == version(&diff["run_b"]);
    let reason = (!compatible).then_some("feature_frame_version_mismatch");
    Ok(Outcome::new(
        StepStatus::Pass,
        format!("{v1} vs {v2}: compatible={compatible}"),
        json!({"v1_run_id": v1, "v2_run_id": v2, "compatible": compatible, "reason": reason}),
    ))
}

/// Registers a placeholder `success` run (no real artifact).
async fn placeholder_run(
    run: &Run,
    config: Value,
    version: i64,
    wape: f64,
) -> Result<String, StepError> {
    let (store_id, product_id, start, end) = run.series()?;
    let create = json!({"model_type": config["model_type"], "model_config": config,
                        "data_window_start": start, "data_window_end": train_end(end),
                        "store_id": store_id, "product_id": product_id,
                        "runtime_info_extras": {"feature_frame_version": version}});
    let update = json!({"metrics": {"wape": wape}, "artifact_uri": PLACEHOLDER_URI,
                        "artifact_hash": "0".repeat(64), "artifact_size_bytes": 1});
    register_success(run, create, update).await
}

async fn stale_alias(run: &mut Run) -> StepResult {
    let run_id = placeholder_run(run, json!({"model_type": "prophet_like"}), 3, 999.0).await?;
    run.created
        .insert("stale_alias_run_id".into(), json!(run_id));
    let summary = run.client.get("/ops/summary").await?;
    let flagged = summary["stale_aliases"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|a| {
            a["alias_name"] == DEMO_ALIAS && a["stale_reason"] == "feature_frame_version_mismatch"
        });
    let data = json!({"stale_alias_run_id": run_id,
                      "stale_aliases_count": summary["stale_aliases_count"]});
    Ok(if flagged {
        Outcome::new(
            StepStatus::Pass,
            format!("{DEMO_ALIAS} is stale: feature_frame_version_mismatch"),
            data,
        )
    } else {
        Outcome::new(
            StepStatus::Fail,
            format!("/ops/summary does not flag {DEMO_ALIAS} as feature_frame_version_mismatch"),
            data,
        )
    })
}

async fn safer_promote(run: &mut Run) -> StepResult {
    let alias = run
        .client
        .get(&format!("/registry/aliases/{DEMO_ALIAS}"))
        .await?;
    let previous = alias["run_id"].as_str().unwrap_or_default().to_owned();
    run.alias_restore = Some(previous.clone());
    let config = json!({"model_type": "seasonal_naive", "season_length": 14});
    let promoted = placeholder_run(run, config, 1, 99.0).await?;
    set_alias(run, &promoted).await?;
    Ok(Outcome::new(
        StepStatus::Pass,
        format!("{DEMO_ALIAS} moved {previous} -> {promoted} (restored at cleanup)"),
        json!({"previous_run_id": previous, "promoted_run_id": promoted}),
    ))
}

async fn batch(run: &mut Run) -> StepResult {
    let (_, _, start, end) = run.series()?;
    let stores = run
        .client
        .get("/dimensions/stores?page=1&page_size=3")
        .await?;
    let products = run
        .client
        .get("/dimensions/products?page=1&page_size=2")
        .await?;
    let ids = |list: &Value, key: &str| -> Vec<i64> {
        list[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["id"].as_i64())
            .collect()
    };
    let (store_ids, product_ids) = (ids(&stores, "stores"), ids(&products, "products"));
    if store_ids.is_empty() || product_ids.is_empty() {
        return Ok(Outcome::skip("no stores or products for the portfolio"));
    }
    let mut job_ids = Vec::new();
    for model in steps::DEFAULT_MODELS {
        let mut params = json!({"model_type": model, "start_date": start,
                                "end_date": train_end(end), "store_ids": store_ids,
                                "product_ids": product_ids});
        if model == "seasonal_naive" {
            params["season_length"] = json!(7);
        }
        let job = run
            .client
            .post("/jobs", &json!({"job_type": "batch", "params": params}))
            .await?;
        job_ids.push(job["job_id"].as_str().unwrap_or_default().to_owned());
    }
    run.created.insert("batch_id".into(), json!(job_ids[0]));
    run.job_ids.extend(job_ids.iter().cloned());
    let started = Instant::now();
    let mut pause = BATCH_POLL_STEP;
    let finished_here = run.state.job_finished.clone();
    let jobs = loop {
        // Registered before the poll, so a job finishing during it is not
        // missed.
        let woken = finished_here.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let mut jobs = Vec::new();
        for id in &job_ids {
            jobs.push(run.client.get(&format!("/jobs/{id}")).await?);
        }
        let done = jobs.iter().all(is_terminal);
        if done || started.elapsed() >= BATCH_TIMEOUT {
            break jobs;
        }
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = woken => {}
        }
        pause = (pause + BATCH_POLL_STEP).min(BATCH_POLL_MAX);
    };
    for job in &jobs {
        record_job_lifetime(run, job);
    }
    let statuses: Vec<String> = jobs
        .iter()
        .map(|job| job["status"].as_str().unwrap_or("unknown").to_owned())
        .collect();
    let completed = statuses.iter().filter(|s| *s == "completed").count();
    let terminal = statuses
        .iter()
        .filter(|s| matches!(s.as_str(), "completed" | "failed" | "cancelled"))
        .count();
    let (status, verdict) = if terminal < statuses.len() {
        (StepStatus::Warn, "timed out")
    } else if completed == statuses.len() {
        (StepStatus::Pass, "completed")
    } else if completed > 0 {
        (StepStatus::Warn, "partial")
    } else {
        (StepStatus::Fail, "failed")
    };
    Ok(Outcome::new(
        status,
        format!(
            "batch over {} series x 3 models: {verdict}",
            store_ids.len() * product_ids.len()
        ),
        json!({"job_ids": job_ids, "statuses": statuses, "store_ids": store_ids,
               "product_ids": product_ids, "outcome": verdict}),
    ))
}

async fn verify(run: &mut Run) -> StepResult {
    if run.winning_run_id.is_some() && run.winning_run_id == run.v2_run_id {
        return Ok(Outcome::skip(
            "the V2 run won: its artifact is not a registry copy",
        ));
    }
    steps::verify(run).await
}

async fn ops_snapshot(run: &mut Run) -> StepResult {
    let summary = run.client.get("/ops/summary").await.ok();
    let candidates = run
        .client
        .get("/ops/retraining-candidates?limit=5")
        .await
        .ok();
    let health = run.client.get("/ops/model-health?limit=5").await.ok();
    let any = summary.is_some() || candidates.is_some() || health.is_some();
    let field =
        |value: &Option<Value>, key: &str| value.as_ref().map_or(Value::Null, |v| v[key].clone());
    let data = json!({
        "stale_aliases_count": field(&summary, "stale_aliases_count"),
        "retraining_candidates_count": field(&candidates, "total"),
        "total_runs": field(&summary, "total_runs"),
        "total_aliases": field(&summary, "total_aliases"),
        "degrading_health_count": field(&health, "degrading_count"),
    });
    Ok(if any {
        Outcome::new(StepStatus::Pass, "ops snapshot taken", data)
    } else {
        Outcome::new(StepStatus::Warn, "no ops route answered", data)
    })
}

async fn cleanup(run: &mut Run) -> StepResult {
    let mut warnings = Vec::new();
    let mut restored = false;
    if let Some(previous) = run.alias_restore.clone() {
        match set_alias(run, &previous).await {
            Ok(()) => restored = true,
            Err(error) => warnings.push(format!("alias not restored: {error}")),
        }
    }
    let (closed, warning) = steps::close_session(run).await;
    warnings.extend(warning);
    let data = json!({"agent_session_closed": closed, "alias_restored": restored,
                      "restored_run_id": run.alias_restore.as_ref().filter(|_| restored)});
    Ok(if !warnings.is_empty() {
        Outcome::new(StepStatus::Warn, warnings.join("; "), data)
    } else if restored || closed {
        Outcome::new(StepStatus::Pass, "alias restored, session closed", data)
    } else {
        Outcome::new(StepStatus::Skip, "nothing to clean up", data)
    })
}

/// Whether a job document is in a terminal status.
fn is_terminal(job: &Value) -> bool {
    matches!(
        job["status"].as_str(),
        Some("completed" | "failed" | "cancelled")
    )
}

/// Counts a finished job's lifetime (queued to completed, from its own
/// timestamps) as platform work, so that waiting for it is not taken for
/// the pipeline's overhead.
fn record_job_lifetime(run: &Run, job: &Value) {
    let stamp = |key: &str| {
        job[key]
            .as_str()
            .and_then(|text| chrono::DateTime::parse_from_rfc3339(text).ok())
            .map(|at| at.with_timezone(&chrono::Utc))
    };
    let (Some(created), Some(completed)) = (stamp("created_at"), stamp("completed_at")) else {
        return;
    };
    let (now, now_utc) = (Instant::now(), chrono::Utc::now());
    let ago = |at: chrono::DateTime<chrono::Utc>| (now_utc - at).to_std().unwrap_or_default();
    if let (Some(start), Some(end)) = (
        now.checked_sub(ago(created)),
        now.checked_sub(ago(completed)),
    ) {
        run.client.record_platform_work(start, end);
    }
}
