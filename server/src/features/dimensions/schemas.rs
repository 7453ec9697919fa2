//! Query parameters and responses of `/dimensions`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::extract::{Validate, Violations};

/// Default page size of the list endpoints.
const DEFAULT_PAGE_SIZE: i64 = 20;

fn default_page() -> i64 {
    1
}

fn default_page_size() -> i64 {
    DEFAULT_PAGE_SIZE
}

fn check_common(
    v: &mut Violations,
    page: i64,
    page_size: i64,
    search: Option<&str>,
    sort_order: Option<&str>,
) {
    v.min("page", page, 1);
    v.range("page_size", page_size, 1, 100);
    if let Some(search) = search {
        v.length("search", search, 2, usize::MAX);
    }
    if let Some(order) = sort_order {
        if order != "asc" && order != "desc" {
            v.push(
                "sort_order",
                "String should match pattern '^(asc|desc)$'",
                "string_pattern_mismatch",
            );
        }
    }
}

/// Query of `GET /dimensions/stores`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct StoreListQuery {
    /// 1-indexed page (>= 1).
    #[serde(default = "default_page")]
    #[param(default = 1, minimum = 1)]
    pub(crate) page: i64,
    /// Items per page (1..100).
    #[serde(default = "default_page_size")]
    #[param(default = 20, minimum = 1, maximum = 100)]
    pub(crate) page_size: i64,
    /// Exact, case-sensitive region.
    pub(crate) region: Option<String>,
    /// Exact store type.
    pub(crate) store_type: Option<String>,
    /// Case-insensitive substring of code or name (at least 2 characters).
    #[param(min_length = 2)]
    pub(crate) search: Option<String>,
    /// `code`, `name`, `region`, `city` or `store_type`; anything else sorts by code.
    pub(crate) sort_by: Option<String>,
    /// `asc` (default) or `desc`.
    #[param(pattern = "^(asc|desc)$")]
    pub(crate) sort_order: Option<String>,
}

impl Validate for StoreListQuery {
    fn validate(&self, v: &mut Violations) {
        check_common(
            v,
            self.page,
            self.page_size,
            self.search.as_deref(),
            self.sort_order.as_deref(),
        );
    }
}

/// Query of `GET /dimensions/products`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ProductListQuery {
    /// 1-indexed page (>= 1).
    #[serde(default = "default_page")]
    #[param(default = 1, minimum = 1)]
    pub(crate) page: i64,
    /// Items per page (1..100).
    #[serde(default = "default_page_size")]
    #[param(default = 20, minimum = 1, maximum = 100)]
    pub(crate) page_size: i64,
    /// Exact category.
    pub(crate) category: Option<String>,
    /// Exact brand.
    pub(crate) brand: Option<String>,
    /// Case-insensitive substring of SKU or name (at least 2 characters).
    #[param(min_length = 2)]
    pub(crate) search: Option<String>,
    /// `sku`, `name`, `category`, `brand` or `base_price`; anything else sorts by SKU.
    pub(crate) sort_by: Option<String>,
    /// `asc` (default) or `desc`.
    #[param(pattern = "^(asc|desc)$")]
    pub(crate) sort_order: Option<String>,
}

impl Validate for ProductListQuery {
    fn validate(&self, v: &mut Violations) {
        check_common(
            v,
            self.page,
            self.page_size,
            self.search.as_deref(),
            self.sort_order.as_deref(),
        );
    }
}

/// A store.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct StoreResponse {
    /// Id.
    pub(crate) id: i64,
    /// Unique store code.
    pub(crate) code: String,
    /// Display name.
    pub(crate) name: String,
    /// Region.
    pub(crate) region: Option<String>,
    /// City.
    pub(crate) city: Option<String>,
    /// Store type (supermarket, express, warehouse, …).
    pub(crate) store_type: Option<String>,
    /// Creation time.
    pub(crate) created_at: DateTime<Utc>,
    /// Last update time.
    pub(crate) updated_at: DateTime<Utc>,
}

/// A page of stores.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct StoreListResponse {
    /// The page.
    pub(crate) stores: Vec<StoreResponse>,
    /// Matches after filters, before pagination.
    pub(crate) total: i64,
    /// Requested page.
    pub(crate) page: i64,
    /// Requested page size.
    pub(crate) page_size: i64,
}

/// A product.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct ProductResponse {
    /// Id.
    pub(crate) id: i64,
    /// Unique SKU.
    pub(crate) sku: String,
    /// Display name.
    pub(crate) name: String,
    /// Category.
    pub(crate) category: Option<String>,
    /// Brand.
    pub(crate) brand: Option<String>,
    /// Base price as a decimal string with 2 places (`"12.99"`).
    #[schema(value_type = Option<String>, example = "12.99")]
    pub(crate) base_price: Option<String>,
    /// Base cost as a decimal string with 2 places.
    #[schema(value_type = Option<String>, example = "7.50")]
    pub(crate) base_cost: Option<String>,
    /// Creation time.
    pub(crate) created_at: DateTime<Utc>,
    /// Last update time.
    pub(crate) updated_at: DateTime<Utc>,
}

/// A page of products.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ProductListResponse {
    /// The page.
    pub(crate) products: Vec<ProductResponse>,
    /// Matches after filters, before pagination.
    pub(crate) total: i64,
    /// Requested page.
    pub(crate) page: i64,
    /// Requested page size.
    pub(crate) page_size: i64,
}

/// Query of the lifecycle curve.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LifecycleQuery {
    /// First day (default: launch date, or today − 30 days without one).
    #[param(value_type = Option<String>, format = Date)]
    pub(crate) start_date: Option<NaiveDate>,
    /// Last day (default: start + 365 days, clamped to the discontinue date).
    #[param(value_type = Option<String>, format = Date)]
    pub(crate) end_date: Option<NaiveDate>,
}

impl Validate for LifecycleQuery {}

/// One day of a lifecycle curve.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct LifecyclePointResponse {
    /// The day.
    #[schema(value_type = String, format = Date)]
    pub(crate) date: NaiveDate,
    /// `intro`, `growth`, `maturity`, `decline` or `discontinued`.
    pub(crate) stage: &'static str,
    /// Demand multiplier (0..1).
    pub(crate) multiplier: f64,
}

/// The lifecycle curve of a product.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct LifecycleCurveResponse {
    /// Product id.
    pub(crate) product_id: i64,
    /// Product SKU.
    pub(crate) sku: String,
    /// Launch date, if any.
    #[schema(value_type = Option<String>, format = Date)]
    pub(crate) launch_date: Option<NaiveDate>,
    /// Discontinue date, if any.
    #[schema(value_type = Option<String>, format = Date)]
    pub(crate) discontinue_date: Option<NaiveDate>,
    /// First day of the curve.
    #[schema(value_type = String, format = Date)]
    pub(crate) start_date: NaiveDate,
    /// Last day of the curve.
    #[schema(value_type = String, format = Date)]
    pub(crate) end_date: NaiveDate,
    /// One point per day, start..end inclusive.
    pub(crate) points: Vec<LifecyclePointResponse>,
    /// Number of points.
    pub(crate) total: usize,
}
