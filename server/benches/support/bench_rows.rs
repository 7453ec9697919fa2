//! The data-platform benchmark's generated sales: every (day, store,
//! product) in order, as ingest bodies or as CSV for the databases' own
//! bulk loaders.

use std::{collections::HashMap, io::Write};

use chrono::{Days, NaiveDate};
use serde_json::Value;

/// Stores of the generated data.
pub(crate) const STORES: usize = 50;
/// Products of the generated data.
pub(crate) const PRODUCTS: usize = 200;
/// Rows per ingest request.
pub(crate) const BATCH: usize = 10_000;
/// The first generated day.
pub(crate) const FIRST_DAY: (i32, u32, u32) = (2023, 1, 1);

/// The `index`-th day from [`FIRST_DAY`].
pub(crate) fn day(index: usize) -> NaiveDate {
    let (y, m, d) = FIRST_DAY;
    NaiveDate::from_ymd_opt(y, m, d).expect("valid") + Days::new(index as u64)
}

/// The unit price of `product`, in cents.
pub(crate) fn price_cents(product: usize) -> i64 {
    99 + (product as i64 * 37) % 2_000
}

/// The units sold of one series on one day.
pub(crate) fn quantity(store: usize, product: usize, day_index: usize) -> i64 {
    ((store * 7 + product * 13 + day_index * 3) % 20) as i64
}

/// Cents as a decimal amount (`12.34`).
pub(crate) fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// The `i`-th generated row: (day index, store, product, quantity, price cents).
pub(crate) fn row(i: usize) -> (usize, usize, usize, i64, i64) {
    let day_index = i / (STORES * PRODUCTS);
    let pair = i % (STORES * PRODUCTS);
    let (store, product) = (pair / PRODUCTS, pair % PRODUCTS);
    (
        day_index,
        store,
        product,
        quantity(store, product, day_index),
        price_cents(product),
    )
}

/// JSON bodies of `POST /ingest/sales-daily`, 10,000 rows each.
pub(crate) fn ingest_bodies(rows: usize) -> Vec<Vec<u8>> {
    (0..rows)
        .collect::<Vec<_>>()
        .chunks(BATCH)
        .map(|chunk| {
            let records: Vec<Value> = chunk
                .iter()
                .map(|&i| {
                    let (d, s, p, q, price) = row(i);
                    serde_json::json!({
                        "date": day(d).format("%Y-%m-%d").to_string(),
                        "store_code": format!("S{s:03}"),
                        "sku": format!("SKU-{p:05}"),
                        "quantity": q,
                        "unit_price": money(price),
                        "total_amount": money(price * q),
                    })
                })
                .collect();
            serde_json::to_vec(&serde_json::json!({ "records": records })).expect("json")
        })
        .collect()
}

/// The same rows as CSV with resolved ids: `date,store_id,product_id,quantity,unit_price,total_amount`,
/// optionally prefixed by an explicit id and suffixed by channel and timestamps
/// (the `sqlite3 .import` form, which needs every column).
pub(crate) fn csv(
    rows: usize,
    stores: &HashMap<String, i64>,
    products: &HashMap<String, i64>,
    full: bool,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows * 64);
    for i in 0..rows {
        let (d, s, p, q, price) = row(i);
        if full {
            let _ = write!(out, "{},", i + 1);
        }
        let _ = write!(
            out,
            "{},{},{},{},{},{}",
            day(d).format("%Y-%m-%d"),
            stores[&format!("S{s:03}")],
            products[&format!("SKU-{p:05}")],
            q,
            money(price),
            money(price * q)
        );
        if full {
            out.extend_from_slice(b",in_store,2026-01-01T00:00:00.000Z,2026-01-01T00:00:00.000Z");
        }
        out.push(b'\n');
    }
    out
}
