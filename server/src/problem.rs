//! RFC 7807 problem responses: the one error type every handler returns.
//!
//! Handlers return `Result<_, Problem>` and use `?`. The
//! [`normalize`](crate::app) middleware then adds the request id and
//! `instance`, and converts any other error response (axum's own rejections,
//! 404 for unknown routes, 405, 413, panics) into the same shape.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use forecastlab_core::CoreError;
use serde::Serialize;
use serde_json::{Map, Value};

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid field of a 422 response.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Dotted location (`records.0.quantity`, `query.start_date`, `path.store_id`).
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// Machine-readable error type (`missing`, `greater_than_equal`, …).
    #[serde(rename = "type")]
    pub kind: String,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(
        field: impl Into<String>,
        message: impl Into<String>,
        kind: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            kind: kind.into(),
        }
    }
}

/// An RFC 7807 problem. Construct with the named constructors; the members
/// are reachable through `Deref` to [`ProblemDetails`]. Boxed so that
/// `Result<_, Problem>` stays small.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem(Box<ProblemDetails>);

impl std::ops::Deref for Problem {
    type Target = ProblemDetails;

    fn deref(&self) -> &ProblemDetails {
        &self.0
    }
}

impl std::ops::DerefMut for Problem {
    fn deref_mut(&mut self) -> &mut ProblemDetails {
        &mut self.0
    }
}

/// The members of a [`Problem`].
#[derive(Debug, Clone, PartialEq)]
pub struct ProblemDetails {
    /// HTTP status.
    pub status: StatusCode,
    /// Machine code (`NOT_FOUND`, `VALIDATION_ERROR`, …).
    pub code: String,
    /// Short summary.
    pub title: String,
    /// Occurrence-specific message.
    pub detail: String,
    /// Field errors (422 validation only).
    pub errors: Option<Vec<FieldError>>,
    /// Extension members (`failures`, `valid_transitions`, …); they can never
    /// override the standard members.
    pub extensions: Map<String, Value>,
    /// Seconds for the `Retry-After` header (503s).
    pub retry_after: Option<u64>,
    /// The cause was a conflict between concurrent transactions that rolled
    /// back: the request layer may run the request again.
    pub transaction_conflict: bool,
}

/// The wire form of a problem, for the OpenAPI document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemBody {
    /// `/errors/<slug>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// Human message.
    pub detail: String,
    /// `/requests/<request_id>`.
    pub instance: Option<String>,
    /// Machine code.
    pub code: String,
    /// Correlation id (also in the `X-Request-ID` header).
    pub request_id: Option<String>,
    /// Field errors (422 only).
    pub errors: Option<Vec<FieldError>>,
}

const RESERVED: [&str; 8] = [
    "type",
    "title",
    "status",
    "detail",
    "instance",
    "errors",
    "code",
    "request_id",
];

