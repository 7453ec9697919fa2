//! Turning a model's [`Explanation`] and the series' context into the
//! response of §6.3: drivers with directions, per-family totals, reason
//! codes, caveats and the four-sentence summary. Pure functions.

use chrono::NaiveDate;
use forecastlab_core::explain::{direction, ExplainMethod, Explanation};

use super::schemas::{DriverOut, GroupContribution, ReasonCode};

/// Days before `as_of_date` the stockout and promotion signals look back.
pub const LOOKBACK_DAYS: u64 = 30;
/// A product launched less than this many days before `as_of_date` is in
/// its lifecycle ramp.
pub const LAUNCH_WINDOW_DAYS: i64 = 30;

/// What the database says about the series around the forecast.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Signals {
    /// Inventory snapshot rows in `[as_of − 30, as_of]`.
    pub snapshot_days: usize,
    /// Of those, rows flagged out of stock.
    pub stockout_days: usize,
    /// Promotions of the product (this store or chain-wide) overlapping
    /// `[as_of − 30, as_of]`.
    pub promotions: usize,
    /// Of those, active on `as_of`.
    pub promotions_active: usize,
    /// `as_of − launch_date` in days, when the product has a launch date.
    pub days_since_launch: Option<i64>,
    /// `Some(name)` when the forecast date is a calendar holiday.
    pub holiday: Option<Option<String>>,
}

/// Drivers for the response: rule-based ones keep their order (main
/// driver first); contributions of other methods are sorted by size.
pub fn drivers(explanation: &Explanation) -> Vec<DriverOut> {
    let mut sorted = explanation.clone();
    if explanation.method != ExplainMethod::RuleBased {
        sorted.sort_by_magnitude();
    }
    sorted
        .drivers
        .into_iter()
        .map(|d| DriverOut {
            direction: if explanation.method == ExplainMethod::RuleBased && d.contribution != 0.0 {
                "positive".to_owned()
            } else {
                direction(d.contribution).to_owned()
            },
            name: d.name,
            group: d.group,
            feature_value: d.feature_value.filter(|v| v.is_finite()),
            contribution: d.contribution,
            description: d.description,
        })
        .collect()
}

/// Contributions summed per family, largest magnitude first.
pub fn groups(drivers: &[DriverOut]) -> Vec<GroupContribution> {
    let mut out: Vec<GroupContribution> = Vec::new();
    for driver in drivers {
        match out.iter_mut().find(|g| g.group == driver.group) {
            Some(group) => group.contribution += driver.contribution,
            None => out.push(GroupContribution {
                group: driver.group.clone(),
                contribution: driver.contribution,
            }),
        }
    }
    out.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
    out
}

/// Reason codes in the spec's order (stockout, promotion, lifecycle,
/// holiday, history); only those that fire.
pub fn reason_codes(signals: &Signals, n: usize, history_needed: usize) -> Vec<ReasonCode> {
    let mut codes = Vec::new();
    let mut push = |code: &str, severity: &str, detail: String| {
        codes.push(ReasonCode {
            code: code.to_owned(),
            severity: severity.to_owned(),
            detail,
        });
    };
    if signals.stockout_days > 0 {
        push(
            "stockout_constrained",
            "warn",
            format!(
                "{} of {} inventory snapshot days in the last {LOOKBACK_DAYS} days were out of \
                 stock: sales understate demand.",
                signals.stockout_days, signals.snapshot_days
            ),
        );
    }
    if signals.promotions > 0 {
        push(
            "promotion_overlap",
            "info",
            format!(
                "{} promotion(s) overlapped the last {LOOKBACK_DAYS} days, {} active on the \
                 as-of date.",
                signals.promotions, signals.promotions_active
            ),
        );
    }
    if let Some(days) = signals
        .days_since_launch
        .filter(|d| (0..LAUNCH_WINDOW_DAYS).contains(d))
    {
        push(
            "lifecycle_decay",
            "info",
            format!("The product launched {days} day(s) before the as-of date."),
        );
    }
    if let Some(name) = &signals.holiday {
        push(
            "holiday_effect",
            "info",
            format!(
                "The forecast date is {}.",
                name.as_deref().unwrap_or("a holiday")
            ),
        );
    }
    if n < history_needed {
        push(
            "insufficient_history",
            "warn",
            format!("Only {n} observations; the model wants at least {history_needed}."),
        );
    }
    codes
}

