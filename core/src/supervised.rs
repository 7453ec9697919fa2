//! Shared plumbing of feature-aware models (regression, prophet-like, the
//! opt-in tree models): checking the shapes of X and y, matching the
//! prediction columns to the training columns, and calibrating prediction
//! intervals on a held-out tail of the training rows
//! ([`crate::interval::scaled_half_widths`]).
//!
//! An always-on feature-aware plugin implements [`SupervisedMethod`] (its
//! config, fitted estimator, fit and predict) and gets the
//! [`Forecaster`]/[`FittedModel`] implementations, the held-out interval
//! calibration, artifact payloads and its registry entry from here, as a
//! target-only plugin does from [`crate::target_only`].

use std::{fmt::Debug, marker::PhantomData};

use serde::{
    de::{self, DeserializeOwned, IgnoredAny, MapAccess, Visitor},
    ser::SerializeStruct,
    Deserialize, Deserializer, Serialize, Serializer,
};

use crate::{
    explain::Explanation,
    interval, model_config,
    taxonomy::{InputKind, ModelFamily},
    CoreError, FeatureMatrix, FittedModel, Forecast, Forecaster, ModelRegistration, PredictRequest,
    TrainingData,
};

/// Fewest training rows a held-out calibration tail is taken from; below
/// this, intervals use in-sample residuals.
pub const MIN_ROWS_FOR_HOLDOUT: usize = 30;

/// The training matrix and target, checked: X present, one row per target
/// value, at least `min_rows` rows, a finite target.
pub fn training_inputs<'a>(
    data: &TrainingData<'a>,
    what: &str,
    min_rows: usize,
) -> Result<(&'a FeatureMatrix, &'a [f64]), CoreError> {
    let x = data
        .features
        .ok_or_else(|| CoreError::input(format!("{what} requires a feature matrix (X) to fit")))?;
    let y = data.target;
    if y.len() < min_rows.max(1) {
        return Err(CoreError::insufficient(what, min_rows.max(1), y.len()));
    }
    if x.n_rows() != y.len() {
        return Err(CoreError::input(format!(
            "X has {} rows but y has {} values",
            x.n_rows(),
            y.len()
        )));
    }
    if x.n_cols() == 0 {
        return Err(CoreError::input(format!(
            "{what} needs at least one feature column"
        )));
    }
    if y.iter().any(|v| !v.is_finite()) {
        return Err(CoreError::input("the target contains non-finite values"));
    }
    Ok((x, y))
}

/// The prediction matrix, checked: present, one row per horizon step, and
/// the same columns as at training time (same names, same order).
pub fn prediction_inputs<'a>(
    request: &PredictRequest<'a>,
    columns: &[String],
    what: &str,
) -> Result<&'a FeatureMatrix, CoreError> {
    let x = request.features.ok_or_else(|| {
        CoreError::input(format!(
            "{what} requires future feature rows (X) to predict"
        ))
    })?;
    if x.n_rows() != request.horizon {
        return Err(CoreError::input(format!(
            "X has {} rows but the horizon is {}",
            x.n_rows(),
            request.horizon
        )));
    }
    if x.columns() != columns {
        return Err(CoreError::input(format!(
            "prediction columns [{}] differ from the training columns [{}]",
            x.columns().join(", "),
            columns.join(", ")
        )));
    }
    Ok(x)
}

/// Rows `range` of `x` as a new matrix.
pub fn slice_rows(x: &FeatureMatrix, range: std::ops::Range<usize>) -> FeatureMatrix {
    let width = x.n_cols();
    FeatureMatrix::from_row_major(
        x.columns().to_vec(),
        x.values()[range.start * width..range.end * width].to_vec(),
    )
    .unwrap_or_else(|_| FeatureMatrix::new(x.columns().to_vec()))
}

