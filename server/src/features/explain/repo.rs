//! SQL of the explain slice: the context signals of a forecast and the
//! `forecast_explanation` rows.

use chrono::{Days, NaiveDate};
use forecastlab_core::SeriesKey;
use sqlx::types::Json;

use super::{compose::Signals, schemas::ForecastExplanation};
use crate::{db::Db, with_db};

/// Reads the stockout, promotion, launch and holiday signals of a series
/// forecast from `as_of` for `forecast_date`.
pub async fn signals(
    db: &Db,
    key: SeriesKey,
    as_of: NaiveDate,
    forecast_date: NaiveDate,
) -> Result<Signals, sqlx::Error> {
    let from = as_of
        .checked_sub_days(Days::new(super::compose::LOOKBACK_DAYS))
        .unwrap_or(as_of);
    with_db!(db, pool => {
        let (snapshots, stockouts): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN is_stockout THEN 1 ELSE 0 END), 0) \
             FROM inventory_snapshot_daily \
             WHERE store_id = $1 AND product_id = $2 AND date >= $3 AND date <= $4",
        )
        .bind(key.store_id)
        .bind(key.product_id)
        .bind(from)
        .bind(as_of)
        .fetch_one(pool)
        .await?;
        let promotions: Vec<(NaiveDate, NaiveDate)> = sqlx::query_as(
            "SELECT start_date, end_date FROM promotion \
             WHERE product_id = $1 AND (store_id = $2 OR store_id IS NULL) \
             AND start_date <= $3 AND end_date >= $4",
        )
        .bind(key.product_id)
        .bind(key.store_id)
        .bind(as_of)
        .bind(from)
        .fetch_all(pool)
        .await?;
        let launch: Option<Option<NaiveDate>> =
            sqlx::query_scalar("SELECT launch_date FROM product WHERE id = $1")
                .bind(key.product_id)
                .fetch_optional(pool)
                .await?;
        let holiday: Option<(bool, Option<String>)> = sqlx::query_as(
            "SELECT is_holiday, holiday_name FROM calendar WHERE date = $1",
        )
        .bind(forecast_date)
        .fetch_optional(pool)
        .await?;
        Ok(Signals {
            snapshot_days: usize::try_from(snapshots).unwrap_or(0),
            stockout_days: usize::try_from(stockouts).unwrap_or(0),
            promotions: promotions.len(),
            promotions_active: promotions
                .iter()
                .filter(|(start, end)| *start <= as_of && as_of <= *end)
                .count(),
            days_since_launch: launch.flatten().map(|launch| (as_of - launch).num_days()),
            holiday: holiday.and_then(|(is_holiday, name)| is_holiday.then_some(name)),
        })
    })
}

/// Stores an explanation.
pub async fn insert(db: &Db, e: &ForecastExplanation) -> Result<(), sqlx::Error> {
    let drivers = serde_json::to_value(&e.drivers).unwrap_or_default();
    let codes = serde_json::to_value(&e.reason_codes).unwrap_or_default();
    let caveats = serde_json::to_value(&e.caveats).unwrap_or_default();
    let step = i64::try_from(e.step).unwrap_or(1);
    with_db!(db, pool => {
        sqlx::query(
            "INSERT INTO forecast_explanation (explanation_id, run_id, job_id, store_id, \
             product_id, model_type, method, as_of_date, forecast_value, confidence, drivers, \
             reason_codes, caveats, agent_summary, step, forecast_date, base_value, created_at, \
             updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
             $18, $18)",
        )
        .bind(&e.explanation_id)
        .bind(e.run_id.as_deref())
        .bind(e.job_id.as_deref())
        .bind(e.store_id)
        .bind(e.product_id)
        .bind(&e.model_type)
        .bind(&e.method)
        .bind(e.as_of_date)
        .bind(e.forecast_value)
        .bind(&e.confidence)
        .bind(Json(&drivers))
        .bind(Json(&codes))
        .bind(Json(&caveats))
        .bind(&e.agent_summary)
        .bind(step)
        .bind(e.forecast_date)
        .bind(e.base_value)
        .bind(e.generated_at)
        .execute(pool)
        .await
        .map(|_| ())
    })
}
