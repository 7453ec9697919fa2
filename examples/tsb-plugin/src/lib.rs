//! An example third-party model plugin: TSB (Teunter, Syntetos & Babai,
//! 2011), a Croston-type method for intermittent demand.
//!
//! TSB keeps two exponentially smoothed quantities: the probability `p`
//! that a period has demand, updated every period, and the size `z` of a
//! demand when one occurs, updated only in periods with demand:
//!
//! ```text
//! y_t > 0:  p ← p + β(1 − p),  z ← z + α(y_t − z)
//! y_t = 0:  p ← p − βp
//! ```
//!
//! The forecast for every step is `p · z`. Unlike Croston's method, `p`
//! decays through long runs of zeros, so an item that stopped selling is
//! forecast towards zero.
//!
//! The whole plugin is this file: a config type implementing
//! [`TargetOnlyMethod`] (which gives fitting, prediction intervals and
//! artifact payloads) and one `inventory::submit!` registration. A binary
//! that links this crate next to the server library serves the model as
//! `"model_type": "tsb_example"` (see `examples/custom-server`); its own
//! wire name keeps it apart from the built-in `tsb` (statsforecast's
//! variant, which starts both smoothers at the first value rather than at
//! the whole-series rate and size used here).

use forecastlab_core::{
    inventory,
    model_config::{check_float_range, schema_version},
    target_only::{self, TargetOnlyMethod},
    taxonomy::ModelFamily,
    CoreError,
};
use serde::{Deserialize, Serialize};

/// Wire name of the model type.
pub const MODEL_TYPE: &str = "tsb_example";

/// TSB configuration (unknown keys rejected).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tsb {
    /// Config schema version (`"1.0"`).
    #[serde(default = "schema_version")]
    pub schema_version: String,
    /// Always `tsb_example`.
    #[serde(default = "model_type")]
    pub model_type: String,
    /// Smoothing of the demand size (0.1; 0.01–1).
    #[serde(default = "default_smoothing")]
    pub alpha: f64,
    /// Smoothing of the demand probability (0.1; 0.01–1).
    #[serde(default = "default_smoothing")]
    pub beta: f64,
}

fn model_type() -> String {
    MODEL_TYPE.to_owned()
}

fn default_smoothing() -> f64 {
    0.1
}

/// Fitted TSB state: the smoothed probability and size after the last
/// observation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TsbState {
    /// Probability that a period has demand.
    pub probability: f64,
    /// Size of a demand when one occurs.
    pub size: f64,
}

impl TargetOnlyMethod for Tsb {
    const MODEL_TYPE: &'static str = MODEL_TYPE;
    type State = TsbState;

    fn validate(&self) -> Result<(), CoreError> {
        check_float_range("alpha", self.alpha, 0.01, 1.0)?;
        check_float_range("beta", self.beta, 0.01, 1.0)
    }

    fn min_observations(&self) -> usize {
        1
    }

    fn fit_state(&self, y: &[f64]) -> Result<TsbState, CoreError> {
        // Start from the whole-series demand rate and mean demand size.
        let demands: Vec<f64> = y.iter().copied().filter(|v| *v > 0.0).collect();
        let mut probability = demands.len() as f64 / y.len() as f64;
        let mut size = if demands.is_empty() {
            0.0
        } else {
            demands.iter().sum::<f64>() / demands.len() as f64
        };
        for &value in y {
            if value > 0.0 {
                probability += self.beta * (1.0 - probability);
                size += self.alpha * (value - size);
            } else {
                probability -= self.beta * probability;
            }
        }
        Ok(TsbState { probability, size })
    }

    fn forecast(&self, state: &TsbState, _n: usize, horizon: usize) -> Vec<f64> {
        vec![state.probability * state.size; horizon]
    }
}

inventory::submit! {
    target_only::registration::<Tsb>(ModelFamily::Baseline, env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use forecastlab_core::{model, PredictRequest, TrainingData};
    use serde_json::json;

    use super::*;

    fn tsb(alpha: f64, beta: f64) -> Tsb {
        Tsb {
            schema_version: schema_version(),
            model_type: model_type(),
            alpha,
            beta,
        }
    }

    #[test]
    fn follows_the_tsb_recursions() {
        // Start: p = 2/4, z = (4 + 2)/2 = 3.
        // 0: p = 0.5·0.5 = 0.25
        // 4: p = 0.25 + 0.5·0.75 = 0.625, z = 3 + 0.5·1 = 3.5
        // 0: p = 0.3125
        // 2: p = 0.3125 + 0.5·0.6875 = 0.65625, z = 3.5 + 0.5·(−1.5) = 2.75
        let state = tsb(0.5, 0.5).fit_state(&[0.0, 4.0, 0.0, 2.0]).unwrap();
        assert!((state.probability - 0.65625).abs() < 1e-12);
        assert!((state.size - 2.75).abs() < 1e-12);
        assert_eq!(
            tsb(0.5, 0.5).forecast(&state, 4, 2),
            vec![0.65625 * 2.75; 2]
        );
    }

    #[test]
    fn decays_towards_zero_after_demand_stops() {
        let mut y = vec![5.0; 20];
        y.extend([0.0; 30]);
        let state = tsb(0.1, 0.2).fit_state(&y).unwrap();
        assert!(state.probability < 0.01);
        assert!((state.size - 5.0).abs() < 1e-9);
    }

    #[test]
    fn registered_and_validated_through_the_registry() {
        let registration = model(MODEL_TYPE).expect("tsb_example is registered");
        assert!((registration.build)(&json!({"alpha": 0.0})).is_err());
        assert!((registration.build)(&json!({"gamma": 0.1})).is_err());
        let model = (registration.build)(&json!({"alpha": 0.2, "beta": 0.3})).unwrap();
        let y = [0.0, 3.0, 0.0, 0.0, 6.0, 0.0, 2.0, 0.0, 0.0, 4.0];
        let fitted = model.fit(&TrainingData::target_only(&y, 42)).unwrap();
        let forecast = fitted.predict(&PredictRequest::horizon(3)).unwrap();
        let expected = tsb(0.2, 0.3).fit_state(&y).unwrap();
        assert_eq!(
            forecast.point,
            vec![expected.probability * expected.size; 3]
        );
        let reloaded = (registration.load)(&fitted.to_payload().unwrap()).unwrap();
        assert_eq!(
            reloaded.predict(&PredictRequest::horizon(3)).unwrap().point,
            forecast.point
        );
    }
}
