//! The dashboard: server-rendered pages for people who would rather look
//! than read JSON, served by the same binary next to the API.
//!
//! Shape:
//! - Every page is a module with an entry in [`nav`], a `router()` and its
//!   templates (`templates/<page>*.html`). A page answers `GET` with its
//!   shell: navigation, forms and labelled controls, but no stored data.
//! - Data arrives in fragments (`GET /ui/<page>/...`, HTML) that htmx loads
//!   into the shell. Fragment handlers read through the API's own handlers
//!   and slice services, with the same extractors, so every rule (limits,
//!   defaults, validation, error codes) has one implementation; an error is
//!   the API's problem+json, shown beside the control that asked.
//! - Actions that change something (seed, train, predict, backtest, batch,
//!   cancel, alias, verify) call the JSON API from the page with `fetch`;
//!   long ones run as jobs whose progress the page polls.
//! - Charts are [`chart::Chart`] specs embedded as JSON and drawn by uPlot;
//!   every chart offers a PNG and a CSV download.
//!
//! Adding a page: a module here with a `router()`, a template that
//! extends `base.html`, its entry in [`nav`] and one line in [`router`].

use axum::Router;

use crate::state::AppState;

mod assets;
mod backtest;
mod chart;
mod forecast;
mod jobs;
mod knowledge;
mod nav;
mod overview;
mod page;
mod picker;
mod registry;
mod scenarios;
mod series;
mod showcase;

/// Every page, fragment and static file of the dashboard (all `GET`).
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(assets::router())
        .merge(picker::router())
        .merge(overview::router())
        .merge(series::router())
        .merge(forecast::router())
        .merge(backtest::router())
        .merge(registry::router())
        .merge(jobs::router())
        .merge(scenarios::router())
        .merge(knowledge::router())
        .merge(showcase::router())
}
