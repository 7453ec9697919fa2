//! Analytics logic: date-range validation, KPI formulas, drilldown ranks and
//! shares, time-series bucketing.

use chrono::{Datelike, Days, NaiveDate};

use super::{
    money::{cents_text, decimal_div, share_pct},
    repo::{Drilldown, SalesFilter, Totals},
    schemas::{DrilldownItem, Granularity, KpiMetrics, TimeseriesPoint},
};
use crate::{problem::Problem, state::AppState};

/// Checks `start <= end` and `end − start <= max_days` (400 otherwise).
pub(crate) fn validate_date_range(
    start: NaiveDate,
    end: NaiveDate,
    max_days: i64,
) -> Result<(), Problem> {
    if end < start {
        return Err(Problem::bad_request(format!(
            "end_date ({end}) must be greater than or equal to start_date ({start})."
        )));
    }
    let span = (end - start).num_days();
    if span > max_days {
        return Err(Problem::bad_request(format!(
            "The date range spans {span} days; the maximum is {max_days} days \
             (ANALYTICS_MAX_DATE_RANGE_DAYS)."
        ))
        .with_extension("max_range_days", max_days));
    }
    Ok(())
}

/// The sales filter of a windowed analytics query, once its date range
/// passes [`validate_date_range`] against `ANALYTICS_MAX_DATE_RANGE_DAYS`.
pub(crate) fn window_filter(
    state: &AppState,
    start: NaiveDate,
    end: NaiveDate,
    store_id: Option<i64>,
    product_id: Option<i64>,
    category: Option<String>,
) -> Result<SalesFilter, Problem> {
    validate_date_range(start, end, state.settings.analytics_max_date_range_days)?;
    Ok(SalesFilter {
        start: Some(start),
        end: Some(end),
        store_id,
        product_id,
        category,
    })
}

/// The KPI block of `totals` (spec formulas; Python `Decimal` division).
pub(crate) fn metrics(totals: Totals) -> KpiMetrics {
    let revenue = i128::from(totals.revenue_cents);
    KpiMetrics {
        total_revenue: if totals.transactions == 0 {
            "0".to_owned()
        } else {
            cents_text(totals.revenue_cents)
        },
        total_units: totals.units,
        total_transactions: totals.transactions,
        avg_unit_price: decimal_div(revenue, 2, i128::from(totals.units)),
        avg_basket_value: decimal_div(revenue, 2, i128::from(totals.transactions)),
    }
}

/// Ranked drilldown items with their revenue shares.
pub(crate) fn drilldown_items(drilldown: Drilldown) -> Vec<DrilldownItem> {
    let grand = drilldown.grand_revenue_cents;
    drilldown
        .groups
        .into_iter()
        .enumerate()
        .map(|(index, group)| DrilldownItem {
            dimension_value: group.value,
            dimension_id: group.id,
            revenue_share_pct: share_pct(group.totals.revenue_cents, grand),
            metrics: metrics(group.totals),
            rank: index as i64 + 1,
        })
        .collect()
}

/// The first day of the bucket containing `day`.
pub(crate) fn bucket_start(day: NaiveDate, granularity: Granularity) -> NaiveDate {
    match granularity {
        Granularity::Day => day,
        Granularity::Week => day
            .checked_sub_days(Days::new(u64::from(day.weekday().num_days_from_monday())))
            .unwrap_or(day),
        Granularity::Month => day.with_day(1).unwrap_or(day),
        Granularity::Quarter => {
            let month = (day.month() - 1) / 3 * 3 + 1;
            NaiveDate::from_ymd_opt(day.year(), month, 1).unwrap_or(day)
        }
    }
}

/// Folds ascending per-day totals into buckets (no zero filling).
pub(crate) fn buckets(
    days: &[(NaiveDate, Totals)],
    granularity: Granularity,
) -> Vec<TimeseriesPoint> {
    let mut folded: Vec<(NaiveDate, Totals)> = Vec::new();
    for (day, totals) in days {
        let start = bucket_start(*day, granularity);
        match folded.last_mut() {
            Some((period, sum)) if *period == start => *sum += *totals,
            _ => folded.push((start, *totals)),
        }
    }
    folded
        .into_iter()
        .map(|(period, totals)| TimeseriesPoint {
            period,
            metrics: metrics(totals),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn t(revenue_cents: i64, units: i64, transactions: i64) -> Totals {
        Totals {
            revenue_cents,
            units,
            transactions,
        }
    }

    #[test]
    fn kpi_formulas() {
        let m = metrics(t(7_252_740, 7260, 120));
        assert_eq!(m.total_revenue, "72527.40");
        assert_eq!(m.avg_unit_price.as_deref(), Some("9.99"));
        assert_eq!(m.avg_basket_value.as_deref(), Some("604.395"));
        let empty = metrics(Totals::default());
        assert_eq!(empty.total_revenue, "0");
        assert_eq!(empty.avg_unit_price, None);
        assert_eq!(empty.avg_basket_value, None);
        let zero_units = metrics(t(0, 0, 2));
        assert_eq!(zero_units.total_revenue, "0.00");
        assert_eq!(zero_units.avg_unit_price, None);
        assert_eq!(zero_units.avg_basket_value.as_deref(), Some("0.00"));
    }

    #[test]
    fn date_range_rules() {
        assert!(validate_date_range(d("2024-01-01"), d("2025-12-31"), 730).is_ok());
        assert!(validate_date_range(d("2024-01-01"), d("2026-01-01"), 730).is_err());
        assert!(validate_date_range(d("2024-01-02"), d("2024-01-01"), 730).is_err());
        assert!(validate_date_range(d("2024-01-01"), d("2024-01-01"), 730).is_ok());
    }

    #[test]
    fn bucket_starts() {
        // 2024-01-03 is a Wednesday.
        for (day, granularity, start) in [
            ("2024-01-03", Granularity::Week, "2024-01-01"),
            ("2024-01-07", Granularity::Week, "2024-01-01"),
            ("2024-01-08", Granularity::Week, "2024-01-08"),
            ("2023-01-01", Granularity::Week, "2022-12-26"),
            ("2024-02-29", Granularity::Month, "2024-02-01"),
            ("2024-06-30", Granularity::Quarter, "2024-04-01"),
            ("2024-12-31", Granularity::Quarter, "2024-10-01"),
            ("2024-12-31", Granularity::Day, "2024-12-31"),
        ] {
            assert_eq!(
                bucket_start(d(day), granularity),
                d(start),
                "{day} by {granularity:?}"
            );
        }
    }

    #[test]
    fn buckets_fold_consecutive_days() {
        let days = vec![
            (d("2024-01-06"), t(100, 1, 1)),
            (d("2024-01-07"), t(200, 2, 1)),
            (d("2024-01-08"), t(300, 3, 1)),
        ];
        let points = buckets(&days, Granularity::Week);
        assert_eq!(points.len(), 2);
        assert_eq!(points[0].period, d("2024-01-01"));
        assert_eq!(points[0].metrics.total_revenue, "3.00");
        assert_eq!(points[1].metrics.total_units, 3);
        assert_eq!(buckets(&days, Granularity::Day).len(), 3);
        assert_eq!(buckets(&days, Granularity::Month).len(), 1);
    }
}
