//! The job handler abstraction and the standard handlers: train, predict,
//! backtest and batch.

use std::{collections::HashMap, sync::Arc, time::Instant};

use chrono::{Duration as Days, NaiveDate};
use forecastlab_core::{
    artifact::{self, Artifact, ReadError},
    metrics::{self, Metrics},
    taxonomy::InputKind,
    Forecaster, ModelRegistration, PredictRequest, SeriesKey, TrainingData,
};
use futures::future::BoxFuture;
use rayon::prelude::*;
use serde_json::{json, Map, Value};

use super::{
    context::{JobContext, JobFailure},
    train::{self, TrainedArtifact},
};
use crate::{
    data::series::load_many,
    features::{
        backtesting::{schemas::BacktestRequest, service as backtesting},
        forecasting::{
            schemas::{TrainRequest, TrainResponse},
            service as forecasting,
        },
        jobs::schemas::{
            is_hex, parse_params, BacktestParams, BatchParams, JobType, ModelChoice, PredictParams,
            TrainParams,
        },
        registry::{service as registry, storage},
    },
    problem::Problem,
    state::AppState,
};

/// Runs one type of job. Implementations call [`JobContext::checkpoint`]
/// between units of work so cancellation is honoured.
pub trait JobHandler: Send + Sync + std::fmt::Debug {
    /// Executes the job with its stored params; the value is the result.
    fn run(&self, ctx: JobContext, params: Value) -> BoxFuture<'static, Result<Value, JobFailure>>;
}

/// The handler of each job type.
#[derive(Debug, Clone)]
pub struct Handlers(HashMap<JobType, Arc<dyn JobHandler>>);

impl Handlers {
    /// Train, predict, backtest and batch.
    pub fn standard() -> Self {
        let mut map: HashMap<JobType, Arc<dyn JobHandler>> = HashMap::new();
        map.insert(JobType::Train, Arc::new(Train));
        map.insert(JobType::Predict, Arc::new(Predict));
        map.insert(JobType::Backtest, Arc::new(Backtest));
        map.insert(JobType::Batch, Arc::new(Batch));
        Self(map)
    }

    /// Replaces the handler of `job_type`.
    pub fn with(mut self, job_type: JobType, handler: Arc<dyn JobHandler>) -> Self {
        self.0.insert(job_type, handler);
        self
    }

    /// The handler of `job_type`.
    pub fn get(&self, job_type: JobType) -> Option<Arc<dyn JobHandler>> {
        self.0.get(&job_type).cloned()
    }
}

fn elapsed_ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

/// Resolves and builds the model of a job (flags honoured; feature-aware
/// models are refused).
pub fn build_model(
    state: &AppState,
    choice: &ModelChoice,
) -> Result<(&'static ModelRegistration, Box<dyn Forecaster>), Problem> {
    let registration = crate::models::resolve(&state.settings, &choice.model_type)?;
    if !matches!(registration.input, InputKind::TargetOnly) {
        return Err(Problem::bad_request(format!(
            "Model type '{}' needs a feature frame; jobs train target-only models. Use \
             POST /forecasting/train for feature-aware models.",
            choice.model_type
        )));
    }
    let forecaster = (registration.build)(&choice.config_value())?;
    Ok((registration, forecaster))
}

/// `train`: fit one series and register it.
#[derive(Debug, Clone, Copy)]
pub struct Train;

impl JobHandler for Train {
    fn run(&self, ctx: JobContext, params: Value) -> BoxFuture<'static, Result<Value, JobFailure>> {
        Box::pin(async move {
            let params: TrainParams = parse_params(&params)?;
            run_train(ctx, params).await
        })
    }
}

