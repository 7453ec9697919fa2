//! The SQL of the bulk upserts. Each batch travels as **one** JSON parameter
//! that the database unpacks into rows (`jsonb_to_recordset` on PostgreSQL,
//! `json_each` on SQLite), so one statement writes a whole batch on either
//! backend and the statement text never grows with the batch; the rest of
//! each statement is the SQL both dialects share.
//!
//! Tables with a unique natural key (store, product, calendar, inventory)
//! use `INSERT … ON CONFLICT DO UPDATE`. Promotions and prices have no
//! unique key in the schema, so their batch is an `UPDATE … FROM` of the
//! rows that exist followed by an `INSERT … WHERE NOT EXISTS` of the rest,
//! in one transaction.

use crate::db::{Backend, BeginWrite, Db};

/// (column, PostgreSQL type) of a JSON batch.
type Columns = &'static [(&'static str, &'static str)];

const STORE: Columns = &[
    ("code", "text"),
    ("name", "text"),
    ("region", "text"),
    ("city", "text"),
    ("store_type", "text"),
];

const PRODUCT: Columns = &[
    ("sku", "text"),
    ("name", "text"),
    ("category", "text"),
    ("subcategory", "text"),
    ("brand", "text"),
    ("base_price", "numeric"),
    ("base_cost", "numeric"),
    ("launch_date", "date"),
    ("discontinue_date", "date"),
];

const CALENDAR: Columns = &[
    ("date", "date"),
    ("day_of_week", "int4"),
    ("month", "int4"),
    ("quarter", "int4"),
    ("year", "int4"),
    ("is_holiday", "boolean"),
    ("holiday_name", "text"),
];

const INVENTORY: Columns = &[
    ("date", "date"),
    ("store_id", "int4"),
    ("product_id", "int4"),
    ("on_hand_qty", "int4"),
    ("on_order_qty", "int4"),
    ("is_stockout", "boolean"),
];

const PROMOTION: Columns = &[
    ("product_id", "int4"),
    ("store_id", "int4"),
    ("name", "text"),
    ("discount_pct", "numeric"),
    ("discount_amount", "numeric"),
    ("start_date", "date"),
    ("end_date", "date"),
    ("kind", "text"),
    ("bundle_member_product_ids", "jsonb"),
];

const PRICE: Columns = &[
    ("product_id", "int4"),
    ("store_id", "int4"),
    ("price", "numeric"),
    ("valid_from", "date"),
    ("valid_to", "date"),
];

/// The rows of the JSON array bound as `$1`, as a relation `t`.
fn source(backend: Backend, columns: Columns) -> String {
    match backend {
        Backend::Postgres => {
            // Dates arrive as ISO text and go through `to_date`, which reads
            // year 0 as 1 BC like chrono does (the `date` input syntax
            // refuses it).
            let typed: Vec<String> = columns
                .iter()
                .map(|(c, t)| format!("{c} {}", if *t == "date" { "text" } else { t }))
                .collect();
            let picked: Vec<String> = columns
                .iter()
                .map(|(c, t)| {
                    if *t == "date" {
                        format!("to_date(r.{c}, 'YYYY-MM-DD') AS {c}")
                    } else {
                        format!("r.{c}")
                    }
                })
                .collect();
            format!(
                "(SELECT {} FROM jsonb_to_recordset($1::jsonb) AS r({})) AS t",
                picked.join(", "),
                typed.join(", ")
            )
        }
        Backend::Sqlite => {
            let picked: Vec<String> = columns
                .iter()
                .map(|(c, _)| format!("json_extract(value, '$.{c}') AS {c}"))
                .collect();
            format!("(SELECT {} FROM json_each($1)) AS t", picked.join(", "))
        }
    }
}

fn now(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => "now()",
        Backend::Sqlite => "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
    }
}

