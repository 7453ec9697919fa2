//! The seeder's configuration: every knob of the generators, the eight
//! scenario presets and the calendar's holidays.

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// Shape of the long-run trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    /// Flat.
    None,
    /// `1 + slope·d`.
    Linear,
    /// `e^(slope·d)`.
    Exponential,
}

/// Demand shape of every series.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeSeriesConfig {
    /// Mean daily units of an average series.
    pub base_demand: f64,
    /// Trend shape.
    pub trend: Trend,
    /// Trend slope per day (each series draws its own slope around it).
    pub trend_slope: f64,
    /// Monday..Sunday multipliers.
    pub weekly: [f64; 7],
    /// January..December multipliers, when configured.
    pub monthly: Option<[f64; 12]>,
    /// Amplitude of the yearly sine (0 = none).
    pub yearly_amplitude: f64,
    /// Relative Gaussian noise of each day's demand.
    pub noise_sigma: f64,
    /// Chance that a day is an anomaly.
    pub anomaly_probability: f64,
    /// Anomalies multiply or divide demand by this.
    pub anomaly_magnitude: f64,
}

/// Retail mechanics: promotions, prices and stock.
#[derive(Debug, Clone, PartialEq)]
pub struct RetailConfig {
    /// Demand multiplier on promotion days.
    pub promotion_lift: f64,
    /// Demand response to price: `1 + elasticity·(price − base)/base`.
    pub price_elasticity: f64,
    /// Ramp length after a launch date when lifecycle is off.
    pub new_product_ramp_days: u32,
    /// Chance per product and 30 days that a promotion starts.
    pub promotion_probability: f64,
    /// Chance that a (store, product, day) is out of stock.
    pub stockout_probability: f64,
    /// Whether the selling price feeds demand.
    pub price_sales_coupling: bool,
    /// Share of new products launched inside the window (new_launches).
    pub launch_share: f64,
}

/// Missing (store, product) combinations and gaps.
#[derive(Debug, Clone, PartialEq)]
pub struct SparsityConfig {
    /// Share of pairs that never sell (also the share of intermittent series).
    pub missing_combinations_pct: f64,
    /// Gaps without rows per active series.
    pub random_gaps_per_series: u32,
    /// Shortest gap in days.
    pub gap_min_days: u32,
    /// Longest gap in days.
    pub gap_max_days: u32,
}

/// A dated demand multiplier with a name.
#[derive(Debug, Clone, PartialEq)]
pub struct Holiday {
    /// Day.
    pub date: NaiveDate,
    /// Calendar label.
    pub name: String,
    /// Demand multiplier.
    pub multiplier: f64,
}

/// A structural break: demand jumps by `multiplier` and decays back.
#[derive(Debug, Clone, PartialEq)]
pub struct Changepoint {
    /// First day of the break.
    pub date: NaiveDate,
    /// Multiplier on that day.
    pub demand_multiplier: f64,
    /// E-folding time of the decay (0 = one day only).
    pub decay_days: u32,
}

/// Exogenous signals (weather per store, a macro index).
#[derive(Debug, Clone, PartialEq)]
pub struct ExogenousConfig {
    /// Write `weather_temp_c` per store and day.
    pub weather: bool,
    /// Write the global `macro_index`.
    pub macro_index: bool,
    /// Demand response per °C away from 15 °C.
    pub weather_sensitivity: f64,
}

/// Customer returns.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnsConfig {
    /// Chance that a sale with units is (partly) returned.
    pub probability: f64,
    /// Shortest lag in days.
    pub lag_min_days: u32,
    /// Longest lag in days.
    pub lag_max_days: u32,
    /// Share of the units returned.
    pub fraction: f64,
}

impl Default for ReturnsConfig {
    fn default() -> Self {
        Self {
            probability: 0.02,
            lag_min_days: 1,
            lag_max_days: 14,
            fraction: 0.5,
        }
    }
}

/// Substitution between products when one is out of stock.
#[derive(Debug, Clone, PartialEq)]
pub struct SubstitutionConfig {
    /// Groups of product ids that substitute for each other.
    pub groups: Vec<Vec<i64>>,
    /// Lift per stocked-out member.
    pub lift: f64,
}

