//! Training and prediction, callable without HTTP (job workers and the
//! scenario slice call these directly).
//!
//! Artifacts: `model_<key>.flmodel` in the artifact store
//! ([`crate::artifacts`]; by default `FORECAST_MODEL_ARTIFACTS_DIR`), `<key>` =
//! 12 lowercase hex characters, in the envelope of
//! [`forecastlab_core::artifact`] (magic, format version, JSON header with
//! model type, plugin version, canonical config, config hash and metadata,
//! the plugin payload, and SHA-256 digests).

use std::{sync::Arc, time::Instant};

use chrono::{Days, NaiveDate, Utc};
use forecastlab_core::{
    artifact::{self, Artifact},
    frame::{FeatureAwareMetadata, MultiStepStrategy, SeriesData},
    model_config,
    taxonomy::InputKind,
    FeatureMatrix, FittedModel, Forecast, SeriesKey, TrainingData,
};
use serde_json::json;

use super::{
    feature_aware, global,
    model::{build_model, interval_method, model_problem},
    schemas::{
        finite, ForecastPoint, PredictRequest, PredictResponse, Strategy, TrainRequest,
        TrainResponse,
    },
    stored::{load_model, store_artifact, LoadedModel},
};
use crate::{data::series::load_series, problem::Problem, state::AppState};

/// Trains a model on one series and writes its artifact.
pub async fn train(state: &AppState, request: TrainRequest) -> Result<TrainResponse, Problem> {
    train_series(state, request, None).await
}

/// [`train`] on data the caller loaded already (a batch loads its series'
/// data many at a time): `data` must be the request's series over its
/// training window with the side tables its model reads
/// ([`feature_aware::training_tables`]).
pub async fn train_loaded(
    state: &AppState,
    request: TrainRequest,
    data: SeriesData,
) -> Result<TrainResponse, Problem> {
    train_series(state, request, Some(data)).await
}

async fn train_series(
    state: &AppState,
    request: TrainRequest,
    loaded: Option<SeriesData>,
) -> Result<TrainResponse, Problem> {
    let started = Instant::now();
    crate::extract::validate(&request, None)?;
    let key = request.names().resolve(&state.db, "").await?;
    let (registration, model) = build_model(state, &request.config)?;
    let config = model.config_json();
    let config_hash = model_config::config_hash(&config);
    let seed = state.settings.forecast_random_seed;
    let artifact_key = artifact::new_key();
    let mut metadata = json!({
        "store_id": key.store_id,
        "product_id": key.product_id,
        "train_start_date": request.train_start_date,
        "train_end_date": request.train_end_date,
        "model_family": registration.family.as_str(),
        "requires_features": registration.input == InputKind::FeatureAware,
    });

    let (fitted, n_observations): (Box<dyn FittedModel>, usize) = match registration.input {
        InputKind::TargetOnly => {
            let target = match loaded {
                Some(data) => data.target,
                None => {
                    load_series(
                        &state.db,
                        key,
                        request.train_start_date,
                        request.train_end_date,
                    )
                    .await?
                    .quantity
                }
            };
            if target.is_empty() {
                return Err(Problem::bad_request(format!(
                    "No training data found for store {} product {} between {} and {}",
                    key.store_id, key.product_id, request.train_start_date, request.train_end_date
                )));
            }
            let n = target.len();
            let name = registration.name;
            let fitted = tokio::task::spawn_blocking(move || {
                let started = Instant::now();
                let fitted = model.fit(&TrainingData::target_only(&target, seed));
                crate::http::metrics::record_fit(name, started.elapsed().as_secs_f64());
                fitted
            })
            .await?
            .map_err(model_problem)?;
            (fitted, n)
        }
        InputKind::FeatureAware => {
            let (fitted, n, extra) =
                train_feature_aware(state, &request, key, model, seed, loaded).await?;
            if let (Some(target), serde_json::Value::Object(extra)) =
                (metadata.as_object_mut(), extra)
            {
                target.extend(extra);
            }
            (fitted, n)
        }
    };
    if let Some(target) = metadata.as_object_mut() {
        target.insert("n_observations".into(), json!(n_observations));
    }

    let payload = fitted.to_payload().map_err(model_problem)?;
    let artifact = Artifact::new(
        registration.name,
        registration.version,
        config.clone(),
        config_hash.clone(),
        metadata,
        payload,
    );
    let artifact_sha256 = store_artifact(state, &artifact_key, artifact).await?;

    Ok(TrainResponse {
        store_id: key.store_id,
        product_id: key.product_id,
        model_type: registration.name.to_owned(),
        model_path: state.artifacts.model_path(&artifact_key),
        config_hash,
        n_observations,
        train_start_date: request.train_start_date,
        train_end_date: request.train_end_date,
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        artifact_key,
        artifact_sha256,
        model_family: registration.family.as_str().to_owned(),
        requires_features: registration.input == InputKind::FeatureAware,
        config,
    })
}

