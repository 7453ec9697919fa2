//! Every request's handler runs to completion in a task of its own, and the
//! client gets a 504 problem when it takes longer than its route's deadline.
//!
//! Running the handler in its own task is what makes database work
//! cancellation-safe: when a client gives up (or the deadline passes) only
//! the wait for the answer is dropped, never a query half-way through its
//! wire protocol. A future dropped mid-query would hand a PostgreSQL
//! connection in an unknown protocol state back to the pool and break
//! later, unrelated requests. Work that outlives its deadline therefore
//! still finishes (and commits or rolls back) in the background; long work
//! belongs in jobs, and the seeder caps what one request may do.

use std::time::Duration;

use axum::{
    extract::{MatchedPath, Request, State},
    http::{Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::problem::Problem;

/// Deadlines of synchronous requests.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    /// Every route not listed in [`LONG_ROUTES`].
    pub default: Duration,
    /// The routes of [`LONG_ROUTES`].
    pub long: Duration,
}

/// Routes whose synchronous work is expected to take longer (they are
/// capped by their own settings and have job equivalents).
pub const LONG_ROUTES: [(Method, &str); 10] = [
    (Method::POST, "/seeder/generate"),
    (Method::POST, "/seeder/append"),
    (Method::POST, "/seeder/phase2-enrichment"),
    (Method::DELETE, "/seeder/data"),
    (Method::POST, "/forecasting/train"),
    (Method::POST, "/backtesting/run"),
    (Method::POST, "/agents/sessions/{session_id}/chat"),
    (Method::POST, "/demo/run"),
    (Method::POST, "/rag/index"),
    (Method::POST, "/rag/index/project-docs"),
];

impl Deadlines {
    /// The deadline of `method route`.
    pub fn of(&self, method: &Method, route: &str) -> Duration {
        if LONG_ROUTES.iter().any(|(m, r)| m == method && *r == route) {
            self.long
        } else {
            self.default
        }
    }
}

/// The middleware: spawns the rest of the stack and waits for it up to the
/// route's deadline.
pub async fn run_to_completion(
    State(deadlines): State<Deadlines>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_default();
    let deadline = deadlines.of(request.method(), &route);
    let handler = tokio::spawn(next.run(request));
    match tokio::time::timeout(deadline, handler).await {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => {
            Problem::internal(format!("request handler failed: {error}")).into_response()
        }
        Err(_) => {
            tracing::warn!(route, ?deadline, "request deadline exceeded");
            Problem::new(
                StatusCode::GATEWAY_TIMEOUT,
                "GATEWAY_TIMEOUT",
                format!(
                    "The request did not finish within {} s. Long work belongs in a job \
                     (POST /jobs); the request's own work still completes or rolls back.",
                    deadline.as_secs()
                ),
            )
            .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_routes_get_the_long_deadline() {
        let deadlines = Deadlines {
            default: Duration::from_secs(30),
            long: Duration::from_secs(120),
        };
        assert_eq!(
            deadlines.of(&Method::POST, "/seeder/generate"),
            Duration::from_secs(120)
        );
        assert_eq!(
            deadlines.of(&Method::GET, "/seeder/generate"),
            Duration::from_secs(30)
        );
        assert_eq!(
            deadlines.of(&Method::GET, "/analytics/kpis"),
            Duration::from_secs(30)
        );
    }
}
