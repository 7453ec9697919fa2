//! The model plugin traits and their registry.
//!
//! A [`Forecaster`] is an unfitted model holding an immutable, validated
//! config; fitting it yields a [`FittedModel`], which can predict and be
//! serialized to an artifact payload. Each plugin crate submits one
//! [`ModelRegistration`] with `inventory::submit!`.

use std::fmt::Debug;

use forecastlab_model_taxonomy::{InputKind, ModelFamily};

use crate::{explain::Explanation, CoreError, FeatureMatrix, Forecast};

/// What a model is fitted on.
#[derive(Debug, Clone, Copy)]
pub struct TrainingData<'a> {
    /// Target values in date order (positional, no gap filling).
    pub target: &'a [f64],
    /// Feature rows aligned with `target`; required by feature-aware models.
    pub features: Option<&'a FeatureMatrix>,
    /// Seed for any randomness (`FORECAST_RANDOM_SEED`).
    pub seed: u64,
}

impl<'a> TrainingData<'a> {
    /// Training data for a target-only model.
    pub fn target_only(target: &'a [f64], seed: u64) -> Self {
        Self {
            target,
            features: None,
            seed,
        }
    }
}

/// What a prediction is asked for.
#[derive(Debug, Clone, Copy)]
pub struct PredictRequest<'a> {
    /// Number of steps ahead.
    pub horizon: usize,
    /// Future feature rows (one per step) for feature-aware models.
    pub features: Option<&'a FeatureMatrix>,
    /// Nominal coverage of the prediction interval, if one is wanted.
    pub interval_level: Option<f64>,
}

impl PredictRequest<'_> {
    /// A point forecast of `horizon` steps for a target-only model.
    pub fn horizon(horizon: usize) -> Self {
        Self {
            horizon,
            features: None,
            interval_level: None,
        }
    }
}

/// An unfitted model with its validated configuration.
pub trait Forecaster: Send + Sync + Debug {
    /// Wire name of the model type (`naive`, …).
    fn model_type(&self) -> &'static str;

    /// The canonical configuration (`schema_version`, `model_type`, then the
    /// model's fields in declaration order, nulls included). Its hash is the
    /// run's `config_hash`.
    fn config_json(&self) -> serde_json::Value;

    /// Fits the model.
    fn fit(&self, data: &TrainingData<'_>) -> Result<Box<dyn FittedModel>, CoreError>;

    /// Fits the model for point forecasts only, as backtests use it: a model
    /// may skip the work that only serves prediction intervals (the held-out
    /// calibration refit of the feature-aware models), so asking the result
    /// for an interval gives one without bounds. Defaults to [`fit`](Self::fit).
    fn fit_point(&self, data: &TrainingData<'_>) -> Result<Box<dyn FittedModel>, CoreError> {
        self.fit(data)
    }
}

/// A fitted model.
pub trait FittedModel: Send + Sync + Debug {
    /// Wire name of the model type.
    fn model_type(&self) -> &'static str;

    /// Predicts `request.horizon` steps, with an interval when one is asked for.
    fn predict(&self, request: &PredictRequest<'_>) -> Result<Forecast, CoreError>;

    /// Serializes the fitted state; [`ModelRegistration::load`] reads it back.
    fn to_payload(&self) -> Result<Vec<u8>, CoreError>;

    /// Explains step `step` (1-based, ≤ `request.horizon`) of the forecast
    /// `request` asks for: drivers whose contributions plus the base value
    /// add up to that step's prediction. Feature-aware models explain row
    /// `step − 1` of `request.features`. `Ok(None)` = the model cannot
    /// explain itself (the default).
    fn explain(
        &self,
        request: &PredictRequest<'_>,
        step: usize,
    ) -> Result<Option<Explanation>, CoreError> {
        let _ = (request, step);
        Ok(None)
    }
}

/// Builds an unfitted model from its JSON config.
pub type BuildModel = fn(&serde_json::Value) -> Result<Box<dyn Forecaster>, CoreError>;

/// Rebuilds a fitted model from an artifact payload.
pub type LoadModel = fn(&[u8]) -> Result<Box<dyn FittedModel>, CoreError>;

/// A model plugin's entry in the registry.
#[derive(Debug)]
pub struct ModelRegistration {
    /// Wire name (`seasonal_naive`, `croston`, …).
    pub name: &'static str,
    /// Family reported to clients.
    pub family: ModelFamily,
    /// Whether the model needs a feature frame.
    pub input: InputKind,
    /// Runtime flag that must be on (`forecast_enable_lightgbm`), if any.
    pub flag: Option<&'static str>,
    /// Version of the plugin; stored in artifacts.
    pub version: &'static str,
    /// Builds an unfitted model from a JSON config (unknown keys rejected).
    pub build: BuildModel,
    /// Rebuilds a fitted model from the payload written by
    /// [`FittedModel::to_payload`].
    pub load: LoadModel,
}

inventory::collect!(ModelRegistration);

/// Every model linked into this binary, sorted by name.
pub fn models() -> Vec<&'static ModelRegistration> {
    let mut all: Vec<_> = inventory::iter::<ModelRegistration>.into_iter().collect();
    all.sort_by_key(|registration| registration.name);
    all
}

/// The model registered under `name`, if it is linked in.
pub fn model(name: &str) -> Option<&'static ModelRegistration> {
    inventory::iter::<ModelRegistration>
        .into_iter()
        .find(|registration| registration.name == name)
}
