//! HTTP plumbing shared by every route: the accept loop, the per-route
//! middleware and the OpenAPI post-processing.
//!
//! [`around_routes`] wraps every API route (whatever slice it comes from,
//! including routes added later) in, from the outside in:
//!
//! 1. [`metrics`] — counts and times the request by route template;
//! 2. [`auth`] — API-key check, scope from the method;
//! 3. [`timeout`] — runs the rest in its own task (cancellation-safe
//!    database work) and answers 504 past the route's deadline;
//! 4. [`body`] — reads the body within its limits, and runs the handler
//!    again when its transaction lost a conflict.
//!
//! The app-wide layers of [`crate::app`] sit outside these: request id,
//! tracing, CORS, gzip, problem+json normalization, panic catching.

pub mod auth;
pub mod body;
pub mod metrics;
pub mod openapi;
pub mod serve;
pub mod timeout;

use std::time::Duration;

use axum::{middleware, Router};

use crate::{apikeys::Verifier, state::AppState};

/// Wraps the dashboard's pages in the same middleware except API-key
/// authentication (a browser sends no bearer key; who may see the pages is
/// the dashboard's own decision).
pub fn around_pages(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    let (body, deadlines) = policies(state);
    router
        .route_layer(middleware::from_fn_with_state(body, body::buffer_and_retry))
        .route_layer(middleware::from_fn_with_state(
            deadlines,
            timeout::run_to_completion,
        ))
        .route_layer(middleware::from_fn(metrics::record_requests))
}

fn policies(state: &AppState) -> (body::BodyPolicy, timeout::Deadlines) {
    let settings = &state.settings;
    let body = body::BodyPolicy::new(
        settings.max_body_bytes,
        Duration::from_secs(settings.body_read_timeout_seconds.max(1)),
    );
    let deadlines = timeout::Deadlines {
        default: Duration::from_secs(settings.request_timeout_seconds.max(1)),
        long: Duration::from_secs(settings.request_timeout_long_seconds.max(1)),
    };
    (body, deadlines)
}

/// Wraps every route of `router` in the per-route middleware (see the
/// module documentation for the order).
pub fn around_routes(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    // Installed before the first request, so no measurement is lost to the
    // facade's no-op recorder.
    metrics::handle();
    let (body, deadlines) = policies(state);
    // `route_layer` wraps what is already there, so the innermost comes first.
    router
        .route_layer(middleware::from_fn_with_state(body, body::buffer_and_retry))
        .route_layer(middleware::from_fn_with_state(
            deadlines,
            timeout::run_to_completion,
        ))
        .route_layer(middleware::from_fn_with_state(
            (state.clone(), Verifier::default()),
            auth::require_api_key,
        ))
        .route_layer(middleware::from_fn(metrics::record_requests))
}
