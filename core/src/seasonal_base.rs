//! A seasonal-naive base read from a feature matrix's own lag columns, for
//! boosted models that learn a correction on top of it.
//!
//! Daily retail demand is dominated by its weekly pattern: the mean of the
//! last few same-weekday values (a seasonal window average) is already a
//! strong forecast, and a tree ensemble fitted on the raw target must
//! rebuild that level piecewise from a few hundred rows. Fitting the trees
//! on `y − base` instead, with `base` also offered as a column, lets them
//! spend their splits on what the base misses (promotions, prices,
//! holidays, trend) and falls back to the base where they learn nothing.
//!
//! The base of a row is the mean of its finite same-weekday columns —
//! `same_dow_mean_4` and `same_dow_mean_8` when the frame has them (V2),
//! else `lag_7`, `lag_14` and `lag_28` (V1) — then `lag_1`, then the
//! training mean. Every one of those columns reads targets before the row
//! only, so the base is as time-safe as the frame.

use serde::{Deserialize, Serialize};

use crate::{CoreError, FeatureMatrix};

/// Same-weekday columns preferred for the base, in order of preference
/// groups: the first group with any column in the frame is used.
const WEEKDAY_GROUPS: [&[&str]; 2] = [
    &["same_dow_mean_4", "same_dow_mean_8"],
    &["lag_7", "lag_14", "lag_28"],
];

/// Name of the base column appended to the matrix the trees see.
pub const BASE_COLUMN: &str = "seasonal_base";

/// How the base is read from a matrix with fixed columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeasonalBase {
    /// Positions of the same-weekday columns averaged.
    weekday: Vec<usize>,
    /// Position of `lag_1`, the first fallback.
    last: Option<usize>,
    /// The training mean, the last fallback.
    mean: f64,
}

impl SeasonalBase {
    /// The base for `columns`, with `y`'s mean as the last fallback; `None`
    /// when the columns hold no lag to build it from.
    pub fn for_columns(columns: &[String], y: &[f64]) -> Option<Self> {
        let position = |name: &str| columns.iter().position(|c| c == name);
        let weekday: Vec<usize> = WEEKDAY_GROUPS
            .iter()
            .map(|group| group.iter().filter_map(|c| position(c)).collect::<Vec<_>>())
            .find(|found| !found.is_empty())
            .unwrap_or_default();
        let last = position("lag_1");
        if weekday.is_empty() && last.is_none() {
            return None;
        }
        let mean = if y.is_empty() {
            0.0
        } else {
            y.iter().sum::<f64>() / y.len() as f64
        };
        Some(Self {
            weekday,
            last,
            mean,
        })
    }

    /// The base of one row.
    pub fn of_row(&self, row: &[f64]) -> f64 {
        let (sum, n) = self
            .weekday
            .iter()
            .filter_map(|&j| row.get(j).copied().filter(|v| v.is_finite()))
            .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
        if n > 0 {
            return sum / n as f64;
        }
        self.last
            .and_then(|j| row.get(j).copied())
            .filter(|v| v.is_finite())
            .unwrap_or(self.mean)
    }

    /// The base of every row of `x`.
    pub fn of_rows(&self, x: &FeatureMatrix) -> Vec<f64> {
        let width = x.n_cols().max(1);
        x.values()
            .chunks(width)
            .map(|row| self.of_row(row))
            .collect()
    }

    /// `x` with the base appended as the last column ([`BASE_COLUMN`]), and
    /// the base per row.
    pub fn augment(&self, x: &FeatureMatrix) -> Result<(FeatureMatrix, Vec<f64>), CoreError> {
        let base = self.of_rows(x);
        let width = x.n_cols();
        let mut columns = x.columns().to_vec();
        columns.push(BASE_COLUMN.to_owned());
        let mut values = Vec::with_capacity(x.n_rows() * (width + 1));
        for (row, b) in x.values().chunks(width.max(1)).zip(&base) {
            values.extend_from_slice(row);
            values.push(*b);
        }
        Ok((FeatureMatrix::from_row_major(columns, values)?, base))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(columns: &[&str]) -> Vec<String> {
        columns.iter().map(|c| (*c).to_owned()).collect()
    }

    #[test]
    fn base_prefers_same_weekday_columns_then_falls_back() {
        let columns = names(&["lag_1", "lag_7", "lag_14", "lag_28", "promo_active"]);
        let base = SeasonalBase::for_columns(&columns, &[2.0, 4.0]).unwrap();
        assert_eq!(base.of_row(&[1.0, 10.0, 20.0, 30.0, 0.0]), 20.0);
        assert_eq!(base.of_row(&[1.0, 10.0, f64::NAN, f64::NAN, 0.0]), 10.0);
        assert_eq!(base.of_row(&[1.0, f64::NAN, f64::NAN, f64::NAN, 0.0]), 1.0);
        assert_eq!(
            base.of_row(&[f64::NAN, f64::NAN, f64::NAN, f64::NAN, 0.0]),
            3.0
        );
        let v2 = names(&["lag_7", "same_dow_mean_4", "same_dow_mean_8"]);
        let base = SeasonalBase::for_columns(&v2, &[1.0]).unwrap();
        assert_eq!(base.of_row(&[100.0, 4.0, 6.0]), 5.0);
        assert!(SeasonalBase::for_columns(&names(&["dow", "promo_active"]), &[1.0]).is_none());
    }

    #[test]
    fn augment_appends_the_base_column() {
        let x = FeatureMatrix::from_row_major(
            names(&["lag_7", "promo_active"]),
            vec![3.0, 1.0, f64::NAN, 0.0],
        )
        .unwrap();
        let base = SeasonalBase::for_columns(x.columns(), &[5.0, 7.0]).unwrap();
        let (augmented, per_row) = base.augment(&x).unwrap();
        assert_eq!(per_row, vec![3.0, 6.0]);
        assert_eq!(augmented.columns().last().unwrap(), BASE_COLUMN);
        let values = augmented.values();
        assert_eq!(&values[..3], &[3.0, 1.0, 3.0]);
        assert!(values[3].is_nan());
        assert_eq!(&values[4..], &[0.0, 6.0]);
    }
}
