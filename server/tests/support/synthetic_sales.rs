//! The SQL script that seeds `stores × products` synthetic daily series
//! from 2024-01-01 (stores, products, calendar days and sales), shared by
//! the worker-process tests and the job-queue benchmark.

use chrono::{Datelike, Duration, NaiveDate};

/// The script. `quantity(store, product, day)` gives each day's units
/// (unit price and amount 1.00); `day` counts from 0.
pub(crate) fn script(
    stores: i64,
    products: i64,
    days: i64,
    quantity: impl Fn(i64, i64, i64) -> i64,
) -> String {
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).expect("valid date");
    let list = |n: i64, row: &dyn Fn(i64) -> String| (1..=n).map(row).collect::<Vec<_>>().join(",");
    let mut sql = format!(
        "INSERT INTO store (id, code, name) VALUES {};\
         INSERT INTO product (id, sku, name) VALUES {};",
        list(stores, &|s| format!("({s}, 'S{s}', 'Store {s}')")),
        list(products, &|p| format!("({p}, 'SKU{p}', 'Product {p}')")),
    );
    let calendar: Vec<String> = (0..days)
        .map(|d| {
            let date = start + Duration::days(d);
            format!(
                "('{date}', {}, {}, {}, {}, FALSE)",
                date.weekday().num_days_from_monday(),
                date.month(),
                (date.month() - 1) / 3 + 1,
                date.year()
            )
        })
        .collect();
    sql.push_str(&format!(
        "INSERT INTO calendar (date, day_of_week, month, quarter, year, is_holiday) VALUES {};",
        calendar.join(",")
    ));
    let mut rows = Vec::new();
    for s in 1..=stores {
        for p in 1..=products {
            for d in 0..days {
                let date = start + Duration::days(d);
                rows.push(format!(
                    "('{date}', {s}, {p}, {}, 1.00, 1.00)",
                    quantity(s, p, d)
                ));
            }
        }
    }
    for chunk in rows.chunks(5_000) {
        sql.push_str(&format!(
            "INSERT INTO sales_daily (date, store_id, product_id, quantity, unit_price, total_amount) VALUES {};",
            chunk.join(",")
        ));
    }
    sql
}