/// Size of the held-out calibration tail for `n` rows: a fifth, at least
/// 10; 0 when `n` is below [`MIN_ROWS_FOR_HOLDOUT`].
pub fn holdout_size(n: usize) -> usize {
    if n < MIN_ROWS_FOR_HOLDOUT {
        0
    } else {
        (n / 5).max(10)
    }
}

/// Absolute errors on the held-out tail: `fit_predict(x_head, y_head,
/// x_tail)` fits on the head and predicts the tail. Falls back to
/// `in_sample` errors when the series is too short for a tail.
pub fn calibration_errors<F>(
    x: &FeatureMatrix,
    y: &[f64],
    in_sample: &[f64],
    fit_predict: F,
) -> Result<Vec<f64>, CoreError>
where
    F: FnOnce(&FeatureMatrix, &[f64], &FeatureMatrix) -> Result<Vec<f64>, CoreError>,
{
    let n = y.len();
    let tail = holdout_size(n);
    if tail == 0 {
        return Ok(y
            .iter()
            .zip(in_sample)
            .map(|(a, p)| (a - p).abs())
            .filter(|e| e.is_finite())
            .collect());
    }
    let head = n - tail;
    let predicted = fit_predict(&slice_rows(x, 0..head), &y[..head], &slice_rows(x, head..n))?;
    Ok(y[head..]
        .iter()
        .zip(&predicted)
        .map(|(a, p)| (a - p).abs())
        .filter(|e| e.is_finite())
        .collect())
}

/// A forecast from `point`, with an interval from the calibration errors
/// when `level` is given.
pub fn forecast_with_interval(
    point: Vec<f64>,
    calibration: &[f64],
    level: Option<f64>,
) -> Result<Forecast, CoreError> {
    let interval = match level {
        None => None,
        Some(level) => {
            interval::validate_level(level)?;
            let widths = interval::scaled_half_widths(calibration, point.len(), level);
            Some(interval::symmetric(&point, &widths, level))
        }
    };
    Ok(Forecast { point, interval })
}

/// A feature-aware forecasting method fitted on (X, y): its config type is
/// `Self`.
pub trait SupervisedMethod:
    Serialize + DeserializeOwned + Clone + Debug + Send + Sync + 'static
{
    /// Wire name of the model type.
    const MODEL_TYPE: &'static str;

    /// Key of the fitted estimator in the artifact payload, between
    /// `columns` and `calibration` (`booster`, `pipeline`, …).
    const PAYLOAD_FIELD: &'static str;

    /// The fitted estimator.
    type Model: Serialize + DeserializeOwned + Debug + Send + Sync + 'static;

    /// Checks the config's ranges; errors name the field
    /// ([`model_config::field_error`]).
    fn validate(&self) -> Result<(), CoreError>;

    /// Fewest training rows the method can fit on (2 unless overridden).
    fn min_rows(&self) -> usize {
        2
    }

    /// Fits the estimator on checked inputs ([`training_inputs`]).
    fn fit_model(&self, x: &FeatureMatrix, y: &[f64], seed: u64) -> Result<Self::Model, CoreError>;

    /// Predicts one value per row of `x`.
    fn predict_model(&self, model: &Self::Model, x: &FeatureMatrix) -> Vec<f64>;

    /// Explains the prediction of row `row` of `x` (contributions that add
    /// up to it); `None` when the method cannot (the default).
    fn explain_model(
        &self,
        model: &Self::Model,
        x: &FeatureMatrix,
        row: usize,
    ) -> Option<Explanation> {
        let _ = (model, x, row);
        None
    }
}

/// An unfitted feature-aware model.
#[derive(Debug, Clone)]
pub struct Supervised<M: SupervisedMethod> {
    config: M,
}

impl<M: SupervisedMethod> Supervised<M> {
    /// Wraps a validated config.
    pub fn new(config: M) -> Result<Self, CoreError> {
        config.validate()?;
        Ok(Self { config })
    }

    /// The config.
    pub fn config(&self) -> &M {
        &self.config
    }
}

