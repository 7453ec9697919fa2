//! `/scenarios/*`: what-if planning on any trained model. Target-only
//! models get the fixed multipliers of the spec (or a learned price
//! elasticity); feature-aware models re-forecast on a future frame carrying
//! the assumptions. Plans are saved with their comparison snapshot, listed
//! with tag filters, compared and deleted.

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::state::AppState;

pub mod adjust;
pub mod elasticity;
pub mod repo;
mod routes;
pub mod schemas;
pub mod service;
pub mod simulate;

/// The routes of this slice.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::simulate))
        .routes(routes!(routes::compare))
        .routes(routes!(routes::create, routes::list))
        .routes(routes!(routes::get, routes::delete))
}
