//! Own-price elasticity learned from a series' history: ordinary least
//! squares of `ln(quantity)` on `ln(price)` with controls for what else
//! moves demand when prices move — the day of the week, promotion days
//! (promotions lift demand on the same days prices drop; without the
//! control the lift would be read as price response), a linear trend and,
//! over a year or more of data, the yearly cycle (price changes happen at
//! some point in time, so growth or a season would otherwise be read as
//! price response too). Only days with sales, a known positive price and
//! stock on the shelf are used (a stocked-out day's sales are censored),
//! and only when the price varied. Otherwise the fixed −1.2 is used, with
//! the reason.

use chrono::{Datelike, NaiveDate};
use forecastlab_core::linalg::solve_spd;

use super::{adjust::PRICE_ELASTICITY, schemas::ElasticityEstimate};

/// Fewest usable days for an estimate.
pub const MIN_OBSERVATIONS: usize = 28;
/// Fewest distinct prices for an estimate.
pub const MIN_PRICE_LEVELS: usize = 2;

/// One observed day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Day {
    /// Date (its weekday is a control).
    pub date: NaiveDate,
    /// Units sold.
    pub quantity: f64,
    /// Unit price.
    pub price: f64,
    /// True when a promotion was active.
    pub promoted: bool,
    /// True when the product was out of stock.
    pub stocked_out: bool,
}

/// Columns: intercept, ln price, promotion, six weekday dummies (Monday
/// is the reference), trend in years, and the yearly cycle's sine and
/// cosine.
const P: usize = 12;
/// Fewest days spanned before the yearly cycle is controlled for.
const YEARLY_SPAN_DAYS: i64 = 365;

fn fallback(reason: String, observations: usize, price_levels: usize) -> ElasticityEstimate {
    ElasticityEstimate {
        elasticity: PRICE_ELASTICITY,
        source: "fallback".into(),
        estimate: None,
        standard_error: None,
        price_levels,
        observations,
        reason: Some(reason),
    }
}