impl Problem {
    /// A problem with a code whose title is derived from it
    /// (`NOT_FOUND` → "Not Found").
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        Self(Box::new(ProblemDetails {
            status,
            code: code.to_owned(),
            title: title_from_code(code),
            detail: detail.into(),
            errors: None,
            extensions: Map::new(),
            retry_after: None,
            transaction_conflict: false,
        }))
    }

    /// 400 `BAD_REQUEST`.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", detail)
    }

    /// 404 `NOT_FOUND`.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", detail)
    }

    /// 409 `CONFLICT`.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "CONFLICT", detail)
    }

    /// 403 `FORBIDDEN`.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "FORBIDDEN", detail)
    }

    /// 422 `UNPROCESSABLE_ENTITY`: the request is well-formed but the state
    /// of the resources does not allow it.
    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNPROCESSABLE_ENTITY",
            detail,
        )
    }

    /// 422 `VALIDATION_ERROR` with field errors.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = format!(
            "Request validation failed with {} error(s). Check the 'errors' field for details.",
            errors.len()
        );
        let mut problem = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR", detail);
        problem.title = "Validation Error".to_owned();
        problem.errors = Some(errors);
        problem
    }

    /// 422 `VALIDATION_ERROR` for a single field.
    pub fn invalid_field(
        field: impl Into<String>,
        message: impl Into<String>,
        kind: impl Into<String>,
    ) -> Self {
        Self::validation(vec![FieldError::new(field, message, kind)])
    }

    /// 500 `INTERNAL_ERROR` with a generic message; the cause is logged.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        let mut problem = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "An unexpected error occurred. Retry, or contact support with the request id.",
        );
        problem.title = "Internal Server Error".to_owned();
        problem
    }

    /// Adds an extension member (ignored if it names a standard member).
    pub fn with_extension(mut self, key: &str, value: impl Into<Value>) -> Self {
        if !RESERVED.contains(&key) {
            self.extensions.insert(key.to_owned(), value.into());
        }
        self
    }

    /// The `type` URI for this problem's code.
    pub fn type_uri(&self) -> String {
        format!("/errors/{}", type_slug(&self.code))
    }

    /// Renders the body, with the request id when one is known.
    pub fn to_json(&self, request_id: Option<&str>) -> Value {
        let mut body = Map::new();
        body.insert("type".into(), self.type_uri().into());
        body.insert("title".into(), self.title.clone().into());
        body.insert("status".into(), self.status.as_u16().into());
        body.insert("detail".into(), self.detail.clone().into());
        if let Some(id) = request_id {
            body.insert("instance".into(), format!("/requests/{id}").into());
        }
        if let Some(errors) = &self.errors {
            body.insert(
                "errors".into(),
                serde_json::to_value(errors).unwrap_or(Value::Null),
            );
        }
        body.insert("code".into(), self.code.clone().into());
        if let Some(id) = request_id {
            body.insert("request_id".into(), id.into());
        }
        for (key, value) in &self.extensions {
            if !RESERVED.contains(&key.as_str()) {
                body.insert(key.clone(), value.clone());
            }
        }
        Value::Object(body)
    }

    /// Renders the full response.
    pub fn to_response(&self, request_id: Option<&str>) -> Response {
        let body = serde_json::to_vec(&self.to_json(request_id)).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }

    /// The problem for a database error, with `detail` as the message of a
    /// 500 (see [`crate::db::errors`] for the 503 cases).
    pub fn database(error: &sqlx::Error, detail: &str) -> Self {
        use crate::db::errors::{classify, status_of, DbErrorKind, RETRY_AFTER_SECONDS};
        let kind = classify(error);
        let (status, code) = status_of(kind);
        match kind {
            DbErrorKind::Other => {
                tracing::error!(%error, "database error");
                Self::new(status, code, detail)
            }
            DbErrorKind::Conflict => {
                tracing::debug!(%error, "transaction conflict");
                let mut problem = Self::new(
                    status,
                    code,
                    "Concurrent requests kept conflicting on the same rows; nothing was \
                     written. Retry the request.",
                );
                problem.retry_after = Some(RETRY_AFTER_SECONDS);
                problem.transaction_conflict = true;
                problem
            }
            DbErrorKind::Unavailable => {
                tracing::warn!(%error, "database unavailable");
                let mut problem = Self::new(
                    status,
                    code,
                    "The database is unreachable right now; nothing was written. Retry \
                     the request shortly.",
                );
                problem.retry_after = Some(RETRY_AFTER_SECONDS);
                problem
            }
        }
    }

    /// The problem for a bare status code produced outside our handlers
    /// (unknown route, wrong method, body too large, …).
    pub fn from_status(status: StatusCode, detail: Option<String>) -> Self {
        let code = match status {
            StatusCode::BAD_REQUEST => "BAD_REQUEST",
            StatusCode::UNAUTHORIZED => "UNAUTHORIZED",
            StatusCode::FORBIDDEN => "FORBIDDEN",
            StatusCode::NOT_FOUND => "NOT_FOUND",
            StatusCode::METHOD_NOT_ALLOWED => "METHOD_NOT_ALLOWED",
            StatusCode::CONFLICT => "CONFLICT",
            StatusCode::PAYLOAD_TOO_LARGE => "PAYLOAD_TOO_LARGE",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "UNSUPPORTED_MEDIA_TYPE",
            StatusCode::UNPROCESSABLE_ENTITY => "UNPROCESSABLE_ENTITY",
            StatusCode::TOO_MANY_REQUESTS => "RATE_LIMITED",
            StatusCode::SERVICE_UNAVAILABLE => "SERVICE_UNAVAILABLE",
            StatusCode::GATEWAY_TIMEOUT => "GATEWAY_TIMEOUT",
            status if status.is_server_error() => return Self::internal(status),
            _ => "BAD_REQUEST",
        };
        let detail = detail
            .filter(|d| !d.trim().is_empty())
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("Error").to_owned());
        Self::new(status, code, detail)
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl std::error::Error for Problem {}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut response = self.to_response(None);
        // The normalizing middleware re-renders with the request id.
        response.extensions_mut().insert(self);
        response
    }
}

