//! The timeline every frame row is computed on: observed history rows,
//! optionally followed by horizon rows whose targets are unknown (NaN) or,
//! in the recursive strategy, earlier predictions. A cell of row `i` reads
//! targets of rows `< i` only.

use chrono::{Datelike, Days, NaiveDate};

use super::{
    future::FutureInputs,
    input::{PromoKind, Replenishment, SeriesData},
    FeatureAwareMetadata,
};
use crate::{CoreError, FeatureMatrix};

/// Lifecycle threshold: a product younger than this many days is new.
const NEW_PRODUCT_DAYS: i64 = 30;
/// Lifecycle threshold: a product at least this many days old is mature.
const MATURE_PRODUCT_DAYS: i64 = 180;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Column {
    Lag(usize),
    SameDowMean(usize),
    DowSin,
    DowCos,
    MonthSin,
    MonthCos,
    IsWeekend,
    IsMonthEnd,
    WeekSin,
    WeekCos,
    DayOfMonthSin,
    DayOfMonthCos,
    IsHoliday,
    RollingMean(usize),
    RollingMedian(usize),
    RollingStd(usize),
    Trend(usize),
    Mean7Vs28,
    Mean28VsPrev28,
    PriceFactor,
    PromoActive,
    PromoDiscount,
    PromoMarkdown,
    PromoBundle,
    StockoutLag1,
    StockoutDays(usize),
    AvailableRatio(usize),
    DaysSinceLaunch,
    IsNew,
    IsMature,
    IsDiscontinued,
    DaysUntilDiscontinue,
    DaysSinceReplenishment,
    ReplenishmentCount(i64),
    ReplenishmentQty(i64),
    ReturnsQty(usize),
    ReturnsRate(usize),
    Signal(usize),
    Unknown,
}

/// Exogenous signal names read by the V2 exogenous groups, by column.
const SIGNALS: [(&str, &str); 3] = [
    ("exo_weather_temp_c", "weather_temp_c"),
    ("exo_weather_precip_mm", "weather_precip_mm"),
    ("exo_macro_index", "macro_index"),
];

fn parse(name: &str) -> Column {
    let number = |prefix: &str| -> Option<usize> { name.strip_prefix(prefix)?.parse().ok() };
    if let Some(k) = number("lag_") {
        return Column::Lag(k);
    }
    if let Some(n) = number("same_dow_mean_") {
        return Column::SameDowMean(n);
    }
    if let Some(w) = number("rolling_mean_") {
        return Column::RollingMean(w);
    }
    if let Some(w) = number("rolling_median_") {
        return Column::RollingMedian(w);
    }
    if let Some(w) = number("rolling_std_") {
        return Column::RollingStd(w);
    }
    if let Some(w) = number("trend_") {
        return Column::Trend(w);
    }
    if let Some(w) = number("stockout_days_") {
        return Column::StockoutDays(w);
    }
    if let Some(w) = number("inventory_available_ratio_") {
        return Column::AvailableRatio(w);
    }
    if let Some(w) = number("replenishment_count_") {
        return Column::ReplenishmentCount(w as i64);
    }
    if let Some(w) = number("replenishment_qty_") {
        return Column::ReplenishmentQty(w as i64);
    }
    if let Some(w) = number("returns_qty_") {
        return Column::ReturnsQty(w);
    }
    if let Some(w) = number("returns_rate_") {
        return Column::ReturnsRate(w);
    }
    if let Some(index) = SIGNALS.iter().position(|(column, _)| *column == name) {
        return Column::Signal(index);
    }
    match name {
        "dow_sin" => Column::DowSin,
        "dow_cos" => Column::DowCos,
        "month_sin" => Column::MonthSin,
        "month_cos" => Column::MonthCos,
        "is_weekend" => Column::IsWeekend,
        "is_month_end" => Column::IsMonthEnd,
        "week_of_year_sin" => Column::WeekSin,
        "week_of_year_cos" => Column::WeekCos,
        "day_of_month_sin" => Column::DayOfMonthSin,
        "day_of_month_cos" => Column::DayOfMonthCos,
        "is_holiday" => Column::IsHoliday,
        "rolling_mean_7_vs_28" => Column::Mean7Vs28,
        "rolling_mean_28_vs_prev_28" => Column::Mean28VsPrev28,
        "price_factor" => Column::PriceFactor,
        "promo_active" => Column::PromoActive,
        "promo_discount_pct" => Column::PromoDiscount,
        "promo_kind_markdown_active" => Column::PromoMarkdown,
        "promo_kind_bundle_active" => Column::PromoBundle,
        "is_stockout_lag1" => Column::StockoutLag1,
        "days_since_launch" => Column::DaysSinceLaunch,
        "is_new_product" => Column::IsNew,
        "is_mature_product" => Column::IsMature,
        "is_discontinued" => Column::IsDiscontinued,
        "days_until_discontinue" => Column::DaysUntilDiscontinue,
        "days_since_last_replenishment" => Column::DaysSinceReplenishment,
        _ => Column::Unknown,
    }
}

