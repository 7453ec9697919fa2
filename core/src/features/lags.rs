//! `lags`: `lag_{k}` = target `k` rows earlier in the same series.

use super::{
    engine::FeatureColumn, kernels::lag_into, FeatureGroup, FeatureGroupRegistration, FeatureSpec,
};
use crate::{frame::SeriesData, CoreError};

/// Lag features of the target.
#[derive(Debug, Default)]
pub(crate) struct Lags;

impl FeatureGroup for Lags {
    fn name(&self) -> &'static str {
        "lags"
    }

    fn description(&self) -> &'static str {
        "lag_{k}: the target k rows earlier (NaN for the first k rows, or fill_value)"
    }

    fn columns(&self, spec: &FeatureSpec) -> Vec<FeatureColumn> {
        spec.lag.as_ref().map_or_else(Vec::new, |lag| {
            lag.lags
                .iter()
                .map(|k| FeatureColumn::float(format!("lag_{k}")))
                .collect()
        })
    }

    fn compute(
        &self,
        spec: &FeatureSpec,
        series: &SeriesData,
        out: &mut [Vec<f64>],
    ) -> Result<(), CoreError> {
        let Some(lag) = &spec.lag else { return Ok(()) };
        for (k, column) in lag.lags.iter().zip(out.iter_mut()) {
            lag_into(&series.target, *k, column);
            if let Some(fill) = lag.fill_value {
                column
                    .iter_mut()
                    .filter(|v| v.is_nan())
                    .for_each(|v| *v = fill);
            }
        }
        Ok(())
    }
}

inventory::submit! {
    FeatureGroupRegistration { name: "lags", order: 10, build: || Box::new(Lags) }
}
