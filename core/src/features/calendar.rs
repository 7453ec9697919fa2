//! `calendar`: pure functions of the row date, plus the calendar table's
//! holiday flag.

use chrono::Datelike;

use super::{engine::FeatureColumn, FeatureGroup, FeatureGroupRegistration, FeatureSpec};
use crate::{frame::SeriesData, CoreError};

/// Calendar columns.
#[derive(Debug, Default)]
pub(crate) struct Calendar;

impl FeatureGroup for Calendar {
    fn name(&self) -> &'static str {
        "calendar"
    }

    fn description(&self) -> &'static str {
        "day of week / month (sin-cos or raw), quarter, year, weekend, month end, holiday"
    }

    fn columns(&self, spec: &FeatureSpec) -> Vec<FeatureColumn> {
        let Some(c) = &spec.calendar else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if c.day_of_week {
            if c.cyclical {
                out.push(FeatureColumn::float("dow_sin"));
                out.push(FeatureColumn::float("dow_cos"));
            } else {
                out.push(FeatureColumn::int("day_of_week"));
            }
        }
        if c.month {
            if c.cyclical {
                out.push(FeatureColumn::float("month_sin"));
                out.push(FeatureColumn::float("month_cos"));
            } else {
                out.push(FeatureColumn::int("month"));
            }
        }
        if c.quarter {
            out.push(FeatureColumn::int("quarter"));
        }
        if c.year {
            out.push(FeatureColumn::int("year"));
        }
        if c.is_weekend {
            out.push(FeatureColumn::int("is_weekend"));
        }
        if c.is_month_end {
            out.push(FeatureColumn::int("is_month_end"));
        }
        if c.is_holiday {
            out.push(FeatureColumn::int("is_holiday"));
        }
        out
    }

    fn compute(
        &self,
        spec: &FeatureSpec,
        series: &SeriesData,
        out: &mut [Vec<f64>],
    ) -> Result<(), CoreError> {
        use std::f64::consts::TAU;
        let Some(c) = &spec.calendar else {
            return Ok(());
        };
        // One pass over the dates into small integer parts, then every
        // column from lookup tables (no trigonometry per row).
        let n = series.len();
        let mut dow = Vec::with_capacity(n);
        let mut month = Vec::with_capacity(n);
        let mut month_end = Vec::with_capacity(n);
        for date in &series.dates {
            dow.push(date.weekday().num_days_from_monday() as usize);
            month.push(date.month() as usize);
            month_end.push(crate::frame::is_month_end(*date));
        }
        let dow_sin: [f64; 7] = std::array::from_fn(|d| (TAU * d as f64 / 7.0).sin());
        let dow_cos: [f64; 7] = std::array::from_fn(|d| (TAU * d as f64 / 7.0).cos());
        let month_sin: [f64; 13] = std::array::from_fn(|m| (TAU * m as f64 / 12.0).sin());
        let month_cos: [f64; 13] = std::array::from_fn(|m| (TAU * m as f64 / 12.0).cos());
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        let mut columns = out.iter_mut();
        if c.day_of_week {
            if c.cyclical {
                fill(columns.next(), |i| dow_sin[dow[i]]);
                fill(columns.next(), |i| dow_cos[dow[i]]);
            } else {
                fill(columns.next(), |i| dow[i] as f64);
            }
        }
        if c.month {
            if c.cyclical {
                fill(columns.next(), |i| month_sin[month[i]]);
                fill(columns.next(), |i| month_cos[month[i]]);
            } else {
                fill(columns.next(), |i| month[i] as f64);
            }
        }
        if c.quarter {
            fill(columns.next(), |i| ((month[i] - 1) / 3 + 1) as f64);
        }
        if c.year {
            fill(columns.next(), |i| f64::from(series.dates[i].year()));
        }
        if c.is_weekend {
            fill(columns.next(), |i| flag(dow[i] >= 5));
        }
        if c.is_month_end {
            fill(columns.next(), |i| flag(month_end[i]));
        }
        if c.is_holiday {
            fill(columns.next(), |i| flag(series.is_holiday(series.dates[i])));
        }
        Ok(())
    }
}

inventory::submit! {
    FeatureGroupRegistration { name: "calendar", order: 30, build: || Box::new(Calendar) }
}

/// Writes `f(i)` into every row of `column` (statically dispatched).
fn fill(column: Option<&mut Vec<f64>>, f: impl Fn(usize) -> f64) {
    if let Some(values) = column {
        for (i, value) in values.iter_mut().enumerate() {
            *value = f(i);
        }
    }
}
