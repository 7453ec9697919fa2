//! The per-series input every feature computation reads: the observed rows
//! (dates, target, price) plus the side tables that describe the series
//! (promotions, price history, holidays, inventory, replenishment, returns,
//! exogenous signals, product lifecycle dates).
//!
//! Side tables are event lists keyed by date, not row-aligned columns, so the
//! same value describes both the history and a future window: a promotion
//! planned for next week or a price change recorded in `price_history` is
//! visible to the future rows of a forecast, while nothing about *targets*
//! after the forecast origin is ever stored here.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::SeriesKey;

/// Promotion kinds (`promotion.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromoKind {
    /// Percentage off.
    PctOff,
    /// Buy one get one.
    Bogo,
    /// Bundle offer.
    Bundle,
    /// Markdown.
    Markdown,
}

impl PromoKind {
    /// Every kind, alphabetically by wire name.
    pub const ALL: [PromoKind; 4] = [Self::Bogo, Self::Bundle, Self::Markdown, Self::PctOff];

    /// Wire name (`pct_off`, `bogo`, `bundle`, `markdown`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PctOff => "pct_off",
            Self::Bogo => "bogo",
            Self::Bundle => "bundle",
            Self::Markdown => "markdown",
        }
    }

    /// Parses a wire name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

/// One promotion that applies to the series (store-specific to its store, or
/// chain-wide), active on `start..=end`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Promotion {
    /// First active day.
    pub start: NaiveDate,
    /// Last active day (inclusive).
    pub end: NaiveDate,
    /// Kind.
    pub kind: PromoKind,
    /// Discount as a fraction (0.2 = 20 % off); `None` when not recorded.
    pub discount_pct: Option<f64>,
}

impl Promotion {
    /// True when the promotion is active on `date`.
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.start <= date && date <= self.end
    }
}

/// One `price_history` row that applies to the series (store-specific or
/// chain-wide), valid on `valid_from..=valid_to` (open-ended when `None`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceWindow {
    /// First valid day.
    pub valid_from: NaiveDate,
    /// Last valid day, inclusive; `None` = still valid.
    pub valid_to: Option<NaiveDate>,
    /// Price.
    pub price: f64,
    /// True when the row is specific to the series' store (wins over a
    /// chain-wide row valid on the same day).
    pub store_specific: bool,
}

impl PriceWindow {
    /// True when the row is valid on `date`.
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.valid_from <= date && self.valid_to.is_none_or(|to| date <= to)
    }
}

/// One daily inventory snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InventoryDay {
    /// Snapshot date.
    pub date: NaiveDate,
    /// Units on hand.
    pub on_hand: f64,
    /// True when the product was out of stock that day.
    pub is_stockout: bool,
}

/// One replenishment event.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Replenishment {
    /// Event date.
    pub date: NaiveDate,
    /// Units received.
    pub received_qty: f64,
}

/// Returned units on one day (summed over reasons).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReturnDay {
    /// Return date.
    pub date: NaiveDate,
    /// Units returned.
    pub quantity: f64,
}

/// One exogenous signal (`exogenous_signal.signal_name`): the store's own
/// value where recorded, else the global one.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ExogenousSeries {
    /// Signal name (`weather_temp_c`, `macro_index`, …).
    pub name: String,
    /// `(date, value)` points, ascending by date.
    pub points: Vec<(NaiveDate, f64)>,
}

impl ExogenousSeries {
    /// The value on `date`, if recorded.
    pub fn value_on(&self, date: NaiveDate) -> Option<f64> {
        self.points
            .binary_search_by_key(&date, |(d, _)| *d)
            .ok()
            .map(|index| self.points[index].1)
    }
}

/// Everything one series' features are computed from.
///
/// `dates`, `target` and `price` are row-aligned (one entry per
/// `sales_daily` row, ascending, no gap filling); every other field is an
/// event list that may also cover dates after the last row (a planned
/// promotion, a future price, a calendar holiday).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesData {
    /// Which series.
    pub key: SeriesKey,
    /// Row dates, strictly ascending.
    pub dates: Vec<NaiveDate>,
    /// Target (units sold) per row.
    pub target: Vec<f64>,
    /// Unit price per row (NaN when unknown).
    pub price: Vec<f64>,
    /// Sales amount per row (only used by imputation; may be empty).
    pub total_amount: Vec<f64>,
    /// Product launch date.
    pub launch_date: Option<NaiveDate>,
    /// Product discontinue date.
    pub discontinue_date: Option<NaiveDate>,
    /// Calendar holidays (sorted ascending).
    pub holidays: Vec<NaiveDate>,
    /// Promotions of the product for this store or chain-wide.
    pub promotions: Vec<Promotion>,
    /// Price history rows of the product for this store or chain-wide.
    pub price_history: Vec<PriceWindow>,
    /// Inventory snapshots (sorted ascending).
    pub inventory: Vec<InventoryDay>,
    /// Replenishment events (sorted ascending).
    pub replenishments: Vec<Replenishment>,
    /// Returns per day (sorted ascending).
    pub returns: Vec<ReturnDay>,
    /// Exogenous signals.
    pub exogenous: Vec<ExogenousSeries>,
}

