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

use bytes::Bytes;

use chrono::{Days, NaiveDate, Utc};
use forecastlab_core::{
    artifact::{self, Artifact},
    frame::{FeatureAwareMetadata, MultiStepStrategy},
    model_config,
    taxonomy::InputKind,
    CoreError, FeatureMatrix, FittedModel, Forecast, ModelRegistration, SeriesKey, TrainingData,
};
use serde_json::json;

use super::{
    feature_aware, global,
    schemas::{
        finite, ForecastPoint, PredictRequest, PredictResponse, Strategy, TrainRequest,
        TrainResponse,
    },
};
use crate::{
    artifacts::StorageError, config::Settings, data::series::load_series, models, problem::Problem,
    state::AppState,
};

/// How intervals are estimated, per input kind (reported in responses).
pub fn interval_method(input: InputKind) -> &'static str {
    match input {
        InputKind::TargetOnly => "split_conformal_rolling_origin_h_step",
        InputKind::FeatureAware => "split_conformal_holdout_sqrt_h",
    }
}

/// Maps a plugin error to a problem: config errors are 422 naming
/// `config.<field>`, everything else the client caused is 400.
pub fn model_problem(error: CoreError) -> Problem {
    match error {
        CoreError::InvalidConfig(message) => match model_config::field_of(&message) {
            Some((field, detail)) => {
                Problem::invalid_field(format!("config.{field}"), detail, "value_error")
            }
            None => Problem::invalid_field("config", message, "value_error"),
        },
        CoreError::Cancelled => Problem::conflict("The operation was cancelled."),
        other => Problem::bad_request(other.to_string()),
    }
}

/// Resolves a model type and builds the unfitted model from `config`
/// (unknown type / not compiled in / flag off → 400, bad config → 422).
pub fn build_model(
    state: &AppState,
    config: &serde_json::Value,
) -> Result<
    (
        &'static ModelRegistration,
        Box<dyn forecastlab_core::Forecaster>,
    ),
    Problem,
> {
    let name = config
        .get("model_type")
        .and_then(|v| v.as_str())
        .ok_or_else(|| Problem::invalid_field("config.model_type", "Field required", "missing"))?;
    let registration = models::resolve(&state.settings, name)?;
    let model = (registration.build)(config).map_err(model_problem)?;
    Ok((registration, model))
}

