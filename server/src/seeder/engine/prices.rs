//! Prices and promotions decided up front for every product: a random
//! walk of list prices, non-overlapping promotion windows, bundle and BOGO
//! offers, and lifecycle-decline markdowns.

use forecastlab_core::lifecycle::LifecycleConfig;
use rand::{seq::SliceRandom, Rng};

use super::{Plan, MARKDOWN_DAYS, MARKDOWN_DEPTH};
use crate::seeder::{
    config::MarkdownTrigger,
    dimensions::pick,
    random::{round_cents, stream_rng, Stream},
    rows::{PriceRow, PromotionRow},
};

/// One promotion window of a product: its discount and whether it is a
/// markdown (markdowns change the shelf price instead).
#[derive(Debug, Clone)]
pub(super) struct PromoWindow {
    pub(super) pct_e4: Option<i64>,
    pub(super) amount_cents: Option<i64>,
    pub(super) markdown: bool,
}

/// A product's daily price and promotion tracks.
#[derive(Debug, Clone, Default)]
pub(super) struct ProductTracks {
    /// Chain-wide resolved price per day (None = base price).
    pub(super) chain_price: Option<Vec<i64>>,
    /// Store-specific price history.
    pub(super) store_price: Option<(i32, Vec<i64>)>,
    /// Promotion scope (None = chain-wide).
    pub(super) promo_store: Option<i32>,
    pub(super) promos: Vec<PromoWindow>,
    /// Index into `promos` per day, `u32::MAX` when none.
    pub(super) promo_day: Vec<u32>,
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
impl Plan {
    /// Fills the price and promotion rows and each product's daily tracks.
    pub(super) fn build_prices_and_promotions(&mut self) {
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
}
