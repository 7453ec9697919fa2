//! `auto_ets`: exponential smoothing state-space models with automatic
//! model selection, as statsforecast's `AutoETS` (Hyndman et al. 2008,
//! R's `ets`): every admissible combination of an additive or
//! multiplicative error, no / additive / damped trend and no / additive /
//! multiplicative season is fitted by maximum likelihood (smoothing
//! parameters and initial states together) and the smallest AICc wins.
//!
//! `model` narrows the search with R's three-letter code (error, trend,
//! season; `Z` = choose): `"ZZZ"` (default) searches everything, `"AAN"`
//! fits Holt's linear method only. `damped` fixes the damping choice.
//! Multiplicative components need strictly positive data and are skipped
//! otherwise, as upstream does.
//!
//! Prediction intervals are the shared rolling-origin conformal ones;
//! their origins re-run the fitted model over each prefix instead of
//! repeating the search.

pub mod ets;
pub mod fit;

use forecastlab_core::{
    inventory,
    model_config::{check_range, field_error, schema_version},
    target_only::{self, TargetOnlyMethod},
    taxonomy::ModelFamily,
    CoreError,
};
use serde::{Deserialize, Serialize};

use ets::{ErrorKind, SeasonKind, TrendKind};
use fit::Fitted;

const MODEL_TYPE: &str = "auto_ets";

/// Fewest observations an ETS model fits on.
pub const MIN_OBSERVATIONS: usize = 8;

/// Configuration of `auto_ets` (unknown keys rejected).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoEtsConfig {
    /// Config schema version.
    #[serde(default = "schema_version")]
    pub schema_version: String,
    /// Always `auto_ets`.
    #[serde(default = "model_type")]
    pub model_type: String,
    /// Season length m (7; 1–365; 1 = no season).
    #[serde(default = "default_season_length")]
    pub season_length: i64,
    /// Search code: error (`A`, `M`, `Z`), trend (`N`, `A`, `Z`), season
    /// (`N`, `A`, `M`, `Z`); `Z` = choose (`"ZZZ"`).
    #[serde(default = "default_model")]
    pub model: String,
    /// Damped trend: `true`, `false` or `null` = choose (`null`).
    #[serde(default)]
    pub damped: Option<bool>,
}

fn model_type() -> String {
    MODEL_TYPE.to_owned()
}

fn default_season_length() -> i64 {
    7
}

fn default_model() -> String {
    "ZZZ".to_owned()
}

/// The component choices a search code allows.
struct Search {
    errors: Vec<ErrorKind>,
    trends: Vec<TrendKind>,
    seasons: Vec<SeasonKind>,
}

impl AutoEtsConfig {
    fn search(&self) -> Result<Search, CoreError> {
        let invalid = || {
            field_error(
                "model",
                format!(
                    "'{}' is not an ETS search code: three letters for error (A, M, Z), \
                     trend (N, A, Z) and season (N, A, M, Z), e.g. 'ZZZ' or 'AAN'",
                    self.model
                ),
            )
        };
        let letters: Vec<char> = self.model.chars().collect();
        let [error, trend, season] = letters[..] else {
            return Err(invalid());
        };
        let errors = match error {
            'A' => vec![ErrorKind::Additive],
            'M' => vec![ErrorKind::Multiplicative],
            'Z' => vec![ErrorKind::Additive, ErrorKind::Multiplicative],
            _ => return Err(invalid()),
        };
        let trends = match trend {
            'N' => vec![TrendKind::None],
            'A' => vec![TrendKind::Additive],
            'Z' => vec![TrendKind::None, TrendKind::Additive],
            _ => return Err(invalid()),
        };
        let seasons = match season {
            'N' => vec![SeasonKind::None],
            'A' => vec![SeasonKind::Additive],
            'M' => vec![SeasonKind::Multiplicative],
            'Z' => vec![
                SeasonKind::None,
                SeasonKind::Additive,
                SeasonKind::Multiplicative,
            ],
            _ => return Err(invalid()),
        };
        if error == 'A' && season == 'M' {
            return Err(field_error(
                "model",
                "an additive error with a multiplicative season is not an admissible ETS \
                 model; use 'MAM', 'MNM' or 'ZZM'",
            ));
        }
        Ok(Search {
            errors,
            trends,
            seasons,
        })
    }

    fn season_length(&self) -> usize {
        usize::try_from(self.season_length).unwrap_or(1)
    }
}

