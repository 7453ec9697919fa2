//! The time-series splitter: positional folds over a series' rows.
//!
//! With `n` rows, `test = horizon` and `k = n_splits`:
//!
//! 1. `n < min_train + gap + horizon` is an error ("Need at least …").
//! 2. If `n < min_train + gap + k·test`, `k` shrinks to
//!    `max(1, (n − min_train − gap) div test)`.
//! 3. `step = max(1, (n − min_train − gap − test) div (k − 1))` when `k > 1`,
//!    else `step = test`.
//! 4. Fold `f`: expanding → train `[0, min_train + f·step)`, sliding → train
//!    `[f·step, f·step + min_train)`; test starts `gap` rows after the
//!    training end and spans `test` rows; stop once a test window would run
//!    past `n`. The gap rows belong to neither set.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::CoreError;

/// How the training window moves from fold to fold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SplitStrategy {
    /// Training always starts at row 0 and grows by `step` per fold.
    #[default]
    Expanding,
    /// Training keeps `min_train_size` rows and slides by `step` per fold.
    Sliding,
}

impl SplitStrategy {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Expanding => "expanding",
            Self::Sliding => "sliding",
        }
    }
}

/// Splitter parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitSpec {
    /// Expanding or sliding training windows.
    pub strategy: SplitStrategy,
    /// Requested number of folds (may shrink for short series).
    pub n_splits: usize,
    /// Rows in the first (expanding) or every (sliding) training window.
    pub min_train_size: usize,
    /// Rows skipped between the end of training and the start of the test.
    pub gap: usize,
    /// Rows per test window.
    pub horizon: usize,
}

impl SplitSpec {
    /// Fewest rows any fold needs: `min_train_size + gap + horizon`.
    pub fn min_rows(&self) -> usize {
        self.min_train_size + self.gap + self.horizon
    }

    /// Checks the parameters themselves (independent of the data).
    pub fn check(&self) -> Result<(), CoreError> {
        if self.n_splits < 1 {
            return Err(CoreError::config("n_splits: must be at least 1"));
        }
        if self.min_train_size < 1 {
            return Err(CoreError::config("min_train_size: must be at least 1"));
        }
        if self.horizon < 1 {
            return Err(CoreError::config("horizon: must be at least 1"));
        }
        if self.gap >= self.horizon {
            return Err(CoreError::config(format!(
                "horizon: must be greater than gap ({} >= {})",
                self.gap, self.horizon
            )));
        }
        Ok(())
    }
}

/// One fold: positional row ranges (end exclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fold {
    /// 0-based fold number.
    pub index: usize,
    /// Training rows.
    pub train: Range<usize>,
    /// Test rows.
    pub test: Range<usize>,
}

impl Fold {
    /// Rows between training and test.
    pub fn gap(&self) -> usize {
        self.test.start - self.train.end
    }
}

/// Splits `n` rows into folds.
pub fn split(n: usize, spec: &SplitSpec) -> Result<Vec<Fold>, CoreError> {
    spec.check()?;
    let needed = spec.min_rows();
    if n < needed {
        return Err(CoreError::insufficient(
            format!(
                "a backtest (min_train_size {} + gap {} + horizon {})",
                spec.min_train_size, spec.gap, spec.horizon
            ),
            needed,
            n,
        ));
    }
    let test = spec.horizon;
    let mut k = spec.n_splits;
    let room = n - spec.min_train_size - spec.gap;
    if n < spec.min_train_size + spec.gap + k * test {
        k = k.min((room / test).max(1));
    }
    let step = if k > 1 {
        ((room - test) / (k - 1)).max(1)
    } else {
        test
    };
    let mut folds = Vec::with_capacity(k);
    for f in 0..k {
        let train = match spec.strategy {
            SplitStrategy::Expanding => 0..spec.min_train_size + f * step,
            SplitStrategy::Sliding => f * step..f * step + spec.min_train_size,
        };
        let test_start = train.end + spec.gap;
        let test_end = test_start + test;
        if test_end > n {
            break;
        }
        folds.push(Fold {
            index: f,
            train,
            test: test_start..test_end,
        });
    }
    Ok(folds)
}

