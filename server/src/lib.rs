//! The ForecastLab server: a library that builds the HTTP application
//! ([`build_app`]) and runs the command line ([`cli::main`]), plus the thin
//! `forecastlab` binary.
//!
//! A custom binary that links extra model plugins calls [`cli::main`] the
//! same way `src/main.rs` does.

pub mod apikeys;
pub mod app;
pub mod artifacts;
pub mod cli;
pub mod config;
pub mod dashboard;
pub mod data;
pub mod db;
mod env;
pub mod extract;
pub mod features;
pub mod http;
pub mod import;
pub mod jobs;
pub mod migrate_data;
pub mod models;
mod plugins;
pub mod problem;
pub mod seeder;
pub mod signal;
pub mod state;
pub mod telemetry;
mod upsert;

pub use app::{build_app, openapi};
pub use config::Settings;
pub use db::Db;
pub use problem::Problem;
pub use state::AppState;
