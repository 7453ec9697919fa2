//! `forecastlab import <table> <file>`: streams a CSV file (plain or gzip)
//! into one table through the same bulk upserts as the HTTP routes
//! ([`crate::upsert`]): same natural keys, same checks, same per-row errors,
//! same idempotent writes.
//!
//! A reader thread parses and checks records into batches of
//! `--batch-size` rows; the writer upserts one batch while the next is
//! parsed. At most three batches are alive at a time, so memory stays flat
//! whatever the file size. Rejected rows go to an error report (CSV: line,
//! field, message); only fatal problems (unreadable file, missing column,
//! database failure) end the command with a non-zero exit code.

mod columns;
mod report;
mod source;
mod stream;

use std::{io::IsTerminal, path::PathBuf, time::Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::{
    config::Settings,
    db::Db,
    upsert::{Calendar, Inventory, Prices, Products, Promotions, Sales, Stores},
};
pub use columns::ImportTable;
use columns::Mapping;
use report::{ErrorReport, Totals};

/// Arguments of `forecastlab import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The table to fill.
    #[arg(value_enum)]
    table: ImportTable,
    /// The CSV file (gzip-compressed when it ends in `.gz` or starts with the
    /// gzip magic bytes); its first line names the columns.
    file: PathBuf,
    /// Renames a file column to a field: `--map "Store Code=store_code"`
    /// (repeatable).
    #[arg(long = "map", value_name = "CSV_HEADER=FIELD", value_parser = columns::parse_map)]
    map: Vec<(String, String)>,
    /// The field delimiter (one byte).
    #[arg(long, default_value = ",", value_parser = columns::parse_delimiter)]
    delimiter: u8,
    /// Where to write the rejected rows (CSV: line, field, message)
    /// [default: FILE.errors.csv]; written only when rows are rejected.
    #[arg(long)]
    errors: Option<PathBuf>,
    /// Rows per upsert batch (one transaction each).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    batch_size: u64,
    /// The database [default: DATABASE_URL, else the default SQLite file].
    #[arg(long)]
    database_url: Option<String>,
    /// Never draw the progress bar (it is drawn only when stderr is a
    /// terminal anyway).
    #[arg(long)]
    no_progress: bool,
}

/// Runs `forecastlab import`.
pub async fn run(mut settings: Settings, args: ImportArgs) -> anyhow::Result<()> {
    if let Some(url) = &args.database_url {
        settings.database_url.clone_from(url);
    }
    let mapping = Mapping::new(&args.map);
    let file_len = std::fs::metadata(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?
        .len();
    let bar = progress_bar(file_len, args.no_progress);
    // Open and check the header before touching the database, so a bad
    // file fails fast.
    let reader = source::open(&args.file, args.delimiter, &bar)?;
    let reader = columns::prepare(reader, args.table, &mapping)?;
    let db = crate::db::connect_configured(&settings).await?;
    let errors_path = args.errors.clone().unwrap_or_else(|| {
        let mut name = args.file.clone().into_os_string();
        name.push(".errors.csv");
        PathBuf::from(name)
    });
    let mut report = ErrorReport::new(errors_path);
    let started = Instant::now();
    let before = count(&db, args.table).await?;
    let batch = usize::try_from(args.batch_size).unwrap_or(usize::MAX);
    let streamed = match args.table {
        ImportTable::Stores => stream::run::<Stores>(&db, reader, batch, &mut report, &bar).await,
        ImportTable::Products => {
            stream::run::<Products>(&db, reader, batch, &mut report, &bar).await
        }
        ImportTable::Calendar => {
            stream::run::<Calendar>(&db, reader, batch, &mut report, &bar).await
        }
        ImportTable::Promotions => {
            stream::run::<Promotions>(&db, reader, batch, &mut report, &bar).await
        }
        ImportTable::Prices => stream::run::<Prices>(&db, reader, batch, &mut report, &bar).await,
        ImportTable::Inventory => {
            stream::run::<Inventory>(&db, reader, batch, &mut report, &bar).await
        }
        ImportTable::Sales => stream::run::<Sales>(&db, reader, batch, &mut report, &bar).await,
    };
    bar.finish_and_clear();
    report.finish()?;
    let mut totals: Totals = streamed?;
    totals.inserted = count(&db, args.table).await?.saturating_sub(before);
    totals.seconds = started.elapsed().as_secs_f64();
    db.close().await;
    println!("{}", totals.summary(args.table));
    if totals.rejected > 0 {
        eprintln!(
            "{} rejected row(s) are listed in {}",
            totals.rejected,
            report.path().display()
        );
    }
    Ok(())
}

/// A byte-position bar over the file, on stderr when it is a terminal.
fn progress_bar(len: u64, off: bool) -> ProgressBar {
    if off || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {bytes}/{total_bytes} ({eta} left) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Rows in the import's table (the summary's inserted count is the growth).
async fn count(db: &Db, table: ImportTable) -> anyhow::Result<u64> {
    let sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {}", table.sql_table());
    let rows: i64 =
        crate::with_db!(db, pool => sqlx::query_scalar::<_, i64>(&sql).fetch_one(pool).await)
            .with_context(|| format!("cannot count the rows of {}", table.sql_table()))?;
    Ok(u64::try_from(rows).unwrap_or(0))
}
