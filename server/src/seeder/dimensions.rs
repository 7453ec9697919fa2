//! The dimension generators: stores (names, regions, cities), products
//! (names, categories, brands, prices, lifecycles) and calendar days, as
//! pure functions of the configuration and the seed. No SQL here.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use forecastlab_core::lifecycle::LifecycleConfig;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{
    config::{holidays_in, SeederConfig, BRANDS, CATEGORIES, REGIONS, STORE_TYPES},
    random::{round_cents, stream_rng, Stream},
    rows::{CalendarRow, ProductRow, StoreRow},
};

const STORE_PREFIXES: [&str; 20] = [
    "Central",
    "Downtown",
    "Uptown",
    "Riverside",
    "Lakeside",
    "Hillcrest",
    "Valley",
    "Park",
    "Plaza",
    "Metro",
    "Gateway",
    "Harbor",
    "Summit",
    "Cedar",
    "Oak",
    "Pine",
    "Maple",
    "Elm",
    "Main",
    "Grand",
];
const STORE_SUFFIXES: [&str; 10] = [
    "Market", "Mart", "Store", "Shop", "Center", "Depot", "Hub", "Point", "Place", "Square",
];
const CITIES: [&str; 20] = [
    "New York",
    "Los Angeles",
    "Chicago",
    "Houston",
    "Phoenix",
    "Philadelphia",
    "San Antonio",
    "San Diego",
    "Dallas",
    "Austin",
    "Seattle",
    "Denver",
    "Boston",
    "Atlanta",
    "Miami",
    "Portland",
    "Minneapolis",
    "Detroit",
    "Tampa",
    "Charlotte",
];
const ADJECTIVES: [&str; 20] = [
    "Classic",
    "Premium",
    "Organic",
    "Fresh",
    "Natural",
    "Original",
    "Lite",
    "Zero",
    "Sugar-Free",
    "Low-Fat",
    "Whole",
    "Crispy",
    "Creamy",
    "Smooth",
    "Bold",
    "Mild",
    "Spicy",
    "Sweet",
    "Tangy",
    "Rich",
];

fn nouns(category: &str) -> &'static [&'static str] {
    match category {
        "Beverage" => &[
            "Cola",
            "Juice",
            "Water",
            "Tea",
            "Coffee",
            "Soda",
            "Energy Drink",
            "Lemonade",
            "Smoothie",
            "Milk",
        ],
        "Snack" => &[
            "Chips",
            "Crackers",
            "Pretzels",
            "Popcorn",
            "Nuts",
            "Cookies",
            "Granola Bar",
            "Trail Mix",
            "Jerky",
            "Cheese Puffs",
        ],
        "Dairy" => &[
            "Milk",
            "Yogurt",
            "Cheese",
            "Butter",
            "Cream",
            "Cottage Cheese",
            "Sour Cream",
            "Ice Cream",
            "Cream Cheese",
            "Kefir",
        ],
        "Frozen" => &[
            "Pizza",
            "Ice Cream",
            "Vegetables",
            "Dinner",
            "Breakfast",
            "Burrito",
            "Fish Sticks",
            "Waffles",
            "Fruit",
            "Pot Pie",
        ],
        "Produce" => &[
            "Apples", "Bananas", "Oranges", "Tomatoes", "Lettuce", "Carrots", "Potatoes", "Onions",
            "Peppers", "Berries",
        ],
        "Bakery" => &[
            "Bread",
            "Bagels",
            "Muffins",
            "Croissants",
            "Donuts",
            "Rolls",
            "Cake",
            "Pie",
            "Cookies",
            "Buns",
        ],
        _ => &["Product", "Item", "Good", "Supply", "Commodity"],
    }
}

