//! Phase-2 enrichment of already-seeded data: product lifecycle dates and
//! stages, replenishment events, exogenous signals and returns.
//!
//! Idempotent: a row whose key is already present — (date, store, product)
//! for replenishment and returns, (date, signal, store) for exogenous
//! signals — is not written again and is counted in `skipped`.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use forecastlab_core::lifecycle::LifecycleConfig;
use futures::TryStreamExt;
use rand::Rng;
use sqlx::Row;

use super::{
    begin,
    config::{ReplenishmentConfig, ReturnsConfig},
    dimensions, engine,
    random::{stream_rng, Stream},
    rows::{Dates, ExogenousRow, ReturnRow},
    writer::Landing,
    SeedError,
};
use crate::db::Db;

/// Inputs of one enrichment run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Phase2Options {
    /// Seed of the generator.
    pub seed: u64,
    /// Chance that a sale with units is (partly) returned.
    pub returns_probability: f64,
    /// Chance that a product gets a discontinue date.
    pub discontinue_probability: f64,
}

/// Rows written and skipped per table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Phase2Outcome {
    /// Products whose lifecycle was updated.
    pub products_updated: u64,
    /// Written rows by table name.
    pub created: BTreeMap<&'static str, u64>,
    /// Rows already present by table name.
    pub skipped: BTreeMap<&'static str, u64>,
}

const CHUNK: usize = 2_000;

type Key = (NaiveDate, i32, i32);

async fn keys(db: &Db, sql: &str) -> Result<HashSet<Key>, sqlx::Error> {
    crate::with_db!(db, pool => {
        let rows = sqlx::query(sql).fetch_all(pool).await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    })
}

/// Runs the enrichment; 422 ([`SeedError::Unprocessable`]) on an empty database.
pub async fn enrich(db: &Db, options: Phase2Options) -> Result<Phase2Outcome, SeedError> {
    let stores: Vec<i32> = crate::with_db!(db, pool => sqlx::query_scalar("SELECT id FROM store ORDER BY id").fetch_all(pool).await)?;
    let products: Vec<i32> = crate::with_db!(db, pool => sqlx::query_scalar("SELECT id FROM product ORDER BY id").fetch_all(pool).await)?;
    let calendar: Vec<NaiveDate> = crate::with_db!(db, pool => sqlx::query_scalar("SELECT date FROM calendar ORDER BY date").fetch_all(pool).await)?;
    let (Some(first), Some(last)) = (calendar.first().copied(), calendar.last().copied()) else {
        return Err(empty());
    };
    if stores.is_empty() || products.is_empty() {
        return Err(empty());
    }
    let span = (last - first).num_days();
    if span == 0 {
        return Err(SeedError::Unprocessable(
            "The calendar covers a single day; phase-2 enrichment needs a window of at least two days.".into(),
        ));
    }
    let seed = options.seed;
    let mut outcome = Phase2Outcome::default();

    // 1. Lifecycle dates and stage at the last calendar day.
    let lifecycle = LifecycleConfig::default();
    let mut updates = Vec::with_capacity(products.len());
    for id in &products {
        let mut rng = stream_rng(seed, Stream::Phase2Lifecycle, i64::from(*id), 0);
        let (launch, discontinue) =
            dimensions::lifecycle_dates(&mut rng, first, span, options.discontinue_probability);
        let stage = lifecycle.stage(Some(launch), discontinue, last).as_str();
        updates.push((*id, launch, discontinue, stage));
    }
    update_lifecycle(db, &updates).await?;
    outcome.products_updated = updates.len() as u64;

    let dates = Dates::new(first, last);

    // 2. Replenishment.
    let existing = keys(
        db,
        "SELECT date, store_id, product_id FROM replenishment_event",
    )
    .await?;
    let config = ReplenishmentConfig::default();
    let mut rows = Vec::new();
    for store in &stores {
        for product in &products {
            let mut rng = stream_rng(
                seed,
                Stream::Replenishment,
                i64::from(*store),
                i64::from(*product),
            );
            engine::replenishment_rows(&mut rng, &config, &dates.days, *store, *product, &mut rows);
        }
    }
    let before = rows.len();
    rows.retain(|r| !existing.contains(&(r.date, r.store_id, r.product_id)));
    record(
        &mut outcome,
        "replenishment_event",
        rows.len(),
        before - rows.len(),
    );
    write_all(db, &rows, &dates, Landing::Direct).await?;

    // 3. Exogenous weather per store and the macro index.
    let existing: HashSet<(NaiveDate, String, Option<i32>)> = {
        crate::with_db!(db, pool => {
            let found = sqlx::query("SELECT date, signal_name, store_id FROM exogenous_signal")
                .fetch_all(pool)
                .await?;
            found
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
                .collect::<Result<_, sqlx::Error>>()
        })?
    };
    let mut exo = Vec::new();
    for store in &stores {
        let mut rng = stream_rng(seed, Stream::Weather, i64::from(*store), 0);
        for (d, value) in engine::weather_series(&mut rng, &dates.days)
            .into_iter()
            .enumerate()
        {
            exo.push(ExogenousRow {
                date: dates.days[d],
                signal_name: "weather_temp_c",
                store_id: Some(*store),
                value,
            });
        }
    }
    exo.extend(engine::macro_rows(
        &mut stream_rng(seed, Stream::Macro, 0, 0),
        &dates.days,
    ));
    let before = exo.len();
    exo.retain(|r| !existing.contains(&(r.date, r.signal_name.to_owned(), r.store_id)));
    record(
        &mut outcome,
        "exogenous_signal",
        exo.len(),
        before - exo.len(),
    );
    write_all(db, &exo, &dates, Landing::SkipConflicts).await?;

    // 4. Returns sampled from every sale with units, in id order.
    let existing = keys(db, "SELECT date, store_id, product_id FROM sales_returns").await?;
    let rc = ReturnsConfig {
        probability: options.returns_probability,
        ..ReturnsConfig::default()
    };
    let mut rng = stream_rng(seed, Stream::Returns, 0, 0);
    let mut returns = Vec::new();
    let mut skipped = 0usize;
    const SALES: &str = "SELECT date, store_id, product_id, quantity FROM sales_daily WHERE quantity > 0 ORDER BY id";
    crate::with_db!(db, pool => {
        let mut stream = sqlx::query(SALES).fetch(pool);
        while let Some(row) = stream.try_next().await? {
            let date: NaiveDate = row.try_get(0)?;
            let store_id: i32 = row.try_get(1)?;
            let product_id: i32 = row.try_get(2)?;
            let quantity: i32 = row.try_get(3)?;
            if rc.probability <= 0.0 || rng.gen::<f64>() >= rc.probability {
                continue;
            }
            let lag = rng.gen_range(rc.lag_min_days..=rc.lag_max_days);
            let day = (date + chrono::Days::new(u64::from(lag))).min(last);
            let q = i64::from(quantity);
            let back = q.min(((q as f64) * rc.fraction).round_ties_even().max(1.0) as i64);
            let reason = reason(&mut rng);
            if existing.contains(&(day, store_id, product_id)) {
                skipped += 1;
                continue;
            }
            returns.push(ReturnRow { date: day, store_id, product_id, quantity: back as i32, reason });
        }
        Ok::<(), sqlx::Error>(())
    })?;
    record(&mut outcome, "sales_returns", returns.len(), skipped);
    write_all(db, &returns, &dates, Landing::Direct).await?;
    Ok(outcome)
}