/// Feature-aware training: builds (X, y) through the feature-frame
/// builders and fits. Returns the fitted model, the row count and the
/// feature metadata to store in the artifact (merged into its metadata).
async fn train_feature_aware(
    state: &AppState,
    request: &TrainRequest,
    key: SeriesKey,
    model: Box<dyn forecastlab_core::Forecaster>,
    seed: u64,
    loaded: Option<SeriesData>,
) -> Result<(Box<dyn FittedModel>, usize, serde_json::Value), Problem> {
    let version = u8::try_from(request.feature_frame_version).unwrap_or(1);
    let groups = request.feature_groups.as_deref();
    let training = match loaded {
        Some(data) => {
            let (start, end) = (request.train_start_date, request.train_end_date);
            feature_aware::build_training_set_loaded(data, start, end, version, groups).await?
        }
        None => {
            feature_aware::build_training_set(
                &state.db,
                key,
                request.train_start_date,
                request.train_end_date,
                version,
                groups,
            )
            .await?
        }
    };
    let n = training.y.len();
    let metadata = serde_json::to_value(&training.metadata).map_err(Problem::internal)?;
    let name = request.model_type().unwrap_or("unknown").to_owned();
    let fitted = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let fitted = model.fit(&TrainingData {
            target: &training.y,
            features: Some(&training.x),
            seed,
        });
        crate::http::metrics::record_fit(&name, started.elapsed().as_secs_f64());
        fitted
    })
    .await?
    .map_err(model_problem)?;
    Ok((fitted, n, metadata))
}

/// Forecasts `horizon` days from a trained artifact.
pub async fn predict(
    state: &AppState,
    request: PredictRequest,
) -> Result<PredictResponse, Problem> {
    let started = Instant::now();
    crate::extract::validate(&request, None)?;
    let key = request.names().resolve(&state.db, "").await?;
    let loaded = load_model(state, &request.model_path).await?;
    if global::is_global(&loaded) {
        return predict_global(state, loaded, &request, key, started).await;
    }
    let trained_for = loaded.series_key()?;
    if trained_for != key {
        return Err(Problem::bad_request(format!(
            "Model artifact was trained for store {} product {}, not store {} product {}",
            trained_for.store_id, trained_for.product_id, key.store_id, key.product_id
        )));
    }
    let horizon = usize::try_from(request.horizon).unwrap_or(1);
    let mut response = forecast_loaded(
        state,
        loaded,
        horizon,
        request.interval_level,
        request.strategy,
    )
    .await?;
    response.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(response)
}

/// `predict` for a global artifact: the requested series must be one it was
/// fitted on.
async fn predict_global(
    state: &AppState,
    loaded: LoadedModel,
    request: &PredictRequest,
    key: SeriesKey,
    started: Instant,
) -> Result<PredictResponse, Problem> {
    let horizon = usize::try_from(request.horizon).unwrap_or(1);
    let origin = loaded
        .train_end_date()
        .ok_or_else(|| Problem::bad_request("Corrupt model artifact: no train_end_date"))?;
    let model_type = loaded.header.model_type.clone();
    let config_hash = loaded.header.config_hash.clone();
    let artifact_key = loaded.key.clone();
    let level = request.interval_level;
    let forecast =
        global::forecast_global(state, loaded, key, horizon, level, request.strategy).await?;
    Ok(PredictResponse {
        store_id: key.store_id,
        product_id: key.product_id,
        forecasts: forecast_points(&forecast, origin, horizon)?,
        model_type,
        config_hash,
        horizon,
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        interval_level: level,
        interval_method: level.map(|_| interval_method(InputKind::FeatureAware).to_owned()),
        strategy: Some(Strategy::Recursive),
        artifact_key,
    })
}

