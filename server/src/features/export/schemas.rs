//! Query parameters of `/export/*`.

use chrono::NaiveDate;
use serde::Deserialize;

use crate::extract::{Validate, Violations};

/// Filters of the fact exports (sales, inventory, promotions, prices).
///
/// A store is named by `store_id`, `store_code` or both (then they must
/// name the same store); a product by `product_id`, `sku` or both.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct FactQuery {
    /// First day (inclusive). For promotions and prices: periods ending on
    /// or after it.
    #[param(value_type = Option<String>, format = Date)]
    pub(crate) start_date: Option<NaiveDate>,
    /// Last day (inclusive; not before `start_date`). For promotions and
    /// prices: periods starting on or before it.
    #[param(value_type = Option<String>, format = Date)]
    pub(crate) end_date: Option<NaiveDate>,
    /// Only this store (by id).
    pub(crate) store_id: Option<i64>,
    /// Only this store (by code, exact, 1..20 characters).
    #[param(min_length = 1, max_length = 20)]
    pub(crate) store_code: Option<String>,
    /// Only this product (by id).
    pub(crate) product_id: Option<i64>,
    /// Only this product (by SKU, exact, 1..50 characters).
    #[param(min_length = 1, max_length = 50)]
    pub(crate) sku: Option<String>,
}

impl Validate for FactQuery {
    fn validate(&self, v: &mut Violations) {
        if let Some(code) = &self.store_code {
            v.length("store_code", code, 1, 20);
        }
        if let Some(sku) = &self.sku {
            v.length("sku", sku, 1, 50);
        }
    }
}

/// Filters of `GET /export/calendar`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CalendarQuery {
    /// First day (inclusive).
    #[param(value_type = Option<String>, format = Date)]
    pub(crate) start_date: Option<NaiveDate>,
    /// Last day (inclusive; not before `start_date`).
    #[param(value_type = Option<String>, format = Date)]
    pub(crate) end_date: Option<NaiveDate>,
}

impl Validate for CalendarQuery {}
