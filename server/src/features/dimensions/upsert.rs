//! `PUT /dimensions/stores`, `PUT /dimensions/products` and
//! `PUT /dimensions/calendar`: bulk upserts by natural key.

use axum::extract::State;
use serde::Deserialize;

use crate::{
    extract::{Json, Validate, Violations},
    problem::{Problem, ProblemBody},
    state::AppState,
    upsert::{
        self,
        rows::{CalendarRow, ProductRow, StoreRow},
        Calendar, Products, Stores, UpsertResponse,
    },
};

/// Stores to create or update.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct StoresUpsert {
    /// 1..`INGEST_MAX_ROWS` stores; errors name them `stores.<i>`.
    #[schema(min_items = 1, max_items = 10_000)]
    stores: Vec<StoreRow>,
}

impl Validate for StoresUpsert {
    fn validate(&self, v: &mut Violations) {
        upsert::check_list::<Stores>(&self.stores, v);
    }
}

/// Products to create or update.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct ProductsUpsert {
    /// 1..`INGEST_MAX_ROWS` products; errors name them `products.<i>`.
    #[schema(min_items = 1, max_items = 10_000)]
    products: Vec<ProductRow>,
}

impl Validate for ProductsUpsert {
    fn validate(&self, v: &mut Violations) {
        upsert::check_list::<Products>(&self.products, v);
    }
}

/// Calendar days to create or update.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct CalendarUpsert {
    /// 1..`INGEST_MAX_ROWS` days; errors name them `days.<i>`.
    #[schema(min_items = 1, max_items = 10_000)]
    days: Vec<CalendarRow>,
}

impl Validate for CalendarUpsert {
    fn validate(&self, v: &mut Violations) {
        upsert::check_list::<Calendar>(&self.days, v);
    }
}

/// Creates or updates stores by `code`.
///
/// A store whose code exists gets the row's name, region, city and store
/// type (an absent attribute becomes null: the row replaces the store's
/// attributes); a new code creates a store. Re-sending a batch changes
/// nothing but `updated_at`. Two rows with the same code are merged, the
/// later winning (`duplicates_merged`). Any invalid row, an empty list or
/// more than `INGEST_MAX_ROWS` rows reject the whole request with 422 and
/// write nothing.
#[utoipa::path(put, path = "/dimensions/stores", tag = "dimensions",
    request_body = StoresUpsert,
    responses(
        (status = 200, description = "Stores written", body = UpsertResponse),
        (status = 422, description = "Invalid batch; nothing written", body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub(crate) async fn upsert_stores(
    State(state): State<AppState>,
    Json(body): Json<StoresUpsert>,
) -> Result<axum::Json<UpsertResponse>, Problem> {
    upsert::respond::<Stores>(&state.db, body.stores, state.settings.ingest_max_rows).await
}

/// Creates or updates products by `sku`.
///
/// A product whose SKU exists gets the row's attributes (an absent
/// attribute becomes null; lifecycle stage and pack size are kept); a new
/// SKU creates a product. Money is a JSON number or a decimal string with
/// at most 2 places; `discontinue_date` may not precede `launch_date`.
/// Idempotent; same batch rules as `PUT /dimensions/stores`.
#[utoipa::path(put, path = "/dimensions/products", tag = "dimensions",
    request_body = ProductsUpsert,
    responses(
        (status = 200, description = "Products written", body = UpsertResponse),
        (status = 422, description = "Invalid batch; nothing written", body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub(crate) async fn upsert_products(
    State(state): State<AppState>,
    Json(body): Json<ProductsUpsert>,
) -> Result<axum::Json<UpsertResponse>, Problem> {
    upsert::respond::<Products>(&state.db, body.products, state.settings.ingest_max_rows).await
}

/// Creates or updates calendar days by `date`.
///
/// Day of week (0 = Monday), month, quarter and year are derived from the
/// date. `is_holiday` defaults to false; `holiday_name` needs `is_holiday`
/// true. This is how holidays are marked on days that sales or inventory
/// ingests created. Idempotent; same batch rules as `PUT /dimensions/stores`.
#[utoipa::path(put, path = "/dimensions/calendar", tag = "dimensions",
    request_body = CalendarUpsert,
    responses(
        (status = 200, description = "Days written", body = UpsertResponse),
        (status = 422, description = "Invalid batch; nothing written", body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub(crate) async fn upsert_calendar(
    State(state): State<AppState>,
    Json(body): Json<CalendarUpsert>,
) -> Result<axum::Json<UpsertResponse>, Problem> {
    upsert::respond::<Calendar>(&state.db, body.days, state.settings.ingest_max_rows).await
}
