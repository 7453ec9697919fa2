//! SQL of the analytics slice. Money is summed in SQL as exact integer
//! cents on both backends (PostgreSQL: `SUM` over NUMERIC; SQLite: `SUM` of
//! per-row rounded cents) so totals are exact to the cent. Filters come
//! from fixed fragments; values are always bound.

use chrono::NaiveDate;
use sqlx::Row;

use super::schemas::{Dimension, InventoryItem};
use crate::{
    db::{Backend, Db},
    with_db,
};

/// Aggregates of a set of rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub(crate) revenue_cents: i64,
    pub(crate) units: i64,
    pub(crate) transactions: i64,
}

impl std::ops::AddAssign for Totals {
    fn add_assign(&mut self, other: Self) {
        self.revenue_cents += other.revenue_cents;
        self.units += other.units;
        self.transactions += other.transactions;
    }
}

/// One drilldown group.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Group {
    pub(crate) value: String,
    pub(crate) id: Option<i64>,
    pub(crate) totals: Totals,
}

/// Top groups plus the count and revenue of all groups.
#[derive(Debug, Default)]
pub(crate) struct Drilldown {
    pub(crate) groups: Vec<Group>,
    pub(crate) total_items: i64,
    pub(crate) grand_revenue_cents: i64,
}

/// A bound value.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Date(NaiveDate),
    Int(i64),
    Text(String),
}

macro_rules! bind_all {
    ($query:expr, $binds:expr) => {{
        let mut query = $query;
        for bind in $binds {
            query = match bind {
                Bind::Date(value) => query.bind(*value),
                Bind::Int(value) => query.bind(*value),
                Bind::Text(value) => query.bind(value.clone()),
            };
        }
        query
    }};
}

/// The row filter shared by kpis, drilldowns and timeseries.
#[derive(Debug, Clone, Default)]
pub(crate) struct SalesFilter {
    pub(crate) start: Option<NaiveDate>,
    pub(crate) end: Option<NaiveDate>,
    pub(crate) store_id: Option<i64>,
    pub(crate) product_id: Option<i64>,
    pub(crate) category: Option<String>,
}

impl SalesFilter {
    /// `(join, where, binds)`; the join is needed only for `category`.
    fn sql(&self) -> (&'static str, String, Vec<Bind>) {
        let mut parts = Vec::new();
        let mut binds = Vec::new();
        let mut add = |fragment: &str, bind: Bind| {
            binds.push(bind);
            parts.push(format!("{fragment} ${}", binds.len()));
        };
        if let Some(start) = self.start {
            add("s.date >=", Bind::Date(start));
        }
        if let Some(end) = self.end {
            add("s.date <=", Bind::Date(end));
        }
        if let Some(id) = self.store_id {
            add("s.store_id =", Bind::Int(id));
        }
        if let Some(id) = self.product_id {
            add("s.product_id =", Bind::Int(id));
        }
        let join = match &self.category {
            Some(category) => {
                add("p.category =", Bind::Text(category.clone()));
                " JOIN product p ON p.id = s.product_id"
            }
            None => "",
        };
        let filter = if parts.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", parts.join(" AND "))
        };
        (join, filter, binds)
    }
}

/// `SUM(total_amount)` as exact BIGINT cents.
pub(crate) fn revenue_cents_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => "CAST(COALESCE(SUM(s.total_amount), 0) * 100 AS BIGINT)",
        Backend::Sqlite => "COALESCE(SUM(CAST(ROUND(s.total_amount * 100) AS INTEGER)), 0)",
    }
}

const UNITS_SQL: &str = "CAST(COALESCE(SUM(s.quantity), 0) AS BIGINT)";

/// The KPI statement and its binds.
pub(crate) fn kpi_sql(backend: Backend, filter: &SalesFilter) -> (String, Vec<Bind>) {
    let (join, filter, binds) = filter.sql();
    (
        format!(
            "SELECT {}, {UNITS_SQL}, COUNT(*) FROM sales_daily s{join}{filter}",
            revenue_cents_sql(backend)
        ),
        binds,
    )
}

/// Totals of the filtered rows.
pub(crate) async fn kpis(db: &Db, filter: &SalesFilter) -> Result<Totals, sqlx::Error> {
    let (sql, binds) = kpi_sql(db.backend(), filter);
    with_db!(db, pool => {
        let row = bind_all!(sqlx::query(&sql), &binds).fetch_one(pool).await?;
        Ok(Totals {
            revenue_cents: row.try_get(0)?,
            units: row.try_get(1)?,
            transactions: row.try_get(2)?,
        })
    })
}

