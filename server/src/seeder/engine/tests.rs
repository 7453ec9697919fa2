//! Unit tests of the generators: factors, determinism, stockouts,
//! sparsity, promotions, seasonality and the side series.

use std::collections::HashSet;

use super::{
    factors::{changepoint_factor, promo_price, substitution_factor, trend_factor, yearly_factor},
    *,
};
use crate::seeder::{
    config::{ScenarioPreset, SeederConfig, Trend},
    dimensions::{generate_products, generate_stores},
};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn products(n: i32) -> Vec<ProductInfo> {
    (1..=n)
        .map(|id| ProductInfo {
            id,
            base_cents: 500,
            category: Some("Snack".into()),
            launch: None,
            discontinue: None,
        })
        .collect()
}

fn plan(mut config: SeederConfig, stores: i32, n_products: i32) -> Plan {
    config.start_date = d(2024, 1, 1);
    config.end_date = d(2024, 12, 30);
    Plan::new(config, (1..=stores).collect(), products(n_products))
}

#[test]
fn trend_and_yearly_factors() {
    assert_eq!(trend_factor(Trend::None, 0.1, 50.0), 1.0);
    assert!((trend_factor(Trend::Linear, 0.01, 10.0) - 1.1).abs() < 1e-12);
    assert!((trend_factor(Trend::Exponential, 0.01, 100.0) - 1f64.exp()).abs() < 1e-12);
    assert_eq!(trend_factor(Trend::Linear, -0.1, 20.0), 0.0);
    // Peak a quarter-year after the zero crossing.
    assert!((yearly_factor(0.2, 91, 0.25) - 1.2).abs() < 1e-6);
    assert_eq!(yearly_factor(0.0, 10, 0.0), 1.0);
}

#[test]
fn changepoints_decay_and_substitution_lifts() {
    let cp = vec![crate::seeder::config::Changepoint {
        date: d(2024, 1, 10),
        demand_multiplier: 2.0,
        decay_days: 10,
    }];
    assert_eq!(changepoint_factor(&cp, d(2024, 1, 9)), 1.0);
    assert!((changepoint_factor(&cp, d(2024, 1, 10)) - 2.0).abs() < 1e-12);
    assert!((changepoint_factor(&cp, d(2024, 1, 20)) - (1.0 + (-1f64).exp())).abs() < 1e-12);
    let one_day = vec![crate::seeder::config::Changepoint {
        decay_days: 0,
        ..cp[0].clone()
    }];
    assert_eq!(changepoint_factor(&one_day, d(2024, 1, 11)), 1.0);
    assert_eq!(substitution_factor(0.5, 0, 3), 1.0);
    assert!((substitution_factor(0.5, 2, 0) - 2.0).abs() < 1e-12);
    assert!((substitution_factor(0.5, 1, 1) - 1.25).abs() < 1e-12);
}

#[test]
fn promotions_cut_price_with_a_floor() {
    assert_eq!(promo_price(1000, Some(2000), None), 800);
    assert_eq!(promo_price(1000, None, Some(300)), 700);
    assert_eq!(promo_price(200, None, Some(500)), 50);
    assert_eq!(promo_price(999, None, None), 999);
}

#[test]
fn dimensions_are_unique_and_deterministic() {
    let stores = generate_stores(3, 200).unwrap();
    let codes: HashSet<_> = stores.iter().map(|s| s.code.clone()).collect();
    assert_eq!(codes.len(), 200);
    assert_eq!(stores, generate_stores(3, 200).unwrap());
    assert_ne!(stores, generate_stores(4, 200).unwrap());
    let mut config = SeederConfig::defaults(d(2025, 1, 1));
    config.products = 300;
    let products = generate_products(&config).unwrap();
    let skus: HashSet<_> = products.iter().map(|p| p.sku.clone()).collect();
    assert_eq!(skus.len(), 300);
    assert!(products
        .iter()
        .all(|p| (99..=2999).contains(&p.base_price_cents)
            && p.base_cost_cents < p.base_price_cents
            && p.launch_date.is_none()));
    assert!(generate_stores(1, 10_000).is_err());
}

#[test]
fn stockout_days_cap_sales_and_match_the_probability() {
    let mut config = ScenarioPreset::StockoutHeavy.config(d(2025, 1, 1));
    config.retail.promotion_probability = 0.0;
    let plan = plan(config, 2, 10);
    let mut stockout_days = 0;
    let mut total = 0;
    for si in 0..2 {
        let chunk = plan.store_chunk(si);
        total += chunk.inventory.len();
        for inv in &chunk.inventory {
            if inv.stockout {
                stockout_days += 1;
                assert_eq!(inv.on_hand, 0);
            } else {
                assert!(inv.on_hand > 0);
            }
        }
        // A stockout day sells less than an average day of that series.
        let by_key: HashMap<(u32, i32), i32> = chunk
            .sales
            .iter()
            .map(|s| ((s.day, s.product_id), s.quantity))
            .collect();
        let mut capped = Vec::new();
        let mut normal_days = Vec::new();
        for inv in &chunk.inventory {
            if let Some(q) = by_key.get(&(inv.day, inv.product_id)) {
                if inv.stockout {
                    capped.push(*q)
                } else {
                    normal_days.push(*q)
                }
            }
        }
        let mean = |v: &[i32]| v.iter().map(|x| f64::from(*x)).sum::<f64>() / v.len() as f64;
        assert!(mean(&capped) < 0.5 * mean(&normal_days));
    }
    let share = f64::from(stockout_days) / total as f64;
    assert!((share - 0.25).abs() < 0.03, "{share}");
}

