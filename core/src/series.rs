//! Series identity and the dense feature matrix handed to models.

use serde::{Deserialize, Serialize};

/// One series: a (store, product) pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SeriesKey {
    /// Store id.
    pub store_id: i64,
    /// Product id.
    pub product_id: i64,
}

/// A dense, row-major matrix of `f64` feature values (NaN = missing) with
/// named columns. Row-major because every tree library wants it that way.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FeatureMatrix {
    columns: Vec<String>,
    values: Vec<f64>,
}

impl FeatureMatrix {
    /// An empty matrix with the given columns.
    pub fn new(columns: Vec<String>) -> Self {
        Self {
            columns,
            values: Vec::new(),
        }
    }

    /// Builds a matrix from row-major values; `values.len()` must be a
    /// multiple of the column count.
    pub fn from_row_major(
        columns: Vec<String>,
        values: Vec<f64>,
    ) -> Result<Self, crate::CoreError> {
        if columns.is_empty() && !values.is_empty() {
            return Err(crate::CoreError::input(
                "values given for a matrix without columns",
            ));
        }
        if !columns.is_empty() && !values.len().is_multiple_of(columns.len()) {
            return Err(crate::CoreError::input(format!(
                "{} values do not fill rows of {} columns",
                values.len(),
                columns.len()
            )));
        }
        Ok(Self { columns, values })
    }

    /// Appends one row; its length must equal the column count.
    pub fn push_row(&mut self, row: &[f64]) -> Result<(), crate::CoreError> {
        if row.len() != self.columns.len() {
            return Err(crate::CoreError::input(format!(
                "row has {} values, matrix has {} columns",
                row.len(),
                self.columns.len()
            )));
        }
        self.values.extend_from_slice(row);
        Ok(())
    }

    /// Column names in order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Number of columns.
    pub fn n_cols(&self) -> usize {
        self.columns.len()
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        if self.columns.is_empty() {
            0
        } else {
            self.values.len() / self.columns.len()
        }
    }

    /// Row `i` as a slice.
    pub fn row(&self, i: usize) -> &[f64] {
        let width = self.columns.len();
        &self.values[i * width..(i + 1) * width]
    }

    /// Iterates over rows.
    pub fn rows(&self) -> impl Iterator<Item = &[f64]> {
        self.values.chunks_exact(self.columns.len().max(1))
    }

    /// All values, row-major.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Index of a named column.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_major_round_trip() {
        let mut m = FeatureMatrix::new(vec!["a".into(), "b".into()]);
        m.push_row(&[1.0, 2.0]).unwrap();
        m.push_row(&[3.0, f64::NAN]).unwrap();
        assert_eq!(m.n_rows(), 2);
        assert_eq!(m.row(0), &[1.0, 2.0]);
        assert!(m.row(1)[1].is_nan());
        assert!(m.push_row(&[1.0]).is_err());
        assert_eq!(m.column_index("b"), Some(1));
        assert!(FeatureMatrix::from_row_major(vec!["a".into(), "b".into()], vec![1.0]).is_err());
    }
}
