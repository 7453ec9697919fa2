//! One (store, product) series: daily demand from the plan's factors,
//! noise and anomalies, stockouts, the sales channel and returns.

use forecastlab_core::lifecycle::LifecycleConfig;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{
    clamp_i32,
    factors::{promo_price, substitution_factor, trend_factor, yearly_factor},
    replenishment_rows, Plan, ProductInfo, StoreChunk, MARKDOWN_DEPTH,
};
use crate::seeder::{
    config::CHANNELS,
    random::{mean_one_lognormal, normal, round_cents, stochastic_round, stream_rng, Stream},
    rows::{InventoryRow, ReturnRow, SalesRow},
};

const RETURN_REASONS: [(&str, f64); 5] = [
    ("defective", 0.25),
    ("wrong_size", 0.20),
    ("not_as_described", 0.15),
    ("changed_mind", 0.30),
    ("damaged_in_transit", 0.10),
];
impl Plan {
    /// Appends the rows of series (`si`, `pi`) to `chunk`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn series(
        &self,
        si: usize,
        pi: usize,
        product: &ProductInfo,
        stockouts: &[Vec<bool>],
        groups: &[&Vec<usize>],
        lift: f64,
        weather: Option<&[f64]>,
        sensitivity: f64,
        markdown: Option<&Vec<bool>>,
        chunk: &mut StoreChunk,
    ) {
        let config = &self.config;
        let ts = &config.time_series;
        let retail = &config.retail;
        let seed = config.seed;
        let store_id = self.stores[si];
        let n = self.dates.len();
        let days = &self.dates.days;
        let lifecycle = LifecycleConfig::default();
        let lifecycle_on = config.lifecycle_discontinue_probability.is_some();
        let track = &self.tracks[pi];

        let mut rng = stream_rng(
            seed,
            Stream::Series,
            i64::from(store_id),
            i64::from(product.id),
        );
        let level = ts.base_demand
            * self.store_factor[si]
            * self.product_factor[pi]
            * mean_one_lognormal(&mut rng, 0.2);
        let slope = ts.trend_slope * rng.gen_range(0.5..1.5);
        let active = !self.inactive[si * self.products.len() + pi];
        let mut gap = vec![false; n];
        let sparsity = &config.sparsity;
        if active && sparsity.random_gaps_per_series > 0 && n >= 2 {
            for _ in 0..sparsity.random_gaps_per_series {
                let start = rng.gen_range(0..=n - 2);
                let len = rng.gen_range(
                    sparsity.gap_min_days..=sparsity.gap_max_days.max(sparsity.gap_min_days),
                ) as usize;
                let end = (start + len).min(n);
                gap[start..end].fill(true);
            }
        }
        let occurrence = if active
            && sparsity.missing_combinations_pct > 0.0
            && rng.gen::<f64>() < sparsity.missing_combinations_pct
        {
            rng.gen_range(0.15..0.5)
        } else {
            1.0
        };
        let mut channel_rng = config.channels.as_ref().map(|_| {
            stream_rng(
                seed,
                Stream::Channel,
                i64::from(store_id),
                i64::from(product.id),
            )
        });
        let mut returns_rng = config.returns.as_ref().map(|_| {
            stream_rng(
                seed,
                Stream::Returns,
                i64::from(store_id),
                i64::from(product.id),
            )
        });
        let phase = self.product_phase[pi];
        let base = product.base_cents as f64;

        for d in 0..n {
            let day = days[d];
            // Lifecycle: not sold before launch or from discontinuation on.
            let (listed, life) = if lifecycle_on {
                let point = lifecycle.point(product.launch, product.discontinue, day);
                (
                    point.stage != forecastlab_core::lifecycle::LifecycleStage::Discontinued,
                    point.multiplier,
                )
            } else if let Some(launch) = product.launch {
                let t = (day - launch).num_days();
                let ramp = i64::from(retail.new_product_ramp_days);
                if t < 0 {
                    (false, 0.0)
                } else if t < ramp {
                    (true, (t + 1) as f64 / ramp as f64)
                } else {
                    (true, 1.0)
                }
            } else {
                (true, 1.0)
            };

            let list_price = self.price_on(pi, store_id, d);
            let on_markdown = markdown.is_some_and(|m| m[d]);
            let shelf_price = if on_markdown {
                round_cents(base * (1.0 - MARKDOWN_DEPTH)).max(1)
            } else {
                list_price
            };
            let promo = match track.promo_day[d] {
                u32::MAX => None,
                index => {
                    let window = &track.promos[index as usize];
                    let in_scope = track.promo_store.is_none_or(|s| s == store_id);
                    (in_scope && !window.markdown).then_some(window)
                }
            };
            let price = match promo {
                Some(w) => promo_price(shelf_price, w.pct_e4, w.amount_cents),
                None => shelf_price,
            };

            let mut expected = level
                * trend_factor(ts.trend, slope, d as f64)
                * self.day_factor[d]
                * yearly_factor(ts.yearly_amplitude, self.day_of_year[d], phase)
                * life;
            if promo.is_some() {
                expected *= retail.promotion_lift;
            }
            if retail.price_sales_coupling && base > 0.0 {
                expected *= (1.0 + retail.price_elasticity * (price as f64 - base) / base).max(0.0);
            }
            if let Some(temps) = weather {
                expected *= (1.0 + sensitivity * (temps[d] - 15.0)).max(0.0);
            }
            let stocked_out = stockouts[pi][d];
            if !groups.is_empty() && !stocked_out {
                let mut k = 0;
                let mut s = 0;
                for group in groups {
                    for &other in group.iter() {
                        if other == pi {
                            continue;
                        }
                        if stockouts[other][d] {
                            k += 1;
                        } else {
                            s += 1;
                        }
                    }
                }
                expected *= substitution_factor(lift, k, s);
            }

            let mut demand = expected;
            if ts.noise_sigma > 0.0 {
                demand *= (1.0 + ts.noise_sigma * normal(&mut rng)).max(0.0);
            }
            if ts.anomaly_probability > 0.0 && rng.gen::<f64>() < ts.anomaly_probability {
                if rng.gen::<bool>() {
                    demand *= ts.anomaly_magnitude;
                } else if ts.anomaly_magnitude > 0.0 {
                    demand /= ts.anomaly_magnitude;
                }
            }
            if occurrence < 1.0 && rng.gen::<f64>() >= occurrence {
                demand = 0.0;
            }
            let mut quantity = stochastic_round(&mut rng, demand);

            // Inventory: a stockout day caps sales at the little stock that
            // was on the shelf and ends at zero on hand.
            let typical = expected.max(0.5);
            let (on_hand, on_order) = if stocked_out {
                let available = (rng.gen_range(0.0..0.6) * expected).floor() as i64;
                quantity = quantity.min(available.max(0));
                let order = (typical * 7.0 * rng.gen_range(0.8..1.2)).round().max(1.0) as i64;
                (0, order)
            } else {
                let cover: f64 = rng.gen_range(1.5..10.0);
                let on_hand = (typical * cover).round().max(1.0) as i64;
                let order = if (on_hand as f64) < 3.0 * typical {
                    (typical * 7.0 * rng.gen_range(0.8..1.2)).round().max(1.0) as i64
                } else {
                    0
                };
                (on_hand, order)
            };
            chunk.inventory.push(InventoryRow {
                day: d as u32,
                store_id,
                product_id: product.id,
                on_hand: clamp_i32(on_hand),
                on_order: clamp_i32(on_order),
                stockout: stocked_out,
            });

            if !active || gap[d] || !listed {
                continue;
            }
            let mut channel = "in_store";
            if let (Some(mix), Some(crng)) = (&config.channels, channel_rng.as_mut()) {
                channel = draw_channel(
                    crng,
                    &mix.mix,
                    promo.is_some(),
                    mix.online_substitution_to_instore,
                );
                if channel == "online" && promo.is_some() {
                    quantity = (quantity as f64 * mix.online_promo_uplift)
                        .round_ties_even()
                        .max(0.0) as i64;
                }
            }
            let quantity = clamp_i32(quantity);
            chunk.sales.push(SalesRow {
                day: d as u32,
                store_id,
                product_id: product.id,
                quantity,
                unit_cents: price,
                channel,
            });
            if let (Some(rc), Some(rrng)) = (&config.returns, returns_rng.as_mut()) {
                if quantity > 0 && rrng.gen::<f64>() < rc.probability {
                    let lag = rrng.gen_range(rc.lag_min_days..=rc.lag_max_days.max(rc.lag_min_days))
                        as usize;
                    let date = days[(d + lag).min(n - 1)];
                    let q = i64::from(quantity);
                    let back = q.min(((q as f64) * rc.fraction).round_ties_even().max(1.0) as i64);
                    chunk.returns.push(ReturnRow {
                        date,
                        store_id,
                        product_id: product.id,
                        quantity: clamp_i32(back),
                        reason: weighted_reason(rrng),
                    });
                }
            }
        }

        if let Some(rc) = &config.replenishment {
            let mut rng = stream_rng(
                seed,
                Stream::Replenishment,
                i64::from(store_id),
                i64::from(product.id),
            );
            replenishment_rows(
                &mut rng,
                rc,
                days,
                store_id,
                product.id,
                &mut chunk.replenishment,
            );
        }
    }
}

