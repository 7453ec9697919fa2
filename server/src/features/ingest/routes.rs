//! Handler of `POST /ingest/sales-daily`.

use axum::extract::State;

use super::{
    schemas::{IngestRequest, IngestResponse},
    service,
};
use crate::{
    extract::Json,
    problem::{Problem, ProblemBody},
    state::AppState,
};

/// Upserts daily sales keyed by store code, SKU and date.
///
/// Keys resolve exactly (case-sensitive); a row whose store or product is
/// unknown is reported in `errors` (one code per row, store checked first)
/// and the other rows are still written. A date the calendar lacks is added
/// to it (not a holiday; `PUT /dimensions/calendar` marks holidays) and
/// counted in `calendar_days_created`. Prices are optional: without
/// `unit_price` the product's `base_price` is used (`prices_from_base_price`),
/// and a product without one leaves the price missing (null, counted in
/// `prices_missing`; price features then see a missing value, never an
/// invented one); without `total_amount` the total is quantity × unit price,
/// or missing without a price. Rows are upserted on the (date, store,
/// product) grain: `quantity`, `unit_price` and `total_amount` are
/// overwritten and `updated_at` refreshed, while `created_at` and `channel`
/// are kept (new rows get channel `in_store`), so re-sending a batch is
/// idempotent. Two rows of the same grain in one batch are merged, the
/// later row winning, and counted in `duplicates_merged`. Any invalid row
/// (lengths, negative or over-precise numbers, bad dates, a computed total
/// over the column's range), an empty batch or more than `INGEST_MAX_ROWS`
/// rows reject the whole request with 422 and write nothing. Prices accept
/// JSON numbers or numeric strings.
#[utoipa::path(
    post,
    path = "/ingest/sales-daily",
    tag = "ingest",
    request_body = IngestRequest,
    responses(
        (status = 200, description = "Batch processed (possibly with rejected rows)", body = IngestResponse),
        (status = 422, description = "Invalid batch; nothing written", body = ProblemBody, content_type = "application/problem+json"),
        (status = 500, description = "Database error; nothing written", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn ingest_sales_daily(
    State(state): State<AppState>,
    Json(request): Json<IngestRequest>,
) -> Result<axum::Json<IngestResponse>, Problem> {
    let max = state.settings.ingest_max_rows;
    if request.records.len() > max {
        return Err(Problem::invalid_field(
            "records",
            format!(
                "List should have at most {max} items after validation, not {}",
                request.records.len()
            ),
            "too_long",
        )
        .with_extension("max_rows", max));
    }
    let response = service::ingest(&state.db, request.records).await?;
    Ok(axum::Json(response))
}