fn names(columns: Columns) -> String {
    columns
        .iter()
        .map(|(c, _)| *c)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `INSERT INTO table (cols) SELECT cols FROM t … ON CONFLICT (key) DO …`.
fn insert_on_conflict(
    backend: Backend,
    table: &str,
    columns: Columns,
    key: &str,
    update: &[&str],
) -> String {
    let action = if update.is_empty() {
        "NOTHING".to_owned()
    } else {
        let sets: Vec<String> = update
            .iter()
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        format!(
            "UPDATE SET {}, updated_at = {}",
            sets.join(", "),
            now(backend)
        )
    };
    // `WHERE true` lets SQLite parse ON CONFLICT after a SELECT.
    format!(
        "INSERT INTO {table} ({cols}) SELECT {cols} FROM {src} WHERE true \
         ON CONFLICT ({key}) DO {action}",
        cols = names(columns),
        src = source(backend, columns),
    )
}

/// `UPDATE` of the rows whose `key` columns match (NULL matching NULL),
/// then `INSERT` of the others.
fn update_then_insert(
    backend: Backend,
    table: &str,
    columns: Columns,
    key: &[&str],
) -> [String; 2] {
    let matches = |alias: &str| {
        key.iter()
            .map(|c| format!("{alias}.{c} IS NOT DISTINCT FROM t.{c}"))
            .collect::<Vec<_>>()
            .join(" AND ")
    };
    let sets: Vec<String> = columns
        .iter()
        .filter(|(c, _)| !key.contains(c))
        .map(|(c, _)| format!("{c} = t.{c}"))
        .collect();
    let src = source(backend, columns);
    [
        format!(
            "UPDATE {table} SET {sets}, updated_at = {now} FROM {src} WHERE {on}",
            sets = sets.join(", "),
            now = now(backend),
            on = matches(table),
        ),
        format!(
            "INSERT INTO {table} ({cols}) SELECT {cols} FROM {src} \
             WHERE NOT EXISTS (SELECT 1 FROM {table} AS e WHERE {on})",
            cols = names(columns),
            on = matches("e"),
        ),
    ]
}

/// Runs `statements` with `batch` bound as `$1`, in one transaction;
/// returns the rows they affected.
async fn run(db: &Db, statements: &[String], batch: &str) -> Result<u64, sqlx::Error> {
    let mut affected = 0;
    match db {
        Db::Postgres(pool) => {
            let mut tx = pool.begin_write().await?;
            for sql in statements {
                affected += sqlx::query(sql)
                    .bind(batch)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            tx.commit().await?;
        }
        Db::Sqlite(pool) => {
            let mut tx = pool.begin_write().await?;
            for sql in statements {
                affected += sqlx::query(sql)
                    .bind(batch)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            tx.commit().await?;
        }
    }
    Ok(affected)
}

/// Which table a batch goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// `store` by `code`.
    Stores,
    /// `product` by `sku`.
    Products,
    /// `calendar` by `date`.
    Calendar,
    /// `inventory_snapshot_daily` by (date, store, product).
    Inventory,
    /// `promotion` by (product, store, name, start date).
    Promotions,
    /// `price_history` by (product, store, valid from).
    Prices,
}

fn statements(backend: Backend, target: Target) -> Vec<String> {
    match target {
        Target::Stores => vec![insert_on_conflict(
            backend,
            "store",
            STORE,
            "code",
            &["name", "region", "city", "store_type"],
        )],
        Target::Products => vec![insert_on_conflict(
            backend,
            "product",
            PRODUCT,
            "sku",
            &[
                "name",
                "category",
                "subcategory",
                "brand",
                "base_price",
                "base_cost",
                "launch_date",
                "discontinue_date",
            ],
        )],
        Target::Calendar => vec![insert_on_conflict(
            backend,
            "calendar",
            CALENDAR,
            "date",
            &["is_holiday", "holiday_name"],
        )],
        Target::Inventory => vec![insert_on_conflict(
            backend,
            "inventory_snapshot_daily",
            INVENTORY,
            "date, store_id, product_id",
            &["on_hand_qty", "on_order_qty", "is_stockout"],
        )],
        Target::Promotions => update_then_insert(
            backend,
            "promotion",
            PROMOTION,
            &["product_id", "store_id", "name", "start_date"],
        )
        .to_vec(),
        Target::Prices => update_then_insert(
            backend,
            "price_history",
            PRICE,
            &["product_id", "store_id", "valid_from"],
        )
        .to_vec(),
    }
}

/// Writes `rows` (JSON objects with `target`'s columns) in one
/// transaction; returns the rows inserted or updated.
pub(crate) async fn upsert(
    db: &Db,
    target: Target,
    rows: &[serde_json::Value],
) -> Result<u64, sqlx::Error> {
    let batch = serde_json::to_string(rows).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    run(db, &statements(db.backend(), target), &batch).await
}

/// Inserts the calendar rows among `days` that do not exist yet; returns
/// how many were inserted.
pub(crate) async fn insert_missing_days(
    db: &Db,
    days: &[serde_json::Value],
) -> Result<u64, sqlx::Error> {
    let batch = serde_json::to_string(days).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let sql = insert_on_conflict(db.backend(), "calendar", CALENDAR, "date", &[]);
    run(db, &[sql], &batch).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_dialects_unpack_the_same_columns() {
        let pg = insert_on_conflict(Backend::Postgres, "store", STORE, "code", &["name"]);
        assert!(pg.contains("jsonb_to_recordset($1::jsonb) AS r(code text, name text"));
        let days = insert_on_conflict(Backend::Postgres, "calendar", CALENDAR, "date", &[]);
        assert!(days.contains("to_date(r.date, 'YYYY-MM-DD') AS date"));
        assert!(days.contains("AS r(date text, day_of_week int4"));
        assert!(pg.ends_with(
            "ON CONFLICT (code) DO UPDATE SET name = excluded.name, updated_at = now()"
        ));
        let lite = insert_on_conflict(Backend::Sqlite, "store", STORE, "code", &[]);
        assert!(
            lite.contains("json_extract(value, '$.store_type') AS store_type FROM json_each($1)")
        );
        assert!(lite.ends_with("WHERE true ON CONFLICT (code) DO NOTHING"));
    }

    #[test]
    fn keyless_tables_update_then_insert_null_safely() {
        let [update, insert] = update_then_insert(
            Backend::Sqlite,
            "price_history",
            PRICE,
            &["product_id", "store_id", "valid_from"],
        );
        assert!(update.starts_with(
            "UPDATE price_history SET price = t.price, valid_to = t.valid_to, updated_at"
        ));
        assert!(update.contains("price_history.store_id IS NOT DISTINCT FROM t.store_id"));
        assert!(insert.contains("WHERE NOT EXISTS (SELECT 1 FROM price_history AS e WHERE e.product_id IS NOT DISTINCT FROM t.product_id"));
    }
}
