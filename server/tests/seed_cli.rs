//! `forecastlab seed`: runs the built binary against a temporary SQLite file
//! and checks the summary table against the rows in the database.

use std::process::Command;

use forecastlab_server::{with_db, Db};

fn seed(url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_forecastlab"))
        .arg("seed")
        .args(args)
        .env("DATABASE_URL", url)
        .env("APP_ENV", "testing")
        .env("LOG_LEVEL", "warn")
        .output()
        .expect("the forecastlab binary runs")
}

fn summary_count(stdout: &str, table: &str) -> i64 {
    let line = stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(table))
        .unwrap_or_else(|| panic!("no {table} line in:\n{stdout}"));
    line.split_whitespace()
        .last()
        .unwrap()
        .replace(',', "")
        .parse()
        .unwrap()
}

async fn count(db: &Db, table: &str) -> i64 {
    let sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}");
    with_db!(db, pool => sqlx::query_scalar::<_, i64>(&sql).fetch_one(pool).await).unwrap()
}

#[tokio::test]
async fn seed_writes_the_rows_its_summary_reports() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("seed.db").display());
    let output = seed(
        &url,
        &[
            "--preset",
            "stockout_heavy",
            "--seed",
            "5",
            "--stores",
            "2",
            "--products",
            "3",
            "--days",
            "30",
            "--end-date",
            "2024-03-31",
            "--no-progress",
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("Seeded preset stockout_heavy (seed 5, 2024-03-02 .. 2024-03-31)"),
        "{stdout}"
    );
    assert!(stdout.contains("rows/second"));

    let db = Db::connect(&url).await.unwrap();
    assert_eq!(summary_count(&stdout, "stores"), 2);
    assert_eq!(summary_count(&stdout, "products"), 3);
    assert_eq!(summary_count(&stdout, "calendar"), 30);
    assert_eq!(summary_count(&stdout, "inventory"), 2 * 3 * 30);
    for (table, line) in [
        ("store", "stores"),
        ("product", "products"),
        ("calendar", "calendar"),
        ("sales_daily", "sales"),
        ("inventory_snapshot_daily", "inventory"),
        ("price_history", "price_history"),
        ("promotion", "promotions"),
    ] {
        assert_eq!(
            count(&db, table).await,
            summary_count(&stdout, line),
            "{table}"
        );
    }
    let sales = count(&db, "sales_daily").await;
    assert!(sales > 0);
    db.close().await;

    // --reset replaces the data; the same seed reproduces the same counts.
    let again = seed(
        &url,
        &[
            "--preset",
            "stockout_heavy",
            "--seed",
            "5",
            "--stores",
            "2",
            "--products",
            "3",
            "--days",
            "30",
            "--end-date",
            "2024-03-31",
            "--reset",
            "--no-progress",
        ],
    );
    assert!(again.status.success());
    let db = Db::connect(&url).await.unwrap();
    assert_eq!(count(&db, "sales_daily").await, sales);
    assert_eq!(count(&db, "store").await, 2);
    db.close().await;

    // An unknown preset fails with a message and exit code 1.
    let bad = seed(&url, &["--preset", "nope"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown preset"));
}
