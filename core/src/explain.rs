//! How a fitted model explains one step of its forecast.
//!
//! A model that can account for its prediction returns an [`Explanation`]
//! from [`crate::FittedModel::explain`]: a base value plus one signed
//! contribution per driver, whose sum is the prediction.
//!
//! * `rule_based` — target-only baselines: the main driver carries the
//!   whole forecast (the base value is 0); context drivers (dispersion,
//!   recent trend) contribute 0.
//! * `component` — linear models: the intercept is the base value and each
//!   driver is coefficient × feature value, exactly.
//! * `shap` — tree ensembles: exact TreeSHAP values; the base value is the
//!   ensemble's expected prediction.
//!
//! [`Explanation::check_additive`] verifies the sum.

use serde::{Deserialize, Serialize};

use crate::CoreError;

/// How the contributions were computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExplainMethod {
    /// Rule-based drivers of a baseline.
    RuleBased,
    /// Exact additive components of a linear model.
    Component,
    /// Exact Shapley values of a tree model.
    Shap,
}

impl ExplainMethod {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RuleBased => "rule_based",
            Self::Component => "component",
            Self::Shap => "shap",
        }
    }
}

/// Confidence in a forecast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// High.
    High,
    /// Medium.
    Medium,
    /// Low.
    Low,
}

impl Confidence {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::High => "high",
            Self::Medium => "medium",
            Self::Low => "low",
        }
    }

    /// The rule for models without their own: low under 30 observations,
    /// medium under 90, else high.
    pub fn from_history(n: usize) -> Self {
        if n < 30 {
            Self::Low
        } else if n < 90 {
            Self::Medium
        } else {
            Self::High
        }
    }
}

/// One driver of a prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Driver {
    /// Driver name (a rule name or a feature column).
    pub name: String,
    /// Family of the driver (`trend`, `day_of_week`, `price`, …; the
    /// model's own name for rule-based drivers).
    pub group: String,
    /// The value the driver read (feature value, window mean, …).
    pub feature_value: Option<f64>,
    /// Signed contribution to the prediction.
    pub contribution: f64,
    /// One sentence.
    pub description: String,
}

impl Driver {
    /// A driver.
    pub fn new(
        name: impl Into<String>,
        group: impl Into<String>,
        feature_value: Option<f64>,
        contribution: f64,
        description: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            group: group.into(),
            feature_value,
            contribution,
            description: description.into(),
        }
    }
}

/// A model's account of one forecast step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// How the contributions were computed.
    pub method: ExplainMethod,
    /// The prediction explained.
    pub prediction: f64,
    /// Base value (intercept, expected value; 0 for rule-based).
    pub base_value: f64,
    /// Drivers, main ones first.
    pub drivers: Vec<Driver>,
    /// The model's own confidence rule, if it has one.
    pub confidence: Option<Confidence>,
    /// Fewest observations the model wants before its forecast is not
    /// "short history".
    pub history_needed: usize,
    /// A caveat specific to the model.
    pub caveat: Option<String>,
}

impl Explanation {
    /// `base_value + Σ contributions`.
    pub fn total(&self) -> f64 {
        self.base_value + self.drivers.iter().map(|d| d.contribution).sum::<f64>()
    }

    /// Checks that the contributions add up to the prediction within
    /// `tolerance` (relative to the prediction's size when it exceeds 1).
    pub fn check_additive(&self, tolerance: f64) -> Result<(), CoreError> {
        let gap = (self.total() - self.prediction).abs();
        if gap <= tolerance * self.prediction.abs().max(1.0) {
            Ok(())
        } else {
            Err(CoreError::input(format!(
                "explanation does not add up: base {} + contributions = {}, prediction {}",
                self.base_value,
                self.total(),
                self.prediction
            )))
        }
    }

    /// Orders drivers by |contribution|, largest first (stable).
    pub fn sort_by_magnitude(&mut self) {
        self.drivers
            .sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
    }
}

/// Mean of `values` (0 when empty).
pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

/// Population standard deviation of `values` (0 when empty).
pub fn population_std(values: &[f64]) -> f64 {
    let m = mean(values);
    mean(&values.iter().map(|v| (v - m).powi(2)).collect::<Vec<_>>()).sqrt()
}

/// A rule-based explanation: `main` carries the whole prediction, the
/// `context` drivers contribute 0.
pub fn rule_based(
    prediction: f64,
    main: Driver,
    context: Vec<Driver>,
    confidence: Confidence,
    history_needed: usize,
    caveat: Option<&str>,
) -> Explanation {
    let mut drivers = vec![main];
    drivers.extend(context);
    Explanation {
        method: ExplainMethod::RuleBased,
        prediction,
        base_value: 0.0,
        drivers,
        confidence: Some(confidence),
        history_needed,
        caveat: caveat.map(str::to_owned),
    }
}

