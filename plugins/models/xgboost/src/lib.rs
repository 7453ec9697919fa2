//! XGBoost gradient-boosted trees on the feature frame (opt-in).
//!
//! The config (the same fields, defaults and ranges as `lightgbm`) is always
//! compiled so it can be validated and tested cheaply. The model itself,
//! and its registration under the name `xgboost` behind the runtime flag
//! `forecast_enable_xgboost`, are compiled only with this crate's `enabled`
//! feature, which links a current libxgboost (3.x) through the `xgb` crate;
//! `build.rs` explains where the library is found. The server's `xgboost`
//! feature turns it on.
//!
//! Parameters follow the spec: `XGBRegressor(n_estimators, learning_rate,
//! max_depth, random_state = FORECAST_RANDOM_SEED, n_jobs = 1,
//! tree_method = "hist")`; NaN features are missing values (XGBoost learns
//! a default direction per split). Prediction intervals are split-conformal
//! on a held-out tail, as for `lightgbm`. Explanations are XGBoost's own
//! exact TreeSHAP values (`predict_contributions`).

mod config;
#[cfg(feature = "enabled")]
mod model;
#[cfg(all(test, feature = "enabled"))]
mod tests;

pub use config::{XgboostConfig, XgboostName, MODEL_TYPE};
