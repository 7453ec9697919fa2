//! The seeder engine ("The Forge"): realistic synthetic retail data,
//! deterministic by seed, shared by `POST /seeder/*` and `forecastlab seed`.
//!
//! [`generate`] writes stores, products, the calendar, price history,
//! promotions, inventory snapshots and daily sales (plus the optional
//! exogenous signals, returns and replenishment events) in one transaction.
//! It streams: the plan (prices, promotions, sparsity) is decided up front,
//! then a blocking thread generates one store at a time while the async side
//! writes the previous store's rows, so memory stays bounded by two stores.
//!
//! Demand per (store, product, day) =
//! level (base × store × product × series log-normal factors)
//! × trend × weekly × monthly × yearly (phase by category) × holiday
//! × changepoints × promotion lift × price response × lifecycle/launch ramp
//! × weather × substitution × (1 + N(0, σ)) × anomaly, turned into units by
//! unbiased stochastic rounding. Promotions also cut the selling price;
//! stockout days cap sales at the stock on the shelf and end at zero on hand.

pub mod cli;
pub mod config;
pub(crate) mod dimensions;
pub(crate) mod engine;
pub mod ops;
pub mod phase2;
pub(crate) mod random;
pub(crate) mod rows;
pub(crate) mod writer;

use crate::db::BeginWrite;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::Row;

use crate::db::Db;
use config::SeederConfig;
use engine::{Plan, ProductInfo, StoreChunk};
use rows::{copy_payload, SqlRow};
use writer::{with_tx, Landing, Writer};

/// Why a seeder operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The request cannot be served as asked (400).
    #[error("{0}")]
    Invalid(String),
    /// The database state does not allow it (422).
    #[error("{0}")]
    Unprocessable(String),
    /// A database error.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A generator thread failed.
    #[error("generator failed: {0}")]
    Worker(String),
}

impl From<tokio::task::JoinError> for SeedError {
    fn from(error: tokio::task::JoinError) -> Self {
        Self::Worker(error.to_string())
    }
}

/// Rows written per table: rows whose unique key already existed are
/// skipped and not counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RecordCounts {
    /// Stores written (0 on append).
    pub stores: u64,
    /// Products written (0 on append).
    pub products: u64,
    /// Calendar days written.
    pub calendar: u64,
    /// Sales rows written.
    pub sales: u64,
    /// Price windows written.
    pub price_history: u64,
    /// Promotions written.
    pub promotions: u64,
    /// Inventory snapshots written.
    pub inventory: u64,
    /// Exogenous signal rows written.
    pub exogenous_signals: u64,
    /// Returns written.
    pub sales_returns: u64,
    /// Replenishment events written.
    pub replenishment_events: u64,
}

impl RecordCounts {
    /// Rows of every table together.
    pub fn total(&self) -> u64 {
        self.stores
            + self.products
            + self.calendar
            + self.sales
            + self.price_history
            + self.promotions
            + self.inventory
            + self.exogenous_signals
            + self.sales_returns
            + self.replenishment_events
    }
}

/// Called after each store is written with (stores done, stores total).
pub type ProgressFn = Arc<dyn Fn(usize, usize) + Send + Sync>;

fn begin_error(e: sqlx::Error) -> SeedError {
    SeedError::Database(e)
}

async fn begin(db: &Db) -> Result<Writer, SeedError> {
    Ok(match db {
        Db::Postgres(pool) => Writer::Postgres(pool.begin_write().await.map_err(begin_error)?),
        Db::Sqlite(pool) => Writer::Sqlite(pool.begin_write().await.map_err(begin_error)?),
    })
}

/// Every store id and product (ascending id) visible to the transaction.
async fn read_dimensions(w: &mut Writer) -> Result<(Vec<i32>, Vec<ProductInfo>), sqlx::Error> {
    const STORES: &str = "SELECT id FROM store ORDER BY id";
    const PRODUCTS: &str =
        "SELECT id, CAST(base_price AS DOUBLE PRECISION), category, launch_date, discontinue_date \
                            FROM product ORDER BY id";
    macro_rules! read {
        ($conn:expr) => {{
            let stores: Vec<i32> = sqlx::query_scalar(STORES).fetch_all(&mut *$conn).await?;
            let rows = sqlx::query(PRODUCTS).fetch_all(&mut *$conn).await?;
            let mut products = Vec::with_capacity(rows.len());
            for row in rows {
                let price: Option<f64> = row.try_get(1)?;
                products.push(ProductInfo {
                    id: row.try_get(0)?,
                    base_cents: (price.unwrap_or(9.99) * 100.0).round() as i64,
                    category: row.try_get(2)?,
                    launch: row.try_get(3)?,
                    discontinue: row.try_get(4)?,
                });
            }
            Ok((stores, products))
        }};
    }
    with_tx!(w, tx => read!(&mut **tx))
}

