//! `forecastlab import`: runs the built binary against a fresh SQLite file
//! and a fresh PostgreSQL database (`TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and checks the rows,
//! the summary line, the error report and the exit code.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    time::Duration,
};

use forecastlab_server::{with_db, Db};

#[path = "support/postgres.rs"]
mod postgres;

/// A database for one test; PostgreSQL's is dropped with it.
struct Target {
    url: String,
    dir: tempfile::TempDir,
    _postgres: Option<postgres::TempDatabase>,
}

impl Target {
    async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("import.db").display());
        Self {
            url,
            dir,
            _postgres: None,
        }
    }

    async fn postgres() -> Self {
        let database = postgres::TempDatabase::create().await;
        Self {
            url: database.url.clone(),
            dir: tempfile::tempdir().unwrap(),
            _postgres: Some(database),
        }
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn import(&self, table: &str, file: &Path, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_forecastlab"))
            .arg("import")
            .arg(table)
            .arg(file)
            .args(args)
            .args(["--database-url", &self.url])
            .env_remove("DATABASE_URL")
            .env("APP_ENV", "testing")
            .env("LOG_LEVEL", "warn")
            .output()
            .expect("the forecastlab binary runs")
    }

    /// Imports and requires success; returns the summary line.
    fn import_ok(&self, table: &str, file: &Path, args: &[&str]) -> String {
        let output = self.import(table, file, args);
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        assert!(
            output.status.success(),
            "import {table} failed: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    }

    async fn db(&self) -> Db {
        Db::connect(&self.url).await.unwrap()
    }
}

async fn scalar(db: &Db, sql: &str) -> i64 {
    let sql = format!("SELECT CAST(({sql}) AS BIGINT)");
    with_db!(db, pool => sqlx::query_scalar::<_, i64>(&sql).fetch_one(pool).await).unwrap()
}

async fn count(db: &Db, table: &str) -> i64 {
    scalar(db, &format!("SELECT COUNT(*) FROM {table}")).await
}

async fn text(db: &Db, sql: &str) -> String {
    with_db!(db, pool => sqlx::query_scalar::<_, String>(sql).fetch_one(pool).await).unwrap()
}

/// The number nearest before `what` in the summary line (`3 inserted`,
/// `3 rows read`).
fn figure(summary: &str, what: &str) -> u64 {
    let words: Vec<&str> = summary.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| w.trim_end_matches(',') == what)
        .unwrap_or_else(|| panic!("no '{what}' in {summary}"));
    words[..at]
        .iter()
        .rev()
        .find_map(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no number before '{what}' in {summary}"))
}

const STORES: &str = "code,name,region,city,store_type\n\
    S1,North,North,Leeds,supermarket\n\
    S2,South,South,Bath,express\n";
const PRODUCTS: &str = "sku,name,category,base_price,base_cost\n\
    A,Apples,Fruit,1.20,0.50\n\
    B,Bread,Bakery,2.00,0.80\n\
    C,Cheese,Dairy,4.50,2.00\n";
const SALES: &str = "date,store_code,sku,quantity,unit_price,total_amount\n\
    2024-01-01,S1,A,3,1.20,3.60\n\
    2024-01-01,S1,B,1,2.00,2.00\n\
    2024-01-02,S2,C,2,4.50,9.00\n";

/// Stores and products, the dimensions the facts refer to.
fn dimensions(target: &Target) {
    let stores = target.file("stores.csv", STORES);
    target.import_ok("stores", &stores, &[]);
    let products = target.file("products.csv", PRODUCTS);
    target.import_ok("products", &products, &[]);
}

async fn every_table_imports(target: Target) {
    dimensions(&target);
    let calendar = target.file(
        "calendar.csv",
        "date,is_holiday,holiday_name\n2024-01-01,true,New Year\n2024-01-03,no,\n",
    );
    let summary = target.import_ok("calendar", &calendar, &[]);
    assert_eq!(figure(&summary, "inserted"), 2, "{summary}");
    let promotions = target.file(
        "promotions.csv",
        "sku,store_code,name,kind,discount_pct,start_date,end_date,bundle_member_skus\n\
         A,S1,Spring,pct_off,0.10,2024-03-01,2024-03-10,\n\
         B,,Bundle,bundle,0.20,2024-03-01,2024-03-05,A|C\n",
    );
    target.import_ok("promotions", &promotions, &[]);
    let prices = target.file(
        "prices.csv",
        "sku,store_code,price,valid_from,valid_to\nA,,1.10,2024-01-01,2024-01-31\nA,S1,1.00,2024-02-01,\n",
    );
    target.import_ok("prices", &prices, &[]);
    let inventory = target.file(
        "inventory.csv",
        "date,store_code,sku,on_hand_qty,on_order_qty\n2024-01-01,S1,A,0,5\n2024-01-05,S2,B,7,\n",
    );
    let summary = target.import_ok("inventory", &inventory, &[]);
    assert_eq!(
        figure(&summary, "calendar"),
        1,
        "2024-01-05 is new: {summary}"
    );
    let sales = target.file("sales.csv", SALES);
    let summary = target.import_ok("sales", &sales, &[]);
    assert_eq!(figure(&summary, "read"), 3, "{summary}");
    assert_eq!(figure(&summary, "inserted"), 3, "{summary}");
    assert_eq!(figure(&summary, "updated"), 0, "{summary}");
    assert_eq!(figure(&summary, "rejected"), 0, "{summary}");
    assert_eq!(
        figure(&summary, "calendar"),
        1,
        "2024-01-02 is new: {summary}"
    );

    let db = target.db().await;
    assert_eq!(count(&db, "store").await, 2);
    assert_eq!(count(&db, "product").await, 3);
    assert_eq!(count(&db, "promotion").await, 2);
    assert_eq!(count(&db, "price_history").await, 2);
    assert_eq!(count(&db, "inventory_snapshot_daily").await, 2);
    assert_eq!(count(&db, "sales_daily").await, 3);
    // Days 1, 3 (calendar), 5 (inventory) and 2 (sales), the added ones
    // not holidays.
    assert_eq!(count(&db, "calendar").await, 4);
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM calendar WHERE is_holiday").await,
        1
    );
    assert_eq!(
        text(&db, "SELECT holiday_name FROM calendar WHERE is_holiday").await,
        "New Year"
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM inventory_snapshot_daily WHERE is_stockout"
        )
        .await,
        1,
        "on_hand_qty 0 is a stockout"
    );
    assert_eq!(
        scalar(&db, "SELECT SUM(quantity) FROM sales_daily").await,
        6
    );
    assert_eq!(
        text(&db, "SELECT channel FROM sales_daily WHERE quantity = 2").await,
        "in_store"
    );
    db.close().await;
}

