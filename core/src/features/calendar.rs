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
        let mut next = 0usize;
        let mut column = |f: &dyn Fn(chrono::NaiveDate) -> f64| {
            if let Some(values) = out.get_mut(next) {
                for (value, date) in values.iter_mut().zip(&series.dates) {
                    *value = f(*date);
                }
            }
            next += 1;
        };
        let dow = |d: chrono::NaiveDate| f64::from(d.weekday().num_days_from_monday());
        let month = |d: chrono::NaiveDate| f64::from(d.month());
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        if c.day_of_week {
            if c.cyclical {
                column(&|d| (TAU * dow(d) / 7.0).sin());
                column(&|d| (TAU * dow(d) / 7.0).cos());
            } else {
                column(&dow);
            }
        }
        if c.month {
            if c.cyclical {
                column(&|d| (TAU * month(d) / 12.0).sin());
                column(&|d| (TAU * month(d) / 12.0).cos());
            } else {
                column(&month);
            }
        }
        if c.quarter {
            column(&|d| f64::from((d.month() - 1) / 3 + 1));
        }
        if c.year {
            column(&|d| f64::from(d.year()));
        }
        if c.is_weekend {
            column(&|d| flag(dow(d) >= 5.0));
        }
        if c.is_month_end {
            column(&|d| flag(crate::frame::is_month_end(d)));
        }
        if c.is_holiday {
            column(&|d| flag(series.is_holiday(d)));
        }
        Ok(())
    }
}

inventory::submit! {
    FeatureGroupRegistration { name: "calendar", order: 30, build: || Box::new(Calendar) }
}
