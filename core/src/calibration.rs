//! Helpers shared by the feature-aware tree plugins: input checks at
//! prediction time and the held-out split used to calibrate prediction
//! intervals (split-conformal, see [`crate::interval`]).

use std::ops::Range;

use crate::{CoreError, FeatureMatrix, PredictRequest};

/// Fewest training rows for which a held-out tail is set aside.
pub const MIN_ROWS_FOR_HOLDOUT: usize = 10;
/// Largest held-out tail (its errors are a sample; more adds nothing).
pub const MAX_HOLDOUT: usize = 5_000;
/// Largest number of rows the calibration model is fitted on. On large
/// frames this keeps calibration a small fraction of the main fit; the
/// calibration model then sees less data than the final one, so its errors
/// (and the intervals) err on the wide side.
pub const MAX_CALIBRATION_FIT: usize = 20_000;

/// Rows of the calibration fit and of the held-out tail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holdout {
    /// Rows the calibration model is fitted on (just before `hold`).
    pub fit: Range<usize>,
    /// Held-out rows whose one-step errors calibrate the interval.
    pub hold: Range<usize>,
}

/// The last fifth of `n` rows (at most [`MAX_HOLDOUT`]) is held out; the
/// calibration model is fitted on the rows right before it (at most
/// [`MAX_CALIBRATION_FIT`]). `None` below [`MIN_ROWS_FOR_HOLDOUT`] rows.
pub fn holdout_split(n: usize) -> Option<Holdout> {
    if n < MIN_ROWS_FOR_HOLDOUT {
        return None;
    }
    let n_hold = (n / 5).clamp(1, MAX_HOLDOUT);
    let cut = n - n_hold;
    Some(Holdout {
        fit: cut.saturating_sub(MAX_CALIBRATION_FIT)..cut,
        hold: cut..n,
    })
}

/// The prediction rows of `request`: present, one per horizon step, and
/// with the training columns in the training order.
pub fn prediction_matrix<'a>(
    request: &PredictRequest<'a>,
    columns: &[String],
    model_type: &str,
) -> Result<&'a FeatureMatrix, CoreError> {
    let x = request.features.ok_or_else(|| {
        CoreError::input(format!(
            "{model_type} requires future feature rows (it is a feature-aware model)"
        ))
    })?;
    if x.n_rows() != request.horizon {
        return Err(CoreError::input(format!(
            "feature matrix has {} rows, horizon is {}",
            x.n_rows(),
            request.horizon
        )));
    }
    if x.columns() != columns {
        return Err(CoreError::input(format!(
            "feature columns differ from the training columns ({})",
            columns.join(", ")
        )));
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holdout_is_the_tail() {
        assert_eq!(holdout_split(9), None);
        assert_eq!(
            holdout_split(100),
            Some(Holdout {
                fit: 0..80,
                hold: 80..100
            })
        );
        let big = holdout_split(1_000_000).unwrap();
        assert_eq!(big.hold, 995_000..1_000_000);
        assert_eq!(big.fit, 975_000..995_000);
    }

    #[test]
    fn prediction_rows_must_match_horizon_and_columns() {
        let columns = vec!["a".to_owned(), "b".to_owned()];
        let x = FeatureMatrix::from_row_major(columns.clone(), vec![1.0, 2.0]).unwrap();
        let ok = PredictRequest {
            horizon: 1,
            features: Some(&x),
            interval_level: None,
        };
        assert!(prediction_matrix(&ok, &columns, "m").is_ok());
        let wrong_horizon = PredictRequest { horizon: 2, ..ok };
        assert!(prediction_matrix(&wrong_horizon, &columns, "m").is_err());
        let other = vec!["b".to_owned(), "a".to_owned()];
        assert!(prediction_matrix(&ok, &other, "m").is_err());
        assert!(prediction_matrix(&PredictRequest::horizon(1), &columns, "m").is_err());
    }
}