/// Sales channels.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelConfig {
    /// Channel weights (sorted by name).
    pub mix: Vec<(String, f64)>,
    /// Units multiplier of online rows on promotion days.
    pub online_promo_uplift: f64,
    /// Share of the online weight moved from in-store on promotion days.
    pub online_substitution_to_instore: f64,
}

/// What starts a markdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkdownTrigger {
    /// The first day a product's lifecycle stage is decline.
    LifecycleDecline,
    /// The 14 days before each stockout of a (store, product).
    StockoutRisk,
}

/// Purchase orders and their receipts.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplenishmentConfig {
    /// Mean lead time in days.
    pub mean_lead_time_days: f64,
    /// Lead-time standard deviation.
    pub lead_time_sigma: f64,
    /// Safety stock in days of base demand.
    pub safety_stock_days: u32,
    /// Days between orders.
    pub order_frequency_days: u32,
    /// Mean fill rate.
    pub fill_rate_mean: f64,
    /// Fill-rate standard deviation.
    pub fill_rate_sigma: f64,
    /// Daily units the order size is based on.
    pub base_demand: f64,
}

impl Default for ReplenishmentConfig {
    fn default() -> Self {
        Self {
            mean_lead_time_days: 7.0,
            lead_time_sigma: 1.5,
            safety_stock_days: 3,
            order_frequency_days: 14,
            fill_rate_mean: 0.97,
            fill_rate_sigma: 0.05,
            base_demand: 100.0,
        }
    }
}

/// Everything one generation run needs.
#[derive(Debug, Clone, PartialEq)]
pub struct SeederConfig {
    /// Seed of the one generator all randomness derives from.
    pub seed: u64,
    /// Stores to create.
    pub stores: u32,
    /// Products to create.
    pub products: u32,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day (inclusive).
    pub end_date: NaiveDate,
    /// Demand shape.
    pub time_series: TimeSeriesConfig,
    /// Retail mechanics.
    pub retail: RetailConfig,
    /// Sparsity.
    pub sparsity: SparsityConfig,
    /// Custom holidays with multipliers (override the federal labels).
    pub holidays: Vec<Holiday>,
    /// Apply the built-in demand effects of the US federal holidays.
    pub federal_holiday_effects: bool,
    /// Structural breaks.
    pub changepoints: Vec<Changepoint>,
    /// Exogenous signals.
    pub exogenous: Option<ExogenousConfig>,
    /// Returns.
    pub returns: Option<ReturnsConfig>,
    /// Substitution.
    pub substitution: Option<SubstitutionConfig>,
    /// Multichannel sales.
    pub channels: Option<ChannelConfig>,
    /// Lifecycle (launch/discontinue dates) with this discontinue chance.
    pub lifecycle_discontinue_probability: Option<f64>,
    /// Bundle/BOGO conversion chance of promotions.
    pub bundle_probability: Option<f64>,
    /// Markdowns.
    pub markdown: Option<MarkdownTrigger>,
    /// Replenishment events.
    pub replenishment: Option<ReplenishmentConfig>,
    /// Rows per insert batch (SQLite statements; Postgres COPY chunks are per store).
    pub batch_size: usize,
}

/// Regions stores are drawn from.
pub const REGIONS: [&str; 4] = ["North", "South", "East", "West"];
/// Store formats.
pub const STORE_TYPES: [&str; 3] = ["supermarket", "express", "warehouse"];
/// Product categories.
pub const CATEGORIES: [&str; 6] = ["Beverage", "Snack", "Dairy", "Frozen", "Produce", "Bakery"];
/// Brands.
pub const BRANDS: [&str; 5] = ["BrandA", "BrandB", "BrandC", "Generic", "Premium"];
/// The four sales channels, sorted.
pub const CHANNELS: [&str; 4] = ["click_collect", "in_store", "online", "wholesale"];

