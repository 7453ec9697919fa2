//! Fitting and predicting with the vendored LightGBM library.

use std::cell::RefCell;

use forecastlab_core::{
    explain::Explanation,
    inventory,
    taxonomy::{InputKind, ModelFamily},
    tree_model::{self, Objective, RowShap},
    CoreError, FeatureMatrix, FittedModel, Forecast, Forecaster, ModelRegistration, PredictRequest,
    TrainingData,
};
use lightgbm3::{Booster, Dataset};
use serde::{Deserialize, Serialize};

use crate::{LightGbmConfig, MODEL_TYPE};

/// Version of the payload layout written by [`FittedLightGbm::to_payload`].
const PAYLOAD_VERSION: u32 = 1;

/// Unfitted LightGBM model.
#[derive(Debug, Clone)]
pub(crate) struct LightGbm {
    config: LightGbmConfig,
}

/// Fitted LightGBM model. The booster is kept as LightGBM's own model text
/// (the library's handle is neither `Send` nor `Sync`); prediction loads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct FittedLightGbm {
    payload_version: u32,
    /// Feature column names, in training order.
    columns: Vec<String>,
    /// LightGBM's model text.
    model: String,
    /// Absolute one-step errors on the held-out tail (interval calibration).
    holdout_errors: Vec<f64>,
}

/// The LightGBM parameters of the spec: `LGBMRegressor(n_estimators,
/// learning_rate, max_depth, random_state, n_jobs=1, deterministic=true,
/// force_col_wise=true, verbosity=-1)`, everything else library defaults;
/// the objective is the config's (LightGBM starts every objective from the
/// constant that minimises it: the mean or the median).
pub(crate) fn parameters(config: &LightGbmConfig, seed: u64) -> serde_json::Value {
    serde_json::json!({
        "objective": objective_name(config.objective),
        "num_iterations": config.n_estimators,
        "learning_rate": config.learning_rate,
        "max_depth": config.max_depth,
        "seed": seed % (i32::MAX as u64),
        "num_threads": 1,
        "deterministic": true,
        "force_col_wise": true,
        "verbosity": -1,
    })
}

/// LightGBM's name of `objective`.
fn objective_name(objective: Objective) -> &'static str {
    match objective {
        Objective::SquaredError => "regression",
        Objective::AbsoluteError => "regression_l1",
        Objective::Huber => "huber",
    }
}

fn lgbm_error(error: lightgbm3::Error) -> CoreError {
    CoreError::input(format!("LightGBM: {error}"))
}

/// Trains one booster on row-major `x` (`n_cols` wide) and `y`.
pub(crate) fn train(
    x: &[f64],
    y: &[f64],
    n_cols: usize,
    params: &serde_json::Value,
) -> Result<Booster, CoreError> {
    let labels: Vec<f32> = y.iter().map(|&v| v as f32).collect();
    let width = i32::try_from(n_cols).map_err(|_| CoreError::input("too many feature columns"))?;
    let dataset = Dataset::from_slice(x, &labels, width, true).map_err(lgbm_error)?;
    Booster::train(dataset, params).map_err(lgbm_error)
}

/// Trains one booster on all rows of `x` without interval calibration and
/// returns LightGBM's model text: the part of [`Forecaster::fit`] that
/// LightGBM's own packages also do (the training benchmark compares it).
pub fn train_booster(
    x: &FeatureMatrix,
    y: &[f64],
    config: &LightGbmConfig,
    seed: u64,
) -> Result<String, CoreError> {
    let booster = train(x.values(), y, x.n_cols(), &parameters(config, seed))?;
    booster.save_string().map_err(lgbm_error)
}

fn predict_rows(booster: &Booster, x: &[f64], n_cols: usize) -> Result<Vec<f64>, CoreError> {
    let width = i32::try_from(n_cols).map_err(|_| CoreError::input("too many feature columns"))?;
    booster.predict(x, width, true).map_err(lgbm_error)
}