/// Forecasts `horizon` days after the training end of a loaded model, for
/// the series it was trained on (target-only models extrapolate their
/// history; feature-aware ones read the known future inputs of that series).
/// `strategy` applies to feature-aware models (default recursive).
pub async fn forecast_loaded(
    state: &AppState,
    loaded: LoadedModel,
    horizon: usize,
    level: Option<f64>,
    strategy: Option<Strategy>,
) -> Result<PredictResponse, Problem> {
    let started = Instant::now();
    let key = loaded.series_key()?;
    let input = loaded.registration.input;
    let origin = loaded
        .train_end_date()
        .unwrap_or_else(|| Utc::now().date_naive());
    let model_type = loaded.header.model_type.clone();
    let config_hash = loaded.header.config_hash.clone();
    let artifact_key = loaded.key.clone();
    let (forecast, strategy) = match input {
        InputKind::TargetOnly => {
            let fitted = loaded.fitted;
            let forecast = tokio::task::spawn_blocking(move || {
                fitted.predict(&forecastlab_core::PredictRequest {
                    horizon,
                    features: None,
                    interval_level: level,
                })
            })
            .await?
            .map_err(model_problem)?;
            (forecast, None)
        }
        InputKind::FeatureAware => {
            let strategy = strategy.unwrap_or(match MultiStepStrategy::DEFAULT {
                MultiStepStrategy::Direct => Strategy::Direct,
                MultiStepStrategy::Recursive => Strategy::Recursive,
            });
            let multi = match strategy {
                Strategy::Direct => MultiStepStrategy::Direct,
                Strategy::Recursive => MultiStepStrategy::Recursive,
            };
            let forecast =
                predict_feature_aware(state, loaded, key, origin, horizon, level, multi).await?;
            (forecast, Some(strategy))
        }
    };
    let forecasts = forecast_points(&forecast, origin, horizon)?;
    Ok(PredictResponse {
        store_id: key.store_id,
        product_id: key.product_id,
        forecasts,
        model_type,
        config_hash,
        horizon,
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        interval_level: level,
        interval_method: level.map(|_| interval_method(input).to_owned()),
        strategy,
        artifact_key,
    })
}

/// Feature-aware prediction from what is known at the training cutoff,
/// through the feature-frame builders. The interval (if asked for) has the
/// half-widths the model's calibration gives for each step, centred on the
/// strategy's point forecast.
async fn predict_feature_aware(
    state: &AppState,
    loaded: LoadedModel,
    key: SeriesKey,
    origin: NaiveDate,
    horizon: usize,
    level: Option<f64>,
    strategy: MultiStepStrategy,
) -> Result<Forecast, Problem> {
    let metadata: FeatureAwareMetadata = serde_json::from_value(loaded.header.metadata.clone())
        .map_err(|e| {
            Problem::bad_request(format!(
                "Corrupt or incompatible model artifact: feature metadata unreadable: {e}"
            ))
        })?;
    let model: Arc<dyn FittedModel> = Arc::from(loaded.fitted);
    let mut forecast = feature_aware::forecast_feature_aware(
        &state.db,
        Arc::clone(&model),
        &metadata,
        key,
        origin,
        horizon,
        strategy,
    )
    .await?;
    if let Some(level) = level {
        let columns = metadata.feature_columns.clone();
        let calibration = tokio::task::spawn_blocking(move || {
            let blank = FeatureMatrix::from_row_major(
                columns.clone(),
                vec![f64::NAN; columns.len() * horizon],
            )?;
            model.predict(&forecastlab_core::PredictRequest {
                horizon,
                features: Some(&blank),
                interval_level: Some(level),
            })
        })
        .await?
        .map_err(model_problem)?;
        if let Some(interval) = calibration.interval {
            let widths: Vec<f64> = interval
                .upper
                .iter()
                .zip(&calibration.point)
                .map(|(u, p)| u - p)
                .collect();
            forecast.interval = Some(forecastlab_core::interval::symmetric(
                &forecast.point,
                &widths,
                level,
            ));
        }
    }
    Ok(forecast)
}

fn forecast_points(
    forecast: &Forecast,
    origin: NaiveDate,
    horizon: usize,
) -> Result<Vec<ForecastPoint>, Problem> {
    if forecast.point.len() != horizon {
        return Err(Problem::internal(format!(
            "model returned {} steps for a horizon of {horizon}",
            forecast.point.len()
        )));
    }
    (0..horizon)
        .map(|h| {
            let date = origin
                .checked_add_days(Days::new(h as u64 + 1))
                .ok_or_else(|| Problem::bad_request("forecast dates overflow the calendar"))?;
            let bound =
                |values: Option<&Vec<f64>>| values.and_then(|v| v.get(h)).copied().and_then(finite);
            Ok(ForecastPoint {
                date,
                forecast: finite(forecast.point[h]),
                lower_bound: bound(forecast.interval.as_ref().map(|i| &i.lower)),
                upper_bound: bound(forecast.interval.as_ref().map(|i| &i.upper)),
            })
        })
        .collect()
}
