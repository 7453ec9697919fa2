//! Fitting and predicting with libxgboost through the `xgb` crate.

use std::sync::Mutex;

use forecastlab_core::{
    explain::Explanation,
    inventory,
    taxonomy::{InputKind, ModelFamily},
    tree_model::{self, Objective, RowShap},
    CoreError, FittedModel, Forecast, Forecaster, ModelRegistration, PredictRequest, TrainingData,
};
use serde::{Deserialize, Serialize};
use xgb::{parameters::BoosterParameters, Booster, DMatrix};

use crate::{XgboostConfig, MODEL_TYPE};

/// Version of the payload layout written by [`FittedXgboost::to_payload`].
const PAYLOAD_VERSION: u32 = 1;

/// Unfitted XGBoost model.
#[derive(Debug, Clone)]
pub(crate) struct Xgboost {
    config: XgboostConfig,
}

/// What the payload holds: XGBoost's own JSON model plus our metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Payload {
    payload_version: u32,
    /// Feature column names, in training order.
    columns: Vec<String>,
    /// XGBoost's JSON model.
    model: String,
    /// Absolute one-step errors on the held-out tail (interval calibration).
    holdout_errors: Vec<f64>,
}

/// Fitted XGBoost model: the payload and the loaded booster (XGBoost's
/// handle may move between threads but not be shared, hence the mutex).
pub(crate) struct FittedXgboost {
    payload: Payload,
    booster: Mutex<Booster>,
}

impl std::fmt::Debug for FittedXgboost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FittedXgboost")
            .field("columns", &self.payload.columns)
            .field("model_bytes", &self.payload.model.len())
            .finish_non_exhaustive()
    }
}

fn xgb_error(error: xgb::XGBError) -> CoreError {
    CoreError::input(format!("XGBoost: {error}"))
}

/// Row-major `f64` values as the `f32` XGBoost reads (NaN stays NaN =
/// missing).
fn dmatrix(x: &[f64], n_rows: usize) -> Result<DMatrix, CoreError> {
    let values: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    DMatrix::from_dense(&values, n_rows).map_err(xgb_error)
}

/// The spec's `XGBRegressor(n_estimators, learning_rate, max_depth,
/// random_state, n_jobs = 1, tree_method = "hist", verbosity = 0)`: every
/// other parameter is the library default (the `xgb` crate writes its own
/// defaults, so the ones that differ from the library's are set back here;
/// `base_score` is the constant that minimises the objective — the target
/// mean for squared error, the median for the absolute losses — which is
/// what XGBoost ≥ 2 estimates itself). The objective is the config's.
pub(crate) fn parameters(
    config: &XgboostConfig,
    seed: u64,
    y: &[f64],
) -> Vec<(&'static str, String)> {
    vec![
        ("objective", objective_name(config.objective).to_owned()),
        ("eta", config.learning_rate.to_string()),
        ("max_depth", config.max_depth.to_string()),
        ("seed", (seed % (i32::MAX as u64)).to_string()),
        ("nthread", "1".to_owned()),
        ("tree_method", "hist".to_owned()),
        ("verbosity", "0".to_owned()),
        ("base_score", config.objective.base_score(y).to_string()),
    ]
}

/// XGBoost's name of `objective`.
fn objective_name(objective: Objective) -> &'static str {
    match objective {
        Objective::SquaredError => "reg:squarederror",
        Objective::AbsoluteError => "reg:absoluteerror",
        Objective::Huber => "reg:pseudohubererror",
    }
}

/// Trains one booster on row-major `x` (`n_rows` rows) and `y`.
pub(crate) fn train(
    x: &[f64],
    y: &[f64],
    n_rows: usize,
    config: &XgboostConfig,
    seed: u64,
) -> Result<Booster, CoreError> {
    let mut dtrain = dmatrix(x, n_rows)?;
    let labels: Vec<f32> = y.iter().map(|&v| v as f32).collect();
    dtrain.set_labels(&labels).map_err(xgb_error)?;
    let mut booster = Booster::new_with_cached_dmats(&BoosterParameters::default(), &[&dtrain])
        .map_err(xgb_error)?;
    for (name, value) in parameters(config, seed, y) {
        booster.set_param(name, &value).map_err(xgb_error)?;
    }
    for round in 0..config.n_estimators {
        booster.update(&dtrain, round as i32).map_err(xgb_error)?;
    }
    Ok(booster)
}

fn predict_rows(booster: &Booster, x: &[f64], n_rows: usize) -> Result<Vec<f64>, CoreError> {
    let matrix = dmatrix(x, n_rows)?;
    let predicted = booster.predict(&matrix).map_err(xgb_error)?;
    Ok(predicted.into_iter().map(f64::from).collect())
}

