//! Handlers of `POST /forecasting/train` and `POST /forecasting/predict`.

use axum::extract::State;

use super::{
    global,
    schemas::{
        GlobalTrainRequest, GlobalTrainResponse, PredictRequest, PredictResponse, TrainRequest,
        TrainResponse,
    },
    service,
};
use crate::{
    extract::Json,
    problem::{Problem, ProblemBody},
    state::AppState,
};

/// Trains a model on one series and saves it as an artifact.
///
/// The series is named by `store_id` or `store_code` and `product_id` or
/// `sku` (an unknown code or SKU is a 404, an id and a key naming different
/// rows a 422 on the key).
///
/// `config.model_type` picks the plugin; the config's other fields take the
/// model's defaults when omitted, and unknown or out-of-range fields give a
/// 422 naming `config.<field>`. An unknown model type is a 400 listing the
/// known ones; an opt-in model that is not compiled in is a 400 naming its
/// Cargo feature, and one whose runtime flag is off a 400 naming the flag.
///
/// Target-only models fit on the quantities of `[train_start_date,
/// train_end_date]` (no rows → 400; too few for the model → 400 "Need at
/// least …"). Feature-aware models (`regression`, `prophet_like`, …) fit on
/// the V1 or V2 feature frame (fewer than 30 rows → 400).
///
/// The artifact is written to
/// `<FORECAST_MODEL_ARTIFACTS_DIR>/model_<12 hex>.flmodel`: a versioned,
/// self-describing envelope (magic `FLMODEL`, format version, JSON header
/// with model type, plugin version, canonical config and hash, data window
/// and metadata, the plugin payload, and SHA-256 digests of the payload and
/// the whole file). `config_hash` is the first 16 hex characters of SHA-256
/// over the compact canonical config JSON (`schema_version`, `model_type`,
/// then the model's fields in schema order, nulls included).
#[utoipa::path(
    post,
    path = "/forecasting/train",
    tag = "forecasting",
    request_body = TrainRequest,
    responses(
        (status = 200, description = "Model trained and saved", body = TrainResponse),
        (status = 400, description = "Unknown or disabled model type, no or too little data", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "Unknown store code or SKU", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid request or model config", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn train(
    State(state): State<AppState>,
    Json(request): Json<TrainRequest>,
) -> Result<axum::Json<TrainResponse>, Problem> {
    Ok(axum::Json(service::train(&state, request).await?))
}

/// Forecasts `horizon` days (dates `train_end_date + h`) from a trained
/// artifact, with an optional prediction interval.
///
/// `model_path` is the path train returned or its 12-hex artifact key; a
/// path that is not a `model_<key>.flmodel` file inside the artifacts
/// directory is a 400, a missing artifact a 404, and a corrupt or
/// incompatible one (truncated, modified, unknown format version, payload of
/// another model type) a 400. The artifact's store and product must match
/// the request's (else 400; name them by `store_id` or `store_code` and
/// `product_id` or `sku`, an unknown code or SKU is a 404). Forecasts are
/// not clipped at 0.
///
/// Intervals (`interval_level` in (0, 1), e.g. 0.8 or 0.95) are symmetric
/// split-conformal intervals. Target-only models: the model is refitted on
/// rolling origins over the end of its training series and the half-width
/// of step h is the ⌈(m+1)·level⌉-th smallest of the m absolute h-step
/// errors, so intervals widen as the model's own errors grow with the
/// horizon (steps without enough errors extrapolate by √h; widths never
/// shrink). Feature-aware models: errors of a refit on the first 80% of the
/// training rows over the held-out last 20%, scaled by √h. Bounds are null
/// when the training series is too short to calibrate.
///
/// Feature-aware models (unlike the upstream, which refuses them) forecast
/// from what is known at the training cutoff: calendar and lifecycle
/// columns from the dates, lags from the stored history tail, price and
/// promotion from listed prices and planned promotions (else the last known
/// price). `strategy` = `recursive` (default: each step's prediction fills
/// the following steps' lags) or `direct` (one future frame; lags beyond the
/// known history are missing values, which the models handle natively).
#[utoipa::path(
    post,
    path = "/forecasting/predict",
    tag = "forecasting",
    request_body = PredictRequest,
    responses(
        (status = 200, description = "Forecast", body = PredictResponse),
        (status = 400, description = "Invalid or mismatched artifact", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "Artifact, store code or SKU not found", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid request", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn predict(
    State(state): State<AppState>,
    Json(request): Json<PredictRequest>,
) -> Result<axum::Json<PredictResponse>, Problem> {
    Ok(axum::Json(service::predict(&state, request).await?))
}

/// Trains one feature-aware model across many series (a global model) and
/// saves it as one artifact.
///
/// `series` names the series (a list of `{store_id | store_code, product_id
/// | sku}` pairs, or `"all"` for every series with sales in the window).
/// The model is fitted once on the stacked V1 frames of every series with at least 30 rows,
/// each series scaled by the mean of its training target, with
/// series-level columns (store, product and category codes, the log scale,
/// and target encodings of the series, its store, its product and its
/// category over the dates strictly before each row). Series without rows
/// or with fewer than 30 are listed in `skipped_series`; none usable → 400.
/// A target-only `model_type` → 422 on `config.model_type`.
///
/// `POST /forecasting/predict` with the returned path or key forecasts any
/// of the fitted series (recursive strategy; its store and product must be
/// among `series`, else 400).
#[utoipa::path(
    post,
    path = "/forecasting/train-global",
    tag = "forecasting",
    request_body = GlobalTrainRequest,
    responses(
        (status = 200, description = "Global model trained and saved", body = GlobalTrainResponse),
        (status = 400, description = "Unknown or disabled model type, no or too little data", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "Unknown store code or SKU", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid request or model config", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn train_global(
    State(state): State<AppState>,
    Json(request): Json<GlobalTrainRequest>,
) -> Result<axum::Json<GlobalTrainResponse>, Problem> {
    Ok(axum::Json(global::train_global(&state, request).await?))
}
