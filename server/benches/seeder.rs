//! Seeder throughput against plain PostgreSQL `COPY`.
//!
//! For each repetition: a fresh PostgreSQL database, `seeder::generate`
//! of `retail_standard` with BENCH_STORES × BENCH_PRODUCTS × BENCH_DAYS
//! (default 50 × 200 × 730 = 7.3 M sales rows plus as many inventory rows),
//! then the same sales rows exported to a file and `COPY`-ed into a fresh
//! table identical to `sales_daily` (same columns, defaults, checks, unique
//! key, indexes and foreign keys). Prints a table with medians, the ratio
//! and the process's peak RSS (VmHWM).
//!
//! `cargo bench -p forecastlab-server --bench seeder`
//! (env: BENCH_STORES, BENCH_PRODUCTS, BENCH_DAYS, BENCH_REPS,
//! TEST_POSTGRES_URL = admin URL, default postgres://postgres@127.0.0.1:5432/postgres).

use std::{io::Write, time::Instant};

use chrono::{Days, NaiveDate};
use forecastlab_server::{
    seeder::{self, config::ScenarioPreset},
    Db,
};
use futures::StreamExt;
use sqlx::{postgres::PgPoolCopyExt, Connection};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn with_database(url: &str, name: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

async fn admin(sql: &str) -> anyhow::Result<()> {
    let mut conn = sqlx::PgConnection::connect(&admin_url()).await?;
    sqlx::query(sql).execute(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

struct Rep {
    seed_seconds: f64,
    seed_rows: u64,
    sales_rows: u64,
    copy_seconds: f64,
    copy_rows: u64,
}

async fn one_rep(stores: u32, products: u32, days: u32, rep: usize) -> anyhow::Result<Rep> {
    let name = format!("forecastlab_bench_{}", uuid::Uuid::new_v4().simple());
    admin(&format!("CREATE DATABASE \"{name}\"")).await?;
    let url = with_database(&admin_url(), &name);
    let result = async {
        let db = Db::connect(&url).await?;
        db.migrate().await?;
        let end = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap_or_default();
        let mut config = ScenarioPreset::RetailStandard.config(end);
        config.seed = 42 + rep as u64;
        config.stores = stores;
        config.products = products;
        config.end_date = end;
        config.start_date = end - Days::new(u64::from(days.max(1) - 1));
        let started = Instant::now();
        let counts = seeder::generate(&db, config, None).await?;
        let seed_seconds = started.elapsed().as_secs_f64();

        let Db::Postgres(pool) = &db else {
            anyhow::bail!("PostgreSQL expected")
        };
        // Export the same sales rows to a file (streamed, not in memory).
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("sales.tsv");
        {
            let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
            let mut stream = pool
                .copy_out_raw(
                    "COPY (SELECT date, store_id, product_id, quantity, unit_price, total_amount, channel \
                     FROM sales_daily ORDER BY id) TO STDOUT",
                )
                .await?;
            while let Some(chunk) = stream.next().await {
                file.write_all(&chunk?)?;
            }
            file.flush()?;
        }
        sqlx::raw_sql(
            "CREATE TABLE sales_copy (LIKE sales_daily INCLUDING ALL); \
             ALTER TABLE sales_copy ADD FOREIGN KEY (date) REFERENCES calendar (date); \
             ALTER TABLE sales_copy ADD FOREIGN KEY (store_id) REFERENCES store (id); \
             ALTER TABLE sales_copy ADD FOREIGN KEY (product_id) REFERENCES product (id)",
        )
        .execute(pool)
        .await?;
        let started = Instant::now();
        let mut copy = pool
            .copy_in_raw(
                "COPY sales_copy (date, store_id, product_id, quantity, unit_price, total_amount, channel) FROM STDIN",
            )
            .await?;
        let mut file = std::fs::File::open(&path)?;
        let mut buffer = vec![0u8; 4 << 20];
        loop {
            let n = std::io::Read::read(&mut file, &mut buffer)?;
            if n == 0 {
                break;
            }
            copy.send(&buffer[..n]).await?;
        }
        let copy_rows = copy.finish().await?;
        let copy_seconds = started.elapsed().as_secs_f64();
        db.close().await;
        Ok(Rep {
            seed_seconds,
            seed_rows: counts.total(),
            sales_rows: counts.sales,
            copy_seconds,
            copy_rows,
        })
    }
    .await;
    let _ = admin(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
    result
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn main() -> anyhow::Result<()> {
    let stores = env_or("BENCH_STORES", 50u32);
    let products = env_or("BENCH_PRODUCTS", 200u32);
    let days = env_or("BENCH_DAYS", 730u32);
    let reps = env_or("BENCH_REPS", 1usize).max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    println!("seeder benchmark: {stores} stores x {products} products x {days} days, {reps} repetition(s)");
    println!(
        "{:>4} {:>12} {:>10} {:>14} {:>14} {:>12} {:>10} {:>14} {:>8}",
        "rep",
        "seed rows",
        "seed s",
        "seed rows/s",
        "sales rows/s",
        "copy rows",
        "copy s",
        "copy rows/s",
        "ratio"
    );
    let mut seed_rates = Vec::new();
    let mut sales_rates = Vec::new();
    let mut copy_rates = Vec::new();
    for rep in 0..reps {
        let r = runtime.block_on(one_rep(stores, products, days, rep))?;
        let seed_rate = r.seed_rows as f64 / r.seed_seconds;
        let sales_rate = r.sales_rows as f64 / r.seed_seconds;
        let copy_rate = r.copy_rows as f64 / r.copy_seconds;
        println!(
            "{:>4} {:>12} {:>10.2} {:>14.0} {:>14.0} {:>12} {:>10.2} {:>14.0} {:>8.2}",
            rep,
            r.seed_rows,
            r.seed_seconds,
            seed_rate,
            sales_rate,
            r.copy_rows,
            r.copy_seconds,
            copy_rate,
            seed_rate / copy_rate
        );
        seed_rates.push(seed_rate);
        sales_rates.push(sales_rate);
        copy_rates.push(copy_rate);
    }
    let (seed, sales, copy) = (median(seed_rates), median(sales_rates), median(copy_rates));
    println!("median seeder rows/s (all tables): {seed:.0}");
    println!("median seeder sales rows/s:        {sales:.0}");
    println!("median COPY rows/s (sales_daily):  {copy:.0}");
    println!(
        "ratio seeder/COPY (all tables):    {:.2} (target >= 0.33)",
        seed / copy
    );
    println!(
        "peak RSS (VmHWM):                  {:.0} MiB (target < 2048)",
        peak_rss_mib()
    );
    Ok(())
}
