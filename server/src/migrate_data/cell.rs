//! One value on its way from SQLite to PostgreSQL: read from SQLite's
//! dynamic storage classes into the target column's type, written in
//! PostgreSQL's `COPY` text format, and reduced to a canonical form that
//! both sides' checksums are computed over.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::{postgres::PgRow, sqlite::SqliteRow, Row, TypeInfo, ValueRef};

/// The PostgreSQL type family of a target column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `smallint`.
    Int2,
    /// `integer`.
    Int4,
    /// `bigint`.
    Int8,
    /// `real`.
    Float4,
    /// `double precision`.
    Float8,
    /// `numeric`.
    Numeric,
    /// `boolean`.
    Bool,
    /// `timestamp with time zone`.
    Timestamptz,
    /// `timestamp without time zone`.
    Timestamp,
    /// `date`.
    Date,
    /// `json` / `jsonb`.
    Json,
    /// `bytea`.
    Bytes,
    /// Text and anything else (read back as `::text`).
    Text,
}

impl Kind {
    /// The family of an `information_schema.columns.data_type`.
    pub fn of(data_type: &str) -> Self {
        match data_type {
            "smallint" => Self::Int2,
            "integer" => Self::Int4,
            "bigint" => Self::Int8,
            "real" => Self::Float4,
            "double precision" => Self::Float8,
            "numeric" => Self::Numeric,
            "boolean" => Self::Bool,
            "timestamp with time zone" => Self::Timestamptz,
            "timestamp without time zone" => Self::Timestamp,
            "date" => Self::Date,
            "json" | "jsonb" => Self::Json,
            "bytea" => Self::Bytes,
            _ => Self::Text,
        }
    }
}

/// A typed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// SQL NULL.
    Null,
    /// Any integer.
    Int(i64),
    /// A float (`real` values are kept at `f32` precision).
    Float(f64),
    /// An exact decimal.
    Numeric(Decimal),
    /// A boolean.
    Bool(bool),
    /// A UTC instant, at microsecond precision.
    Timestamptz(DateTime<Utc>),
    /// A wall-clock time, at microsecond precision.
    Timestamp(NaiveDateTime),
    /// A day.
    Date(NaiveDate),
    /// A JSON document (the source text, checked to parse).
    Json(String),
    /// Bytes.
    Bytes(Vec<u8>),
    /// Text.
    Text(String),
}

/// Rounds to whole microseconds, as PostgreSQL stores timestamps.
fn to_micros(at: NaiveDateTime) -> NaiveDateTime {
    let nanos = i64::from(at.and_utc().timestamp_subsec_nanos());
    let rounded = (nanos + 500) / 1000 * 1000;
    at + chrono::Duration::nanoseconds(rounded - nanos)
}

fn parse_naive(text: &str) -> Option<NaiveDateTime> {
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d"]
        .iter()
        .find_map(|format| {
            NaiveDateTime::parse_from_str(text, format)
                .ok()
                .or_else(|| {
                    NaiveDate::parse_from_str(text, format)
                        .ok()
                        .and_then(|day| day.and_hms_opt(0, 0, 0))
                })
        })
}

fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%#z"))
        .map(|at| at.with_timezone(&Utc))
        .ok()
        .or_else(|| parse_naive(text).map(|at| at.and_utc()))
}

