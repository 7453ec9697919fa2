//! Handlers of `/dimensions`.

use axum::extract::State;

use super::{
    repo::{self, Entity},
    schemas::{
        LifecycleCurveResponse, LifecycleQuery, ProductListQuery, ProductListResponse,
        ProductResponse, StoreListQuery, StoreListResponse, StoreResponse,
    },
    service,
};
use crate::{
    extract::{Path, Query},
    problem::{Problem, ProblemBody},
    state::AppState,
};

/// `{store_id}` path segment.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct StorePath {
    store_id: i64,
}

/// `{product_id}` path segment.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct ProductPath {
    pub(crate) product_id: i64,
}

fn store_missing(id: i64) -> Problem {
    Problem::not_found(format!(
        "Store {id} not found. Use GET /dimensions/stores to list available stores."
    ))
}

fn product_missing(id: i64) -> Problem {
    Problem::not_found(format!(
        "Product {id} not found. Use GET /dimensions/products to list available products."
    ))
}

/// Lists stores, 1-indexed pages.
///
/// Filters are ANDed; `search` (at least 2 characters) matches `code` or
/// `name` case-insensitively (`%` and `_` act as wildcards). `sort_by` is one
/// of `code, name, region, city, store_type`; any other value (or none) gives
/// the default order `code` ascending and is not an error. NULLs sort last
/// ascending and first descending; ties break on `code` ascending. A page
/// past the end is an empty list with the true `total`.
#[utoipa::path(get, path = "/dimensions/stores", tag = "dimensions",
    params(StoreListQuery),
    responses(
        (status = 200, description = "A page of stores", body = StoreListResponse,
            links(("GetStore" = (operation_id = "get_store", parameters(("store_id" = "$response.body#/stores/0/id")))))),
        (status = 422, description = "Invalid query", body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_stores(
    State(state): State<AppState>,
    Query(query): Query<StoreListQuery>,
) -> Result<axum::Json<StoreListResponse>, Problem> {
    let spec = service::list_spec(
        Entity::Store,
        vec![("region", query.region), ("store_type", query.store_type)],
        query.search,
        query.sort_by.as_deref(),
        query.sort_order.as_deref(),
        query.page,
        query.page_size,
    );
    let (stores, total) = repo::list(&state.db, &spec).await?;
    Ok(axum::Json(StoreListResponse {
        stores,
        total,
        page: query.page,
        page_size: query.page_size,
    }))
}

/// One store.
#[utoipa::path(get, path = "/dimensions/stores/{store_id}", tag = "dimensions",
    params(("store_id" = i64, Path, description = "Store id")),
    responses(
        (status = 200, description = "The store", body = StoreResponse),
        (status = 404, description = "No such store", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Non-integer id", body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub(crate) async fn get_store(
    State(state): State<AppState>,
    Path(StorePath { store_id }): Path<StorePath>,
) -> Result<axum::Json<StoreResponse>, Problem> {
    repo::get(&state.db, store_id)
        .await?
        .map(axum::Json)
        .ok_or_else(|| store_missing(store_id))
}

/// Lists products, 1-indexed pages.
///
/// Filters `category` and `brand` are exact; `search` (at least 2
/// characters) matches `sku` or `name` case-insensitively. `sort_by` is one
/// of `sku, name, category, brand, base_price` (numeric); any other value
/// gives the default order `sku` ascending. NULLs sort last ascending and
/// first descending; ties break on `sku`. Money fields are decimal strings.
#[utoipa::path(get, path = "/dimensions/products", tag = "dimensions",
    params(ProductListQuery),
    responses(
        (status = 200, description = "A page of products", body = ProductListResponse,
            links(
                ("GetProduct" = (operation_id = "get_product", parameters(("product_id" = "$response.body#/products/0/id")))),
                ("GetLifecycleCurve" = (operation_id = "lifecycle_curve", parameters(("product_id" = "$response.body#/products/0/id")))),
            )),
        (status = 422, description = "Invalid query", body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_products(
    State(state): State<AppState>,
    Query(query): Query<ProductListQuery>,
) -> Result<axum::Json<ProductListResponse>, Problem> {
    let spec = service::list_spec(
        Entity::Product,
        vec![("category", query.category), ("brand", query.brand)],
        query.search,
        query.sort_by.as_deref(),
        query.sort_order.as_deref(),
        query.page,
        query.page_size,
    );
    let (products, total) = repo::list(&state.db, &spec).await?;
    Ok(axum::Json(ProductListResponse {
        products,
        total,
        page: query.page,
        page_size: query.page_size,
    }))
}

/// One product.
#[utoipa::path(get, path = "/dimensions/products/{product_id}", tag = "dimensions",
    params(("product_id" = i64, Path, description = "Product id")),
    responses(
        (status = 200, description = "The product", body = ProductResponse),
        (status = 404, description = "No such product", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Non-integer id", body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub(crate) async fn get_product(
    State(state): State<AppState>,
    Path(ProductPath { product_id }): Path<ProductPath>,
) -> Result<axum::Json<ProductResponse>, Problem> {
    repo::get(&state.db, product_id)
        .await?
        .map(axum::Json)
        .ok_or_else(|| product_missing(product_id))
}

/// The product's lifecycle stage and demand multiplier per day.
///
/// Defaults: `start_date` = launch date (today − 30 days without one);
/// `end_date` = start + 365 days, clamped to the discontinue date. An end
/// before the start collapses to the start. A product without a launch date
/// is `maturity` with multiplier 1.0 every day. The curve may span at most
/// 1095 days (end − start); longer → 400.
#[utoipa::path(get, path = "/dimensions/products/{product_id}/lifecycle-curve", tag = "dimensions",
    params(("product_id" = i64, Path, description = "Product id"), LifecycleQuery),
    responses(
        (status = 200, description = "The curve", body = LifecycleCurveResponse),
        (status = 400, description = "Range longer than 1095 days", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such product", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid id or date", body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub(crate) async fn lifecycle_curve(
    State(state): State<AppState>,
    Path(ProductPath { product_id }): Path<ProductPath>,
    Query(query): Query<LifecycleQuery>,
) -> Result<axum::Json<LifecycleCurveResponse>, Problem> {
    let (sku, launch, discontinue) = repo::product_lifecycle(&state.db, product_id)
        .await?
        .ok_or_else(|| product_missing(product_id))?;
    service::lifecycle_curve(
        product_id,
        sku,
        launch,
        discontinue,
        query.start_date,
        query.end_date,
        service::today(),
    )
    .map(axum::Json)
}
