//! The `lightgbm` config object (§4.2 of the modelling spec): the boosting
//! config shared with `xgboost` ([`BoostingConfig`], whose own tests cover
//! the ranges) under the name `lightgbm`.

use forecastlab_core::tree_model::{BoostingConfig, TreeModelName};

/// Wire name of the model type.
pub const MODEL_TYPE: &str = "lightgbm";

/// Names the `lightgbm` model in [`LightGbmConfig`] (a type-level tag).
#[derive(Debug, Clone, PartialEq)]
pub enum LightGbmName {}

impl TreeModelName for LightGbmName {
    const MODEL_TYPE: &'static str = MODEL_TYPE;
}

/// Configuration of the LightGBM model: `n_estimators` (100; 10–1000),
/// `max_depth` (6; 1–20), `learning_rate` (0.1; 0.001–1.0) and
/// `feature_config_hash`; immutable, unknown keys rejected.
pub type LightGbmConfig = BoostingConfig<LightGbmName>;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_follow_the_spec() {
        let config = LightGbmConfig::from_json(&json!({"model_type": "lightgbm"})).unwrap();
        assert_eq!(config, LightGbmConfig::default());
        assert_eq!(
            serde_json::to_string(&config).unwrap(),
            r#"{"schema_version":"1.0","model_type":"lightgbm","n_estimators":100,"max_depth":6,"learning_rate":0.1,"feature_config_hash":null}"#
        );
        assert!(LightGbmConfig::from_json(&serde_json::Value::Null).is_ok());
    }

    #[test]
    fn extra_keys_wrong_types_and_wrong_model_type_are_rejected() {
        assert!(LightGbmConfig::from_json(&json!({"num_leaves": 31})).is_err());
        assert!(LightGbmConfig::from_json(&json!({"n_estimators": "100"})).is_err());
        assert!(LightGbmConfig::from_json(&json!({"n_estimators": 100.5})).is_err());
        assert!(LightGbmConfig::from_json(&json!({"model_type": "xgboost"})).is_err());
    }
}
