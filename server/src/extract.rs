//! Request extractors that turn every malformed body, query or path into a
//! 422 problem with field errors, then run the type's own [`Validate`]
//! checks (ranges, cross-field rules).
//!
//! Rules every route gets from these extractors, whatever its types:
//!
//! * **No NUL characters.** A `\0` in any JSON string (key or value), query
//!   parameter or path parameter is a 422 naming the field: PostgreSQL
//!   cannot store it in text, and no ForecastLab value contains one.
//! * **Bounded JSON.** Before a body is deserialized, one pass over its
//!   bytes (no allocation) counts its values and nesting depth; a body with
//!   more than [`JsonLimits::max_values`] values or deeper than
//!   [`JsonLimits::max_depth`] is refused, so no route can be made to build
//!   a huge generic tree (`serde_json::Value` fields such as model configs)
//!   out of a body the route would reject anyway.

use std::fmt::Display;

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{header, request::Parts, StatusCode},
};
use serde::de::DeserializeOwned;

use self::body_guards::{
    integral_numbers_as_integers, nul_problem, reject_nul_in_json, JsonLimits,
};
use crate::problem::{FieldError, Problem};

mod body_guards;

/// Checks a request type beyond what its field types guarantee.
pub trait Validate {
    /// Records every violation in `violations`; the default accepts anything.
    fn validate(&self, violations: &mut Violations) {
        let _ = violations;
    }
}

/// Collects field errors under a location prefix (`query`, `path`, or none
/// for bodies).
#[derive(Debug, Default)]
pub struct Violations {
    prefix: Option<&'static str>,
    errors: Vec<FieldError>,
}

impl Violations {
    /// An empty collection whose field names get `prefix.` in front.
    pub fn with_prefix(prefix: Option<&'static str>) -> Self {
        Self {
            prefix,
            errors: Vec::new(),
        }
    }

    fn field(&self, name: &str) -> String {
        match self.prefix {
            Some(prefix) => format!("{prefix}.{name}"),
            None => name.to_owned(),
        }
    }

    /// Records a violation.
    pub fn push(&mut self, field: &str, message: impl Into<String>, kind: &str) {
        let field = self.field(field);
        self.errors.push(FieldError::new(field, message, kind));
    }

    /// Requires `value >= min`.
    pub fn min<T: PartialOrd + Display>(&mut self, field: &str, value: T, min: T) {
        if value < min {
            self.push(
                field,
                format!("Input should be greater than or equal to {min}"),
                "greater_than_equal",
            );
        }
    }

    /// Requires `value <= max`.
    pub fn max<T: PartialOrd + Display>(&mut self, field: &str, value: T, max: T) {
        if value > max {
            self.push(
                field,
                format!("Input should be less than or equal to {max}"),
                "less_than_equal",
            );
        }
    }

    /// Requires `min <= value <= max`.
    pub fn range<T: PartialOrd + Display + Copy>(&mut self, field: &str, value: T, min: T, max: T) {
        self.min(field, value, min);
        self.max(field, value, max);
    }

    /// Requires a string length within `min..=max` characters.
    pub fn length(&mut self, field: &str, value: &str, min: usize, max: usize) {
        let length = value.chars().count();
        if length < min {
            self.push(
                field,
                format!("String should have at least {min} character(s)"),
                "string_too_short",
            );
        } else if length > max {
            self.push(
                field,
                format!("String should have at most {max} character(s)"),
                "string_too_long",
            );
        }
    }

    /// Requires `value` to be one of `allowed`.
    pub fn one_of(&mut self, field: &str, value: &str, allowed: &[&str]) {
        if !allowed.contains(&value) {
            self.push(
                field,
                format!("Input should be one of: {}", allowed.join(", ")),
                "enum",
            );
        }
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The field of each violation, in the order found (for unit tests of
    /// checks).
    #[cfg(test)]
    pub(crate) fn field_names(&self) -> Vec<String> {
        self.errors
            .iter()
            .map(|error| error.field.clone())
            .collect()
    }

    /// `Ok(())` when empty, else the 422 problem.
    pub fn into_result(self) -> Result<(), Problem> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Problem::validation(self.errors))
        }
    }
}