/// A fitted feature-aware model: config, training columns, fitted estimator
/// and the absolute errors that calibrate its intervals. Its payload is the
/// JSON object `{config, columns, <PAYLOAD_FIELD>, calibration}`.
#[derive(Debug)]
pub struct FittedSupervised<M: SupervisedMethod> {
    /// The config it was fitted with.
    pub config: M,
    /// The training columns, in order.
    pub columns: Vec<String>,
    /// The fitted estimator.
    pub model: M::Model,
    /// Absolute errors on the held-out calibration tail
    /// ([`calibration_errors`]).
    pub calibration: Vec<f64>,
}

/// Fits `config` on `data`: checks the inputs, fits the estimator, and
/// calibrates intervals on a held-out tail fitted with the same seed.
pub fn fit<M: SupervisedMethod>(
    config: &M,
    data: &TrainingData<'_>,
) -> Result<FittedSupervised<M>, CoreError> {
    let (x, y) = training_inputs(data, M::MODEL_TYPE, config.min_rows())?;
    let model = config.fit_model(x, y, data.seed)?;
    let in_sample = config.predict_model(&model, x);
    let calibration = calibration_errors(x, y, &in_sample, |x_head, y_head, x_tail| {
        let head = config.fit_model(x_head, y_head, data.seed)?;
        Ok(config.predict_model(&head, x_tail))
    })?;
    Ok(FittedSupervised {
        config: config.clone(),
        columns: x.columns().to_vec(),
        model,
        calibration,
    })
}

/// [`fit`] without the interval calibration (no held-out refit, no
/// in-sample prediction): the fitted model forecasts points, and an interval
/// asked of it has no bounds. Backtests fit this way.
pub fn fit_point<M: SupervisedMethod>(
    config: &M,
    data: &TrainingData<'_>,
) -> Result<FittedSupervised<M>, CoreError> {
    let (x, y) = training_inputs(data, M::MODEL_TYPE, config.min_rows())?;
    let model = config.fit_model(x, y, data.seed)?;
    Ok(FittedSupervised {
        config: config.clone(),
        columns: x.columns().to_vec(),
        model,
        calibration: Vec::new(),
    })
}

impl<M: SupervisedMethod> Forecaster for Supervised<M> {
    fn model_type(&self) -> &'static str {
        M::MODEL_TYPE
    }

    fn config_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn fit(&self, data: &TrainingData<'_>) -> Result<Box<dyn FittedModel>, CoreError> {
        Ok(Box::new(fit(&self.config, data)?))
    }

    fn fit_point(&self, data: &TrainingData<'_>) -> Result<Box<dyn FittedModel>, CoreError> {
        Ok(Box::new(fit_point(&self.config, data)?))
    }
}

impl<M: SupervisedMethod> FittedModel for FittedSupervised<M> {
    fn model_type(&self) -> &'static str {
        M::MODEL_TYPE
    }

    fn predict(&self, request: &PredictRequest<'_>) -> Result<Forecast, CoreError> {
        let x = prediction_inputs(request, &self.columns, M::MODEL_TYPE)?;
        let point = self.config.predict_model(&self.model, x);
        forecast_with_interval(point, &self.calibration, request.interval_level)
    }

    fn to_payload(&self) -> Result<Vec<u8>, CoreError> {
        serde_json::to_vec(self).map_err(|e| CoreError::Artifact(e.to_string()))
    }

    fn explain(
        &self,
        request: &PredictRequest<'_>,
        step: usize,
    ) -> Result<Option<Explanation>, CoreError> {
        let x = prediction_inputs(request, &self.columns, M::MODEL_TYPE)?;
        if step == 0 || step > x.n_rows() {
            return Err(CoreError::input(format!(
                "step {step} is outside the horizon of {}",
                x.n_rows()
            )));
        }
        Ok(self.config.explain_model(&self.model, x, step - 1))
    }
}

