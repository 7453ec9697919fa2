//! What several pages share: the store × product picker (a fragment) and
//! the window of stored sales, both read through the API's handlers.

use askama::Template;
use axum::{extract::State, response::Html, routing::get, Router};
use chrono::NaiveDate;
use serde::Deserialize;

use super::page::render;
use crate::{
    extract::{Query, Validate, Violations},
    features::{
        dimensions::{
            routes as dimensions,
            schemas::{ProductListQuery, ProductResponse, StoreListQuery, StoreResponse},
        },
        seeder::routes as seeder,
    },
    problem::Problem,
    state::AppState,
};

/// Most stores and products a picker lists (the API's largest page).
const PICKER_LIMIT: i64 = 100;

/// `GET /ui/parts/series-picker`.
pub(super) fn router() -> Router<AppState> {
    Router::new().route("/ui/parts/series-picker", get(series_picker))
}

/// Which series a fragment shows; absent ids pick the first store and
/// product.
#[derive(Debug, Default, Deserialize)]
pub(super) struct SeriesChoice {
    /// Store id (≥ 1).
    pub(super) store_id: Option<i64>,
    /// Product id (≥ 1).
    pub(super) product_id: Option<i64>,
}

impl Validate for SeriesChoice {
    fn validate(&self, v: &mut Violations) {
        if let Some(id) = self.store_id {
            v.min("store_id", id, 1);
        }
        if let Some(id) = self.product_id {
            v.min("product_id", id, 1);
        }
    }
}

impl SeriesChoice {
    /// The chosen series, or the first store and product when none was
    /// chosen; `None` when there are no stores or products.
    pub(super) async fn resolve(&self, state: &AppState) -> Result<Option<(i64, i64)>, Problem> {
        let store = match self.store_id {
            Some(id) => Some(id),
            None => stores(state).await?.first().map(|s| s.id),
        };
        let product = match self.product_id {
            Some(id) => Some(id),
            None => products(state).await?.first().map(|p| p.id),
        };
        Ok(store.zip(product))
    }
}

/// Query of the picker: a preselected series, and whether to add date
/// inputs holding the window of stored sales.
#[derive(Debug, Default, Deserialize)]
struct PickerQuery {
    store_id: Option<i64>,
    product_id: Option<i64>,
    #[serde(default)]
    with_dates: bool,
}

impl Validate for PickerQuery {}

#[derive(Template)]
#[template(path = "picker.html")]
struct PickerTemplate {
    stores: Vec<StoreResponse>,
    products: Vec<ProductResponse>,
    selected_store: Option<i64>,
    selected_product: Option<i64>,
    with_dates: bool,
    window: Option<(NaiveDate, NaiveDate)>,
}

impl PickerTemplate {
    fn is_store(&self, id: &i64) -> bool {
        self.selected_store == Some(*id)
    }

    fn is_product(&self, id: &i64) -> bool {
        self.selected_product == Some(*id)
    }
}

async fn series_picker(
    State(state): State<AppState>,
    Query(query): Query<PickerQuery>,
) -> Result<Html<String>, Problem> {
    render(&PickerTemplate {
        stores: stores(&state).await?,
        products: products(&state).await?,
        selected_store: query.store_id,
        selected_product: query.product_id,
        with_dates: query.with_dates,
        window: data_window(&state).await?,
    })
}

/// The first stores, as `GET /dimensions/stores` lists them.
pub(super) async fn stores(state: &AppState) -> Result<Vec<StoreResponse>, Problem> {
    let query = StoreListQuery {
        page: 1,
        page_size: PICKER_LIMIT,
        region: None,
        store_type: None,
        search: None,
        sort_by: None,
        sort_order: None,
    };
    let axum::Json(list) = dimensions::list_stores(State(state.clone()), Query(query)).await?;
    Ok(list.stores)
}

/// The first products, as `GET /dimensions/products` lists them.
pub(super) async fn products(state: &AppState) -> Result<Vec<ProductResponse>, Problem> {
    let query = ProductListQuery {
        page: 1,
        page_size: PICKER_LIMIT,
        category: None,
        brand: None,
        search: None,
        sort_by: None,
        sort_order: None,
    };
    let axum::Json(list) = dimensions::list_products(State(state.clone()), Query(query)).await?;
    Ok(list.products)
}

/// First and last day of stored sales, as `GET /seeder/status` reports.
pub(super) async fn data_window(
    state: &AppState,
) -> Result<Option<(NaiveDate, NaiveDate)>, Problem> {
    let axum::Json(status) = seeder::status(State(state.clone())).await?;
    Ok(status.date_range_start.zip(status.date_range_end))
}