/// Rows on which frame cells are computed.
#[derive(Debug, Clone)]
pub(super) struct Timeline {
    dates: Vec<NaiveDate>,
    target: Vec<f64>,
    price_factor: Vec<f64>,
    promo_active: Vec<f64>,
    promo_discount: Vec<f64>,
    promo_markdown: Vec<f64>,
    promo_bundle: Vec<f64>,
    holiday: Vec<f64>,
    stockout: Vec<f64>,
    on_hand: Vec<f64>,
    returns: Vec<f64>,
    signals: [Vec<f64>; 3],
    launch: Option<NaiveDate>,
    discontinue: Option<NaiveDate>,
    replenishments: Vec<Replenishment>,
    /// Rows `< known_rows` are observed history; windows over side data
    /// (inventory, returns, replenishment counts) exist only for rows
    /// `<= known_rows` (horizon step 1 at most).
    known_rows: usize,
}

fn side_data(series: &SeriesData, date: NaiveDate) -> (f64, f64, f64) {
    let (stockout, on_hand) = match series.inventory_on(date) {
        Some(day) => (if day.is_stockout { 1.0 } else { 0.0 }, day.on_hand),
        None => (0.0, f64::NAN),
    };
    (stockout, on_hand, series.returns_on(date))
}

fn signal_values(series: &SeriesData, dates: &[NaiveDate]) -> [Vec<f64>; 3] {
    SIGNALS.map(|(_, signal)| {
        let found = series.exogenous.iter().find(|s| s.name == signal);
        dates
            .iter()
            .map(|date| found.and_then(|s| s.value_on(*date)).unwrap_or(f64::NAN))
            .collect()
    })
}

impl Timeline {
    /// The observed rows of `series` (training).
    pub(super) fn history(series: &SeriesData) -> Self {
        let n = series.len();
        let baseline = series.baseline_price();
        let mut timeline = Self {
            dates: series.dates.clone(),
            target: series.target.clone(),
            price_factor: series.price.iter().map(|p| p / baseline).collect(),
            promo_active: vec![0.0; n],
            promo_discount: vec![0.0; n],
            promo_markdown: vec![0.0; n],
            promo_bundle: vec![0.0; n],
            holiday: vec![0.0; n],
            stockout: vec![0.0; n],
            on_hand: vec![f64::NAN; n],
            returns: vec![0.0; n],
            signals: signal_values(series, &series.dates),
            launch: series.launch_date,
            discontinue: series.discontinue_date,
            replenishments: series.replenishments.clone(),
            known_rows: n,
        };
        for (i, date) in series.dates.iter().enumerate() {
            for promotion in series.promotions_on(*date) {
                timeline.promo_active[i] = 1.0;
                let discount = promotion.discount_pct.unwrap_or(0.0);
                if discount > timeline.promo_discount[i] {
                    timeline.promo_discount[i] = discount;
                }
                match promotion.kind {
                    PromoKind::Markdown => timeline.promo_markdown[i] = 1.0,
                    PromoKind::Bundle => timeline.promo_bundle[i] = 1.0,
                    _ => {}
                }
            }
            if series.is_holiday(*date) {
                timeline.holiday[i] = 1.0;
            }
            let (stockout, on_hand, returns) = side_data(series, *date);
            timeline.stockout[i] = stockout;
            timeline.on_hand[i] = on_hand;
            timeline.returns[i] = returns;
        }
        timeline
    }