impl<M: SupervisedMethod> Serialize for FittedSupervised<M> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut payload = serializer.serialize_struct("FittedSupervised", 4)?;
        payload.serialize_field("config", &self.config)?;
        payload.serialize_field("columns", &self.columns)?;
        payload.serialize_field(M::PAYLOAD_FIELD, &self.model)?;
        payload.serialize_field("calibration", &self.calibration)?;
        payload.end()
    }
}

impl<'de, M: SupervisedMethod> Deserialize<'de> for FittedSupervised<M> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(PayloadVisitor(PhantomData))
    }
}

/// Reads the payload object; unknown keys are skipped, as a derived
/// `Deserialize` does.
struct PayloadVisitor<M>(PhantomData<M>);

impl<'de, M: SupervisedMethod> Visitor<'de> for PayloadVisitor<M> {
    type Value = FittedSupervised<M>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "a fitted {} model", M::MODEL_TYPE)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut config = None;
        let mut columns = None;
        let mut model = None;
        let mut calibration = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "config" => next_field(&mut map, &mut config, "config")?,
                "columns" => next_field(&mut map, &mut columns, "columns")?,
                "calibration" => next_field(&mut map, &mut calibration, "calibration")?,
                field if field == M::PAYLOAD_FIELD => {
                    next_field(&mut map, &mut model, M::PAYLOAD_FIELD)?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(FittedSupervised {
            config: config.ok_or_else(|| de::Error::missing_field("config"))?,
            columns: columns.ok_or_else(|| de::Error::missing_field("columns"))?,
            model: model.ok_or_else(|| de::Error::missing_field(M::PAYLOAD_FIELD))?,
            calibration: calibration.ok_or_else(|| de::Error::missing_field("calibration"))?,
        })
    }
}

/// Reads the value of field `name` into `slot`; a second occurrence is an
/// error.
fn next_field<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    map: &mut A,
    slot: &mut Option<T>,
    name: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

/// Builds a [`Supervised`] model from a JSON config (the registration's
/// `build`).
pub fn build<M: SupervisedMethod>(
    config: &serde_json::Value,
) -> Result<Box<dyn Forecaster>, CoreError> {
    let config: M = model_config::parse(config, M::MODEL_TYPE)?;
    Ok(Box::new(Supervised::new(config)?))
}

/// Reloads a [`FittedSupervised`] from its payload (the registration's
/// `load`).
pub fn load<M: SupervisedMethod>(payload: &[u8]) -> Result<Box<dyn FittedModel>, CoreError> {
    let fitted: FittedSupervised<M> = serde_json::from_slice(payload)
        .map_err(|e| CoreError::Artifact(format!("unreadable {} payload: {e}", M::MODEL_TYPE)))?;
    fitted.config.validate()?;
    Ok(Box::new(fitted))
}

