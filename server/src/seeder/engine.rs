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

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use forecastlab_core::lifecycle::LifecycleConfig;
use rand::{seq::SliceRandom, Rng};
use rand_chacha::ChaCha8Rng;

use super::{
    config::{holidays_in, MarkdownTrigger, SeederConfig, Trend},
    dimensions::pick,
    random::{mean_one_lognormal, normal, round_cents, stochastic_round, stream_rng, Stream},
    rows::{
        Dates, ExogenousRow, InventoryRow, PriceRow, PromotionRow, ReplenishmentRow, ReturnRow,
        SalesRow,
    },
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
fn category_phase(category: Option<&str>) -> f64 {
    match category {
        // sin peaks at day 91 + offset … pick offsets for the peak month.
        Some("Beverage") | Some("Frozen") => -100.0, // peak ≈ early July
        Some("Produce") => -70.0,                    // peak ≈ June
        Some("Bakery") => 170.0,                     // peak ≈ December
        _ => 0.0,                                    // peak ≈ April
    }
}

/// Sum of changepoint effects on `day`.
pub(crate) fn changepoint_factor(points: &[super::config::Changepoint], day: NaiveDate) -> f64 {
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

// ---------------------------------------------------------------------------
// Facts

/// A product as the fact generators see it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ProductInfo {
    pub(crate) id: i32,
    pub(crate) base_cents: i64,
    pub(crate) category: Option<String>,
    pub(crate) launch: Option<NaiveDate>,
    pub(crate) discontinue: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
struct PromoWindow {
    pct_e4: Option<i64>,
    amount_cents: Option<i64>,
    markdown: bool,
}

#[derive(Debug, Clone, Default)]
struct ProductTracks {
    /// Chain-wide resolved price per day (None = base price).
    chain_price: Option<Vec<i64>>,
    /// Store-specific price history.
    store_price: Option<(i32, Vec<i64>)>,
    /// Promotion scope (None = chain-wide).
    promo_store: Option<i32>,
    promos: Vec<PromoWindow>,
    /// Index into `promos` per day, `u32::MAX` when none.
    promo_day: Vec<u32>,
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

const PROMO_NAMES: [&str; 8] = [
    "Weekly Special",
    "Flash Sale",
    "BOGO Deal",
    "Clearance",
    "Holiday Promo",
    "Member Exclusive",
    "Buy More Save More",
    "Manager's Special",
];
const PCT_CHOICES: [i64; 7] = [1000, 1500, 2000, 2500, 3000, 4000, 5000];
const AMOUNT_CHOICES: [i64; 4] = [100, 200, 300, 500];
const RETURN_REASONS: [(&str, f64); 5] = [
    ("defective", 0.25),
    ("wrong_size", 0.20),
    ("not_as_described", 0.15),
    ("changed_mind", 0.30),
    ("damaged_in_transit", 0.10),
];
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

    fn build_prices_and_promotions(&mut self) {
        let seed = self.config.seed;
        let n = self.dates.len();
        let days = &self.dates.days;
        let stores = &self.stores;
        let mut tracks = Vec::with_capacity(self.products.len());
        for product in &self.products {
            let mut track = ProductTracks {
                promo_day: vec![u32::MAX; n],
                ..ProductTracks::default()
            };
            // Price history: a random walk of list prices.
            let mut rng = stream_rng(seed, Stream::Prices, i64::from(product.id), 0);
            let store = if !stores.is_empty() && rng.gen::<f64>() < 0.1 {
                Some(stores[rng.gen_range(0..stores.len())])
            } else {
                None
            };
            let mut price = product.base_cents;
            let mut from = 0usize;
            let mut daily = vec![product.base_cents; n];
            for i in 0..n {
                if rng.gen::<f64>() < 0.1 / 30.0 {
                    if i == 0 {
                        continue;
                    }
                    self.price_rows.push(PriceRow {
                        product_id: product.id,
                        store_id: store,
                        price_cents: price,
                        valid_from: days[from],
                        valid_to: Some(days[i - 1]),
                    });
                    daily[from..i].fill(price);
                    let change: f64 = rng.gen_range(-0.2..0.2);
                    price = round_cents(price as f64 * (1.0 + change)).max(1);
                    from = i;
                }
            }
            if n > 0 {
                self.price_rows.push(PriceRow {
                    product_id: product.id,
                    store_id: store,
                    price_cents: price,
                    valid_from: days[from],
                    valid_to: None,
                });
                daily[from..].fill(price);
            }
            match store {
                Some(id) => track.store_price = Some((id, daily)),
                None => track.chain_price = Some(daily),
            }

            // Promotions: no overlap per product.
            let mut rng = stream_rng(seed, Stream::Promotions, i64::from(product.id), 0);
            let chain = rng.gen::<f64>() < 0.7 || stores.is_empty();
            track.promo_store = if chain {
                None
            } else {
                Some(stores[rng.gen_range(0..stores.len())])
            };
            let p = self.config.retail.promotion_probability / 30.0;
            let mut i = 0;
            while i < n {
                if p > 0.0 && rng.gen::<f64>() < p {
                    let duration = rng.gen_range(3..=14usize);
                    let end = (i + duration - 1).min(n - 1);
                    let (pct, amount) = if rng.gen::<bool>() {
                        (Some(*pick(&mut rng, &PCT_CHOICES)), None)
                    } else {
                        (None, Some(*pick(&mut rng, &AMOUNT_CHOICES)))
                    };
                    let name = *pick(&mut rng, &PROMO_NAMES);
                    track.promo_day[i..=end].fill(track.promos.len() as u32);
                    track.promos.push(PromoWindow {
                        pct_e4: pct,
                        amount_cents: amount,
                        markdown: false,
                    });
                    self.promotion_rows.push(PromotionRow {
                        product_id: product.id,
                        store_id: track.promo_store,
                        name,
                        discount_pct_e4: pct,
                        discount_amount_cents: amount,
                        start_date: days[i],
                        end_date: days[end],
                        kind: "pct_off",
                        members: None,
                    });
                    i = end + 1;
                } else {
                    i += 1;
                }
            }
            tracks.push(track);
        }

        // Bundles: convert promotions into bundle / BOGO offers.
        if let Some(probability) = self.config.bundle_probability {
            let ids: Vec<i32> = self.products.iter().map(|p| p.id).collect();
            let mut promo_at = 0usize;
            for (pi, product) in self.products.iter().enumerate() {
                let mut rng = stream_rng(seed, Stream::Bundles, i64::from(product.id), 0);
                let pool: Vec<i32> = ids.iter().copied().filter(|id| *id != product.id).collect();
                for window in tracks[pi].promos.iter_mut() {
                    let row = &mut self.promotion_rows[promo_at];
                    promo_at += 1;
                    if pool.len() < 2 || rng.gen::<f64>() >= probability {
                        continue;
                    }
                    row.kind = if rng.gen::<f64>() < 0.5 {
                        "bogo"
                    } else {
                        "bundle"
                    };
                    let count = rng.gen_range(2..=pool.len().min(3));
                    let mut members: Vec<i32> =
                        pool.choose_multiple(&mut rng, count).copied().collect();
                    members.sort_unstable();
                    row.members = Some(members);
                    let pct: f64 = rng.gen_range(0.10..0.30);
                    let e4 = (pct * 10_000.0).round_ties_even() as i64;
                    row.discount_pct_e4 = Some(e4);
                    row.discount_amount_cents = None;
                    window.pct_e4 = Some(e4);
                    window.amount_cents = None;
                }
            }
        }

        // Lifecycle-decline markdowns (deterministic).
        if self.config.markdown == Some(MarkdownTrigger::LifecycleDecline) {
            let lifecycle = LifecycleConfig::default();
            for (pi, product) in self.products.iter().enumerate() {
                let Some(launch) = product.launch else {
                    continue;
                };
                let Some(first) = (0..n).find(|&i| {
                    lifecycle.stage(Some(launch), product.discontinue, days[i])
                        == forecastlab_core::lifecycle::LifecycleStage::Decline
                }) else {
                    continue;
                };
                let end = (first + MARKDOWN_DAYS - 1).min(n - 1);
                let price = round_cents(product.base_cents as f64 * (1.0 - MARKDOWN_DEPTH)).max(1);
                self.price_rows.push(PriceRow {
                    product_id: product.id,
                    store_id: None,
                    price_cents: price,
                    valid_from: days[first],
                    valid_to: Some(days[end]),
                });
                self.promotion_rows.push(PromotionRow {
                    product_id: product.id,
                    store_id: None,
                    name: "Lifecycle Clearance",
                    discount_pct_e4: Some((MARKDOWN_DEPTH * 10_000.0) as i64),
                    discount_amount_cents: None,
                    start_date: days[first],
                    end_date: days[end],
                    kind: "markdown",
                    members: None,
                });
                let track = &mut tracks[pi];
                let chain = track
                    .chain_price
                    .get_or_insert_with(|| vec![product.base_cents; n]);
                chain[first..=end].fill(price);
            }
        }
        self.tracks = tracks;
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

    #[allow(clippy::too_many_arguments)]
    fn series(
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

fn clamp_i32(v: i64) -> i32 {
    v.clamp(0, i64::from(i32::MAX)) as i32
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
    super::config::CHANNELS
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
    rc: &super::config::ReplenishmentConfig,
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

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::seeder::{
        config::{ScenarioPreset, SeederConfig},
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
        let cp = vec![super::super::config::Changepoint {
            date: d(2024, 1, 10),
            demand_multiplier: 2.0,
            decay_days: 10,
        }];
        assert_eq!(changepoint_factor(&cp, d(2024, 1, 9)), 1.0);
        assert!((changepoint_factor(&cp, d(2024, 1, 10)) - 2.0).abs() < 1e-12);
        assert!((changepoint_factor(&cp, d(2024, 1, 20)) - (1.0 + (-1f64).exp())).abs() < 1e-12);
        let one_day = vec![super::super::config::Changepoint {
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
        let rc = super::super::config::ReplenishmentConfig::default();
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
}
