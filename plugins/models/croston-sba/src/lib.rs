//! Croston's method with the Syntetos–Boylan approximation, as
//! statsforecast's `CrostonSBA`: the classic Croston forecast times
//! 1 − α/2 = 0.95, which removes its upward bias.

use forecastlab_core::{
    inventory,
    model_config::schema_version,
    target_only::{self, TargetOnlyMethod},
    taxonomy::ModelFamily,
    CoreError,
};
use forecastlab_model_croston::{croston_mean, ALPHA};
use serde::{Deserialize, Serialize};

const MODEL_TYPE: &str = "croston_sba";

/// Configuration of Croston-SBA (no tunable fields; unknown keys rejected).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrostonSbaConfig {
    /// Config schema version.
    #[serde(default = "schema_version")]
    pub schema_version: String,
    /// Always `croston_sba`.
    #[serde(default = "model_type")]
    pub model_type: String,
}

fn model_type() -> String {
    MODEL_TYPE.to_owned()
}

/// The SBA forecast of one step after `y`.
pub fn sba_mean(y: &[f64]) -> f64 {
    (1.0 - ALPHA / 2.0) * croston_mean(y)
}

impl TargetOnlyMethod for CrostonSbaConfig {
    const MODEL_TYPE: &'static str = MODEL_TYPE;
    /// The constant forecast.
    type State = f64;

    fn validate(&self) -> Result<(), CoreError> {
        Ok(())
    }

    fn min_observations(&self) -> usize {
        1
    }

    fn fit_state(&self, y: &[f64]) -> Result<f64, CoreError> {
        Ok(sba_mean(y))
    }

    fn forecast(&self, state: &f64, _n: usize, horizon: usize) -> Vec<f64> {
        vec![*state; horizon]
    }
}

inventory::submit! {
    target_only::registration::<CrostonSbaConfig>(ModelFamily::Baseline, env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use forecastlab_core::{PredictRequest, TrainingData};

    #[test]
    fn is_the_debiased_croston_forecast() {
        let y = [0.0, 3.0, 0.0, 0.0, 5.0, 0.0];
        assert!((sba_mean(&y) - 0.95 * 3.2 / 2.1).abs() < 1e-12);
        let model = target_only::build::<CrostonSbaConfig>(&serde_json::json!({})).unwrap();
        let fitted = model.fit(&TrainingData::target_only(&y, 1)).unwrap();
        let request = PredictRequest {
            horizon: 3,
            features: None,
            interval_level: Some(0.8),
        };
        let forecast = fitted.predict(&request).unwrap();
        assert_eq!(forecast.point, vec![sba_mean(&y); 3]);
        assert!(forecast.interval.is_some());
        let reloaded =
            target_only::load::<CrostonSbaConfig>(&fitted.to_payload().unwrap()).unwrap();
        assert_eq!(reloaded.predict(&request).unwrap(), forecast);
        assert!(target_only::build::<CrostonSbaConfig>(&serde_json::json!({"x": 1})).is_err());
    }
}
