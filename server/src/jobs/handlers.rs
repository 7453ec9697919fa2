//! The job handler abstraction and the standard handlers: train, predict,
//! backtest, batch and seed.

use std::{collections::HashMap, sync::Arc, time::Instant};

use forecastlab_core::artifact;
use futures::future::BoxFuture;
use serde_json::{json, Map, Value};

use super::{
    batch,
    context::{JobContext, JobFailure},
    train,
};
use crate::{
    features::{
        backtesting::{schemas::BacktestRequest, service as backtesting},
        forecasting::{
            model::build_model,
            schemas::{TrainRequest, TrainResponse},
            service as forecasting,
            stored::{load_model_from, ArtifactSource},
        },
        jobs::{
            params::{
                is_hex, parse_params, BacktestParams, BatchParams, PredictParams, TrainParams,
            },
            schemas::JobType,
        },
        registry::service as registry,
        seeder::{job as seeder_job, schemas::GenerateParams},
    },
    problem::Problem,
    seeder::ProgressFn,
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
    /// Train, predict, backtest, batch and seed.
    pub fn standard() -> Self {
        let mut map: HashMap<JobType, Arc<dyn JobHandler>> = HashMap::new();
        map.insert(JobType::Train, Arc::new(Train));
        map.insert(JobType::Predict, Arc::new(Predict));
        map.insert(JobType::Backtest, Arc::new(Backtest));
        map.insert(JobType::Batch, Arc::new(Batch));
        map.insert(JobType::Seed, Arc::new(Seed));
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
    let (registration, forecaster) = build_model(&state, &model_config)?;
    let config = forecaster.config_json();
    // Submission stored ids: resolving them needs no lookup.
    let key = params.names().resolve(&state.db, "params.").await?;
    let (start, end) = (params.start_date, params.end_date);
    ctx.set_total(1);
    let run_id = train::resume_or_start_run(
        &ctx,
        registration.name,
        &config,
        key,
        start,
        end,
        params.feature_frame_version,
    )
    .await?;
    let outcome: Result<(TrainResponse, String), JobFailure> = async {
        ctx.checkpoint()?;
        let trained = forecasting::train(
            &state,
            TrainRequest::for_series(
                key,
                (start, end),
                model_config,
                params.feature_frame_version,
                params.feature_groups.clone(),
            ),
        )
        .await?;
        ctx.checkpoint()?;
        let mut metrics = Map::new();
        metrics.insert("n_observations".into(), trained.n_observations.into());
        metrics.insert("train_duration_ms".into(), json!(trained.duration_ms));
        let uri = train::finish_run(&state, &run_id, &trained.artifact_key, metrics).await?;
        Ok((trained, uri))
    }
    .await;
    let (trained, uri) = match outcome {
        Ok(done) => done,
        Err(failure) => {
            let failure = match failure {
                JobFailure::Failed(problem) => JobFailure::Failed(
                    train::store_outage(&state, &problem)
                        .await
                        .unwrap_or(problem),
                ),
                other => other,
            };
            let message = match &failure {
                JobFailure::Cancelled | JobFailure::Deferred => "Training cancelled".to_owned(),
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

/// Where the artifact of a predict job lies: a 12-hex artifact key names a
/// model artifact, a registry run id the run's registry copy. Returns the
/// source and the artifact key.
pub(crate) async fn artifact_location(
    state: &AppState,
    run_id: &str,
) -> Result<(ArtifactSource, String), Problem> {
    if is_hex(run_id, 12) {
        return Ok((ArtifactSource::Model(run_id.to_owned()), run_id.to_owned()));
    }
    let run = registry::get_run(state, run_id).await?;
    let uri = run
        .artifact_uri
        .ok_or_else(|| Problem::bad_request(format!("Run {run_id} has no associated artifact")))?;
    let key = std::path::Path::new(&uri)
        .file_stem()
        .and_then(|stem| stem.to_str())
        .and_then(|stem| stem.strip_prefix("model_"))
        .filter(|key| artifact::is_key(key))
        .unwrap_or(&run_id[..12])
        .to_owned();
    Ok((ArtifactSource::Registry(uri), key))
}

/// Forecasts through the forecasting slice, so every model (target-only or
/// feature-aware) predicts exactly as `POST /forecasting/predict` does for
/// the series named in the artifact.
async fn run_predict(ctx: JobContext, params: PredictParams) -> Result<Value, JobFailure> {
    let state = ctx.state().clone();
    ctx.set_total(1);
    let (source, key) = artifact_location(&state, &params.run_id).await?;
    let loaded = load_model_from(&state, source, key, &params.run_id).await?;
    ctx.checkpoint()?;
    let horizon = usize::try_from(params.horizon).unwrap_or(1);
    let response = forecasting::forecast_loaded(
        &state,
        loaded,
        horizon,
        params.interval_level,
        params.strategy,
    )
    .await?;
    ctx.add_done(1);
    let mut result = serde_json::to_value(&response).map_err(Problem::internal)?;
    result["run_id"] = json!(params.run_id);
    Ok(result)
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
    // feature-aware main models); the job keeps each fold's dates, actuals
    // and predictions in its `report`.
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
            "store_fold_details": true,
        },
    }))
    .map_err(|error| Problem::invalid_field("params", error.to_string(), "value_error"))?;
    let response = backtesting::run(&state, request).await?;
    ctx.checkpoint()?;
    let report = serde_json::to_value(&response).map_err(Problem::internal)?;
    let main = &report["main_model_results"];
    let fold_metrics: Vec<Value> = main["fold_results"]
        .as_array()
        .map(|folds| folds.iter().map(|fold| fold["metrics"].clone()).collect())
        .unwrap_or_default();
    ctx.add_done(1);
    Ok(json!({
        "backtest_id": report["backtest_id"],
        "model_type": main["model_type"],
        "store_id": report["store_id"],
        "product_id": report["product_id"],
        "n_splits": fold_metrics.len(),
        "aggregated_metrics": main["aggregated_metrics"],
        "fold_metrics": fold_metrics,
        "comparison_summary": report["comparison_summary"],
        "leakage_check_passed": report["leakage_check_passed"],
        "duration_ms": elapsed_ms(started),
        "report": &report,
    }))
}

/// `batch`: one model over many series, fitted in parallel, one registry
/// run per series.
#[derive(Debug, Clone, Copy)]
pub struct Batch;

impl JobHandler for Batch {
    fn run(&self, ctx: JobContext, params: Value) -> BoxFuture<'static, Result<Value, JobFailure>> {
        Box::pin(async move {
            let parsed: BatchParams = parse_params(&params)?;
            batch::run(ctx, parsed, &params).await
        })
    }
}

/// `seed`: a seeder generation in the background. The data set commits as a
/// whole, so a running seed job finishes (or rolls back on error) rather
/// than stopping half-way; cancelling it takes effect while it is pending.
#[derive(Debug, Clone, Copy)]
pub struct Seed;

impl JobHandler for Seed {
    fn run(&self, ctx: JobContext, params: Value) -> BoxFuture<'static, Result<Value, JobFailure>> {
        Box::pin(async move {
            let params: GenerateParams = parse_params(&params)?;
            let progress_ctx = ctx.clone();
            let progress: ProgressFn = Arc::new(move |done, total| {
                progress_ctx.set_total(total);
                progress_ctx.set_done(done);
            });
            let result = seeder_job::run(ctx.state(), &params, progress).await?;
            Ok(serde_json::to_value(result).map_err(Problem::internal)?)
        })
    }
}
