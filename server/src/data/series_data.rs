//! Loading everything a series' features read: the sales rows plus the side
//! tables (product lifecycle dates, promotions, price history, calendar
//! holidays, inventory snapshots, replenishment events, returns, exogenous
//! signals) as a [`SeriesData`].
//!
//! Rows are loaded for `[start, end]`; side tables for `[start, side_end]`,
//! where `side_end` may lie after `end` so a forecast sees planned
//! promotions, listed prices and calendar holidays of its future window.
//! Inventory, replenishment and returns are observations and are never
//! loaded after `end`.

use chrono::NaiveDate;
use forecastlab_core::{
    frame::{
        ExogenousSeries, InventoryDay, PriceWindow, PromoKind, Promotion, Replenishment, ReturnDay,
        SeriesData,
    },
    SeriesKey,
};
use sqlx::{postgres::PgRow, sqlite::SqliteRow, FromRow, Row};

use super::series::load_series;
use crate::{db::Db, with_db};

/// Which side tables to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(clippy::struct_excessive_bools)]
pub struct SideTables {
    /// `product.launch_date` / `discontinue_date`.
    pub product: bool,
    /// `promotion` rows of the product for the store or chain-wide.
    pub promotions: bool,
    /// `price_history` rows of the product for the store or chain-wide.
    pub price_history: bool,
    /// `calendar.is_holiday` dates.
    pub holidays: bool,
    /// `inventory_snapshot_daily` rows.
    pub inventory: bool,
    /// `replenishment_event` rows.
    pub replenishment: bool,
    /// `sales_returns` per day.
    pub returns: bool,
    /// `exogenous_signal` values (store-specific wins over global).
    pub exogenous: bool,
}

impl SideTables {
    /// Every side table.
    pub fn all() -> Self {
        Self {
            product: true,
            promotions: true,
            price_history: true,
            holidays: true,
            inventory: true,
            replenishment: true,
            returns: true,
            exogenous: true,
        }
    }

    /// None.
    pub fn none() -> Self {
        Self::default()
    }
}

/// Loads one series' rows over `[start, end]` and the chosen side tables
/// over `[start, side_end]` (observations — inventory, replenishment,
/// returns — only up to `end`). `side_end` below `end` is treated as `end`.
pub async fn load_series_data(
    db: &Db,
    key: SeriesKey,
    start: NaiveDate,
    end: NaiveDate,
    side_end: NaiveDate,
    tables: SideTables,
) -> Result<SeriesData, sqlx::Error> {
    let sales = load_series(db, key, start, end).await?;
    let mut data = SeriesData::new(key, sales.dates, sales.quantity, sales.unit_price);
    load_side_tables(db, &mut data, start, end, side_end.max(end), tables).await?;
    Ok(data)
}

/// Fills the chosen side tables of `data` (see [`load_series_data`]).
pub async fn load_side_tables(
    db: &Db,
    data: &mut SeriesData,
    start: NaiveDate,
    end: NaiveDate,
    side_end: NaiveDate,
    tables: SideTables,
) -> Result<(), sqlx::Error> {
    let key = data.key;
    if tables.product {
        let (launch, discontinue) = load_product_dates(db, key.product_id).await?;
        data.launch_date = launch;
        data.discontinue_date = discontinue;
    }
    if tables.promotions {
        data.promotions = load_promotions(db, key, start, side_end).await?;
    }
    if tables.price_history {
        data.price_history = load_price_history(db, key, start, side_end).await?;
    }
    if tables.holidays {
        data.holidays = load_holidays(db, start, side_end).await?;
    }
    if tables.inventory {
        data.inventory = load_inventory(db, key, start, end).await?;
    }
    if tables.replenishment {
        data.replenishments = load_replenishments(db, key, None, end).await?;
    }
    if tables.returns {
        data.returns = load_returns(db, key, start, end).await?;
    }
    if tables.exogenous {
        data.exogenous = load_exogenous(db, key.store_id, start, side_end).await?;
    }
    Ok(())
}