/// The drilldown statement: aggregate the fact rows by their own key
/// first, then attach (and for region/category regroup by) the dimension,
/// then rank; `COUNT(*) OVER ()` and `SUM(rev) OVER ()` see every group
/// before the LIMIT.
pub(crate) fn drilldown_sql(
    backend: Backend,
    dimension: Dimension,
    filter: &SalesFilter,
    max_items: i64,
) -> (String, Vec<Bind>) {
    let (join, filter, mut binds) = filter.sql();
    let key = match dimension {
        Dimension::Store | Dimension::Region => "s.store_id",
        Dimension::Product | Dimension::Category => "s.product_id",
        Dimension::Date => "s.date",
    };
    let inner = format!(
        "SELECT {key} AS k, {} AS rev, {UNITS_SQL} AS units, COUNT(*) AS tx \
         FROM sales_daily s{join}{filter} GROUP BY {key}",
        revenue_cents_sql(backend)
    );
    let regroup = |column: &str, table: &str, alias: &str| {
        format!(
            "SELECT {alias}.{column} AS value, CAST(NULL AS BIGINT) AS id, \
             CAST(SUM(a.rev) AS BIGINT) AS rev, CAST(SUM(a.units) AS BIGINT) AS units, \
             CAST(SUM(a.tx) AS BIGINT) AS tx \
             FROM ({inner}) a JOIN {table} {alias} ON {alias}.id = a.k \
             WHERE {alias}.{column} IS NOT NULL GROUP BY {alias}.{column}"
        )
    };
    let groups = match dimension {
        Dimension::Store => format!(
            "SELECT st.code AS value, CAST(st.id AS BIGINT) AS id, a.rev, a.units, a.tx \
             FROM ({inner}) a JOIN store st ON st.id = a.k"
        ),
        Dimension::Product => format!(
            "SELECT p.sku AS value, CAST(p.id AS BIGINT) AS id, a.rev, a.units, a.tx \
             FROM ({inner}) a JOIN product p ON p.id = a.k"
        ),
        Dimension::Region => regroup("region", "store", "st"),
        Dimension::Category => regroup("category", "product", "p"),
        Dimension::Date => format!(
            "SELECT CAST(a.k AS TEXT) AS value, CAST(NULL AS BIGINT) AS id, a.rev, a.units, a.tx \
             FROM ({inner}) a"
        ),
    };
    binds.push(Bind::Int(max_items));
    let sql = format!(
        "SELECT g.value, g.id, g.rev, g.units, g.tx, COUNT(*) OVER () AS total_items, \
         CAST(SUM(g.rev) OVER () AS BIGINT) AS grand \
         FROM ({groups}) g ORDER BY g.rev DESC, g.value ASC LIMIT ${}",
        binds.len()
    );
    (sql, binds)
}

/// Groups by `dimension`, top `max_items` by revenue.
pub(crate) async fn drilldown(
    db: &Db,
    dimension: Dimension,
    filter: &SalesFilter,
    max_items: i64,
) -> Result<Drilldown, sqlx::Error> {
    let (sql, binds) = drilldown_sql(db.backend(), dimension, filter, max_items);
    with_db!(db, pool => {
        let rows = bind_all!(sqlx::query(&sql), &binds).fetch_all(pool).await?;
        let mut out = Drilldown::default();
        for row in rows {
            out.total_items = row.try_get(5)?;
            out.grand_revenue_cents = row.try_get(6)?;
            out.groups.push(Group {
                value: row.try_get(0)?,
                id: row.try_get(1)?,
                totals: Totals {
                    revenue_cents: row.try_get(2)?,
                    units: row.try_get(3)?,
                    transactions: row.try_get(4)?,
                },
            });
        }
        Ok(out)
    })
}

/// Per-day totals of the filtered rows, ascending.
pub(crate) async fn daily(
    db: &Db,
    filter: &SalesFilter,
) -> Result<Vec<(NaiveDate, Totals)>, sqlx::Error> {
    let (join, filter, binds) = filter.sql();
    let sql = format!(
        "SELECT s.date, {}, {UNITS_SQL}, COUNT(*) FROM sales_daily s{join}{filter} \
         GROUP BY s.date ORDER BY s.date",
        revenue_cents_sql(db.backend())
    );
    with_db!(db, pool => {
        let rows = bind_all!(sqlx::query(&sql), &binds).fetch_all(pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push((
                row.try_get(0)?,
                Totals {
                    revenue_cents: row.try_get(1)?,
                    units: row.try_get(2)?,
                    transactions: row.try_get(3)?,
                },
            ));
        }
        Ok(out)
    })
}

/// The latest snapshot per (store, product), ordered by store, product.
/// PostgreSQL uses `DISTINCT ON`; SQLite a `ROW_NUMBER()` window.
pub(crate) async fn inventory_latest(
    db: &Db,
    store_id: Option<i64>,
    product_id: Option<i64>,
) -> Result<Vec<InventoryItem>, sqlx::Error> {
    let mut parts = Vec::new();
    let mut binds = Vec::new();
    if let Some(id) = store_id {
        binds.push(Bind::Int(id));
        parts.push(format!("store_id = ${}", binds.len()));
    }
    if let Some(id) = product_id {
        binds.push(Bind::Int(id));
        parts.push(format!("product_id = ${}", binds.len()));
    }
    let filter = if parts.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", parts.join(" AND "))
    };
    const COLUMNS: &str =
        "CAST(store_id AS BIGINT) AS store_id, CAST(product_id AS BIGINT) AS product_id, \
         date, CAST(on_hand_qty AS BIGINT) AS on_hand_qty, \
         CAST(on_order_qty AS BIGINT) AS on_order_qty, is_stockout";
    let sql = match db.backend() {
        Backend::Postgres => format!(
            "SELECT DISTINCT ON (store_id, product_id) {COLUMNS} FROM inventory_snapshot_daily{filter} \
             ORDER BY store_id, product_id, date DESC"
        ),
        Backend::Sqlite => format!(
            "SELECT store_id, product_id, date, on_hand_qty, on_order_qty, is_stockout FROM \
             (SELECT {COLUMNS}, ROW_NUMBER() OVER (PARTITION BY store_id, product_id \
             ORDER BY date DESC) AS rn FROM inventory_snapshot_daily{filter}) latest \
             WHERE rn = 1 ORDER BY store_id, product_id"
        ),
    };
    with_db!(db, pool => {
        let rows = bind_all!(sqlx::query(&sql), &binds).fetch_all(pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(InventoryItem {
                store_id: row.try_get(0)?,
                product_id: row.try_get(1)?,
                date: row.try_get(2)?,
                on_hand_qty: row.try_get(3)?,
                on_order_qty: row.try_get(4)?,
                is_stockout: row.try_get(5)?,
            });
        }
        Ok(out)
    })
}
