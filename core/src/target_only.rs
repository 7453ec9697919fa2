//! The shared machinery of target-only models (naive, seasonal naive, the
//! moving averages, trend regression): a plugin implements
//! [`TargetOnlyMethod`] (its config, fitted state, fit and forecast) and
//! gets the [`Forecaster`]/[`FittedModel`] implementations, artifact
//! payloads and prediction intervals from here.
//!
//! A fitted target-only model keeps its training series so that prediction
//! intervals can be calibrated on rolling-origin h-step errors
//! ([`crate::interval`]).

use std::fmt::Debug;

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::{
    explain::Explanation,
    interval, model_config,
    taxonomy::{InputKind, ModelFamily},
    CoreError, FittedModel, Forecast, Forecaster, ModelRegistration, PredictRequest, TrainingData,
};

/// Most rolling origins used to calibrate an interval (beyond those needed
/// to reach the horizon).
pub const MAX_CALIBRATION_ORIGINS: usize = 100;

/// A target-only forecasting method: its config type is `Self`.
pub trait TargetOnlyMethod:
    Serialize + DeserializeOwned + Clone + Debug + Send + Sync + 'static
{
    /// Wire name of the model type.
    const MODEL_TYPE: &'static str;

    /// Fitted state.
    type State: Serialize + DeserializeOwned + Clone + Debug + Send + Sync + 'static;

    /// Checks the config's ranges; errors name the field
    /// ([`model_config::field_error`]).
    fn validate(&self) -> Result<(), CoreError>;

    /// Fewest observations the method can fit on.
    fn min_observations(&self) -> usize;

    /// Fits on `y` (already checked to hold at least
    /// [`min_observations`](Self::min_observations) finite values).
    fn fit_state(&self, y: &[f64]) -> Result<Self::State, CoreError>;

    /// Forecasts `horizon` steps after a series of length `n` (at most
    /// [`max_horizon`](Self::max_horizon) steps).
    fn forecast(&self, state: &Self::State, n: usize, horizon: usize) -> Vec<f64>;

    /// Explains step `step` (1-based) of the forecast after `history`;
    /// `None` when the method cannot (the default).
    fn explain(&self, state: &Self::State, history: &[f64], step: usize) -> Option<Explanation> {
        let _ = (state, history, step);
        None
    }

    /// The longest horizon a fitted state can forecast (`None`: any). A
    /// method whose state is a stored forecast path says how long it is;
    /// longer requests are refused.
    fn max_horizon(&self) -> Option<usize> {
        None
    }

    /// Forecasts `horizon` steps after `prefix`, a prefix of the training
    /// series, for the rolling-origin errors of the prediction intervals.
    /// By default the method is refitted on the prefix
    /// ([`fit_forecast`](Self::fit_forecast)); a method whose fit is a
    /// costly search may instead re-run its fitted state over the prefix.
    fn calibration_forecast(
        &self,
        state: &Self::State,
        prefix: &[f64],
        horizon: usize,
    ) -> Option<Vec<f64>> {
        let _ = state;
        self.fit_forecast(prefix, horizon).ok()
    }

    /// The method's own half-widths of a `level` interval for steps
    /// `1..=horizon` after a series of length `n` (e.g. from the forecast
    /// error variance of a statistical model); `None` (the default)
    /// calibrates them on rolling-origin errors instead.
    fn interval_half_widths(
        &self,
        state: &Self::State,
        n: usize,
        horizon: usize,
        level: f64,
    ) -> Option<Vec<f64>> {
        let _ = (state, n, horizon, level);
        None
    }

    /// Fits on `y` and forecasts `horizon` steps: the whole train + predict
    /// path without boxing (used by benchmarks and interval calibration).
    fn fit_forecast(&self, y: &[f64], horizon: usize) -> Result<Vec<f64>, CoreError> {
        check_series(y, self.min_observations(), Self::MODEL_TYPE)?;
        check_horizon(horizon, self.max_horizon(), Self::MODEL_TYPE)?;
        let state = self.fit_state(y)?;
        Ok(self.forecast(&state, y.len(), horizon))
    }
}

fn check_series(y: &[f64], needed: usize, what: &str) -> Result<(), CoreError> {
    if y.len() < needed.max(1) {
        return Err(CoreError::insufficient(what, needed.max(1), y.len()));
    }
    if y.iter().any(|v| !v.is_finite()) {
        return Err(CoreError::input(
            "the target series contains non-finite values",
        ));
    }
    Ok(())
}

fn check_horizon(horizon: usize, max: Option<usize>, what: &str) -> Result<(), CoreError> {
    match max {
        Some(max) if horizon > max => Err(CoreError::input(format!(
            "{what} forecasts at most {max} steps, {horizon} were asked for"
        ))),
        _ => Ok(()),
    }
}

