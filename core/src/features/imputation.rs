//! Imputation (§2.5.8), run per series before any feature group.

use super::{
    kernels::forward_fill,
    spec::{Imputation, ImputedColumn},
};
use crate::frame::SeriesData;

/// Applies the strategies in order; `drop` removes rows.
pub(super) fn apply(strategies: &[(ImputedColumn, Imputation)], series: &SeriesData) -> SeriesData {
    let mut out = series.clone();
    for (column, strategy) in strategies {
        let keep = {
            let values = match column {
                ImputedColumn::Quantity => &mut out.target,
                ImputedColumn::UnitPrice => &mut out.price,
                ImputedColumn::TotalAmount => {
                    if out.total_amount.len() != out.dates.len() {
                        continue;
                    }
                    &mut out.total_amount
                }
            };
            fill(values, *strategy)
        };
        if let Some(keep) = keep {
            if keep.iter().all(|k| *k) {
                continue;
            }
            let filter = |column: &mut Vec<f64>| {
                if column.len() == keep.len() {
                    let mut index = 0;
                    column.retain(|_| {
                        index += 1;
                        keep[index - 1]
                    });
                }
            };
            filter(&mut out.target);
            filter(&mut out.price);
            filter(&mut out.total_amount);
            let mut index = 0;
            out.dates.retain(|_| {
                index += 1;
                keep[index - 1]
            });
        }
    }
    out
}

/// Fills NaN in place; for `drop`, returns the rows to keep instead.
fn fill(values: &mut [f64], strategy: Imputation) -> Option<Vec<bool>> {
    match strategy {
        Imputation::Zero => values
            .iter_mut()
            .filter(|v| v.is_nan())
            .for_each(|v| *v = 0.0),
        Imputation::Ffill => forward_fill(values),
        Imputation::Bfill => {
            let mut next = f64::NAN;
            for v in values.iter_mut().rev() {
                if v.is_nan() {
                    *v = next;
                } else {
                    next = *v;
                }
            }
        }
        Imputation::Mean => {
            let known: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
            if !known.is_empty() {
                let mean = known.iter().sum::<f64>() / known.len() as f64;
                values
                    .iter_mut()
                    .filter(|v| v.is_nan())
                    .for_each(|v| *v = mean);
            }
        }
        Imputation::ExpandingMean => {
            let (mut sum, mut count) = (0.0, 0usize);
            for v in values.iter_mut() {
                if v.is_nan() {
                    if count > 0 {
                        *v = sum / count as f64;
                    }
                } else {
                    sum += *v;
                    count += 1;
                }
            }
        }
        Imputation::Drop => return Some(values.iter().map(|v| !v.is_nan()).collect()),
    }
    None
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::SeriesKey;

    #[test]
    fn strategies_fill_and_drop() {
        let d = |day| NaiveDate::from_ymd_opt(2024, 1, day).unwrap();
        let series = SeriesData::new(
            SeriesKey {
                store_id: 1,
                product_id: 1,
            },
            vec![d(1), d(2), d(3), d(4)],
            vec![f64::NAN, 2.0, f64::NAN, 4.0],
            vec![1.0, f64::NAN, 3.0, f64::NAN],
        );
        let out = apply(
            &[
                (ImputedColumn::Quantity, Imputation::Zero),
                (ImputedColumn::UnitPrice, Imputation::Ffill),
            ],
            &series,
        );
        assert_eq!(out.target, vec![0.0, 2.0, 0.0, 4.0]);
        assert_eq!(out.price, vec![1.0, 1.0, 3.0, 3.0]);
        let out = apply(
            &[(ImputedColumn::Quantity, Imputation::ExpandingMean)],
            &series,
        );
        assert!(out.target[0].is_nan());
        assert_eq!(out.target[2], 2.0);
        let out = apply(&[(ImputedColumn::Quantity, Imputation::Drop)], &series);
        assert_eq!(out.dates, vec![d(2), d(4)]);
        assert_eq!(out.price.len(), 2);
        assert!(out.price[0].is_nan());
        let out = apply(&[(ImputedColumn::UnitPrice, Imputation::Bfill)], &series);
        assert!(out.price[3].is_nan());
        assert_eq!(out.price[1], 3.0);
    }
}
