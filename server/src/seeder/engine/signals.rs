//! Exogenous signals (per-store weather, the global macro index) and
//! replenishment receipts.

use chrono::{Datelike, NaiveDate};
use rand_chacha::ChaCha8Rng;

use super::clamp_i32;
use crate::seeder::{
    config::ReplenishmentConfig,
    random::normal,
    rows::{ExogenousRow, ReplenishmentRow},
};

/// `15 + 12·sin(2π(day_of_year − 105)/365) + N(0, 2)` per day.
pub(crate) fn weather_series(rng: &mut ChaCha8Rng, days: &[NaiveDate]) -> Vec<f64> {
    days.iter()
        .map(|d| {
            let seasonal = 12.0
                * (2.0 * std::f64::consts::PI * (f64::from(d.ordinal()) - 105.0) / 365.0).sin();
            15.0 + seasonal + 2.0 * normal(rng)
        })
        .collect()
}

/// The global macro index: a random walk from 100 with N(0, 0.5) steps.
pub(crate) fn macro_rows(rng: &mut ChaCha8Rng, days: &[NaiveDate]) -> Vec<ExogenousRow> {
    let mut value = 100.0;
    days.iter()
        .map(|d| {
            value += 0.5 * normal(rng);
            ExogenousRow {
                date: *d,
                signal_name: "macro_index",
                store_id: None,
                value,
            }
        })
        .collect()
}

/// Purchase orders every `order_frequency_days`, received after a Gaussian
/// lead time with a Gaussian fill rate; only receipts inside the window.
pub(crate) fn replenishment_rows(
    rng: &mut ChaCha8Rng,
    rc: &ReplenishmentConfig,
    days: &[NaiveDate],
    store_id: i32,
    product_id: i32,
    out: &mut Vec<ReplenishmentRow>,
) {
    let n = days.len();
    let freq = rc.order_frequency_days.max(1) as usize;
    let ordered = (rc.base_demand * f64::from(rc.order_frequency_days + rc.safety_stock_days))
        .round_ties_even()
        .max(0.0) as i64;
    let mut placed = 0;
    while placed < n {
        let lead = (rc.mean_lead_time_days + rc.lead_time_sigma * normal(rng))
            .round_ties_even()
            .max(0.0) as usize;
        let fill = (rc.fill_rate_mean + rc.fill_rate_sigma * normal(rng)).clamp(0.0, 1.0);
        let received = ((ordered as f64) * fill)
            .round_ties_even()
            .clamp(0.0, ordered as f64) as i64;
        if placed + lead < n {
            out.push(ReplenishmentRow {
                date: days[placed + lead],
                store_id,
                product_id,
                lead_time_days: lead as i32,
                ordered_qty: clamp_i32(ordered),
                received_qty: clamp_i32(received),
            });
        }
        placed += freq;
    }
}
