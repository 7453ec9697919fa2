//! The standard Theta method (STM), as statsforecast's `Theta`: when the
//! series is seasonal at the configured season length (90 % test on the
//! lag-m autocorrelation) a classical decomposition removes the season,
//! the state-space Theta model ([`model`]) with θ = 2 is fitted to the
//! adjusted series, and its forecast is re-seasonalised.
//!
//! The crate also exposes the shared machinery ([`ThetaSettings`]) that
//! the optimised Theta plugin reuses with θ estimated.

pub mod decompose;
pub mod model;

use forecastlab_core::{
    inventory,
    model_config::{check_range, schema_version},
    target_only::{self, TargetOnlyMethod},
    taxonomy::ModelFamily,
    CoreError,
};
use serde::{Deserialize, Serialize};

pub use decompose::{Decomposition, Seasonality};

const MODEL_TYPE: &str = "theta";

/// Fewest observations a Theta model fits on.
pub const MIN_OBSERVATIONS: usize = 4;

/// Seasonal settings shared by `theta` and `optimized_theta`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThetaSettings {
    /// Season length m (1 = no seasonal adjustment).
    pub season_length: usize,
    /// Preferred decomposition.
    pub decomposition: Decomposition,
    /// Estimate θ (OTM) instead of fixing θ = 2 (STM).
    pub optimise_theta: bool,
}

/// A fitted Theta model: the seasonal adjustment (if any) and the fit of
/// the adjusted series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThetaState {
    /// Seasonal adjustment, when the series tested seasonal.
    pub seasonality: Option<Seasonality>,
    /// The state-space fit.
    pub fit: model::Fit,
}

impl ThetaSettings {
    /// Validates a season length given on the wire.
    pub fn check_season(season_length: i64) -> Result<(), CoreError> {
        check_range("season_length", season_length, 1, 365)
    }

    /// Fits on `y` (at least [`MIN_OBSERVATIONS`] values).
    pub fn fit(&self, y: &[f64]) -> ThetaState {
        let seasonality = Seasonality::detect(y, self.season_length, self.decomposition);
        let adjusted = match &seasonality {
            Some(s) => s.adjust(y),
            None => y.to_vec(),
        };
        ThetaState {
            seasonality,
            fit: model::fit(&adjusted, self.optimise_theta),
        }
    }

    /// Forecasts `horizon` steps after the fitted series.
    pub fn forecast(state: &ThetaState, horizon: usize) -> Vec<f64> {
        let mut path = model::forecast(&state.fit, horizon);
        if let Some(seasonality) = &state.seasonality {
            seasonality.restore(&mut path, state.fit.n);
        }
        path
    }
}

/// Configuration of the standard Theta method (unknown keys rejected).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThetaConfig {
    /// Config schema version.
    #[serde(default = "schema_version")]
    pub schema_version: String,
    /// Always `theta`.
    #[serde(default = "model_type")]
    pub model_type: String,
    /// Season length m tested and removed (7; 1–365; 1 = none).
    #[serde(default = "default_season_length")]
    pub season_length: i64,
    /// Decomposition of a seasonal series (`multiplicative`, the default,
    /// or `additive`; multiplicative falls back to additive for series
    /// with zeros).
    #[serde(default = "default_decomposition")]
    pub decomposition_type: Decomposition,
}

fn model_type() -> String {
    MODEL_TYPE.to_owned()
}

/// The default season length: a week of daily data.
pub fn default_season_length() -> i64 {
    7
}

/// The default decomposition (statsforecast's).
pub fn default_decomposition() -> Decomposition {
    Decomposition::Multiplicative
}

impl ThetaConfig {
    fn settings(&self) -> ThetaSettings {
        ThetaSettings {
            season_length: usize::try_from(self.season_length).unwrap_or(1),
            decomposition: self.decomposition_type,
            optimise_theta: false,
        }
    }
}

impl TargetOnlyMethod for ThetaConfig {
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
    target_only::registration::<ThetaConfig>(ModelFamily::Baseline, env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use forecastlab_core::{PredictRequest, TrainingData};

    fn weekly(n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| [10.0, 12.0, 14.0, 11.0, 20.0, 30.0, 25.0][i % 7] * (1.0 + 0.002 * i as f64))
            .collect()
    }

    #[test]
    fn seasonal_series_keep_their_weekly_shape() {
        let y = weekly(140);
        let model = target_only::build::<ThetaConfig>(&serde_json::json!({})).unwrap();
        let fitted = model.fit(&TrainingData::target_only(&y, 1)).unwrap();
        let request = PredictRequest {
            horizon: 14,
            features: None,
            interval_level: Some(0.9),
        };
        let forecast = fitted.predict(&request).unwrap();
        // Saturday (position 5) is the peak of every week.
        let peak = forecast.point[..7]
            .iter()
            .enumerate()
            .fold(
                (0, f64::MIN),
                |a, (i, v)| if *v > a.1 { (i, *v) } else { a },
            )
            .0;
        assert_eq!((140 + peak) % 7, 5, "{:?}", forecast.point);
        let mae = forecast
            .point
            .iter()
            .zip(weekly(154).iter().skip(140))
            .map(|(f, a)| (f - a).abs())
            .sum::<f64>()
            / 14.0;
        assert!(mae < 1.0, "{mae}");
        let interval = forecast.interval.clone().unwrap();
        assert!(interval
            .lower
            .iter()
            .zip(&interval.upper)
            .all(|(l, u)| l < u));
        let reloaded = target_only::load::<ThetaConfig>(&fitted.to_payload().unwrap()).unwrap();
        assert_eq!(reloaded.predict(&request).unwrap(), forecast);
    }

    #[test]
    fn config_and_short_series() {
        for bad in [
            serde_json::json!({"season_length": 0}),
            serde_json::json!({"decomposition_type": "both"}),
            serde_json::json!({"theta": 3}),
        ] {
            assert!(target_only::build::<ThetaConfig>(&bad).is_err(), "{bad}");
        }
        let model = target_only::build::<ThetaConfig>(
            &serde_json::json!({"season_length": 1, "decomposition_type": "additive"}),
        )
        .unwrap();
        let error = model
            .fit(&TrainingData::target_only(&[1.0, 2.0, 3.0], 1))
            .unwrap_err();
        assert!(error.to_string().contains("at least 4"), "{error}");
        assert_eq!(
            serde_json::to_string(&model.config_json()).unwrap(),
            r#"{"schema_version":"1.0","model_type":"theta","season_length":1,"decomposition_type":"additive"}"#
        );
    }
}
