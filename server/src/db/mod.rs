//! Database pools for the two supported backends and their migrations.
//!
//! Most queries are written once in the SQL both dialects accept and run on
//! either pool through [`with_db!`](crate::with_db); a slice keeps a
//! backend-specific path only where it buys real speed (bulk upserts) or
//! semantics (`DISTINCT ON`, `FOR UPDATE SKIP LOCKED`).

pub mod errors;

use std::{path::Path, str::FromStr, time::Duration};

use anyhow::Context;
use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    PgPool, SqlitePool,
};

/// Which SQL dialect a pool speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL.
    Postgres,
    /// SQLite.
    Sqlite,
}

/// A connection pool to either backend. Cheap to clone.
#[derive(Debug, Clone)]
pub enum Db {
    /// PostgreSQL pool.
    Postgres(PgPool),
    /// SQLite pool.
    Sqlite(SqlitePool),
}

/// Runs `$body` with `$pool` bound to the concrete pool of either backend,
/// so one query text and one decoding routine serve both.
///
/// ```ignore
/// let count: i64 = with_db!(&state.db, pool => {
///     sqlx::query_scalar("SELECT COUNT(*) FROM store").fetch_one(pool).await
/// })?;
/// ```
#[macro_export]
macro_rules! with_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Postgres($pool) => $body,
            $crate::db::Db::Sqlite($pool) => $body,
        }
    };
}

/// Bytes of an SQLite file mapped into memory (larger files read the rest
/// through the page cache).
const SQLITE_MMAP_BYTES: u64 = 1 << 30;

/// Pool sizing and waiting.
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    /// Most connections; `None` picks the backend's default (16 on
    /// PostgreSQL, 8 on SQLite).
    pub max_connections: Option<u32>,
    /// How long a query waits for a free connection (or for the database
    /// to accept one) before failing with a 503.
    pub acquire_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_connections: None,
            acquire_timeout: Duration::from_secs(30),
        }
    }
}

impl Db {
    /// Connects to `url` (`postgres://…` or `sqlite://…`) with default pool
    /// options, creating the SQLite file and its directory when missing.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        Self::connect_with(url, PoolOptions::default()).await
    }

    /// Connects to `url` with `options`.
    ///
    /// SQLite runs in WAL mode (readers never wait for the writer), reads
    /// through a memory map, and waits up to 30 s for a busy database;
    /// write transactions begin `IMMEDIATE`
    /// ([`BeginWrite`]) so they queue on the busy timeout instead of
    /// failing when a read transaction would have to be upgraded.
    pub async fn connect_with(url: &str, options: PoolOptions) -> anyhow::Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let connect = PgConnectOptions::from_str(url).with_context(|| {
                format!("invalid DATABASE_URL {}", crate::config::redact_url(url))
            })?;
            let pool = PgPoolOptions::new()
                .max_connections(options.max_connections.unwrap_or(16))
                .acquire_timeout(options.acquire_timeout)
                .connect_with(connect)
                .await
                .with_context(|| {
                    format!(
                        "cannot connect to {}; is PostgreSQL running?",
                        crate::config::redact_url(url)
                    )
                })?;
            Ok(Self::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            let connect = SqliteConnectOptions::from_str(url)
                .with_context(|| format!("invalid DATABASE_URL {url}"))?
                .create_if_missing(true)
                .foreign_keys(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                // Reads go through one shared memory map instead of a
                // `pread` per page into each connection's private cache:
                // under concurrent reads that system-call time was most of
                // an analytics query's cost.
                .pragma("mmap_size", SQLITE_MMAP_BYTES.to_string());
            if let Some(parent) = Path::new(connect.get_filename()).parent() {
                if !parent.as_os_str().is_empty() {
                    std::fs::create_dir_all(parent).with_context(|| {
                        format!("cannot create the database directory {}", parent.display())
                    })?;
                }
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(options.max_connections.unwrap_or(8))
                .acquire_timeout(options.acquire_timeout)
                .connect_with(connect)
                .await
                .with_context(|| format!("cannot open SQLite database {url}"))?;
            Ok(Self::Sqlite(pool))
        } else {
            anyhow::bail!(
                "DATABASE_URL must start with sqlite: or postgres://, got {}",
                crate::config::redact_url(url)
            )
        }
    }

    /// Applies the pending migrations of this backend.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Self::Postgres(pool) => sqlx::migrate!("../migrations/postgres").run(pool).await?,
            Self::Sqlite(pool) => sqlx::migrate!("../migrations/sqlite").run(pool).await?,
        }
        Ok(())
    }

    /// The dialect of this pool.
    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// `postgres` or `sqlite`, for logs.
    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgres",
            Self::Sqlite(_) => "sqlite",
        }
    }

    /// Runs `SELECT 1`.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        with_db!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
    }

    /// Closes every connection.
    pub async fn close(&self) {
        with_db!(self, pool => pool.close().await);
    }
}