fn draw_channel(
    rng: &mut ChaCha8Rng,
    mix: &[(String, f64)],
    promo: bool,
    shift: f64,
) -> &'static str {
    let mut weights: Vec<(&str, f64)> = mix.iter().map(|(c, w)| (c.as_str(), *w)).collect();
    if promo && shift > 0.0 {
        let online = weights
            .iter()
            .find(|(c, _)| *c == "online")
            .map_or(0.0, |(_, w)| *w);
        let moved = online * shift;
        let mut taken = 0.0;
        for (c, w) in weights.iter_mut() {
            if *c == "in_store" {
                taken = moved.min(*w);
                *w -= taken;
            }
        }
        for (c, w) in weights.iter_mut() {
            if *c == "online" {
                *w += taken;
            }
        }
    }
    let total: f64 = weights.iter().map(|(_, w)| *w).sum();
    let mut x = rng.gen::<f64>() * total;
    for (c, w) in &weights {
        if x < *w {
            return static_channel(c);
        }
        x -= *w;
    }
    weights
        .last()
        .map_or("in_store", |(c, _)| static_channel(c))
}

fn static_channel(name: &str) -> &'static str {
    CHANNELS
        .iter()
        .find(|c| **c == name)
        .copied()
        .unwrap_or("in_store")
}

fn weighted_reason(rng: &mut ChaCha8Rng) -> &'static str {
    let mut x = rng.gen::<f64>();
    for (reason, weight) in RETURN_REASONS {
        if x < weight {
            return reason;
        }
        x -= weight;
    }
    RETURN_REASONS[RETURN_REASONS.len() - 1].0
}
