//! Handlers of `POST /featuresets/compute` and `POST /featuresets/preview`.

use axum::extract::State;
use forecastlab_core::SeriesKey;

use super::{
    schemas::{ComputeFeaturesRequest, ComputeFeaturesResponse, PreviewFeaturesRequest},
    service::{self, FeatureRequest},
};
use crate::{
    extract::Json,
    problem::{Problem, ProblemBody},
    state::AppState,
};

/// Computes time-safe features for one series up to a cutoff date.
///
/// Rows of `sales_daily` dated `cutoff_date − lookback_days … cutoff_date`
/// are loaded (no gap filling: lags and windows count rows, not days).
/// Pipeline: imputation, then lag → rolling → calendar → exogenous →
/// lifecycle → promotion → replenishment. No value at a row reads a target
/// of that row or a later one: lags shift first, rolling windows cover the
/// `w` rows before each row, nothing after the cutoff is loaded.
///
/// Limits (enforced, unlike upstream): a lag or price lag above
/// `FEATURE_MAX_LAG`, a rolling window above `FEATURE_MAX_WINDOW`, or
/// `lookback_days` above `FEATURE_MAX_LOOKBACK_DAYS` is a 422 whose message
/// and `settings` member name the setting.
///
/// Side tables feed the options that upstream declares but never feeds:
/// * `calendar_config.include_is_holiday` → `is_holiday` (calendar table);
/// * `exogenous_config.include_promo` → `promo_active`: 1 when a promotion
///   of the product for this store or chain-wide covers the row date
///   (promotion table);
/// * `exogenous_config.include_inventory` → `inventory_on_hand_lag_1`: the
///   previous row's on-hand units (inventory snapshots; null without one);
/// * `exogenous_config.include_stockout_flag` → `stockout_lag_1`: the
///   previous row's stockout flag (inventory snapshots; 0 without one);
/// * `promotion_config` → `promo_{kind}_active_lag{N}` and
///   `promo_{kind}_intensity_lag{N}` from the real promotion rows;
/// * `lifecycle_config` → product launch/discontinue dates (columns are
///   emitted whenever the config is set; null where the date is missing);
/// * `replenishment_config` → replenishment events dated ≤ the cutoff.
///
/// `price_lag_{k}` columns are emitted only when `include_price` is true.
/// `target_column` must be `quantity` and `date_column` `date`.
/// NaN values are `null`; flags, counts and calendar parts are integers.
#[utoipa::path(
    post,
    path = "/featuresets/compute",
    tag = "featuresets",
    request_body = ComputeFeaturesRequest,
    responses(
        (status = 200, description = "Features of every row up to the cutoff", body = ComputeFeaturesResponse),
        (status = 404, description = "No sales rows for the series in the window", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid request or a limit exceeded", body = ProblemBody, content_type = "application/problem+json"),
        (status = 500, description = "Database error", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn compute(
    State(state): State<AppState>,
    Json(request): Json<ComputeFeaturesRequest>,
) -> Result<axum::Json<ComputeFeaturesResponse>, Problem> {
    let request = FeatureRequest {
        key: SeriesKey {
            store_id: request.store_id,
            product_id: request.product_id,
        },
        cutoff: request.cutoff_date,
        lookback_days: request.lookback_days,
        config: request.config,
        sample_rows: None,
    };
    Ok(axum::Json(
        service::compute(&state.db, &state.settings, request).await?,
    ))
}

/// Computes features like `/featuresets/compute` with a fixed lookback of
/// 365 days and returns only the last `sample_rows` rows; `null_counts`
/// still covers every computed row.
#[utoipa::path(
    post,
    path = "/featuresets/preview",
    tag = "featuresets",
    request_body = PreviewFeaturesRequest,
    responses(
        (status = 200, description = "The last sample_rows rows", body = ComputeFeaturesResponse),
        (status = 404, description = "No sales rows for the series in the window", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid request or a limit exceeded", body = ProblemBody, content_type = "application/problem+json"),
        (status = 500, description = "Database error", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn preview(
    State(state): State<AppState>,
    Json(request): Json<PreviewFeaturesRequest>,
) -> Result<axum::Json<ComputeFeaturesResponse>, Problem> {
    let request = FeatureRequest {
        key: SeriesKey {
            store_id: request.store_id,
            product_id: request.product_id,
        },
        cutoff: request.cutoff_date,
        lookback_days: 365,
        config: request.config,
        sample_rows: Some(usize::try_from(request.sample_rows).unwrap_or(10)),
    };
    Ok(axum::Json(
        service::compute(&state.db, &state.settings, request).await?,
    ))
}
