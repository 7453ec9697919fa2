//! The pipeline's HTTP client: requests go through the app's own router in
//! memory (`tower::ServiceExt::oneshot`), with every middleware a socket
//! client meets, so a failure carries the problem's title, detail and
//! request id exactly as a client would see them.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    body::Body,
    http::{header, HeaderValue, Method, Request},
    Router,
};
use serde_json::Value;
use tower::ServiceExt;

use crate::state::AppState;

/// Per-request time limit.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Largest response body read (bytes).
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// Why a call did not produce a 2xx answer.
#[derive(Debug, Clone, PartialEq)]
pub enum CallError {
    /// A non-2xx answer, with its problem members.
    Http {
        /// HTTP status.
        status: u16,
        /// Problem `title`.
        title: String,
        /// Problem `detail`.
        detail: String,
        /// Problem `request_id`.
        request_id: String,
    },
    /// No answer (time limit, unreadable body).
    Transport(String),
}

impl CallError {
    /// The HTTP status, if an answer arrived.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Http { status, .. } => Some(*status),
            Self::Transport(_) => None,
        }
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Http {
                status,
                title,
                detail,
                request_id,
            } => write!(
                f,
                "HTTP {status} -- {title}: {detail} (request_id={request_id})"
            ),
            Self::Transport(message) => write!(f, "transport error: {message}"),
        }
    }
}

/// Spans of platform work seen by the pipeline: every route call, plus the
/// lifetime of each job it started and waited for.
#[derive(Debug, Default)]
struct Spans(Vec<(Instant, Instant)>);

impl Spans {
    /// Length of the union of the spans (overlapping work counts once).
    fn union(&self) -> Duration {
        let mut spans = self.0.clone();
        spans.sort_unstable();
        let mut total = Duration::ZERO;
        let mut current: Option<(Instant, Instant)> = None;
        for (start, end) in spans {
            current = match current {
                Some((open, close)) if start <= close => Some((open, close.max(end))),
                Some((open, close)) => {
                    total += close - open;
                    Some((start, end))
                }
                None => Some((start, end)),
            };
        }
        total + current.map_or(Duration::ZERO, |(open, close)| close - open)
    }
}

/// An in-process client of the platform.
#[derive(Debug, Clone)]
pub struct PlatformClient {
    router: Router,
    authorization: Option<HeaderValue>,
    spans: Arc<Mutex<Spans>>,
}

impl PlatformClient {
    /// A client of the app built from `state` (by its
    /// [`AppState::app_router`]; with none, every call answers 404), sending
    /// `authorization` (the caller's own credentials) with every request.
    pub fn new(state: &AppState, authorization: Option<HeaderValue>) -> Self {
        Self {
            router: state
                .app_router
                .map_or_else(Router::new, |build| build(state.clone())),
            authorization,
            spans: Arc::default(),
        }
    }

    /// Time during which a route was working for the pipeline (parallel
    /// calls count once).
    pub fn time_in_routes(&self) -> Duration {
        self.lock_spans().union()
    }

    /// Records platform work done outside a route call, such as a job the
    /// pipeline started and waited for, from `started` to `finished`.
    pub fn record_platform_work(&self, started: Instant, finished: Instant) {
        if started <= finished {
            self.lock_spans().0.push((started, finished));
        }
    }

    fn lock_spans(&self) -> std::sync::MutexGuard<'_, Spans> {
        self.spans.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends one request; `Ok((status, body))` for any answer (the body is
    /// `null` when empty or not JSON).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), CallError> {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(auth) = &self.authorization {
            request = request.header(header::AUTHORIZATION, auth.clone());
        }
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        }
        .map_err(|error| CallError::Transport(error.to_string()))?;
        let started = Instant::now();
        let answer = tokio::time::timeout(REQUEST_TIMEOUT, async {
            let response = self
                .router
                .clone()
                .oneshot(request)
                .await
                .map_err(|error| CallError::Transport(error.to_string()))?;
            let status = response.status().as_u16();
            let bytes = axum::body::to_bytes(response.into_body(), MAX_RESPONSE_BYTES)
                .await
                .map_err(|error| CallError::Transport(error.to_string()))?;
            Ok::<_, CallError>((
                status,
                serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            ))
        })
        .await;
        self.record_platform_work(started, Instant::now());
        answer.map_err(|_| {
            CallError::Transport(format!("no answer within {} s", REQUEST_TIMEOUT.as_secs()))
        })?
    }

    /// Sends one request and returns the 2xx body, else the problem.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, CallError> {
        let (status, value) = self.send(method, path, body).await?;
        if (200..300).contains(&status) {
            return Ok(value);
        }
        let text = |key: &str| {
            value
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        Err(CallError::Http {
            status,
            title: text("title"),
            detail: text("detail"),
            request_id: text("request_id"),
        })
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Result<Value, CallError> {
        self.call(Method::GET, path, None).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, CallError> {
        self.call(Method::POST, path, Some(body)).await
    }

    /// `PATCH path` with a JSON body.
    pub async fn patch(&self, path: &str, body: &Value) -> Result<Value, CallError> {
        self.call(Method::PATCH, path, Some(body)).await
    }

    /// `DELETE path` with an optional JSON body.
    pub async fn delete(&self, path: &str, body: Option<&Value>) -> Result<Value, CallError> {
        self.call(Method::DELETE, path, body).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_spans_count_once() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let spans = Spans(vec![
            (at(0), at(100)),
            (at(50), at(150)),
            (at(300), at(400)),
            (at(310), at(320)),
            (at(400), at(450)),
        ]);
        assert_eq!(spans.union(), Duration::from_millis(300));
        assert_eq!(Spans::default().union(), Duration::ZERO);
    }
}
