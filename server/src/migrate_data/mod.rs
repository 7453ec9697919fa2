//! `forecastlab migrate-data --from sqlite://… --to postgres://…`: moves an
//! embedded SQLite install onto PostgreSQL.
//!
//! Both databases are brought to the current schema first. Every table of
//! the target is copied in foreign-key order with `COPY … FROM STDIN`, ids
//! as they are, and every serial sequence is set past the largest id. Row
//! counts and a per-table checksum (an order-independent sum of SHA-256
//! row digests over canonical values) are compared before anything is
//! committed: the whole copy is one transaction, so an interrupted or
//! failed run leaves the target as it was and can simply be run again.
//! A target table that already holds rows other than the source's is
//! refused unless `--force` replaces it.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Context};
use futures::TryStreamExt;
use sha2::{Digest, Sha256};
use sqlx::{postgres::PgRow, sqlite::SqliteRow, PgPool, Postgres, SqlitePool, Transaction};

use crate::{config::redact_url, db::Db};

pub mod cell;

use cell::{Cell, Kind};

/// Bytes of `COPY` data sent per message.
const COPY_CHUNK_BYTES: usize = 1 << 20;

/// What was copied into one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableReport {
    /// Table name.
    pub table: String,
    /// Rows copied (equal on both sides).
    pub rows: u64,
    /// The checksum both sides agree on (32 hex digits).
    pub checksum: String,
}

/// A table of the target and its columns (name, `data_type`).
#[derive(Debug, Clone)]
struct Table {
    name: String,
    columns: Vec<(String, String)>,
}

impl Table {
    fn kinds(&self) -> Vec<Kind> {
        self.columns.iter().map(|(_, t)| Kind::of(t)).collect()
    }

    /// The table without its `created_at` / `updated_at` columns.
    fn without_audit_columns(&self) -> Self {
        Self {
            name: self.name.clone(),
            columns: self
                .columns
                .iter()
                .filter(|(name, _)| name != "created_at" && name != "updated_at")
                .cloned()
                .collect(),
        }
    }

    fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|(name, _)| format!("\"{name}\""))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A running, order-independent table checksum.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Checksum {
    rows: u64,
    sum: u128,
}

impl Checksum {
    fn add(&mut self, cells: &[Cell]) {
        let mut hasher = Sha256::new();
        for cell in cells {
            hasher.update(cell.canonical().as_bytes());
            hasher.update([0x1f]);
        }
        let digest = hasher.finalize();
        let mut head = [0u8; 16];
        head.copy_from_slice(&digest[..16]);
        self.sum = self.sum.wrapping_add(u128::from_le_bytes(head));
        self.rows += 1;
    }

    fn hex(self) -> String {
        format!("{:032x}", self.sum)
    }
}

/// Copies every table of the SQLite database `from` into the PostgreSQL
/// database `to` (see the module docs); `force` replaces target tables
/// that hold other data.
pub async fn run(from: &str, to: &str, force: bool) -> anyhow::Result<Vec<TableReport>> {
    let source = open_source(from).await?;
    let target = match Db::connect(to).await? {
        Db::Postgres(pool) => pool,
        Db::Sqlite(_) => bail!("--to must be a postgres:// URL"),
    };
    Db::Sqlite(source.clone())
        .migrate()
        .await
        .context("migrating the source")?;
    Db::Postgres(target.clone())
        .migrate()
        .await
        .context("migrating the target")?;
    let tables = ordered_tables(&target).await?;
    check_source_columns(&source, &tables).await?;

    let mut expected = BTreeMap::new();
    for table in &tables {
        expected.insert(table.name.clone(), source_checksum(&source, table).await?);
    }
    for table in &tables {
        // Rows the migrations seed carry each database's own timestamps, so
        // the comparison leaves the audit columns out.
        let content = table.without_audit_columns();
        let existing = target_checksum(&target, &content).await?;
        if existing.rows > 0 && !force && existing != source_checksum(&source, &content).await? {
            bail!(
                "the target is not empty: table {} holds {} row(s) that are not the source's; \
                 pass --force to replace the target's data",
                table.name,
                existing.rows
            );
        }
    }

    let mut tx = target.begin().await?;
    let names: Vec<String> = tables.iter().map(|t| format!("\"{}\"", t.name)).collect();
    sqlx::query(&format!(
        "TRUNCATE {} RESTART IDENTITY CASCADE",
        names.join(", ")
    ))
    .execute(&mut *tx)
    .await?;
    let mut reports = Vec::with_capacity(tables.len());
    for table in &tables {
        let copied = copy_table(&source, &mut tx, table).await?;
        let wanted = expected[&table.name];
        if copied != wanted {
            bail!(
                "the source table {} changed while it was copied; nothing was committed",
                table.name
            );
        }
        let landed = tx_checksum(&mut tx, table).await?;
        if landed != wanted {
            bail!(
                "table {}: {} row(s) with checksum {} arrived, {} row(s) with checksum {} were \
                 sent; nothing was committed",
                table.name,
                landed.rows,
                landed.hex(),
                wanted.rows,
                wanted.hex()
            );
        }
        reports.push(TableReport {
            table: table.name.clone(),
            rows: wanted.rows,
            checksum: wanted.hex(),
        });
    }
    reset_sequences(&mut tx).await?;
    tx.commit().await.context("committing the copy")?;
    source.close().await;
    target.close().await;
    Ok(reports)
}

