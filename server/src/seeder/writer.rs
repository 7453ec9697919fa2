//! Bulk writes inside one transaction.
//!
//! PostgreSQL: `COPY … FROM STDIN` in text format. Tables with unique keys
//! that may already hold rows go through a temporary staging table and
//! `INSERT … SELECT … ON CONFLICT DO NOTHING`; when the window is known to be
//! empty the big fact tables are copied straight in.
//! SQLite: multi-row prepared `INSERT … ON CONFLICT DO NOTHING` statements.

use sqlx::{Postgres, Sqlite, Transaction};

use super::rows::{copy_payload, Dates, SqlRow};

/// SQLite's default bound-parameter limit.
const SQLITE_MAX_PARAMS: usize = 32_766;

/// An open write transaction on either backend.
#[derive(Debug)]
pub(crate) enum Writer {
    Postgres(Transaction<'static, Postgres>),
    Sqlite(Transaction<'static, Sqlite>),
}

/// Runs `$body` with `$tx` bound to the open transaction of either backend,
/// so one query text serves both.
macro_rules! with_tx {
    ($writer:expr, $tx:ident => $body:expr) => {
        match $writer {
            $crate::seeder::writer::Writer::Postgres($tx) => $body,
            $crate::seeder::writer::Writer::Sqlite($tx) => $body,
        }
    };
}
pub(crate) use with_tx;

/// How a PostgreSQL COPY lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Landing {
    /// Straight into the table (no conflicts possible).
    Direct,
    /// Through a staging table, skipping rows that hit a unique key.
    SkipConflicts,
}

impl Writer {
    /// Writes `rows`; `batch` bounds the rows per SQLite statement.
    /// Returns how many rows were written (rows skipped because their key
    /// already exists are not counted).
    pub(crate) async fn write<R: SqlRow>(
        &mut self,
        rows: &[R],
        dates: &Dates,
        landing: Landing,
        batch: usize,
    ) -> Result<u64, sqlx::Error> {
        if rows.is_empty() {
            return Ok(0);
        }
        match self {
            Self::Postgres(_) => {
                let payload = copy_payload(rows, dates);
                self.copy_encoded(R::TABLE, R::COLUMNS, &payload, landing)
                    .await
            }
            Self::Sqlite(tx) => sqlite_insert(tx, rows, dates, batch).await,
        }
    }

    /// PostgreSQL: lands a pre-encoded COPY text payload; returns the rows
    /// written.
    pub(crate) async fn copy_encoded(
        &mut self,
        table: &str,
        columns: &str,
        payload: &[u8],
        landing: Landing,
    ) -> Result<u64, sqlx::Error> {
        let Self::Postgres(tx) = self else {
            return Err(sqlx::Error::Protocol("COPY is PostgreSQL-only".into()));
        };
        if payload.is_empty() {
            return Ok(0);
        }
        match landing {
            Landing::Direct => {
                copy_in(tx, &format!("COPY {table} ({columns}) FROM STDIN"), payload).await
            }
            Landing::SkipConflicts => {
                let stage = format!("seed_stage_{table}");
                sqlx::query(&format!(
                    "CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DROP AS \
                     SELECT {columns} FROM {table} WITH NO DATA"
                ))
                .execute(&mut **tx)
                .await?;
                copy_in(tx, &format!("COPY {stage} ({columns}) FROM STDIN"), payload).await?;
                let written = sqlx::query(&format!(
                    "INSERT INTO {table} ({columns}) SELECT {columns} FROM {stage} ON CONFLICT DO NOTHING"
                ))
                .execute(&mut **tx)
                .await?
                .rows_affected();
                sqlx::query(&format!("TRUNCATE {stage}"))
                    .execute(&mut **tx)
                    .await?;
                Ok(written)
            }
        }
    }

    /// Commits everything.
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Self::Postgres(tx) => tx.commit().await,
            Self::Sqlite(tx) => tx.commit().await,
        }
    }
}

async fn copy_in(
    tx: &mut Transaction<'static, Postgres>,
    statement: &str,
    payload: &[u8],
) -> Result<u64, sqlx::Error> {
    let mut copy = tx.copy_in_raw(statement).await?;
    // Send in slices of a few MiB so the socket buffers stay bounded.
    for part in payload.chunks(4 << 20) {
        copy.send(part).await?;
    }
    copy.finish().await
}

fn sqlite_insert_sql(table: &str, columns: &str, ncols: usize, rows: usize) -> String {
    let group = format!("({})", vec!["?"; ncols].join(","));
    let mut sql = String::with_capacity(64 + rows * (group.len() + 1));
    sql.push_str("INSERT INTO ");
    sql.push_str(table);
    sql.push_str(" (");
    sql.push_str(columns);
    sql.push_str(") VALUES ");
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(&group);
    }
    sql.push_str(" ON CONFLICT DO NOTHING");
    sql
}

async fn sqlite_insert<R: SqlRow>(
    tx: &mut Transaction<'static, Sqlite>,
    rows: &[R],
    dates: &Dates,
    batch: usize,
) -> Result<u64, sqlx::Error> {
    let per_statement = batch.clamp(1, SQLITE_MAX_PARAMS / R::NCOLS);
    let mut written = 0;
    for chunk in rows.chunks(per_statement) {
        let sql = sqlite_insert_sql(R::TABLE, R::COLUMNS, R::NCOLS, chunk.len());
        let mut query = sqlx::query(&sql);
        for row in chunk {
            query = row.bind(query, dates);
        }
        written += query.execute(&mut **tx).await?.rows_affected();
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_statements_have_one_group_per_row() {
        let sql = sqlite_insert_sql("t", "a, b", 2, 3);
        assert_eq!(
            sql,
            "INSERT INTO t (a, b) VALUES (?,?),(?,?),(?,?) ON CONFLICT DO NOTHING"
        );
    }
}
