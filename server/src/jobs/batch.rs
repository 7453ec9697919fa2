//! The `batch` job: one model trained on many series, one registry run per
//! series (a run holds one series, window and artifact, so every fitted
//! model stays verifiable and aliasable on its own).
//!
//! Every series is trained through the forecasting slice, exactly as
//! `POST /forecasting/train` trains it (target-only and feature-aware models
//! alike, with the same artifact metadata, so predict jobs and
//! `/forecasting/predict` read batch artifacts), on data read for up to
//! [`MAX_SERIES_PER_LOAD`] series at a time (one query per table,
//! [`crate::data::many_series`]; the runs' duplicate check likewise).
//! Trainings run concurrently (each fit on the blocking pool). With
//! `backtest`, one many-series
//! backtest through the backtesting slice scores every series first, and
//! each run's metrics carry its series' aggregated fold metrics.
//!
//! A batch over more series than `JOBS_BATCH_SHARD_SIZE` runs as shard
//! jobs that any worker of any machine claims ([`super::shards`]).
//!
//! A series that cannot be trained (too little data, a bad config) fails
//! on its own run and the batch goes on; an artifact store that stops
//! answering fails the batch (or shard) with a 502
//! `ARTIFACT_STORE_UNAVAILABLE` problem naming the store, and no run is
//! marked `success` without its registry copy.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use forecastlab_core::{frame::SeriesData, taxonomy::InputKind, SeriesKey};
use futures::{stream, StreamExt, TryStreamExt};
use serde_json::{json, Map, Value};
use sqlx::{types::Json, Row};

use super::{
    context::{JobContext, JobFailure},
    shards, train,
};
use crate::{
    data::{
        many_series::{load_many_series_data, MAX_SERIES_PER_LOAD},
        series_data::SideTables,
    },
    db::Db,
    features::{
        backtesting::{
            schemas::{BacktestRequest, MAX_LISTED_SERIES},
            service as backtesting,
        },
        forecasting::{
            feature_aware, model::build_model, schemas::TrainRequest, service as forecasting,
        },
        jobs::params::BatchParams,
        registry::service::PreparedRun,
    },
    problem::Problem,
    state::AppState,
    with_db,
};

const SERIES_KEYS_SQL: &str = "SELECT DISTINCT store_id, product_id FROM sales_daily \
     WHERE date >= $1 AND date <= $2 ORDER BY store_id, product_id";

