//! The registry's `config_hash`: the first 16 hex characters of SHA-256 over
//! the canonical JSON of `model_config`, byte-compatible with Python's
//! `json.dumps(obj, sort_keys=True)` (keys sorted recursively, `", "` and
//! `": "` separators, non-ASCII escaped as `\uXXXX`, floats in `repr` form).

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The canonical text of `value`.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

/// The 16-hex `config_hash` of a model config.
pub fn config_hash(model_config: &Value) -> String {
    let digest = Sha256::digest(canonical_json(model_config).as_bytes());
    hex::encode(digest)[..16].to_owned()
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => {
            if number.is_i64() || number.is_u64() {
                out.push_str(&number.to_string());
            } else {
                out.push_str(&python_float(number.as_f64().unwrap_or(f64::NAN)));
            }
        }
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable();
            out.push('{');
            for (index, key) in keys.into_iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                write_string(out, key);
                out.push_str(": ");
                write_value(out, &map[key]);
            }
            out.push('}');
        }
    }
}

fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            ' '..='~' => out.push(ch),
            other => {
                let mut units = [0u16; 2];
                for unit in other.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

/// Python's `repr(float)`: shortest round-trip digits, scientific notation
/// when the decimal exponent is below -4 or at least 16.
fn python_float(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if (-4..16).contains(&exponent) {
        let plain = format!("{value}");
        if plain.contains('.') {
            plain
        } else {
            format!("{plain}.0")
        }
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn matches_python_json_dumps_sort_keys() {
        // json.dumps({"b": 1, "a": [1.5, None, True], "c": {"z": "é", "y": 2.0}}, sort_keys=True)
        let value = json!({"b": 1, "a": [1.5, null, true], "c": {"z": "é", "y": 2.0}});
        assert_eq!(
            canonical_json(&value),
            r#"{"a": [1.5, null, true], "b": 1, "c": {"y": 2.0, "z": "\u00e9"}}"#
        );
    }

    #[test]
    fn floats_follow_python_repr() {
        assert_eq!(python_float(1e20), "1e+20");
        assert_eq!(python_float(1.5e-5), "1.5e-05");
        assert_eq!(python_float(0.0001), "0.0001");
        assert_eq!(python_float(123.0), "123.0");
        assert_eq!(python_float(0.1), "0.1");
        assert_eq!(python_float(-2.5e16), "-2.5e+16");
    }

    #[test]
    fn hash_is_sha256_prefix_and_key_order_independent() {
        // hashlib.sha256(json.dumps({"model_type": "naive"}, sort_keys=True).encode()).hexdigest()[:16]
        let a = json!({"model_type": "naive", "season_length": 7});
        let b = json!({"season_length": 7, "model_type": "naive"});
        assert_eq!(config_hash(&a), config_hash(&b));
        let full = hex::encode(Sha256::digest(
            br#"{"model_type": "naive", "season_length": 7}"#,
        ));
        assert_eq!(config_hash(&a), full[..16]);
        assert_ne!(
            config_hash(&a),
            config_hash(&json!({"model_type": "naive"}))
        );
    }

    #[test]
    fn astral_characters_use_surrogate_pairs() {
        assert_eq!(
            canonical_json(&json!("😀\u{7f}")),
            r#""\ud83d\ude00\u007f""#
        );
    }
}
