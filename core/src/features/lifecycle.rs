//! `lifecycle`: days since launch / discontinuation, taken N rows earlier.

use super::{
    kernels::lag_from,
    plan::{Plan, Planned, PlannedGroup},
    FeatureGroupRegistration, FeatureSpec, LifecycleSpec,
};
use crate::frame::SeriesData;

/// Product lifecycle columns.
#[derive(Debug)]
pub(crate) struct Lifecycle;

/// One lifecycle column.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Part {
    SinceLaunch,
    SinceDiscontinue,
}

impl PlannedGroup for Lifecycle {
    const NAME: &'static str = "lifecycle";
    const DESCRIPTION: &'static str =
        "days_since_launch_lag{N}, days_since_discontinue_lag{N} (product dates, N rows earlier)";
    type Section = LifecycleSpec;
    type Part = Part;

    fn section(spec: &FeatureSpec) -> Option<&LifecycleSpec> {
        spec.lifecycle.as_ref()
    }

    fn plan(l: &LifecycleSpec, plan: &mut Plan<Part>) {
        let lag = l.lag_days;
        plan.float(
            l.include_days_since_launch,
            Part::SinceLaunch,
            format!("days_since_launch_lag{lag}"),
        );
        plan.float(
            l.include_days_since_discontinue,
            Part::SinceDiscontinue,
            format!("days_since_discontinue_lag{lag}"),
        );
    }

    fn fill<'a>(
        l: &LifecycleSpec,
        series: &SeriesData,
        columns: impl Iterator<Item = (Part, &'a mut [f64])>,
    ) {
        for (part, column) in columns {
            let anchor = match part {
                Part::SinceLaunch => series.launch_date,
                Part::SinceDiscontinue => series.discontinue_date,
            };
            // Without the product date the column stays missing.
            if let Some(anchor) = anchor {
                lag_from(l.lag_days, column, |i| {
                    (series.dates[i] - anchor).num_days() as f64
                });
            }
        }
    }
}

inventory::submit! {
    FeatureGroupRegistration { name: "lifecycle", order: 50, build: Planned::<Lifecycle>::boxed }
}
