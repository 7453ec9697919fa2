//! TSB (Teunter, Syntetos & Babai, 2011) for intermittent demand, as
//! statsforecast's `TSB`: simple exponential smoothing of the demand
//! occurrence (1 in periods with demand, else 0) with `alpha_p` and of the
//! non-zero demand sizes with `alpha_d`; every step forecasts
//! probability × size. Unlike Croston's method the probability decays
//! through runs of zeros, so an item that stopped selling is forecast
//! towards zero. A series without any demand forecasts zero.

use forecastlab_core::{
    inventory,
    model_config::{check_float_range, schema_version},
    smoothing,
    target_only::{self, TargetOnlyMethod},
    taxonomy::ModelFamily,
    CoreError,
};
use serde::{Deserialize, Serialize};

const MODEL_TYPE: &str = "tsb";

/// TSB configuration (unknown keys rejected).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TsbConfig {
    /// Config schema version.
    #[serde(default = "schema_version")]
    pub schema_version: String,
    /// Always `tsb`.
    #[serde(default = "model_type")]
    pub model_type: String,
    /// Smoothing of the demand sizes (0.1; 0.01–1).
    #[serde(default = "default_alpha")]
    pub alpha_d: f64,
    /// Smoothing of the demand probability (0.1; 0.01–1).
    #[serde(default = "default_alpha")]
    pub alpha_p: f64,
}

fn model_type() -> String {
    MODEL_TYPE.to_owned()
}

fn default_alpha() -> f64 {
    0.1
}

/// The TSB forecast of one step after `y`.
pub fn tsb_mean(y: &[f64], alpha_d: f64, alpha_p: f64) -> f64 {
    let sizes = smoothing::demand(y);
    if sizes.is_empty() {
        return 0.0;
    }
    let probability = smoothing::ses_forecast(&smoothing::occurrence(y), alpha_p);
    probability * smoothing::ses_forecast(&sizes, alpha_d)
}

impl TargetOnlyMethod for TsbConfig {
    const MODEL_TYPE: &'static str = MODEL_TYPE;
    /// The constant forecast.
    type State = f64;

    fn validate(&self) -> Result<(), CoreError> {
        check_float_range("alpha_d", self.alpha_d, 0.01, 1.0)?;
        check_float_range("alpha_p", self.alpha_p, 0.01, 1.0)
    }

    fn min_observations(&self) -> usize {
        1
    }

    fn fit_state(&self, y: &[f64]) -> Result<f64, CoreError> {
        Ok(tsb_mean(y, self.alpha_d, self.alpha_p))
    }

    fn forecast(&self, state: &f64, _n: usize, horizon: usize) -> Vec<f64> {
        vec![*state; horizon]
    }
}

inventory::submit! {
    target_only::registration::<TsbConfig>(ModelFamily::Baseline, env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use forecastlab_core::{PredictRequest, TrainingData};

    #[test]
    fn hand_computed_forecast() {
        // Occurrence [0, 1, 0, 1], α_p = 0.5: ℓ 0 → 0 → 0.5 → 0.25, then
        // 0.5·1 + 0.5·0.25 = 0.625. Sizes [2, 4], α_d = 0.5: 0.5·4 + 0.5·2 = 3.
        let y = [0.0, 2.0, 0.0, 4.0];
        assert!((tsb_mean(&y, 0.5, 0.5) - 0.625 * 3.0).abs() < 1e-12);
        assert_eq!(tsb_mean(&[0.0; 3], 0.1, 0.1), 0.0);
        // The probability decays through a run of zeros.
        let mut stopped = vec![5.0; 20];
        stopped.extend([0.0; 30]);
        assert!(tsb_mean(&stopped, 0.1, 0.1) < 0.25 * 5.0);
    }

    #[test]
    fn config_fit_predict_reload() {
        let model =
            target_only::build::<TsbConfig>(&serde_json::json!({"alpha_d": 0.2, "alpha_p": 0.3}))
                .unwrap();
        let y: Vec<f64> = (0..40)
            .map(|i| if i % 4 == 0 { 3.0 } else { 0.0 })
            .collect();
        let fitted = model.fit(&TrainingData::target_only(&y, 1)).unwrap();
        let request = PredictRequest {
            horizon: 4,
            features: None,
            interval_level: Some(0.95),
        };
        let forecast = fitted.predict(&request).unwrap();
        assert_eq!(forecast.point, vec![tsb_mean(&y, 0.2, 0.3); 4]);
        assert!(forecast.interval.is_some());
        let reloaded = target_only::load::<TsbConfig>(&fitted.to_payload().unwrap()).unwrap();
        assert_eq!(reloaded.predict(&request).unwrap(), forecast);
        for bad in [
            serde_json::json!({"alpha_d": 0.0}),
            serde_json::json!({"alpha_p": 1.5}),
            serde_json::json!({"alpha": 0.1}),
        ] {
            assert!(target_only::build::<TsbConfig>(&bad).is_err(), "{bad}");
        }
    }
}
