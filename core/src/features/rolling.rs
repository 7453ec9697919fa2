//! `rolling`: `rolling_{agg}_{w}` over the one-row-shifted target.

use super::{
    engine::FeatureColumn, kernels::shifted_rolling_into, FeatureGroup, FeatureGroupRegistration,
    FeatureSpec,
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
        let mut columns = out.iter_mut();
        for w in &rolling.windows {
            for aggregation in &rolling.aggregations {
                if let Some(column) = columns.next() {
                    let min_periods = rolling.min_periods.unwrap_or(*w);
                    shifted_rolling_into(&series.target, *w, min_periods, *aggregation, column);
                }
            }
        }
        Ok(())
    }
}

inventory::submit! {
    FeatureGroupRegistration { name: "rolling", order: 20, build: || Box::new(Rolling) }
}
