//! The `forecastlab` command line: `serve` (default), `migrate`, and the
//! subcommands other slices add.

use std::{net::SocketAddr, process::ExitCode};

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::{build_app, config::Settings, state::AppState, telemetry};

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
    /// Manage API keys (`create` shows the key once; only a salted hash is
    /// stored).
    #[command(subcommand)]
    Apikey(ApikeyCommand),
    /// Copy every table of an SQLite database into a PostgreSQL database
    /// (ids and sequences kept, row counts and checksums verified, all or
    /// nothing).
    MigrateData(MigrateDataArgs),
    /// Import a CSV file (optionally gzip) into one table through the same
    /// bulk upserts as the HTTP routes: stores, products, calendar,
    /// promotions, prices, inventory or sales.
    Import(crate::import::ImportArgs),
}

#[derive(Debug, clap::Args)]
struct MigrateDataArgs {
    /// The SQLite database to copy (`sqlite://path`).
    #[arg(long)]
    from: String,
    /// The PostgreSQL database to fill (`postgres://…`).
    #[arg(long)]
    to: String,
    /// Replace target tables that already hold other data.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Subcommand)]
enum ApikeyCommand {
    /// Create a key and print it (the only time it is shown).
    Create {
        /// What the key is for.
        #[arg(long)]
        name: String,
        /// read, write or admin (each includes the ones before it).
        #[arg(long, default_value = "read")]
        scope: crate::apikeys::Scope,
    },
    /// List keys (ids, names, scopes; never secrets).
    List,
    /// Revoke a key by its id (the part after `flk_`, before the second `_`).
    Revoke {
        /// The key id.
        key_id: String,
    },
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
            let db = crate::db::connect_configured(&settings).await?;
            db.close().await;
            Ok(())
        }
        Command::Worker(args) => {
            let workers = args.workers.unwrap_or(settings.jobs_workers);
            let state = prepare(settings).await?;
            crate::jobs::run_worker_process(state, workers).await
        }
        Command::Seed(args) => crate::seeder::cli::run(settings, args).await,
        Command::Apikey(command) => apikey(&settings, command).await,
        Command::MigrateData(args) => migrate_data(&args).await,
        Command::Import(args) => crate::import::run(settings, args).await,
    }
}

async fn migrate_data(args: &MigrateDataArgs) -> anyhow::Result<()> {
    let reports = crate::migrate_data::run(&args.from, &args.to, args.force).await?;
    println!("{:<28} {:>10}  checksum", "table", "rows");
    for report in &reports {
        println!(
            "{:<28} {:>10}  {}",
            report.table, report.rows, report.checksum
        );
    }
    let rows: u64 = reports.iter().map(|r| r.rows).sum();
    eprintln!(
        "Copied {rows} rows in {} tables into {}; counts and checksums verified.",
        reports.len(),
        crate::config::redact_url(&args.to)
    );
    Ok(())
}

async fn apikey(settings: &Settings, command: ApikeyCommand) -> anyhow::Result<()> {
    let db = crate::db::connect_configured(settings).await?;
    let outcome = match command {
        ApikeyCommand::Create { name, scope } => {
            let created = crate::apikeys::create(&db, &name, scope).await?;
            eprintln!(
                "API key {} ({scope}) created. Store it now; it cannot be shown again:",
                created.key_id
            );
            println!("{}", created.key);
            Ok(())
        }
        ApikeyCommand::List => {
            for key in crate::apikeys::list(&db).await? {
                println!(
                    "{}\t{}\t{}\tcreated {}{}",
                    key.key_id,
                    key.scope,
                    key.name,
                    key.created_at,
                    key.revoked_at
                        .map(|at| format!("\trevoked {at}"))
                        .unwrap_or_default()
                );
            }
            Ok(())
        }
        ApikeyCommand::Revoke { key_id } => {
            if crate::apikeys::revoke(&db, &key_id).await? {
                println!("revoked {key_id}");
                Ok(())
            } else {
                Err(anyhow::anyhow!("no active API key with id {key_id}"))
            }
        }
    };
    db.close().await;
    outcome
}

/// Serves the API on `addr` until SIGTERM or Ctrl-C.
pub async fn serve(settings: Settings, addr: SocketAddr) -> anyhow::Result<()> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let state = prepare(settings).await?;
    tracing::info!(%addr, database = %state.db.backend_name(), "ForecastLab listening");
    serve_on(state, listener, crate::signal::shutdown_signal()).await?;
    tracing::info!("ForecastLab stopped");
    Ok(())
}

/// Checks the artifact store answers, connects to the database, applies
/// migrations and builds the state the app runs on. Tests call this too, so
/// they run exactly what `serve` runs.
pub async fn prepare(settings: Settings) -> anyhow::Result<AppState> {
    let artifacts = crate::artifacts::ArtifactStore::from_settings(&settings)?;
    artifacts.check().await?;
    let db = crate::db::connect_configured(&settings).await?;
    let state = AppState::with_artifacts(db, settings, artifacts);
    if let Some(detected) =
        crate::features::rag::pgvector::detect_path(&state.db, &state.settings.rag).await
    {
        state.search.set_detected(detected);
    }
    crate::features::config::service::load_overrides(&state)
        .await
        .context("loading the runtime AI configuration")?;
    Ok(state)
}

/// Serves `state` on an already bound listener until `shutdown` resolves;
/// then lets in-flight requests finish (up to `SHUTDOWN_GRACE_SECONDS`),
/// stops the job workers (which hand back jobs they cannot finish in their
/// grace period) and closes the pool.
pub async fn serve_on(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let db = state.db.clone();
    let limits = crate::http::serve::ConnectionLimits {
        header_read_timeout: std::time::Duration::from_secs(
            state.settings.header_read_timeout_seconds.max(1),
        ),
        shutdown_grace: std::time::Duration::from_secs(state.settings.shutdown_grace_seconds),
    };
    let workers = crate::jobs::WorkerPool::start(&state, state.settings.jobs_workers);
    let served = crate::http::serve::serve(listener, build_app(state), limits, shutdown).await;
    workers.shutdown().await;
    served?;
    db.close().await;
    Ok(())
}
