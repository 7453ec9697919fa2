//! SQL of the export slice: one statement per export, written once for both
//! dialects except for how a date becomes text. Every column is selected as
//! text and rendered by its [`Kind`], so both backends give the same bytes
//! for the same data. Rows are ordered by natural key, so an export does
//! not depend on ids and two exports of the same data are identical.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::{
    db::{Backend, Db},
    with_db,
};

/// How a column is selected and rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Text as stored.
    Text,
    /// A date, `YYYY-MM-DD`.
    Date,
    /// An integer.
    Int,
    /// Money with 2 decimal places.
    Money,
    /// A fraction with 4 decimal places (`discount_pct`).
    Fraction,
    /// `true` / `false`.
    Flag,
    /// A JSON list of product ids, rendered as their SKUs joined by `|`.
    Skus,
}

/// One CSV column: its header and the SQL expression it comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column {
    /// The header, named like the field of the matching upsert row.
    pub(crate) name: &'static str,
    /// How it is selected and rendered.
    pub(crate) kind: Kind,
    expr: &'static str,
}

const fn col(name: &'static str, kind: Kind, expr: &'static str) -> Column {
    Column { name, kind, expr }
}

/// A value bound to a placeholder.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Bind {
    Date(NaiveDate),
    Int(i64),
}

/// What an export reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    Stores,
    Products,
    Calendar,
    Sales,
    Inventory,
    Promotions,
    Prices,
}

const STORES: &[Column] = &[
    col("code", Kind::Text, "t.code"),
    col("name", Kind::Text, "t.name"),
    col("region", Kind::Text, "t.region"),
    col("city", Kind::Text, "t.city"),
    col("store_type", Kind::Text, "t.store_type"),
];

const PRODUCTS: &[Column] = &[
    col("sku", Kind::Text, "t.sku"),
    col("name", Kind::Text, "t.name"),
    col("category", Kind::Text, "t.category"),
    col("subcategory", Kind::Text, "t.subcategory"),
    col("brand", Kind::Text, "t.brand"),
    col("base_price", Kind::Money, "t.base_price"),
    col("base_cost", Kind::Money, "t.base_cost"),
    col("launch_date", Kind::Date, "t.launch_date"),
    col("discontinue_date", Kind::Date, "t.discontinue_date"),
];

const CALENDAR: &[Column] = &[
    col("date", Kind::Date, "t.date"),
    col("is_holiday", Kind::Flag, "t.is_holiday"),
    col("holiday_name", Kind::Text, "t.holiday_name"),
];

const SALES: &[Column] = &[
    col("date", Kind::Date, "t.date"),
    col("store_code", Kind::Text, "s.code"),
    col("sku", Kind::Text, "p.sku"),
    col("quantity", Kind::Int, "t.quantity"),
    col("unit_price", Kind::Money, "t.unit_price"),
    col("total_amount", Kind::Money, "t.total_amount"),
];

const INVENTORY: &[Column] = &[
    col("date", Kind::Date, "t.date"),
    col("store_code", Kind::Text, "s.code"),
    col("sku", Kind::Text, "p.sku"),
    col("on_hand_qty", Kind::Int, "t.on_hand_qty"),
    col("on_order_qty", Kind::Int, "t.on_order_qty"),
    col("is_stockout", Kind::Flag, "t.is_stockout"),
];

const PROMOTIONS: &[Column] = &[
    col("sku", Kind::Text, "p.sku"),
    col("store_code", Kind::Text, "s.code"),
    col("name", Kind::Text, "t.name"),
    col("kind", Kind::Text, "t.kind"),
    col("discount_pct", Kind::Fraction, "t.discount_pct"),
    col("discount_amount", Kind::Money, "t.discount_amount"),
    col("start_date", Kind::Date, "t.start_date"),
    col("end_date", Kind::Date, "t.end_date"),
    col(
        "bundle_member_skus",
        Kind::Skus,
        "t.bundle_member_product_ids",
    ),
];

const PRICES: &[Column] = &[
    col("sku", Kind::Text, "p.sku"),
    col("store_code", Kind::Text, "s.code"),
    col("price", Kind::Money, "t.price"),
    col("valid_from", Kind::Date, "t.valid_from"),
    col("valid_to", Kind::Date, "t.valid_to"),
];