async fn run_train(ctx: JobContext, params: TrainParams) -> Result<Value, JobFailure> {
    let started = Instant::now();
    let state = ctx.state().clone();
    let model_config = params.model().config_value();
    let (registration, forecaster) = forecasting::build_model(&state, &model_config)?;
    let config = forecaster.config_json();
    let key = SeriesKey {
        store_id: params.store_id,
        product_id: params.product_id,
    };
    let (start, end) = (params.start_date, params.end_date);
    ctx.set_total(1);
    let run_id =
        train::resume_or_start_run(&ctx, registration.name, &config, key, start, end).await?;
    let outcome: Result<(TrainResponse, String), JobFailure> = async {
        ctx.checkpoint()?;
        let trained = forecasting::train(
            &state,
            TrainRequest {
                store_id: key.store_id,
                product_id: key.product_id,
                train_start_date: start,
                train_end_date: end,
                config: model_config,
                feature_frame_version: params.feature_frame_version,
                feature_groups: params.feature_groups.clone(),
            },
        )
        .await?;
        ctx.checkpoint()?;
        let mut metrics = Map::new();
        metrics.insert("n_observations".into(), trained.n_observations.into());
        metrics.insert("train_duration_ms".into(), json!(trained.duration_ms));
        let path = std::path::PathBuf::from(&trained.model_path);
        let uri = train::finish_run(&state, &run_id, &path, metrics).await?;
        Ok((trained, uri))
    }
    .await;
    let (trained, uri) = match outcome {
        Ok(done) => done,
        Err(failure) => {
            let message = match &failure {
                JobFailure::Cancelled => "Training cancelled".to_owned(),
                JobFailure::Failed(problem) => problem.detail.clone(),
            };
            if !ctx.is_lost() {
                train::fail_run(&state, &run_id, &message).await;
            }
            return Err(failure);
        }
    };
    ctx.add_done(1);
    Ok(json!({
        "run_id": run_id,
        "artifact_key": trained.artifact_key,
        "model_path": trained.model_path,
        "artifact_uri": uri,
        "model_type": trained.model_type,
        "config_hash": trained.config_hash,
        "n_observations": trained.n_observations,
        "train_start_date": start,
        "train_end_date": end,
        "store_id": key.store_id,
        "product_id": key.product_id,
        "duration_ms": elapsed_ms(started),
    }))
}

/// `predict`: forecast with a trained artifact.
#[derive(Debug, Clone, Copy)]
pub struct Predict;

impl JobHandler for Predict {
    fn run(&self, ctx: JobContext, params: Value) -> BoxFuture<'static, Result<Value, JobFailure>> {
        Box::pin(async move {
            let params: PredictParams = parse_params(&params)?;
            run_predict(ctx, params).await
        })
    }
}

async fn artifact_path(state: &AppState, run_id: &str) -> Result<std::path::PathBuf, Problem> {
    if is_hex(run_id, 12) {
        return Ok(state
            .settings
            .forecast_model_artifacts_dir
            .join(artifact::file_name(run_id)));
    }
    let run = registry::get_run(state, run_id).await?;
    let uri = run
        .artifact_uri
        .ok_or_else(|| Problem::bad_request(format!("Run {run_id} has no associated artifact")))?;
    storage::resolve(&state.settings.registry_artifact_root, &uri)
        .map_err(|error| Problem::bad_request(error.to_string()))
}

