//! The `random_forest` config object (§4.2 of the modelling spec):
//! immutable, unknown keys rejected, every field range-checked.

use forecastlab_core::{
    model_config::{check_range, field_error, parse, schema_version},
    CoreError,
};
use serde::{Deserialize, Deserializer, Serialize};

/// Wire name of the model type.
pub const MODEL_TYPE: &str = "random_forest";

/// Configuration of the random forest. Field order is the serialisation
/// order of the canonical JSON (and so of `config_hash`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomForestConfig {
    /// Config schema version (`"1.0"`).
    #[serde(default = "schema_version")]
    pub schema_version: String,
    /// Always `random_forest`.
    #[serde(default = "model_type")]
    pub model_type: String,
    /// Number of trees (100; 10–500).
    #[serde(default = "default_n_estimators")]
    pub n_estimators: u32,
    /// Maximum tree depth (10; 2–64); `null` = unlimited.
    #[serde(default = "default_max_depth", deserialize_with = "explicit_null")]
    pub max_depth: Option<u32>,
    /// Fewest training rows in a leaf (2; 1–50).
    #[serde(default = "default_min_samples_leaf")]
    pub min_samples_leaf: u32,
    /// Hash of the feature config the model was trained with (informational).
    #[serde(default)]
    pub feature_config_hash: Option<String>,
}

/// `Option` fields with a non-null default: an explicit `null` means `None`
/// (unlimited depth), a missing key means the default.
fn explicit_null<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    Option::<u32>::deserialize(deserializer)
}

fn model_type() -> String {
    MODEL_TYPE.to_owned()
}

fn default_n_estimators() -> u32 {
    100
}

fn default_max_depth() -> Option<u32> {
    Some(10)
}

fn default_min_samples_leaf() -> u32 {
    2
}

impl Default for RandomForestConfig {
    fn default() -> Self {
        Self {
            schema_version: schema_version(),
            model_type: model_type(),
            n_estimators: default_n_estimators(),
            max_depth: default_max_depth(),
            min_samples_leaf: default_min_samples_leaf(),
            feature_config_hash: None,
        }
    }
}

impl RandomForestConfig {
    /// Parses and validates a JSON config (`null` = all defaults).
    pub fn from_json(value: &serde_json::Value) -> Result<Self, CoreError> {
        let config: Self = parse(value, MODEL_TYPE)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every field against its range.
    pub fn validate(&self) -> Result<(), CoreError> {
        check_range("n_estimators", self.n_estimators, 10, 500)?;
        if let Some(depth) = self.max_depth {
            check_range("max_depth", depth, 2, 64)?;
        }
        check_range("min_samples_leaf", self.min_samples_leaf, 1, 50)?;
        if self.schema_version.is_empty() {
            return Err(field_error("schema_version", "must not be empty"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_follow_the_spec() {
        let config =
            RandomForestConfig::from_json(&json!({"model_type": "random_forest"})).unwrap();
        assert_eq!(config, RandomForestConfig::default());
        assert_eq!(
            serde_json::to_string(&config).unwrap(),
            r#"{"schema_version":"1.0","model_type":"random_forest","n_estimators":100,"max_depth":10,"min_samples_leaf":2,"feature_config_hash":null}"#
        );
    }

    #[test]
    fn null_depth_means_unlimited() {
        let config = RandomForestConfig::from_json(&json!({"max_depth": null})).unwrap();
        assert_eq!(config.max_depth, None);
        assert!(serde_json::to_string(&config)
            .unwrap()
            .contains(r#""max_depth":null"#));
    }

    #[test]
    fn ranges_are_enforced_and_name_the_field() {
        for (body, field) in [
            (json!({"n_estimators": 9}), "n_estimators"),
            (json!({"n_estimators": 501}), "n_estimators"),
            (json!({"max_depth": 1}), "max_depth"),
            (json!({"max_depth": 65}), "max_depth"),
            (json!({"min_samples_leaf": 0}), "min_samples_leaf"),
            (json!({"min_samples_leaf": 51}), "min_samples_leaf"),
        ] {
            let error = RandomForestConfig::from_json(&body).unwrap_err();
            assert!(
                matches!(&error, CoreError::InvalidConfig(m) if m.starts_with(field)),
                "{body}: {error}"
            );
        }
        let edges = json!({"n_estimators": 500, "max_depth": 64, "min_samples_leaf": 50});
        assert!(RandomForestConfig::from_json(&edges).is_ok());
    }

    #[test]
    fn extra_keys_wrong_types_and_wrong_model_type_are_rejected() {
        assert!(RandomForestConfig::from_json(&json!({"max_features": 1.0})).is_err());
        assert!(RandomForestConfig::from_json(&json!({"n_estimators": "100"})).is_err());
        assert!(RandomForestConfig::from_json(&json!({"max_depth": 5.5})).is_err());
        assert!(RandomForestConfig::from_json(&json!({"model_type": "lightgbm"})).is_err());
    }
}
