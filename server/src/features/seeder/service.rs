//! Building the generator configuration from a request, the production
//! guard and the mapping of engine errors to problems.

use axum::http::StatusCode;
use chrono::{Days, NaiveDate};

use super::schemas::{GenerateParams, MarkdownTriggerParam};
use crate::{
    config::{AppEnv, Settings},
    problem::Problem,
    seeder::{
        config::{
            Changepoint, ChannelConfig, ExogenousConfig, MarkdownTrigger, ReplenishmentConfig,
            ReturnsConfig, ScenarioPreset, SeederConfig, SparsityConfig, SubstitutionConfig,
        },
        SeedError,
    },
};

/// 403 when the seeder may not write in this environment.
pub(crate) fn guard(settings: &Settings) -> Result<(), Problem> {
    if settings.app_env == AppEnv::Production && !settings.seeder_allow_production {
        return Err(Problem::forbidden(
            "Seeder operations are disabled in production. Set SEEDER_ALLOW_PRODUCTION=true \
             to enable them (this can overwrite or delete real data).",
        ));
    }
    Ok(())
}

/// Maps an engine error; `operation` is Generation, Append, Delete, …
pub(crate) fn problem(operation: &str, error: SeedError) -> Problem {
    match error {
        SeedError::Invalid(message) => Problem::bad_request(message),
        SeedError::Unprocessable(message) => Problem::unprocessable(message),
        SeedError::Database(error) => Problem::database(
            &error,
            &format!("{operation} failed: a database error occurred; see the server log."),
        ),
        other => {
            tracing::error!(%other, operation, "seeder operation failed");
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_ERROR",
                format!("{operation} failed: a database or generator error occurred; see the server log."),
            )
        }
    }
}