fn pick_str(rng: &mut ChaCha8Rng, items: &[&'static str]) -> &'static str {
    items[rng.gen_range(0..items.len())]
}

pub(crate) fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

/// Draws a code in `lo..=hi` not yet used (1000 tries, then the smallest free).
fn unique_number(rng: &mut ChaCha8Rng, lo: u32, hi: u32, used: &mut HashSet<u32>) -> Option<u32> {
    for _ in 0..1000 {
        let n = rng.gen_range(lo..=hi);
        if used.insert(n) {
            return Some(n);
        }
    }
    let free = (lo..=hi).find(|n| !used.contains(n))?;
    used.insert(free);
    Some(free)
}

/// `n` new stores (codes unique within the run).
pub(crate) fn generate_stores(seed: u64, n: u32) -> Result<Vec<StoreRow>, String> {
    if n > 9_999 {
        return Err("at most 9999 stores can be generated".into());
    }
    let mut rng = stream_rng(seed, Stream::Stores, 0, 0);
    let mut used = HashSet::new();
    let mut out = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let number = unique_number(&mut rng, 1, 9_999, &mut used).ok_or("store codes exhausted")?;
        let prefix = pick(&mut rng, &STORE_PREFIXES);
        let suffix = pick(&mut rng, &STORE_SUFFIXES);
        out.push(StoreRow {
            code: format!("S{number:04}"),
            name: format!("{prefix} {suffix}"),
            region: pick_str(&mut rng, &REGIONS),
            city: pick_str(&mut rng, &CITIES),
            store_type: pick_str(&mut rng, &STORE_TYPES),
        });
    }
    Ok(out)
}

/// `n` new products with lifecycle attributes when configured.
pub(crate) fn generate_products(config: &SeederConfig) -> Result<Vec<ProductRow>, String> {
    let n = config.products;
    if n > 90_000 {
        return Err("at most 90000 products can be generated".into());
    }
    let seed = config.seed;
    let mut rng = stream_rng(seed, Stream::Products, 0, 0);
    let mut used = HashSet::new();
    let mut out = Vec::with_capacity(n as usize);
    let start = config.start_date;
    let end = config.end_date;
    let span = (end - start).num_days().max(0);
    let lifecycle = LifecycleConfig::default();
    for index in 0..n {
        let category = *pick(&mut rng, &CATEGORIES);
        let brand = *pick(&mut rng, &BRANDS);
        let price_cents = i64::from(rng.gen_range(99u32..=2999));
        let margin: f64 = rng.gen_range(0.30..0.60);
        let cost_cents = round_cents(price_cents as f64 * (1.0 - margin));
        let number = unique_number(&mut rng, 10_000, 99_999, &mut used).ok_or("SKUs exhausted")?;
        let adjective = pick(&mut rng, &ADJECTIVES);
        let noun = pick(&mut rng, nouns(category));
        let mut row = ProductRow {
            sku: format!("SKU-{number}"),
            name: format!("{brand} {adjective} {noun}"),
            category,
            brand,
            base_price_cents: price_cents,
            base_cost_cents: cost_cents,
            lifecycle_stage: None,
            launch_date: None,
            discontinue_date: None,
        };
        let mut life = stream_rng(seed, Stream::ProductLifecycle, i64::from(index), 0);
        if let Some(p_discontinue) = config.lifecycle_discontinue_probability {
            let (launch, discontinue) = lifecycle_dates(&mut life, start, span, p_discontinue);
            row.launch_date = Some(launch);
            row.discontinue_date = discontinue;
            row.lifecycle_stage = Some(lifecycle.stage(Some(launch), discontinue, end).as_str());
        } else if config.retail.launch_share > 0.0 && life.gen::<f64>() < config.retail.launch_share
        {
            let offset = life.gen_range(0..=((span * 7) / 10).max(1));
            let launch = start + chrono::Days::new(offset as u64);
            row.launch_date = Some(launch);
            row.lifecycle_stage = Some(lifecycle.stage(Some(launch), None, end).as_str());
        }
        out.push(row);
    }
    Ok(out)
}

/// Launch = start + U(0..max(1, ⌊0.7·span⌋)); with probability `p` a
/// discontinue date start + U(⌊0.8·span⌋..span), kept only after launch.
pub(crate) fn lifecycle_dates(
    rng: &mut ChaCha8Rng,
    start: NaiveDate,
    span: i64,
    p_discontinue: f64,
) -> (NaiveDate, Option<NaiveDate>) {
    let launch_offset = rng.gen_range(0..=((span * 7) / 10).max(1));
    let launch = start + chrono::Days::new(launch_offset as u64);
    let mut discontinue = None;
    if p_discontinue > 0.0 && rng.gen::<f64>() < p_discontinue {
        let lo = (span * 8) / 10;
        let offset = rng.gen_range(lo..=span.max(lo));
        let date = start + chrono::Days::new(offset as u64);
        if date > launch {
            discontinue = Some(date);
        }
    }
    (launch, discontinue)
}

/// One calendar row per day of `start..=end`.
pub(crate) fn calendar_rows(
    config: &SeederConfig,
    start: NaiveDate,
    end: NaiveDate,
) -> Vec<CalendarRow> {
    let holidays = holidays_in(start, end, &config.holidays);
    let names: HashMap<NaiveDate, &str> =
        holidays.iter().map(|h| (h.date, h.name.as_str())).collect();
    start
        .iter_days()
        .take_while(|d| *d <= end)
        .map(|date| CalendarRow {
            date,
            day_of_week: date.weekday().num_days_from_monday() as i32,
            month: date.month() as i32,
            quarter: ((date.month() - 1) / 3 + 1) as i32,
            year: date.year(),
            holiday_name: names.get(&date).map(|s| (*s).to_owned()),
        })
        .collect()
}
