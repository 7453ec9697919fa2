//! The rules of the ops view, as pure functions over plain values: when an
//! alias is stale, when a series should be retrained, and whether a
//! model's metrics got better or worse than its predecessor's.

use chrono::NaiveDate;
use serde_json::Value;

use super::schemas::{StaleReason, Trend};

/// Relative change of an error metric beyond which a model counts as
/// degrading (or improving): 5 %.
pub const TREND_TOLERANCE: f64 = 0.05;

/// Error metrics compared between two runs, in order of preference (lower
/// is better for each).
pub const COMPARED_METRICS: [&str; 5] = ["wape", "mae", "rmse", "smape", "mase"];

/// A run's feature frame version with the registry's default: a run that
/// records none was built on version 1.
pub fn normalized_version(version: Option<i64>) -> i64 {
    version.unwrap_or(1)
}

/// What the stale-alias rule looks at for one alias.
#[derive(Debug, Clone, PartialEq)]
pub struct AliasFacts {
    /// Status of the run the alias points to.
    pub run_status: String,
    /// That run's feature frame version (`None` = 1).
    pub feature_frame_version: Option<i64>,
    /// That run's last training day.
    pub data_window_end: NaiveDate,
    /// Feature frame version of the newest other `success` run of the same
    /// series registered after the alias's run, if any.
    pub newer_version: Option<Option<i64>>,
    /// Newest sales day of the series, if it has sales.
    pub latest_data_date: Option<NaiveDate>,
}

/// Every reason an alias is stale, most serious first: its run is no
/// longer `success`; a newer successful run of the series was built on a
/// different feature frame version; the series has data more than
/// `stale_after_days` days newer than the run's window.
pub fn stale_reasons(facts: &AliasFacts, stale_after_days: i64) -> Vec<StaleReason> {
    let mut reasons = Vec::new();
    if facts.run_status != "success" {
        reasons.push(StaleReason::RunNotSuccess);
    }
    if let Some(newer) = facts.newer_version {
        if normalized_version(newer) != normalized_version(facts.feature_frame_version) {
            reasons.push(StaleReason::FeatureFrameVersionMismatch);
        }
    }
    if days_behind(facts.data_window_end, facts.latest_data_date)
        .is_some_and(|days| days > stale_after_days)
    {
        reasons.push(StaleReason::DataNewerThanModel);
    }
    reasons
}

/// Days between a model's last training day and the series' newest sales
/// day (0 when the model is current; `None` without sales).
pub fn days_behind(data_window_end: NaiveDate, latest_data_date: Option<NaiveDate>) -> Option<i64> {
    latest_data_date.map(|latest| (latest - data_window_end).num_days().max(0))
}

/// Relative change `(latest − previous) / |previous|`; `None` when the
/// previous value is zero or a value is not finite.
pub fn relative_change(latest: f64, previous: f64) -> Option<f64> {
    let change = (latest - previous) / previous.abs();
    (latest.is_finite() && previous.is_finite() && previous != 0.0 && change.is_finite())
        .then_some(change)
}

/// The trend of an error metric (lower is better) from `previous` to
/// `latest`: beyond ±[`TREND_TOLERANCE`] it is degrading or improving;
/// from an exact zero any increase degrades.
pub fn trend(latest: f64, previous: f64) -> Trend {
    if !latest.is_finite() || !previous.is_finite() {
        return Trend::NoBaseline;
    }
    match relative_change(latest, previous) {
        Some(change) if change > TREND_TOLERANCE => Trend::Degrading,
        Some(change) if change < -TREND_TOLERANCE => Trend::Improving,
        Some(_) => Trend::Stable,
        None if latest > previous => Trend::Degrading,
        None => Trend::Stable,
    }
}

