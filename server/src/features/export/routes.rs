//! Handlers of `/export/*`: each checks its filters, then streams a CSV
//! attachment whose header row names the fields of the matching bulk
//! upsert, so an export can be sent back as it is.

use axum::{extract::State, response::Response};

use super::{
    repo::Table,
    schemas::{CalendarQuery, FactQuery},
    service,
};
use crate::{
    extract::Query,
    problem::{Problem, ProblemBody},
    state::AppState,
};

async fn fact(
    state: &AppState,
    table: Table,
    query: &FactQuery,
    file: &str,
) -> Result<Response, Problem> {
    let filter = service::fact_filter(&state.db, query).await?;
    service::export(&state.db, table, filter, file).await
}

/// Daily sales as CSV: `date,store_code,sku,quantity,unit_price,total_amount`.
///
/// The columns are the fields of `POST /ingest/sales-daily` rows, so the
/// file can be re-ingested as is. Rows are ordered by date, store code and
/// SKU; money has 2 decimal places; the channel is not exported. The body
/// is streamed from the database (constant memory, any size); a database
/// failure after the first byte ends the body abnormally. Filters: dates
/// inclusive (`end_date` before `start_date` → 400); a store by `store_id`
/// and/or `store_code`, a product by `product_id` and/or `sku` (unknown →
/// 404; an id and a key naming different rows → 422).
#[utoipa::path(get, path = "/export/sales-daily", tag = "export",
    params(FactQuery),
    responses(
        (status = 200, description = "CSV attachment `sales-daily.csv`", body = String, content_type = "text/csv"),
        (status = 400, description = "end_date before start_date", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "Unknown store or product", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Malformed filter, or an id and a key naming different rows", body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub(crate) async fn sales_daily(
    State(state): State<AppState>,
    Query(query): Query<FactQuery>,
) -> Result<Response, Problem> {
    fact(&state, Table::Sales, &query, "sales-daily").await
}

/// Inventory snapshots as CSV:
/// `date,store_code,sku,on_hand_qty,on_order_qty,is_stockout`.
///
/// The fields of `POST /ingest/inventory-snapshots`; ordered by date,
/// store code and SKU; flags are `true`/`false`. Filters and streaming as
/// for `GET /export/sales-daily`.
#[utoipa::path(get, path = "/export/inventory", tag = "export",
    params(FactQuery),
    responses(
        (status = 200, description = "CSV attachment `inventory.csv`", body = String, content_type = "text/csv"),
        (status = 400, description = "end_date before start_date", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "Unknown store or product", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Malformed filter, or an id and a key naming different rows", body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub(crate) async fn inventory(
    State(state): State<AppState>,
    Query(query): Query<FactQuery>,
) -> Result<Response, Problem> {
    fact(&state, Table::Inventory, &query, "inventory").await
}

/// Promotions as CSV: `sku,store_code,name,kind,discount_pct,
/// discount_amount,start_date,end_date,bundle_member_skus`.
///
/// The fields of `POST /ingest/promotions`: an empty `store_code` is a
/// chain-wide promotion; bundle members are SKUs separated by `|`;
/// `discount_pct` has 4 decimal places. Ordered by SKU, store code, name
/// and start date. The date filter keeps promotions overlapping the range;
/// a store filter keeps that store's promotions only (not the chain-wide
/// ones). Otherwise as `GET /export/sales-daily`.
#[utoipa::path(get, path = "/export/promotions", tag = "export",
    params(FactQuery),
    responses(
        (status = 200, description = "CSV attachment `promotions.csv`", body = String, content_type = "text/csv"),
        (status = 400, description = "end_date before start_date", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "Unknown store or product", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Malformed filter, or an id and a key naming different rows", body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub(crate) async fn promotions(
    State(state): State<AppState>,
    Query(query): Query<FactQuery>,
) -> Result<Response, Problem> {
    fact(&state, Table::Promotions, &query, "promotions").await
}

/// Price periods as CSV: `sku,store_code,price,valid_from,valid_to`.
///
/// The fields of `POST /ingest/price-history`: an empty `store_code` is a
/// chain-wide price, an empty `valid_to` an open-ended one. Ordered by
/// SKU, store code and start. The date filter keeps periods overlapping
/// the range; a store filter keeps that store's prices only. Otherwise as
/// `GET /export/sales-daily`.
#[utoipa::path(get, path = "/export/prices", tag = "export",
    params(FactQuery),
    responses(
        (status = 200, description = "CSV attachment `prices.csv`", body = String, content_type = "text/csv"),
        (status = 400, description = "end_date before start_date", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "Unknown store or product", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Malformed filter, or an id and a key naming different rows", body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub(crate) async fn prices(
    State(state): State<AppState>,
    Query(query): Query<FactQuery>,
) -> Result<Response, Problem> {
    fact(&state, Table::Prices, &query, "prices").await
}

/// Stores as CSV: `code,name,region,city,store_type`, ordered by code.
///
/// The fields of `PUT /dimensions/stores`; an empty cell is a null
/// attribute. Streamed like `GET /export/sales-daily`.
#[utoipa::path(get, path = "/export/stores", tag = "export",
    responses(
        (status = 200, description = "CSV attachment `stores.csv`", body = String, content_type = "text/csv"),
    ))]
pub(crate) async fn stores(State(state): State<AppState>) -> Result<Response, Problem> {
    service::export(&state.db, Table::Stores, Default::default(), "stores").await
}

/// Products as CSV: `sku,name,category,subcategory,brand,base_price,
/// base_cost,launch_date,discontinue_date`, ordered by SKU.
///
/// The fields of `PUT /dimensions/products` (lifecycle stage and pack
/// size, which that upsert keeps, are not exported). Money has 2 decimal
/// places. Streamed like `GET /export/sales-daily`.
#[utoipa::path(get, path = "/export/products", tag = "export",
    responses(
        (status = 200, description = "CSV attachment `products.csv`", body = String, content_type = "text/csv"),
    ))]
pub(crate) async fn products(State(state): State<AppState>) -> Result<Response, Problem> {
    service::export(&state.db, Table::Products, Default::default(), "products").await
}

/// Calendar days as CSV: `date,is_holiday,holiday_name`, ordered by date.
///
/// The fields of `PUT /dimensions/calendar` (day of week, month, quarter
/// and year are derived from the date there). Dates inclusive;
/// `end_date` before `start_date` → 400.
#[utoipa::path(get, path = "/export/calendar", tag = "export",
    params(CalendarQuery),
    responses(
        (status = 200, description = "CSV attachment `calendar.csv`", body = String, content_type = "text/csv"),
        (status = 400, description = "end_date before start_date", body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub(crate) async fn calendar(
    State(state): State<AppState>,
    Query(query): Query<CalendarQuery>,
) -> Result<Response, Problem> {
    let filter = service::calendar_filter(&query)?;
    service::export(&state.db, Table::Calendar, filter, "calendar").await
}