async fn run_predict(ctx: JobContext, params: PredictParams) -> Result<Value, JobFailure> {
    let started = Instant::now();
    let state = ctx.state().clone();
    ctx.set_total(1);
    let path = artifact_path(&state, &params.run_id).await?;
    let horizon = usize::try_from(params.horizon).unwrap_or(1);
    let settings = state.settings.clone();
    let run_id = params.run_id.clone();
    let result = tokio::task::spawn_blocking(move || -> Result<Value, Problem> {
        let (artifact, _) = Artifact::read(&path).map_err(|error| match error {
            ReadError::Io(error) if error.kind() == std::io::ErrorKind::NotFound => {
                Problem::not_found(format!("Model artifact not found for run_id {run_id}"))
            }
            ReadError::Io(error) => Problem::internal(error),
            ReadError::Invalid(error) => error.into(),
        })?;
        let model_type = artifact.header.model_type.clone();
        let registration = crate::models::resolve(&settings, &model_type)?;
        if !matches!(registration.input, InputKind::TargetOnly) {
            return Err(Problem::bad_request(format!(
                "Model type '{model_type}' needs future features; forecast it through \
                 /scenarios/simulate"
            )));
        }
        let fitted = (registration.load)(&artifact.payload)?;
        let forecast = fitted.predict(&PredictRequest::horizon(horizon))?;
        let metadata = &artifact.header.metadata;
        let store_id = metadata.get("store_id").and_then(Value::as_i64);
        let product_id = metadata.get("product_id").and_then(Value::as_i64);
        let (Some(store_id), Some(product_id)) = (store_id, product_id) else {
            return Err(Problem::bad_request(
                "The artifact metadata has no store_id / product_id",
            ));
        };
        let anchor = metadata
            .get("train_end_date")
            .and_then(Value::as_str)
            .and_then(|text| text.parse::<NaiveDate>().ok())
            .unwrap_or_else(|| chrono::Utc::now().date_naive());
        let forecasts: Vec<Value> = forecast
            .point
            .iter()
            .enumerate()
            .map(|(step, value)| {
                let bounds = forecast
                    .interval
                    .as_ref()
                    .map(|interval| (interval.lower.get(step), interval.upper.get(step)));
                json!({
                    "date": anchor + Days::days(step as i64 + 1),
                    "forecast": value,
                    "lower_bound": bounds.and_then(|b| b.0),
                    "upper_bound": bounds.and_then(|b| b.1),
                })
            })
            .collect();
        Ok(json!({
            "run_id": run_id,
            "store_id": store_id,
            "product_id": product_id,
            "model_type": model_type,
            "config_hash": artifact.header.config_hash,
            "horizon": horizon,
            "forecasts": forecasts,
        }))
    })
    .await??;
    ctx.add_done(1);
    let mut result = result;
    result["duration_ms"] = json!(elapsed_ms(started));
    Ok(result)
}

/// Expanding-window folds over `n` rows from the core splitter (spec 5.3),
/// as `(train_end, test)` pairs.
pub fn expanding_folds(
    n: usize,
    n_splits: usize,
    min_train: usize,
    gap: usize,
    horizon: usize,
) -> Result<Vec<(usize, std::ops::Range<usize>)>, Problem> {
    let spec = forecastlab_core::backtest::SplitSpec {
        strategy: forecastlab_core::backtest::SplitStrategy::Expanding,
        n_splits,
        min_train_size: min_train,
        gap,
        horizon,
    };
    let folds = forecastlab_core::backtest::split(n, &spec)
        .map_err(|error| Problem::bad_request(error.to_string()))?;
    Ok(folds
        .into_iter()
        .map(|fold| (fold.train.end, fold.test))
        .collect())
}

fn metrics_json(m: &Metrics) -> Value {
    json!({"mae": m.mae, "rmse": m.rmse, "smape": m.smape, "wape": m.wape, "bias": m.bias})
}

/// Backtests `forecaster` on `y` (blocking), checking `ctx` between folds.
fn backtest_series(
    ctx: &JobContext,
    forecaster: &dyn Forecaster,
    y: &[f64],
    folds: &[(usize, std::ops::Range<usize>)],
    seed: u64,
    count_progress: bool,
) -> Result<(Metrics, Vec<Metrics>), JobFailure> {
    let mut per_fold = Vec::with_capacity(folds.len());
    for (train_end, test) in folds {
        ctx.checkpoint()?;
        let fitted = forecaster.fit(&TrainingData::target_only(&y[..*train_end], seed))?;
        let horizon = test.end - (*train_end);
        let forecast = fitted.predict(&PredictRequest::horizon(horizon))?;
        let predictions = &forecast.point[forecast.point.len() - test.len()..];
        per_fold.push(metrics::compute(&y[test.clone()], predictions)?);
        if count_progress {
            ctx.add_done(1);
        }
    }
    Ok((metrics::aggregate(&per_fold), per_fold))
}

/// `backtest`: time-series cross-validation of one model through the
/// backtesting slice.
#[derive(Debug, Clone, Copy)]
pub struct Backtest;

impl JobHandler for Backtest {
    fn run(&self, ctx: JobContext, params: Value) -> BoxFuture<'static, Result<Value, JobFailure>> {
        Box::pin(async move {
            let params: BacktestParams = parse_params(&params)?;
            run_backtest(ctx, params).await
        })
    }
}