impl LightGbm {
    /// Fits the booster and, when `calibrate`, the held-out calibration
    /// model whose errors give the intervals.
    fn fit_inner(
        &self,
        data: &TrainingData<'_>,
        calibrate: bool,
    ) -> Result<Box<dyn FittedModel>, CoreError> {
        let x = tree_model::training_matrix(data, MODEL_TYPE, 1)?;
        let width = x.n_cols();
        let params = parameters(&self.config, data.seed);
        let booster = train(x.values(), data.target, width, &params)?;
        let model = booster.save_string().map_err(lgbm_error)?;

        let holdout_errors = if calibrate {
            tree_model::holdout_errors(x, data.target, |fit, target, hold| {
                let calibration = train(fit, target, width, &params)?;
                predict_rows(&calibration, hold, width)
            })?
        } else {
            Vec::new()
        };

        Ok(Box::new(FittedLightGbm {
            payload_version: PAYLOAD_VERSION,
            columns: x.columns().to_vec(),
            model,
            holdout_errors,
        }))
    }
}

impl Forecaster for LightGbm {
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

impl FittedModel for FittedLightGbm {
    fn model_type(&self) -> &'static str {
        MODEL_TYPE
    }

    fn predict(&self, request: &PredictRequest<'_>) -> Result<Forecast, CoreError> {
        tree_model::predict(
            request,
            &self.columns,
            &self.holdout_errors,
            MODEL_TYPE,
            |x| {
                with_parsed(&self.model, |booster| {
                    predict_rows(booster, x.values(), x.n_cols())
                })
            },
        )
    }

    fn to_payload(&self) -> Result<Vec<u8>, CoreError> {
        tree_model::encode_payload(self)
    }

    /// Exact TreeSHAP from LightGBM's own contribution routine
    /// (`predict_contrib`: one value per column, then the expected value).
    fn explain(
        &self,
        request: &PredictRequest<'_>,
        step: usize,
    ) -> Result<Option<Explanation>, CoreError> {
        tree_model::explain_step(request, &self.columns, MODEL_TYPE, step, |row| {
            with_parsed(&self.model, |booster| {
                let width = i32::try_from(row.len())
                    .map_err(|_| CoreError::input("too many feature columns"))?;
                let mut contributions = booster
                    .predict_contrib(row, width, true)
                    .map_err(lgbm_error)?;
                let prediction = *predict_rows(booster, row, row.len())?
                    .first()
                    .ok_or_else(|| CoreError::input("LightGBM predicted no row"))?;
                let base_value = contributions
                    .pop()
                    .ok_or_else(|| CoreError::input("LightGBM gave no contributions"))?;
                Ok(RowShap {
                    base_value,
                    contributions,
                    prediction,
                })
            })
        })
    }
}

thread_local! {
    /// The booster parsed last on this thread, with its model text:
    /// recursive forecasts predict one row at a time from the same model,
    /// and parsing the text dominates a one-row prediction. (The library's
    /// handle is neither `Send` nor `Sync`, so it cannot live in the fitted
    /// model itself.)
    static PARSED: RefCell<Option<(String, Booster)>> = const { RefCell::new(None) };
}

/// Runs `f` on the booster of `model` (LightGBM's model text), parsing it
/// only when this thread last parsed another model.
fn with_parsed<T>(
    model: &str,
    f: impl FnOnce(&Booster) -> Result<T, CoreError>,
) -> Result<T, CoreError> {
    PARSED.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_none_or(|(text, _)| text != model) {
            let booster = Booster::from_string(model)
                .map_err(|e| CoreError::Artifact(format!("LightGBM model text: {e}")))?;
            *slot = Some((model.to_owned(), booster));
        }
        match slot.as_ref() {
            Some((_, booster)) => f(booster),
            None => Err(CoreError::Artifact("LightGBM model text not parsed".into())),
        }
    })
}

fn build(config: &serde_json::Value) -> Result<Box<dyn Forecaster>, CoreError> {
    Ok(Box::new(LightGbm {
        config: LightGbmConfig::from_json(config)?,
    }))
}

fn load(payload: &[u8]) -> Result<Box<dyn FittedModel>, CoreError> {
    let fitted: FittedLightGbm = tree_model::decode_payload(payload)?;
    tree_model::check_payload_version(MODEL_TYPE, fitted.payload_version, PAYLOAD_VERSION)?;
    // Parse the model text now so a corrupt artifact fails at load time.
    Booster::from_string(&fitted.model)
        .map_err(|e| CoreError::Artifact(format!("LightGBM model text: {e}")))?;
    Ok(Box::new(fitted))
}

inventory::submit! {
    ModelRegistration {
        name: MODEL_TYPE,
        family: ModelFamily::Tree,
        input: InputKind::FeatureAware,
        flag: Some("forecast_enable_lightgbm"),
        version: env!("CARGO_PKG_VERSION"),
        build,
        load,
    }
}