/// SQLite's storage class of one value.
enum Stored {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

fn stored(row: &SqliteRow, index: usize) -> Result<Stored, sqlx::Error> {
    let raw = row.try_get_raw(index)?;
    if raw.is_null() {
        return Ok(Stored::Null);
    }
    let class = raw.type_info().name().to_ascii_uppercase();
    Ok(match class.as_str() {
        "INTEGER" | "BOOLEAN" | "INT8" => Stored::Int(row.try_get_unchecked(index)?),
        "REAL" => Stored::Real(row.try_get_unchecked(index)?),
        "BLOB" => Stored::Blob(row.try_get_unchecked(index)?),
        _ => Stored::Text(row.try_get_unchecked(index)?),
    })
}

/// Reads column `index` of a SQLite row as a value of `kind`; an error
/// names what could not be converted.
pub fn from_sqlite(row: &SqliteRow, index: usize, kind: Kind) -> Result<Cell, String> {
    let value = stored(row, index).map_err(|error| error.to_string())?;
    let bad = |what: &str| format!("{what} is not a valid {kind:?} value");
    Ok(match (kind, value) {
        (_, Stored::Null) => Cell::Null,
        (Kind::Int2 | Kind::Int4 | Kind::Int8, Stored::Int(n)) => Cell::Int(n),
        (Kind::Int2 | Kind::Int4 | Kind::Int8, Stored::Real(x)) if x.fract() == 0.0 => {
            Cell::Int(x as i64)
        }
        (Kind::Int2 | Kind::Int4 | Kind::Int8, Stored::Text(s)) => {
            Cell::Int(s.trim().parse().map_err(|_| bad(&s))?)
        }
        (Kind::Float4, Stored::Int(n)) => Cell::Float(f64::from(n as f32)),
        (Kind::Float4, Stored::Real(x)) => Cell::Float(f64::from(x as f32)),
        (Kind::Float8, Stored::Int(n)) => Cell::Float(n as f64),
        (Kind::Float8, Stored::Real(x)) => Cell::Float(x),
        (Kind::Float4 | Kind::Float8, Stored::Text(s)) => {
            let x: f64 = s.trim().parse().map_err(|_| bad(&s))?;
            Cell::Float(if kind == Kind::Float4 {
                f64::from(x as f32)
            } else {
                x
            })
        }
        (Kind::Numeric, Stored::Int(n)) => Cell::Numeric(Decimal::from(n)),
        (Kind::Numeric, Stored::Real(x)) => {
            Cell::Numeric(Decimal::from_str(&x.to_string()).map_err(|_| bad(&x.to_string()))?)
        }
        (Kind::Numeric, Stored::Text(s)) => Cell::Numeric(
            Decimal::from_str(s.trim())
                .or_else(|_| Decimal::from_scientific(s.trim()))
                .map_err(|_| bad(&s))?,
        ),
        (Kind::Bool, Stored::Int(n)) => Cell::Bool(n != 0),
        (Kind::Bool, Stored::Text(s)) => Cell::Bool(match s.trim().to_ascii_lowercase().as_str() {
            "1" | "t" | "true" => true,
            "0" | "f" | "false" => false,
            _ => return Err(bad(&s)),
        }),
        (Kind::Timestamptz, Stored::Text(s)) => Cell::Timestamptz(
            to_micros(parse_instant(s.trim()).ok_or_else(|| bad(&s))?.naive_utc()).and_utc(),
        ),
        (Kind::Timestamptz, Stored::Int(n)) => {
            Cell::Timestamptz(DateTime::from_timestamp(n, 0).ok_or_else(|| bad(&n.to_string()))?)
        }
        (Kind::Timestamp, Stored::Text(s)) => {
            Cell::Timestamp(to_micros(parse_naive(s.trim()).ok_or_else(|| bad(&s))?))
        }
        (Kind::Date, Stored::Text(s)) => Cell::Date(
            s.trim()
                .get(..10)
                .and_then(|day| NaiveDate::parse_from_str(day, "%Y-%m-%d").ok())
                .ok_or_else(|| bad(&s))?,
        ),
        (Kind::Json, Stored::Text(s)) => {
            serde_json::from_str::<Value>(&s).map_err(|_| bad(&s))?;
            Cell::Json(s)
        }
        (Kind::Bytes, Stored::Blob(bytes)) => Cell::Bytes(bytes),
        (Kind::Bytes, Stored::Text(s)) => Cell::Bytes(s.into_bytes()),
        (Kind::Text, Stored::Text(s)) => Cell::Text(s),
        (Kind::Text, Stored::Int(n)) => Cell::Text(n.to_string()),
        (Kind::Text, Stored::Real(x)) => Cell::Text(x.to_string()),
        (_, Stored::Blob(_)) => return Err(format!("a BLOB is not a valid {kind:?} value")),
        (_, Stored::Int(n)) => return Err(bad(&n.to_string())),
        (_, Stored::Real(x)) => return Err(bad(&x.to_string())),
    })
}

/// Reads column `index` of a PostgreSQL row of `kind` (selected with
/// [`select_expression`]).
pub fn from_postgres(row: &PgRow, index: usize, kind: Kind) -> Result<Cell, sqlx::Error> {
    fn get<'r, T>(
        row: &'r PgRow,
        index: usize,
        wrap: impl Fn(T) -> Cell,
    ) -> Result<Cell, sqlx::Error>
    where
        T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    {
        Ok(row.try_get::<Option<T>, _>(index)?.map_or(Cell::Null, wrap))
    }
    match kind {
        Kind::Int2 => get(row, index, |n: i16| Cell::Int(i64::from(n))),
        Kind::Int4 => get(row, index, |n: i32| Cell::Int(i64::from(n))),
        Kind::Int8 => get(row, index, Cell::Int),
        Kind::Float4 => get(row, index, |x: f32| Cell::Float(f64::from(x))),
        Kind::Float8 => get(row, index, Cell::Float),
        Kind::Numeric => get(row, index, Cell::Numeric),
        Kind::Bool => get(row, index, Cell::Bool),
        Kind::Timestamptz => get(row, index, Cell::Timestamptz),
        Kind::Timestamp => get(row, index, Cell::Timestamp),
        Kind::Date => get(row, index, Cell::Date),
        Kind::Json => get(row, index, |value: Value| Cell::Json(value.to_string())),
        Kind::Bytes => get(row, index, Cell::Bytes),
        Kind::Text => get(row, index, Cell::Text),
    }
}