async fn run_backtest(ctx: JobContext, params: BacktestParams) -> Result<Value, JobFailure> {
    let started = Instant::now();
    let state = ctx.state().clone();
    ctx.set_total(1);
    ctx.checkpoint()?;
    // The backtesting slice runs the spec's splitter and metrics (and
    // feature-aware main models); the job asks for the main model only.
    let request: BacktestRequest = serde_json::from_value(json!({
        "store_id": params.store_id,
        "product_id": params.product_id,
        "start_date": params.start_date,
        "end_date": params.end_date,
        "config": {
            "split_config": {
                "n_splits": params.n_splits,
                "min_train_size": params.min_train_size,
                "gap": params.gap,
                "horizon": params.test_size,
            },
            "model_config_main": params.model().config_value(),
            "include_baselines": params.include_baselines,
            "store_fold_details": false,
        },
    }))
    .map_err(|error| Problem::invalid_field("params", error.to_string(), "value_error"))?;
    let response = backtesting::run(&state, request).await?;
    ctx.checkpoint()?;
    let response = serde_json::to_value(&response).map_err(Problem::internal)?;
    let main = &response["main_model_results"];
    let fold_metrics: Vec<Value> = main["fold_results"]
        .as_array()
        .map(|folds| folds.iter().map(|fold| fold["metrics"].clone()).collect())
        .unwrap_or_default();
    ctx.add_done(1);
    Ok(json!({
        "backtest_id": response["backtest_id"],
        "model_type": main["model_type"],
        "store_id": params.store_id,
        "product_id": params.product_id,
        "n_splits": fold_metrics.len(),
        "aggregated_metrics": main["aggregated_metrics"],
        "fold_metrics": fold_metrics,
        "comparison_summary": response["comparison_summary"],
        "leakage_check_passed": response["leakage_check_passed"],
        "duration_ms": elapsed_ms(started),
    }))
}

/// `batch`: one model over many series, fitted in parallel, one registry
/// run per series.
#[derive(Debug, Clone, Copy)]
pub struct Batch;

impl JobHandler for Batch {
    fn run(&self, ctx: JobContext, params: Value) -> BoxFuture<'static, Result<Value, JobFailure>> {
        Box::pin(async move {
            let params: BatchParams = parse_params(&params)?;
            run_batch(ctx, params).await
        })
    }
}

/// Series fitted per chunk: progress and cancellation are checked between
/// chunks, fitting inside a chunk runs in parallel.
const BATCH_CHUNK: usize = 64;

struct SeriesFit {
    key: SeriesKey,
    outcome: Result<(TrainedArtifact, Option<Metrics>), String>,
}

