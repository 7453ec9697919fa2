//! `auto_arima`: seasonal ARIMA(p,d,q)(P,D,Q)ₘ with automatic order
//! selection, as statsforecast's `AutoARIMA` and R's `forecast::auto.arima`
//! (Hyndman & Khandakar 2008): one seasonal difference when the STL
//! seasonal strength exceeds 0.64, plain differences by KPSS tests (5 %),
//! then a stepwise search over the ARMA orders and the constant (a mean
//! when d + D = 0, a drift when d + D = 1) that keeps the smallest AICc.
//! Every candidate is fitted by conditional sum of squares (R's
//! approximation for series longer than 150) and rejected when a root of
//! its AR or MA polynomial lies within 1.01 of the unit circle. The chosen
//! model is then refitted by exact Gaussian maximum likelihood from the CSS
//! estimates (R's `CSS-ML`, [`ml`]: Kalman filter from the stationary state
//! covariance), keeping the CSS fit when that refit fails or is no better.
//!
//! Prediction intervals are the model's own: normal quantiles of the
//! forecast-error variance σ²·Σψⱼ² (σ² of the final fit) from the
//! ψ-weights of the full (differenced) model.

pub mod arima;
pub mod bfgs;
pub mod fit;
pub mod ml;
pub mod refit;
pub mod search;
pub mod unit_root;

use forecastlab_core::{
    inventory,
    model_config::{check_range, schema_version},
    target_only::{self, TargetOnlyMethod},
    taxonomy::ModelFamily,
    CoreError,
};
use serde::{Deserialize, Serialize};

use fit::Fitted;
use search::Limits;

const MODEL_TYPE: &str = "auto_arima";

/// Fewest observations `auto_arima` fits on (shorter series get fewer
/// terms, down to a mean or a random walk).
pub const MIN_OBSERVATIONS: usize = 2;

/// Configuration of `auto_arima` (unknown keys rejected).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoArimaConfig {
    /// Config schema version.
    #[serde(default = "schema_version")]
    pub schema_version: String,
    /// Always `auto_arima`.
    #[serde(default = "model_type")]
    pub model_type: String,
    /// Season length m (7; 1–365; 1 = no seasonal terms).
    #[serde(default = "default_season_length")]
    pub season_length: i64,
    /// Largest non-seasonal AR order p (5; 0–5).
    #[serde(default = "default_max_pq")]
    pub max_p: i64,
    /// Largest non-seasonal MA order q (5; 0–5).
    #[serde(default = "default_max_pq")]
    pub max_q: i64,
    /// Largest seasonal AR order P (2; 0–2).
    #[serde(default = "default_max_seasonal")]
    pub max_seasonal_p: i64,
    /// Largest seasonal MA order Q (2; 0–2).
    #[serde(default = "default_max_seasonal")]
    pub max_seasonal_q: i64,
    /// Largest number of plain differences d (2; 0–2).
    #[serde(default = "default_max_d")]
    pub max_d: i64,
    /// Largest number of seasonal differences D (1; 0–1).
    #[serde(default = "default_max_seasonal_d")]
    pub max_seasonal_d: i64,
    /// Whether a drift may be fitted when d + D = 1 (`true`).
    #[serde(default = "yes")]
    pub allow_drift: bool,
    /// Whether a mean may be fitted when d + D = 0 (`true`).
    #[serde(default = "yes")]
    pub allow_mean: bool,
}

fn model_type() -> String {
    MODEL_TYPE.to_owned()
}

fn default_season_length() -> i64 {
    7
}

fn default_max_pq() -> i64 {
    5
}

fn default_max_seasonal() -> i64 {
    2
}

fn default_max_d() -> i64 {
    2
}

fn default_max_seasonal_d() -> i64 {
    1
}

fn yes() -> bool {
    true
}

impl AutoArimaConfig {
    fn limits(&self) -> Limits {
        let size = |v: i64| usize::try_from(v).unwrap_or(0);
        Limits {
            m: size(self.season_length).max(1),
            max_p: size(self.max_p),
            max_q: size(self.max_q),
            max_sp: size(self.max_seasonal_p),
            max_sq: size(self.max_seasonal_q),
            max_d: size(self.max_d),
            max_sd: size(self.max_seasonal_d),
            allow_drift: self.allow_drift,
            allow_mean: self.allow_mean,
        }
    }
}