#[test]
fn sparsity_makes_inactive_pairs_and_intermittent_series() {
    let plan = plan(ScenarioPreset::Sparse.config(d(2025, 1, 1)), 4, 10);
    assert_eq!(plan.inactive_pairs(), 20);
    let mut pairs_with_sales = HashSet::new();
    let mut zero = 0;
    let mut rows = 0;
    for si in 0..4 {
        let chunk = plan.store_chunk(si);
        assert_eq!(chunk.inventory.len(), 10 * 365);
        for s in &chunk.sales {
            pairs_with_sales.insert((s.store_id, s.product_id));
            rows += 1;
            if s.quantity == 0 {
                zero += 1;
            }
        }
    }
    assert_eq!(pairs_with_sales.len(), 20);
    // Gaps remove rows; intermittent series add zeros.
    assert!(rows < 20 * 365);
    assert!(zero > 0);
}

#[test]
fn promotions_lift_units_and_cut_price() {
    let mut config = ScenarioPreset::RetailStandard.config(d(2025, 1, 1));
    config.retail.promotion_probability = 0.5;
    config.retail.stockout_probability = 0.0;
    config.time_series.noise_sigma = 0.0;
    config.time_series.anomaly_probability = 0.0;
    let plan = plan(config, 1, 20);
    let chunk = plan.store_chunk(0);
    let mut promo_q = Vec::new();
    let mut plain_q = Vec::new();
    let mut cut = 0;
    for s in &chunk.sales {
        let pi = (s.product_id - 1) as usize;
        let track = &plan.tracks[pi];
        let on_promo = track.promo_day[s.day as usize] != u32::MAX;
        let list = plan.price_on(pi, s.store_id, s.day as usize);
        if on_promo {
            promo_q.push(f64::from(s.quantity));
            assert!(s.unit_cents < list);
            cut += 1;
        } else {
            plain_q.push(f64::from(s.quantity));
            assert_eq!(s.unit_cents, list);
        }
    }
    assert!(cut > 100);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(mean(&promo_q) > 1.2 * mean(&plain_q));
}

#[test]
fn weekly_seasonality_shows_in_the_output() {
    let mut config = ScenarioPreset::RetailStandard.config(d(2025, 1, 1));
    config.retail.promotion_probability = 0.0;
    config.retail.stockout_probability = 0.0;
    let plan = plan(config, 2, 10);
    let mut by_weekday = [0f64; 7];
    for si in 0..2 {
        for s in plan.store_chunk(si).sales {
            let wd = plan.dates.days[s.day as usize]
                .weekday()
                .num_days_from_monday();
            by_weekday[wd as usize] += f64::from(s.quantity);
        }
    }
    // Saturday (1.3) beats Monday (0.8).
    assert!(by_weekday[5] > 1.4 * by_weekday[0]);
}

#[test]
fn replenishment_and_macro_follow_their_formulas() {
    let days: Vec<NaiveDate> = d(2024, 1, 1).iter_days().take(60).collect();
    let mut out = Vec::new();
    let rc = crate::seeder::config::ReplenishmentConfig::default();
    replenishment_rows(
        &mut stream_rng(1, Stream::Replenishment, 1, 1),
        &rc,
        &days,
        1,
        1,
        &mut out,
    );
    assert!(!out.is_empty() && out.len() <= 5);
    assert!(out
        .iter()
        .all(|r| r.ordered_qty == 1700 && r.received_qty <= r.ordered_qty));
    let macro_rows = macro_rows(&mut stream_rng(1, Stream::Macro, 0, 0), &days);
    assert_eq!(macro_rows.len(), 60);
    assert!(macro_rows
        .iter()
        .all(|r| r.store_id.is_none() && (r.value - 100.0).abs() < 30.0));
}

#[test]
fn chunks_are_deterministic() {
    let config = ScenarioPreset::HighVariance.config(d(2025, 1, 1));
    let a = plan(config.clone(), 2, 5).store_chunk(1);
    let b = plan(config, 2, 5).store_chunk(1);
    assert_eq!(a.sales, b.sales);
    assert_eq!(a.inventory, b.inventory);
}
