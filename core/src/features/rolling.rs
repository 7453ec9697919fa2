//! `rolling`: `rolling_{agg}_{w}` over the one-row-shifted target.

use super::{
    engine::FeatureColumn,
    kernels::{shifted_moments_into, shifted_rolling_into, Moments},
    Aggregation, FeatureGroup, FeatureGroupRegistration, FeatureSpec,
};
use crate::{frame::SeriesData, CoreError};

/// Rolling statistics of the target.
#[derive(Debug, Default)]
pub(crate) struct Rolling;

impl FeatureGroup for Rolling {
    fn name(&self) -> &'static str {
        "rolling"
    }

    fn description(&self) -> &'static str {
        "rolling_{agg}_{w}: mean/std/min/max/sum of the w rows before each row (shift, then roll)"
    }

    fn columns(&self, spec: &FeatureSpec) -> Vec<FeatureColumn> {
        spec.rolling.as_ref().map_or_else(Vec::new, |rolling| {
            rolling
                .windows
                .iter()
                .flat_map(|w| {
                    rolling
                        .aggregations
                        .iter()
                        .map(move |a| FeatureColumn::float(format!("rolling_{}_{w}", a.as_str())))
                })
                .collect()
        })
    }

    fn compute(
        &self,
        spec: &FeatureSpec,
        series: &SeriesData,
        out: &mut [Vec<f64>],
    ) -> Result<(), CoreError> {
        let Some(rolling) = &spec.rolling else {
            return Ok(());
        };
        let per_window = rolling.aggregations.len();
        for (w_index, w) in rolling.windows.iter().enumerate() {
            let min_periods = rolling.min_periods.unwrap_or(*w);
            let columns = &mut out[w_index * per_window..(w_index + 1) * per_window];
            // Mean, std and sum of one window share a single pass.
            let mut moments = Moments::default();
            let mut rest: Vec<(Aggregation, &mut Vec<f64>)> = Vec::new();
            for (aggregation, column) in rolling.aggregations.iter().zip(columns.iter_mut()) {
                match aggregation {
                    Aggregation::Mean if moments.mean.is_none() => {
                        moments.mean = Some(column.as_mut_slice());
                    }
                    Aggregation::Std if moments.std.is_none() => {
                        moments.std = Some(column.as_mut_slice());
                    }
                    Aggregation::Sum if moments.sum.is_none() => {
                        moments.sum = Some(column.as_mut_slice());
                    }
                    other => rest.push((*other, column)),
                }
            }
            shifted_moments_into(&series.target, *w, min_periods, moments);
            for (aggregation, column) in rest {
                shifted_rolling_into(&series.target, *w, min_periods, aggregation, column);
            }
        }
        Ok(())
    }
}

inventory::submit! {
    FeatureGroupRegistration { name: "rolling", order: 20, build: || Box::new(Rolling) }
}