impl TargetOnlyMethod for AutoArimaConfig {
    const MODEL_TYPE: &'static str = MODEL_TYPE;
    type State = Fitted;

    fn validate(&self) -> Result<(), CoreError> {
        check_range("season_length", self.season_length, 1, 365)?;
        check_range("max_p", self.max_p, 0, 5)?;
        check_range("max_q", self.max_q, 0, 5)?;
        check_range("max_seasonal_p", self.max_seasonal_p, 0, 2)?;
        check_range("max_seasonal_q", self.max_seasonal_q, 0, 2)?;
        check_range("max_d", self.max_d, 0, 2)?;
        check_range("max_seasonal_d", self.max_seasonal_d, 0, 1)
    }

    fn min_observations(&self) -> usize {
        MIN_OBSERVATIONS
    }

    fn fit_state(&self, y: &[f64]) -> Result<Fitted, CoreError> {
        Ok(search::auto_arima(y, &self.limits()))
    }

    fn forecast(&self, state: &Fitted, _n: usize, horizon: usize) -> Vec<f64> {
        state.forecast(horizon)
    }

    fn interval_half_widths(
        &self,
        state: &Fitted,
        _n: usize,
        horizon: usize,
        level: f64,
    ) -> Option<Vec<f64>> {
        Some(state.half_widths(horizon, level))
    }
}

inventory::submit! {
    target_only::registration::<AutoArimaConfig>(ModelFamily::Baseline, env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use forecastlab_core::{PredictRequest, TrainingData};

    fn config(value: serde_json::Value) -> Result<AutoArimaConfig, CoreError> {
        let config: AutoArimaConfig =
            serde_json::from_value(value).map_err(|e| CoreError::InvalidConfig(e.to_string()))?;
        config.validate().map(|_| config)
    }

    #[test]
    fn config_ranges_are_checked() {
        assert!(config(serde_json::json!({})).is_ok());
        assert!(config(serde_json::json!({"season_length": 1, "max_d": 0})).is_ok());
        for (field, value) in [
            ("season_length", 0),
            ("season_length", 366),
            ("max_p", 6),
            ("max_q", -1),
            ("max_seasonal_p", 3),
            ("max_seasonal_q", 3),
            ("max_d", 3),
            ("max_seasonal_d", 2),
        ] {
            let error = config(serde_json::json!({ field: value })).unwrap_err();
            assert!(error.to_string().contains(field), "{field}: {error}");
        }
        assert!(config(serde_json::json!({"order": [1, 1, 1]})).is_err());
    }

    #[test]
    fn fit_predict_with_interval_and_reload() {
        let y: Vec<f64> = (0..120)
            .map(|t| 30.0 + [0.0, 3.0, 5.0, 4.0, 2.0, -6.0, -8.0][t % 7] + (t % 5) as f64)
            .collect();
        let model = target_only::build::<AutoArimaConfig>(&serde_json::json!({})).unwrap();
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
        let reloaded = target_only::load::<AutoArimaConfig>(&fitted.to_payload().unwrap()).unwrap();
        assert_eq!(reloaded.predict(&request).unwrap(), forecast);
    }

    #[test]
    fn short_series_fall_back_sanely() {
        let model = target_only::build::<AutoArimaConfig>(&serde_json::json!({})).unwrap();
        assert!(model.fit(&TrainingData::target_only(&[5.0], 1)).is_err());
        let fitted = model
            .fit(&TrainingData::target_only(&[5.0, 7.0], 1))
            .unwrap();
        let request = PredictRequest {
            horizon: 3,
            features: None,
            interval_level: Some(0.8),
        };
        let forecast = fitted.predict(&request).unwrap();
        // The fallback model (no information criterion) reloads too.
        let reloaded = target_only::load::<AutoArimaConfig>(&fitted.to_payload().unwrap()).unwrap();
        assert_eq!(reloaded.predict(&request).unwrap(), forecast);
        assert_eq!(forecast.point, vec![6.0; 3]);
        let interval = forecast.interval.unwrap();
        assert!(interval
            .upper
            .iter()
            .zip(&interval.lower)
            .all(|(u, l)| u >= l));
    }
}