/// How a column is selected on PostgreSQL for [`from_postgres`].
pub fn select_expression(column: &str, data_type: &str) -> String {
    match Kind::of(data_type) {
        Kind::Text if !matches!(data_type, "text" | "character varying" | "character") => {
            format!("\"{column}\"::text")
        }
        _ => format!("\"{column}\""),
    }
}

/// Appends `text` escaped for the `COPY` text format.
fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            other => out.push(other),
        }
    }
}

fn float_text(x: f64) -> String {
    if x.is_nan() {
        "NaN".to_owned()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
    } else {
        format!("{x:?}")
    }
}

impl Cell {
    /// Appends the value in the `COPY` text format.
    pub fn push_copy(&self, out: &mut String) {
        match self {
            Self::Null => out.push_str("\\N"),
            Self::Int(n) => out.push_str(&n.to_string()),
            Self::Float(x) => out.push_str(&float_text(*x)),
            Self::Numeric(d) => out.push_str(&d.to_string()),
            Self::Bool(b) => out.push(if *b { 't' } else { 'f' }),
            Self::Timestamptz(at) => {
                out.push_str(&at.to_rfc3339_opts(SecondsFormat::Micros, true));
            }
            Self::Timestamp(at) => out.push_str(&at.format("%Y-%m-%d %H:%M:%S%.6f").to_string()),
            Self::Date(day) => out.push_str(&day.format("%Y-%m-%d").to_string()),
            Self::Json(text) | Self::Text(text) => push_escaped(out, text),
            Self::Bytes(bytes) => {
                out.push_str("\\\\x");
                out.push_str(&hex::encode(bytes));
            }
        }
    }