/// Opens an existing SQLite database (a missing file is an error, never a
/// new empty source).
async fn open_source(from: &str) -> anyhow::Result<SqlitePool> {
    let path = from
        .strip_prefix("sqlite://")
        .or_else(|| from.strip_prefix("sqlite:"))
        .with_context(|| format!("--from must be a sqlite:// URL, not {}", redact_url(from)))?;
    let file = path.split('?').next().unwrap_or(path);
    if !std::path::Path::new(file).is_file() {
        bail!("the source database {file} does not exist");
    }
    match Db::connect(from).await? {
        Db::Sqlite(pool) => Ok(pool),
        Db::Postgres(_) => bail!("--from must be a sqlite:// URL"),
    }
}

/// The target's tables (all but the migration history), parents before
/// children, ties by name.
async fn ordered_tables(target: &PgPool) -> anyhow::Result<Vec<Table>> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' \
         AND tablename <> '_sqlx_migrations' ORDER BY tablename",
    )
    .fetch_all(target)
    .await?;
    let edges: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c \
         WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace",
    )
    .fetch_all(target)
    .await?;
    let order = topological(&names, &edges)?;
    let mut tables = Vec::with_capacity(order.len());
    for name in order {
        let columns: Vec<(String, String)> = sqlx::query_as(
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
        )
        .bind(&name)
        .fetch_all(target)
        .await?;
        tables.push(Table { name, columns });
    }
    Ok(tables)
}

/// Kahn's algorithm over `(child, parent)` edges; self-references are
/// ignored (rows of one table are copied in one statement).
fn topological(names: &[String], edges: &[(String, String)]) -> anyhow::Result<Vec<String>> {
    let mut parents: BTreeMap<&str, BTreeSet<&str>> = names
        .iter()
        .map(|n| (n.as_str(), BTreeSet::new()))
        .collect();
    for (child, parent) in edges {
        if child != parent {
            if let Some(set) = parents.get_mut(child.as_str()) {
                set.insert(parent.as_str());
            }
        }
    }
    let mut order = Vec::with_capacity(names.len());
    while !parents.is_empty() {
        let ready: Vec<&str> = parents
            .iter()
            .filter(|(_, pending)| pending.is_empty())
            .map(|(name, _)| *name)
            .collect();
        if ready.is_empty() {
            bail!("the foreign keys between {:?} form a cycle", parents.keys());
        }
        for name in ready {
            parents.remove(name);
            for pending in parents.values_mut() {
                pending.remove(name);
            }
            order.push(name.to_owned());
        }
    }
    Ok(order)
}

/// Every target column must exist in the source.
async fn check_source_columns(source: &SqlitePool, tables: &[Table]) -> anyhow::Result<()> {
    for table in tables {
        let present: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
            .bind(&table.name)
            .fetch_all(source)
            .await?;
        if present.is_empty() {
            bail!("the source has no table {}", table.name);
        }
        for (column, _) in &table.columns {
            if !present.contains(column) {
                bail!("the source table {} has no column {column}", table.name);
            }
        }
    }
    Ok(())
}

fn source_cells(row: &SqliteRow, table: &Table, kinds: &[Kind]) -> anyhow::Result<Vec<Cell>> {
    kinds
        .iter()
        .enumerate()
        .map(|(index, kind)| {
            cell::from_sqlite(row, index, *kind).map_err(|reason| {
                anyhow::anyhow!("{}.{}: {reason}", table.name, table.columns[index].0)
            })
        })
        .collect()
}

fn source_select(table: &Table) -> String {
    format!("SELECT {} FROM \"{}\"", table.column_list(), table.name)
}

async fn source_checksum(source: &SqlitePool, table: &Table) -> anyhow::Result<Checksum> {
    let kinds = table.kinds();
    let sql = source_select(table);
    let mut rows = sqlx::query(&sql).fetch(source);
    let mut checksum = Checksum::default();
    while let Some(row) = rows.try_next().await? {
        checksum.add(&source_cells(&row, table, &kinds)?);
    }
    Ok(checksum)
}

fn target_select(table: &Table) -> String {
    let columns: Vec<String> = table
        .columns
        .iter()
        .map(|(name, data_type)| cell::select_expression(name, data_type))
        .collect();
    format!("SELECT {} FROM \"{}\"", columns.join(", "), table.name)
}

