//! The multipliers that shape expected demand (trend, yearly cycle,
//! changepoints, substitution) and the promotion price rule.

use chrono::NaiveDate;

use crate::seeder::{
    config::{Changepoint, Trend},
    random::round_cents,
};

/// Trend multiplier on day `d` (days since the first generated date).
pub(crate) fn trend_factor(trend: Trend, slope: f64, d: f64) -> f64 {
    match trend {
        Trend::None => 1.0,
        Trend::Linear => (1.0 + slope * d).max(0.0),
        Trend::Exponential => (slope * d).exp(),
    }
}

/// Yearly multiplier `1 + A·sin(2π(day_of_year + offset)/365)`.
pub(crate) fn yearly_factor(amplitude: f64, day_of_year: u32, offset: f64) -> f64 {
    if amplitude == 0.0 {
        return 1.0;
    }
    1.0 + amplitude * (2.0 * std::f64::consts::PI * (f64::from(day_of_year) + offset) / 365.0).sin()
}

/// Phase of the yearly cycle by category: summer peaks for drinks, frozen
/// food and produce; winter peaks for bakery; spring for the rest.
pub(super) fn category_phase(category: Option<&str>) -> f64 {
    match category {
        // sin peaks at day 91 + offset … pick offsets for the peak month.
        Some("Beverage") | Some("Frozen") => -100.0, // peak ≈ early July
        Some("Produce") => -70.0,                    // peak ≈ June
        Some("Bakery") => 170.0,                     // peak ≈ December
        _ => 0.0,                                    // peak ≈ April
    }
}

/// Sum of changepoint effects on `day`.
pub(crate) fn changepoint_factor(points: &[Changepoint], day: NaiveDate) -> f64 {
    let mut total = 1.0;
    for cp in points {
        let delta = (day - cp.date).num_days();
        if delta < 0 {
            continue;
        }
        let effect = if cp.decay_days == 0 {
            if delta == 0 {
                1.0
            } else {
                0.0
            }
        } else {
            (-(delta as f64) / f64::from(cp.decay_days)).exp()
        };
        total += (cp.demand_multiplier - 1.0) * effect;
    }
    total.max(0.0)
}

/// Substitution multiplier: `k` members out of stock, `s` other members in
/// stock.
pub(crate) fn substitution_factor(lift: f64, k: usize, s: usize) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if s == 0 {
        1.0 + lift * k as f64
    } else {
        1.0 + lift * k as f64 / (s as f64 + 1.0)
    }
}

/// Selling price on a promotion day.
pub(crate) fn promo_price(price_cents: i64, pct_e4: Option<i64>, amount_cents: Option<i64>) -> i64 {
    let floor = (price_cents + 3) / 4; // never below a quarter of the shelf price
    let cut = match (pct_e4, amount_cents) {
        (Some(e4), _) => price_cents - round_cents(price_cents as f64 * e4 as f64 / 10_000.0),
        (None, Some(amount)) => price_cents - amount,
        (None, None) => price_cents,
    };
    cut.max(floor).max(1)
}