    /// The canonical form checksums are computed over: equal on both
    /// sides exactly when the stored values are equal.
    pub fn canonical(&self) -> String {
        match self {
            Self::Null => "\u{0}".to_owned(),
            Self::Int(n) => format!("i{n}"),
            Self::Float(x) => format!("f{}", float_text(*x)),
            Self::Numeric(d) => format!("n{}", d.normalize()),
            Self::Bool(b) => format!("b{}", u8::from(*b)),
            Self::Timestamptz(at) => format!("z{}", at.timestamp_micros()),
            Self::Timestamp(at) => format!("t{}", at.and_utc().timestamp_micros()),
            Self::Date(day) => format!("d{day}"),
            Self::Json(text) => match serde_json::from_str::<Value>(text) {
                Ok(value) => format!("j{}", canonical_json(&value)),
                Err(_) => format!("s{text}"),
            },
            Self::Bytes(bytes) => format!("x{}", hex::encode(bytes)),
            Self::Text(text) => format!("s{text}"),
        }
    }
}

/// JSON with object keys sorted (PostgreSQL's `jsonb` does not keep the
/// written order) and numbers in one spelling.
fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let members: Vec<String> = keys
                .into_iter()
                .map(|key| {
                    format!(
                        "{}:{}",
                        Value::String(key.clone()),
                        canonical_json(&map[key])
                    )
                })
                .collect();
            format!("{{{}}}", members.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(canonical_json).collect();
            format!("[{}]", items.join(","))
        }
        Value::Number(number) => match (number.as_i64(), number.as_f64()) {
            (Some(n), _) => n.to_string(),
            (None, Some(x)) if x.fract() == 0.0 && x.abs() < 9e15 => format!("{}", x as i64),
            (None, Some(x)) => float_text(x),
            (None, None) => number.to_string(),
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_and_spells_types() {
        let mut out = String::new();
        for cell in [
            Cell::Null,
            Cell::Text("a\tb\\c\nd".into()),
            Cell::Bool(true),
            Cell::Bytes(vec![0xde, 0xad]),
            Cell::Float(0.1),
            Cell::Float(f64::NAN),
        ] {
            cell.push_copy(&mut out);
            out.push('|');
        }
        assert_eq!(out, "\\N|a\\tb\\\\c\\nd|t|\\\\xdead|0.1|NaN|");
    }

    #[test]
    fn timestamps_round_to_microseconds_and_parse_sqlite_spellings() {
        let at = parse_instant("2024-01-02T03:04:05.1234567Z").unwrap();
        let cell = Cell::Timestamptz(to_micros(at.naive_utc()).and_utc());
        let mut out = String::new();
        cell.push_copy(&mut out);
        assert_eq!(out, "2024-01-02T03:04:05.123457Z");
        for text in [
            "2024-01-02 03:04:05",
            "2024-01-02T03:04:05+00:00",
            "2024-01-02 03:04:05.000+00:00",
        ] {
            assert_eq!(
                parse_instant(text).unwrap().timestamp(),
                1_704_164_645,
                "{text}"
            );
        }
    }

    #[test]
    fn canonical_forms_ignore_spelling() {
        assert_eq!(
            Cell::Json(r#"{"b": 1.0, "a": [2, {"d": null, "c": "x"}]}"#.into()).canonical(),
            Cell::Json(r#"{"a":[2,{"c":"x","d":null}],"b":1}"#.into()).canonical()
        );
        assert_eq!(
            Cell::Numeric(Decimal::from_str("12.50").unwrap()).canonical(),
            Cell::Numeric(Decimal::from_str("12.5").unwrap()).canonical()
        );
        assert_ne!(Cell::Int(1).canonical(), Cell::Text("1".into()).canonical());
        assert_ne!(
            Cell::Null.canonical(),
            Cell::Text(String::new()).canonical()
        );
    }

    #[test]
    fn kinds_follow_information_schema_names() {
        assert_eq!(Kind::of("timestamp with time zone"), Kind::Timestamptz);
        assert_eq!(Kind::of("jsonb"), Kind::Json);
        assert_eq!(Kind::of("character varying"), Kind::Text);
        assert_eq!(select_expression("c", "USER-DEFINED"), "\"c\"::text");
        assert_eq!(select_expression("c", "text"), "\"c\"");
    }
}
