//! Loading daily sales series: one (store, product) pair or many at once,
//! as contiguous columns ready for the numeric code.

use chrono::NaiveDate;
use forecastlab_core::SeriesKey;
use futures::TryStreamExt;
use sqlx::Row;

use crate::{db::Db, with_db};

/// One series' rows in date order (no gap filling: a day without a
/// `sales_daily` row is absent).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SalesSeries {
    /// Dates, ascending.
    pub dates: Vec<NaiveDate>,
    /// Units sold per row.
    pub quantity: Vec<f64>,
    /// Unit price per row; NaN where the row has no price (the price
    /// features treat it as missing).
    pub unit_price: Vec<f64>,
}

impl SalesSeries {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.dates.len()
    }

    /// True when the series has no rows.
    pub fn is_empty(&self) -> bool {
        self.dates.is_empty()
    }

    fn push(&mut self, date: NaiveDate, quantity: f64, unit_price: f64) {
        self.dates.push(date);
        self.quantity.push(quantity);
        self.unit_price.push(unit_price);
    }
}

const SERIES_SQL: &str =
    "SELECT date, quantity, CAST(unit_price AS DOUBLE PRECISION) AS unit_price \
     FROM sales_daily WHERE store_id = $1 AND product_id = $2 AND date >= $3 AND date <= $4 \
     ORDER BY date";

/// Loads one series over `[start, end]` (inclusive).
pub async fn load_series(
    db: &Db,
    key: SeriesKey,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<SalesSeries, sqlx::Error> {
    with_db!(db, pool => {
        let mut series = SalesSeries::default();
        let mut rows = sqlx::query(SERIES_SQL)
            .bind(key.store_id)
            .bind(key.product_id)
            .bind(start)
            .bind(end)
            .fetch(pool);
        while let Some(row) = rows.try_next().await? {
            series.push(
                row.try_get::<NaiveDate, _>(0)?,
                f64::from(row.try_get::<i32, _>(1)?),
                row.try_get::<Option<f64>, _>(2)?.unwrap_or(f64::NAN),
            );
        }
        Ok(series)
    })
}

const MANY_SQL: &str = "SELECT store_id, product_id, date, quantity, \
     CAST(unit_price AS DOUBLE PRECISION) AS unit_price \
     FROM sales_daily WHERE date >= $1 AND date <= $2 \
     ORDER BY store_id, product_id, date";

/// Loads every series with rows in `[start, end]`, or only those in `keys`
/// when given, sorted by key. One streamed query, grouped on the fly.
pub async fn load_many(
    db: &Db,
    keys: Option<&[SeriesKey]>,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Vec<(SeriesKey, SalesSeries)>, sqlx::Error> {
    let wanted: Option<std::collections::HashSet<SeriesKey>> =
        keys.map(|keys| keys.iter().copied().collect());
    with_db!(db, pool => {
        let mut out: Vec<(SeriesKey, SalesSeries)> = Vec::new();
        let mut rows = sqlx::query(MANY_SQL).bind(start).bind(end).fetch(pool);
        while let Some(row) = rows.try_next().await? {
            let key = SeriesKey {
                store_id: i64::from(row.try_get::<i32, _>(0)?),
                product_id: i64::from(row.try_get::<i32, _>(1)?),
            };
            if wanted.as_ref().is_some_and(|wanted| !wanted.contains(&key)) {
                continue;
            }
            if out.last().is_none_or(|(last, _)| *last != key) {
                out.push((key, SalesSeries::default()));
            }
            if let Some((_, series)) = out.last_mut() {
                series.push(
                    row.try_get::<NaiveDate, _>(2)?,
                    f64::from(row.try_get::<i32, _>(3)?),
                    row.try_get::<Option<f64>, _>(4)?.unwrap_or(f64::NAN),
                );
            }
        }
        Ok(out)
    })
}
