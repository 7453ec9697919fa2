//! The `xgboost` config object (§4.2 of the modelling spec: the same fields,
//! defaults and ranges as `lightgbm`): the shared boosting config
//! ([`BoostingConfig`], whose own tests cover the ranges) under the name
//! `xgboost`.

use forecastlab_core::tree_model::{BoostingConfig, TreeModelName};

/// Wire name of the model type.
pub const MODEL_TYPE: &str = "xgboost";

/// Names the `xgboost` model in [`XgboostConfig`] (a type-level tag).
#[derive(Debug, Clone, PartialEq)]
pub enum XgboostName {}

impl TreeModelName for XgboostName {
    const MODEL_TYPE: &'static str = MODEL_TYPE;
}

/// Configuration of the XGBoost model: `n_estimators` (100; 10–1000),
/// `max_depth` (6; 1–20), `learning_rate` (0.1; 0.001–1.0) and
/// `feature_config_hash`; immutable, unknown keys rejected.
pub type XgboostConfig = BoostingConfig<XgboostName>;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_follow_the_spec() {
        let config = XgboostConfig::from_json(&json!({"model_type": "xgboost"})).unwrap();
        assert_eq!(config, XgboostConfig::default());
        assert_eq!(
            serde_json::to_string(&config).unwrap(),
            r#"{"schema_version":"1.0","model_type":"xgboost","n_estimators":100,"max_depth":6,"learning_rate":0.1,"feature_config_hash":null}"#
        );
        assert!(XgboostConfig::from_json(&serde_json::Value::Null).is_ok());
    }

    #[test]
    fn extra_keys_wrong_types_and_wrong_model_type_are_rejected() {
        assert!(XgboostConfig::from_json(&json!({"tree_method": "exact"})).is_err());
        assert!(XgboostConfig::from_json(&json!({"n_estimators": "100"})).is_err());
        assert!(XgboostConfig::from_json(&json!({"n_estimators": 100.5})).is_err());
        assert!(XgboostConfig::from_json(&json!({"model_type": "lightgbm"})).is_err());
    }
}
