//! Building the HTTP application: routes from every slice, the OpenAPI
//! document, and the middleware stack (request ids, tracing, CORS, gzip,
//! body limit, panic catching, problem+json normalization) around the
//! per-route middleware of [`crate::http`].

use std::time::Duration;

use axum::{
    body::Body,
    extract::{DefaultBodyLimit, Request},
    http::{header, HeaderName, HeaderValue, Method, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    Router,
};
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::CompressionLayer,
    cors::{Any, CorsLayer},
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::{
    problem::{Problem, ProblemBody, PROBLEM_JSON},
    state::AppState,
};

/// Name of the correlation header.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ForecastLab",
        description = "Retail demand forecasting as a REST API: ingest sales, explore analytics, \
                       compute time-safe features, train, backtest and register models.\n\n\
                       Every error is `application/problem+json` (RFC 7807) with `type`, `title`, \
                       `status`, `detail`, `instance`, `code` and `request_id`; 422 responses \
                       add `errors: [{field, message, type}]`. Non-finite numbers are `null`."
    ),
    components(schemas(ProblemBody))
)]
struct ApiDoc;

/// Every API route with its OpenAPI document (completed by
/// [`crate::http::openapi::finalize`]).
fn api_routes() -> (Router<AppState>, serde_json::Value) {
    let (routes, api) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(crate::features::router())
        .merge(crate::http::metrics::router())
        .split_for_parts();
    (routes, crate::http::openapi::finalize(&api))
}

/// The OpenAPI document of every route, as `/openapi.json` serves it.
pub fn openapi() -> serde_json::Value {
    api_routes().1
}

/// Builds the complete application for `state`.
///
/// Layers, outermost first: request id, tracing, request-id propagation,
/// gzip, CORS, problem+json normalization, panic catching; then, around
/// every API route, the per-route middleware of [`crate::http`] (metrics,
/// auth, deadline, body); the dashboard's pages get the same without API-key
/// auth ([`crate::http::around_pages`]); the Swagger UI only the outer
/// layers.
pub fn build_app(state: AppState) -> Router {
    let state = AppState {
        app_router: Some(build_app),
        ..state
    };
    let max_body = state.settings.max_body_bytes;
    let (routes, api) = api_routes();
    let routes = crate::http::around_routes(routes, &state);
    let request_id = HeaderName::from_static(REQUEST_ID_HEADER);

    routes
        .merge(crate::http::around_pages(
            crate::dashboard::router(),
            &state,
        ))
        .fallback(unknown_route)
        .with_state(state)
        .merge(SwaggerUi::new("/docs").external_url_unchecked("/openapi.json", api))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http().make_span_with(|request: &Request<Body>| {
                        let id = request
                            .headers()
                            .get(REQUEST_ID_HEADER)
                            .and_then(|value| value.to_str().ok())
                            .unwrap_or("-");
                        tracing::info_span!(
                            "request",
                            method = %request.method(),
                            uri = %request.uri().path(),
                            request_id = %id,
                        )
                    }),
                )
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(CompressionLayer::new())
                .layer(
                    CorsLayer::new()
                        .allow_origin(Any)
                        .allow_methods([
                            Method::GET,
                            Method::POST,
                            Method::PATCH,
                            Method::PUT,
                            Method::DELETE,
                            Method::OPTIONS,
                        ])
                        .allow_headers(Any)
                        .expose_headers([HeaderName::from_static(REQUEST_ID_HEADER)])
                        .max_age(Duration::from_secs(600)),
                )
                .layer(middleware::from_fn(normalize_errors))
                .layer(CatchPanicLayer::new())
                .layer(DefaultBodyLimit::max(max_body)),
        )
}

async fn unknown_route(method: Method, uri: axum::http::Uri) -> Problem {
    Problem::not_found(format!("No route matches {method} {}.", uri.path()))
}

/// Renders every error response as problem+json with the request id: our
/// own problems get `instance`/`request_id`; anything else (framework
/// rejections, 405, 413, panics) is converted.
async fn normalize_errors(request: Request, next: Next) -> Response {
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let problem = match response.extensions().get::<Problem>() {
        Some(problem) => problem.clone(),
        None => {
            let (_, body) = response.into_parts();
            let text = axum::body::to_bytes(body, 64 * 1024)
                .await
                .ok()
                .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned());
            let detail = match status {
                StatusCode::METHOD_NOT_ALLOWED => {
                    Some("Method not allowed for this route.".to_owned())
                }
                StatusCode::PAYLOAD_TOO_LARGE => Some("The request body is too large.".to_owned()),
                status if status.is_server_error() => None,
                _ => text,
            };
            let problem = Problem::from_status(status, detail);
            return finish(problem.to_response(request_id.as_deref()));
        }
    };
    let mut rendered = problem.to_response(request_id.as_deref());
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rendered.headers_mut().insert(name.clone(), value.clone());
        }
    }
    finish(rendered)
}

fn finish(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response.into_response()
}
