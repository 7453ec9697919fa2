//! `lags`: `lag_{k}` = target `k` rows earlier in the same series.

use super::{
    kernels::lag_into,
    plan::{Plan, Planned, PlannedGroup},
    FeatureGroupRegistration, FeatureSpec, LagSpec,
};
use crate::frame::SeriesData;

/// Lag features of the target.
#[derive(Debug)]
pub(crate) struct Lags;

impl PlannedGroup for Lags {
    const NAME: &'static str = "lags";
    const DESCRIPTION: &'static str =
        "lag_{k}: the target k rows earlier (NaN for the first k rows, or fill_value)";
    type Section = LagSpec;
    /// The lag k.
    type Part = usize;

    fn section(spec: &FeatureSpec) -> Option<&LagSpec> {
        spec.lag.as_ref()
    }

    fn plan(lag: &LagSpec, plan: &mut Plan<usize>) {
        for k in &lag.lags {
            plan.float(true, *k, format!("lag_{k}"));
        }
    }

    fn fill<'a>(
        lag: &LagSpec,
        series: &SeriesData,
        columns: impl Iterator<Item = (usize, &'a mut [f64])>,
    ) {
        for (k, column) in columns {
            lag_into(&series.target, k, column);
            if let Some(fill) = lag.fill_value {
                column
                    .iter_mut()
                    .filter(|v| v.is_nan())
                    .for_each(|v| *v = fill);
            }
        }
    }
}

inventory::submit! {
    FeatureGroupRegistration { name: "lags", order: 10, build: Planned::<Lags>::boxed }
}
