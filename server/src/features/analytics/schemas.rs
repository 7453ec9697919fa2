//! Query parameters and responses of `/analytics`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::extract::{Validate, Violations};

/// Revenue, units and transactions of a set of `sales_daily` rows.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub(crate) struct KpiMetrics {
    /// Σ total_amount as a decimal string (`"0"` when there are no rows).
    #[schema(example = "72527.40")]
    pub(crate) total_revenue: String,
    /// Σ quantity.
    pub(crate) total_units: i64,
    /// Number of rows (one per date/store/product grain).
    pub(crate) total_transactions: i64,
    /// total_revenue / total_units (28 significant digits, half-even);
    /// null when no units.
    #[schema(example = "9.99")]
    pub(crate) avg_unit_price: Option<String>,
    /// total_revenue / total_transactions; null when no rows.
    pub(crate) avg_basket_value: Option<String>,
}

fn default_max_items() -> i64 {
    20
}

/// Query of `GET /analytics/kpis`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct KpiQuery {
    /// First day (inclusive).
    #[param(value_type = String, format = Date)]
    pub(crate) start_date: NaiveDate,
    /// Last day (inclusive); at most `ANALYTICS_MAX_DATE_RANGE_DAYS` after the start.
    #[param(value_type = String, format = Date)]
    pub(crate) end_date: NaiveDate,
    /// Only this store.
    pub(crate) store_id: Option<i64>,
    /// Only this product.
    pub(crate) product_id: Option<i64>,
    /// Only products of this category (exact).
    pub(crate) category: Option<String>,
}

impl Validate for KpiQuery {}

/// The KPIs of the filtered rows, with the filters echoed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct KpiResponse {
    /// The metrics.
    pub(crate) metrics: KpiMetrics,
    /// First day.
    #[schema(value_type = String, format = Date)]
    pub(crate) start_date: NaiveDate,
    /// Last day.
    #[schema(value_type = String, format = Date)]
    pub(crate) end_date: NaiveDate,
    /// Store filter.
    pub(crate) store_id: Option<i64>,
    /// Product filter.
    pub(crate) product_id: Option<i64>,
    /// Category filter.
    pub(crate) category: Option<String>,
}

/// What a drilldown groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Dimension {
    /// store.code (id = store.id).
    Store,
    /// product.sku (id = product.id).
    Product,
    /// product.category.
    Category,
    /// store.region.
    Region,
    /// The sales date.
    Date,
}

/// Query of `GET /analytics/drilldowns`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DrilldownQuery {
    /// Grouping dimension.
    pub(crate) dimension: Dimension,
    /// First day (inclusive).
    #[param(value_type = String, format = Date)]
    pub(crate) start_date: NaiveDate,
    /// Last day (inclusive).
    #[param(value_type = String, format = Date)]
    pub(crate) end_date: NaiveDate,
    /// Only this store.
    pub(crate) store_id: Option<i64>,
    /// Only this product.
    pub(crate) product_id: Option<i64>,
    /// Most items returned (1..100).
    #[serde(default = "default_max_items")]
    #[param(default = 20, minimum = 1, maximum = 100)]
    pub(crate) max_items: i64,
}

impl Validate for DrilldownQuery {
    fn validate(&self, v: &mut Violations) {
        v.range("max_items", self.max_items, 1, 100);
    }
}

/// One group of a drilldown.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct DrilldownItem {
    /// The group's value (store code, SKU, category, region or ISO date).
    pub(crate) dimension_value: String,
    /// Store or product id; null for the other dimensions.
    pub(crate) dimension_id: Option<i64>,
    /// The group's KPIs.
    pub(crate) metrics: KpiMetrics,
    /// 1-based position by revenue.
    pub(crate) rank: i64,
    /// Share of the grand total revenue over all groups, 2 places half-even.
    #[schema(example = "45.50")]
    pub(crate) revenue_share_pct: String,
}

/// A drilldown.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct DrilldownResponse {
    /// The dimension.
    pub(crate) dimension: Dimension,
    /// The top groups by revenue.
    pub(crate) items: Vec<DrilldownItem>,
    /// Number of groups before the `max_items` limit.
    pub(crate) total_items: i64,
    /// First day.
    #[schema(value_type = String, format = Date)]
    pub(crate) start_date: NaiveDate,
    /// Last day.
    #[schema(value_type = String, format = Date)]
    pub(crate) end_date: NaiveDate,
    /// Store filter.
    pub(crate) store_id: Option<i64>,
    /// Product filter.
    pub(crate) product_id: Option<i64>,
}

/// Time-series bucket size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Granularity {
    /// One bucket per day.
    #[default]
    Day,
    /// ISO weeks starting Monday.
    Week,
    /// Calendar months.
    Month,
    /// Calendar quarters.
    Quarter,
}

/// Query of `GET /analytics/timeseries`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TimeseriesQuery {
    /// First day (inclusive).
    #[param(value_type = String, format = Date)]
    pub(crate) start_date: NaiveDate,
    /// Last day (inclusive).
    #[param(value_type = String, format = Date)]
    pub(crate) end_date: NaiveDate,
    /// Bucket size (default `day`).
    #[serde(default)]
    pub(crate) granularity: Granularity,
    /// Only this store.
    pub(crate) store_id: Option<i64>,
    /// Only this product.
    pub(crate) product_id: Option<i64>,
    /// Only products of this category (exact).
    pub(crate) category: Option<String>,
}

impl Validate for TimeseriesQuery {}

/// One bucket.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct TimeseriesPoint {
    /// Bucket start (may precede `start_date`).
    #[schema(value_type = String, format = Date)]
    pub(crate) period: NaiveDate,
    /// KPIs of the in-range days of the bucket.
    pub(crate) metrics: KpiMetrics,
}

/// A time series.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct TimeseriesResponse {
    /// Bucket size.
    pub(crate) granularity: Granularity,
    /// Buckets with at least one row, ascending.
    pub(crate) points: Vec<TimeseriesPoint>,
    /// Number of points.
    pub(crate) total_points: usize,
    /// First day.
    #[schema(value_type = String, format = Date)]
    pub(crate) start_date: NaiveDate,
    /// Last day.
    #[schema(value_type = String, format = Date)]
    pub(crate) end_date: NaiveDate,
    /// Store filter.
    pub(crate) store_id: Option<i64>,
    /// Product filter.
    pub(crate) product_id: Option<i64>,
    /// Category filter.
    pub(crate) category: Option<String>,
}

/// Query of `GET /analytics/inventory-status`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct InventoryQuery {
    /// Only this store.
    pub(crate) store_id: Option<i64>,
    /// Only this product.
    pub(crate) product_id: Option<i64>,
}

impl Validate for InventoryQuery {}

/// The latest snapshot of one (store, product).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct InventoryItem {
    /// Store id.
    pub(crate) store_id: i64,
    /// Product id.
    pub(crate) product_id: i64,
    /// Snapshot date (the latest for this pair).
    #[schema(value_type = String, format = Date)]
    pub(crate) date: NaiveDate,
    /// Units on hand at end of day.
    pub(crate) on_hand_qty: i64,
    /// Units on order.
    pub(crate) on_order_qty: i64,
    /// Whether the day was a stockout.
    pub(crate) is_stockout: bool,
}

/// Latest inventory per (store, product).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct InventoryResponse {
    /// Items ordered by store_id, product_id.
    pub(crate) items: Vec<InventoryItem>,
    /// Number of items.
    pub(crate) total_items: usize,
    /// Store filter.
    pub(crate) store_id: Option<i64>,
    /// Product filter.
    pub(crate) product_id: Option<i64>,
}
