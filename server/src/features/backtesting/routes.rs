//! HTTP handlers of the backtesting slice.

use axum::extract::State;

use super::{
    schemas::{BacktestRequest, BacktestResponse},
    service,
};
use crate::{
    extract::Json,
    problem::{Problem, ProblemBody},
    state::AppState,
};

/// Time-series cross-validation of one model (plus baselines) on one or
/// many series.
///
/// Folds follow the splitter of the spec (expanding or sliding, `n_splits`,
/// `min_train_size`, `gap`, `horizon`; fewer folds for short series). The
/// main model and the baselines (`naive`, `seasonal_naive` with season 7)
/// are evaluated on exactly the same folds, in parallel. Target-only models
/// forecast `gap + horizon` steps from the end of training and are scored on
/// the last `horizon` (so a step is compared with the day it forecasts).
/// Feature-aware models rebuild their feature frame inside every fold from
/// the training rows only and see recorded test-window prices, promotions
/// and holidays (`exogenous_policy: "observed"`), never test targets.
///
/// A series is named by `store_id` or `store_code` and `product_id` or
/// `sku`, alone or in `series` entries (an unknown code or SKU is a 404, an
/// id and a key naming different rows a 422 on the key).
///
/// Many-series requests (`series`: a list or `"all"`) return per-series
/// results, pooled metrics over every test point and mean-of-series
/// metrics; series without enough data are listed in `skipped_series`.
///
/// Non-finite metric values (e.g. WAPE over all-zero actuals) are `null`.
#[utoipa::path(
    post,
    path = "/backtesting/run",
    tag = "backtesting",
    request_body = BacktestRequest,
    responses(
        (status = 200, description = "Backtest result", body = BacktestResponse),
        (status = 400, description = "Unknown or disabled model, limits exceeded (BACKTEST_MAX_SPLITS, BACKTEST_MAX_GAP), feature-aware model with min_train_size < 30, no data, too little data for the folds", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "Unknown store code or SKU", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "Cancelled", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Validation error (unknown keys, ranges, horizon <= gap, invalid model config)", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
pub async fn run_backtest(
    State(state): State<AppState>,
    Json(request): Json<BacktestRequest>,
) -> Result<axum::Json<BacktestResponse>, Problem> {
    service::run(&state, request).await.map(axum::Json)
}