#[tokio::test]
async fn every_table_imports_into_sqlite() {
    every_table_imports(Target::sqlite().await).await;
}

#[tokio::test]
async fn every_table_imports_into_postgres() {
    every_table_imports(Target::postgres().await).await;
}

/// Sales without prices: a product's base price fills an absent unit
/// price (and the total follows), a product without one leaves both
/// missing, never invented; a given total is kept.
async fn priceless_sales(target: Target) {
    dimensions(&target);
    let products = target.file("more.csv", "sku,name\nD,Dates\n");
    target.import_ok("products", &products, &[]);
    let sales = target.file(
        "priceless.csv",
        "date,store_code,sku,quantity,total_amount\n\
         2024-03-01,S1,A,5,\n\
         2024-03-01,S1,D,2,\n\
         2024-03-02,S2,D,1,7.25\n",
    );
    let summary = target.import_ok("sales", &sales, &[]);
    assert_eq!(figure(&summary, "inserted"), 3, "{summary}");
    assert_eq!(figure(&summary, "rejected"), 0, "{summary}");
    let db = target.db().await;
    let cents = |sql: &str| format!("SELECT CAST(ROUND({sql} * 100) AS BIGINT) FROM sales_daily");
    assert_eq!(
        scalar(
            &db,
            &format!(
                "{} WHERE product_id = (SELECT id FROM product WHERE sku = 'A')",
                cents("unit_price")
            )
        )
        .await,
        120,
        "A's base price"
    );
    assert_eq!(
        scalar(
            &db,
            &format!(
                "{} WHERE product_id = (SELECT id FROM product WHERE sku = 'A')",
                cents("total_amount")
            )
        )
        .await,
        600,
        "5 × 1.20"
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM sales_daily WHERE unit_price IS NULL AND total_amount IS NULL"
        )
        .await,
        1,
        "D on 2024-03-01 has no price and no total"
    );
    assert_eq!(
        scalar(
            &db,
            &format!(
                "{} WHERE unit_price IS NULL AND total_amount IS NOT NULL",
                cents("total_amount")
            )
        )
        .await,
        725,
        "a given total is kept without a price"
    );
    db.close().await;
}

