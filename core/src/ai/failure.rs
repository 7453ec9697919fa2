//! What can go wrong when talking to an LLM provider, and how a failure is
//! classified and summarised for the client (operations-ai spec §5.6).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::scrub::{provider_message, SecretScrubber};

/// The kind of an [`LlmError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LlmErrorKind {
    /// The provider answered with an HTTP error status.
    Status(u16),
    /// The provider could not be reached, or the connection broke
    /// (refused, reset, TLS, DNS, a stream cut short).
    Connection,
    /// No answer, or no next piece of a stream, within the timeout.
    Timeout,
    /// The provider reported an error without an HTTP status (an error
    /// event in the middle of a stream).
    Provider,
    /// The provider answered something that is not its documented wire
    /// format (undecodable JSON, an unknown event).
    InvalidResponse,
    /// The provider declined to answer: a content filter or safety block
    /// reported with a success status.
    Rejected,
    /// The model called a tool with arguments that are not a JSON object.
    /// Model misbehaviour, not a provider failure.
    InvalidToolCall,
}

/// An error from an LLM provider. Its detail has been scrubbed of secrets
/// and cut to 300 characters when the error was made, so it may be shown
/// and logged as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlmError {
    kind: LlmErrorKind,
    detail: String,
}

impl LlmError {
    /// An error of `kind` whose raw detail is scrubbed with `scrubber`
    /// (known secrets verbatim, then every key shape) and capped.
    pub fn new(kind: LlmErrorKind, raw_detail: &str, scrubber: &SecretScrubber) -> LlmError {
        LlmError {
            kind,
            detail: scrubber.detail(raw_detail),
        }
    }

    /// An error from an HTTP error answer: the detail is the provider's
    /// message read from `body` (see [`provider_message`]), scrubbed.
    pub fn from_status(status: u16, body: &str, scrubber: &SecretScrubber) -> LlmError {
        let message = provider_message(body);
        let message = if message.is_empty() {
            format!("HTTP {status} with an empty body")
        } else {
            message
        };
        LlmError::new(LlmErrorKind::Status(status), &message, scrubber)
    }

    /// A connection failure (refused, reset, cut short), with the
    /// transport's description scrubbed by `scrubber`.
    pub fn connection(raw_detail: &str, scrubber: &SecretScrubber) -> LlmError {
        LlmError::new(LlmErrorKind::Connection, raw_detail, scrubber)
    }

    /// An error the provider reported without a status; `raw_detail` is
    /// its message or error body.
    pub fn provider(raw_detail: &str, scrubber: &SecretScrubber) -> LlmError {
        LlmError::new(
            LlmErrorKind::Provider,
            &provider_message(raw_detail),
            scrubber,
        )
    }

    /// A timeout after `after`, while `waiting_for` (`"the response"`,
    /// `"the next stream event"`).
    pub fn timeout(after: Duration, waiting_for: &str) -> LlmError {
        LlmError {
            kind: LlmErrorKind::Timeout,
            detail: format!(
                "no {waiting_for} from the provider within {:.1} s",
                after.as_secs_f64()
            ),
        }
    }

    /// A malformed tool call from the model (model misbehaviour).
    pub fn invalid_tool_call(tool_name: &str, problem: &str) -> LlmError {
        LlmError::new(
            LlmErrorKind::InvalidToolCall,
            &format!("invalid arguments for tool call '{tool_name}': {problem}"),
            &SecretScrubber::default(),
        )
    }

    /// An answer that does not follow the provider's wire format.
    pub fn invalid_response(problem: &str) -> LlmError {
        LlmError::new(
            LlmErrorKind::InvalidResponse,
            problem,
            &SecretScrubber::default(),
        )
    }

    /// A refusal by the provider (content filter, safety block).
    pub fn rejected(reason: &str) -> LlmError {
        LlmError::new(LlmErrorKind::Rejected, reason, &SecretScrubber::default())
    }

    /// The kind of error.
    pub fn kind(&self) -> LlmErrorKind {
        self.kind
    }

    /// The HTTP status, when the provider answered with one.
    pub fn status(&self) -> Option<u16> {
        match self.kind {
            LlmErrorKind::Status(status) => Some(status),
            _ => None,
        }
    }

    /// The scrubbed, capped detail.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// Whether this is a failure of the provider (a fallback model should be
    /// tried) rather than misbehaviour of the model (an invalid tool call),
    /// which the agent reports as a normal answer.
    pub fn is_provider_failure(&self) -> bool {
        self.kind != LlmErrorKind::InvalidToolCall
    }

    /// The classification of §5.6.
    pub fn reason(&self) -> FailureReason {
        match self.kind {
            LlmErrorKind::Status(status) => FailureReason::from_status(status),
            LlmErrorKind::Connection
            | LlmErrorKind::Timeout
            | LlmErrorKind::Provider
            | LlmErrorKind::InvalidResponse => FailureReason::ProviderError,
            LlmErrorKind::Rejected => FailureReason::ResponseRejected,
            LlmErrorKind::InvalidToolCall => FailureReason::Unknown,
        }
    }
}