/// Confidence of a window average over `window` (the last values): low
/// when the series is shorter than the window, high when the coefficient
/// of variation (population std / mean; 0 when the mean is not positive)
/// is under 0.5, else medium.
pub fn window_confidence(n: usize, window: &[f64]) -> Confidence {
    if n < window.len() {
        return Confidence::Low;
    }
    let m = mean(window);
    let cv = if m > 0.0 {
        population_std(window) / m
    } else {
        0.0
    };
    if cv < 0.5 {
        Confidence::High
    } else {
        Confidence::Medium
    }
}

/// Family of a feature column (for grouping contributions).
pub fn feature_group(column: &str) -> &'static str {
    match column {
        c if c.starts_with("lag_") || c.starts_with("same_dow_mean") => "target_history",
        c if c.starts_with("dow_") || c == "is_weekend" || c.starts_with("day_of_week") => {
            "day_of_week"
        }
        c if c.starts_with("month") || c == "is_month_end" => "month",
        c if c.starts_with("week_of_year") || c.starts_with("day_of_month") => "calendar",
        "is_holiday" => "holiday",
        c if c.starts_with("price") => "price",
        c if c.starts_with("promo") => "promotion",
        c if c.starts_with("rolling_") => "rolling",
        c if c.starts_with("trend") || c == "elapsed_day" => "trend",
        c if c.contains("stockout") || c.starts_with("inventory") => "inventory",
        "days_since_launch"
        | "is_new_product"
        | "is_mature_product"
        | "is_discontinued"
        | "days_until_discontinue" => "lifecycle",
        c if c.starts_with("replenishment") || c.starts_with("days_since_last_replenishment") => {
            "replenishment"
        }
        c if c.starts_with("returns") => "returns",
        c if c.starts_with("exo_") => "exogenous",
        _ => "other",
    }
}

/// Sign word of a contribution.
pub fn direction(contribution: f64) -> &'static str {
    if contribution > 0.0 {
        "positive"
    } else if contribution < 0.0 {
        "negative"
    } else {
        "neutral"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn additivity_and_order() {
        let mut e = Explanation {
            method: ExplainMethod::Component,
            prediction: 10.0,
            base_value: 4.0,
            drivers: vec![
                Driver::new("a", "trend", Some(1.0), 1.0, "a"),
                Driver::new("b", "price", Some(2.0), -3.0, "b"),
                Driver::new("c", "month", Some(3.0), 8.0, "c"),
            ],
            confidence: None,
            history_needed: 14,
            caveat: None,
        };
        assert!(e.check_additive(1e-9).is_ok());
        e.sort_by_magnitude();
        let names: Vec<&str> = e.drivers.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["c", "b", "a"]);
        e.prediction = 11.0;
        assert!(e.check_additive(1e-9).is_err());
    }

    #[test]
    fn window_rules() {
        assert_eq!(
            population_std(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]),
            2.0
        );
        // [1,100,2,99,3,98,4]: cv ≈ 0.96 → medium; flat → high
        let spiky = [1.0, 100.0, 2.0, 99.0, 3.0, 98.0, 4.0];
        assert_eq!(window_confidence(7, &spiky), Confidence::Medium);
        assert_eq!(window_confidence(7, &[5.0; 7]), Confidence::High);
        assert_eq!(window_confidence(3, &[5.0; 7]), Confidence::Low);
        let e = rule_based(
            5.0,
            Driver::new("m", "x", Some(5.0), 5.0, "m"),
            vec![Driver::new("c", "x", Some(1.0), 0.0, "c")],
            Confidence::High,
            14,
            None,
        );
        assert!(e.check_additive(0.0).is_ok());
        assert_eq!(e.method, ExplainMethod::RuleBased);
    }

    #[test]
    fn groups_and_words() {
        assert_eq!(feature_group("lag_7"), "target_history");
        assert_eq!(feature_group("dow_sin"), "day_of_week");
        assert_eq!(feature_group("month_cos"), "month");
        assert_eq!(feature_group("price_factor"), "price");
        assert_eq!(feature_group("promo_active"), "promotion");
        assert_eq!(feature_group("days_since_launch"), "lifecycle");
        assert_eq!(feature_group("exo_macro_index"), "exogenous");
        assert_eq!(direction(-0.1), "negative");
        assert_eq!(direction(0.0), "neutral");
        assert_eq!(Confidence::from_history(29), Confidence::Low);
        assert_eq!(Confidence::from_history(89), Confidence::Medium);
        assert_eq!(Confidence::from_history(90), Confidence::High);
    }
}
