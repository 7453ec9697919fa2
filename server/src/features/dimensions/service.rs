//! Dimensions logic: turning validated queries into list specs, and the
//! product lifecycle curve.

use chrono::{Days, NaiveDate, Utc};
use forecastlab_core::lifecycle::LifecycleConfig;

use super::{
    repo::{Entity, Filter, ListSpec},
    schemas::{LifecycleCurveResponse, LifecyclePointResponse},
};
use crate::problem::Problem;

/// Longest lifecycle curve one request may ask for (end − start in days).
pub(crate) const LIFECYCLE_MAX_RANGE_DAYS: i64 = 1095;

/// Builds a list spec; `sort_by` outside the allow-list falls back to the
/// default order (natural key ascending) and is never an error.
pub(crate) fn list_spec(
    entity: Entity,
    filters: Vec<(&'static str, Option<String>)>,
    search: Option<String>,
    sort_by: Option<&str>,
    sort_order: Option<&str>,
    page: i64,
    page_size: i64,
) -> ListSpec {
    ListSpec {
        filters: filters
            .into_iter()
            .filter_map(|(column, value)| value.map(|value| Filter { column, value }))
            .collect(),
        search,
        sort_column: sort_by.and_then(|s| entity.sort_column(s)),
        descending: sort_order == Some("desc"),
        limit: page_size,
        offset: (page - 1).saturating_mul(page_size),
    }
}

/// The curve of a product with the given attributes over the requested or
/// default window.
pub(crate) fn lifecycle_curve(
    product_id: i64,
    sku: String,
    launch: Option<NaiveDate>,
    discontinue: Option<NaiveDate>,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<LifecycleCurveResponse, Problem> {
    let start = start
        .or(launch)
        .unwrap_or_else(|| today.checked_sub_days(Days::new(30)).unwrap_or(today));
    let end = end.unwrap_or_else(|| {
        let end = start.checked_add_days(Days::new(365)).unwrap_or(start);
        match discontinue {
            Some(stop) if stop < end => stop,
            _ => end,
        }
    });
    let end = end.max(start);
    let span = (end - start).num_days();
    if span > LIFECYCLE_MAX_RANGE_DAYS {
        return Err(Problem::bad_request(format!(
            "The lifecycle curve spans {span} days ({start} to {end}); the maximum is \
             {LIFECYCLE_MAX_RANGE_DAYS} days."
        ))
        .with_extension("max_range_days", LIFECYCLE_MAX_RANGE_DAYS));
    }
    let config = LifecycleConfig::default();
    let points: Vec<LifecyclePointResponse> = start
        .iter_days()
        .take_while(|day| *day <= end)
        .map(|day| {
            let point = config.point(launch, discontinue, day);
            LifecyclePointResponse {
                date: day,
                stage: point.stage.as_str(),
                multiplier: if point.multiplier.is_finite() {
                    point.multiplier
                } else {
                    0.0
                },
            }
        })
        .collect();
    Ok(LifecycleCurveResponse {
        product_id,
        sku,
        launch_date: launch,
        discontinue_date: discontinue,
        start_date: start,
        end_date: end,
        total: points.len(),
        points,
    })
}

/// Today in UTC.
pub(crate) fn today() -> NaiveDate {
    Utc::now().date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn defaults_follow_launch_and_discontinue_dates() {
        let today = d("2026-01-31");
        let c = lifecycle_curve(
            1,
            "A".into(),
            Some(d("2024-01-01")),
            None,
            None,
            None,
            today,
        )
        .unwrap();
        assert_eq!(
            (c.start_date, c.end_date),
            (d("2024-01-01"), d("2024-12-31"))
        );
        assert_eq!(c.total, 366);
        let c = lifecycle_curve(
            1,
            "A".into(),
            Some(d("2024-01-01")),
            Some(d("2024-02-01")),
            None,
            None,
            today,
        )
        .unwrap();
        assert_eq!(c.end_date, d("2024-02-01"));
        assert_eq!(c.points.last().unwrap().stage, "discontinued");
        let c = lifecycle_curve(1, "A".into(), None, None, None, None, today).unwrap();
        assert_eq!(c.start_date, d("2026-01-01"));
        assert!(c
            .points
            .iter()
            .all(|p| p.stage == "maturity" && p.multiplier == 1.0));
        // end before start collapses to one day.
        let c = lifecycle_curve(
            1,
            "A".into(),
            None,
            None,
            Some(d("2024-05-01")),
            Some(d("2024-04-01")),
            today,
        )
        .unwrap();
        assert_eq!(c.total, 1);
        assert_eq!(c.end_date, d("2024-05-01"));
    }

    #[test]
    fn range_cap() {
        let today = d("2026-01-31");
        let ok = lifecycle_curve(
            1,
            "A".into(),
            None,
            None,
            Some(d("2024-01-01")),
            Some(d("2026-12-31")),
            today,
        );
        assert_eq!(ok.unwrap().total, 1096);
        let too_long = lifecycle_curve(
            1,
            "A".into(),
            None,
            None,
            Some(d("2024-01-01")),
            Some(d("2027-01-01")),
            today,
        );
        assert_eq!(too_long.unwrap_err().status.as_u16(), 400);
    }
}
