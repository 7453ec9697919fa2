//! Field-level helpers shared by every bulk upsert, over JSON and CSV alike:
//! lenient number and flag parsing, money checks and their OpenAPI schemas.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};

use crate::extract::Violations;

/// Largest value of `numeric(10,2)` (prices).
pub(crate) const MAX_PRICE: Decimal = Decimal::from_parts(1_410_065_407, 2, 0, false, 2);
/// Largest value of `numeric(12,2)` (row totals).
pub(crate) const MAX_TOTAL: Decimal = Decimal::from_parts(3_567_587_327, 232, 0, false, 2);

/// `prefix` + `name` (`records.3.sku`, or `sku` when the prefix is empty).
pub(crate) fn at(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// Accepts a JSON integer, an integral float or a numeric string (CSV cells
/// arrive as text).
pub(crate) fn lax_int<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    use serde::de::Error;
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(i64),
        Float(f64),
        Text(String),
    }
    match Raw::deserialize(deserializer)
        .map_err(|_| D::Error::custom("invalid type: expected an integer"))?
    {
        Raw::Int(value) => Ok(value),
        Raw::Float(value) if value.fract() == 0.0 && value.abs() < 9.0e15 => Ok(value as i64),
        Raw::Float(_) => Err(D::Error::custom(
            "Input should be a valid integer, got a number with a fractional part",
        )),
        Raw::Text(text) => text.trim().parse::<i64>().map_err(|_| {
            D::Error::custom(
                "Input should be a valid integer, unable to parse string as an integer",
            )
        }),
    }
}

/// An optional flag: JSON `true`/`false`, or (CSV) `true`/`false`, `1`/`0`,
/// `yes`/`no`, `t`/`f`, any case; an empty cell or `null` is absent.
pub(crate) fn lax_bool<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<bool>, D::Error> {
    use serde::de::Error;
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Bool(bool),
        Int(i64),
        Float(f64),
        Text(String),
    }
    match Option::<Raw>::deserialize(deserializer)
        .map_err(|_| D::Error::custom("invalid type: expected a boolean"))?
    {
        None => Ok(None),
        Some(Raw::Bool(value)) => Ok(Some(value)),
        Some(Raw::Int(1)) => Ok(Some(true)),
        Some(Raw::Int(0)) => Ok(Some(false)),
        // `1.0` and `0.0` are the integers 1 and 0 to JSON Schema.
        Some(Raw::Float(1.0)) => Ok(Some(true)),
        Some(Raw::Float(0.0)) => Ok(Some(false)),
        Some(Raw::Int(_) | Raw::Float(_)) => {
            Err(D::Error::custom("Input should be a valid boolean"))
        }
        Some(Raw::Text(text)) => match text.trim().to_ascii_lowercase().as_str() {
            "" => Ok(None),
            "true" | "t" | "yes" | "y" | "1" => Ok(Some(true)),
            "false" | "f" | "no" | "n" | "0" => Ok(Some(false)),
            _ => Err(D::Error::custom("Input should be a valid boolean")),
        },
    }
}

/// An optional flag as [`lax_bool`] reads it: a JSON boolean, `0`/`1`, one of
/// its spellings in any case, or `null` / a blank string for none.
pub(crate) fn flag_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    const SPELLINGS: &str =
        r"^\s*([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|[Yy][Ee][Ss]|[Nn][Oo]|[TtFfYyNn01])\s*$";
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Boolean))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0))
                .maximum(Some(1)),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(SPELLINGS)),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(r"^\s*$")),
        )
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some(
            "A flag: true/false, 0/1, or (as text, any case) true/false, t/f, yes/no, y/n, 1/0; null or blank for none",
        ))
        .build()
        .into()
}

/// Requires a non-negative amount of at most 2 decimal places up to `max`.
pub(crate) fn money(v: &mut Violations, field: &str, value: Decimal, max: Decimal) {
    if value.is_sign_negative() && !value.is_zero() {
        v.push(
            field,
            "Input should be greater than or equal to 0",
            "greater_than_equal",
        );
    } else if value > max {
        v.push(
            field,
            format!("Input should be less than or equal to {max}"),
            "less_than_equal",
        );
    }
    if value.normalize().scale() > 2 {
        v.push(
            field,
            "Decimal input should have no more than 2 decimal places",
            "decimal_max_places",
        );
    }
}

