//! Global models on the train/predict path: `POST /forecasting/train-global`
//! fits one feature-aware model across many series
//! ([`forecastlab_core::global`]) and writes one artifact; `POST
//! /forecasting/predict` forecasts any of those series from it.
//!
//! The artifact's metadata says `"global": true` and holds, per series, its
//! scale, its series-level columns frozen at the training end and its frame
//! metadata (history tail, prices, lifecycle dates), so a prediction needs
//! only that series' known future inputs.

use std::{collections::HashSet, sync::Arc, time::Instant};

use forecastlab_core::{
    artifact::{self, Artifact},
    frame::{FrameSpec, SeriesData},
    global::{self, GlobalInput, GlobalSeries},
    interval, model_config,
    taxonomy::InputKind,
    FeatureMatrix, FittedModel, Forecast, SeriesKey, TrainingData,
};
use serde_json::json;

use super::{
    feature_aware::{load_future_inputs, side_tables},
    model::{build_model, model_problem},
    schemas::{GlobalSkippedSeries, GlobalTrainRequest, GlobalTrainResponse, Strategy},
    stored::{store_artifact, LoadedModel},
};
use crate::{
    data::{series, series_data, series_names},
    features::backtesting::schemas::{SeriesName, SeriesRef, SeriesSelection},
    problem::Problem,
    state::AppState,
};

