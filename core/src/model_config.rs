//! Helpers every model plugin uses for its configuration: parsing a JSON
//! config with unknown keys rejected, range checks whose errors name the
//! field, and the canonical `config_hash`.
//!
//! Field errors are reported as [`CoreError::InvalidConfig`] with the message
//! `"<field>: <what is wrong>"`; [`field_of`] splits such a message back so a
//! server can put the field into a 422 response.

use serde::{de::DeserializeOwned, Serialize};
use sha2::{Digest, Sha256};

use crate::CoreError;

/// The config schema version every model config carries.
pub const SCHEMA_VERSION: &str = "1.0";

/// Serde default for `schema_version`.
pub fn schema_version() -> String {
    SCHEMA_VERSION.to_owned()
}

/// A config error that names its field.
pub fn field_error(field: &str, message: impl std::fmt::Display) -> CoreError {
    CoreError::InvalidConfig(format!("{field}: {message}"))
}

/// Splits a message made by [`field_error`] into `(field, message)`.
pub fn field_of(message: &str) -> Option<(&str, &str)> {
    let (field, rest) = message.split_once(": ")?;
    let valid = !field.is_empty()
        && field
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    valid.then_some((field, rest))
}

/// Parses a model config: unknown keys, wrong types and a `model_type`
/// other than `model_type` are errors naming the field. `null` or a missing
/// config means "all defaults".
pub fn parse<T: DeserializeOwned>(
    value: &serde_json::Value,
    model_type: &str,
) -> Result<T, CoreError> {
    let value = match value {
        serde_json::Value::Null => serde_json::Value::Object(serde_json::Map::new()),
        other => other.clone(),
    };
    if let Some(found) = value.get("model_type") {
        if found.as_str() != Some(model_type) {
            return Err(field_error(
                "model_type",
                format!("must be '{model_type}', got {found}"),
            ));
        }
    }
    if let Some(found) = value.get("schema_version") {
        if found.as_str() != Some(SCHEMA_VERSION) {
            return Err(field_error(
                "schema_version",
                format!("must be '{SCHEMA_VERSION}', got {found}"),
            ));
        }
    }
    serde_json::from_value(value).map_err(|error| {
        let message = error.to_string();
        // serde names the offending key in backticks: "unknown field `x`, …",
        // "invalid type: string \"a\", expected u32" (no field) …
        let field = message
            .split('`')
            .nth(1)
            .filter(|_| {
                message.starts_with("unknown field") || message.starts_with("missing field")
            })
            .map(str::to_owned);
        match field {
            Some(field) if message.starts_with("unknown field") => {
                field_error(&field, "Extra inputs are not permitted")
            }
            Some(field) => field_error(&field, "Field required"),
            None => CoreError::InvalidConfig(message),
        }
    })
}

/// Requires `min <= value <= max`.
pub fn check_range<T: PartialOrd + std::fmt::Display>(
    field: &str,
    value: T,
    min: T,
    max: T,
) -> Result<(), CoreError> {
    if value < min {
        return Err(field_error(
            field,
            format!("Input should be greater than or equal to {min}"),
        ));
    }
    if value > max {
        return Err(field_error(
            field,
            format!("Input should be less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// Requires `min < value < max` (both exclusive) and a finite value.
pub fn check_open_range(field: &str, value: f64, min: f64, max: f64) -> Result<(), CoreError> {
    if !value.is_finite() || value <= min || value >= max {
        return Err(field_error(
            field,
            format!("must lie in ({min}, {max}), exclusive, got {value}"),
        ));
    }
    Ok(())
}

/// Requires a finite `min <= value <= max`.
pub fn check_float_range(field: &str, value: f64, min: f64, max: f64) -> Result<(), CoreError> {
    if !value.is_finite() {
        return Err(field_error(field, "must be a finite number"));
    }
    check_range(field, value, min, max)
}

/// The canonical compact JSON of a config: keys in declaration order
/// (`schema_version`, `model_type`, then the model's fields), nulls kept.
pub fn canonical_json<T: Serialize>(config: &T) -> String {
    serde_json::to_string(config).unwrap_or_default()
}

/// First 16 lowercase hex characters of SHA-256 over `canonical`.
pub fn hash16(canonical: &str) -> String {
    let digest = Sha256::digest(canonical.as_bytes());
    hex::encode(digest)[..16].to_owned()
}

/// The `config_hash` of a config value (object keys are written in their
/// stored order, which is declaration order for values made from structs).
pub fn config_hash(config: &serde_json::Value) -> String {
    hash16(&serde_json::to_string(config).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Probe {
        #[serde(default = "schema_version")]
        schema_version: String,
        #[serde(default)]
        model_type: String,
        #[serde(default)]
        window_size: u32,
        #[serde(default)]
        max_depth: Option<u32>,
    }

    #[test]
    fn unknown_keys_name_the_field() {
        let error = parse::<Probe>(&serde_json::json!({"windw": 3}), "").unwrap_err();
        let CoreError::InvalidConfig(message) = error else {
            panic!("wrong error")
        };
        assert_eq!(field_of(&message).unwrap().0, "windw");
    }

    #[test]
    fn wrong_model_type_is_rejected() {
        let error = parse::<Probe>(&serde_json::json!({"model_type": "x"}), "y").unwrap_err();
        assert!(error.to_string().contains("model_type"));
    }

    #[test]
    fn canonical_order_and_nulls() {
        let probe = Probe {
            schema_version: schema_version(),
            model_type: "m".into(),
            window_size: 7,
            max_depth: None,
        };
        let json = canonical_json(&probe);
        assert_eq!(
            json,
            r#"{"schema_version":"1.0","model_type":"m","window_size":7,"max_depth":null}"#
        );
        let value = serde_json::to_value(&probe).unwrap();
        assert_eq!(config_hash(&value), hash16(&json));
        assert_eq!(hash16(&json).len(), 16);
    }

    #[test]
    fn naive_default_hash_is_sha256_of_the_canonical_json() {
        // {"schema_version":"1.0","model_type":"naive"}
        let json = r#"{"schema_version":"1.0","model_type":"naive"}"#;
        let full = hex::encode(Sha256::digest(json.as_bytes()));
        assert_eq!(hash16(json), full[..16]);
    }

    #[test]
    fn ranges() {
        assert!(check_range("w", 0, 1, 90).is_err());
        assert!(check_range("w", 91, 1, 90).is_err());
        assert!(check_range("w", 1, 1, 90).is_ok());
        assert!(check_open_range("decay", 1.0, 0.0, 1.0).is_err());
        assert!(check_open_range("decay", 0.5, 0.0, 1.0).is_ok());
        assert!(check_float_range("alpha", f64::NAN, 0.0, 1.0).is_err());
    }
}
