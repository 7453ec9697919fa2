//! The `forecastlab` binary: see `forecastlab --help`.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    forecastlab_server::cli::main().await
}