/// Trains one model across the selected series and writes its artifact.
pub async fn train_global(
    state: &AppState,
    request: GlobalTrainRequest,
) -> Result<GlobalTrainResponse, Problem> {
    let started = Instant::now();
    crate::extract::validate(&request, None)?;
    let (registration, model) = build_model(state, &request.config)?;
    if registration.input != InputKind::FeatureAware {
        return Err(Problem::invalid_field(
            "config.model_type",
            format!(
                "A global model must be feature-aware; '{}' is target-only.",
                registration.name
            ),
            "value_error",
        ));
    }
    let (start, end) = (request.train_start_date, request.train_end_date);
    let keys: Option<Vec<SeriesKey>> = match &request.series {
        SeriesSelection::All(_) => None,
        SeriesSelection::List(list) => Some(
            series_names::resolve_all(&state.db, "series", list.iter().map(SeriesName::names))
                .await?,
        ),
    };
    let found = series::load_many(&state.db, keys.as_deref(), start, end).await?;
    let mut skipped: Vec<GlobalSkippedSeries> = Vec::new();
    if let Some(keys) = &keys {
        let present: HashSet<SeriesKey> = found.iter().map(|(k, _)| *k).collect();
        skipped.extend(
            keys.iter()
                .filter(|k| !present.contains(k))
                .map(|k| GlobalSkippedSeries {
                    store_id: k.store_id,
                    product_id: k.product_id,
                    reason: "No data in the requested window.".to_owned(),
                }),
        );
    }
    if found.is_empty() {
        return Err(Problem::bad_request(format!(
            "No data found for the selected series between {start} and {end}."
        )));
    }
    let tables = side_tables(&FrameSpec::v1());
    let mut data: Vec<SeriesData> = Vec::with_capacity(found.len());
    for (key, sales) in found {
        let mut one = SeriesData::new(key, sales.dates, sales.quantity, sales.unit_price);
        series_data::load_side_tables(&state.db, &mut one, start, end, end, tables).await?;
        data.push(one);
    }
    let categories = series_data::load_categories(&state.db).await?;
    let seed = state.settings.forecast_random_seed;
    let name = registration.name;
    let fitted = tokio::task::spawn_blocking(move || {
        let inputs: Vec<GlobalInput<'_>> = data
            .iter()
            .map(|one| GlobalInput {
                data: one,
                category: categories.get(&one.key.product_id).map(String::as_str),
            })
            .collect();
        let training = global::build_training(&FrameSpec::v1(), &inputs)?;
        let fit_started = Instant::now();
        let fitted = model.fit(&TrainingData {
            target: &training.y,
            features: Some(&training.x),
            seed,
        })?;
        crate::http::metrics::record_fit(name, fit_started.elapsed().as_secs_f64());
        let payload = fitted.to_payload()?;
        Ok::<_, forecastlab_core::CoreError>((training, payload, model.config_json()))
    })
    .await?
    .map_err(|error| match error {
        forecastlab_core::CoreError::InvalidConfig(_) => model_problem(error),
        other => Problem::bad_request(other.to_string()),
    })?;
    let (training, payload, config) = fitted;
    skipped.extend(training.skipped.iter().map(|s| GlobalSkippedSeries {
        store_id: s.key.store_id,
        product_id: s.key.product_id,
        reason: s.reason.clone(),
    }));
    let config_hash = model_config::config_hash(&config);
    let metadata = json!({
        "global": true,
        "train_start_date": start,
        "train_end_date": end,
        "model_family": registration.family.as_str(),
        "requires_features": true,
        "feature_frame_version": 1,
        "n_observations": training.y.len(),
        "series": training.series,
    });
    let artifact_key = artifact::new_key();
    let artifact = Artifact::new(
        registration.name,
        registration.version,
        config.clone(),
        config_hash.clone(),
        metadata,
        payload,
    );
    let artifact_sha256 = store_artifact(state, &artifact_key, artifact).await?;
    Ok(GlobalTrainResponse {
        model_type: registration.name.to_owned(),
        model_path: state.artifacts.model_path(&artifact_key),
        artifact_key,
        artifact_sha256,
        config_hash,
        config,
        model_family: registration.family.as_str().to_owned(),
        series: training
            .series
            .iter()
            .map(|s| SeriesRef {
                store_id: s.key.store_id,
                product_id: s.key.product_id,
            })
            .collect(),
        skipped_series: skipped,
        n_observations: training.y.len(),
        train_start_date: start,
        train_end_date: end,
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

/// True when the loaded artifact holds a global model.
pub fn is_global(loaded: &LoadedModel) -> bool {
    loaded.meta("global").and_then(|v| v.as_bool()) == Some(true)
}

/// The state of series `key` in a global artifact (400 when the artifact
/// was not fitted on it or its metadata is unreadable).
pub fn series_state(loaded: &LoadedModel, key: SeriesKey) -> Result<GlobalSeries, Problem> {
    let all: Vec<GlobalSeries> = loaded
        .meta("series")
        .cloned()
        .map(serde_json::from_value)
        .transpose()
        .map_err(|e| {
            Problem::bad_request(format!(
                "Corrupt or incompatible model artifact: global series metadata unreadable: {e}"
            ))
        })?
        .unwrap_or_default();
    let count = all.len();
    all.into_iter().find(|s| s.key == key).ok_or_else(|| {
        Problem::bad_request(format!(
            "The global model artifact was fitted on {count} series; store {} product {} is not one of them",
            key.store_id, key.product_id
        ))
    })
}

/// Forecasts `horizon` days after the training end for one series of a
/// global artifact (recursive only). The interval, if asked for, is the
/// model's held-out calibration (in the series' scaled units) times the
/// series' scale, widened by √h.
pub async fn forecast_global(
    state: &AppState,
    loaded: LoadedModel,
    key: SeriesKey,
    horizon: usize,
    level: Option<f64>,
    strategy: Option<Strategy>,
) -> Result<Forecast, Problem> {
    if strategy == Some(Strategy::Direct) {
        return Err(Problem::invalid_field(
            "strategy",
            "Global models forecast recursively; 'direct' is not available for them",
            "value_error",
        ));
    }
    let series = series_state(&loaded, key)?;
    let origin = loaded
        .train_end_date()
        .or_else(|| series.metadata.origin())
        .ok_or_else(|| Problem::bad_request("Corrupt model artifact: no training end date"))?;
    let (future, history) =
        load_future_inputs(&state.db, key, &series.metadata, origin, horizon).await?;
    let model: Arc<dyn FittedModel> = Arc::from(loaded.fitted);
    tokio::task::spawn_blocking(move || {
        let mut forecast =
            global::forecast_series(model.as_ref(), &series, &future, Some(&history))?;
        if let Some(level) = level {
            let columns = global::columns(&series.metadata.frame_spec()?);
            let blank =
                FeatureMatrix::from_row_major(columns.clone(), vec![f64::NAN; columns.len()])?;
            let one = model.predict(&forecastlab_core::PredictRequest {
                horizon: 1,
                features: Some(&blank),
                interval_level: Some(level),
            })?;
            let first = one
                .interval
                .as_ref()
                .and_then(|i| i.upper.first().zip(one.point.first()))
                .map_or(f64::NAN, |(u, p)| (u - p) * series.scale);
            let widths: Vec<f64> = (1..=forecast.point.len())
                .map(|h| first * (h as f64).sqrt())
                .collect();
            forecast.interval = Some(interval::symmetric(&forecast.point, &widths, level));
        }
        Ok::<_, forecastlab_core::CoreError>(forecast)
    })
    .await?
    .map_err(model_problem)
}