impl fmt::Display for LlmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            LlmErrorKind::Status(status) => write!(f, "HTTP {status}: {}", self.detail),
            LlmErrorKind::Connection => write!(f, "connection error: {}", self.detail),
            LlmErrorKind::Timeout => write!(f, "timeout: {}", self.detail),
            LlmErrorKind::Provider => write!(f, "provider error: {}", self.detail),
            LlmErrorKind::InvalidResponse => write!(f, "invalid response: {}", self.detail),
            LlmErrorKind::Rejected => write!(f, "response rejected: {}", self.detail),
            LlmErrorKind::InvalidToolCall => write!(f, "{}", self.detail),
        }
    }
}

impl std::error::Error for LlmError {}

/// Why a model failed, as reported in `failures[].reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// HTTP 404: the model does not exist (or the name is wrong).
    ModelNotFound,
    /// HTTP 429: quota or rate limit exhausted.
    QuotaExhausted,
    /// HTTP 401 / 403.
    AuthError,
    /// HTTP 5xx.
    ProviderUnavailable,
    /// Any other HTTP status, or a provider error without one (connection,
    /// timeout, undecodable answer).
    ProviderError,
    /// The provider refused to answer.
    ResponseRejected,
    /// Anything else.
    Unknown,
}

impl FailureReason {
    /// The classification of an HTTP error status.
    pub fn from_status(status: u16) -> FailureReason {
        match status {
            404 => FailureReason::ModelNotFound,
            429 => FailureReason::QuotaExhausted,
            401 | 403 => FailureReason::AuthError,
            500.. => FailureReason::ProviderUnavailable,
            _ => FailureReason::ProviderError,
        }
    }

    /// The words the summary uses for this reason.
    pub fn label(self) -> &'static str {
        match self {
            FailureReason::ModelNotFound => "model not found / invalid model name",
            FailureReason::QuotaExhausted => "quota or rate limit exhausted",
            FailureReason::AuthError => "authentication/permission error",
            FailureReason::ProviderUnavailable => "provider unavailable",
            FailureReason::ProviderError => "provider error",
            FailureReason::ResponseRejected => "response rejected",
            FailureReason::Unknown => "unexpected failure",
        }
    }
}

/// One failed leg of the model chain, as reported to the client
/// (`ModelFailureDetail`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelFailure {
    /// The model that failed, `(response rejected)` for a refusal or
    /// `(unknown model)` when no model can be named.
    pub model_name: String,
    /// The HTTP status, when there was one.
    pub status_code: Option<u16>,
    /// The classification.
    pub reason: FailureReason,
    /// The provider's message, scrubbed of secrets, at most 300 characters.
    pub detail: String,
}

impl ModelFailure {
    /// The model name reported for a refusal.
    pub const RESPONSE_REJECTED_MODEL: &'static str = "(response rejected)";
    /// The model name reported when no model can be named.
    pub const UNKNOWN_MODEL: &'static str = "(unknown model)";

    /// Classifies the error `model_name` failed with.
    pub fn from_error(model_name: &str, error: &LlmError) -> ModelFailure {
        let reason = error.reason();
        let model_name = match reason {
            FailureReason::ResponseRejected => Self::RESPONSE_REJECTED_MODEL,
            FailureReason::Unknown => Self::UNKNOWN_MODEL,
            _ => model_name,
        };
        ModelFailure {
            model_name: model_name.to_owned(),
            status_code: error.status(),
            reason,
            detail: error.detail().to_owned(),
        }
    }

    /// A failure that is not a provider error (anything else going wrong
    /// while a model was being called). `raw_detail` is scrubbed and capped.
    pub fn unknown(raw_detail: &str) -> ModelFailure {
        ModelFailure {
            model_name: Self::UNKNOWN_MODEL.to_owned(),
            status_code: None,
            reason: FailureReason::Unknown,
            detail: SecretScrubber::default().detail(raw_detail),
        }
    }

    /// `<model_name>: <label>`, plus ` (HTTP <code>)` when there is a status.
    fn leg(&self) -> String {
        let mut leg = format!("{}: {}", self.model_name, self.reason.label());
        if let Some(status) = self.status_code {
            leg.push_str(&format!(" (HTTP {status})"));
        }
        leg
    }
}