/// Every series with sales in `[start, end]`, sorted.
async fn series_keys(
    db: &Db,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Vec<SeriesKey>, sqlx::Error> {
    with_db!(db, pool => {
        sqlx::query(SERIES_KEYS_SQL)
            .bind(start)
            .bind(end)
            .fetch(pool)
            .map(|row| {
                let row = row?;
                Ok(SeriesKey {
                    store_id: i64::from(row.try_get::<i32, _>(0)?),
                    product_id: i64::from(row.try_get::<i32, _>(1)?),
                })
            })
            .try_collect()
            .await
    })
}

/// The series of the window that the job's store/product selection keeps.
async fn selected_series(
    state: &AppState,
    params: &BatchParams,
) -> Result<Vec<SeriesKey>, Problem> {
    let (start, end) = (params.start_date, params.end_date);
    let mut keys = series_keys(&state.db, start, end).await?;
    keys.retain(|key| {
        params
            .store_ids
            .as_ref()
            .is_none_or(|ids| ids.contains(&key.store_id))
            && params
                .product_ids
                .as_ref()
                .is_none_or(|ids| ids.contains(&key.product_id))
    });
    if keys.is_empty() {
        return Err(Problem::bad_request(format!(
            "No series with sales between {start} and {end} match the selection"
        )));
    }
    Ok(keys)
}

/// The runs an earlier attempt of batch job `job_id` registered: the
/// successful ones are kept (returned with their result entries), the ones
/// it left open are marked failed.
async fn keep_finished_runs(
    state: &AppState,
    job_id: &str,
) -> Result<Vec<(SeriesKey, Value)>, Problem> {
    type RunRow = (
        String,
        i64,
        i64,
        String,
        Option<Json<Value>>,
        Option<String>,
    );
    const COLUMNS: &str = "SELECT run_id, CAST(store_id AS BIGINT), CAST(product_id AS BIGINT), \
         status, metrics, artifact_uri FROM model_run";
    let rows: Vec<RunRow> = match &state.db {
        Db::Postgres(pool) => {
            sqlx::query_as(&format!("{COLUMNS} WHERE runtime_info->>'job_id' = $1"))
                .bind(job_id)
                .fetch_all(pool)
                .await?
        }
        Db::Sqlite(pool) => {
            sqlx::query_as(&format!(
                "{COLUMNS} WHERE json_extract(runtime_info, '$.job_id') = $1"
            ))
            .bind(job_id)
            .fetch_all(pool)
            .await?
        }
    };
    let mut kept = Vec::new();
    for (run_id, store_id, product_id, status, metrics, artifact_uri) in rows {
        match status.as_str() {
            "success" => {
                let key = SeriesKey {
                    store_id,
                    product_id,
                };
                let artifact_key = artifact_uri
                    .as_deref()
                    .and_then(|uri| uri.rsplit('/').next())
                    .and_then(|name| name.strip_prefix("model_"))
                    .and_then(|name| name.strip_suffix(".flmodel"))
                    .map(str::to_owned);
                kept.push((
                    key,
                    json!({
                        "store_id": store_id,
                        "product_id": product_id,
                        "run_id": run_id,
                        "status": "success",
                        "artifact_key": artifact_key,
                        "metrics": metrics.map_or(Value::Null, |m| m.0),
                    }),
                ));
            }
            "pending" | "running" => {
                let message =
                    "Abandoned: the worker training it stopped; a retry trains the series";
                train::fail_run(state, &run_id, message).await;
            }
            _ => {}
        }
    }
    Ok(kept)
}

/// Backtests every series (main model only, expanding folds) and returns
/// each series' aggregated metrics, or why it could not be backtested.
async fn backtest_all(
    ctx: &JobContext,
    params: &BatchParams,
    keys: &[SeriesKey],
    min_train_size: usize,
) -> Result<HashMap<SeriesKey, Result<Value, String>>, JobFailure> {
    let state = ctx.state();
    let mut outcomes = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(MAX_LISTED_SERIES) {
        let series: Vec<Value> = chunk
            .iter()
            .map(|key| json!({"store_id": key.store_id, "product_id": key.product_id}))
            .collect();
        let request: BacktestRequest = serde_json::from_value(json!({
            "series": series,
            "start_date": params.start_date,
            "end_date": params.end_date,
            "config": {
                "split_config": {
                    "strategy": "expanding",
                    "n_splits": params.n_splits,
                    "min_train_size": min_train_size,
                    "gap": 0,
                    "horizon": params.test_size,
                },
                "model_config_main": params.model().config_value(),
                "include_baselines": false,
                "store_fold_details": false,
            },
        }))
        .map_err(|error| Problem::invalid_field("params", error.to_string(), "value_error"))?;
        let watcher = ctx.clone();
        let hook: backtesting::ProgressHook =
            std::sync::Arc::new(move |_, _| !watcher.is_cancelled());
        let response = match backtesting::run_with_progress(state, request, Some(hook)).await {
            Ok(response) => response,
            Err(_) if ctx.is_cancelled() => return Err(JobFailure::Cancelled),
            // No series of the chunk could be backtested: each is reported
            // on its own run, the models are still trained.
            Err(problem) => {
                for key in chunk {
                    outcomes.insert(*key, Err(problem.detail.clone()));
                }
                continue;
            }
        };
        for result in response.series_results.into_iter().flatten() {
            let key = SeriesKey {
                store_id: result.store_id,
                product_id: result.product_id,
            };
            let metrics = serde_json::to_value(result.main_model_results.aggregated_metrics)
                .map_err(Problem::internal)?;
            outcomes.insert(key, Ok(metrics));
        }
        for skipped in response.skipped_series.into_iter().flatten() {
            let key = SeriesKey {
                store_id: skipped.store_id,
                product_id: skipped.product_id,
            };
            outcomes.insert(key, Err(skipped.reason));
        }
    }
    Ok(outcomes)
}

/// The side tables the batch's model reads, loaded for many series at a
/// time: none for a target-only model (its sales alone), the frame's for a
/// feature-aware one; `None` when the frame selection is invalid (each
/// series' training then reports it).
fn preload_tables(input: InputKind, params: &BatchParams) -> Option<SideTables> {
    match input {
        InputKind::TargetOnly => Some(SideTables::none()),
        InputKind::FeatureAware => {
            let version = u8::try_from(params.feature_frame_version).ok()?;
            feature_aware::training_tables(version, params.feature_groups.as_deref()).ok()
        }
    }
}

/// Runs a batch job (`raw` holds its params as submitted): a shard trains
/// its own series; a batch over more than `JOBS_BATCH_SHARD_SIZE` series is
/// split into shard jobs ([`shards::split`]); any other trains its
/// selection in place.
pub async fn run(ctx: JobContext, params: BatchParams, raw: &Value) -> Result<Value, JobFailure> {
    let started = std::time::Instant::now();
    let state = ctx.state().clone();
    let model_config = params.model().config_value();
    let (registration, forecaster) = build_model(&state, &model_config)?;
    let config = forecaster.config_json();
    let (start, end) = (params.start_date, params.end_date);
    let mut keys = match ctx.shard() {
        Some(series) => series.to_vec(),
        None => {
            let keys = selected_series(&state, &params).await?;
            let shard_size = state.settings.jobs_batch_shard_size;
            if shard_size > 0 && keys.len() > shard_size {
                return Err(shards::split(&ctx, raw, &keys, shard_size).await);
            }
            keys
        }
    };
    ctx.set_total(keys.len());
    ctx.checkpoint()?;
    // A retry (the worker of an earlier attempt died) keeps the series that
    // attempt finished: each series is trained exactly once.
    let mut runs = Vec::new();
    let mut succeeded = 0usize;
    if ctx.owner().attempt > 1 {
        let kept = keep_finished_runs(&state, ctx.job_id()).await?;
        keys.retain(|key| !kept.iter().any(|(done, _)| done == key));
        succeeded = kept.len();
        ctx.add_done(kept.len());
        runs.extend(kept.into_iter().map(|(_, entry)| entry));
    }
    let mut backtests = if params.backtest {
        let floor = match registration.input {
            InputKind::TargetOnly => 1,
            InputKind::FeatureAware => backtesting::FEATURE_AWARE_MIN_TRAIN,
        };
        let min_train_size = state.settings.backtest_default_min_train_size.max(floor);
        backtest_all(&ctx, &params, &keys, min_train_size).await?
    } else {
        HashMap::new()
    };
    ctx.checkpoint()?;

    let concurrency = std::thread::available_parallelism().map_or(2, |n| n.get() * 2);
    let tables = preload_tables(registration.input, &params);
    let extras = train::run_extras(ctx.job_id(), params.feature_frame_version);
    let mut failed = 0usize;
    // A group of series at a time: their data and their runs' duplicate
    // check come from one query per table, not one per series.
    for group in keys.chunks(MAX_SERIES_PER_LOAD) {
        let window = (start, end);
        let prepared =
            train::prepare_runs(&state, registration.name, &config, group, window, &extras).await?;
        let mut loaded: HashMap<SeriesKey, SeriesData> = match tables {
            Some(tables) => load_many_series_data(&state.db, group, start, end, tables)
                .await?
                .into_iter()
                .map(|data| (data.key, data))
                .collect(),
            None => HashMap::new(),
        };
        let series: Vec<(SeriesKey, PreparedRun, Option<SeriesData>)> = group
            .iter()
            .zip(prepared)
            .map(|(key, run)| (*key, run, loaded.remove(key)))
            .collect();
        let mut trainings = stream::iter(series.into_iter().map(|(key, run, data)| {
            let state = state.clone();
            let request = TrainRequest::for_series(
                key,
                (start, end),
                model_config.clone(),
                params.feature_frame_version,
                params.feature_groups.clone(),
            );
            async move {
                let started_at = Utc::now();
                let trained = match data {
                    Some(data) => forecasting::train_loaded(&state, request, data).await,
                    None => forecasting::train(&state, request).await,
                };
                (key, run, started_at, trained)
            }
        }))
        .buffer_unordered(concurrency);

        while let Some((key, run, started_at, trained)) = trainings.next().await {
            ctx.checkpoint()?;
            let mut entry = json!({
                "store_id": key.store_id,
                "product_id": key.product_id,
                "run_id": run.run_id,
            });
            match trained {
                Ok(trained) => {
                    let mut metrics = Map::new();
                    metrics.insert("n_observations".into(), trained.n_observations.into());
                    match backtests.remove(&key) {
                        Some(Ok(Value::Object(values))) => metrics.extend(values),
                        Some(Err(reason)) => entry["backtest_skipped"] = json!(reason),
                        _ => {}
                    }
                    // The run is registered `success` only once its registry
                    // copy is written and hashed; a copy that fails registers
                    // it failed and fails the shard (the store, or the
                    // database, is gone).
                    train::record_trained(
                        &state,
                        &run,
                        started_at,
                        &trained.artifact_key,
                        metrics.clone(),
                    )
                    .await?;
                    succeeded += 1;
                    entry["status"] = json!("success");
                    entry["artifact_key"] = json!(trained.artifact_key);
                    entry["metrics"] = Value::Object(metrics);
                }
                // A store that no longer answers fails the shard (and so its
                // batch) rather than every remaining series one by one.
                Err(problem) => {
                    if let Some(outage) = train::store_outage(&state, &problem).await {
                        train::record_failed(&state, &run, started_at, &outage.detail).await;
                        return Err(outage.into());
                    }
                    train::record_failed(&state, &run, started_at, &problem.detail).await;
                    failed += 1;
                    entry["status"] = json!("failed");
                    entry["error"] = json!(problem.detail);
                }
            }
            runs.push(entry);
            ctx.add_done(1);
        }
    }
    runs.sort_by_key(|entry| {
        (
            entry["store_id"].as_i64().unwrap_or_default(),
            entry["product_id"].as_i64().unwrap_or_default(),
        )
    });
    Ok(json!({
        "model_type": registration.name,
        "series_total": succeeded + failed,
        "series_succeeded": succeeded,
        "series_failed": failed,
        "backtest": params.backtest,
        "runs": runs,
        "duration_ms": started.elapsed().as_secs_f64() * 1000.0,
    }))
}