impl TargetOnlyMethod for AutoEtsConfig {
    const MODEL_TYPE: &'static str = MODEL_TYPE;
    type State = Fitted;

    fn validate(&self) -> Result<(), CoreError> {
        check_range("season_length", self.season_length, 1, 365)?;
        self.search().map(|_| ())
    }

    fn min_observations(&self) -> usize {
        MIN_OBSERVATIONS
    }

    fn fit_state(&self, y: &[f64]) -> Result<Fitted, CoreError> {
        let search = self.search()?;
        let trends: Vec<(TrendKind, bool)> = search
            .trends
            .iter()
            .flat_map(|&trend| {
                let damping: &[bool] = match (trend, self.damped) {
                    (TrendKind::None, _) => &[false],
                    (TrendKind::Additive, Some(true)) => &[true],
                    (TrendKind::Additive, Some(false)) => &[false],
                    (TrendKind::Additive, None) => &[false, true],
                };
                damping.iter().map(move |&damped| (trend, damped))
            })
            .collect();
        let m = self.season_length();
        let positive = y.iter().all(|v| *v > 0.0);
        let candidates = fit::candidates(&search.errors, &trends, &search.seasons, m, positive);
        fit::select(&candidates, y, m).ok_or_else(|| {
            CoreError::input(format!(
                "no ETS model of the search '{}' fits these {} observations (multiplicative \
                 components need positive data, a season at least two full seasons)",
                self.model,
                y.len()
            ))
        })
    }

    fn forecast(&self, state: &Fitted, _n: usize, horizon: usize) -> Vec<f64> {
        state.forecast(horizon)
    }

    fn calibration_forecast(
        &self,
        state: &Fitted,
        prefix: &[f64],
        horizon: usize,
    ) -> Option<Vec<f64>> {
        state.forecast_after(prefix, horizon)
    }
}

inventory::submit! {
    target_only::registration::<AutoEtsConfig>(ModelFamily::Baseline, env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use forecastlab_core::{PredictRequest, TrainingData};

    fn config(value: serde_json::Value) -> Result<AutoEtsConfig, CoreError> {
        let config: AutoEtsConfig = serde_json::from_value(value).unwrap();
        config.validate().map(|_| config)
    }

    #[test]
    fn search_codes_are_checked() {
        assert!(config(serde_json::json!({})).is_ok());
        assert!(config(serde_json::json!({"model": "AAN", "damped": true})).is_ok());
        for bad in ["ZZ", "ZZZZ", "XZZ", "ZMZ", "ZZX", "AZM", "ééé"] {
            let error = config(serde_json::json!({"model": bad})).unwrap_err();
            assert!(error.to_string().contains("model"), "{bad}: {error}");
        }
        assert!(config(serde_json::json!({"season_length": 0})).is_err());
    }

    #[test]
    fn fit_predict_with_interval_and_reload() {
        let y: Vec<f64> = (0..91)
            .map(|t| 30.0 + [0.0, 3.0, 5.0, 4.0, 2.0, -6.0, -8.0][t % 7] + (t % 5) as f64)
            .collect();
        let model = target_only::build::<AutoEtsConfig>(&serde_json::json!({})).unwrap();
        let fitted = model.fit(&TrainingData::target_only(&y, 1)).unwrap();
        let request = PredictRequest {
            horizon: 14,
            features: None,
            interval_level: Some(0.9),
        };
        let forecast = fitted.predict(&request).unwrap();
        assert_eq!(forecast.point.len(), 14);
        let interval = forecast.interval.clone().unwrap();
        for (h, point) in forecast.point.iter().enumerate() {
            assert!(interval.lower[h] <= *point && *point <= interval.upper[h]);
        }
        // The weekly shape carries into the forecast.
        assert!(forecast.point[5] < forecast.point[2]);
        let reloaded = target_only::load::<AutoEtsConfig>(&fitted.to_payload().unwrap()).unwrap();
        assert_eq!(reloaded.predict(&request).unwrap(), forecast);
    }

    #[test]
    fn an_impossible_search_is_an_input_error() {
        let zeros = vec![0.0; 40];
        let model = config(serde_json::json!({"model": "MNN"})).unwrap();
        let error = model.fit_state(&zeros).unwrap_err();
        assert!(error.to_string().contains("positive data"), "{error}");
    }
}