/// Requires an optional text to be at most `max` characters.
pub(crate) fn max_len(v: &mut Violations, field: &str, value: Option<&str>, max: usize) {
    if let Some(value) = value {
        v.length(field, value, 0, max);
    }
}

/// The two forms of a count: an `integer` in 0..=i32::MAX, or a string of
/// digits.
fn count_forms() -> utoipa::openapi::schema::OneOfBuilder {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0))
                .maximum(Some(i32::MAX)),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(r"^\s*\+?0*[0-9]{1,9}\s*$")),
        )
}

/// `integer` in 0..=i32::MAX, or a string of digits.
pub(crate) fn count_schema() -> utoipa::openapi::schema::Schema {
    count_forms()
        .description(Some("A count (>= 0); a JSON integer or a string of digits"))
        .build()
        .into()
}

/// An optional count: [`count_schema`]'s forms, or `null` / a blank string
/// (an empty CSV cell), both meaning "absent".
pub(crate) fn optional_count_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    count_forms()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(r"^\s*$")),
        )
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some(
            "An optional count (>= 0); a JSON integer, a string of digits, or null / a blank string for none",
        ))
        .build()
        .into()
}

/// A non-negative amount with at most 2 decimal places, up to `max`: a JSON
/// number or a decimal string; `nullable` adds `null`.
pub(crate) fn money_schema(
    max: f64,
    digits: u8,
    nullable: bool,
    description: &str,
) -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    let mut one_of = OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .minimum(Some(0))
                .maximum(Some(max))
                .multiple_of(Some(0.01)),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(format!(r"^[0-9]{{1,{digits}}}(\.[0-9]{{1,2}})?$"))),
        );
    if nullable {
        one_of = one_of.item(ObjectBuilder::new().schema_type(Type::Null));
    }
    one_of.description(Some(description)).build().into()
}

/// `schema`, or an empty string (a blank CSV-style cell, read as absent).
pub(crate) fn or_blank(schema: utoipa::openapi::schema::Schema) -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    OneOfBuilder::new()
        .item(schema)
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(0)),
        )
        .build()
        .into()
}

/// A price (`numeric(10,2)`), optional when `nullable`.
pub(crate) fn price_schema(nullable: bool, description: &str) -> utoipa::openapi::schema::Schema {
    money_schema(99_999_999.99, 8, nullable, description)
}

/// A row total (`numeric(12,2)`), optional when `nullable`.
pub(crate) fn total_schema(nullable: bool, description: &str) -> utoipa::openapi::schema::Schema {
    money_schema(9_999_999_999.99, 10, nullable, description)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_limits_match_the_columns() {
        assert_eq!(MAX_PRICE.to_string(), "99999999.99");
        assert_eq!(MAX_TOTAL.to_string(), "9999999999.99");
    }

    #[derive(Deserialize)]
    struct Flag {
        #[serde(default, deserialize_with = "lax_bool")]
        flag: Option<bool>,
    }

    #[test]
    fn flags_accept_json_and_csv_spellings() {
        let parse = |text: &str| serde_json::from_str::<Flag>(text).map(|f| f.flag);
        assert_eq!(parse(r#"{"flag": true}"#).unwrap(), Some(true));
        assert_eq!(parse(r#"{"flag": "No"}"#).unwrap(), Some(false));
        assert_eq!(parse(r#"{"flag": 1}"#).unwrap(), Some(true));
        assert_eq!(parse(r#"{"flag": 0.0}"#).unwrap(), Some(false));
        assert_eq!(parse(r#"{"flag": ""}"#).unwrap(), None);
        assert_eq!(parse(r#"{}"#).unwrap(), None);
        assert!(parse(r#"{"flag": "maybe"}"#).is_err());
        assert!(parse(r#"{"flag": 2}"#).is_err());
        assert!(parse(r#"{"flag": 0.5}"#).is_err());
    }

    #[test]
    fn money_checks_sign_size_and_places() {
        let check = |text: &str| {
            let mut v = Violations::default();
            money(&mut v, "p", text.parse().unwrap(), MAX_PRICE);
            v.is_empty()
        };
        assert!(check("0"));
        assert!(check("99999999.99"));
        assert!(check("1.50"));
        assert!(!check("-0.01"));
        assert!(!check("100000000"));
        assert!(!check("1.001"));
    }
}
