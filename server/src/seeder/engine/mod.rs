//! The generators: pure functions from a configuration, a seed and the ids
//! already in the database to rows. No SQL here.
//!
//! # Determinism
//!
//! All randomness comes from one ChaCha8 generator keyed by the seed. Each
//! generator reads its own *stream* of that key, named by what it generates
//! and the ids it generates for (`(Series, store_id, product_id)`, …), so
//! the data depends only on the seed, the effective configuration and the
//! ids — not on batch sizes, chunking or which thread generated what — and a
//! disabled feature consumes no draws of any other stream.

mod factors;
mod prices;
mod series;
mod signals;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use rand::{seq::SliceRandom, Rng};

use super::{
    config::{holidays_in, MarkdownTrigger, SeederConfig},
    random::{mean_one_lognormal, round_cents, stream_rng, Stream},
    rows::{
        Dates, ExogenousRow, InventoryRow, PriceRow, PromotionRow, ReplenishmentRow, ReturnRow,
        SalesRow,
    },
};
use factors::{category_phase, changepoint_factor};
use prices::ProductTracks;
pub(crate) use signals::{macro_rows, replenishment_rows, weather_series};

/// A product as the fact generators see it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ProductInfo {
    pub(crate) id: i32,
    pub(crate) base_cents: i64,
    pub(crate) category: Option<String>,
    pub(crate) launch: Option<NaiveDate>,
    pub(crate) discontinue: Option<NaiveDate>,
}

/// Everything decided before the per-store pass: prices, promotions,
/// sparsity, levels and the day factors.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) config: SeederConfig,
    pub(crate) dates: Dates,
    pub(crate) stores: Vec<i32>,
    pub(crate) products: Vec<ProductInfo>,
    product_index: HashMap<i64, usize>,
    store_factor: Vec<f64>,
    product_factor: Vec<f64>,
    product_phase: Vec<f64>,
    /// weekly × monthly × holiday × changepoints per day.
    day_factor: Vec<f64>,
    day_of_year: Vec<u32>,
    tracks: Vec<ProductTracks>,
    inactive: Vec<bool>,
    /// Price windows and promotions decided up front.
    pub(crate) price_rows: Vec<PriceRow>,
    pub(crate) promotion_rows: Vec<PromotionRow>,
    /// Global exogenous rows (macro index).
    pub(crate) global_exogenous: Vec<ExogenousRow>,
}

const MARKDOWN_DAYS: usize = 14;
const MARKDOWN_DEPTH: f64 = 0.30;

impl Plan {
    /// Builds the plan for `stores` × `products` (ids ascending).
    pub(crate) fn new(config: SeederConfig, stores: Vec<i32>, products: Vec<ProductInfo>) -> Self {
        let seed = config.seed;
        let dates = Dates::new(config.start_date, config.end_date);
        let n = dates.len();
        let ts = &config.time_series;

        let holidays = holidays_in(config.start_date, config.end_date, &config.holidays);
        let holiday_mult: HashMap<NaiveDate, f64> = holidays
            .iter()
            .filter(|h| {
                config.federal_holiday_effects || config.holidays.iter().any(|c| c.date == h.date)
            })
            .map(|h| (h.date, h.multiplier))
            .collect();
        let mut day_factor = Vec::with_capacity(n);
        let mut day_of_year = Vec::with_capacity(n);
        for day in &dates.days {
            let mut f = ts.weekly[day.weekday().num_days_from_monday() as usize];
            if let Some(monthly) = &ts.monthly {
                f *= monthly[day.month0() as usize];
            }
            f *= holiday_mult.get(day).copied().unwrap_or(1.0);
            f *= changepoint_factor(&config.changepoints, *day);
            day_factor.push(f);
            day_of_year.push(day.ordinal());
        }

        let store_factor = stores
            .iter()
            .map(|id| {
                mean_one_lognormal(
                    &mut stream_rng(seed, Stream::StoreLevel, i64::from(*id), 0),
                    0.25,
                )
            })
            .collect();
        let product_factor = products
            .iter()
            .map(|p| {
                mean_one_lognormal(
                    &mut stream_rng(seed, Stream::ProductLevel, i64::from(p.id), 0),
                    0.5,
                )
            })
            .collect();
        let product_phase = products
            .iter()
            .map(|p| category_phase(p.category.as_deref()))
            .collect();
        let product_index = products
            .iter()
            .enumerate()
            .map(|(i, p)| (i64::from(p.id), i))
            .collect();

        let mut plan = Self {
            dates,
            stores,
            products,
            product_index,
            store_factor,
            product_factor,
            product_phase,
            day_factor,
            day_of_year,
            tracks: Vec::new(),
            inactive: Vec::new(),
            price_rows: Vec::new(),
            promotion_rows: Vec::new(),
            global_exogenous: Vec::new(),
            config,
        };
        plan.build_prices_and_promotions();
        plan.build_sparsity();
        plan.build_macro();
        plan
    }

    fn build_sparsity(&mut self) {
        let pairs = self.stores.len() * self.products.len();
        self.inactive = vec![false; pairs];
        let pct = self.config.sparsity.missing_combinations_pct;
        if pct <= 0.0 || pairs == 0 {
            return;
        }
        let mut order: Vec<usize> = (0..pairs).collect();
        let mut rng = stream_rng(self.config.seed, Stream::Sparsity, 0, 0);
        order.shuffle(&mut rng);
        let count = ((pairs as f64) * pct).floor() as usize;
        for &pair in order.iter().take(count) {
            self.inactive[pair] = true;
        }
    }