    /// The stored history tail followed by the horizon rows. Horizon targets
    /// are `predictions[j]` where given (recursive strategy), else NaN.
    pub(super) fn future(
        metadata: &FeatureAwareMetadata,
        future: &FutureInputs,
        history: Option<&SeriesData>,
        predictions: &[f64],
    ) -> Result<Self, CoreError> {
        future.check()?;
        let tail = metadata.history_tail.len();
        if metadata.history_tail_dates.len() != tail {
            return Err(CoreError::Artifact(
                "history_tail and history_tail_dates differ in length".into(),
            ));
        }
        let origin = metadata.origin();
        if let (Some(origin), Some(first)) = (origin, future.dates.first()) {
            if *first <= origin {
                return Err(CoreError::input(
                    "future dates must come after the last history date",
                ));
            }
        }
        let h = future.len();
        let n = tail + h;
        let mut dates = metadata.history_tail_dates.clone();
        dates.extend_from_slice(&future.dates);
        let mut target = metadata.history_tail.clone();
        target.extend((0..h).map(|j| predictions.get(j).copied().unwrap_or(f64::NAN)));
        let supplied = |values: &[f64]| -> Vec<f64> {
            let mut column = vec![f64::NAN; tail];
            if values.len() == h {
                column.extend_from_slice(values);
            } else {
                column.extend(std::iter::repeat_n(f64::NAN, h));
            }
            column
        };
        let mut stockout = vec![f64::NAN; n];
        let mut on_hand = vec![f64::NAN; n];
        let mut returns = vec![f64::NAN; n];
        let mut replenishments = Vec::new();
        if let Some(history) = history {
            for (i, date) in metadata.history_tail_dates.iter().enumerate() {
                let (s, o, r) = side_data(history, *date);
                stockout[i] = s;
                on_hand[i] = o;
                returns[i] = r;
            }
            replenishments = history
                .replenishments
                .iter()
                .filter(|event| origin.is_some_and(|origin| event.date <= origin))
                .copied()
                .collect();
        }
        let mut signals: [Vec<f64>; 3] = [vec![f64::NAN; n], vec![f64::NAN; n], vec![f64::NAN; n]];
        for (slot, (_, signal)) in signals.iter_mut().zip(SIGNALS) {
            if let Some(values) = future.signal(signal) {
                slot[tail..].copy_from_slice(values);
            }
        }
        Ok(Self {
            dates,
            target,
            price_factor: supplied(&future.price_factor),
            promo_active: supplied(&future.promo_active),
            promo_discount: supplied(&future.promo_discount_pct),
            promo_markdown: supplied(&future.promo_markdown_active),
            promo_bundle: supplied(&future.promo_bundle_active),
            holiday: supplied(&future.is_holiday),
            stockout,
            on_hand,
            returns,
            signals,
            launch: metadata.launch_date,
            discontinue: metadata.discontinue_date,
            replenishments,
            known_rows: tail,
        })
    }

    /// The matrix of `columns` over `rows`.
    pub(super) fn matrix(&self, columns: &[String], rows: std::ops::Range<usize>) -> FeatureMatrix {
        let parsed: Vec<Column> = columns.iter().map(|c| parse(c)).collect();
        let mut values = Vec::with_capacity(rows.len() * columns.len());
        for i in rows {
            for column in &parsed {
                values.push(self.cell(*column, i));
            }
        }
        FeatureMatrix::from_row_major(columns.to_vec(), values)
            .unwrap_or_else(|_| FeatureMatrix::new(columns.to_vec()))
    }