/// Trains a model on one series and writes its artifact.
pub async fn train(state: &AppState, request: TrainRequest) -> Result<TrainResponse, Problem> {
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
            let series = load_series(
                &state.db,
                key,
                request.train_start_date,
                request.train_end_date,
            )
            .await?;
            if series.is_empty() {
                return Err(Problem::bad_request(format!(
                    "No training data found for store {} product {} between {} and {}",
                    key.store_id, key.product_id, request.train_start_date, request.train_end_date
                )));
            }
            let n = series.len();
            let name = registration.name;
            let fitted = tokio::task::spawn_blocking(move || {
                let started = Instant::now();
                let fitted = model.fit(&TrainingData::target_only(&series.quantity, seed));
                crate::http::metrics::record_fit(name, started.elapsed().as_secs_f64());
                fitted
            })
            .await?
            .map_err(model_problem)?;
            (fitted, n)
        }
        InputKind::FeatureAware => {
            let (fitted, n, extra) = train_feature_aware(state, &request, key, model, seed).await?;
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
) -> Result<(Box<dyn FittedModel>, usize, serde_json::Value), Problem> {
    let version = u8::try_from(request.feature_frame_version).unwrap_or(1);
    let training = feature_aware::build_training_set(
        &state.db,
        key,
        request.train_start_date,
        request.train_end_date,
        version,
        request.feature_groups.as_deref(),
    )
    .await?;
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

/// A loaded, verified artifact and its fitted model.
#[derive(Debug)]
pub struct LoadedModel {
    /// The 12-hex artifact key.
    pub key: String,
    /// The artifact's header (model type, config, metadata, …).
    pub header: forecastlab_core::artifact::ArtifactHeader,
    /// The plugin that reads it.
    pub registration: &'static ModelRegistration,
    /// The fitted model.
    pub fitted: Box<dyn FittedModel>,
    /// SHA-256 of the artifact file.
    pub sha256: String,
}

impl LoadedModel {
    /// A metadata member.
    pub fn meta(&self, name: &str) -> Option<&serde_json::Value> {
        self.header.metadata.get(name)
    }

    /// The series the model was trained on, from the metadata (400 when
    /// the artifact does not say).
    pub fn series_key(&self) -> Result<SeriesKey, Problem> {
        let id = |name: &str| self.meta(name).and_then(|v| v.as_i64());
        match (id("store_id"), id("product_id")) {
            (Some(store_id), Some(product_id)) => Ok(SeriesKey {
                store_id,
                product_id,
            }),
            _ => Err(Problem::bad_request(
                "Corrupt or incompatible model artifact: its metadata has no store_id / product_id",
            )),
        }
    }

    /// `train_end_date` from the metadata.
    pub fn train_end_date(&self) -> Option<NaiveDate> {
        self.meta("train_end_date")
            .and_then(|v| v.as_str())
            .and_then(|s| s.parse().ok())
    }
}

/// Where an artifact is read from: the model artifacts (by key) or a
/// registry copy (by its URI under the registry root).
#[derive(Debug, Clone)]
pub enum ArtifactSource {
    /// `model_<key>.flmodel` among the model artifacts.
    Model(String),
    /// A registry URI (`runs/<run_id>/model_<key>.flmodel`).
    Registry(String),
}

/// The artifact key `model_path` names (an artifact path or a bare 12-hex
/// key inside the model artifacts location); anything else is a 400.
pub fn model_key(state: &AppState, model_path: &str) -> Result<String, Problem> {
    state
        .artifacts
        .model_key(model_path)
        .map_err(|error| Problem::bad_request(error.to_string()))
}

/// Loads and verifies an artifact (400 for bad paths or corrupt/mismatched
/// files, 404 when missing) and rebuilds its fitted model.
pub async fn load_model(state: &AppState, model_path: &str) -> Result<LoadedModel, Problem> {
    let key = model_key(state, model_path)?;
    load_model_from(state, ArtifactSource::Model(key.clone()), key, model_path).await
}

/// Reads the bytes of an artifact (404 when missing, 400 for a registry
/// URI outside the root); `label` names it in errors.
pub async fn fetch_artifact(
    state: &AppState,
    source: &ArtifactSource,
    label: &str,
) -> Result<Bytes, Problem> {
    let fetched = match source {
        ArtifactSource::Model(key) => state.artifacts.get_model(key, label).await,
        ArtifactSource::Registry(uri) => state.artifacts.get_registry(uri).await,
    };
    fetched.map_err(|error| match error {
        StorageError::NotFound(_) => {
            Problem::not_found(format!("Model artifact not found: {label}"))
        }
        StorageError::Traversal(_) => Problem::bad_request(error.to_string()),
        StorageError::Io(error) => {
            Problem::bad_request(format!("Model artifact cannot be read: {error}"))
        }
        StorageError::Store(error) => Problem::internal(error),
    })
}

/// Loads and verifies the artifact at `source` as [`load_model`] does; the
/// decoding runs off the async runtime.
pub async fn load_model_from(
    state: &AppState,
    source: ArtifactSource,
    key: String,
    label: &str,
) -> Result<LoadedModel, Problem> {
    let bytes = fetch_artifact(state, &source, label).await?;
    let settings = Arc::clone(&state.settings);
    tokio::task::spawn_blocking(move || decode_model(&settings, &bytes, key)).await?
}

/// Verifies artifact bytes and rebuilds the fitted model on the calling
/// thread (callers decoding many artifacts run this on a rayon pool).
pub fn decode_model(
    settings: &Settings,
    bytes: &[u8],
    key: String,
) -> Result<LoadedModel, Problem> {
    let artifact = Artifact::decode(bytes).map_err(|error| {
        Problem::bad_request(format!("Corrupt or incompatible model artifact: {error}"))
    })?;
    let sha256 = artifact::sha256_hex(bytes);
    let registration = models::resolve(settings, &artifact.header.model_type)?;
    let fitted = (registration.load)(&artifact.payload).map_err(|e| {
        Problem::bad_request(format!("Corrupt or incompatible model artifact: {e}"))
    })?;
    if fitted.model_type() != artifact.header.model_type {
        return Err(Problem::bad_request(format!(
            "Corrupt or incompatible model artifact: the payload holds a '{}' model, the header says '{}'",
            fitted.model_type(),
            artifact.header.model_type
        )));
    }
    Ok(LoadedModel {
        key,
        header: artifact.header,
        registration,
        fitted,
        sha256,
    })
}

/// Encodes `artifact` off the runtime and stores it under `key`; returns
/// the SHA-256 of the stored bytes.
pub async fn store_artifact(
    state: &AppState,
    key: &str,
    artifact: Artifact,
) -> Result<String, Problem> {
    let (bytes, sha256) = tokio::task::spawn_blocking(move || {
        let bytes = artifact.encode()?;
        let sha256 = artifact::sha256_hex(&bytes);
        Ok::<_, CoreError>((Bytes::from(bytes), sha256))
    })
    .await?
    .map_err(Problem::internal)?;
    state
        .artifacts
        .put_model(key, bytes)
        .await
        .map_err(Problem::internal)?;
    Ok(sha256)
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