impl SeederConfig {
    /// The all-defaults configuration (no preset) for the window ending `today`.
    pub fn defaults(today: NaiveDate) -> Self {
        Self {
            seed: 42,
            stores: 10,
            products: 50,
            start_date: today - Days::new(365),
            end_date: today,
            time_series: TimeSeriesConfig {
                base_demand: 100.0,
                trend: Trend::None,
                trend_slope: 0.001,
                weekly: [0.8, 0.9, 1.0, 1.0, 1.1, 1.3, 1.2],
                monthly: None,
                yearly_amplitude: 0.1,
                noise_sigma: 0.1,
                anomaly_probability: 0.01,
                anomaly_magnitude: 2.0,
            },
            retail: RetailConfig {
                promotion_lift: 1.3,
                price_elasticity: -0.5,
                new_product_ramp_days: 30,
                promotion_probability: 0.05,
                stockout_probability: 0.02,
                price_sales_coupling: true,
                launch_share: 0.0,
            },
            sparsity: SparsityConfig {
                missing_combinations_pct: 0.0,
                random_gaps_per_series: 0,
                gap_min_days: 1,
                gap_max_days: 1,
            },
            holidays: Vec::new(),
            federal_holiday_effects: true,
            changepoints: Vec::new(),
            exogenous: None,
            returns: None,
            substitution: None,
            channels: None,
            lifecycle_discontinue_probability: None,
            bundle_probability: None,
            markdown: None,
            replenishment: None,
            batch_size: 5_000,
        }
    }

    /// Number of days in the window.
    pub fn days(&self) -> usize {
        usize::try_from((self.end_date - self.start_date).num_days() + 1).unwrap_or(0)
    }
}

/// The eight scenario presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScenarioPreset {
    /// Steady retail with a mild trend.
    RetailStandard,
    /// Q4 2024 with Thanksgiving, Black Friday and Christmas.
    HolidayRush,
    /// Noisy demand with frequent anomalies.
    HighVariance,
    /// A quarter of all days out of stock.
    StockoutHeavy,
    /// 100 products, a share of them launched inside the window.
    NewLaunches,
    /// Half the store × product pairs never sell; gaps and intermittent series.
    Sparse,
    /// 3 stores × 10 products over 92 days.
    DemoMinimal,
    /// 5 stores × 15 products over 181 days with more promotions and stockouts.
    ShowcaseRich,
}