/// The one-line human summary of failed legs, in leg order:
/// `The configured agent model failed — <leg>` for one,
/// `All configured agent models failed — <leg>; <leg>` for several.
pub fn failure_summary(failures: &[ModelFailure]) -> String {
    let legs = failures
        .iter()
        .map(ModelFailure::leg)
        .collect::<Vec<_>>()
        .join("; ");
    if failures.len() == 1 {
        format!("The configured agent model failed — {legs}")
    } else {
        format!("All configured agent models failed — {legs}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16, body: &str) -> LlmError {
        LlmError::from_status(status, body, &SecretScrubber::default())
    }

    #[test]
    fn http_statuses_are_classified_per_the_matrix() {
        for (status, reason) in [
            (404, FailureReason::ModelNotFound),
            (429, FailureReason::QuotaExhausted),
            (401, FailureReason::AuthError),
            (403, FailureReason::AuthError),
            (500, FailureReason::ProviderUnavailable),
            (503, FailureReason::ProviderUnavailable),
            (529, FailureReason::ProviderUnavailable),
            (400, FailureReason::ProviderError),
            (409, FailureReason::ProviderError),
            (422, FailureReason::ProviderError),
        ] {
            let error = http(status, "{}");
            assert_eq!(error.reason(), reason, "{status}");
            assert_eq!(error.status(), Some(status));
            assert!(error.is_provider_failure());
        }
    }

    #[test]
    fn errors_without_a_status_are_provider_errors_with_null_status() {
        let scrubber = SecretScrubber::default();
        for error in [
            LlmError::new(LlmErrorKind::Connection, "connection refused", &scrubber),
            LlmError::timeout(Duration::from_millis(1500), "response"),
            LlmError::invalid_response("not JSON"),
            LlmError::provider(r#"{"error":{"message":"overloaded"}}"#, &scrubber),
        ] {
            let failure = ModelFailure::from_error("gpt-4o", &error);
            assert_eq!(failure.reason, FailureReason::ProviderError);
            assert_eq!(failure.status_code, None);
            assert_eq!(failure.model_name, "gpt-4o");
        }
        assert_eq!(
            LlmError::timeout(Duration::from_millis(1500), "response").detail(),
            "no response from the provider within 1.5 s"
        );
    }

    #[test]
    fn refusals_and_unknown_failures_use_placeholder_model_names() {
        let rejected = ModelFailure::from_error("claude", &LlmError::rejected("refusal"));
        assert_eq!(rejected.reason, FailureReason::ResponseRejected);
        assert_eq!(rejected.model_name, "(response rejected)");
        let unknown = ModelFailure::unknown("panicked with key sk-abcdefghijklmnop");
        assert_eq!(unknown.model_name, "(unknown model)");
        assert_eq!(unknown.reason, FailureReason::Unknown);
        assert!(!unknown.detail.contains("sk-abc"), "{}", unknown.detail);
    }

    #[test]
    fn invalid_tool_calls_are_not_provider_failures() {
        let error = LlmError::invalid_tool_call("get_run", "expected value at line 1");
        assert!(!error.is_provider_failure());
        assert_eq!(error.kind(), LlmErrorKind::InvalidToolCall);
        assert!(error.to_string().contains("get_run"));
    }

    #[test]
    fn details_come_from_the_error_envelope_scrubbed_and_capped() {
        let key = "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
        let body = format!(
            r#"{{"error":{{"message":"Incorrect API key provided: {key}. {}","type":"invalid_request_error"}}}}"#,
            "x".repeat(400)
        );
        let error =
            LlmError::from_status(401, &body, &SecretScrubber::new(["unused-secret-value"]));
        assert!(error
            .detail()
            .starts_with("Incorrect API key provided: [redacted]."));
        assert_eq!(error.detail().chars().count(), 300);
        assert!(!error.to_string().contains(key));
        assert_eq!(http(502, "").detail(), "HTTP 502 with an empty body");
    }

    #[test]
    fn failures_serialize_with_the_spec_field_names() {
        let failure = ModelFailure::from_error("gpt-4o", &http(429, "slow down"));
        assert_eq!(
            serde_json::to_value(&failure).unwrap(),
            serde_json::json!({
                "model_name": "gpt-4o",
                "status_code": 429,
                "reason": "quota_exhausted",
                "detail": "slow down",
            })
        );
    }

    #[test]
    fn summaries_name_every_leg_in_order() {
        let one = [ModelFailure::from_error(
            "claude-sonnet-4-5",
            &http(404, "no"),
        )];
        assert_eq!(
            failure_summary(&one),
            "The configured agent model failed — claude-sonnet-4-5: model not found / invalid model name (HTTP 404)"
        );
        let scrubber = SecretScrubber::default();
        let two = [
            ModelFailure::from_error("claude-sonnet-4-5", &http(401, "bad key")),
            ModelFailure::from_error(
                "gpt-4o",
                &LlmError::new(LlmErrorKind::Connection, "refused", &scrubber),
            ),
        ];
        assert_eq!(
            failure_summary(&two),
            "All configured agent models failed — claude-sonnet-4-5: authentication/permission error (HTTP 401); gpt-4o: provider error"
        );
        let labels = [
            (
                FailureReason::QuotaExhausted,
                "quota or rate limit exhausted",
            ),
            (FailureReason::ProviderUnavailable, "provider unavailable"),
            (FailureReason::ResponseRejected, "response rejected"),
            (FailureReason::Unknown, "unexpected failure"),
        ];
        for (reason, label) in labels {
            assert_eq!(reason.label(), label);
        }
    }
}