/// Estimates the elasticity (or falls back to −1.2, saying why).
pub fn estimate(days: &[Day]) -> ElasticityEstimate {
    let used: Vec<&Day> = days
        .iter()
        .filter(|d| d.quantity > 0.0 && d.price.is_finite() && d.price > 0.0 && !d.stocked_out)
        .collect();
    let n = used.len();
    let mut prices: Vec<i64> = used
        .iter()
        .map(|d| (d.price * 100.0).round() as i64)
        .collect();
    prices.sort_unstable();
    prices.dedup();
    let levels = prices.len();
    if n < MIN_OBSERVATIONS {
        return fallback(
            format!("only {n} days with sales and a price (need {MIN_OBSERVATIONS})"),
            n,
            levels,
        );
    }
    if levels < MIN_PRICE_LEVELS {
        return fallback(
            "the price never changed, so its effect cannot be identified".into(),
            n,
            levels,
        );
    }
    let first = used.iter().map(|d| d.date).min().unwrap_or_default();
    let last = used.iter().map(|d| d.date).max().unwrap_or_default();
    let yearly = (last - first).num_days() >= YEARLY_SPAN_DAYS;
    let mut gram = [0.0; P * P];
    let mut rhs = [0.0; P];
    let mut rows: Vec<([f64; P], f64)> = Vec::with_capacity(n);
    for day in &used {
        let mut x = [0.0; P];
        x[0] = 1.0;
        x[1] = day.price.ln();
        x[2] = if day.promoted { 1.0 } else { 0.0 };
        let weekday = day.date.weekday().num_days_from_monday() as usize;
        if weekday > 0 {
            x[2 + weekday] = 1.0;
        }
        x[9] = (day.date - first).num_days() as f64 / 365.25;
        if yearly {
            let angle = std::f64::consts::TAU * f64::from(day.date.ordinal0()) / 365.25;
            (x[10], x[11]) = angle.sin_cos();
        }
        let y = day.quantity.ln();
        for i in 0..P {
            rhs[i] += x[i] * y;
            for j in 0..P {
                gram[i * P + j] += x[i] * x[j];
            }
        }
        rows.push((x, y));
    }
    // A column that never varies (no promotions, a weekday never seen, no
    // yearly cycle)
    // gets a unit diagonal so the system stays solvable; its coefficient
    // is then 0 and does not affect the others.
    for i in 2..P {
        if gram[i * P + i] == 0.0 {
            gram[i * P + i] = 1.0;
        }
    }
    let beta = solve_spd(&gram, &rhs, P);
    let rss: f64 = rows
        .iter()
        .map(|(x, y)| {
            let fit: f64 = x.iter().zip(&beta).map(|(a, b)| a * b).sum();
            (y - fit).powi(2)
        })
        .sum();
    let dof = n.saturating_sub(P).max(1) as f64;
    let mut unit = [0.0; P];
    unit[1] = 1.0;
    let inverse_col = solve_spd(&gram, &unit, P);
    let variance = rss / dof * inverse_col[1];
    let elasticity = beta[1];
    let standard_error = variance.max(0.0).sqrt();
    if !elasticity.is_finite() || !standard_error.is_finite() {
        return fallback("the price and the controls are collinear".into(), n, levels);
    }
    ElasticityEstimate {
        elasticity,
        source: "learned".into(),
        estimate: Some(elasticity),
        standard_error: Some(standard_error),
        price_levels: levels,
        observations: n,
        reason: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(elasticity: f64, levels: &[f64]) -> Vec<Day> {
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        (0..200u64)
            .map(|i| {
                let date = start + chrono::Days::new(i);
                let price = levels[(i as usize / 10) % levels.len()];
                let promoted = i % 17 < 3;
                let weekday = [0.8, 0.9, 1.0, 1.0, 1.1, 1.3, 1.2]
                    [date.weekday().num_days_from_monday() as usize];
                let lift = if promoted { 1.3 } else { 1.0 };
                // deterministic noise in ±5 %
                let noise = 1.0 + ((i * 7919) % 101) as f64 / 1000.0 - 0.05;
                let quantity = 50.0 * price.powf(elasticity) * weekday * lift * noise;
                Day {
                    date,
                    quantity,
                    price,
                    promoted,
                    stocked_out: false,
                }
            })
            .collect()
    }

    #[test]
    fn recovers_a_known_elasticity() {
        for truth in [-0.5, -1.2, -2.0] {
            let found = estimate(&series(truth, &[9.0, 10.0, 11.0, 10.5]));
            assert_eq!(found.source, "learned");
            assert!((found.elasticity - truth).abs() < 0.1, "{truth}: {found:?}");
            assert!(found.standard_error.unwrap() > 0.0);
            assert_eq!(found.price_levels, 4);
            assert_eq!(found.observations, 200);
        }
    }

    #[test]
    fn growth_and_the_yearly_cycle_are_not_read_as_price_response() {
        // Two years of 40 % growth and a ±15 % yearly cycle; the price is
        // raised by 10 % a year in, at the peak of the growth, and cut by
        // 15 % for 100 days around the next summer. Stocked-out days sell
        // a fraction of demand and must be left out.
        let truth = -0.5;
        let start = NaiveDate::from_ymd_opt(2023, 1, 1).unwrap();
        let days: Vec<Day> = (0..730u64)
            .map(|i| {
                let date = start + chrono::Days::new(i);
                let t = i as f64;
                let price: f64 = match i {
                    0..365 => 10.0,
                    500..600 => 9.35,
                    _ => 11.0,
                };
                let yearly = 1.0
                    + 0.15 * (std::f64::consts::TAU * f64::from(date.ordinal0()) / 365.25).sin();
                let noise = 1.0 + ((i * 7919) % 101) as f64 / 1000.0 - 0.05;
                let stocked_out = i % 29 == 3;
                let share = if stocked_out { 0.2 } else { 1.0 };
                Day {
                    date,
                    quantity: 80.0
                        * (1.0 + 0.0005 * t)
                        * yearly
                        * price.powf(truth)
                        * noise
                        * share,
                    price,
                    promoted: false,
                    stocked_out,
                }
            })
            .collect();
        let found = estimate(&days);
        assert_eq!(found.source, "learned");
        assert!((found.elasticity - truth).abs() < 0.1, "{found:?}");
        assert_eq!(found.observations, 730 - 26);
    }

    #[test]
    fn constant_price_falls_back() {
        let found = estimate(&series(-0.5, &[10.0]));
        assert_eq!(found.source, "fallback");
        assert_eq!(found.elasticity, PRICE_ELASTICITY);
        assert!(found.reason.unwrap().contains("never changed"));
    }

    #[test]
    fn too_few_days_fall_back() {
        let days = series(-0.5, &[9.0, 11.0]);
        let found = estimate(&days[..10]);
        assert_eq!(found.source, "fallback");
        assert_eq!(found.observations, 10);
        // zero-sales days are not used
        let mut zeros = days.clone();
        for day in zeros.iter_mut().skip(20) {
            day.quantity = 0.0;
        }
        assert_eq!(estimate(&zeros).observations, 20);
    }
}