impl ScenarioPreset {
    /// Every preset in listing order.
    pub const ALL: [Self; 8] = [
        Self::RetailStandard,
        Self::HolidayRush,
        Self::HighVariance,
        Self::StockoutHeavy,
        Self::NewLaunches,
        Self::Sparse,
        Self::DemoMinimal,
        Self::ShowcaseRich,
    ];

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Self::RetailStandard => "retail_standard",
            Self::HolidayRush => "holiday_rush",
            Self::HighVariance => "high_variance",
            Self::StockoutHeavy => "stockout_heavy",
            Self::NewLaunches => "new_launches",
            Self::Sparse => "sparse",
            Self::DemoMinimal => "demo_minimal",
            Self::ShowcaseRich => "showcase_rich",
        }
    }

    /// Looks a preset up by its wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|preset| preset.name() == name)
    }

    /// One-line description.
    pub fn description(self) -> &'static str {
        match self {
            Self::RetailStandard => {
                "Normal retail patterns: mild upward trend, weekly and yearly seasonality, 10% promotion rate, 2% stockouts"
            }
            Self::HolidayRush => {
                "Q4 2024 holiday season: exponential build-up, monthly uplift to December, Thanksgiving, Black Friday and Christmas effects"
            }
            Self::HighVariance => "Noisy demand (sigma 0.4) with 5% anomalies of magnitude 3",
            Self::StockoutHeavy => "Supply problems: 25% of store-product days out of stock, sales capped at the stock on hand",
            Self::NewLaunches => "Catalogue expansion: 100 products, 30% launched inside the window with a 45-day ramp",
            Self::Sparse => "Sparse data: 50% of store-product pairs never sell, 3 gaps per series, intermittent slow movers",
            Self::DemoMinimal => "Minimal demo data: 3 stores, 10 products, 92 days",
            Self::ShowcaseRich => "Showcase data: 5 stores, 15 products, 181 days with richer promotions and stockouts",
        }
    }

    /// The preset's configuration for a window relative to `today` (UTC).
    pub fn config(self, today: NaiveDate) -> SeederConfig {
        let mut c = SeederConfig::defaults(today);
        match self {
            Self::RetailStandard => {
                c.time_series.trend = Trend::Linear;
                c.time_series.trend_slope = 0.0005;
                c.time_series.noise_sigma = 0.15;
                c.retail.promotion_probability = 0.10;
                c.retail.stockout_probability = 0.02;
            }
            Self::HolidayRush => {
                c.start_date = date(2024, 10, 1);
                c.end_date = date(2024, 12, 31);
                c.time_series.base_demand = 80.0;
                c.time_series.trend = Trend::Exponential;
                c.time_series.trend_slope = 0.005;
                let mut monthly = [1.0; 12];
                monthly[9] = 1.0;
                monthly[10] = 1.3;
                monthly[11] = 1.8;
                c.time_series.monthly = Some(monthly);
                c.time_series.noise_sigma = 0.2;
                c.retail.promotion_probability = 0.25;
                c.retail.stockout_probability = 0.15;
                c.holidays = vec![
                    holiday(date(2024, 11, 28), "Thanksgiving", 2.0),
                    holiday(date(2024, 11, 29), "Black Friday", 3.0),
                    holiday(date(2024, 12, 24), "Christmas Eve", 1.5),
                    holiday(date(2024, 12, 25), "Christmas Day", 0.3),
                ];
            }
            Self::HighVariance => {
                c.time_series.noise_sigma = 0.4;
                c.time_series.anomaly_probability = 0.05;
                c.time_series.anomaly_magnitude = 3.0;
                c.retail.promotion_probability = 0.15;
                c.retail.stockout_probability = 0.05;
            }
            Self::StockoutHeavy => {
                c.time_series.base_demand = 50.0;
                c.time_series.noise_sigma = 0.2;
                c.retail.promotion_probability = 0.20;
                c.retail.stockout_probability = 0.25;
            }
            Self::NewLaunches => {
                c.products = 100;
                c.time_series.base_demand = 80.0;
                c.time_series.trend = Trend::Linear;
                c.time_series.trend_slope = 0.002;
                c.retail.new_product_ramp_days = 45;
                c.retail.promotion_probability = 0.15;
                c.retail.launch_share = 0.3;
            }
            Self::Sparse => {
                c.sparsity = SparsityConfig {
                    missing_combinations_pct: 0.5,
                    random_gaps_per_series: 3,
                    gap_min_days: 2,
                    gap_max_days: 10,
                };
            }
            Self::DemoMinimal => {
                c.stores = 3;
                c.products = 10;
                c.start_date = today - Days::new(91);
                c.time_series.trend = Trend::Linear;
                c.time_series.trend_slope = 0.0005;
                c.time_series.noise_sigma = 0.10;
                c.retail.promotion_probability = 0.10;
                c.retail.stockout_probability = 0.02;
            }
            Self::ShowcaseRich => {
                c.stores = 5;
                c.products = 15;
                c.start_date = today - Days::new(180);
                c.time_series.trend = Trend::Linear;
                c.time_series.trend_slope = 0.0005;
                c.time_series.noise_sigma = 0.10;
                c.retail.promotion_probability = 0.15;
                c.retail.stockout_probability = 0.05;
            }
        }
        c
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn holiday(date: NaiveDate, name: &str, multiplier: f64) -> Holiday {
    Holiday {
        date,
        name: name.to_owned(),
        multiplier,
    }
}

fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u8) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n)
}

fn last_weekday(year: i32, month: u32, weekday: Weekday) -> Option<NaiveDate> {
    (1..=5)
        .rev()
        .find_map(|n| nth_weekday(year, month, weekday, n))
}