async fn run_batch(ctx: JobContext, params: BatchParams) -> Result<Value, JobFailure> {
    let started = Instant::now();
    let state = ctx.state().clone();
    let (registration, forecaster) = build_model(&state, &params.model())?;
    let forecaster: Arc<dyn Forecaster> = Arc::from(forecaster);
    let config = forecaster.config_json();
    let (start, end) = (params.start_date, params.end_date);
    let mut all = load_many(&state.db, None, start, end).await?;
    all.retain(|(key, _)| {
        params
            .store_ids
            .as_ref()
            .is_none_or(|ids| ids.contains(&key.store_id))
            && params
                .product_ids
                .as_ref()
                .is_none_or(|ids| ids.contains(&key.product_id))
    });
    if all.is_empty() {
        return Err(Problem::bad_request(format!(
            "No series with sales between {start} and {end} match the selection"
        ))
        .into());
    }
    ctx.set_total(all.len());
    let backtest = params
        .backtest
        .then_some((params.n_splits as usize, params.test_size as usize));
    let mut runs = Vec::with_capacity(all.len());
    let (mut succeeded, mut failed) = (0usize, 0usize);
    let mut remaining = all.into_iter();
    loop {
        ctx.checkpoint()?;
        let chunk: Vec<_> = remaining.by_ref().take(BATCH_CHUNK).collect();
        if chunk.is_empty() {
            break;
        }
        let task_ctx = ctx.clone();
        let task_forecaster = forecaster.clone();
        let settings = state.settings.clone();
        let fits: Vec<SeriesFit> = tokio::task::spawn_blocking(move || {
            chunk
                .par_iter()
                .map(|(key, series)| {
                    let outcome = fit_one(
                        &task_ctx,
                        &settings,
                        registration,
                        task_forecaster.as_ref(),
                        *key,
                        &series.quantity,
                        (start, end),
                        backtest,
                    );
                    SeriesFit { key: *key, outcome }
                })
                .collect()
        })
        .await?;
        ctx.checkpoint()?;
        for fit in fits {
            let mut extras = Map::new();
            extras.insert("job_id".into(), ctx.job_id().into());
            extras.insert("feature_frame_version".into(), 1.into());
            let run_id = train::start_run(
                &state,
                registration.name,
                &config,
                fit.key,
                start,
                end,
                extras,
            )
            .await?;
            match fit.outcome {
                Ok((trained, backtest_metrics)) => {
                    let mut metrics = Map::new();
                    metrics.insert("n_observations".into(), trained.n_observations.into());
                    if let Some(m) = backtest_metrics {
                        if let Value::Object(values) = metrics_json(&m) {
                            metrics.extend(values);
                        }
                    }
                    train::finish_run(&state, &run_id, &trained.path, metrics.clone()).await?;
                    succeeded += 1;
                    runs.push(json!({
                        "store_id": fit.key.store_id,
                        "product_id": fit.key.product_id,
                        "run_id": run_id,
                        "status": "success",
                        "artifact_key": trained.key,
                        "metrics": metrics,
                    }));
                }
                Err(message) => {
                    train::fail_run(&state, &run_id, &message).await;
                    failed += 1;
                    runs.push(json!({
                        "store_id": fit.key.store_id,
                        "product_id": fit.key.product_id,
                        "run_id": run_id,
                        "status": "failed",
                        "error": message,
                    }));
                }
            }
            ctx.add_done(1);
        }
    }
    Ok(json!({
        "model_type": registration.name,
        "series_total": succeeded + failed,
        "series_succeeded": succeeded,
        "series_failed": failed,
        "backtest": params.backtest,
        "runs": runs,
        "duration_ms": elapsed_ms(started),
    }))
}

#[allow(clippy::too_many_arguments)]
fn fit_one(
    ctx: &JobContext,
    settings: &crate::config::Settings,
    registration: &ModelRegistration,
    forecaster: &dyn Forecaster,
    key: SeriesKey,
    y: &[f64],
    (start, end): (NaiveDate, NaiveDate),
    backtest: Option<(usize, usize)>,
) -> Result<(TrainedArtifact, Option<Metrics>), String> {
    if ctx.is_cancelled() {
        return Err("cancelled".to_owned());
    }
    let backtest_metrics = match backtest {
        Some((n_splits, horizon)) => {
            let min_train = settings.backtest_default_min_train_size.max(1);
            let folds = expanding_folds(y.len(), n_splits, min_train, 0, horizon)
                .map_err(|problem| problem.detail.clone())?;
            let (aggregated, _) = backtest_series(
                ctx,
                forecaster,
                y,
                &folds,
                settings.forecast_random_seed,
                false,
            )
            .map_err(|failure| match failure {
                JobFailure::Cancelled => "cancelled".to_owned(),
                JobFailure::Failed(problem) => problem.detail.clone(),
            })?;
            Some(aggregated)
        }
        None => None,
    };
    let trained = train::fit_to_artifact(settings, registration, forecaster, key, y, start, end)
        .map_err(|problem| problem.detail.clone())?;
    Ok((trained, backtest_metrics))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expanding_folds_follow_the_splitter() {
        // n=100, 5 splits, min_train 30, gap 0, horizon 14:
        // step = (100-30-0-14)/4 = 14 → train ends 30,44,58,72,86.
        let folds = expanding_folds(100, 5, 30, 0, 14).unwrap();
        assert_eq!(folds.len(), 5);
        assert_eq!(folds[0], (30, 30..44));
        assert_eq!(folds[4], (86, 86..100));
        // Too short.
        assert!(expanding_folds(40, 5, 30, 0, 14).is_err());
        // Reduced fold count: (50-30)/14 = 1.
        let folds = expanding_folds(50, 5, 30, 0, 14).unwrap();
        assert_eq!(folds, vec![(30, 30..44)]);
        // Gap rows belong to neither set.
        let folds = expanding_folds(100, 2, 30, 3, 10).unwrap();
        assert_eq!(folds[0], (30, 33..43));
    }
}
