//! The `forecastlab` command line: `serve` (default), `migrate`, and the
//! subcommands other slices add.

use std::{net::SocketAddr, process::ExitCode};

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::{build_app, config::Settings, db::Db, state::AppState, telemetry};

/// ForecastLab: retail demand forecasting as a REST API.
#[derive(Debug, Parser)]
#[command(name = "forecastlab", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server (the default).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Run job workers only (no HTTP): claim and execute queued jobs from the
    /// configured database until Ctrl-C/SIGTERM.
    Worker(WorkerArgs),
    /// Generate a synthetic retail data set (a scenario preset) into the
    /// configured database, with a progress bar and a summary table.
    Seed(crate::seeder::cli::SeedArgs),
}

#[derive(Debug, Default, clap::Args)]
struct WorkerArgs {
    /// Number of workers [default: JOBS_WORKERS]
    #[arg(long)]
    workers: Option<usize>,
}

#[derive(Debug, Default, clap::Args)]
struct ServeArgs {
    /// Address to listen on [env: FORECASTLAB_ADDR] [default: 127.0.0.1:8123]
    #[arg(long)]
    addr: Option<SocketAddr>,
}

/// Parses the command line and runs it; returns the process exit code.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    telemetry::init(&settings.log_level, &settings.log_format);
    match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(args) => {
            let addr = match args.addr {
                Some(addr) => addr,
                None => Settings::listen_addr_from_env()?,
            };
            serve(settings, addr).await
        }
        Command::Migrate => {
            let db = connect(&settings).await?;
            db.close().await;
            Ok(())
        }
        Command::Worker(args) => {
            let workers = args.workers.unwrap_or(settings.jobs_workers);
            let state = prepare(settings).await?;
            crate::jobs::run_worker_process(state, workers).await
        }
        Command::Seed(args) => crate::seeder::cli::run(settings, args).await,
    }
}

/// Connects to the configured database and applies migrations.
pub async fn connect(settings: &Settings) -> anyhow::Result<Db> {
    let db = Db::connect(&settings.database_url).await?;
    db.migrate().await.context("applying migrations")?;
    Ok(db)
}

/// Serves the API on `addr` until SIGTERM or Ctrl-C.
pub async fn serve(settings: Settings, addr: SocketAddr) -> anyhow::Result<()> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let state = prepare(settings).await?;
    tracing::info!(%addr, database = %state.db.backend_name(), "ForecastLab listening");
    serve_on(state, listener, shutdown_signal()).await?;
    tracing::info!("ForecastLab stopped");
    Ok(())
}

/// Connects to the database, applies migrations and builds the state the
/// app runs on. Tests call this too, so they run exactly what `serve` runs.
pub async fn prepare(settings: Settings) -> anyhow::Result<AppState> {
    let db = connect(&settings).await?;
    Ok(AppState::new(db, settings))
}

/// Serves `state` on an already bound listener until `shutdown` resolves,
/// then closes the pool.
pub async fn serve_on(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let db = state.db.clone();
    let workers = crate::jobs::WorkerPool::start(&state, state.settings.jobs_workers);
    let served = axum::serve(listener, build_app(state))
        .with_graceful_shutdown(shutdown)
        .await;
    workers.shutdown().await;
    served?;
    db.close().await;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
