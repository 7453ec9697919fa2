//! The optimised Theta method (OTM), as statsforecast's `OptimizedTheta`:
//! the standard Theta method with θ ∈ [1, 10¹⁰] estimated together with
//! the initial level and α (minimum in-sample one-step squared error).

use forecastlab_core::{
    inventory,
    model_config::schema_version,
    target_only::{self, TargetOnlyMethod},
    taxonomy::ModelFamily,
    CoreError,
};
use forecastlab_model_theta::{
    default_decomposition, default_season_length, Decomposition, ThetaSettings, ThetaState,
    MIN_OBSERVATIONS,
};
use serde::{Deserialize, Serialize};

const MODEL_TYPE: &str = "optimized_theta";

/// Configuration of the optimised Theta method (unknown keys rejected).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimizedThetaConfig {
    /// Config schema version.
    #[serde(default = "schema_version")]
    pub schema_version: String,
    /// Always `optimized_theta`.
    #[serde(default = "model_type")]
    pub model_type: String,
    /// Season length m tested and removed (7; 1–365; 1 = none).
    #[serde(default = "default_season_length")]
    pub season_length: i64,
    /// Decomposition of a seasonal series (`multiplicative` or `additive`).
    #[serde(default = "default_decomposition")]
    pub decomposition_type: Decomposition,
}

fn model_type() -> String {
    MODEL_TYPE.to_owned()
}

impl OptimizedThetaConfig {
    fn settings(&self) -> ThetaSettings {
        ThetaSettings {
            season_length: usize::try_from(self.season_length).unwrap_or(1),
            decomposition: self.decomposition_type,
            optimise_theta: true,
        }
    }
}

impl TargetOnlyMethod for OptimizedThetaConfig {
    const MODEL_TYPE: &'static str = MODEL_TYPE;
    type State = ThetaState;

    fn validate(&self) -> Result<(), CoreError> {
        ThetaSettings::check_season(self.season_length)
    }

    fn min_observations(&self) -> usize {
        MIN_OBSERVATIONS
    }

    fn fit_state(&self, y: &[f64]) -> Result<ThetaState, CoreError> {
        Ok(self.settings().fit(y))
    }

    fn forecast(&self, state: &ThetaState, _n: usize, horizon: usize) -> Vec<f64> {
        ThetaSettings::forecast(state, horizon)
    }
}

inventory::submit! {
    target_only::registration::<OptimizedThetaConfig>(ModelFamily::Baseline, env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use forecastlab_core::{PredictRequest, TrainingData};

    #[test]
    fn estimates_theta_and_fits_at_least_as_well_as_theta_two() {
        // A strong trend: θ > 2 follows it more closely than the standard
        // method.
        let y: Vec<f64> = (0..120)
            .map(|t| 5.0 + 0.8 * f64::from(t) + [0.0, 1.0, -1.0][t as usize % 3])
            .collect();
        let config: OptimizedThetaConfig =
            serde_json::from_value(serde_json::json!({"season_length": 1})).unwrap();
        let state = config.fit_state(&y).unwrap();
        assert!(state.fit.theta >= 1.0);
        let standard = ThetaSettings {
            optimise_theta: false,
            ..config.settings()
        }
        .fit(&y);
        assert_eq!(standard.fit.theta, 2.0);
        let next = 5.0 + 0.8 * 120.0;
        let otm = ThetaSettings::forecast(&state, 1)[0];
        let stm = ThetaSettings::forecast(&standard, 1)[0];
        assert!(
            (otm - next).abs() <= (stm - next).abs() + 0.5,
            "{otm} {stm}"
        );
    }

    #[test]
    fn fit_predict_reload_and_config() {
        let model = target_only::build::<OptimizedThetaConfig>(&serde_json::json!({})).unwrap();
        let y: Vec<f64> = (0..70).map(|i| f64::from(i % 7) * 3.0 + 10.0).collect();
        let fitted = model.fit(&TrainingData::target_only(&y, 1)).unwrap();
        let request = PredictRequest {
            horizon: 7,
            features: None,
            interval_level: Some(0.8),
        };
        let forecast = fitted.predict(&request).unwrap();
        assert_eq!(forecast.point.len(), 7);
        assert!(forecast.interval.is_some());
        let reloaded =
            target_only::load::<OptimizedThetaConfig>(&fitted.to_payload().unwrap()).unwrap();
        assert_eq!(reloaded.predict(&request).unwrap(), forecast);
        assert!(target_only::build::<OptimizedThetaConfig>(
            &serde_json::json!({"season_length": 400})
        )
        .is_err());
    }
}
