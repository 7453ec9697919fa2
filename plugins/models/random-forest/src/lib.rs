//! Random forest regression on the feature frame (opt-in).
//!
//! The config (`n_estimators`, `max_depth` (nullable), `min_samples_leaf`,
//! `feature_config_hash`) is always compiled so it can be validated and
//! tested cheaply. The model itself, and its registration under the name
//! `random_forest` behind the runtime flag `forecast_enable_random_forest`,
//! are compiled only with this crate's `enabled` feature (pure Rust, on
//! smartcore). The server's `random-forest` feature turns it on.
//!
//! Parameters follow the spec: `RandomForestRegressor(n_estimators,
//! max_depth, min_samples_leaf, random_state = FORECAST_RANDOM_SEED,
//! n_jobs = 1)` with bootstrap samples and every feature tried at each
//! split. smartcore's trees do not take missing values, so NaN features are
//! replaced by the training median of their column (stored in the fitted
//! model and reused at prediction). Prediction intervals are split-conformal
//! on a held-out tail, as for `lightgbm`. Explanations are exact TreeSHAP
//! values over the forest's trees, weighted by the training rows that
//! reached each node.

mod config;
#[cfg(feature = "enabled")]
mod model;
#[cfg(feature = "enabled")]
mod shap;
#[cfg(all(test, feature = "enabled"))]
mod tests;

pub use config::{RandomForestConfig, MODEL_TYPE};
