//! `forecastlab seed`: generate a scenario into the configured database
//! with a progress bar on stderr and a summary table on stdout.

use std::{sync::Arc, time::Instant};

use anyhow::{bail, Context};
use chrono::{Days, NaiveDate, Utc};
use indicatif::{ProgressBar, ProgressStyle};

use super::{
    config::ScenarioPreset,
    ops::{self, DeleteScope},
    ProgressFn, RecordCounts,
};
use crate::config::Settings;

/// Arguments of `forecastlab seed`.
#[derive(Debug, Clone, clap::Args)]
pub struct SeedArgs {
    /// Scenario preset: retail_standard, holiday_rush, high_variance,
    /// stockout_heavy, new_launches, sparse, demo_minimal, showcase_rich.
    #[arg(long, default_value = "retail_standard")]
    pub preset: String,
    /// Random seed [default: SEEDER_DEFAULT_SEED].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Number of stores [default: the preset's].
    #[arg(long)]
    pub stores: Option<u32>,
    /// Number of products [default: the preset's].
    #[arg(long)]
    pub products: Option<u32>,
    /// Window length in days, ending at --end-date [default: the preset's].
    #[arg(long)]
    pub days: Option<u32>,
    /// Last day of the window (YYYY-MM-DD) [default: the preset's, usually today].
    #[arg(long)]
    pub end_date: Option<NaiveDate>,
    /// Share of store × product pairs that never sell (0..0.9).
    #[arg(long)]
    pub sparsity: Option<f64>,
    /// Delete all seeded data (facts and dimensions) first.
    #[arg(long)]
    pub reset: bool,
    /// Never draw the progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

/// Builds the configuration the arguments describe.
pub fn config_from_args(
    args: &SeedArgs,
    settings: &Settings,
    today: NaiveDate,
) -> anyhow::Result<super::config::SeederConfig> {
    let Some(preset) = ScenarioPreset::from_name(&args.preset) else {
        let names: Vec<&str> = ScenarioPreset::ALL.iter().map(|p| p.name()).collect();
        bail!(
            "unknown preset {:?}; choose one of {}",
            args.preset,
            names.join(", ")
        );
    };
    let mut config = preset.config(today);
    config.seed = args.seed.unwrap_or(settings.seeder_default_seed);
    config.batch_size = settings.seeder_batch_size;
    if let Some(stores) = args.stores {
        if !(1..=9_999).contains(&stores) {
            bail!("--stores must be between 1 and 9999");
        }
        config.stores = stores;
    }
    if let Some(products) = args.products {
        if !(1..=90_000).contains(&products) {
            bail!("--products must be between 1 and 90000");
        }
        config.products = products;
    }
    if let Some(end) = args.end_date {
        let length = config.days() as u64;
        config.end_date = end;
        config.start_date = end - Days::new(length.saturating_sub(1));
    }
    if let Some(days) = args.days {
        if !(1..=3_660).contains(&days) {
            bail!("--days must be between 1 and 3660");
        }
        config.start_date = config.end_date - Days::new(u64::from(days - 1));
    }
    if let Some(sparsity) = args.sparsity {
        if !(0.0..=0.9).contains(&sparsity) {
            bail!("--sparsity must be between 0 and 0.9");
        }
        config.sparsity.missing_combinations_pct = sparsity;
    }
    Ok(config)
}

/// Runs `forecastlab seed`.
pub async fn run(settings: Settings, args: SeedArgs) -> anyhow::Result<()> {
    let config = config_from_args(&args, &settings, Utc::now().date_naive())?;
    let db = crate::db::connect_configured(&settings).await?;
    if args.reset {
        ops::delete(&db, DeleteScope::All, false)
            .await
            .context("deleting existing seeded data")?;
    }
    let show = settings.seeder_enable_progress && !args.no_progress;
    let bar = if show {
        ProgressBar::new(u64::from(config.stores))
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} stores ({eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let progress: ProgressFn = {
        let bar = bar.clone();
        Arc::new(move |done, _total| bar.set_position(done as u64))
    };
    let (preset, seed, start, end) = (
        args.preset.clone(),
        config.seed,
        config.start_date,
        config.end_date,
    );
    let started = Instant::now();
    let result = super::generate(&db, config, Some(progress)).await;
    bar.finish_and_clear();
    db.close().await;
    let counts = result.map_err(|e| anyhow::anyhow!("{e}"))?;
    let seconds = started.elapsed().as_secs_f64();
    print!("{}", summary(&preset, seed, start, end, &counts, seconds));
    Ok(())
}

/// The summary table printed after a run.
pub fn summary(
    preset: &str,
    seed: u64,
    start: NaiveDate,
    end: NaiveDate,
    counts: &RecordCounts,
    seconds: f64,
) -> String {
    let rows = [
        ("stores", counts.stores),
        ("products", counts.products),
        ("calendar", counts.calendar),
        ("price_history", counts.price_history),
        ("promotions", counts.promotions),
        ("inventory", counts.inventory),
        ("sales", counts.sales),
        ("exogenous_signals", counts.exogenous_signals),
        ("sales_returns", counts.sales_returns),
        ("replenishment_events", counts.replenishment_events),
    ];
    let mut out =
        format!("Seeded preset {preset} (seed {seed}, {start} .. {end}) in {seconds:.2} s\n\n");
    out.push_str(&format!("{:<22}{:>14}\n", "table", "rows"));
    out.push_str(&format!("{}\n", "-".repeat(36)));
    for (name, n) in rows {
        out.push_str(&format!("{name:<22}{:>14}\n", thousands(n)));
    }
    out.push_str(&format!("{}\n", "-".repeat(36)));
    let total = counts.total();
    out.push_str(&format!("{:<22}{:>14}\n", "total", thousands(total)));
    let rate = if seconds > 0.0 {
        total as f64 / seconds
    } else {
        0.0
    };
    out.push_str(&format!(
        "{:<22}{:>14}\n",
        "rows/second",
        thousands(rate.round() as u64)
    ));
    out
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(7_300_000), "7,300,000");
    }

    #[test]
    fn args_override_the_preset() {
        let settings = Settings::from_lookup(|_| None).unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        let mut args = SeedArgs {
            preset: "demo_minimal".into(),
            seed: None,
            stores: None,
            products: Some(7),
            days: None,
            end_date: None,
            sparsity: None,
            reset: false,
            no_progress: true,
        };
        let c = config_from_args(&args, &settings, today).unwrap();
        assert_eq!((c.stores, c.products, c.days(), c.seed), (3, 7, 92, 42));
        args.days = Some(10);
        args.end_date = NaiveDate::from_ymd_opt(2024, 1, 31);
        let c = config_from_args(&args, &settings, today).unwrap();
        assert_eq!(c.start_date, NaiveDate::from_ymd_opt(2024, 1, 22).unwrap());
        args.preset = "nope".into();
        assert!(config_from_args(&args, &settings, today).is_err());
    }
}