impl From<sqlx::Error> for Problem {
    fn from(error: sqlx::Error) -> Self {
        Self::database(&error, "A database operation failed.")
    }
}

impl From<CoreError> for Problem {
    fn from(error: CoreError) -> Self {
        match error {
            CoreError::InvalidConfig(message) => {
                Self::invalid_field("config", message, "value_error")
            }
            CoreError::Cancelled => Self::conflict("The operation was cancelled."),
            other => Self::bad_request(other.to_string()),
        }
    }
}

impl From<tokio::task::JoinError> for Problem {
    fn from(error: tokio::task::JoinError) -> Self {
        Self::internal(error)
    }
}

fn type_slug(code: &str) -> String {
    match code {
        "NOT_FOUND" => "not-found".into(),
        "VALIDATION_ERROR" => "validation".into(),
        "UNPROCESSABLE_ENTITY" => "unprocessable-entity".into(),
        "DATABASE_ERROR" => "database".into(),
        "DATABASE_BUSY" => "database-busy".into(),
        "DATABASE_UNAVAILABLE" => "database-unavailable".into(),
        "CONFLICT" => "conflict".into(),
        "UNAUTHORIZED" => "unauthorized".into(),
        "FORBIDDEN" => "forbidden".into(),
        "RATE_LIMITED" => "rate-limited".into(),
        "INTERNAL_ERROR" => "internal".into(),
        "BAD_REQUEST" => "bad-request".into(),
        "SERVICE_UNAVAILABLE" => "service-unavailable".into(),
        "GATEWAY_TIMEOUT" => "gateway-timeout".into(),
        "EMBEDDING_AUTH" => "embedding-auth".into(),
        "AGENT_FALLBACK_EXHAUSTED" => "agent-fallback-exhausted".into(),
        other => other.to_ascii_lowercase(),
    }
}

fn title_from_code(code: &str) -> String {
    code.split('_')
        .filter(|word| !word.is_empty())
        .map(|word| {
            let lower = word.to_ascii_lowercase();
            let mut chars = lower.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_and_types_follow_the_code() {
        let problem = Problem::new(StatusCode::BAD_GATEWAY, "AGENT_FALLBACK_EXHAUSTED", "x");
        assert_eq!(problem.title, "Agent Fallback Exhausted");
        assert_eq!(problem.type_uri(), "/errors/agent-fallback-exhausted");
        assert_eq!(Problem::not_found("x").type_uri(), "/errors/not-found");
        assert_eq!(
            Problem::new(StatusCode::IM_A_TEAPOT, "TEA_TIME", "x").type_uri(),
            "/errors/tea_time"
        );
    }

    #[test]
    fn extensions_never_override_standard_members() {
        let body = Problem::bad_request("real")
            .with_extension("detail", "fake")
            .with_extension("failures", serde_json::json!([1]))
            .to_json(Some("abc"));
        assert_eq!(body["detail"], "real");
        assert_eq!(body["failures"], serde_json::json!([1]));
        assert_eq!(body["instance"], "/requests/abc");
        assert_eq!(body["request_id"], "abc");
    }

    #[test]
    fn validation_counts_errors() {
        let problem = Problem::validation(vec![
            FieldError::new("a", "bad", "missing"),
            FieldError::new("b", "bad", "missing"),
        ]);
        assert!(problem.detail.contains("2 error(s)"));
        assert_eq!(problem.to_json(None)["errors"][1]["field"], "b");
        assert!(problem.to_json(None).get("instance").is_none());
    }
}