#[tokio::test]
async fn priceless_sales_into_sqlite() {
    priceless_sales(Target::sqlite().await).await;
}

#[tokio::test]
async fn priceless_sales_into_postgres() {
    priceless_sales(Target::postgres().await).await;
}

fn gzip(text: &str) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap()
}

async fn mapped_gzip_and_delimiter(target: Target) {
    dimensions(&target);
    let text = "Day;Shop;Item;Units;Price;Total;Note\n\
                2024-02-01;S1;A;4;1.20;4.80;x\n\
                2024-02-01;S2;B;2;2.00;4.00;y\n";
    // Gzip found by the magic bytes (no .gz name)...
    let hidden = target.dir.path().join("sales.dat");
    std::fs::write(&hidden, gzip(text)).unwrap();
    let map = [
        "--map",
        "Day=date",
        "--map",
        "Shop=store_code",
        "--map",
        "Item=sku",
        "--map",
        "Units=quantity",
        "--map",
        "Price=unit_price",
        "--map",
        "Total=total_amount",
    ];
    let mut args = map.to_vec();
    args.extend(["--delimiter", ";"]);
    let summary = target.import_ok("sales", &hidden, &args);
    assert_eq!(figure(&summary, "inserted"), 2, "{summary}");
    // ...and by the extension, here re-importing the same rows.
    let named = target.dir.path().join("sales.csv.gz");
    std::fs::write(&named, gzip(text)).unwrap();
    let summary = target.import_ok("sales", &named, &args);
    assert_eq!(figure(&summary, "updated"), 2, "{summary}");
    let db = target.db().await;
    assert_eq!(count(&db, "sales_daily").await, 2);
    assert_eq!(
        scalar(&db, "SELECT SUM(quantity) FROM sales_daily").await,
        6
    );
    db.close().await;
}

#[tokio::test]
async fn mapped_gzip_and_delimiter_on_sqlite() {
    mapped_gzip_and_delimiter(Target::sqlite().await).await;
}

#[tokio::test]
async fn mapped_gzip_and_delimiter_on_postgres() {
    mapped_gzip_and_delimiter(Target::postgres().await).await;
}

