//! `forecastlab-custom`: the ForecastLab server with one extra model,
//! `tsb_example` (a TSB variant),
//! linked in from a third-party crate. Everything else (commands, settings,
//! the always-on models) is the stock server's.

use std::process::ExitCode;

// Linking the plugin crate keeps its `inventory` registration.
use forecastlab_example_tsb as _;

#[tokio::main]
async fn main() -> ExitCode {
    forecastlab_server::cli::main().await
}
