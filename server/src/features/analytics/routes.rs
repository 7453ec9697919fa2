//! Handlers of `/analytics`.

use axum::extract::State;

use super::{
    repo,
    schemas::{
        DrilldownQuery, DrilldownResponse, InventoryQuery, InventoryResponse, KpiQuery,
        KpiResponse, TimeseriesQuery, TimeseriesResponse,
    },
    service,
};
use crate::{
    extract::Query,
    problem::{Problem, ProblemBody},
    state::AppState,
};

/// Revenue, units, transactions and averages over `sales_daily`.
///
/// Both dates are inclusive. `end_date < start_date` → 400; a span
/// (end − start) over `ANALYTICS_MAX_DATE_RANGE_DAYS` (default 730; exactly
/// 730 is allowed) → 400. Revenue sums are exact decimal strings; averages
/// use 28 significant digits with half-even rounding and are null when their
/// divisor is 0. No rows → revenue `"0"`, zero counts, null averages.
#[utoipa::path(get, path = "/analytics/kpis", tag = "analytics",
    params(KpiQuery),
    responses(
        (status = 200, description = "KPIs", body = KpiResponse),
        (status = 400, description = "Inverted or too long date range", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Missing or malformed parameter", body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub(crate) async fn kpis(
    State(state): State<AppState>,
    Query(query): Query<KpiQuery>,
) -> Result<axum::Json<KpiResponse>, Problem> {
    let filter = service::window_filter(
        &state,
        query.start_date,
        query.end_date,
        query.store_id,
        query.product_id,
        query.category.clone(),
    )?;
    let totals = repo::kpis(&state.db, &filter).await?;
    Ok(axum::Json(KpiResponse {
        metrics: service::metrics(totals),
        start_date: query.start_date,
        end_date: query.end_date,
        store_id: query.store_id,
        product_id: query.product_id,
        category: query.category,
    }))
}

/// KPIs grouped by store, product, category, region or date.
///
/// Groups whose dimension value is NULL (a store without region, a product
/// without category) are left out. Groups are ranked by revenue descending
/// (ties by dimension value ascending); `total_items` counts every group
/// before the `max_items` limit and `revenue_share_pct` is relative to the
/// revenue of all groups (2 places, half-even; `"0.00"` when that is 0).
/// Date-range rules as for `/analytics/kpis`.
#[utoipa::path(get, path = "/analytics/drilldowns", tag = "analytics",
    params(DrilldownQuery),
    responses(
        (status = 200, description = "Drilldown", body = DrilldownResponse),
        (status = 400, description = "Inverted or too long date range", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Missing or malformed parameter", body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub(crate) async fn drilldowns(
    State(state): State<AppState>,
    Query(query): Query<DrilldownQuery>,
) -> Result<axum::Json<DrilldownResponse>, Problem> {
    let filter = service::window_filter(
        &state,
        query.start_date,
        query.end_date,
        query.store_id,
        query.product_id,
        None,
    )?;
    let drilldown = repo::drilldown(&state.db, query.dimension, &filter, query.max_items).await?;
    let total_items = drilldown.total_items;
    Ok(axum::Json(DrilldownResponse {
        dimension: query.dimension,
        items: service::drilldown_items(drilldown),
        total_items,
        start_date: query.start_date,
        end_date: query.end_date,
        store_id: query.store_id,
        product_id: query.product_id,
    }))
}

/// KPIs per day, ISO week (Monday), month or quarter.
///
/// `period` is the bucket's first day and may precede `start_date`; only
/// in-range days are summed. Buckets without rows are omitted (no zero
/// filling). Date-range rules as for `/analytics/kpis`.
#[utoipa::path(get, path = "/analytics/timeseries", tag = "analytics",
    params(TimeseriesQuery),
    responses(
        (status = 200, description = "Time series", body = TimeseriesResponse),
        (status = 400, description = "Inverted or too long date range", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Missing or malformed parameter", body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub(crate) async fn timeseries(
    State(state): State<AppState>,
    Query(query): Query<TimeseriesQuery>,
) -> Result<axum::Json<TimeseriesResponse>, Problem> {
    let filter = service::window_filter(
        &state,
        query.start_date,
        query.end_date,
        query.store_id,
        query.product_id,
        query.category.clone(),
    )?;
    let days = repo::daily(&state.db, &filter).await?;
    let points = service::buckets(&days, query.granularity);
    Ok(axum::Json(TimeseriesResponse {
        granularity: query.granularity,
        total_points: points.len(),
        points,
        start_date: query.start_date,
        end_date: query.end_date,
        store_id: query.store_id,
        product_id: query.product_id,
        category: query.category,
    }))
}

/// The latest inventory snapshot of every (store, product), ordered by store
/// and product. An empty table or no match is 200 with an empty list.
#[utoipa::path(get, path = "/analytics/inventory-status", tag = "analytics",
    params(InventoryQuery),
    responses(
        (status = 200, description = "Latest snapshots", body = InventoryResponse),
        (status = 422, description = "Malformed parameter", body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub(crate) async fn inventory_status(
    State(state): State<AppState>,
    Query(query): Query<InventoryQuery>,
) -> Result<axum::Json<InventoryResponse>, Problem> {
    let items = repo::inventory_latest(&state.db, query.store_id, query.product_id).await?;
    Ok(axum::Json(InventoryResponse {
        total_items: items.len(),
        items,
        store_id: query.store_id,
        product_id: query.product_id,
    }))
}