/// An unfitted target-only model.
#[derive(Debug, Clone)]
pub struct TargetOnly<M: TargetOnlyMethod> {
    config: M,
}

impl<M: TargetOnlyMethod> TargetOnly<M> {
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

/// A fitted target-only model: config, fitted state and training series.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(serialize = "", deserialize = ""))]
pub struct FittedTargetOnly<M: TargetOnlyMethod> {
    /// The config it was fitted with.
    pub config: M,
    /// The fitted state.
    pub state: M::State,
    /// The training series (for interval calibration).
    pub history: Vec<f64>,
}

impl<M: TargetOnlyMethod> Forecaster for TargetOnly<M> {
    fn model_type(&self) -> &'static str {
        M::MODEL_TYPE
    }

    fn config_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn fit(&self, data: &TrainingData<'_>) -> Result<Box<dyn FittedModel>, CoreError> {
        Ok(Box::new(fit(&self.config, data.target)?))
    }
}

/// Fits `config` on `y`.
pub fn fit<M: TargetOnlyMethod>(config: &M, y: &[f64]) -> Result<FittedTargetOnly<M>, CoreError> {
    check_series(y, config.min_observations(), M::MODEL_TYPE)?;
    let state = config.fit_state(y)?;
    Ok(FittedTargetOnly {
        config: config.clone(),
        state,
        history: y.to_vec(),
    })
}

impl<M: TargetOnlyMethod> FittedTargetOnly<M> {
    /// The rolling-origin errors of steps `1..=horizon`.
    pub fn calibration_errors(&self, horizon: usize) -> interval::StepErrors {
        let min_train = self.config.min_observations();
        interval::rolling_origin_errors(
            &self.history,
            horizon,
            min_train,
            MAX_CALIBRATION_ORIGINS,
            |prefix, steps| self.config.calibration_forecast(&self.state, prefix, steps),
        )
    }
}

impl<M: TargetOnlyMethod> FittedModel for FittedTargetOnly<M> {
    fn model_type(&self) -> &'static str {
        M::MODEL_TYPE
    }

    fn predict(&self, request: &PredictRequest<'_>) -> Result<Forecast, CoreError> {
        check_horizon(request.horizon, self.config.max_horizon(), M::MODEL_TYPE)?;
        let point = self
            .config
            .forecast(&self.state, self.history.len(), request.horizon);
        let interval = match request.interval_level {
            None => None,
            Some(level) => {
                interval::validate_level(level)?;
                let own = self.config.interval_half_widths(
                    &self.state,
                    self.history.len(),
                    request.horizon,
                    level,
                );
                let widths = own.unwrap_or_else(|| {
                    let errors = self.calibration_errors(request.horizon);
                    interval::half_widths(&errors, request.horizon, level)
                });
                Some(interval::symmetric(&point, &widths, level))
            }
        };
        Ok(Forecast { point, interval })
    }

    fn to_payload(&self) -> Result<Vec<u8>, CoreError> {
        serde_json::to_vec(self).map_err(|e| CoreError::Artifact(e.to_string()))
    }

    fn explain(
        &self,
        request: &PredictRequest<'_>,
        step: usize,
    ) -> Result<Option<Explanation>, CoreError> {
        if step == 0 || step > request.horizon {
            return Err(CoreError::input(format!(
                "step {step} is outside the horizon of {}",
                request.horizon
            )));
        }
        Ok(self.config.explain(&self.state, &self.history, step))
    }
}

/// Builds a [`TargetOnly`] model from a JSON config (the registration's
/// `build`).
pub fn build<M: TargetOnlyMethod>(
    config: &serde_json::Value,
) -> Result<Box<dyn Forecaster>, CoreError> {
    let config: M = model_config::parse(config, M::MODEL_TYPE)?;
    Ok(Box::new(TargetOnly::new(config)?))
}

/// Reloads a [`FittedTargetOnly`] from its payload (the registration's
/// `load`).
pub fn load<M: TargetOnlyMethod>(payload: &[u8]) -> Result<Box<dyn FittedModel>, CoreError> {
    let fitted: FittedTargetOnly<M> = serde_json::from_slice(payload)
        .map_err(|e| CoreError::Artifact(format!("unreadable {} payload: {e}", M::MODEL_TYPE)))?;
    fitted.config.validate()?;
    Ok(Box::new(fitted))
}

