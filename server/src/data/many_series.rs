//! Loading many series at once, as a batch job trains them: one query per
//! table for a whole group of series instead of one per series and table.
//!
//! [`load_many_series_data`] returns, for every series of the group, the
//! same [`SeriesData`] that [`load_series_data`](super::series_data::load_series_data)
//! returns for it alone: sales rows, product dates, promotions, price
//! history and calendar holidays come from one query each (holidays are the
//! same for every series of the window); the observation tables of the V2
//! frame (inventory, replenishment, returns, exogenous signals) are read
//! per series.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use forecastlab_core::{
    frame::{PriceWindow, PromoKind, Promotion, SeriesData},
    SeriesKey,
};
use futures::TryStreamExt;
use sqlx::Row;

use super::series_data::{fetch_window, load_holidays, load_side_tables, SideTables};
use crate::{db::Db, with_db};

/// Series per query: the bound parameters stay far below every database's
/// limit, and a group's rows stay a few megabytes.
pub const MAX_SERIES_PER_LOAD: usize = 200;

/// `($3, $4), ($5, $6), …`: one `(store_id, product_id)` row value per key,
/// parameters numbered from `first`.
fn key_rows(first: usize, keys: usize) -> String {
    (0..keys)
        .map(|i| format!("(${}, ${})", first + 2 * i, first + 2 * i + 1))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `$3, $4, …`: `count` parameters numbered from `first`.
fn params(first: usize, count: usize) -> String {
    (0..count)
        .map(|i| format!("${}", first + i))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The distinct product ids of `keys`, ascending.
fn product_ids(keys: &[SeriesKey]) -> Vec<i64> {
    let mut ids: Vec<i64> = keys.iter().map(|key| key.product_id).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The sales rows over `[start, end]` of every series in `keys` (at most
/// [`MAX_SERIES_PER_LOAD`]), as [`SeriesData`] without side tables, in the
/// order of `keys`; a series without rows has an empty one.
async fn load_sales(
    db: &Db,
    keys: &[SeriesKey],
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Vec<SeriesData>, sqlx::Error> {
    let sql = format!(
        "SELECT store_id, product_id, date, quantity, \
         CAST(unit_price AS DOUBLE PRECISION) AS unit_price FROM sales_daily \
         WHERE date >= $1 AND date <= $2 AND (store_id, product_id) IN (VALUES {}) \
         ORDER BY store_id, product_id, date",
        key_rows(3, keys.len())
    );
    let position: HashMap<SeriesKey, usize> =
        keys.iter().enumerate().map(|(i, key)| (*key, i)).collect();
    let mut out: Vec<SeriesData> = keys
        .iter()
        .map(|key| SeriesData::new(*key, Vec::new(), Vec::new(), Vec::new()))
        .collect();
    with_db!(db, pool => {
        let mut query = sqlx::query(&sql).bind(start).bind(end);
        for key in keys {
            query = query.bind(key.store_id).bind(key.product_id);
        }
        let mut rows = query.fetch(pool);
        while let Some(row) = rows.try_next().await? {
            let key = SeriesKey {
                store_id: i64::from(row.try_get::<i32, _>(0)?),
                product_id: i64::from(row.try_get::<i32, _>(1)?),
            };
            if let Some(series) = position.get(&key).and_then(|&i| out.get_mut(i)) {
                series.dates.push(row.try_get::<NaiveDate, _>(2)?);
                series.target.push(f64::from(row.try_get::<i32, _>(3)?));
                series
                    .price
                    .push(row.try_get::<Option<f64>, _>(4)?.unwrap_or(f64::NAN));
            }
        }
        Ok::<(), sqlx::Error>(())
    })?;
    Ok(out)
}

/// `product id → (launch_date, discontinue_date)` of the products in `ids`.
async fn load_product_dates(
    db: &Db,
    ids: &[i64],
) -> Result<HashMap<i64, (Option<NaiveDate>, Option<NaiveDate>)>, sqlx::Error> {
    let sql = format!(
        "SELECT id, launch_date, discontinue_date FROM product WHERE id IN ({})",
        params(1, ids.len())
    );
    let rows: Vec<(i32, Option<NaiveDate>, Option<NaiveDate>)> = with_db!(db, pool => {
        let mut query = sqlx::query_as(&sql);
        for id in ids {
            query = query.bind(*id);
        }
        query.fetch_all(pool).await
    })?;
    Ok(rows
        .into_iter()
        .map(|(id, launch, discontinue)| (i64::from(id), (launch, discontinue)))
        .collect())
}

/// True when a row of `store_id` (`None`: chain-wide) applies to `key`.
fn applies(store_id: Option<i32>, key: SeriesKey) -> bool {
    store_id.is_none_or(|store| i64::from(store) == key.store_id)
}

/// Fills `promotions` of every series in `data` (their products' rows for
/// the series' store or chain-wide overlapping `[from, to]`, ordered as the
/// single-series load orders them).
async fn fill_promotions(
    db: &Db,
    data: &mut [SeriesData],
    products: &[i64],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(), sqlx::Error> {
    let n = products.len();
    let sql = format!(
        "SELECT product_id, store_id, start_date, end_date, kind, \
         CAST(discount_pct AS DOUBLE PRECISION) AS discount_pct \
         FROM promotion WHERE product_id IN ({}) AND start_date <= ${} AND end_date >= ${} \
         ORDER BY start_date, id",
        params(1, n),
        n + 2,
        n + 1
    );
    type PromotionRow = (i32, Option<i32>, NaiveDate, NaiveDate, String, Option<f64>);
    let rows: Vec<PromotionRow> = fetch_window(db, &sql, products, from, to).await?;
    for series in data.iter_mut() {
        series.promotions = rows
            .iter()
            .filter(|row| i64::from(row.0) == series.key.product_id && applies(row.1, series.key))
            .filter_map(|(_, _, start, end, kind, discount_pct)| {
                Some(Promotion {
                    start: *start,
                    end: *end,
                    kind: PromoKind::parse(kind)?,
                    discount_pct: *discount_pct,
                })
            })
            .collect();
    }
    Ok(())
}

/// Fills `price_history` of every series in `data` (their products' rows
/// for the series' store or chain-wide valid somewhere in `[from, to]`,
/// ordered as the single-series load orders them).
async fn fill_price_history(
    db: &Db,
    data: &mut [SeriesData],
    products: &[i64],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(), sqlx::Error> {
    let n = products.len();
    let sql = format!(
        "SELECT product_id, store_id, valid_from, valid_to, \
         CAST(price AS DOUBLE PRECISION) AS price FROM price_history \
         WHERE product_id IN ({}) AND valid_from <= ${} \
         AND (valid_to IS NULL OR valid_to >= ${}) ORDER BY valid_from, id",
        params(1, n),
        n + 2,
        n + 1
    );
    type PriceRow = (i32, Option<i32>, NaiveDate, Option<NaiveDate>, f64);
    let rows: Vec<PriceRow> = fetch_window(db, &sql, products, from, to).await?;
    for series in data.iter_mut() {
        series.price_history = rows
            .iter()
            .filter(|row| i64::from(row.0) == series.key.product_id && applies(row.1, series.key))
            .map(|&(_, store_id, valid_from, valid_to, price)| PriceWindow {
                valid_from,
                valid_to,
                price,
                store_specific: store_id.is_some(),
            })
            .collect();
    }
    Ok(())
}

/// Loads every series of `keys` over `[start, end]` with the chosen side
/// tables (up to `end`: a training window), in the order of `keys`; a key
/// named twice is loaded once. Equal, series by series, to
/// [`load_series_data`](super::series_data::load_series_data) with
/// `side_end = end`; a series without sales rows comes back empty.
pub async fn load_many_series_data(
    db: &Db,
    keys: &[SeriesKey],
    start: NaiveDate,
    end: NaiveDate,
    tables: SideTables,
) -> Result<Vec<SeriesData>, sqlx::Error> {
    let mut seen = HashSet::new();
    let keys: Vec<SeriesKey> = keys.iter().copied().filter(|k| seen.insert(*k)).collect();
    let mut out = Vec::with_capacity(keys.len());
    let holidays = if tables.holidays {
        Some(load_holidays(db, start, end).await?)
    } else {
        None
    };
    for group in keys.chunks(MAX_SERIES_PER_LOAD) {
        let mut data = load_sales(db, group, start, end).await?;
        let products = product_ids(group);
        if tables.product {
            let dates = load_product_dates(db, &products).await?;
            for series in &mut data {
                let (launch, discontinue) = dates
                    .get(&series.key.product_id)
                    .copied()
                    .unwrap_or_default();
                series.launch_date = launch;
                series.discontinue_date = discontinue;
            }
        }
        if tables.promotions {
            fill_promotions(db, &mut data, &products, start, end).await?;
        }
        if tables.price_history {
            fill_price_history(db, &mut data, &products, start, end).await?;
        }
        if let Some(holidays) = &holidays {
            for series in &mut data {
                series.holidays.clone_from(holidays);
            }
        }
        // The observation tables of the V2 frame, one series at a time.
        let observations = SideTables {
            inventory: tables.inventory,
            replenishment: tables.replenishment,
            returns: tables.returns,
            exogenous: tables.exogenous,
            ..SideTables::none()
        };
        if observations != SideTables::none() {
            for series in &mut data {
                load_side_tables(db, series, start, end, end, observations).await?;
            }
        }
        out.extend(data);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_rows_number_two_parameters_per_key() {
        assert_eq!(key_rows(3, 2), "($3, $4), ($5, $6)");
        assert_eq!(key_rows(1, 1), "($1, $2)");
    }

    #[test]
    fn params_number_consecutively() {
        assert_eq!(params(3, 3), "$3, $4, $5");
    }

    #[test]
    fn product_ids_are_distinct_and_sorted() {
        let key = |store_id, product_id| SeriesKey {
            store_id,
            product_id,
        };
        assert_eq!(product_ids(&[key(1, 5), key(2, 3), key(1, 3)]), vec![3, 5]);
    }

    #[test]
    fn chain_wide_rows_apply_to_every_store() {
        let key = SeriesKey {
            store_id: 4,
            product_id: 1,
        };
        assert!(applies(None, key));
        assert!(applies(Some(4), key));
        assert!(!applies(Some(5), key));
    }
}