async fn bad_rows_are_reported_and_good_rows_land(target: Target) {
    dimensions(&target);
    let sales = target.file(
        "sales.csv",
        "date,store_code,sku,quantity,unit_price,total_amount\n\
         2024-01-01,S1,A,3,1.20,3.60\n\
         2024-01-01,S9,A,3,1.20,3.60\n\
         2024-01-01,S1,ZZ,3,1.20,3.60\n\
         2024-01-32,S1,A,3,1.20,3.60\n\
         2024-01-02,S1,A,-3,1.205,3.60\n\
         2024-01-02,S1,A,3\n\
         2024-01-03,S2,B,1,2.00,2.00\n",
    );
    let errors = target.dir.path().join("rejected.csv");
    let errors_arg = errors.to_str().unwrap();
    let summary = target.import_ok(
        "sales",
        &sales,
        &["--errors", errors_arg, "--batch-size", "3"],
    );
    assert_eq!(figure(&summary, "read"), 7, "{summary}");
    assert_eq!(figure(&summary, "inserted"), 2, "{summary}");
    assert_eq!(figure(&summary, "rejected"), 5, "{summary}");
    let mut report = csv::Reader::from_path(&errors).unwrap();
    assert_eq!(report.headers().unwrap(), vec!["line", "field", "message"]);
    let rows: Vec<(u64, String, String)> = report
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].parse().unwrap(), r[1].to_owned(), r[2].to_owned())
        })
        .collect();
    let lines: Vec<(u64, &str)> = rows.iter().map(|(l, f, _)| (*l, f.as_str())).collect();
    assert_eq!(
        lines,
        [
            (3, "store_code"),
            (4, "sku"),
            (5, "date"),
            (6, "quantity"),
            (6, "unit_price"),
            (7, ""),
        ]
    );
    assert!(rows[0].2.contains("Unknown store code 'S9'"), "{rows:?}");
    assert!(rows[1].2.contains("Unknown product SKU 'ZZ'"), "{rows:?}");
    assert!(rows[2].2.contains("'2024-01-32'"), "{rows:?}");
    let db = target.db().await;
    assert_eq!(count(&db, "sales_daily").await, 2);
    db.close().await;
}

#[tokio::test]
async fn bad_rows_are_reported_and_good_rows_land_on_sqlite() {
    bad_rows_are_reported_and_good_rows_land(Target::sqlite().await).await;
}

#[tokio::test]
async fn bad_rows_are_reported_and_good_rows_land_on_postgres() {
    bad_rows_are_reported_and_good_rows_land(Target::postgres().await).await;
}

async fn reimport_is_idempotent(target: Target) {
    dimensions(&target);
    let sales = target.file("sales.csv", SALES);
    target.import_ok("sales", &sales, &[]);
    let changed = target.file(
        "changed.csv",
        &SALES.replace("S2,C,2,4.50,9.00", "S2,C,5,4.50,22.50"),
    );
    let summary = target.import_ok("sales", &changed, &[]);
    assert_eq!(figure(&summary, "inserted"), 0, "{summary}");
    assert_eq!(figure(&summary, "updated"), 3, "{summary}");
    let stores = target.file("stores.csv", &STORES.replace("Bath", "Wells"));
    let summary = target.import_ok("stores", &stores, &[]);
    assert_eq!(figure(&summary, "updated"), 2, "{summary}");
    let db = target.db().await;
    assert_eq!(count(&db, "sales_daily").await, 3);
    assert_eq!(count(&db, "store").await, 2);
    assert_eq!(
        scalar(&db, "SELECT SUM(quantity) FROM sales_daily").await,
        9
    );
    assert_eq!(
        text(&db, "SELECT city FROM store WHERE code = 'S2'").await,
        "Wells"
    );
    db.close().await;
    // No error report without rejected rows.
    assert!(!target.dir.path().join("sales.csv.errors.csv").exists());
}

#[tokio::test]
async fn reimport_is_idempotent_on_sqlite() {
    reimport_is_idempotent(Target::sqlite().await).await;
}

#[tokio::test]
async fn reimport_is_idempotent_on_postgres() {
    reimport_is_idempotent(Target::postgres().await).await;
}

