//! The `xgboost` config object (§4.2 of the modelling spec: the same fields,
//! defaults and ranges as `lightgbm`): immutable, unknown keys rejected,
//! every field range-checked.

use forecastlab_core::{
    model_config::{check_float_range, check_range, parse, schema_version},
    CoreError,
};
use serde::{Deserialize, Serialize};

/// Wire name of the model type.
pub const MODEL_TYPE: &str = "xgboost";

/// Configuration of the XGBoost model. Field order is the serialisation
/// order of the canonical JSON (and so of `config_hash`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XgboostConfig {
    /// Config schema version (`"1.0"`).
    #[serde(default = "schema_version")]
    pub schema_version: String,
    /// Always `xgboost`.
    #[serde(default = "model_type")]
    pub model_type: String,
    /// Boosting rounds (100; 10–1000).
    #[serde(default = "default_n_estimators")]
    pub n_estimators: u32,
    /// Maximum tree depth (6; 1–20).
    #[serde(default = "default_max_depth")]
    pub max_depth: u32,
    /// Shrinkage (0.1; 0.001–1.0).
    #[serde(default = "default_learning_rate")]
    pub learning_rate: f64,
    /// Hash of the feature config the model was trained with (informational).
    #[serde(default)]
    pub feature_config_hash: Option<String>,
}

fn model_type() -> String {
    MODEL_TYPE.to_owned()
}

fn default_n_estimators() -> u32 {
    100
}

fn default_max_depth() -> u32 {
    6
}

fn default_learning_rate() -> f64 {
    0.1
}

impl Default for XgboostConfig {
    fn default() -> Self {
        Self {
            schema_version: schema_version(),
            model_type: model_type(),
            n_estimators: default_n_estimators(),
            max_depth: default_max_depth(),
            learning_rate: default_learning_rate(),
            feature_config_hash: None,
        }
    }
}

impl XgboostConfig {
    /// Parses and validates a JSON config (`null` = all defaults).
    pub fn from_json(value: &serde_json::Value) -> Result<Self, CoreError> {
        let config: Self = parse(value, MODEL_TYPE)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every field against its range.
    pub fn validate(&self) -> Result<(), CoreError> {
        check_range("n_estimators", self.n_estimators, 10, 1000)?;
        check_range("max_depth", self.max_depth, 1, 20)?;
        check_float_range("learning_rate", self.learning_rate, 0.001, 1.0)?;
        Ok(())
    }
}

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
    fn ranges_are_enforced_and_name_the_field() {
        for (body, field) in [
            (json!({"n_estimators": 9}), "n_estimators"),
            (json!({"n_estimators": 1001}), "n_estimators"),
            (json!({"max_depth": 0}), "max_depth"),
            (json!({"max_depth": 21}), "max_depth"),
            (json!({"learning_rate": 0.0009}), "learning_rate"),
            (json!({"learning_rate": 1.5}), "learning_rate"),
        ] {
            let error = XgboostConfig::from_json(&body).unwrap_err();
            assert!(
                matches!(&error, CoreError::InvalidConfig(m) if m.starts_with(field)),
                "{body}: {error}"
            );
        }
        let edges = json!({"n_estimators": 1000, "max_depth": 20, "learning_rate": 1.0});
        assert!(XgboostConfig::from_json(&edges).is_ok());
    }

    #[test]
    fn extra_keys_wrong_types_and_wrong_model_type_are_rejected() {
        assert!(XgboostConfig::from_json(&json!({"tree_method": "exact"})).is_err());
        assert!(XgboostConfig::from_json(&json!({"n_estimators": "100"})).is_err());
        assert!(XgboostConfig::from_json(&json!({"n_estimators": 100.5})).is_err());
        assert!(XgboostConfig::from_json(&json!({"model_type": "lightgbm"})).is_err());
    }
}