impl Xgboost {
    /// Fits the booster and, when `calibrate`, the held-out calibration
    /// model whose errors give the intervals.
    fn fit_inner(
        &self,
        data: &TrainingData<'_>,
        calibrate: bool,
    ) -> Result<Box<dyn FittedModel>, CoreError> {
        let x = tree_model::training_matrix(data, MODEL_TYPE, 1)?;
        let width = x.n_cols();
        let n = data.target.len();
        let booster = train(x.values(), data.target, n, &self.config, data.seed)?;
        let model_bytes = booster.save_buffer(false).map_err(xgb_error)?;
        let model = String::from_utf8(model_bytes)
            .map_err(|e| CoreError::Artifact(format!("XGBoost model is not UTF-8: {e}")))?;

        let holdout_errors = if calibrate {
            tree_model::holdout_errors(x, data.target, |fit, target, hold| {
                let calibration = train(fit, target, target.len(), &self.config, data.seed)?;
                predict_rows(&calibration, hold, hold.len() / width)
            })?
        } else {
            Vec::new()
        };

        Ok(Box::new(FittedXgboost {
            payload: Payload {
                payload_version: PAYLOAD_VERSION,
                columns: x.columns().to_vec(),
                model,
                holdout_errors,
            },
            booster: Mutex::new(booster),
        }))
    }
}

impl Forecaster for Xgboost {
    fn model_type(&self) -> &'static str {
        MODEL_TYPE
    }

    fn config_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn fit(&self, data: &TrainingData<'_>) -> Result<Box<dyn FittedModel>, CoreError> {
        self.fit_inner(data, true)
    }

    fn fit_point(&self, data: &TrainingData<'_>) -> Result<Box<dyn FittedModel>, CoreError> {
        self.fit_inner(data, false)
    }
}

impl FittedModel for FittedXgboost {
    fn model_type(&self) -> &'static str {
        MODEL_TYPE
    }

    fn predict(&self, request: &PredictRequest<'_>) -> Result<Forecast, CoreError> {
        let Payload {
            columns,
            holdout_errors,
            ..
        } = &self.payload;
        tree_model::predict(request, columns, holdout_errors, MODEL_TYPE, |x| {
            let booster = self
                .booster
                .lock()
                .map_err(|_| CoreError::input("XGBoost booster is poisoned"))?;
            predict_rows(&booster, x.values(), x.n_rows())
        })
    }

    fn to_payload(&self) -> Result<Vec<u8>, CoreError> {
        tree_model::encode_payload(&self.payload)
    }

    /// Exact TreeSHAP from XGBoost's own contribution routine
    /// (`predict_contributions`: one value per column, then the bias).
    /// XGBoost computes in single precision, so the contributions' sum may
    /// miss the prediction by a rounding error; the base value takes that
    /// difference (a few millionths at most), so that the account adds up.
    fn explain(
        &self,
        request: &PredictRequest<'_>,
        step: usize,
    ) -> Result<Option<Explanation>, CoreError> {
        let columns = &self.payload.columns;
        tree_model::explain_step(request, columns, MODEL_TYPE, step, |row| {
            let booster = self
                .booster
                .lock()
                .map_err(|_| CoreError::input("XGBoost booster is poisoned"))?;
            let matrix = dmatrix(row, 1)?;
            let (values, _) = booster.predict_contributions(&matrix).map_err(xgb_error)?;
            let prediction = *predict_rows(&booster, row, 1)?
                .first()
                .ok_or_else(|| CoreError::input("XGBoost predicted no row"))?;
            let mut contributions: Vec<f64> = values.into_iter().map(f64::from).collect();
            let bias = contributions
                .pop()
                .ok_or_else(|| CoreError::input("XGBoost gave no contributions"))?;
            let rounding = prediction - bias - contributions.iter().sum::<f64>();
            Ok(RowShap {
                base_value: bias + rounding,
                contributions,
                prediction,
            })
        })
    }
}

fn build(config: &serde_json::Value) -> Result<Box<dyn Forecaster>, CoreError> {
    Ok(Box::new(Xgboost {
        config: XgboostConfig::from_json(config)?,
    }))
}

fn load(bytes: &[u8]) -> Result<Box<dyn FittedModel>, CoreError> {
    let payload: Payload = tree_model::decode_payload(bytes)?;
    tree_model::check_payload_version(MODEL_TYPE, payload.payload_version, PAYLOAD_VERSION)?;
    let mut booster = Booster::load_buffer(payload.model.as_bytes())
        .map_err(|e| CoreError::Artifact(format!("XGBoost model: {e}")))?;
    // Keep a reloaded booster single-threaded, like a freshly trained one.
    booster
        .set_param("nthread", "1")
        .map_err(|e| CoreError::Artifact(format!("XGBoost model: {e}")))?;
    Ok(Box::new(FittedXgboost {
        payload,
        booster: Mutex::new(booster),
    }))
}

inventory::submit! {
    ModelRegistration {
        name: MODEL_TYPE,
        family: ModelFamily::Tree,
        input: InputKind::FeatureAware,
        flag: Some("forecast_enable_xgboost"),
        version: env!("CARGO_PKG_VERSION"),
        build,
        load,
    }
}