async fn fatal_problems_exit_non_zero(target: Target) {
    let sales = target.file(
        "sales.csv",
        "date,store_code,sku,qty,unit_price\n2024-01-01,S1,A,1,1\n",
    );
    let output = target.import("sales", &sales, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("required column(s) quantity for sales"),
        "{stderr}"
    );
    let output = target.import("sales", &sales, &["--map", "units=quantity"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("'units'"));
    let output = target.import("sales", &target.dir.path().join("absent.csv"), &[]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("absent.csv"));
    let output = target.import("orders", &sales, &[]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("invalid value 'orders'"));
    // The runs failed before touching the database.
    let sqlite_file = target.dir.path().join("import.db");
    if target.url.starts_with("sqlite:") {
        assert!(!sqlite_file.exists());
    } else {
        let db = target.db().await;
        let tables = scalar(
            &db,
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'sales_daily'",
        )
        .await;
        assert_eq!(tables, 0);
        db.close().await;
    }
}

#[tokio::test]
async fn fatal_problems_exit_non_zero_on_sqlite() {
    fatal_problems_exit_non_zero(Target::sqlite().await).await;
}

#[tokio::test]
async fn fatal_problems_exit_non_zero_on_postgres() {
    fatal_problems_exit_non_zero(Target::postgres().await).await;
}

/// A sales file of `stores × products × days` rows.
fn sales_file(path: &Path, stores: u32, products: u32, days: i64) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(file, "date,store_code,sku,quantity,unit_price,total_amount").unwrap();
    let start = chrono::NaiveDate::from_ymd_opt(2023, 1, 1).unwrap();
    for day in 0..days {
        let date = start + chrono::Duration::days(day);
        for s in 1..=stores {
            for p in 1..=products {
                writeln!(file, "{date},S{s},P{p},{},1.00,{}.00", day % 7, day % 7).unwrap();
            }
        }
    }
    file.flush().unwrap();
}

/// Runs an import of `500 × days` generated rows and returns its peak
/// anonymous resident memory in KiB (the heap, sampled from /proc while it
/// runs; file-backed pages such as SQLite's memory map of the growing
/// database are left out).
fn peak_rss(target: &Target, name: &str, days: i64) -> u64 {
    let path = target.dir.path().join(name);
    sales_file(&path, 10, 50, days);
    let mut child = Command::new(env!("CARGO_BIN_EXE_forecastlab"))
        .args(["import", "sales"])
        .arg(&path)
        .args(["--batch-size", "5000", "--database-url", &target.url])
        .env("APP_ENV", "testing")
        .env("LOG_LEVEL", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    while child.try_wait().unwrap().is_none() {
        if let Ok(text) = std::fs::read_to_string(&status) {
            if let Some(kb) = text
                .lines()
                .find(|l| l.starts_with("RssAnon:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
            {
                peak = peak.max(kb);
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let summary = String::from_utf8_lossy(&output.stdout);
    assert_eq!(figure(&summary, "read"), 500 * days as u64, "{summary}");
    assert_eq!(figure(&summary, "rejected"), 0, "{summary}");
    peak
}

#[tokio::test]
async fn memory_stays_flat_whatever_the_file_size() {
    let target = Target::sqlite().await;
    let stores: String = (1..=10).map(|s| format!("S{s},Store {s}\n")).collect();
    let products: String = (1..=50).map(|p| format!("P{p},Product {p}\n")).collect();
    target.import_ok(
        "stores",
        &target.file("s.csv", &format!("code,name\n{stores}")),
        &[],
    );
    target.import_ok(
        "products",
        &target.file("p.csv", &format!("sku,name\n{products}")),
        &[],
    );
    let small = peak_rss(&target, "small.csv", 40); // 20,000 rows
    let large = peak_rss(&target, "large.csv", 400); // 200,000 rows
    assert!(small > 0 && large > 0, "sampled {small} and {large} KiB");
    // Ten times the rows, about the same memory: the batches, not the file.
    assert!(
        large < small + 16 * 1024,
        "peak anonymous RSS grew from {small} KiB (20k rows) to {large} KiB (200k rows)"
    );
    let db = target.db().await;
    assert_eq!(count(&db, "sales_daily").await, 200_000);
    assert_eq!(count(&db, "calendar").await, 400);
    db.close().await;
}