impl Default for SeriesData {
    fn default() -> Self {
        Self {
            key: SeriesKey {
                store_id: 0,
                product_id: 0,
            },
            dates: Vec::new(),
            target: Vec::new(),
            price: Vec::new(),
            total_amount: Vec::new(),
            launch_date: None,
            discontinue_date: None,
            holidays: Vec::new(),
            promotions: Vec::new(),
            price_history: Vec::new(),
            inventory: Vec::new(),
            replenishments: Vec::new(),
            returns: Vec::new(),
            exogenous: Vec::new(),
        }
    }
}

impl SeriesData {
    /// A series with only rows (no side tables).
    pub fn new(key: SeriesKey, dates: Vec<NaiveDate>, target: Vec<f64>, price: Vec<f64>) -> Self {
        Self {
            key,
            dates,
            target,
            price,
            ..Self::default()
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.dates.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.dates.is_empty()
    }

    /// Checks that the row-aligned columns have equal lengths and the dates
    /// strictly ascend.
    pub fn check(&self) -> Result<(), crate::CoreError> {
        let n = self.dates.len();
        if self.target.len() != n || self.price.len() != n {
            return Err(crate::CoreError::input(format!(
                "series {}/{}: {} dates, {} targets, {} prices",
                self.key.store_id,
                self.key.product_id,
                n,
                self.target.len(),
                self.price.len()
            )));
        }
        if !self.total_amount.is_empty() && self.total_amount.len() != n {
            return Err(crate::CoreError::input("total_amount is not row-aligned"));
        }
        if self.dates.windows(2).any(|pair| pair[0] >= pair[1]) {
            return Err(crate::CoreError::input("series dates must strictly ascend"));
        }
        Ok(())
    }

    /// A copy holding only the rows dated `<= end` (side tables are kept:
    /// they describe known or planned facts, never targets). This is how a
    /// backtest fold restricts a series to its training window.
    pub fn until(&self, end: NaiveDate) -> Self {
        let keep = self.dates.partition_point(|date| *date <= end);
        self.rows(0..keep)
    }

    /// A copy holding only the rows in `range` (side tables kept).
    pub fn rows(&self, range: std::ops::Range<usize>) -> Self {
        let mut out = Self {
            dates: self.dates[range.clone()].to_vec(),
            target: self.target[range.clone()].to_vec(),
            price: self.price[range.clone()].to_vec(),
            total_amount: Vec::new(),
            ..self.clone()
        };
        if self.total_amount.len() == self.dates.len() {
            out.total_amount = self.total_amount[range].to_vec();
        }
        out
    }

    /// True when `date` is a calendar holiday.
    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        self.holidays.binary_search(&date).is_ok()
    }

    /// Promotions active on `date`.
    pub fn promotions_on(&self, date: NaiveDate) -> impl Iterator<Item = &Promotion> {
        self.promotions.iter().filter(move |p| p.covers(date))
    }

    /// The `price_history` price valid on `date` (store-specific rows win,
    /// then the most recent `valid_from`).
    pub fn listed_price(&self, date: NaiveDate) -> Option<f64> {
        self.price_history
            .iter()
            .filter(|window| window.covers(date))
            .max_by_key(|window| (window.store_specific, window.valid_from))
            .map(|window| window.price)
    }

    /// The inventory snapshot of `date`.
    pub fn inventory_on(&self, date: NaiveDate) -> Option<&InventoryDay> {
        self.inventory
            .binary_search_by_key(&date, |day| day.date)
            .ok()
            .map(|index| &self.inventory[index])
    }

    /// Units returned on `date` (0 when none).
    pub fn returns_on(&self, date: NaiveDate) -> f64 {
        self.returns
            .binary_search_by_key(&date, |day| day.date)
            .map(|index| self.returns[index].quantity)
            .unwrap_or(0.0)
    }

    /// The baseline price of §3.2: the upper median of the strictly positive
    /// prices (element `floor(count/2)` of the sorted list), 1.0 when none.
    pub fn baseline_price(&self) -> f64 {
        baseline_price(&self.price)
    }
}

/// Upper median of the strictly positive, finite prices; 1.0 when none.
pub fn baseline_price(prices: &[f64]) -> f64 {
    let mut positive: Vec<f64> = prices
        .iter()
        .copied()
        .filter(|p| p.is_finite() && *p > 0.0)
        .collect();
    if positive.is_empty() {
        return 1.0;
    }
    positive.sort_by(f64::total_cmp);
    positive[positive.len() / 2]
}
