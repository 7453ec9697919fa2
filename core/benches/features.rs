//! Feature computation speed: the core engine against pandas on the same
//! data, side by side.
//!
//! `cargo bench -p forecastlab-core --bench features` generates 1,000
//! series × 730 days (override with `FEATURES_BENCH_SERIES`,
//! `FEATURES_BENCH_DAYS`, `FEATURES_BENCH_REPS`), computes lags 1, 7, 14, 28,
//! rolling mean/std over 7 and 28 rows and the calendar columns, then runs
//! `features_pandas.py` (pandas `groupby().shift().rolling()`) on the same
//! rows written to a CSV, and prints medians and the ratio. Set `PYTHON` to
//! choose the interpreter; without pandas the Rust figures are still shown.

use std::{io::Write, path::PathBuf, process::Command, time::Instant};

use chrono::{Days, NaiveDate};
use forecastlab_core::{
    features::{
        compute, compute_many, Aggregation, CalendarSpec, FeatureSpec, LagSpec, RollingSpec,
    },
    frame::SeriesData,
    SeriesKey,
};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn data(n_series: usize, n_days: usize) -> Vec<SeriesData> {
    let start = NaiveDate::from_ymd_opt(2023, 1, 1).unwrap_or_default();
    let dates: Vec<NaiveDate> = (0..n_days as u64).map(|d| start + Days::new(d)).collect();
    let weekly = [0.0, -2.0, -1.0, 0.0, 3.0, 8.0, 6.0];
    (0..n_series)
        .map(|s| {
            let mut state = s as u64 + 1;
            let target = (0..n_days)
                .map(|d| {
                    let noise = (splitmix(&mut state) % 11) as f64;
                    (20.0 + weekly[d % 7] + noise).max(0.0)
                })
                .collect();
            SeriesData::new(
                SeriesKey {
                    store_id: (s / 100 + 1) as i64,
                    product_id: (s % 100 + 1) as i64,
                },
                dates.clone(),
                target,
                vec![9.99; n_days],
            )
        })
        .collect()
}

fn spec() -> FeatureSpec {
    FeatureSpec {
        lag: Some(LagSpec {
            lags: vec![1, 7, 14, 28],
            fill_value: None,
        }),
        rolling: Some(RollingSpec {
            windows: vec![7, 28],
            aggregations: vec![Aggregation::Mean, Aggregation::Std],
            min_periods: None,
        }),
        calendar: Some(CalendarSpec {
            day_of_week: true,
            month: true,
            quarter: true,
            year: false,
            is_weekend: true,
            is_month_end: true,
            is_holiday: false,
            cyclical: true,
        }),
        ..FeatureSpec::default()
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn write_csv(series: &[SeriesData], path: &PathBuf) -> std::io::Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(file, "store_id,product_id,date,quantity")?;
    for one in series {
        for (date, q) in one.dates.iter().zip(&one.target) {
            writeln!(
                file,
                "{},{},{},{}",
                one.key.store_id, one.key.product_id, date, q
            )?;
        }
    }
    file.flush()
}

fn main() {
    let n_series = env_usize("FEATURES_BENCH_SERIES", 1000);
    let n_days = env_usize("FEATURES_BENCH_DAYS", 730);
    let reps = env_usize("FEATURES_BENCH_REPS", 7).max(1);
    let series = data(n_series, n_days);
    let spec = spec();
    println!(
        "features: {n_series} series × {n_days} days, lags 1/7/14/28, rolling mean+std 7/28, calendar; {reps} repetitions; {} rayon threads",
        rayon::current_num_threads()
    );

    let mut parallel = Vec::new();
    let mut sequential = Vec::new();
    let mut check = None;
    for rep in 0..reps {
        let started = Instant::now();
        let tables = compute_many(&spec, &series).unwrap_or_default();
        parallel.push(started.elapsed().as_secs_f64() * 1000.0);
        let started = Instant::now();
        let mut cells = 0usize;
        for one in &series {
            if let Ok(table) = compute(&spec, one) {
                cells += table.values.len() * table.n_rows();
            }
        }
        sequential.push(started.elapsed().as_secs_f64() * 1000.0);
        println!(
            "rust rep {}: parallel {:.1} ms, one thread {:.1} ms ({cells} cells)",
            rep + 1,
            parallel[rep],
            sequential[rep]
        );
        if check.is_none() {
            check = tables.first().map(|t| {
                let row = (n_days - 1).min(500);
                ["lag_7", "rolling_mean_28", "rolling_std_28"]
                    .map(|c| t.column(c).map_or(f64::NAN, |v| v[row]))
            });
        }
    }
    // Per-family breakdown (one thread).
    let families: [(&str, FeatureSpec); 3] = [
        (
            "lags",
            FeatureSpec {
                rolling: None,
                calendar: None,
                ..spec.clone()
            },
        ),
        (
            "rolling",
            FeatureSpec {
                lag: None,
                calendar: None,
                ..spec.clone()
            },
        ),
        (
            "calendar",
            FeatureSpec {
                lag: None,
                rolling: None,
                ..spec.clone()
            },
        ),
    ];
    for (name, family) in &families {
        let times: Vec<f64> = (0..reps)
            .map(|_| {
                let started = Instant::now();
                for one in &series {
                    let _ = compute(family, one);
                }
                started.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        println!(
            "rust one thread, {name} only: median {:.1} ms",
            median(times)
        );
    }
    let rust_parallel = median(parallel);
    let rust_sequential = median(sequential);

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/features_pandas.py");
    let csv = std::env::temp_dir().join(format!("forecastlab-features-{}.csv", std::process::id()));
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let pandas = write_csv(&series, &csv).ok().and_then(|()| {
        let output = Command::new(&python)
            .arg(&script)
            .arg(&csv)
            .arg("--reps")
            .arg(reps.to_string())
            .arg("--check-row")
            .arg((n_days - 1).min(500).to_string())
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&output.stdout).to_string();
        if !output.status.success() {
            eprintln!(
                "pandas run failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            return None;
        }
        for line in text.lines().filter(|l| l.starts_with("pandas rep")) {
            println!("{line}");
        }
        if let (Some(line), Some(values)) = (text.lines().find(|l| l.starts_with("CHECK")), check) {
            println!(
                "cross-check series 1 row {}: rust {:?} | pandas {}",
                (n_days - 1).min(500),
                values,
                line.trim_start_matches("CHECK ")
            );
        }
        text.lines()
            .find_map(|l| l.strip_prefix("MEDIAN_MS "))
            .and_then(|v| v.trim().parse::<f64>().ok())
    });
    let _ = std::fs::remove_file(&csv);

    println!();
    println!("| implementation                 | median ms | vs pandas |");
    println!("|--------------------------------|-----------|-----------|");
    match pandas {
        Some(pandas) => {
            println!("| pandas groupby/shift/rolling   | {pandas:>9.1} |      1.0× |");
            println!(
                "| forecastlab (rayon, parallel)  | {rust_parallel:>9.1} | {:>8.1}× |",
                pandas / rust_parallel
            );
            println!(
                "| forecastlab (one thread)       | {rust_sequential:>9.1} | {:>8.1}× |",
                pandas / rust_sequential
            );
        }
        None => {
            println!("| pandas (not available)         |         - |         - |");
            println!("| forecastlab (rayon, parallel)  | {rust_parallel:>9.1} |         - |");
            println!("| forecastlab (one thread)       | {rust_sequential:>9.1} |         - |");
        }
    }
}
