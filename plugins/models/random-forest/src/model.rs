//! Fitting and predicting with smartcore's random forest.

use forecastlab_core::{
    explain::Explanation,
    inventory,
    taxonomy::{InputKind, ModelFamily},
    tree_model::{self, RowShap},
    CoreError, FittedModel, Forecast, Forecaster, ModelRegistration, PredictRequest, TrainingData,
};
use serde::{Deserialize, Serialize};
use smartcore::{
    ensemble::random_forest_regressor::{RandomForestRegressor, RandomForestRegressorParameters},
    linalg::basic::matrix::DenseMatrix,
};

use crate::{shap, RandomForestConfig, MODEL_TYPE};

/// Version of the payload layout written by [`FittedRandomForest::to_payload`].
const PAYLOAD_VERSION: u32 = 1;

/// smartcore's forest over dense `f64` rows.
type Forest = RandomForestRegressor<f64, f64, DenseMatrix<f64>, Vec<f64>>;

/// Unfitted random forest.
#[derive(Debug, Clone)]
pub(crate) struct RandomForest {
    config: RandomForestConfig,
}

/// Fitted random forest.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct FittedRandomForest {
    payload_version: u32,
    /// Feature column names, in training order.
    columns: Vec<String>,
    /// Per-column training medians that replace missing (NaN) values.
    fill: Vec<f64>,
    forest: Forest,
    /// Training rows through each node of each tree (TreeSHAP's weights);
    /// empty in payloads written before explanations existed.
    #[serde(default)]
    covers: Vec<Vec<u32>>,
    /// Absolute one-step errors on the held-out tail (interval calibration).
    holdout_errors: Vec<f64>,
}

fn rf_error(error: smartcore::error::Failed) -> CoreError {
    CoreError::input(format!("random forest: {error}"))
}

/// The spec's `RandomForestRegressor(n_estimators, max_depth,
/// min_samples_leaf, random_state, n_jobs = 1)` with scikit-learn's other
/// defaults: bootstrap samples, every feature considered at every split
/// (`max_features = 1.0`), `min_samples_split = 2`.
pub(crate) fn parameters(
    config: &RandomForestConfig,
    seed: u64,
    n_cols: usize,
) -> RandomForestRegressorParameters {
    RandomForestRegressorParameters {
        max_depth: config.max_depth.map(|d| d as u16),
        min_samples_leaf: config.min_samples_leaf as usize,
        min_samples_split: 2,
        n_trees: config.n_estimators as usize,
        m: Some(n_cols),
        keep_samples: false,
        seed,
    }
}

/// Median of the finite values of column `c` (0 when there are none).
fn column_medians(x: &[f64], n_cols: usize) -> Vec<f64> {
    (0..n_cols)
        .map(|c| {
            let mut column: Vec<f64> = x
                .iter()
                .skip(c)
                .step_by(n_cols)
                .copied()
                .filter(|v| v.is_finite())
                .collect();
            if column.is_empty() {
                return 0.0;
            }
            column.sort_unstable_by(f64::total_cmp);
            let mid = column.len() / 2;
            if column.len().is_multiple_of(2) {
                (column[mid - 1] + column[mid]) / 2.0
            } else {
                column[mid]
            }
        })
        .collect()
}

/// Row-major values with non-finite entries replaced by `fill`.
fn dense(x: &[f64], n_cols: usize, fill: &[f64]) -> Result<DenseMatrix<f64>, CoreError> {
    let values = filled(x, n_cols, fill);
    DenseMatrix::new(values.len() / n_cols, n_cols, values, false).map_err(rf_error)
}

/// Row-major values with non-finite entries replaced by `fill`.
fn filled(x: &[f64], n_cols: usize, fill: &[f64]) -> Vec<f64> {
    x.iter()
        .enumerate()
        .map(|(i, &v)| if v.is_finite() { v } else { fill[i % n_cols] })
        .collect()
}

/// The forest fitted on `x` (missing values filled with the column
/// medians), and those medians.
fn train(
    x: &[f64],
    y: &[f64],
    n_cols: usize,
    params: RandomForestRegressorParameters,
) -> Result<(Forest, Vec<f64>), CoreError> {
    let fill = column_medians(x, n_cols);
    let matrix = dense(x, n_cols, &fill)?;
    let forest = RandomForestRegressor::fit(&matrix, &y.to_vec(), params).map_err(rf_error)?;
    Ok((forest, fill))
}

