//! Shared plumbing of feature-aware models (regression, prophet-like, the
//! opt-in tree models): checking the shapes of X and y, matching the
//! prediction columns to the training columns, and calibrating prediction
//! intervals on a held-out tail of the training rows
//! ([`crate::interval::scaled_half_widths`]).

use crate::{interval, CoreError, FeatureMatrix, Forecast, PredictRequest, TrainingData};

/// Fewest training rows a held-out calibration tail is taken from; below
/// this, intervals use in-sample residuals.
pub const MIN_ROWS_FOR_HOLDOUT: usize = 30;

/// The training matrix and target, checked: X present, one row per target
/// value, at least `min_rows` rows, a finite target.
pub fn training_inputs<'a>(
    data: &TrainingData<'a>,
    what: &str,
    min_rows: usize,
) -> Result<(&'a FeatureMatrix, &'a [f64]), CoreError> {
    let x = data
        .features
        .ok_or_else(|| CoreError::input(format!("{what} requires a feature matrix (X) to fit")))?;
    let y = data.target;
    if y.len() < min_rows.max(1) {
        return Err(CoreError::insufficient(what, min_rows.max(1), y.len()));
    }
    if x.n_rows() != y.len() {
        return Err(CoreError::input(format!(
            "X has {} rows but y has {} values",
            x.n_rows(),
            y.len()
        )));
    }
    if x.n_cols() == 0 {
        return Err(CoreError::input(format!(
            "{what} needs at least one feature column"
        )));
    }
    if y.iter().any(|v| !v.is_finite()) {
        return Err(CoreError::input("the target contains non-finite values"));
    }
    Ok((x, y))
}

/// The prediction matrix, checked: present, one row per horizon step, and
/// the same columns as at training time (same names, same order).
pub fn prediction_inputs<'a>(
    request: &PredictRequest<'a>,
    columns: &[String],
    what: &str,
) -> Result<&'a FeatureMatrix, CoreError> {
    let x = request.features.ok_or_else(|| {
        CoreError::input(format!(
            "{what} requires future feature rows (X) to predict"
        ))
    })?;
    if x.n_rows() != request.horizon {
        return Err(CoreError::input(format!(
            "X has {} rows but the horizon is {}",
            x.n_rows(),
            request.horizon
        )));
    }
    if x.columns() != columns {
        return Err(CoreError::input(format!(
            "prediction columns [{}] differ from the training columns [{}]",
            x.columns().join(", "),
            columns.join(", ")
        )));
    }
    Ok(x)
}

/// Rows `range` of `x` as a new matrix.
pub fn slice_rows(x: &FeatureMatrix, range: std::ops::Range<usize>) -> FeatureMatrix {
    let width = x.n_cols();
    FeatureMatrix::from_row_major(
        x.columns().to_vec(),
        x.values()[range.start * width..range.end * width].to_vec(),
    )
    .unwrap_or_else(|_| FeatureMatrix::new(x.columns().to_vec()))
}

/// Size of the held-out calibration tail for `n` rows: a fifth, at least
/// 10; 0 when `n` is below [`MIN_ROWS_FOR_HOLDOUT`].
pub fn holdout_size(n: usize) -> usize {
    if n < MIN_ROWS_FOR_HOLDOUT {
        0
    } else {
        (n / 5).max(10)
    }
}

/// Absolute errors on the held-out tail: `fit_predict(x_head, y_head,
/// x_tail)` fits on the head and predicts the tail. Falls back to
/// `in_sample` errors when the series is too short for a tail.
pub fn calibration_errors<F>(
    x: &FeatureMatrix,
    y: &[f64],
    in_sample: &[f64],
    fit_predict: F,
) -> Result<Vec<f64>, CoreError>
where
    F: FnOnce(&FeatureMatrix, &[f64], &FeatureMatrix) -> Result<Vec<f64>, CoreError>,
{
    let n = y.len();
    let tail = holdout_size(n);
    if tail == 0 {
        return Ok(y
            .iter()
            .zip(in_sample)
            .map(|(a, p)| (a - p).abs())
            .filter(|e| e.is_finite())
            .collect());
    }
    let head = n - tail;
    let predicted = fit_predict(&slice_rows(x, 0..head), &y[..head], &slice_rows(x, head..n))?;
    Ok(y[head..]
        .iter()
        .zip(&predicted)
        .map(|(a, p)| (a - p).abs())
        .filter(|e| e.is_finite())
        .collect())
}

/// A forecast from `point`, with an interval from the calibration errors
/// when `level` is given.
pub fn forecast_with_interval(
    point: Vec<f64>,
    calibration: &[f64],
    level: Option<f64>,
) -> Result<Forecast, CoreError> {
    let interval = match level {
        None => None,
        Some(level) => {
            interval::validate_level(level)?;
            let widths = interval::scaled_half_widths(calibration, point.len(), level);
            Some(interval::symmetric(&point, &widths, level))
        }
    };
    Ok(Forecast { point, interval })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(rows: usize) -> FeatureMatrix {
        FeatureMatrix::from_row_major(
            vec!["a".into(), "b".into()],
            (0..rows * 2).map(|v| v as f64).collect(),
        )
        .unwrap()
    }

    #[test]
    fn shapes_are_checked() {
        let x = matrix(3);
        let y = [1.0, 2.0, 3.0];
        let ok = TrainingData {
            target: &y,
            features: Some(&x),
            seed: 1,
        };
        assert!(training_inputs(&ok, "m", 2).is_ok());
        assert!(training_inputs(&ok, "m", 4).is_err());
        let missing = TrainingData::target_only(&y, 1);
        assert!(training_inputs(&missing, "m", 1).is_err());
        let short = [1.0, 2.0];
        let mismatch = TrainingData {
            target: &short,
            features: Some(&x),
            seed: 1,
        };
        assert!(training_inputs(&mismatch, "m", 1).is_err());
        let request = PredictRequest {
            horizon: 3,
            features: Some(&x),
            interval_level: None,
        };
        assert!(prediction_inputs(&request, x.columns(), "m").is_ok());
        assert!(prediction_inputs(&request, &["a".into()], "m").is_err());
    }

    #[test]
    fn slicing_and_holdout() {
        let x = matrix(5);
        let tail = slice_rows(&x, 3..5);
        assert_eq!(tail.n_rows(), 2);
        assert_eq!(tail.row(0), x.row(3));
        assert_eq!(holdout_size(29), 0);
        assert_eq!(holdout_size(30), 10);
        assert_eq!(holdout_size(100), 20);
    }
}