    /// The `w` targets before row `i`, if all are known.
    fn window(&self, i: usize, w: usize) -> Option<&[f64]> {
        if w == 0 || i < w {
            return None;
        }
        let slice = &self.target[i - w..i];
        slice.iter().all(|v| v.is_finite()).then_some(slice)
    }

    /// The `w` values of a side column before row `i` (history only).
    fn side_window<'a>(&self, values: &'a [f64], i: usize, w: usize) -> Option<&'a [f64]> {
        if w == 0 || i < w || i > self.known_rows {
            return None;
        }
        Some(&values[i - w..i])
    }

    fn days_since(&self, i: usize, anchor: Option<NaiveDate>) -> f64 {
        anchor.map_or(f64::NAN, |anchor| {
            (self.dates[i] - anchor).num_days() as f64
        })
    }

    fn cell(&self, column: Column, i: usize) -> f64 {
        use std::f64::consts::TAU;
        let date = self.dates[i];
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        match column {
            Column::Lag(k) => {
                if k >= 1 && i >= k {
                    self.target[i - k]
                } else {
                    f64::NAN
                }
            }
            Column::SameDowMean(n) => {
                let weekday = date.weekday();
                let mut found = Vec::with_capacity(n);
                for j in (0..i).rev() {
                    if found.len() == n {
                        break;
                    }
                    if self.dates[j].weekday() == weekday && self.target[j].is_finite() {
                        found.push(self.target[j]);
                    }
                }
                if n > 0 && found.len() == n {
                    mean(&found)
                } else {
                    f64::NAN
                }
            }
            Column::DowSin => (TAU * dow(date) / 7.0).sin(),
            Column::DowCos => (TAU * dow(date) / 7.0).cos(),
            Column::MonthSin => (TAU * f64::from(date.month()) / 12.0).sin(),
            Column::MonthCos => (TAU * f64::from(date.month()) / 12.0).cos(),
            Column::IsWeekend => flag(dow(date) >= 5.0),
            Column::IsMonthEnd => flag(is_month_end(date)),
            Column::WeekSin => (TAU * f64::from(date.iso_week().week()) / 53.0).sin(),
            Column::WeekCos => (TAU * f64::from(date.iso_week().week()) / 53.0).cos(),
            Column::DayOfMonthSin => (TAU * f64::from(date.day()) / 31.0).sin(),
            Column::DayOfMonthCos => (TAU * f64::from(date.day()) / 31.0).cos(),
            Column::IsHoliday => self.holiday[i],
            Column::RollingMean(w) => self.window(i, w).map_or(f64::NAN, mean),
            Column::RollingMedian(w) => self.window(i, w).map_or(f64::NAN, median),
            Column::RollingStd(w) => self.window(i, w).map_or(f64::NAN, sample_std),
            Column::Trend(w) => self.window(i, w).map_or(f64::NAN, slope),
            Column::Mean7Vs28 => match (self.window(i, 7), self.window(i, 28)) {
                (Some(short), Some(long)) => ratio(mean(short), mean(long)),
                _ => f64::NAN,
            },
            Column::Mean28VsPrev28 => match self.window(i, 56) {
                Some(both) => ratio(mean(&both[28..]), mean(&both[..28])),
                None => f64::NAN,
            },
            Column::PriceFactor => self.price_factor[i],
            Column::PromoActive => self.promo_active[i],
            Column::PromoDiscount => self.promo_discount[i],
            Column::PromoMarkdown => self.promo_markdown[i],
            Column::PromoBundle => self.promo_bundle[i],
            Column::StockoutLag1 => {
                if i >= 1 {
                    self.stockout[i - 1]
                } else {
                    f64::NAN
                }
            }
            Column::StockoutDays(w) => self
                .side_window(&self.stockout, i, w)
                .filter(|s| s.iter().all(|v| v.is_finite()))
                .map_or(f64::NAN, |s| s.iter().sum()),
            Column::AvailableRatio(w) => {
                self.side_window(&self.on_hand, i, w).map_or(f64::NAN, |s| {
                    let known: Vec<f64> = s.iter().copied().filter(|v| v.is_finite()).collect();
                    let max = known.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    if known.is_empty() || max <= 0.0 {
                        f64::NAN
                    } else {
                        mean(&known) / max
                    }
                })
            }
            Column::DaysSinceLaunch => self.days_since(i, self.launch),
            Column::IsNew => {
                let days = self.days_since(i, self.launch);
                if days.is_nan() {
                    f64::NAN
                } else {
                    flag((0.0..NEW_PRODUCT_DAYS as f64).contains(&days))
                }
            }
            Column::IsMature => {
                let days = self.days_since(i, self.launch);
                if days.is_nan() {
                    f64::NAN
                } else {
                    flag(days >= MATURE_PRODUCT_DAYS as f64)
                }
            }
            Column::IsDiscontinued => flag(self.discontinue.is_some_and(|d| date >= d)),
            Column::DaysUntilDiscontinue => self
                .discontinue
                .map_or(f64::NAN, |d| (d - date).num_days() as f64),
            Column::DaysSinceReplenishment => self
                .replenishments
                .iter()
                .filter(|event| event.date < date)
                .map(|event| event.date)
                .max()
                .map_or(f64::NAN, |last| (date - last).num_days() as f64),
            Column::ReplenishmentCount(w) => {
                if i > self.known_rows {
                    return f64::NAN;
                }
                let from = date.checked_sub_days(Days::new(w as u64)).unwrap_or(date);
                self.replenishments
                    .iter()
                    .filter(|event| event.date >= from && event.date < date)
                    .count() as f64
            }
            Column::ReplenishmentQty(w) => {
                if i > self.known_rows {
                    return f64::NAN;
                }
                let from = date.checked_sub_days(Days::new(w as u64)).unwrap_or(date);
                self.replenishments
                    .iter()
                    .filter(|event| event.date >= from && event.date < date)
                    .map(|event| event.received_qty)
                    .sum()
            }
            Column::ReturnsQty(w) => self
                .side_window(&self.returns, i, w)
                .filter(|s| s.iter().all(|v| v.is_finite()))
                .map_or(f64::NAN, |s| s.iter().sum()),
            Column::ReturnsRate(w) => {
                match (self.side_window(&self.returns, i, w), self.window(i, w)) {
                    (Some(returns), Some(sales)) if returns.iter().all(|v| v.is_finite()) => {
                        let sold: f64 = sales.iter().sum();
                        if sold <= 0.0 {
                            0.0
                        } else {
                            returns.iter().sum::<f64>() / sold
                        }
                    }
                    _ => f64::NAN,
                }
            }
            Column::Signal(index) => self.signals[index][i],
            Column::Unknown => f64::NAN,
        }
    }
}

fn dow(date: NaiveDate) -> f64 {
    f64::from(date.weekday().num_days_from_monday())
}

pub(crate) fn is_month_end(date: NaiveDate) -> bool {
    date.succ_opt()
        .is_none_or(|next| next.month() != date.month())
}

fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator == 0.0 {
        f64::NAN
    } else {
        numerator / denominator
    }
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

fn sample_std(values: &[f64]) -> f64 {
    let n = values.len();
    if n < 2 {
        return f64::NAN;
    }
    let m = mean(values);
    (values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
}

fn slope(values: &[f64]) -> f64 {
    let n = values.len();
    if n < 2 {
        return f64::NAN;
    }
    let x_mean = (n - 1) as f64 / 2.0;
    let y_mean = mean(values);
    let mut num = 0.0;
    let mut den = 0.0;
    for (x, y) in values.iter().enumerate() {
        let dx = x as f64 - x_mean;
        num += dx * (y - y_mean);
        den += dx * dx;
    }
    num / den
}