/// `(launch_date, discontinue_date)` of a product (both `None` when the
/// product does not exist).
pub async fn load_product_dates(
    db: &Db,
    product_id: i64,
) -> Result<(Option<NaiveDate>, Option<NaiveDate>), sqlx::Error> {
    const SQL: &str = "SELECT launch_date, discontinue_date FROM product WHERE id = $1";
    with_db!(db, pool => {
        let row = sqlx::query(SQL).bind(product_id).fetch_optional(pool).await?;
        match row {
            Some(row) => Ok((
                row.try_get::<Option<NaiveDate>, _>(0)?,
                row.try_get::<Option<NaiveDate>, _>(1)?,
            )),
            None => Ok((None, None)),
        }
    })
}

/// `product id → category` of every product with a category.
pub async fn load_categories(
    db: &Db,
) -> Result<std::collections::HashMap<i64, String>, sqlx::Error> {
    const SQL: &str = "SELECT id, category FROM product WHERE category IS NOT NULL";
    with_db!(db, pool => {
        let rows = sqlx::query(SQL).fetch_all(pool).await?;
        rows.iter()
            .map(|row| {
                Ok((
                    i64::from(row.try_get::<i32, _>(0)?),
                    row.try_get::<String, _>(1)?,
                ))
            })
            .collect()
    })
}

/// Promotions of the product for the store or chain-wide overlapping
/// `[from, to]`. Unknown kinds are skipped.
pub async fn load_promotions(
    db: &Db,
    key: SeriesKey,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Promotion>, sqlx::Error> {
    const SQL: &str = "SELECT start_date, end_date, kind, \
         CAST(discount_pct AS DOUBLE PRECISION) AS discount_pct \
         FROM promotion WHERE product_id = $1 AND (store_id = $2 OR store_id IS NULL) \
         AND start_date <= $4 AND end_date >= $3 ORDER BY start_date, id";
    let rows: Vec<(NaiveDate, NaiveDate, String, Option<f64>)> =
        fetch_window(db, SQL, &[key.product_id, key.store_id], from, to).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(start, end, kind, discount_pct)| {
            Some(Promotion {
                start,
                end,
                kind: PromoKind::parse(&kind)?,
                discount_pct,
            })
        })
        .collect())
}