/// Caveats: the correlation disclaimer, the model's own caveat, then one
/// per warning that fired.
pub fn caveats(model_caveat: Option<&str>, codes: &[ReasonCode]) -> Vec<String> {
    let mut out = vec![
        "Drivers describe how the model arrived at its number; they are correlations in \
         past data, not causes."
            .to_owned(),
    ];
    if let Some(caveat) = model_caveat {
        out.push(caveat.to_owned());
    }
    let fired = |code: &str| codes.iter().any(|c| c.code == code);
    if fired("stockout_constrained") {
        out.push(
            "Recent stockouts cap observed sales, so the forecast may understate demand."
                .to_owned(),
        );
    }
    if fired("insufficient_history") {
        out.push("The history is short; treat the forecast as indicative.".to_owned());
    }
    out
}

/// The four-sentence summary.
#[allow(clippy::too_many_arguments)]
pub fn summary(
    store_id: i64,
    product_id: i64,
    model_type: &str,
    value: f64,
    forecast_date: NaiveDate,
    first: Option<&DriverOut>,
    confidence: &str,
    codes: &[ReasonCode],
) -> String {
    let driver = match first {
        Some(d) => format!("The main driver is {} ({:.1}).", d.name, d.contribution),
        None => "The model reported no drivers.".to_owned(),
    };
    let signals = if codes.is_empty() {
        "No advisory signals were found.".to_owned()
    } else {
        let ids: Vec<&str> = codes.iter().map(|c| c.code.as_str()).collect();
        format!("Advisory signals: {}.", ids.join(", "))
    };
    format!(
        "Store {store_id}, product {product_id}: the {model_type} model forecasts {value:.1} \
         units for {forecast_date}. {driver} Confidence is {confidence}. {signals}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use forecastlab_core::explain::{Confidence, Driver};

    fn explanation(method: ExplainMethod) -> Explanation {
        Explanation {
            method,
            prediction: 12.0,
            base_value: 2.0,
            drivers: vec![
                Driver::new("lag_7", "target_history", Some(9.0), 3.0, "a"),
                Driver::new("price_factor", "price", Some(0.9), -1.0, "b"),
                Driver::new("lag_1", "target_history", None, 8.0, "c"),
            ],
            confidence: Some(Confidence::High),
            history_needed: 14,
            caveat: None,
        }
    }

    #[test]
    fn drivers_sorted_and_grouped() {
        let out = drivers(&explanation(ExplainMethod::Shap));
        let names: Vec<&str> = out.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["lag_1", "lag_7", "price_factor"]);
        assert_eq!(out[2].direction, "negative");
        let g = groups(&out);
        assert_eq!(g[0].group, "target_history");
        assert_eq!(g[0].contribution, 11.0);
        assert_eq!(g[1].contribution, -1.0);
        // rule-based keeps the order
        let rule = drivers(&explanation(ExplainMethod::RuleBased));
        assert_eq!(rule[0].name, "lag_7");
    }

    #[test]
    fn codes_in_order_and_only_when_fired() {
        let all = Signals {
            snapshot_days: 31,
            stockout_days: 2,
            promotions: 3,
            promotions_active: 1,
            days_since_launch: Some(10),
            holiday: Some(Some("Christmas Day".into())),
        };
        let codes = reason_codes(&all, 5, 14);
        let ids: Vec<&str> = codes.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(
            ids,
            [
                "stockout_constrained",
                "promotion_overlap",
                "lifecycle_decay",
                "holiday_effect",
                "insufficient_history"
            ]
        );
        assert!(codes[0].detail.contains("2 of 31"));
        assert!(codes[3].detail.contains("Christmas Day"));
        assert_eq!(codes[0].severity, "warn");
        assert!(reason_codes(&Signals::default(), 20, 14).is_empty());
        let launched_long_ago = Signals {
            days_since_launch: Some(30),
            ..Signals::default()
        };
        assert!(reason_codes(&launched_long_ago, 20, 14).is_empty());
        let c = caveats(Some("model caveat"), &codes);
        assert_eq!(c.len(), 4);
        assert!(c[0].contains("not causes"));
        assert_eq!(c[1], "model caveat");
    }

    #[test]
    fn four_sentences() {
        let date = NaiveDate::from_ymd_opt(2024, 5, 2).unwrap();
        let out = drivers(&explanation(ExplainMethod::RuleBased));
        let text = summary(1, 2, "naive", 12.04, date, out.first(), "medium", &[]);
        assert_eq!(
            text,
            "Store 1, product 2: the naive model forecasts 12.0 units for 2024-05-02. \
             The main driver is lag_7 (3.0). Confidence is medium. No advisory signals were found."
        );
        assert_eq!(text.matches(". ").count() + 1, 4);
    }
}
