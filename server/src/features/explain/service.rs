//! Explanations: find or fit the model, ask it to explain one step
//! ([`forecastlab_core::FittedModel::explain`] — every model answers for
//! itself, so new models explain without this slice naming them), add the
//! series' context (reason codes, caveats, summary) and store the result.

use chrono::{Days, NaiveDate, Utc};
use forecastlab_core::{
    explain::{Confidence, Explanation},
    frame::{self, MultiStepStrategy},
    model_config,
    taxonomy::InputKind,
    CoreError, FeatureMatrix, FittedModel, PredictRequest, SeriesKey, TrainingData,
};
use serde_json::Value;

use super::{
    compose, repo,
    schemas::{ExplainRequest, ForecastExplanation},
};
use crate::{
    data::series::load_series,
    extract::validate,
    features::{
        forecasting::{
            feature_aware::load_future_inputs,
            model::model_problem,
            stored::{load_model_from, LoadedModel},
        },
        jobs::{schemas::JobStatus, schemas::JobType, service as jobs},
        registry::service as registry,
        scenarios::simulate::feature_metadata,
    },
    jobs::handlers::artifact_location,
    models,
    problem::Problem,
    state::AppState,
};

/// Tolerance of the additivity check (contributions + base vs prediction).
pub const ADDITIVITY_TOLERANCE: f64 = 1e-6;

/// What an explanation is about, besides the model's own account.
#[derive(Debug)]
struct Subject {
    key: SeriesKey,
    model_type: String,
    as_of: NaiveDate,
    step: usize,
    n_history: usize,
    run_id: Option<String>,
    job_id: Option<String>,
}

fn cannot_explain(model_type: &str) -> Problem {
    Problem::bad_request(format!(
        "Model type '{model_type}' cannot explain its forecasts"
    ))
}

/// The model config of `model_type` with the request's parameters laid
/// over its defaults (only those the model has).
fn ad_hoc_config(
    registration: &forecastlab_core::ModelRegistration,
    request: &ExplainRequest,
) -> Result<Value, Problem> {
    let defaults = (registration.build)(&serde_json::json!({"model_type": registration.name}))
        .map_err(model_problem)?
        .config_json();
    let mut config = defaults;
    if let Some(map) = config.as_object_mut() {
        for (name, value) in request.parameters() {
            if map.contains_key(&name) {
                map.insert(name, value);
            }
        }
    }
    Ok(config)
}

/// `POST /explain/forecast`: fits a target-only model on the series up to
/// `as_of_date` and explains step `step`.
pub async fn explain_forecast(
    state: &AppState,
    request: ExplainRequest,
) -> Result<ForecastExplanation, Problem> {
    validate(&request, None)?;
    let key = request.names().resolve(&state.db, "").await?;
    let registration = models::resolve(&state.settings, &request.model_type)?;
    if registration.input == InputKind::FeatureAware {
        return Err(Problem::bad_request(format!(
            "'{}' is a feature-aware model: train it (POST /forecasting/train or a train job) \
             and explain the run with GET /explain/runs/{{run_id}} or the predict job with \
             GET /explain/jobs/{{job_id}}",
            registration.name
        )));
    }
    let config = ad_hoc_config(registration, &request)?;
    let model = (registration.build)(&config).map_err(|error| match error {
        CoreError::InvalidConfig(message) => match model_config::field_of(&message) {
            Some((field, detail)) => Problem::invalid_field(field, detail, "value_error"),
            None => Problem::bad_request(message),
        },
        other => model_problem(other),
    })?;
    let start = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    let series = load_series(&state.db, key, start, request.as_of_date).await?;
    if series.is_empty() {
        return Err(Problem::bad_request(format!(
            "No sales for store {} product {} on or before {}",
            key.store_id, key.product_id, request.as_of_date
        )));
    }
    let step = usize::try_from(request.step).unwrap_or(1);
    let n = series.len();
    let seed = state.settings.forecast_random_seed;
    let explanation = tokio::task::spawn_blocking(move || {
        let fitted = model.fit(&TrainingData::target_only(&series.quantity, seed))?;
        fitted.explain(&PredictRequest::horizon(step), step)
    })
    .await?
    .map_err(model_problem)?
    .ok_or_else(|| cannot_explain(registration.name))?;
    finish(
        state,
        Subject {
            key,
            model_type: registration.name.to_owned(),
            as_of: request.as_of_date,
            step,
            n_history: n,
            run_id: None,
            job_id: None,
        },
        explanation,
    )
    .await
}

