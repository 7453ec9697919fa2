//! Request bodies are read here, once, before any handler sees them:
//!
//! * within `MAX_BODY_BYTES` (413 above it, before reading when the
//!   `Content-Length` says so);
//! * within `BODY_READ_TIMEOUT_SECONDS` (408 for a client that stalls);
//! * large bodies (≥ [`LARGE_BODY_BYTES`]) share a memory budget of twice
//!   the body limit, so a burst of big requests queues instead of
//!   multiplying peak memory;
//! * and, because the bytes are kept, a request whose transaction lost a
//!   conflict with a concurrent one (deadlock, serialization failure,
//!   SQLite busy — see [`crate::db::errors`]) is run again, up to
//!   [`ATTEMPTS`] times with a short randomized backoff. Its transaction
//!   rolled back, so nothing was written twice.

use std::{sync::Arc, time::Duration};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};
use http_body_util::{BodyExt, Limited};
use rand::Rng;
use tokio::sync::Semaphore;

use crate::problem::Problem;

/// Bodies at least this big draw on the shared budget.
pub const LARGE_BODY_BYTES: usize = 256 * 1024;
/// How many times a request runs at most when its transaction conflicts.
pub const ATTEMPTS: u32 = 4;

/// Limits of request bodies; cheap to clone.
#[derive(Debug, Clone)]
pub struct BodyPolicy {
    max_bytes: usize,
    read_timeout: Duration,
    /// Kibibytes of large bodies that may be in memory at once.
    budget: Arc<Semaphore>,
    budget_kib: u32,
}

impl BodyPolicy {
    /// A policy for bodies up to `max_bytes`, read within `read_timeout`.
    pub fn new(max_bytes: usize, read_timeout: Duration) -> Self {
        let budget_kib = u32::try_from((2 * max_bytes).div_ceil(1024).max(1)).unwrap_or(u32::MAX);
        Self {
            max_bytes,
            read_timeout,
            budget: Arc::new(Semaphore::new(budget_kib as usize)),
            budget_kib,
        }
    }
}

/// The middleware.
pub async fn buffer_and_retry(
    State(policy): State<BodyPolicy>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let expected = axum::body::HttpBody::size_hint(&body).upper();
    if expected.is_some_and(|bytes| bytes > policy.max_bytes as u64) {
        return too_large(policy.max_bytes).into_response();
    }
    // Unknown length (chunked) counts as the largest allowed body.
    let expected = expected.map_or(policy.max_bytes, |bytes| bytes as usize);
    let _permit = if expected >= LARGE_BODY_BYTES {
        let kib = u32::try_from(expected.div_ceil(1024))
            .unwrap_or(u32::MAX)
            .min(policy.budget_kib);
        match policy.budget.clone().acquire_many_owned(kib).await {
            Ok(permit) => Some(permit),
            Err(_) => return Problem::internal("body budget closed").into_response(),
        }
    } else {
        None
    };
    let bytes = match read(body, &policy).await {
        Ok(bytes) => bytes,
        Err(problem) => return problem.into_response(),
    };
    let mut attempt = 1;
    loop {
        let request = Request::from_parts(parts.clone(), Body::from(bytes.clone()));
        let response = next.clone().run(request).await;
        let conflicted = response
            .extensions()
            .get::<Problem>()
            .is_some_and(|problem| problem.transaction_conflict);
        if !conflicted || attempt >= ATTEMPTS {
            return response;
        }
        let backoff = 10u64 << attempt;
        let jitter = rand::thread_rng().gen_range(0..=backoff);
        tracing::debug!(attempt, "transaction conflict; running the request again");
        tokio::time::sleep(Duration::from_millis(backoff + jitter)).await;
        attempt += 1;
    }
}

async fn read(body: Body, policy: &BodyPolicy) -> Result<Bytes, Problem> {
    let collected = tokio::time::timeout(
        policy.read_timeout,
        Limited::new(body, policy.max_bytes).collect(),
    )
    .await
    .map_err(|_| {
        Problem::new(
            StatusCode::REQUEST_TIMEOUT,
            "REQUEST_TIMEOUT",
            format!(
                "The request body was not received within {} s.",
                policy.read_timeout.as_secs()
            ),
        )
    })?;
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            Err(too_large(policy.max_bytes))
        }
        Err(error) => Err(Problem::bad_request(format!(
            "The request body could not be read: {error}"
        ))),
    }
}

fn too_large(max_bytes: usize) -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
        format!("The request body is larger than the limit of {max_bytes} bytes (MAX_BODY_BYTES)."),
    )
}