/// Beginning a transaction that will write.
pub trait BeginWrite {
    /// The pool's database.
    type Database: sqlx::Database;

    /// Begins a write transaction. On SQLite this is `BEGIN IMMEDIATE`: it
    /// takes the write lock up front, so a concurrent writer waits on the
    /// busy timeout instead of failing with "database is locked" when its
    /// deferred transaction would have to be upgraded from reading to
    /// writing. On PostgreSQL a plain `BEGIN`.
    fn begin_write(
        &self,
    ) -> impl std::future::Future<
        Output = Result<sqlx::Transaction<'static, Self::Database>, sqlx::Error>,
    > + Send
           + '_;

    /// Begins a write transaction whose commit does not wait for the
    /// write-ahead log to reach the disk, for records whose loss in a crash
    /// of the database server costs only a repeat (an agent's chat turn).
    /// On PostgreSQL `SET LOCAL synchronous_commit = off` (this transaction
    /// only; a crash may lose the last fraction of a second of such
    /// commits, and never corrupts). On SQLite the same as
    /// [`BeginWrite::begin_write`]: its WAL in `NORMAL` synchronous mode
    /// already commits this way.
    fn begin_write_unflushed(
        &self,
    ) -> impl std::future::Future<
        Output = Result<sqlx::Transaction<'static, Self::Database>, sqlx::Error>,
    > + Send
           + '_;
}

impl BeginWrite for PgPool {
    type Database = sqlx::Postgres;

    fn begin_write(
        &self,
    ) -> impl std::future::Future<
        Output = Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error>,
    > + Send
           + '_ {
        self.begin()
    }

    fn begin_write_unflushed(
        &self,
    ) -> impl std::future::Future<
        Output = Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error>,
    > + Send
           + '_ {
        self.begin_with("BEGIN; SET LOCAL synchronous_commit TO OFF")
    }
}

impl BeginWrite for SqlitePool {
    type Database = sqlx::Sqlite;

    fn begin_write(
        &self,
    ) -> impl std::future::Future<
        Output = Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error>,
    > + Send
           + '_ {
        self.begin_with("BEGIN IMMEDIATE")
    }

    fn begin_write_unflushed(
        &self,
    ) -> impl std::future::Future<
        Output = Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error>,
    > + Send
           + '_ {
        self.begin_write()
    }
}

/// Executes one or more `;`-separated statements without parameters
/// (fixtures, maintenance). Never pass client text here.
pub async fn execute_script(db: &Db, sql: &str) -> Result<(), sqlx::Error> {
    with_db!(db, pool => sqlx::raw_sql(sql).execute(pool).await.map(|_| ()))
}

/// Connects to the configured database and applies migrations.
pub async fn connect_configured(settings: &crate::config::Settings) -> anyhow::Result<Db> {
    let options = PoolOptions {
        max_connections: settings.database_max_connections,
        acquire_timeout: std::time::Duration::from_secs(
            settings.database_acquire_timeout_seconds.max(1),
        ),
    };
    let db = Db::connect_with(&settings.database_url, options).await?;
    db.migrate().await.context("applying migrations")?;
    Ok(db)
}
