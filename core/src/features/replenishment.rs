//! `replenishment`: days since the last replenishment event and the number
//! of events over the previous W rows, N rows earlier.

use super::{
    engine::FeatureColumn,
    kernels::{lag_into, shifted_rolling_into},
    Aggregation, FeatureGroup, FeatureGroupRegistration, FeatureSpec,
};
use crate::{frame::SeriesData, CoreError};

/// Replenishment columns.
#[derive(Debug, Default)]
pub(crate) struct Replenishments;

impl FeatureGroup for Replenishments {
    fn name(&self) -> &'static str {
        "replenishment"
    }

    fn description(&self) -> &'static str {
        "days_since_last_replenishment_lag{N}, replenishment_count_w{W}_lag{N}"
    }

    fn columns(&self, spec: &FeatureSpec) -> Vec<FeatureColumn> {
        let Some(r) = &spec.replenishment else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if r.include_days_since_last {
            out.push(FeatureColumn::float(format!(
                "days_since_last_replenishment_lag{}",
                r.lag_days
            )));
        }
        if r.include_count_window {
            out.push(FeatureColumn::int(format!(
                "replenishment_count_w{}_lag{}",
                r.count_window_days, r.lag_days
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
        let Some(r) = &spec.replenishment else {
            return Ok(());
        };
        let n = series.len();
        let mut events: Vec<chrono::NaiveDate> =
            series.replenishments.iter().map(|e| e.date).collect();
        events.sort();
        let mut columns = out.iter_mut();
        if r.include_days_since_last {
            if let Some(column) = columns.next() {
                let daily: Vec<f64> = series
                    .dates
                    .iter()
                    .map(|date| {
                        let upto = events.partition_point(|e| e <= date);
                        if upto == 0 {
                            f64::NAN
                        } else {
                            (*date - events[upto - 1]).num_days() as f64
                        }
                    })
                    .collect();
                lag_into(&daily, r.lag_days, column);
            }
        }
        if r.include_count_window {
            if let Some(column) = columns.next() {
                let daily: Vec<f64> = series
                    .dates
                    .iter()
                    .map(|date| {
                        let from = events.partition_point(|e| e < date);
                        let to = events.partition_point(|e| e <= date);
                        (to - from) as f64
                    })
                    .collect();
                let mut counted = vec![f64::NAN; n];
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
        Ok(())
    }
}

inventory::submit! {
    FeatureGroupRegistration { name: "replenishment", order: 70, build: || Box::new(Replenishments) }
}
