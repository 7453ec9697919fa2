//! Known future inputs of a forecast window (§4.8): the calendar is known,
//! prices and promotions come from rows valid in the window, anything else
//! holds its last known value. Never a future target.

use chrono::{Days, NaiveDate};

use super::input::{PromoKind, SeriesData};
use crate::CoreError;

/// Per-horizon-day inputs that are not targets. Every vector has one entry
/// per entry of `dates`. Callers (scenarios) may overwrite any column, e.g.
/// set `price_factor` from an assumption.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FutureInputs {
    /// Horizon dates `T+1 … T+h`.
    pub dates: Vec<NaiveDate>,
    /// Price divided by the training baseline price (NaN = unknown).
    pub price_factor: Vec<f64>,
    /// 1 when any promotion is active.
    pub promo_active: Vec<f64>,
    /// Largest discount among active promotions (0 when none).
    pub promo_discount_pct: Vec<f64>,
    /// 1 when a markdown promotion is active.
    pub promo_markdown_active: Vec<f64>,
    /// 1 when a bundle promotion is active.
    pub promo_bundle_active: Vec<f64>,
    /// 1 on calendar holidays.
    pub is_holiday: Vec<f64>,
    /// Exogenous signal values per day (`name`, values), NaN when unknown.
    pub exogenous: Vec<(String, Vec<f64>)>,
}

impl FutureInputs {
    /// Number of horizon days.
    pub fn len(&self) -> usize {
        self.dates.len()
    }

    /// True when the horizon is empty.
    pub fn is_empty(&self) -> bool {
        self.dates.is_empty()
    }

    /// The horizon dates `origin + 1 … origin + horizon`.
    pub fn horizon_dates(origin: NaiveDate, horizon: usize) -> Result<Vec<NaiveDate>, CoreError> {
        (1..=horizon as u64)
            .map(|step| {
                origin
                    .checked_add_days(Days::new(step))
                    .ok_or_else(|| CoreError::input("horizon runs past the calendar"))
            })
            .collect()
    }

    /// Known future inputs (§4.8) for `horizon` days after `origin`, read
    /// from the side tables of `series`:
    ///
    /// * price: the `price_history` row valid that day, else the last known
    ///   price (`last_price`, else the last listed price before the window),
    ///   divided by `baseline_price`;
    /// * promotions: rows of `series.promotions` covering the day;
    /// * holidays: `series.holidays`;
    /// * exogenous signals: the recorded value of that day, else NaN.
    ///
    /// Row-aligned observations of `series` (targets, recorded prices) are
    /// never read for dates after `origin`.
    pub fn known(
        series: &SeriesData,
        origin: NaiveDate,
        horizon: usize,
        baseline_price: f64,
        last_price: Option<f64>,
    ) -> Result<Self, CoreError> {
        let dates = Self::horizon_dates(origin, horizon)?;
        let mut last = last_price
            .filter(|p| p.is_finite())
            .or_else(|| series.listed_price(origin));
        let mut price_factor = Vec::with_capacity(horizon);
        for date in &dates {
            if let Some(listed) = series.listed_price(*date) {
                last = Some(listed);
            }
            price_factor.push(match last {
                Some(price) if baseline_price > 0.0 => price / baseline_price,
                _ => f64::NAN,
            });
        }
        let mut out = Self {
            price_factor,
            ..Self::calendar_and_promotions(series, &dates)
        };
        out.dates = dates;
        Ok(out)
    }

    /// Future inputs as recorded (the backtest policy `observed`, §5.6):
    /// on horizon days where `series` has a row, its recorded price is used;
    /// elsewhere the [`known`](Self::known) rules apply. Targets are never
    /// read.
    pub fn observed(
        series: &SeriesData,
        origin: NaiveDate,
        horizon: usize,
        baseline_price: f64,
        last_price: Option<f64>,
    ) -> Result<Self, CoreError> {
        let mut out = Self::known(series, origin, horizon, baseline_price, last_price)?;
        for (index, date) in out.dates.iter().enumerate() {
            if let Ok(row) = series.dates.binary_search(date) {
                let price = series.price[row];
                if price.is_finite() && baseline_price > 0.0 {
                    out.price_factor[index] = price / baseline_price;
                }
            }
        }
        Ok(out)
    }

    fn calendar_and_promotions(series: &SeriesData, dates: &[NaiveDate]) -> Self {
        let n = dates.len();
        let mut out = Self {
            dates: Vec::new(),
            price_factor: Vec::new(),
            promo_active: vec![0.0; n],
            promo_discount_pct: vec![0.0; n],
            promo_markdown_active: vec![0.0; n],
            promo_bundle_active: vec![0.0; n],
            is_holiday: vec![0.0; n],
            exogenous: Vec::new(),
        };
        for (index, date) in dates.iter().enumerate() {
            for promotion in series.promotions_on(*date) {
                out.promo_active[index] = 1.0;
                let discount = promotion.discount_pct.unwrap_or(0.0);
                if discount > out.promo_discount_pct[index] {
                    out.promo_discount_pct[index] = discount;
                }
                match promotion.kind {
                    PromoKind::Markdown => out.promo_markdown_active[index] = 1.0,
                    PromoKind::Bundle => out.promo_bundle_active[index] = 1.0,
                    _ => {}
                }
            }
            if series.is_holiday(*date) {
                out.is_holiday[index] = 1.0;
            }
        }
        out.exogenous = series
            .exogenous
            .iter()
            .map(|signal| {
                (
                    signal.name.clone(),
                    dates
                        .iter()
                        .map(|date| signal.value_on(*date).unwrap_or(f64::NAN))
                        .collect(),
                )
            })
            .collect();
        out
    }

    /// The exogenous values of signal `name` (None when not supplied).
    pub fn signal(&self, name: &str) -> Option<&[f64]> {
        self.exogenous
            .iter()
            .find(|(signal, _)| signal == name)
            .map(|(_, values)| values.as_slice())
    }

    /// Checks that every supplied column has one entry per date.
    pub fn check(&self) -> Result<(), CoreError> {
        let n = self.dates.len();
        let columns = [
            ("price_factor", self.price_factor.len()),
            ("promo_active", self.promo_active.len()),
            ("promo_discount_pct", self.promo_discount_pct.len()),
            ("promo_markdown_active", self.promo_markdown_active.len()),
            ("promo_bundle_active", self.promo_bundle_active.len()),
            ("is_holiday", self.is_holiday.len()),
        ];
        for (name, len) in columns {
            if len != n && len != 0 {
                return Err(CoreError::input(format!(
                    "future input {name} has {len} values for {n} days"
                )));
            }
        }
        for (name, values) in &self.exogenous {
            if values.len() != n {
                return Err(CoreError::input(format!(
                    "future signal {name} has {} values for {n} days",
                    values.len()
                )));
            }
        }
        Ok(())
    }
}