/// The registry entry of an always-on feature-aware method (no opt-in
/// flag): `build` and `load` are [`build::<M>`] and [`load::<M>`];
/// `version` is the plugin's `env!("CARGO_PKG_VERSION")`.
pub const fn registration<M: SupervisedMethod>(
    family: ModelFamily,
    version: &'static str,
) -> ModelRegistration {
    ModelRegistration {
        name: M::MODEL_TYPE,
        family,
        input: InputKind::FeatureAware,
        flag: None,
        version,
        build: build::<M>,
        load: load::<M>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(rows: usize) -> FeatureMatrix {
        FeatureMatrix::from_row_major(
            vec!["a".into(), "b".into()],
            (0..rows * 2).map(|v| v as f64).collect(),
        )
        .unwrap()
    }

    #[test]
    fn shapes_are_checked() {
        let x = matrix(3);
        let y = [1.0, 2.0, 3.0];
        let ok = TrainingData {
            target: &y,
            features: Some(&x),
            seed: 1,
        };
        assert!(training_inputs(&ok, "m", 2).is_ok());
        assert!(training_inputs(&ok, "m", 4).is_err());
        let missing = TrainingData::target_only(&y, 1);
        assert!(training_inputs(&missing, "m", 1).is_err());
        let short = [1.0, 2.0];
        let mismatch = TrainingData {
            target: &short,
            features: Some(&x),
            seed: 1,
        };
        assert!(training_inputs(&mismatch, "m", 1).is_err());
        let request = PredictRequest {
            horizon: 3,
            features: Some(&x),
            interval_level: None,
        };
        assert!(prediction_inputs(&request, x.columns(), "m").is_ok());
        assert!(prediction_inputs(&request, &["a".into()], "m").is_err());
    }

    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct MeanProbe {
        #[serde(default = "model_config::schema_version")]
        schema_version: String,
        #[serde(default)]
        model_type: String,
    }

    impl SupervisedMethod for MeanProbe {
        const MODEL_TYPE: &'static str = "mean_probe";
        const PAYLOAD_FIELD: &'static str = "mean";
        type Model = f64;
        fn validate(&self) -> Result<(), CoreError> {
            Ok(())
        }
        fn fit_model(&self, _x: &FeatureMatrix, y: &[f64], _seed: u64) -> Result<f64, CoreError> {
            Ok(y.iter().sum::<f64>() / y.len() as f64)
        }
        fn predict_model(&self, model: &f64, x: &FeatureMatrix) -> Vec<f64> {
            vec![*model; x.n_rows()]
        }
    }

    #[test]
    fn fit_predict_reload_and_payload_keys() {
        let x = matrix(40);
        let y: Vec<f64> = (0..40).map(|i| f64::from(i % 4)).collect();
        let model = build::<MeanProbe>(&serde_json::json!({})).unwrap();
        let fitted = model
            .fit(&TrainingData {
                target: &y,
                features: Some(&x),
                seed: 1,
            })
            .unwrap();
        let payload = fitted.to_payload().unwrap();
        let value: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        let keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["config", "columns", "mean", "calibration"]);
        let reloaded = load::<MeanProbe>(&payload).unwrap();
        let future = matrix(3);
        let request = PredictRequest {
            horizon: 3,
            features: Some(&future),
            interval_level: Some(0.8),
        };
        let forecast = fitted.predict(&request).unwrap();
        assert_eq!(forecast, reloaded.predict(&request).unwrap());
        assert_eq!(forecast.point, vec![1.5; 3]);
        assert!(forecast.interval.is_some());
        let missing = load::<MeanProbe>(br#"{"config": {}, "columns": [], "mean": 1.0}"#);
        assert!(missing
            .unwrap_err()
            .to_string()
            .contains("unreadable mean_probe payload: missing field `calibration`"));
        let twice =
            br#"{"config": {}, "config": {}, "columns": [], "mean": 1.0, "calibration": []}"#;
        assert!(load::<MeanProbe>(twice)
            .unwrap_err()
            .to_string()
            .contains("duplicate field `config`"));
    }

    #[test]
    fn registration_uses_the_generic_build_and_load() {
        const ENTRY: ModelRegistration = registration::<MeanProbe>(ModelFamily::Tree, "9.9.9");
        assert_eq!(ENTRY.name, "mean_probe");
        assert_eq!(ENTRY.family, ModelFamily::Tree);
        assert_eq!(ENTRY.input, InputKind::FeatureAware);
        assert_eq!((ENTRY.flag, ENTRY.version), (None, "9.9.9"));
        let error = (ENTRY.build)(&serde_json::json!({"depth": 1})).unwrap_err();
        assert!(error.to_string().contains("depth"), "{error}");
        assert!((ENTRY.load)(b"{not json").is_err());
    }

    #[test]
    fn slicing_and_holdout() {
        let x = matrix(5);
        let tail = slice_rows(&x, 3..5);
        assert_eq!(tail.n_rows(), 2);
        assert_eq!(tail.row(0), x.row(3));
        assert_eq!(holdout_size(29), 0);
        assert_eq!(holdout_size(30), 10);
        assert_eq!(holdout_size(100), 20);
    }
}
