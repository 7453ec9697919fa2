//! Links the plugin crates in. A plugin's `inventory` registrations are only
//! kept when its crate is referenced, so each enabled plugin has one line
//! here.

// Always-on models.
use forecastlab_model_moving_average as _;
use forecastlab_model_naive as _;
use forecastlab_model_prophet_like as _;
use forecastlab_model_regression as _;
use forecastlab_model_seasonal_average as _;
use forecastlab_model_seasonal_naive as _;
use forecastlab_model_trend_regression as _;
use forecastlab_model_weighted_moving_average as _;

// Opt-in models: compiled in by the server's Cargo features of the same
// name, and usable only when their runtime flag is on.
#[cfg(feature = "lightgbm")]
use forecastlab_model_lightgbm as _;
#[cfg(feature = "random-forest")]
use forecastlab_model_random_forest as _;
#[cfg(feature = "xgboost")]
use forecastlab_model_xgboost as _;