impl Table {
    /// The CSV columns, in order.
    pub(crate) fn columns(self) -> &'static [Column] {
        match self {
            Self::Stores => STORES,
            Self::Products => PRODUCTS,
            Self::Calendar => CALENDAR,
            Self::Sales => SALES,
            Self::Inventory => INVENTORY,
            Self::Promotions => PROMOTIONS,
            Self::Prices => PRICES,
        }
    }

    /// `FROM … ` with the joins the columns need.
    fn from(self) -> &'static str {
        match self {
            Self::Stores => " FROM store t",
            Self::Products => " FROM product t",
            Self::Calendar => " FROM calendar t",
            Self::Sales => {
                " FROM sales_daily t JOIN store s ON s.id = t.store_id \
                 JOIN product p ON p.id = t.product_id"
            }
            Self::Inventory => {
                " FROM inventory_snapshot_daily t JOIN store s ON s.id = t.store_id \
                 JOIN product p ON p.id = t.product_id"
            }
            Self::Promotions => {
                " FROM promotion t JOIN product p ON p.id = t.product_id \
                 LEFT JOIN store s ON s.id = t.store_id"
            }
            Self::Prices => {
                " FROM price_history t JOIN product p ON p.id = t.product_id \
                 LEFT JOIN store s ON s.id = t.store_id"
            }
        }
    }

    /// The natural-key order (a chain-wide row, without store, first).
    fn order(self) -> &'static str {
        match self {
            Self::Stores => " ORDER BY t.code",
            Self::Products => " ORDER BY t.sku",
            Self::Calendar => " ORDER BY t.date",
            Self::Sales | Self::Inventory => " ORDER BY t.date, s.code, p.sku",
            Self::Promotions => " ORDER BY p.sku, COALESCE(s.code, ''), t.name, t.start_date, t.id",
            Self::Prices => " ORDER BY p.sku, COALESCE(s.code, ''), t.valid_from, t.id",
        }
    }

    /// The first and last day columns a date filter applies to: the same
    /// column for daily facts, the period bounds for promotions and
    /// prices (a period overlapping the range is kept).
    fn date_bounds(self) -> Option<(&'static str, &'static str)> {
        match self {
            Self::Stores | Self::Products => None,
            Self::Calendar | Self::Sales | Self::Inventory => Some(("t.date", "t.date")),
            Self::Promotions => Some(("t.start_date", "t.end_date")),
            Self::Prices => Some(("t.valid_from", "t.valid_to")),
        }
    }

    /// Whether the rows have a store and a product to filter on.
    fn has_series(self) -> bool {
        matches!(
            self,
            Self::Sales | Self::Inventory | Self::Promotions | Self::Prices
        )
    }
}

/// Resolved filters of an export.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Filter {
    pub(crate) start: Option<NaiveDate>,
    pub(crate) end: Option<NaiveDate>,
    pub(crate) store_id: Option<i64>,
    pub(crate) product_id: Option<i64>,
}

/// The statement of one export and its binds.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) table: Table,
    pub(crate) sql: String,
    pub(crate) binds: Vec<Bind>,
}

fn select_expr(backend: Backend, column: &Column) -> String {
    match (column.kind, backend) {
        (Kind::Text, _) => column.expr.to_owned(),
        (Kind::Date, Backend::Postgres) => format!("to_char({}, 'YYYY-MM-DD')", column.expr),
        // SQLite keeps dates as `YYYY-MM-DD` text.
        (Kind::Date, Backend::Sqlite) => column.expr.to_owned(),
        _ => format!("CAST({} AS TEXT)", column.expr),
    }
}

/// The statement of `table` under `filter` for `backend`.
pub(crate) fn plan(backend: Backend, table: Table, filter: &Filter) -> Plan {
    let columns: Vec<String> = table
        .columns()
        .iter()
        .map(|column| select_expr(backend, column))
        .collect();
    let mut conditions = Vec::new();
    let mut binds = Vec::new();
    let mut add = |template: &str, bind: Bind| {
        binds.push(bind);
        conditions.push(template.replace('?', &format!("${}", binds.len())));
    };
    if let Some((first, last)) = table.date_bounds() {
        if let Some(start) = filter.start {
            // An open-ended price (`valid_to` NULL) runs past any day.
            let condition = if table == Table::Prices {
                format!("({last} >= ? OR {last} IS NULL)")
            } else {
                format!("{last} >= ?")
            };
            add(&condition, Bind::Date(start));
        }
        if let Some(end) = filter.end {
            add(&format!("{first} <= ?"), Bind::Date(end));
        }
    }
    if table.has_series() {
        if let Some(id) = filter.store_id {
            add("t.store_id = ?", Bind::Int(id));
        }
        if let Some(id) = filter.product_id {
            add("t.product_id = ?", Bind::Int(id));
        }
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    Plan {
        table,
        sql: format!(
            "SELECT {}{}{filter}{}",
            columns.join(", "),
            table.from(),
            table.order()
        ),
        binds,
    }
}

/// Every product's SKU by id (to render promotion bundle members).
pub(crate) async fn skus(db: &Db) -> Result<HashMap<i64, String>, sqlx::Error> {
    let rows: Vec<(i64, String)> = with_db!(db, pool => {
        sqlx::query_as("SELECT CAST(id AS BIGINT), sku FROM product")
            .fetch_all(pool)
            .await
    })?;
    Ok(rows.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_become_numbered_placeholders() {
        let filter = Filter {
            start: NaiveDate::from_ymd_opt(2024, 1, 1),
            end: NaiveDate::from_ymd_opt(2024, 1, 31),
            store_id: Some(3),
            product_id: None,
        };
        let plan = plan(Backend::Postgres, Table::Sales, &filter);
        assert!(plan.sql.contains("WHERE t.date >= $1 AND"));
        assert!(plan.sql.contains("t.date <= $2"));
        assert!(plan.sql.contains("t.store_id = $3"));
        assert!(!plan.sql.contains("t.product_id ="));
        assert!(plan.sql.contains("to_char(t.date, 'YYYY-MM-DD')"));
        assert_eq!(plan.binds.len(), 3);
        let stores = super::plan(Backend::Sqlite, Table::Stores, &filter);
        assert!(!stores.sql.contains("WHERE"), "{}", stores.sql);
        assert!(stores.binds.is_empty());
    }

    #[test]
    fn periods_overlapping_the_range_are_kept() {
        let filter = Filter {
            start: NaiveDate::from_ymd_opt(2024, 1, 1),
            end: NaiveDate::from_ymd_opt(2024, 1, 31),
            ..Filter::default()
        };
        let plan = plan(Backend::Sqlite, Table::Prices, &filter);
        assert!(plan
            .sql
            .contains("(t.valid_to >= $1 OR t.valid_to IS NULL) AND t.valid_from <= $2"));
    }
}
