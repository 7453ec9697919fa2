//! Croston's method (classic), as statsforecast's `CrostonClassic`: simple
//! exponential smoothing (α = 0.1) of the non-zero demand sizes `z` and of
//! the intervals between demands `p`; every step forecasts `z / p`. A
//! series without any demand forecasts zero.

use forecastlab_core::{
    inventory,
    model_config::schema_version,
    smoothing,
    target_only::{self, TargetOnlyMethod},
    taxonomy::ModelFamily,
    CoreError,
};
use serde::{Deserialize, Serialize};

const MODEL_TYPE: &str = "croston";

/// Smoothing of both the demand sizes and the intervals.
pub const ALPHA: f64 = 0.1;

/// Configuration of Croston's method (no tunable fields; unknown keys
/// rejected).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrostonConfig {
    /// Config schema version.
    #[serde(default = "schema_version")]
    pub schema_version: String,
    /// Always `croston`.
    #[serde(default = "model_type")]
    pub model_type: String,
}

fn model_type() -> String {
    MODEL_TYPE.to_owned()
}

/// Croston's classic forecast of one step after `y`: the smoothed demand
/// size over the smoothed interval (0 when `y` has no demand).
pub fn croston_mean(y: &[f64]) -> f64 {
    let sizes = smoothing::demand(y);
    if sizes.is_empty() {
        return 0.0;
    }
    let size = smoothing::ses_forecast(&sizes, ALPHA);
    let interval = smoothing::ses_forecast(&smoothing::intervals(y), ALPHA);
    if interval == 0.0 {
        size
    } else {
        size / interval
    }
}

impl TargetOnlyMethod for CrostonConfig {
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
        Ok(croston_mean(y))
    }

    fn forecast(&self, state: &f64, _n: usize, horizon: usize) -> Vec<f64> {
        vec![*state; horizon]
    }
}

inventory::submit! {
    target_only::registration::<CrostonConfig>(ModelFamily::Baseline, env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use forecastlab_core::{PredictRequest, TrainingData};

    #[test]
    fn hand_computed_forecast() {
        // Demands 3, 5 at positions 2 and 5 (1-based): sizes [3, 5] →
        // SES 0.1·5 + 0.9·3 = 3.2; intervals [2, 3] → 0.1·3 + 0.9·2 = 2.1.
        let y = [0.0, 3.0, 0.0, 0.0, 5.0, 0.0];
        assert!((croston_mean(&y) - 3.2 / 2.1).abs() < 1e-12);
        assert_eq!(croston_mean(&[0.0; 5]), 0.0);
        assert_eq!(croston_mean(&[4.0]), 4.0);
    }

    #[test]
    fn fits_predicts_with_intervals_and_reloads() {
        let model = target_only::build::<CrostonConfig>(&serde_json::json!({})).unwrap();
        let y: Vec<f64> = (0..80)
            .map(|i| {
                if i % 3 == 0 {
                    f64::from(i % 7) + 1.0
                } else {
                    0.0
                }
            })
            .collect();
        let fitted = model.fit(&TrainingData::target_only(&y, 1)).unwrap();
        let request = PredictRequest {
            horizon: 5,
            features: None,
            interval_level: Some(0.9),
        };
        let forecast = fitted.predict(&request).unwrap();
        assert_eq!(forecast.point, vec![croston_mean(&y); 5]);
        let interval = forecast.interval.clone().unwrap();
        assert!(interval
            .lower
            .iter()
            .zip(&interval.upper)
            .all(|(l, u)| l < u));
        let reloaded = target_only::load::<CrostonConfig>(&fitted.to_payload().unwrap()).unwrap();
        assert_eq!(reloaded.predict(&request).unwrap(), forecast);
        assert!(target_only::build::<CrostonConfig>(&serde_json::json!({"alpha": 0.2})).is_err());
        assert!(model
            .fit(&TrainingData::target_only(&[], 1))
            .unwrap_err()
            .to_string()
            .contains("at least 1"));
    }
}
