//! `POST /ingest/promotions`, `POST /ingest/price-history` and
//! `POST /ingest/inventory-snapshots`: bulk upserts of the other facts,
//! keyed by store code and SKU like the sales ingest.

use axum::extract::State;
use serde::Deserialize;

use crate::{
    extract::{Json, Validate, Violations},
    problem::{Problem, ProblemBody},
    state::AppState,
    upsert::{
        self,
        rows::{InventoryRow, PriceRow, PromotionRow},
        Inventory, Prices, Promotions, UpsertResponse,
    },
};

/// Promotions to create or update.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct PromotionsIngest {
    /// 1..`INGEST_MAX_ROWS` promotions; errors name them `records.<i>`.
    #[schema(min_items = 1, max_items = 10_000)]
    records: Vec<PromotionRow>,
}

impl Validate for PromotionsIngest {
    fn validate(&self, v: &mut Violations) {
        upsert::check_list::<Promotions>(&self.records, v);
    }
}

/// Price periods to create or update.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct PricesIngest {
    /// 1..`INGEST_MAX_ROWS` prices; errors name them `records.<i>`.
    #[schema(min_items = 1, max_items = 10_000)]
    records: Vec<PriceRow>,
}

impl Validate for PricesIngest {
    fn validate(&self, v: &mut Violations) {
        upsert::check_list::<Prices>(&self.records, v);
    }
}

/// Inventory snapshots to create or update.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct InventoryIngest {
    /// 1..`INGEST_MAX_ROWS` snapshots; errors name them `records.<i>`.
    #[schema(min_items = 1, max_items = 10_000)]
    records: Vec<InventoryRow>,
}

impl Validate for InventoryIngest {
    fn validate(&self, v: &mut Violations) {
        upsert::check_list::<Inventory>(&self.records, v);
    }
}

/// Upserts promotions keyed by (SKU, store code, name, start date).
///
/// A row without `store_code` is chain-wide. `kind` is `pct_off` (default),
/// `markdown`, `bogo` or `bundle`; the last two need `bundle_member_skus`.
/// A row whose store or product (or a bundle member) is unknown is reported
/// in `errors` (`UNKNOWN_STORE`, `UNKNOWN_PRODUCT`) and the others are
/// written. An existing promotion with the same key gets the row's
/// discounts, end date, kind and members; re-sending is idempotent. Any
/// invalid row, an empty list or more than `INGEST_MAX_ROWS` rows reject
/// the whole request with 422 and write nothing.
#[utoipa::path(post, path = "/ingest/promotions", tag = "ingest",
    request_body = PromotionsIngest,
    responses(
        (status = 200, description = "Batch processed (possibly with rejected rows)", body = UpsertResponse),
        (status = 422, description = "Invalid batch; nothing written", body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub(crate) async fn ingest_promotions(
    State(state): State<AppState>,
    Json(body): Json<PromotionsIngest>,
) -> Result<axum::Json<UpsertResponse>, Problem> {
    upsert::respond::<Promotions>(&state.db, body.records, state.settings.ingest_max_rows).await
}

/// Upserts price periods keyed by (SKU, store code, valid from).
///
/// A row without `store_code` is a chain-wide price; `valid_to` absent is
/// open-ended. Unknown keys are per-row errors; an existing period with
/// the same key gets the row's price and end. Same batch rules as
/// `POST /ingest/promotions`.
#[utoipa::path(post, path = "/ingest/price-history", tag = "ingest",
    request_body = PricesIngest,
    responses(
        (status = 200, description = "Batch processed (possibly with rejected rows)", body = UpsertResponse),
        (status = 422, description = "Invalid batch; nothing written", body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub(crate) async fn ingest_price_history(
    State(state): State<AppState>,
    Json(body): Json<PricesIngest>,
) -> Result<axum::Json<UpsertResponse>, Problem> {
    upsert::respond::<Prices>(&state.db, body.records, state.settings.ingest_max_rows).await
}

/// Upserts daily inventory snapshots keyed by (date, store code, SKU).
///
/// `on_order_qty` defaults to 0 and `is_stockout` to `on_hand_qty == 0`. A
/// date the calendar lacks is added to it (not a holiday) and counted in
/// `calendar_days_created`. Unknown keys are per-row errors. Same batch
/// rules as `POST /ingest/promotions`.
#[utoipa::path(post, path = "/ingest/inventory-snapshots", tag = "ingest",
    request_body = InventoryIngest,
    responses(
        (status = 200, description = "Batch processed (possibly with rejected rows)", body = UpsertResponse),
        (status = 422, description = "Invalid batch; nothing written", body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub(crate) async fn ingest_inventory_snapshots(
    State(state): State<AppState>,
    Json(body): Json<InventoryIngest>,
) -> Result<axum::Json<UpsertResponse>, Problem> {
    upsert::respond::<Inventory>(&state.db, body.records, state.settings.ingest_max_rows).await
}