/// The first of [`COMPARED_METRICS`] that both metric objects carry as a
/// finite number: `(name, latest, previous)`.
pub fn shared_metric<'a>(latest: &Value, previous: &Value) -> Option<(&'a str, f64, f64)> {
    COMPARED_METRICS.iter().find_map(|&name| {
        let a = latest.get(name).and_then(Value::as_f64)?;
        let b = previous.get(name).and_then(Value::as_f64)?;
        (a.is_finite() && b.is_finite()).then_some((name, a, b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn facts() -> AliasFacts {
        AliasFacts {
            run_status: "success".into(),
            feature_frame_version: None,
            data_window_end: day("2024-03-01"),
            newer_version: None,
            latest_data_date: Some(day("2024-03-05")),
        }
    }

    #[test]
    fn a_current_alias_is_not_stale() {
        assert!(stale_reasons(&facts(), 7).is_empty());
    }

    #[test]
    fn null_and_one_are_the_same_version() {
        let same = AliasFacts {
            newer_version: Some(Some(1)),
            ..facts()
        };
        assert!(stale_reasons(&same, 7).is_empty());
        let two = AliasFacts {
            newer_version: Some(Some(2)),
            ..facts()
        };
        assert_eq!(
            stale_reasons(&two, 7),
            [StaleReason::FeatureFrameVersionMismatch]
        );
    }

    #[test]
    fn data_more_than_n_days_newer_is_stale() {
        let behind = AliasFacts {
            latest_data_date: Some(day("2024-03-09")),
            ..facts()
        };
        assert!(stale_reasons(&behind, 8).is_empty(), "8 days is not > 8");
        assert_eq!(stale_reasons(&behind, 7), [StaleReason::DataNewerThanModel]);
    }

    #[test]
    fn reasons_are_ordered_by_seriousness() {
        let all = AliasFacts {
            run_status: "archived".into(),
            feature_frame_version: Some(2),
            newer_version: Some(Some(3)),
            latest_data_date: Some(day("2024-06-01")),
            ..facts()
        };
        assert_eq!(
            stale_reasons(&all, 7),
            [
                StaleReason::RunNotSuccess,
                StaleReason::FeatureFrameVersionMismatch,
                StaleReason::DataNewerThanModel
            ]
        );
    }

    #[test]
    fn days_behind_never_negative() {
        assert_eq!(
            days_behind(day("2024-03-10"), Some(day("2024-03-01"))),
            Some(0)
        );
        assert_eq!(
            days_behind(day("2024-03-01"), Some(day("2024-03-15"))),
            Some(14)
        );
        assert_eq!(days_behind(day("2024-03-01"), None), None);
    }

    #[test]
    fn trend_uses_a_five_percent_band() {
        assert_eq!(trend(0.2, 0.1), Trend::Degrading);
        assert_eq!(trend(0.104, 0.1), Trend::Stable);
        assert_eq!(trend(0.094, 0.1), Trend::Improving);
        assert_eq!(trend(0.0, 0.0), Trend::Stable);
        assert_eq!(trend(0.1, 0.0), Trend::Degrading);
        assert_eq!(trend(f64::NAN, 0.1), Trend::NoBaseline);
    }

    #[test]
    fn relative_change_is_signed_and_guarded() {
        assert!((relative_change(0.12, 0.1).unwrap() - 0.2).abs() < 1e-12);
        assert!((relative_change(0.08, 0.1).unwrap() + 0.2).abs() < 1e-12);
        assert_eq!(relative_change(1.0, 0.0), None);
    }

    #[test]
    fn shared_metric_prefers_wape_and_skips_missing() {
        let a = json!({"mae": 2.0, "wape": 0.3, "rmse": 3.0});
        let b = json!({"mae": 1.0, "wape": 0.2});
        assert_eq!(shared_metric(&a, &b), Some(("wape", 0.3, 0.2)));
        let c = json!({"mae": 2.0, "wape": null});
        assert_eq!(shared_metric(&c, &b), Some(("mae", 2.0, 1.0)));
        assert_eq!(shared_metric(&json!({}), &b), None);
    }
}