/// `GET /explain/runs/{run_id}`: the registry run's artifact explains step
/// `step` of its forecast after the run's data window.
pub async fn explain_run(
    state: &AppState,
    run_id: &str,
    step: usize,
) -> Result<ForecastExplanation, Problem> {
    let run = registry::get_run(state, run_id).await?;
    if run.artifact_uri.is_none() {
        return Err(Problem::bad_request(format!(
            "Run {run_id} has no artifact yet (status {}); only trained runs can be explained",
            run.status.as_str()
        )));
    }
    let loaded = load_for_explanation(state, run_id).await?;
    explain_loaded(state, loaded, step, None, Some(run_id.to_owned()), None).await
}

/// `GET /explain/jobs/{job_id}`: the model of a completed predict job
/// explains step `step` of that forecast.
pub async fn explain_job(
    state: &AppState,
    job_id: &str,
    step: usize,
) -> Result<ForecastExplanation, Problem> {
    let job = jobs::get(state, job_id).await?;
    if job.job_type != JobType::Predict || job.status != JobStatus::Completed {
        return Err(Problem::bad_request(format!(
            "Job {job_id} is a {} job with status {}: only completed predict jobs can be explained",
            job.job_type.as_str(),
            job.status.as_str()
        )));
    }
    let result = job.result.unwrap_or_default();
    let has_forecasts = result
        .get("forecasts")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty());
    if !has_forecasts {
        return Err(Problem::bad_request(format!(
            "Job {job_id} has no forecasts to explain"
        )));
    }
    for member in ["store_id", "product_id", "model_type"] {
        if result.get(member).is_none_or(Value::is_null) {
            return Err(Problem::bad_request(format!(
                "Job {job_id}'s result has no {member}"
            )));
        }
    }
    let run_id = result
        .get("artifact_key")
        .or_else(|| job.params.get("run_id"))
        .and_then(Value::as_str)
        .ok_or_else(|| Problem::bad_request(format!("Job {job_id}'s result names no model")))?
        .to_owned();
    let strategy = job
        .params
        .get("strategy")
        .and_then(|s| serde_json::from_value::<MultiStepStrategy>(s.clone()).ok());
    let loaded = load_for_explanation(state, &run_id).await?;
    explain_loaded(
        state,
        loaded,
        step,
        strategy,
        Some(run_id),
        Some(job_id.to_owned()),
    )
    .await
}

/// Loads the artifact of a run id or artifact key; an artifact that is
/// gone is a 400 here (the run or job itself exists).
async fn load_for_explanation(state: &AppState, run_id: &str) -> Result<LoadedModel, Problem> {
    let (source, key) = artifact_location(state, run_id).await?;
    load_model_from(state, source, key, run_id)
        .await
        .map_err(|problem| {
            if problem.status == axum::http::StatusCode::NOT_FOUND {
                Problem::bad_request(format!(
                    "The model artifact of {run_id} no longer exists: {}",
                    problem.detail
                ))
            } else {
                problem
            }
        })
}

