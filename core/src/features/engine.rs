//! The feature engine: runs the enabled groups over one series, or over
//! many series in parallel.

use std::sync::OnceLock;

use chrono::NaiveDate;
use rayon::prelude::*;

use super::{feature_groups, imputation, FeatureGroup, FeatureSpec};
use crate::{frame::SeriesData, CoreError, FeatureMatrix, SeriesKey};

/// How a column's values are written to JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// A float (NaN → null).
    Float,
    /// An integer-valued column (flags, counts, calendar parts; NaN → null).
    Int,
}

/// One produced feature column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureColumn {
    /// Column name (`lag_7`, `rolling_mean_28`, …).
    pub name: String,
    /// JSON representation.
    pub kind: ColumnKind,
}

impl FeatureColumn {
    /// A float column.
    pub fn float(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            kind: ColumnKind::Float,
        }
    }

    /// An integer-valued column.
    pub fn int(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            kind: ColumnKind::Int,
        }
    }
}

/// The features of one series, column-major.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureTable {
    /// Which series.
    pub key: SeriesKey,
    /// Row dates (after imputation's `drop`, if any).
    pub dates: Vec<NaiveDate>,
    /// Columns in pipeline order.
    pub columns: Vec<FeatureColumn>,
    /// One vector per column, each `dates.len()` long.
    pub values: Vec<Vec<f64>>,
}

impl FeatureTable {
    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.dates.len()
    }

    /// Column names in order.
    pub fn column_names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name.clone()).collect()
    }

    /// The values of a named column.
    pub fn column(&self, name: &str) -> Option<&[f64]> {
        self.columns
            .iter()
            .position(|c| c.name == name)
            .map(|index| self.values[index].as_slice())
    }

    /// NaN count per column, in column order.
    pub fn null_counts(&self) -> Vec<usize> {
        self.values
            .iter()
            .map(|column| column.iter().filter(|v| v.is_nan()).count())
            .collect()
    }

    /// The table as a row-major matrix.
    pub fn to_matrix(&self) -> FeatureMatrix {
        let n = self.n_rows();
        let mut values = Vec::with_capacity(n * self.columns.len());
        for i in 0..n {
            for column in &self.values {
                values.push(column[i]);
            }
        }
        FeatureMatrix::from_row_major(self.column_names(), values)
            .unwrap_or_else(|_| FeatureMatrix::new(self.column_names()))
    }
}

fn groups() -> &'static [Box<dyn FeatureGroup>] {
    static GROUPS: OnceLock<Vec<Box<dyn FeatureGroup>>> = OnceLock::new();
    GROUPS.get_or_init(|| {
        feature_groups()
            .into_iter()
            .map(|registration| (registration.build)())
            .collect()
    })
}

/// Computes the features of one series (pipeline of §2.4: imputation, then
/// every enabled group in registered order). The series must already be cut
/// at the cutoff date.
pub fn compute(spec: &FeatureSpec, series: &SeriesData) -> Result<FeatureTable, CoreError> {
    spec.validate()?;
    series.check()?;
    let imputed;
    let series = if spec.imputation.is_empty() {
        series
    } else {
        imputed = imputation::apply(&spec.imputation, series);
        &imputed
    };
    let n = series.len();
    let mut columns = Vec::new();
    let mut values = Vec::new();
    for group in groups() {
        let group_columns = group.columns(spec);
        if group_columns.is_empty() {
            continue;
        }
        let mut out = vec![vec![f64::NAN; n]; group_columns.len()];
        group.compute(spec, series, &mut out)?;
        columns.extend(group_columns);
        values.extend(out);
    }
    Ok(FeatureTable {
        key: series.key,
        dates: series.dates.clone(),
        columns,
        values,
    })
}

/// [`compute`] over many series in parallel (rayon), results in input
/// order.
pub fn compute_many(
    spec: &FeatureSpec,
    series: &[SeriesData],
) -> Result<Vec<FeatureTable>, CoreError> {
    spec.validate()?;
    series.par_iter().map(|one| compute(spec, one)).collect()
}
