//! /analytics/*: KPIs, drilldowns, time series and inventory status over
//! the sales and inventory facts.

mod money;
mod repo;
pub(crate) mod routes;
pub(crate) mod schemas;
mod service;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

/// The routes of this slice.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::kpis))
        .routes(routes!(routes::drilldowns))
        .routes(routes!(routes::timeseries))
        .routes(routes!(routes::inventory_status))
}

/// The exact statements behind two endpoints, so the `data_platform`
/// benchmark can time the bare SQL beside the HTTP round trip. Not an API.
#[doc(hidden)]
pub mod bench_support {
    use chrono::NaiveDate;

    use super::{
        repo::{drilldown_sql, kpi_sql, SalesFilter},
        schemas::Dimension,
    };
    use crate::db::Backend;

    fn range_only() -> SalesFilter {
        let day = NaiveDate::default();
        SalesFilter {
            start: Some(day),
            end: Some(day),
            ..SalesFilter::default()
        }
    }

    /// `GET /analytics/kpis` without filters: binds `$1` start, `$2` end.
    pub fn kpi_statement(backend: Backend) -> String {
        kpi_sql(backend, &range_only()).0
    }

    /// `GET /analytics/drilldowns?dimension=store`: binds `$1` start, `$2`
    /// end, `$3` max_items.
    pub fn store_drilldown_statement(backend: Backend) -> String {
        drilldown_sql(backend, Dimension::Store, &range_only(), 20).0
    }
}