/// True when a fact table already has rows inside the window.
async fn window_has_facts(
    w: &mut Writer,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<bool, sqlx::Error> {
    const SQL: &str = "SELECT CAST(CASE WHEN EXISTS (SELECT 1 FROM sales_daily WHERE date BETWEEN $1 AND $2) \
        OR EXISTS (SELECT 1 FROM inventory_snapshot_daily WHERE date BETWEEN $1 AND $2) \
        OR EXISTS (SELECT 1 FROM exogenous_signal WHERE date BETWEEN $1 AND $2) THEN 1 ELSE 0 END AS BIGINT)";
    let found: i64 = with_tx!(w, tx => {
        sqlx::query_scalar(SQL)
            .bind(start)
            .bind(end)
            .fetch_one(&mut **tx)
            .await?
    });
    Ok(found != 0)
}

/// A store's rows, encoded for the backend on the generator thread.
enum Encoded {
    /// (table, columns, COPY payload, may conflict with existing rows).
    Postgres(Vec<(&'static str, &'static str, Vec<u8>, bool)>),
    Sqlite(Box<StoreChunk>),
}

/// Expands `$each!(rows, may_conflict)` for every fact table of a store
/// chunk, in write order; `may_conflict` tells whether the rows may hit
/// existing ones (those land as the window's fact landing, the others
/// directly).
macro_rules! for_each_chunk_table {
    ($chunk:expr, $each:ident) => {{
        $each!(&$chunk.exogenous, true);
        $each!(&$chunk.prices, false);
        $each!(&$chunk.promotions, false);
        $each!(&$chunk.inventory, true);
        $each!(&$chunk.sales, true);
        $each!(&$chunk.returns, false);
        $each!(&$chunk.replenishment, false);
    }};
}

fn encode(chunk: StoreChunk, postgres: bool, dates: &rows::Dates) -> Encoded {
    if !postgres {
        return Encoded::Sqlite(Box::new(chunk));
    }
    // (table, columns, payload, may conflict with existing rows)
    let mut tables = Vec::with_capacity(7);
    macro_rules! encode_table {
        ($rows:expr, $conflicts:expr) => {
            tables.push(copy_entry($rows, dates, $conflicts))
        };
    }
    for_each_chunk_table!(chunk, encode_table);
    Encoded::Postgres(tables)
}

/// One table's entry of [`Encoded::Postgres`].
fn copy_entry<R: SqlRow>(
    rows: &[R],
    dates: &rows::Dates,
    conflicts: bool,
) -> (&'static str, &'static str, Vec<u8>, bool) {
    (R::TABLE, R::COLUMNS, copy_payload(rows, dates), conflicts)
}

impl RecordCounts {
    /// Adds `written` rows to the counter of `table`.
    fn add_written(&mut self, table: &str, written: u64) {
        let counter = match table {
            "store" => &mut self.stores,
            "product" => &mut self.products,
            "calendar" => &mut self.calendar,
            "sales_daily" => &mut self.sales,
            "inventory_snapshot_daily" => &mut self.inventory,
            "price_history" => &mut self.price_history,
            "promotion" => &mut self.promotions,
            "exogenous_signal" => &mut self.exogenous_signals,
            "sales_returns" => &mut self.sales_returns,
            "replenishment_event" => &mut self.replenishment_events,
            _ => return,
        };
        *counter += written;
    }
}

/// Writes `rows` and counts what was written under their table.
async fn write_counted<R: SqlRow>(
    w: &mut Writer,
    counts: &mut RecordCounts,
    rows: &[R],
    dates: &rows::Dates,
    landing: Landing,
    batch: usize,
) -> Result<(), sqlx::Error> {
    let written = w.write(rows, dates, landing, batch).await?;
    counts.add_written(R::TABLE, written);
    Ok(())
}

/// Writes the facts of `plan` (everything after the dimensions and the
/// calendar), streaming store by store.
async fn write_facts(
    w: &mut Writer,
    plan: Arc<Plan>,
    fact_landing: Landing,
    progress: Option<ProgressFn>,
) -> Result<RecordCounts, SeedError> {
    let batch = plan.config.batch_size.max(1);
    let mut counts = RecordCounts::default();
    let dates = &plan.dates;
    write_counted(
        w,
        &mut counts,
        &plan.global_exogenous,
        dates,
        fact_landing,
        batch,
    )
    .await?;
    write_counted(
        w,
        &mut counts,
        &plan.price_rows,
        dates,
        Landing::Direct,
        batch,
    )
    .await?;
    write_counted(
        w,
        &mut counts,
        &plan.promotion_rows,
        dates,
        Landing::Direct,
        batch,
    )
    .await?;

    let postgres = matches!(w, Writer::Postgres(_));
    let total = plan.stores.len();
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Encoded>(2);
    let producer_plan = Arc::clone(&plan);
    let producer = tokio::task::spawn_blocking(move || {
        for si in 0..producer_plan.stores.len() {
            let chunk = producer_plan.store_chunk(si);
            let encoded = encode(chunk, postgres, &producer_plan.dates);
            if sender.blocking_send(encoded).is_err() {
                break;
            }
        }
    });
    let landing = |conflicts: bool| {
        if conflicts {
            fact_landing
        } else {
            Landing::Direct
        }
    };
    let mut done = 0;
    let result: Result<(), SeedError> = async {
        while let Some(encoded) = receiver.recv().await {
            match encoded {
                Encoded::Postgres(tables) => {
                    for (table, columns, payload, conflicts) in tables {
                        let written = w
                            .copy_encoded(table, columns, &payload, landing(conflicts))
                            .await?;
                        counts.add_written(table, written);
                    }
                }
                Encoded::Sqlite(chunk) => {
                    macro_rules! write_table {
                        ($rows:expr, $conflicts:expr) => {
                            write_counted(
                                w,
                                &mut counts,
                                $rows,
                                &plan.dates,
                                landing($conflicts),
                                batch,
                            )
                            .await?
                        };
                    }
                    for_each_chunk_table!(chunk, write_table);
                }
            }
            done += 1;
            if let Some(progress) = &progress {
                progress(done, total);
            }
        }
        Ok(())
    }
    .await;
    drop(receiver);
    producer.await?;
    result?;
    Ok(counts)
}

/// Generates and writes a full data set for `config` in one transaction.
pub async fn generate(
    db: &Db,
    config: SeederConfig,
    progress: Option<ProgressFn>,
) -> Result<RecordCounts, SeedError> {
    check_window(&config)?;
    let store_rows =
        dimensions::generate_stores(config.seed, config.stores).map_err(SeedError::Invalid)?;
    let product_rows = dimensions::generate_products(&config).map_err(SeedError::Invalid)?;
    let dates = rows::Dates::new(config.start_date, config.end_date);
    let batch = config.batch_size.max(1);

    let mut w = begin(db).await?;
    let mut dimensions = RecordCounts::default();
    let conflicts = Landing::SkipConflicts;
    write_counted(
        &mut w,
        &mut dimensions,
        &store_rows,
        &dates,
        conflicts,
        batch,
    )
    .await?;
    write_counted(
        &mut w,
        &mut dimensions,
        &product_rows,
        &dates,
        conflicts,
        batch,
    )
    .await?;
    let (stores, products) = read_dimensions(&mut w).await?;
    let mut counts = write_window(w, config, &dates, stores, products, progress).await?;
    counts.stores = dimensions.stores;
    counts.products = dimensions.products;
    Ok(counts)
}

/// Adds facts for a new window against every existing store and product,
/// with the default configuration (no preset, no phase features).
pub async fn append(
    db: &Db,
    config: SeederConfig,
    progress: Option<ProgressFn>,
) -> Result<RecordCounts, SeedError> {
    check_window(&config)?;
    let dates = rows::Dates::new(config.start_date, config.end_date);
    let mut w = begin(db).await?;
    let (stores, products) = read_dimensions(&mut w).await?;
    if stores.is_empty() || products.is_empty() {
        return Err(SeedError::Invalid(
            "No stores or products found. Run a full generation (POST /seeder/generate) first."
                .into(),
        ));
    }
    write_window(w, config, &dates, stores, products, progress).await
}

/// Refuses a window that ends before it starts.
fn check_window(config: &SeederConfig) -> Result<(), SeedError> {
    if config.end_date < config.start_date {
        return Err(SeedError::Invalid(
            "end_date must be on or after start_date".into(),
        ));
    }
    Ok(())
}

/// Writes the calendar and the facts of `config`'s window for `stores` ×
/// `products`, then commits; the counts have no stores or products.
async fn write_window(
    mut w: Writer,
    config: SeederConfig,
    dates: &rows::Dates,
    stores: Vec<i32>,
    products: Vec<ProductInfo>,
    progress: Option<ProgressFn>,
) -> Result<RecordCounts, SeedError> {
    let batch = config.batch_size.max(1);
    let calendar = dimensions::calendar_rows(&config, config.start_date, config.end_date);
    let calendar_written = w
        .write(&calendar, dates, Landing::SkipConflicts, batch)
        .await?;
    let fact_landing = if window_has_facts(&mut w, config.start_date, config.end_date).await? {
        Landing::SkipConflicts
    } else {
        Landing::Direct
    };
    let plan =
        tokio::task::spawn_blocking(move || Arc::new(Plan::new(config, stores, products))).await?;
    let mut counts = write_facts(&mut w, plan, fact_landing, progress).await?;
    w.commit().await?;
    counts.calendar = calendar_written;
    Ok(counts)
}
