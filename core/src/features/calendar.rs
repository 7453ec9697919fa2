//! `calendar`: pure functions of the row date, plus the calendar table's
//! holiday flag.

use chrono::Datelike;

use super::{
    plan::{Plan, Planned, PlannedGroup},
    CalendarSpec, FeatureGroupRegistration, FeatureSpec,
};
use crate::frame::SeriesData;

/// Calendar columns.
#[derive(Debug)]
pub(crate) struct Calendar;

/// One calendar column.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Part {
    DowSin,
    DowCos,
    DayOfWeek,
    MonthSin,
    MonthCos,
    Month,
    Quarter,
    Year,
    Weekend,
    MonthEnd,
    Holiday,
}

impl PlannedGroup for Calendar {
    const NAME: &'static str = "calendar";
    const DESCRIPTION: &'static str =
        "day of week / month (sin-cos or raw), quarter, year, weekend, month end, holiday";
    type Section = CalendarSpec;
    type Part = Part;

    fn section(spec: &FeatureSpec) -> Option<&CalendarSpec> {
        spec.calendar.as_ref()
    }

    fn plan(c: &CalendarSpec, plan: &mut Plan<Part>) {
        let (dow, month) = (c.day_of_week, c.month);
        plan.float(dow && c.cyclical, Part::DowSin, "dow_sin");
        plan.float(dow && c.cyclical, Part::DowCos, "dow_cos");
        plan.int(dow && !c.cyclical, Part::DayOfWeek, "day_of_week");
        plan.float(month && c.cyclical, Part::MonthSin, "month_sin");
        plan.float(month && c.cyclical, Part::MonthCos, "month_cos");
        plan.int(month && !c.cyclical, Part::Month, "month");
        plan.int(c.quarter, Part::Quarter, "quarter");
        plan.int(c.year, Part::Year, "year");
        plan.int(c.is_weekend, Part::Weekend, "is_weekend");
        plan.int(c.is_month_end, Part::MonthEnd, "is_month_end");
        plan.int(c.is_holiday, Part::Holiday, "is_holiday");
    }

    fn fill<'a>(
        _: &CalendarSpec,
        series: &SeriesData,
        columns: impl Iterator<Item = (Part, &'a mut [f64])>,
    ) {
        use std::f64::consts::TAU;
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
        for (part, column) in columns {
            match part {
                Part::DowSin => fill(column, |i| dow_sin[dow[i]]),
                Part::DowCos => fill(column, |i| dow_cos[dow[i]]),
                Part::DayOfWeek => fill(column, |i| dow[i] as f64),
                Part::MonthSin => fill(column, |i| month_sin[month[i]]),
                Part::MonthCos => fill(column, |i| month_cos[month[i]]),
                Part::Month => fill(column, |i| month[i] as f64),
                Part::Quarter => fill(column, |i| ((month[i] - 1) / 3 + 1) as f64),
                Part::Year => fill(column, |i| f64::from(series.dates[i].year())),
                Part::Weekend => fill(column, |i| flag(dow[i] >= 5)),
                Part::MonthEnd => fill(column, |i| flag(month_end[i])),
                Part::Holiday => fill(column, |i| flag(series.is_holiday(series.dates[i]))),
            }
        }
    }
}

inventory::submit! {
    FeatureGroupRegistration { name: "calendar", order: 30, build: Planned::<Calendar>::boxed }
}

/// Writes `f(i)` into every row of `column` (statically dispatched).
fn fill(column: &mut [f64], f: impl Fn(usize) -> f64) {
    for (i, value) in column.iter_mut().enumerate() {
        *value = f(i);
    }
}