fn target_cells(row: &PgRow, kinds: &[Kind]) -> Result<Vec<Cell>, sqlx::Error> {
    kinds
        .iter()
        .enumerate()
        .map(|(index, kind)| cell::from_postgres(row, index, *kind))
        .collect()
}

async fn target_checksum(target: &PgPool, table: &Table) -> anyhow::Result<Checksum> {
    let kinds = table.kinds();
    let sql = target_select(table);
    let mut rows = sqlx::query(&sql).fetch(target);
    let mut checksum = Checksum::default();
    while let Some(row) = rows.try_next().await? {
        checksum.add(&target_cells(&row, &kinds)?);
    }
    Ok(checksum)
}

async fn tx_checksum(
    tx: &mut Transaction<'_, Postgres>,
    table: &Table,
) -> anyhow::Result<Checksum> {
    let kinds = table.kinds();
    let sql = target_select(table);
    let mut rows = sqlx::query(&sql).fetch(&mut **tx);
    let mut checksum = Checksum::default();
    while let Some(row) = rows.try_next().await? {
        checksum.add(&target_cells(&row, &kinds)?);
    }
    Ok(checksum)
}

/// Streams one table into the transaction with `COPY`; returns the
/// checksum of what was sent.
async fn copy_table(
    source: &SqlitePool,
    tx: &mut Transaction<'_, Postgres>,
    table: &Table,
) -> anyhow::Result<Checksum> {
    let kinds = table.kinds();
    let statement = format!(
        "COPY \"{}\" ({}) FROM STDIN",
        table.name,
        table.column_list()
    );
    let mut copy = tx.copy_in_raw(&statement).await?;
    let sql = source_select(table);
    let mut rows = sqlx::query(&sql).fetch(source);
    let mut checksum = Checksum::default();
    let mut buffer = String::with_capacity(COPY_CHUNK_BYTES + 4096);
    let sent: anyhow::Result<()> = async {
        while let Some(row) = rows.try_next().await? {
            let cells = source_cells(&row, table, &kinds)?;
            for (index, cell) in cells.iter().enumerate() {
                if index > 0 {
                    buffer.push('\t');
                }
                cell.push_copy(&mut buffer);
            }
            buffer.push('\n');
            checksum.add(&cells);
            if buffer.len() >= COPY_CHUNK_BYTES {
                copy.send(std::mem::take(&mut buffer).into_bytes()).await?;
            }
        }
        if !buffer.is_empty() {
            copy.send(buffer.into_bytes()).await?;
        }
        Ok(())
    }
    .await;
    match sent {
        Ok(()) => {
            copy.finish()
                .await
                .with_context(|| format!("copying table {}", table.name))?;
            Ok(checksum)
        }
        Err(error) => {
            let _ = copy.abort(error.to_string()).await;
            Err(error.context(format!("copying table {}", table.name)))
        }
    }
}

/// Sets every serial sequence past the largest value of its column.
async fn reset_sequences(tx: &mut Transaction<'_, Postgres>) -> anyhow::Result<()> {
    let serials: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, \
         pg_get_serial_sequence(quote_ident(table_name), column_name)::text \
         FROM information_schema.columns WHERE table_schema = 'public' \
         AND column_default LIKE 'nextval(%'",
    )
    .fetch_all(&mut **tx)
    .await?;
    for (table, column, sequence) in serials {
        sqlx::query(&format!(
            "SELECT setval($1::regclass, COALESCE((SELECT MAX(\"{column}\") FROM \"{table}\"), 0) + 1, false)"
        ))
        .bind(&sequence)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_come_first() {
        let names: Vec<String> = ["b", "a", "c", "job"].map(String::from).to_vec();
        let edges = vec![
            ("c".to_owned(), "b".to_owned()),
            ("b".to_owned(), "a".to_owned()),
            ("job".to_owned(), "job".to_owned()),
        ];
        assert_eq!(topological(&names, &edges).unwrap(), ["a", "job", "b", "c"]);
        let cycle = vec![
            ("a".to_owned(), "b".to_owned()),
            ("b".to_owned(), "a".to_owned()),
        ];
        assert!(topological(&names, &cycle).is_err());
    }

    #[test]
    fn checksums_ignore_row_order() {
        let rows = [
            vec![Cell::Int(1), Cell::Text("a".into())],
            vec![Cell::Int(2), Cell::Null],
        ];
        let (mut forward, mut backward) = (Checksum::default(), Checksum::default());
        forward.add(&rows[0]);
        forward.add(&rows[1]);
        backward.add(&rows[1]);
        backward.add(&rows[0]);
        assert_eq!(forward, backward);
        assert_eq!(forward.rows, 2);
        let mut other = Checksum::default();
        other.add(&rows[0]);
        other.add(&[Cell::Int(2), Cell::Text(String::new())]);
        assert_ne!(forward, other);
    }
}