/// True when every fold trains strictly before it tests, keeps at least
/// `gap` rows between them, and no row is in both sets; `dates` (one per
/// row, ascending) must then also put the last training date before the
/// first test date.
pub fn leakage_check<D: PartialOrd>(folds: &[Fold], gap: usize, dates: &[D]) -> bool {
    folds.iter().all(|fold| {
        let ordered = fold.train.end <= fold.test.start && !fold.train.is_empty();
        let gap_ok = fold.test.start - fold.train.end.min(fold.test.start) >= gap;
        let dated = match (
            dates.get(fold.train.end.wrapping_sub(1)),
            dates.get(fold.test.start),
        ) {
            (Some(last_train), Some(first_test)) => last_train < first_test,
            _ => false,
        };
        ordered && gap_ok && dated && fold.test.end <= dates.len()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(
        strategy: SplitStrategy,
        n_splits: usize,
        min: usize,
        gap: usize,
        h: usize,
    ) -> SplitSpec {
        SplitSpec {
            strategy,
            n_splits,
            min_train_size: min,
            gap,
            horizon: h,
        }
    }

    fn tests_of(folds: &[Fold]) -> Vec<(usize, usize)> {
        folds
            .iter()
            .map(|f| (f.test.start, f.test.end - 1))
            .collect()
    }

    #[test]
    fn expanding_n120_k5() {
        let folds = split(120, &spec(SplitStrategy::Expanding, 5, 30, 0, 14)).unwrap();
        let train_ends: Vec<usize> = folds.iter().map(|f| f.train.end - 1).collect();
        assert_eq!(train_ends, vec![29, 48, 67, 86, 105]);
        assert!(folds.iter().all(|f| f.train.start == 0));
        assert_eq!(
            tests_of(&folds),
            vec![(30, 43), (49, 62), (68, 81), (87, 100), (106, 119)]
        );
        assert_eq!(
            folds.iter().map(|f| f.index).collect::<Vec<_>>(),
            vec![0, 1, 2, 3, 4]
        );
    }

    #[test]
    fn sliding_n120_k5_keeps_the_tests_and_the_train_size() {
        let folds = split(120, &spec(SplitStrategy::Sliding, 5, 30, 0, 14)).unwrap();
        let starts: Vec<usize> = folds.iter().map(|f| f.train.start).collect();
        assert_eq!(starts, vec![0, 19, 38, 57, 76]);
        assert!(folds.iter().all(|f| f.train.len() == 30));
        assert_eq!(
            tests_of(&folds),
            vec![(30, 43), (49, 62), (68, 81), (87, 100), (106, 119)]
        );
    }

    #[test]
    fn gap_rows_belong_to_neither_set() {
        let folds = split(120, &spec(SplitStrategy::Expanding, 3, 30, 7, 14)).unwrap();
        assert_eq!(tests_of(&folds), vec![(37, 50), (71, 84), (105, 118)]);
        assert!(folds.iter().all(|f| f.gap() == 7));
        let train_ends: Vec<usize> = folds.iter().map(|f| f.train.end).collect();
        assert_eq!(train_ends, vec![30, 64, 98]);
    }

    #[test]
    fn exactly_enough_for_two_small_folds() {
        let folds = split(30, &spec(SplitStrategy::Expanding, 2, 7, 0, 7)).unwrap();
        assert_eq!(tests_of(&folds), vec![(7, 13), (23, 29)]);
    }

    #[test]
    fn short_series_reduces_the_fold_count() {
        let folds = split(60, &spec(SplitStrategy::Expanding, 5, 30, 0, 14)).unwrap();
        assert_eq!(tests_of(&folds), vec![(30, 43), (46, 59)]);
        let sliding = split(60, &spec(SplitStrategy::Sliding, 5, 30, 0, 14)).unwrap();
        assert_eq!(tests_of(&sliding), vec![(30, 43), (46, 59)]);
        assert_eq!(sliding[1].train, 16..46);
    }

    #[test]
    fn minimum_rows_give_one_fold() {
        let folds = split(44, &spec(SplitStrategy::Expanding, 5, 30, 0, 14)).unwrap();
        assert_eq!(folds.len(), 1);
        assert_eq!(folds[0].train, 0..30);
        assert_eq!(folds[0].test, 30..44);
    }

    #[test]
    fn too_little_data_names_the_sum() {
        let error = split(20, &spec(SplitStrategy::Expanding, 5, 30, 0, 14)).unwrap_err();
        assert_eq!(
            error,
            CoreError::InsufficientData {
                what: "a backtest (min_train_size 30 + gap 0 + horizon 14)".into(),
                needed: 44,
                got: 20
            }
        );
        assert!(error.to_string().contains("Need at least 44"));
    }

    #[test]
    fn impossible_parameters_are_config_errors() {
        for bad in [
            spec(SplitStrategy::Expanding, 0, 30, 0, 14),
            spec(SplitStrategy::Expanding, 5, 0, 0, 14),
            spec(SplitStrategy::Expanding, 5, 30, 14, 14),
            spec(SplitStrategy::Expanding, 5, 30, 20, 14),
            spec(SplitStrategy::Expanding, 5, 30, 0, 0),
        ] {
            assert!(
                matches!(split(500, &bad), Err(CoreError::InvalidConfig(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn every_fold_respects_bounds_and_passes_the_leakage_check() {
        for n in 10..200 {
            for strategy in [SplitStrategy::Expanding, SplitStrategy::Sliding] {
                for gap in [0, 3] {
                    let s = spec(strategy, 4, 7, gap, 5);
                    let Ok(folds) = split(n, &s) else {
                        assert!(n < s.min_rows());
                        continue;
                    };
                    assert!(!folds.is_empty());
                    let dates: Vec<usize> = (0..n).collect();
                    assert!(leakage_check(&folds, gap, &dates));
                    for f in &folds {
                        assert!(f.test.end <= n && f.test.len() == 5 && f.gap() == gap);
                    }
                }
            }
        }
    }

    #[test]
    fn leakage_check_catches_overlap() {
        let dates: Vec<usize> = (0..20).collect();
        let bad = [Fold {
            index: 0,
            train: 0..10,
            test: 9..12,
        }];
        assert!(!leakage_check(&bad, 0, &dates));
        let short_gap = [Fold {
            index: 0,
            train: 0..10,
            test: 11..12,
        }];
        assert!(!leakage_check(&short_gap, 2, &dates));
        assert!(leakage_check(&short_gap, 1, &dates));
    }
}
