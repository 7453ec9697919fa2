//! Links the plugin crates in. A plugin's `inventory` registrations are only
//! kept when its crate is referenced, so each enabled plugin has one line
//! here.

// Always-on models.
use forecastlab_model_naive as _;
use forecastlab_model_moving_average as _;
use forecastlab_model_prophet_like as _;
use forecastlab_model_regression as _;
use forecastlab_model_seasonal_average as _;
use forecastlab_model_seasonal_naive as _;
use forecastlab_model_trend_regression as _;
use forecastlab_model_weighted_moving_average as _;
