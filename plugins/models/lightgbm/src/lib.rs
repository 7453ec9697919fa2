//! LightGBM gradient-boosted trees on the feature frame (opt-in).
//!
//! The config (`n_estimators`, `max_depth`, `learning_rate`,
//! `feature_config_hash`) is always compiled so it can be validated and
//! tested cheaply. The model itself, and its registration under the name
//! `lightgbm` behind the runtime flag `forecast_enable_lightgbm`, are
//! compiled only with this crate's `enabled` feature, which links the
//! vendored LightGBM 4.x C++ library (built with cmake ≥ 3.28 and clang).
//! The server's `lightgbm` feature turns it on.
//!
//! Parameters follow the spec: `LGBMRegressor(n_estimators, learning_rate,
//! max_depth, random_state = FORECAST_RANDOM_SEED, n_jobs = 1,
//! deterministic = true, force_col_wise = true)`; NaN features are missing
//! values (LightGBM learns the direction missing values take at each split).
//! Prediction intervals are split-conformal: a second booster fitted on the
//! rows before a held-out tail (the last fifth, at most 5 000 rows) gives
//! absolute errors whose conformal quantile, scaled by √h, is the
//! half-width of step h. Explanations are LightGBM's own exact TreeSHAP
//! values (`predict_contrib`).

mod config;
#[cfg(feature = "enabled")]
mod model;
#[cfg(all(test, feature = "enabled"))]
mod tests;

pub use config::{LightGbmConfig, LightGbmName, MODEL_TYPE};
#[cfg(feature = "enabled")]
pub use model::train_booster;