/// The registry entry of a target-only method: `build` and `load` are
/// [`build::<M>`] and [`load::<M>`]; `version` is the plugin's
/// `env!("CARGO_PKG_VERSION")`.
pub const fn registration<M: TargetOnlyMethod>(
    family: ModelFamily,
    version: &'static str,
) -> ModelRegistration {
    ModelRegistration {
        name: M::MODEL_TYPE,
        family,
        input: InputKind::TargetOnly,
        flag: None,
        version,
        build: build::<M>,
        load: load::<M>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Mean {
        #[serde(default = "model_config::schema_version")]
        schema_version: String,
        #[serde(default)]
        model_type: String,
    }

    impl TargetOnlyMethod for Mean {
        const MODEL_TYPE: &'static str = "mean_probe";
        type State = f64;
        fn validate(&self) -> Result<(), CoreError> {
            Ok(())
        }
        fn min_observations(&self) -> usize {
            2
        }
        fn fit_state(&self, y: &[f64]) -> Result<f64, CoreError> {
            Ok(y.iter().sum::<f64>() / y.len() as f64)
        }
        fn forecast(&self, state: &f64, _n: usize, horizon: usize) -> Vec<f64> {
            vec![*state; horizon]
        }
    }

    #[test]
    fn fit_predict_reload_and_interval() {
        let model = build::<Mean>(&serde_json::json!({})).unwrap();
        let y: Vec<f64> = (0..50).map(|i| f64::from(i % 5)).collect();
        let fitted = model.fit(&TrainingData::target_only(&y, 1)).unwrap();
        let reloaded = load::<Mean>(&fitted.to_payload().unwrap()).unwrap();
        let request = PredictRequest {
            horizon: 3,
            features: None,
            interval_level: Some(0.8),
        };
        let a = fitted.predict(&request).unwrap();
        let b = reloaded.predict(&request).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.point, vec![2.0; 3]);
        let interval = a.interval.unwrap();
        assert!(interval
            .lower
            .iter()
            .zip(&interval.upper)
            .all(|(l, u)| l < u));
    }

    /// [`Mean`] with its own interval: ±level·h around the mean.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    struct OwnInterval(Mean);

    impl TargetOnlyMethod for OwnInterval {
        const MODEL_TYPE: &'static str = "own_interval_probe";
        type State = f64;
        fn validate(&self) -> Result<(), CoreError> {
            Ok(())
        }
        fn min_observations(&self) -> usize {
            2
        }
        fn fit_state(&self, y: &[f64]) -> Result<f64, CoreError> {
            self.0.fit_state(y)
        }
        fn forecast(&self, state: &f64, n: usize, horizon: usize) -> Vec<f64> {
            self.0.forecast(state, n, horizon)
        }
        fn interval_half_widths(
            &self,
            _state: &f64,
            _n: usize,
            horizon: usize,
            level: f64,
        ) -> Option<Vec<f64>> {
            Some((1..=horizon).map(|h| level * h as f64).collect())
        }
    }

    #[test]
    fn a_method_may_give_its_own_interval() {
        let y = [1.0, 3.0, 2.0, 2.0];
        let config = OwnInterval(Mean {
            schema_version: model_config::schema_version(),
            model_type: String::new(),
        });
        let fitted = fit(&config, &y).unwrap();
        let request = PredictRequest {
            horizon: 2,
            features: None,
            interval_level: Some(0.5),
        };
        let interval = fitted.predict(&request).unwrap().interval.unwrap();
        assert_eq!(interval.lower, vec![1.5, 1.0]);
        assert_eq!(interval.upper, vec![2.5, 3.0]);
    }

    #[test]
    fn registration_uses_the_generic_build_and_load() {
        const ENTRY: ModelRegistration = registration::<Mean>(ModelFamily::Baseline, "9.9.9");
        assert_eq!(ENTRY.name, "mean_probe");
        assert_eq!(ENTRY.family, ModelFamily::Baseline);
        assert_eq!(ENTRY.input, InputKind::TargetOnly);
        assert_eq!((ENTRY.flag, ENTRY.version), (None, "9.9.9"));
        let fitted = (ENTRY.build)(&serde_json::json!({}))
            .unwrap()
            .fit(&TrainingData::target_only(&[1.0, 3.0], 1))
            .unwrap();
        let reloaded = (ENTRY.load)(&fitted.to_payload().unwrap()).unwrap();
        let request = PredictRequest::horizon(2);
        assert_eq!(reloaded.predict(&request).unwrap().point, vec![2.0; 2]);
    }

    #[test]
    fn short_series_and_bad_level() {
        let model = build::<Mean>(&serde_json::json!({})).unwrap();
        let error = model
            .fit(&TrainingData::target_only(&[1.0], 1))
            .unwrap_err();
        assert!(error.to_string().contains("at least 2"));
        let fitted = model
            .fit(&TrainingData::target_only(&[1.0, 2.0], 1))
            .unwrap();
        let request = PredictRequest {
            horizon: 1,
            features: None,
            interval_level: Some(1.5),
        };
        assert!(fitted.predict(&request).is_err());
        assert!(load::<Mean>(b"{not json").is_err());
    }
}
