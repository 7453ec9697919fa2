//! The error type shared by every plugin.

use thiserror::Error;

/// Errors a plugin can report. The server maps each variant onto an HTTP
/// problem: configuration and data errors are the client's (4xx), the rest
/// are the server's.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CoreError {
    /// A model or feature configuration is out of range or inconsistent.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// The series is too short (or empty) for the requested operation.
    #[error("Need at least {needed} observations for {what}, got {got}")]
    InsufficientData {
        /// What needed the data (a model, a fold, …).
        what: String,
        /// Minimum number of observations.
        needed: usize,
        /// Number of observations provided.
        got: usize,
    },
    /// The inputs do not fit the model (missing features, wrong shape, …).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// An artifact could not be read, or belongs to another model or version.
    #[error("invalid artifact: {0}")]
    Artifact(String),
    /// The operation is not supported by this model.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The work was cancelled cooperatively.
    #[error("cancelled")]
    Cancelled,
    /// An external service (an embedding provider) failed or answered
    /// something unusable; the message is safe to show (no secrets).
    #[error("{0}")]
    Provider(String),
}

impl CoreError {
    /// Shorthand for [`CoreError::InvalidConfig`].
    pub fn config(message: impl Into<String>) -> Self {
        Self::InvalidConfig(message.into())
    }

    /// Shorthand for [`CoreError::Provider`].
    pub fn provider(message: impl Into<String>) -> Self {
        Self::Provider(message.into())
    }

    /// Shorthand for [`CoreError::InvalidInput`].
    pub fn input(message: impl Into<String>) -> Self {
        Self::InvalidInput(message.into())
    }

    /// Shorthand for [`CoreError::InsufficientData`].
    pub fn insufficient(what: impl Into<String>, needed: usize, got: usize) -> Self {
        Self::InsufficientData {
            what: what.into(),
            needed,
            got,
        }
    }
}