    fn build_macro(&mut self) {
        let Some(exo) = &self.config.exogenous else {
            return;
        };
        if !exo.macro_index {
            return;
        }
        let mut rng = stream_rng(self.config.seed, Stream::Macro, 0, 0);
        self.global_exogenous = macro_rows(&mut rng, &self.dates.days);
    }

    /// Number of (store, product) pairs that never sell.
    #[cfg(test)]
    pub(crate) fn inactive_pairs(&self) -> usize {
        self.inactive.iter().filter(|x| **x).count()
    }

    fn price_on(&self, pi: usize, store_id: i32, day: usize) -> i64 {
        let track = &self.tracks[pi];
        if let Some((id, daily)) = &track.store_price {
            if *id == store_id {
                return daily[day];
            }
        }
        match &track.chain_price {
            Some(daily) => daily[day],
            None => self.products[pi].base_cents,
        }
    }

    /// Every row of one store: inventory for every product and day, sales
    /// for active pairs, and the optional returns, replenishment, weather
    /// and stockout-risk markdowns.
    pub(crate) fn store_chunk(&self, si: usize) -> StoreChunk {
        let config = &self.config;
        let seed = config.seed;
        let store_id = self.stores[si];
        let n = self.dates.len();
        let np = self.products.len();
        let days = &self.dates.days;
        let mut chunk = StoreChunk::default();
        chunk.sales.reserve(np * n);
        chunk.inventory.reserve(np * n);

        // Weather for this store.
        let weather: Option<Vec<f64>> = config.exogenous.as_ref().filter(|e| e.weather).map(|_| {
            let mut rng = stream_rng(seed, Stream::Weather, i64::from(store_id), 0);
            let temps = weather_series(&mut rng, days);
            for (d, t) in temps.iter().enumerate() {
                chunk.exogenous.push(ExogenousRow {
                    date: days[d],
                    signal_name: "weather_temp_c",
                    store_id: Some(store_id),
                    value: *t,
                });
            }
            temps
        });
        let sensitivity = config
            .exogenous
            .as_ref()
            .map_or(0.0, |e| e.weather_sensitivity);

        // Stockout days of every product at this store (substitution and
        // stockout-risk markdowns look across products).
        let p_stockout = config.retail.stockout_probability;
        let stockouts: Vec<Vec<bool>> = self
            .products
            .iter()
            .map(|p| {
                if p_stockout <= 0.0 {
                    return vec![false; n];
                }
                let mut rng =
                    stream_rng(seed, Stream::Stockout, i64::from(store_id), i64::from(p.id));
                (0..n).map(|_| rng.gen::<f64>() < p_stockout).collect()
            })
            .collect();

        // Stockout-risk markdowns: store-specific windows before each stockout.
        let mut markdown_days: Vec<Vec<bool>> = Vec::new();
        if config.markdown == Some(MarkdownTrigger::StockoutRisk) {
            markdown_days = vec![Vec::new(); np];
            for (pi, product) in self.products.iter().enumerate() {
                let mut covered = vec![false; n];
                let mut last_end: Option<usize> = None;
                let price = round_cents(product.base_cents as f64 * (1.0 - MARKDOWN_DEPTH)).max(1);
                for (day, &out) in stockouts[pi].iter().enumerate() {
                    if !out || day == 0 {
                        continue;
                    }
                    let end = day - 1;
                    let start = day.saturating_sub(MARKDOWN_DAYS);
                    if last_end.is_some_and(|last| start <= last) {
                        continue;
                    }
                    covered[start..=end].fill(true);
                    last_end = Some(end);
                    chunk.prices.push(PriceRow {
                        product_id: product.id,
                        store_id: Some(store_id),
                        price_cents: price,
                        valid_from: days[start],
                        valid_to: Some(days[end]),
                    });
                    chunk.promotions.push(PromotionRow {
                        product_id: product.id,
                        store_id: Some(store_id),
                        name: "Stockout Clearance",
                        discount_pct_e4: Some((MARKDOWN_DEPTH * 10_000.0) as i64),
                        discount_amount_cents: None,
                        start_date: days[start],
                        end_date: days[end],
                        kind: "markdown",
                        members: None,
                    });
                }
                markdown_days[pi] = covered;
            }
        }

        // Substitution groups by product index.
        let groups: Vec<Vec<usize>> = config
            .substitution
            .as_ref()
            .map(|s| {
                s.groups
                    .iter()
                    .map(|g| {
                        g.iter()
                            .filter_map(|id| self.product_index.get(id).copied())
                            .collect()
                    })
                    .collect()
            })
            .unwrap_or_default();
        let lift = config.substitution.as_ref().map_or(0.0, |s| s.lift);

        for (pi, product) in self.products.iter().enumerate() {
            let my_groups: Vec<&Vec<usize>> = groups.iter().filter(|g| g.contains(&pi)).collect();
            let md = markdown_days.get(pi).filter(|v| !v.is_empty());
            self.series(
                si,
                pi,
                product,
                &stockouts,
                &my_groups,
                lift,
                weather.as_deref(),
                sensitivity,
                md,
                &mut chunk,
            );
        }
        chunk
    }
}

fn clamp_i32(v: i64) -> i32 {
    v.clamp(0, i64::from(i32::MAX)) as i32
}

/// The rows of one store.
#[derive(Debug, Default)]
pub(crate) struct StoreChunk {
    pub(crate) sales: Vec<SalesRow>,
    pub(crate) inventory: Vec<InventoryRow>,
    pub(crate) returns: Vec<ReturnRow>,
    pub(crate) replenishment: Vec<ReplenishmentRow>,
    pub(crate) exogenous: Vec<ExogenousRow>,
    pub(crate) prices: Vec<PriceRow>,
    pub(crate) promotions: Vec<PromotionRow>,
}