/// The US federal holidays of `year` with ForecastLab's demand effects
/// (labels in the calendar; the multiplier applies when
/// [`SeederConfig::federal_holiday_effects`] is on).
pub fn federal_holidays(year: i32) -> Vec<Holiday> {
    let fixed = [
        (1, 1, "New Year's Day", 0.6),
        (6, 19, "Juneteenth", 1.05),
        (7, 4, "Independence Day", 1.2),
        (11, 11, "Veterans Day", 1.05),
        (12, 25, "Christmas Day", 0.3),
    ];
    let mut out: Vec<Holiday> = fixed
        .iter()
        .filter_map(|&(m, d, name, mult)| {
            NaiveDate::from_ymd_opt(year, m, d).map(|date| holiday(date, name, mult))
        })
        .collect();
    let floating = [
        (
            nth_weekday(year, 1, Weekday::Mon, 3),
            "Martin Luther King Jr. Day",
            1.05,
        ),
        (nth_weekday(year, 2, Weekday::Mon, 3), "Presidents Day", 1.1),
        (last_weekday(year, 5, Weekday::Mon), "Memorial Day", 1.15),
        (nth_weekday(year, 9, Weekday::Mon, 1), "Labor Day", 1.15),
        (nth_weekday(year, 10, Weekday::Mon, 2), "Columbus Day", 1.05),
        (nth_weekday(year, 11, Weekday::Thu, 4), "Thanksgiving", 0.7),
    ];
    out.extend(
        floating
            .into_iter()
            .filter_map(|(date, name, mult)| date.map(|date| holiday(date, name, mult))),
    );
    out.sort_by_key(|h| h.date);
    out
}

/// Holidays of every year in `start..=end`, custom ones winning on the same date.
pub fn holidays_in(start: NaiveDate, end: NaiveDate, custom: &[Holiday]) -> Vec<Holiday> {
    let mut all: Vec<Holiday> = (start.year()..=end.year())
        .flat_map(federal_holidays)
        .filter(|h| h.date >= start && h.date <= end)
        .filter(|h| !custom.iter().any(|c| c.date == h.date))
        .collect();
    all.extend(
        custom
            .iter()
            .filter(|h| h.date >= start && h.date <= end)
            .cloned(),
    );
    all.sort_by_key(|h| h.date);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn federal_floating_holidays_land_on_the_right_days() {
        let h = federal_holidays(2024);
        let find = |name: &str| h.iter().find(|x| x.name == name).unwrap().date;
        assert_eq!(find("Thanksgiving"), date(2024, 11, 28));
        assert_eq!(find("Memorial Day"), date(2024, 5, 27));
        assert_eq!(find("Labor Day"), date(2024, 9, 2));
        assert_eq!(find("Martin Luther King Jr. Day"), date(2024, 1, 15));
        assert_eq!(h.len(), 11);
    }

    #[test]
    fn custom_holidays_win_on_the_same_date() {
        let custom = ScenarioPreset::HolidayRush
            .config(date(2026, 1, 1))
            .holidays;
        let all = holidays_in(date(2024, 10, 1), date(2024, 12, 31), &custom);
        let thanksgiving: Vec<_> = all
            .iter()
            .filter(|h| h.date == date(2024, 11, 28))
            .collect();
        assert_eq!(thanksgiving.len(), 1);
        assert_eq!(thanksgiving[0].multiplier, 2.0);
        assert!(all.iter().any(|h| h.name == "Columbus Day"));
    }

    #[test]
    fn presets_round_trip_their_names_and_parameters() {
        let today = date(2026, 11, 29);
        for preset in ScenarioPreset::ALL {
            assert_eq!(ScenarioPreset::from_name(preset.name()), Some(preset));
        }
        let demo = ScenarioPreset::DemoMinimal.config(today);
        assert_eq!((demo.stores, demo.products, demo.days()), (3, 10, 92));
        assert_eq!(ScenarioPreset::ShowcaseRich.config(today).days(), 181);
        assert_eq!(ScenarioPreset::NewLaunches.config(today).products, 100);
        assert_eq!(ScenarioPreset::HolidayRush.config(today).days(), 92);
        assert_eq!(
            ScenarioPreset::StockoutHeavy
                .config(today)
                .retail
                .stockout_probability,
            0.25
        );
        assert_eq!(ScenarioPreset::RetailStandard.config(today).days(), 366);
    }
}