/// Runs `value`'s checks with the given field prefix.
pub fn validate<T: Validate>(value: &T, prefix: Option<&'static str>) -> Result<(), Problem> {
    let mut violations = Violations::with_prefix(prefix);
    value.validate(&mut violations);
    violations.into_result()
}

/// A JSON body, deserialized with field paths in its errors and validated.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "Expected a request body with Content-Type: application/json.",
            ));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                Problem::from_status(rejection.status(), Some(rejection.body_text()))
            })?;
        let value = parse_body::<T>(&bytes)?;
        validate(&value, None)?;
        Ok(Self(value))
    }
}

/// Parses a request body under the rules of this module: shape limits,
/// typed deserialization with field paths, no NUL characters.
pub fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    JsonLimits::DEFAULT.check(bytes)?;
    // Every body is a JSON object (serde would also read a struct from an
    // array of its fields in order, which no document allows).
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(Problem::invalid_field(
            "body",
            "Input should be a valid dictionary or object",
            "dict_type",
        ));
    }
    let value = match parse_json::<T>(bytes) {
        Ok(value) => value,
        // JSON Schema counts `26.0` as an integer; serde's integer types
        // do not. Only a body that fails on exactly that is read again
        // with such numbers written as integers, so free-form JSON (model
        // configs, metrics) of every other body keeps its exact text.
        Err(problem) if is_integral_float_error(&problem) => {
            parse_json::<T>(&integral_numbers_as_integers(bytes))?
        }
        Err(problem) => return Err(problem),
    };
    reject_nul_in_json(bytes)?;
    Ok(value)
}

fn is_integral_float_error(problem: &Problem) -> bool {
    problem.errors.iter().flatten().any(|error| {
        error.message.starts_with("invalid type: floating point `")
            && error
                .message
                .split('`')
                .nth(1)
                .and_then(|number| number.split_once('.'))
                .is_some_and(|(_, fraction)| fraction.bytes().all(|b| b == b'0'))
    })
}

/// `deserialize_with` for an optional nested struct that must be a JSON
/// object (serde's derive would also accept an array of its fields).
pub fn object_only<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: DeserializeOwned,
{
    use serde::Deserialize;
    let map = Option::<serde_json::Map<String, serde_json::Value>>::deserialize(deserializer)?;
    map.map(|map| T::deserialize(serde_json::Value::Object(map)).map_err(serde::de::Error::custom))
        .transpose()
}

/// Deserializes JSON bytes, mapping errors to a 422 with the failing path.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = dotted_path(&error.path().to_string());
        let inner = error.into_inner();
        let kind = match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                "json_invalid"
            }
            _ => classify_message(&inner.to_string()),
        };
        Problem::validation(vec![field_error(None, &path, &inner.to_string(), kind)])
    })
}

/// Query parameters, deserialized and validated; errors name `query.<field>`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            if key.contains('\0') || value.contains('\0') {
                return Err(nul_problem(format!("query.{}", key.replace('\0', ""))));
            }
        }
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        let value: T = serde_path_to_error::deserialize(deserializer).map_err(|error| {
            let path = dotted_path(&error.path().to_string());
            let message = error.into_inner().to_string();
            let kind = classify_message(&message);
            Problem::validation(vec![field_error(Some("query"), &path, &message, kind)])
        })?;
        validate(&value, Some("query"))?;
        Ok(Self(value))
    }
}

/// Path parameters; errors name `path.<param>`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::path::ErrorKind;
        if let Ok(raw) = axum::extract::RawPathParams::from_request_parts(parts, state).await {
            if let Some((key, _)) = raw.iter().find(|(_, value)| value.contains('\0')) {
                return Err(nul_problem(format!("path.{key}")));
            }
        }
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(axum::extract::rejection::PathRejection::FailedToDeserializePathParams(error)) => {
                let kind = error.into_kind();
                let (field, message) = match &kind {
                    ErrorKind::ParseErrorAtKey {
                        key,
                        value,
                        expected_type,
                    } => (
                        key.clone(),
                        format!(
                            "Input should be a valid {expected_type}, unable to parse {value:?}"
                        ),
                    ),
                    ErrorKind::ParseError {
                        value,
                        expected_type,
                    } => (
                        "value".to_owned(),
                        format!(
                            "Input should be a valid {expected_type}, unable to parse {value:?}"
                        ),
                    ),
                    ErrorKind::InvalidUtf8InPathParam { key } => {
                        (key.clone(), "Path parameter is not valid UTF-8".to_owned())
                    }
                    other => ("value".to_owned(), other.to_string()),
                };
                Err(Problem::invalid_field(
                    format!("path.{field}"),
                    message,
                    "parsing",
                ))
            }
            Err(other) => Err(Problem::from_status(
                other.status(),
                Some(other.body_text()),
            )),
        }
    }
}