/// The effective configuration, lowest to highest precedence: preset (or
/// defaults) → request scalars → phase flags → overrides.
pub(crate) fn build_config(
    params: &GenerateParams,
    settings: &Settings,
    today: NaiveDate,
) -> Result<SeederConfig, Problem> {
    let preset = ScenarioPreset::from_name(&params.scenario);
    let mut c = match preset {
        Some(p) => p.config(today),
        None => SeederConfig::defaults(today),
    };
    c.seed = params.seed.max(0) as u64;
    if let Some(stores) = params.stores {
        c.stores = stores as u32;
    }
    if let Some(products) = params.products {
        c.products = products as u32;
    }
    match (params.start_date, params.end_date) {
        (Some(start), Some(end)) => {
            c.start_date = start;
            c.end_date = end;
        }
        (Some(start), None) => {
            c.start_date = start;
            if c.end_date < start {
                c.end_date = start;
            }
        }
        (None, Some(end)) => {
            // Keep the preset's window length, ending at `end`.
            let length = c.days() as u64;
            c.end_date = end;
            c.start_date = end - Days::new(length.saturating_sub(1));
        }
        (None, None) => {}
    }
    if preset.is_none() || params.sparsity > 0.0 {
        c.sparsity = SparsityConfig {
            missing_combinations_pct: params.sparsity,
            random_gaps_per_series: 0,
            gap_min_days: 1,
            gap_max_days: 1,
        };
    }

    // Phase 1.
    if params.enable_exogenous {
        c.exogenous = Some(ExogenousConfig {
            weather: true,
            macro_index: true,
            weather_sensitivity: params.weather_temperature_sensitivity.unwrap_or(0.0),
        });
    }
    if let Some(amplitude) = params.yearly_seasonality_amplitude.filter(|a| *a > 0.0) {
        c.time_series.yearly_amplitude = amplitude;
    }
    if let Some(points) = &params.changepoints {
        c.changepoints = points
            .iter()
            .map(|p| Changepoint {
                date: p.date,
                demand_multiplier: p.demand_multiplier,
                decay_days: p.decay_days.clamp(0, 3650) as u32,
            })
            .collect();
    }
    if params.enable_returns {
        c.returns = Some(ReturnsConfig::default());
    }
    if params.enable_substitution {
        c.substitution = Some(SubstitutionConfig {
            groups: params.substitute_groups.clone().unwrap_or_default(),
            lift: params.substitution_lift_on_stockout.unwrap_or(0.5),
        });
    }

    // Phase 2.
    if params.enable_multichannel {
        let mix = match &params.channel_mix {
            Some(mix) => mix.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            None => vec![
                ("click_collect".to_owned(), 0.1),
                ("in_store".to_owned(), 0.7),
                ("online".to_owned(), 0.2),
            ],
        };
        c.channels = Some(ChannelConfig {
            mix,
            online_promo_uplift: params.online_promo_uplift.unwrap_or(1.0),
            online_substitution_to_instore: params.online_substitution_to_instore.unwrap_or(0.0),
        });
    }
    if params.enable_lifecycle {
        c.lifecycle_discontinue_probability =
            Some(params.lifecycle_discontinue_probability.unwrap_or(0.0));
    }
    if params.enable_bundles {
        c.bundle_probability = Some(params.bundle_probability.unwrap_or(0.2));
    }
    if params.enable_markdowns {
        c.markdown = Some(match params.markdown_trigger {
            Some(MarkdownTriggerParam::StockoutRisk) => MarkdownTrigger::StockoutRisk,
            _ => MarkdownTrigger::LifecycleDecline,
        });
    }
    if params.enable_lead_time {
        c.replenishment = Some(ReplenishmentConfig {
            mean_lead_time_days: params.mean_lead_time_days.unwrap_or(7) as f64,
            ..ReplenishmentConfig::default()
        });
    }

    // Overrides win.
    if let Some(o) = params.overrides.as_ref().filter(|o| !o.is_empty()) {
        if let Some(x) = o.stores {
            c.stores = x as u32;
        }
        if let Some(x) = o.products {
            c.products = x as u32;
        }
        if let Some(x) = o.window_days {
            c.start_date = c.end_date - Days::new(x as u64);
        }
        if let Some(x) = o.sparsity {
            c.sparsity.missing_combinations_pct = x;
        }
        if let Some(x) = o.promotion_intensity {
            c.retail.promotion_probability = x;
        }
        if let Some(x) = o.stockout_intensity {
            c.retail.stockout_probability = x;
        }
        if let Some(x) = o.noise_sigma {
            c.time_series.noise_sigma = x;
        }
    }
    c.batch_size = settings.seeder_batch_size.max(1);
    if c.end_date < c.start_date {
        return Err(Problem::invalid_field(
            "end_date",
            "end_date must be on or after start_date",
            "value_error",
        ));
    }
    check_years(c.start_date, c.end_date)?;
    if c.days() > 3_660 {
        return Err(Problem::invalid_field(
            "end_date",
            "The window may span at most 3660 days",
            "value_error",
        ));
    }
    Ok(c)
}

/// 422 for a window outside the years 1–9999 (the databases' date range
/// without era markers).
pub(crate) fn check_years(start: NaiveDate, end: NaiveDate) -> Result<(), Problem> {
    use chrono::Datelike;
    for (field, date) in [("start_date", start), ("end_date", end)] {
        if !(1..=9999).contains(&date.year()) {
            return Err(Problem::invalid_field(
                field,
                "Dates must fall in the years 0001 to 9999",
                "value_error",
            ));
        }
    }
    Ok(())
}

/// 422 when `stores × products × days` sales rows exceed
/// `SEEDER_MAX_ROWS_PER_REQUEST`: a request may only do bounded work
/// synchronously; bigger data sets are seeded by a `seed` job
/// (`POST /jobs`) or with `forecastlab seed`.
pub(crate) fn check_size(
    settings: &Settings,
    stores: u64,
    products: u64,
    days: u64,
) -> Result<(), Problem> {
    check_rows(
        RowCap {
            rows: settings.seeder_max_rows_per_request,
            setting: "SEEDER_MAX_ROWS_PER_REQUEST",
            field: "body",
            scope: "one request",
            hint: "Send it as a background job (POST /jobs with job_type \"seed\" and this \
                   body as params), seed with `forecastlab seed`, or raise the setting.",
        },
        [stores, products, days],
    )
}