/// Explains step `step` of a loaded model's forecast after its training
/// end: target-only models from their own history; feature-aware models on
/// the future rows `/forecasting/predict` builds (same strategy), so the
/// explained value is the forecast's value for that step.
async fn explain_loaded(
    state: &AppState,
    loaded: LoadedModel,
    step: usize,
    strategy: Option<MultiStepStrategy>,
    run_id: Option<String>,
    job_id: Option<String>,
) -> Result<ForecastExplanation, Problem> {
    let key = loaded.series_key()?;
    let as_of = loaded.train_end_date().ok_or_else(|| {
        Problem::bad_request("Corrupt or incompatible model artifact: no train_end_date")
    })?;
    let model_type = loaded.header.model_type.clone();
    let n_history = loaded
        .meta("n_observations")
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0);
    let explanation = match loaded.registration.input {
        InputKind::TargetOnly => {
            let fitted = loaded.fitted;
            tokio::task::spawn_blocking(move || {
                fitted.explain(&PredictRequest::horizon(step), step)
            })
            .await?
        }
        InputKind::FeatureAware => {
            let metadata = feature_metadata(&loaded)?;
            let (future, history) =
                load_future_inputs(&state.db, key, &metadata, as_of, step).await?;
            let fitted = loaded.fitted;
            let strategy = strategy.unwrap_or(MultiStepStrategy::DEFAULT);
            tokio::task::spawn_blocking(move || {
                let rows = future_rows(fitted.as_ref(), &metadata, &future, strategy, &history)?;
                fitted.explain(
                    &PredictRequest {
                        horizon: rows.n_rows(),
                        features: Some(&rows),
                        interval_level: None,
                    },
                    step,
                )
            })
            .await?
        }
    }
    .map_err(model_problem)?
    .ok_or_else(|| cannot_explain(&model_type))?;
    finish(
        state,
        Subject {
            key,
            model_type,
            as_of,
            step,
            n_history,
            run_id,
            job_id,
        },
        explanation,
    )
    .await
}

/// The feature rows the model predicts on, one per horizon step, as the
/// forecast builds them (recursive: each row sees the earlier steps'
/// predictions).
fn future_rows(
    model: &dyn FittedModel,
    metadata: &frame::FeatureAwareMetadata,
    future: &frame::FutureInputs,
    strategy: MultiStepStrategy,
    history: &frame::SeriesData,
) -> Result<FeatureMatrix, CoreError> {
    let mut rows = FeatureMatrix::new(metadata.feature_columns.clone());
    frame::forecast_with(
        |x| {
            for row in x.rows() {
                rows.push_row(row)?;
            }
            model
                .predict(&PredictRequest {
                    horizon: x.n_rows(),
                    features: Some(x),
                    interval_level: None,
                })
                .map(|f| f.point)
        },
        metadata,
        future,
        strategy,
        Some(history),
    )?;
    Ok(rows)
}

/// Adds the context, checks additivity, stores and returns.
async fn finish(
    state: &AppState,
    subject: Subject,
    explanation: Explanation,
) -> Result<ForecastExplanation, Problem> {
    explanation
        .check_additive(ADDITIVITY_TOLERANCE)
        .map_err(Problem::internal)?;
    let forecast_date = subject
        .as_of
        .checked_add_days(Days::new(subject.step as u64))
        .ok_or_else(|| Problem::bad_request("the forecast date overflows the calendar"))?;
    let signals = repo::signals(&state.db, subject.key, subject.as_of, forecast_date).await?;
    let drivers = compose::drivers(&explanation);
    let groups = compose::groups(&drivers);
    let codes = compose::reason_codes(&signals, subject.n_history, explanation.history_needed);
    let caveats = compose::caveats(explanation.caveat.as_deref(), &codes);
    let confidence = explanation
        .confidence
        .unwrap_or_else(|| Confidence::from_history(subject.n_history))
        .as_str()
        .to_owned();
    let agent_summary = compose::summary(
        subject.key.store_id,
        subject.key.product_id,
        &subject.model_type,
        explanation.prediction,
        forecast_date,
        drivers.first(),
        &confidence,
        &codes,
    );
    let out = ForecastExplanation {
        explanation_id: uuid::Uuid::new_v4().simple().to_string(),
        store_id: subject.key.store_id,
        product_id: subject.key.product_id,
        model_type: subject.model_type,
        method: explanation.method.as_str().to_owned(),
        step: subject.step,
        forecast_date,
        forecast_value: explanation.prediction,
        base_value: explanation.base_value,
        drivers,
        groups,
        reason_codes: codes,
        confidence,
        caveats,
        agent_summary,
        as_of_date: subject.as_of,
        run_id: subject.run_id,
        job_id: subject.job_id,
        generated_at: Utc::now(),
    };
    repo::insert(&state.db, &out).await?;
    Ok(out)
}
