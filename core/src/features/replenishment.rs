//! `replenishment`: days since the last replenishment event and the number
//! of events over the previous W rows, N rows earlier.

use super::{
    kernels::{lag_from, lag_into, shifted_rolling_into},
    plan::{Plan, Planned, PlannedGroup},
    Aggregation, FeatureGroupRegistration, FeatureSpec, ReplenishmentSpec,
};
use crate::frame::SeriesData;

/// Replenishment columns.
#[derive(Debug)]
pub(crate) struct Replenishments;

/// One replenishment column.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Part {
    DaysSinceLast,
    CountWindow,
}

impl PlannedGroup for Replenishments {
    const NAME: &'static str = "replenishment";
    const DESCRIPTION: &'static str =
        "days_since_last_replenishment_lag{N}, replenishment_count_w{W}_lag{N}";
    type Section = ReplenishmentSpec;
    type Part = Part;

    fn section(spec: &FeatureSpec) -> Option<&ReplenishmentSpec> {
        spec.replenishment.as_ref()
    }

    fn plan(r: &ReplenishmentSpec, plan: &mut Plan<Part>) {
        let (lag, window) = (r.lag_days, r.count_window_days);
        plan.float(
            r.include_days_since_last,
            Part::DaysSinceLast,
            format!("days_since_last_replenishment_lag{lag}"),
        );
        plan.int(
            r.include_count_window,
            Part::CountWindow,
            format!("replenishment_count_w{window}_lag{lag}"),
        );
    }

    fn fill<'a>(
        r: &ReplenishmentSpec,
        series: &SeriesData,
        columns: impl Iterator<Item = (Part, &'a mut [f64])>,
    ) {
        let mut events: Vec<chrono::NaiveDate> =
            series.replenishments.iter().map(|e| e.date).collect();
        events.sort();
        for (part, column) in columns {
            match part {
                Part::DaysSinceLast => lag_from(r.lag_days, column, |i| {
                    let date = series.dates[i];
                    let upto = events.partition_point(|e| *e <= date);
                    if upto == 0 {
                        f64::NAN
                    } else {
                        (date - events[upto - 1]).num_days() as f64
                    }
                }),
                Part::CountWindow => {
                    let daily: Vec<f64> = series
                        .dates
                        .iter()
                        .map(|date| {
                            let from = events.partition_point(|e| e < date);
                            let to = events.partition_point(|e| e <= date);
                            (to - from) as f64
                        })
                        .collect();
                    let mut counted = vec![f64::NAN; series.len()];
                    shifted_rolling_into(
                        &daily,
                        r.count_window_days,
                        1,
                        Aggregation::Sum,
                        &mut counted,
                    );
                    if r.lag_days > 1 {
                        lag_into(&counted.clone(), r.lag_days - 1, &mut counted);
                    }
                    for (value, count) in column.iter_mut().zip(counted) {
                        *value = if count.is_nan() { 0.0 } else { count };
                    }
                }
            }
        }
    }
}

inventory::submit! {
    FeatureGroupRegistration {
        name: "replenishment",
        order: 70,
        build: Planned::<Replenishments>::boxed,
    }
}