/// The effective configuration of a `seed` job, under the same rules as
/// `POST /seeder/generate` (production guard, validation) but the larger
/// `SEEDER_MAX_ROWS_PER_JOB` cap. Dry runs are refused: they belong to the
/// synchronous route.
pub(crate) fn job_config(
    params: &GenerateParams,
    settings: &Settings,
    today: NaiveDate,
) -> Result<SeederConfig, Problem> {
    guard(settings)?;
    if params.dry_run {
        return Err(Problem::invalid_field(
            "params.dry_run",
            "A seed job always writes; use POST /seeder/generate for a dry run",
            "value_error",
        ));
    }
    let config = build_config(params, settings, today)?;
    check_rows(
        RowCap {
            rows: settings.seeder_max_rows_per_job,
            setting: "SEEDER_MAX_ROWS_PER_JOB",
            field: "params",
            scope: "one job",
            hint: "Seed it with `forecastlab seed`, or raise the setting.",
        },
        [
            u64::from(config.stores),
            u64::from(config.products),
            config.days() as u64,
        ],
    )?;
    Ok(config)
}

/// A cap on the sales rows one unit of work may generate.
struct RowCap {
    rows: u64,
    setting: &'static str,
    field: &'static str,
    scope: &'static str,
    hint: &'static str,
}

fn check_rows(cap: RowCap, [stores, products, days]: [u64; 3]) -> Result<(), Problem> {
    let rows = stores.saturating_mul(products).saturating_mul(days);
    if rows > cap.rows {
        return Err(Problem::invalid_field(
            cap.field,
            format!(
                "{stores} stores x {products} products x {days} days = {rows} sales rows, more \
                 than {} ({}) allows in {}. {}",
                cap.setting, cap.rows, cap.scope, cap.hint
            ),
            "seeder_too_large",
        ));
    }
    Ok(())
}

/// Rounds to 2 decimals.
pub(crate) fn two_decimals(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::parse_json;

    fn build(json: &str) -> SeederConfig {
        let params: GenerateParams = parse_json(json.as_bytes()).unwrap();
        let settings = Settings::from_lookup(|_| None).unwrap();
        build_config(
            &params,
            &settings,
            NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn preset_values_apply_unless_the_request_sets_them() {
        let c = build(r#"{"scenario": "new_launches"}"#);
        assert_eq!((c.stores, c.products, c.days()), (10, 100, 366));
        let c = build(r#"{"scenario": "demo_minimal", "stores": 2}"#);
        assert_eq!((c.stores, c.products, c.days()), (2, 10, 92));
        let c = build(r#"{"scenario": "no_such_thing"}"#);
        assert_eq!((c.stores, c.products), (10, 50));
    }

    #[test]
    fn overrides_are_applied_last() {
        let c = build(
            r#"{"stores": 5, "sparsity": 0.2, "end_date": "2025-06-30",
                "overrides": {"stores": 2, "window_days": 80, "sparsity": 0.4, "noise_sigma": 0}}"#,
        );
        assert_eq!(c.stores, 2);
        assert_eq!(c.start_date, NaiveDate::from_ymd_opt(2025, 4, 11).unwrap());
        assert_eq!(c.sparsity.missing_combinations_pct, 0.4);
        assert_eq!(c.time_series.noise_sigma, 0.0);
        let empty = build(r#"{"seed": 3, "overrides": {}}"#);
        let absent = build(r#"{"seed": 3}"#);
        assert_eq!(empty, absent);
    }

    #[test]
    fn sparsity_replaces_the_preset_block() {
        let c = build(r#"{"scenario": "sparse"}"#);
        assert_eq!(c.sparsity.random_gaps_per_series, 3);
        let c = build(r#"{"scenario": "sparse", "sparsity": 0.3}"#);
        assert_eq!(c.sparsity.random_gaps_per_series, 0);
        assert_eq!(c.sparsity.missing_combinations_pct, 0.3);
    }
}