impl RandomForest {
    /// Fits the booster and, when `calibrate`, the held-out calibration
    /// model whose errors give the intervals.
    fn fit_inner(
        &self,
        data: &TrainingData<'_>,
        calibrate: bool,
    ) -> Result<Box<dyn FittedModel>, CoreError> {
        let x = tree_model::training_matrix(data, MODEL_TYPE, 2)?;
        let width = x.n_cols();
        let params = || parameters(&self.config, data.seed, width);
        let (forest, fill) = train(x.values(), data.target, width, params())?;
        let covers = shap::covers(&forest, &filled(x.values(), width, &fill), width)?;

        let holdout_errors = if calibrate {
            tree_model::holdout_errors(x, data.target, |fit, target, hold| {
                let (calibration, fill) = train(fit, target, width, params())?;
                let held = dense(hold, width, &fill)?;
                calibration.predict(&held).map_err(rf_error)
            })?
        } else {
            Vec::new()
        };

        Ok(Box::new(FittedRandomForest {
            payload_version: PAYLOAD_VERSION,
            columns: x.columns().to_vec(),
            fill,
            forest,
            covers,
            holdout_errors,
        }))
    }
}

impl Forecaster for RandomForest {
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

impl FittedModel for FittedRandomForest {
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
                let matrix = dense(x.values(), x.n_cols(), &self.fill)?;
                self.forest.predict(&matrix).map_err(rf_error)
            },
        )
    }

    fn to_payload(&self) -> Result<Vec<u8>, CoreError> {
        tree_model::encode_payload(self)
    }

    /// Exact TreeSHAP over the forest's trees ([`shap`]); a model saved
    /// before explanations existed (no covers) cannot explain itself.
    fn explain(
        &self,
        request: &PredictRequest<'_>,
        step: usize,
    ) -> Result<Option<Explanation>, CoreError> {
        if self.covers.is_empty() {
            return Ok(None);
        }
        tree_model::explain_step(request, &self.columns, MODEL_TYPE, step, |row| {
            let row = filled(row, row.len(), &self.fill);
            let (base_value, contributions) = shap::shap_values(&self.forest, &self.covers, &row)?;
            let matrix = dense(&row, row.len(), &self.fill)?;
            let prediction = *self
                .forest
                .predict(&matrix)
                .map_err(rf_error)?
                .first()
                .ok_or_else(|| CoreError::input("random forest predicted no row"))?;
            Ok(RowShap {
                base_value,
                contributions,
                prediction,
            })
        })
    }
}

fn build(config: &serde_json::Value) -> Result<Box<dyn Forecaster>, CoreError> {
    Ok(Box::new(RandomForest {
        config: RandomForestConfig::from_json(config)?,
    }))
}

fn load(payload: &[u8]) -> Result<Box<dyn FittedModel>, CoreError> {
    let fitted: FittedRandomForest = tree_model::decode_payload(payload)?;
    tree_model::check_payload_version(MODEL_TYPE, fitted.payload_version, PAYLOAD_VERSION)?;
    if fitted.fill.len() != fitted.columns.len() {
        return Err(CoreError::Artifact(
            "random_forest payload: fill values do not match the columns".into(),
        ));
    }
    Ok(Box::new(fitted))
}

inventory::submit! {
    ModelRegistration {
        name: MODEL_TYPE,
        family: ModelFamily::Tree,
        input: InputKind::FeatureAware,
        flag: Some("forecast_enable_random_forest"),
        version: env!("CARGO_PKG_VERSION"),
        build,
        load,
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn medians_skip_missing_values() {
        let x = [1.0, f64::NAN, 3.0, f64::NAN, 2.0, f64::NAN];
        assert_eq!(column_medians(&x, 2), vec![2.0, 0.0]);
        let m = dense(&x, 2, &[2.0, 0.0]).unwrap();
        use smartcore::linalg::basic::arrays::Array;
        assert_eq!(*m.get((0, 1)), 0.0);
        assert_eq!(*m.get((2, 0)), 2.0);
    }
}
