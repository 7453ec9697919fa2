//! `lifecycle`: days since launch / discontinuation, taken N rows earlier.

use super::{engine::FeatureColumn, FeatureGroup, FeatureGroupRegistration, FeatureSpec};
use crate::{frame::SeriesData, CoreError};

/// Product lifecycle columns.
#[derive(Debug, Default)]
pub(crate) struct Lifecycle;

impl FeatureGroup for Lifecycle {
    fn name(&self) -> &'static str {
        "lifecycle"
    }

    fn description(&self) -> &'static str {
        "days_since_launch_lag{N}, days_since_discontinue_lag{N} (product dates, N rows earlier)"
    }

    fn columns(&self, spec: &FeatureSpec) -> Vec<FeatureColumn> {
        let Some(l) = &spec.lifecycle else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if l.include_days_since_launch {
            out.push(FeatureColumn::float(format!(
                "days_since_launch_lag{}",
                l.lag_days
            )));
        }
        if l.include_days_since_discontinue {
            out.push(FeatureColumn::float(format!(
                "days_since_discontinue_lag{}",
                l.lag_days
            )));
        }
        out
    }

    fn compute(
        &self,
        spec: &FeatureSpec,
        series: &SeriesData,
        out: &mut [Vec<f64>],
    ) -> Result<(), CoreError> {
        let Some(l) = &spec.lifecycle else {
            return Ok(());
        };
        let mut columns = out.iter_mut();
        let mut fill = |anchor: Option<chrono::NaiveDate>| {
            if let Some(column) = columns.next() {
                let Some(anchor) = anchor else { return };
                for (value, source) in column.iter_mut().skip(l.lag_days).zip(&series.dates) {
                    *value = (*source - anchor).num_days() as f64;
                }
            }
        };
        if l.include_days_since_launch {
            fill(series.launch_date);
        }
        if l.include_days_since_discontinue {
            fill(series.discontinue_date);
        }
        Ok(())
    }
}

inventory::submit! {
    FeatureGroupRegistration { name: "lifecycle", order: 50, build: || Box::new(Lifecycle) }
}