fn field_error(prefix: Option<&str>, path: &str, message: &str, kind: &str) -> FieldError {
    // A missing field is reported by serde at its parent's path.
    let (path, message) = match missing_field_name(message) {
        Some(name) if kind == "missing" => {
            let full = if path.is_empty() || path == "." {
                name.to_owned()
            } else {
                format!("{path}.{name}")
            };
            (full, "Field required".to_owned())
        }
        _ => (path.to_owned(), strip_position(message)),
    };
    let path = if path.is_empty() || path == "." {
        "body".to_owned()
    } else {
        path
    };
    let field = match prefix {
        Some(prefix) if path != "body" => format!("{prefix}.{path}"),
        Some(prefix) => prefix.to_owned(),
        None => path,
    };
    FieldError::new(field, message, kind)
}

fn missing_field_name(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next()
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

fn classify_message(message: &str) -> &'static str {
    if message.starts_with("missing field") {
        "missing"
    } else if message.starts_with("unknown field") {
        "extra_forbidden"
    } else if message.starts_with("invalid type") {
        "type_error"
    } else if message.contains("invalid digit") || message.contains("number too large") {
        "int_parsing"
    } else if message.starts_with("unknown variant") {
        "enum"
    } else {
        "value_error"
    }
}

/// `records[0].quantity` → `records.0.quantity`.
fn dotted_path(path: &str) -> String {
    path.replace('[', ".").replace(']', "")
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Row {
        quantity: i64,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Batch {
        records: Vec<Row>,
    }

    #[test]
    fn json_errors_carry_dotted_paths() {
        let error =
            parse_json::<Batch>(br#"{"records":[{"quantity":1},{"quantity":"x"}]}"#).unwrap_err();
        let errors = error.errors.clone().unwrap();
        assert_eq!(errors[0].field, "records.1.quantity");
        assert_eq!(errors[0].kind, "type_error");

        let error = parse_json::<Batch>(br#"{"records":[{}]}"#).unwrap_err();
        let errors = error.errors.clone().unwrap();
        assert_eq!(errors[0].field, "records.0.quantity");
        assert_eq!(errors[0].kind, "missing");

        let error = parse_json::<Batch>(br#"{"records":[{"quantity":1,"extra":2}]}"#).unwrap_err();
        assert_eq!(error.errors.clone().unwrap()[0].kind, "extra_forbidden");

        let error = parse_json::<Batch>(b"{not json").unwrap_err();
        assert_eq!(error.errors.clone().unwrap()[0].kind, "json_invalid");
    }

    #[test]
    fn bodies_are_objects_and_integral_floats_are_integers() {
        let error = parse_body::<Batch>(br#"[{"quantity":1}]"#).unwrap_err();
        assert_eq!(error.errors.clone().unwrap()[0].kind, "dict_type");
        let batch: Batch = parse_body(br#"{"records":[{"quantity":3.0}]}"#).unwrap();
        assert_eq!(batch.records[0].quantity, 3);
        assert!(parse_body::<Batch>(br#"{"records":[{"quantity":3.5}]}"#).is_err());
    }

    #[test]
    fn violations_render_ranges() {
        let mut violations = Violations::with_prefix(Some("query"));
        violations.range("page_size", 0, 1, 100);
        violations.length("search", "a", 2, 100);
        let problem = violations.into_result().unwrap_err();
        let errors = problem.errors.clone().unwrap();
        assert_eq!(errors[0].field, "query.page_size");
        assert_eq!(errors[0].kind, "greater_than_equal");
        assert_eq!(errors[1].kind, "string_too_short");
    }
}