fn reason(rng: &mut rand_chacha::ChaCha8Rng) -> &'static str {
    const REASONS: [(&str, f64); 5] = [
        ("defective", 0.25),
        ("wrong_size", 0.20),
        ("not_as_described", 0.15),
        ("changed_mind", 0.30),
        ("damaged_in_transit", 0.10),
    ];
    let mut x = rng.gen::<f64>();
    for (name, weight) in REASONS {
        if x < weight {
            return name;
        }
        x -= weight;
    }
    "damaged_in_transit"
}

fn empty() -> SeedError {
    SeedError::Unprocessable(
        "No seeded data found (stores, products and calendar are required). Run POST /seeder/generate first.".into(),
    )
}

fn record(outcome: &mut Phase2Outcome, table: &'static str, created: usize, skipped: usize) {
    outcome.created.insert(table, created as u64);
    if skipped > 0 {
        outcome.skipped.insert(table, skipped as u64);
    }
}

async fn write_all<R: super::rows::SqlRow>(
    db: &Db,
    rows: &[R],
    dates: &Dates,
    landing: Landing,
) -> Result<(), SeedError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut w = begin(db).await?;
    for chunk in rows.chunks(CHUNK * 50) {
        w.write(chunk, dates, landing, CHUNK).await?;
    }
    w.commit().await?;
    Ok(())
}

async fn update_lifecycle(
    db: &Db,
    updates: &[(i32, NaiveDate, Option<NaiveDate>, &'static str)],
) -> Result<(), sqlx::Error> {
    let now = chrono::Utc::now();
    match db {
        Db::Postgres(pool) => {
            let ids: Vec<i32> = updates.iter().map(|u| u.0).collect();
            let launches: Vec<NaiveDate> = updates.iter().map(|u| u.1).collect();
            let ends: Vec<Option<NaiveDate>> = updates.iter().map(|u| u.2).collect();
            let stages: Vec<String> = updates.iter().map(|u| u.3.to_owned()).collect();
            sqlx::query(
                "UPDATE product AS p SET launch_date = u.l, discontinue_date = u.d, \
                 lifecycle_stage = u.s, updated_at = $5 \
                 FROM UNNEST($1::int4[], $2::date[], $3::date[], $4::text[]) AS u(id, l, d, s) \
                 WHERE p.id = u.id",
            )
            .bind(ids)
            .bind(launches)
            .bind(ends)
            .bind(stages)
            .bind(now)
            .execute(pool)
            .await?;
        }
        Db::Sqlite(pool) => {
            let json: Vec<serde_json::Value> = updates
                .iter()
                .map(|(id, l, d, s)| {
                    serde_json::json!({
                        "id": id,
                        "l": l.format("%Y-%m-%d").to_string(),
                        "d": d.map(|d| d.format("%Y-%m-%d").to_string()),
                        "s": s,
                    })
                })
                .collect();
            sqlx::query(
                "UPDATE product SET launch_date = u.l, discontinue_date = u.d, \
                 lifecycle_stage = u.s, updated_at = $2 \
                 FROM (SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.l') AS l, \
                       json_extract(value, '$.d') AS d, json_extract(value, '$.s') AS s \
                       FROM json_each($1)) AS u \
                 WHERE product.id = u.id",
            )
            .bind(serde_json::Value::Array(json).to_string())
            .bind(now)
            .execute(pool)
            .await?;
        }
    }
    Ok(())
}