/// `price_history` rows of the product for the store or chain-wide valid
/// somewhere in `[from, to]`.
pub async fn load_price_history(
    db: &Db,
    key: SeriesKey,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<PriceWindow>, sqlx::Error> {
    const SQL: &str = "SELECT valid_from, valid_to, CAST(price AS DOUBLE PRECISION) AS price, \
         CAST(CASE WHEN store_id IS NULL THEN 0 ELSE 1 END AS BIGINT) AS specific \
         FROM price_history WHERE product_id = $1 AND (store_id = $2 OR store_id IS NULL) \
         AND valid_from <= $4 AND (valid_to IS NULL OR valid_to >= $3) ORDER BY valid_from, id";
    let rows: Vec<(NaiveDate, Option<NaiveDate>, f64, i64)> =
        fetch_window(db, SQL, &[key.product_id, key.store_id], from, to).await?;
    Ok(rows
        .into_iter()
        .map(|(valid_from, valid_to, price, specific)| PriceWindow {
            valid_from,
            valid_to,
            price,
            store_specific: specific == 1,
        })
        .collect())
}

/// Calendar holidays in `[from, to]`, ascending.
pub async fn load_holidays(
    db: &Db,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<NaiveDate>, sqlx::Error> {
    const SQL: &str =
        "SELECT date FROM calendar WHERE is_holiday AND date >= $1 AND date <= $2 ORDER BY date";
    with_db!(db, pool => {
        sqlx::query_scalar::<_, NaiveDate>(SQL).bind(from).bind(to).fetch_all(pool).await
    })
}

/// Inventory snapshots of the series in `[from, to]`, ascending.
pub async fn load_inventory(
    db: &Db,
    key: SeriesKey,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<InventoryDay>, sqlx::Error> {
    const SQL: &str = "SELECT date, CAST(on_hand_qty AS DOUBLE PRECISION) AS on_hand, is_stockout \
         FROM inventory_snapshot_daily WHERE store_id = $1 AND product_id = $2 \
         AND date >= $3 AND date <= $4 ORDER BY date";
    let rows: Vec<(NaiveDate, f64, bool)> =
        fetch_window(db, SQL, &[key.store_id, key.product_id], from, to).await?;
    Ok(rows
        .into_iter()
        .map(|(date, on_hand, is_stockout)| InventoryDay {
            date,
            on_hand,
            is_stockout,
        })
        .collect())
}

/// Replenishment events of the series dated `<= to` (and `>= from` when
/// given), ascending.
pub async fn load_replenishments(
    db: &Db,
    key: SeriesKey,
    from: Option<NaiveDate>,
    to: NaiveDate,
) -> Result<Vec<Replenishment>, sqlx::Error> {
    const SQL: &str = "SELECT date, CAST(received_qty AS DOUBLE PRECISION) AS received \
         FROM replenishment_event WHERE store_id = $1 AND product_id = $2 \
         AND date >= $3 AND date <= $4 ORDER BY date, id";
    let from = from
        .or_else(|| NaiveDate::from_ymd_opt(1900, 1, 1))
        .unwrap_or_default();
    let rows: Vec<(NaiveDate, f64)> =
        fetch_window(db, SQL, &[key.store_id, key.product_id], from, to).await?;
    Ok(rows
        .into_iter()
        .map(|(date, received_qty)| Replenishment { date, received_qty })
        .collect())
}

/// Returned units per day of the series in `[from, to]`, ascending.
pub async fn load_returns(
    db: &Db,
    key: SeriesKey,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<ReturnDay>, sqlx::Error> {
    const SQL: &str = "SELECT date, CAST(SUM(return_quantity) AS DOUBLE PRECISION) AS qty \
         FROM sales_returns WHERE store_id = $1 AND product_id = $2 \
         AND date >= $3 AND date <= $4 GROUP BY date ORDER BY date";
    let rows: Vec<(NaiveDate, f64)> =
        fetch_window(db, SQL, &[key.store_id, key.product_id], from, to).await?;
    Ok(rows
        .into_iter()
        .map(|(date, quantity)| ReturnDay { date, quantity })
        .collect())
}

/// Exogenous signals in `[from, to]` for a store: its own value where
/// recorded, else the global one; one series per signal name.
pub async fn load_exogenous(
    db: &Db,
    store_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<ExogenousSeries>, sqlx::Error> {
    const SQL: &str = "SELECT signal_name, date, value, \
         CAST(CASE WHEN store_id IS NULL THEN 0 ELSE 1 END AS BIGINT) AS specific \
         FROM exogenous_signal WHERE (store_id = $1 OR store_id IS NULL) \
         AND date >= $2 AND date <= $3 ORDER BY signal_name, date";
    let rows: Vec<(String, NaiveDate, f64, i64)> =
        fetch_window(db, SQL, &[store_id], from, to).await?;
    let mut out: Vec<ExogenousSeries> = Vec::new();
    for (name, date, value, specific) in rows {
        if out.last().is_none_or(|last| last.name != name) {
            out.push(ExogenousSeries {
                name,
                points: Vec::new(),
            });
        }
        if let Some(series) = out.last_mut() {
            match series.points.last_mut() {
                // Same date twice: the store's own value wins.
                Some(last) if last.0 == date => {
                    if specific == 1 {
                        last.1 = value;
                    }
                }
                _ => series.points.push((date, value)),
            }
        }
    }
    Ok(out)
}

/// Runs `sql` bound to `ids` then `from` and `to`, decoding each row as the
/// tuple `T` (columns by position).
pub(super) async fn fetch_window<T>(
    db: &Db,
    sql: &str,
    ids: &[i64],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<T>, sqlx::Error>
where
    T: for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin,
{
    with_db!(db, pool => {
        let mut query = sqlx::query_as::<_, T>(sql);
        for id in ids {
            query = query.bind(*id);
        }
        query.bind(from).bind(to).fetch_all(pool).await
    })
}
