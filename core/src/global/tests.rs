//! Tests of the global stacking: columns, scaling, row order, time safety
//! of the encodings, and the per-series recursive forecast from one fit.

use chrono::{Days, NaiveDate};

use super::*;
use crate::Forecast;

fn day(offset: u64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + Days::new(offset)
}

/// A weekly series of `level` (pattern 1..7 × level) over `n` days.
fn weekly(store: i64, product: i64, level: f64, n: u64) -> SeriesData {
    let target: Vec<f64> = (0..n).map(|i| level * (1 + i % 7) as f64).collect();
    SeriesData::new(
        SeriesKey {
            store_id: store,
            product_id: product,
        },
        (0..n).map(day).collect(),
        target,
        vec![2.0; n as usize],
    )
}

#[test]
fn stacks_scaled_rows_by_date_with_series_columns() {
    let a = weekly(1, 1, 10.0, 60);
    let b = weekly(1, 2, 100.0, 60);
    let short = weekly(2, 1, 5.0, 10);
    let inputs = [
        GlobalInput {
            data: &a,
            category: Some("Dairy"),
        },
        GlobalInput {
            data: &b,
            category: Some("Bakery"),
        },
        GlobalInput {
            data: &short,
            category: None,
        },
    ];
    let training = build_training(&FrameSpec::v1(), &inputs).unwrap();
    assert_eq!(training.x.columns(), columns(&FrameSpec::v1()).as_slice());
    assert_eq!(training.x.n_rows(), 120);
    assert_eq!(training.skipped.len(), 1);
    assert_eq!(training.skipped[0].key, short.key);
    assert!(training.dates.windows(2).all(|w| w[0] <= w[1]));
    // Both series have the same scaled shape: scale = mean of the target.
    let mean_a = a.target.iter().sum::<f64>() / 60.0;
    assert!((training.series[0].scale - mean_a).abs() < 1e-9);
    assert!((training.series[1].scale - 10.0 * mean_a).abs() < 1e-9);
    let lag7 = training.x.column_index("lag_7").unwrap();
    let category = training.x.column_index("category_code").unwrap();
    let rows: Vec<&[f64]> = training.x.rows().collect();
    // Rows 2k and 2k+1 are the same date of series a and b.
    for k in 7..60 {
        let (ra, rb) = (rows[2 * k], rows[2 * k + 1]);
        assert_eq!(ra[lag7], rb[lag7]);
        assert_eq!(training.y[2 * k], training.y[2 * k + 1]);
        assert_eq!(ra[category], 1.0, "Dairy sorts after Bakery");
        assert_eq!(rb[category], 0.0);
    }
}

#[test]
fn encodings_read_only_earlier_dates() {
    let a = weekly(1, 1, 10.0, 60);
    let mut changed = a.clone();
    for v in &mut changed.target[30..] {
        *v = 1e6;
    }
    let encode = |data: &SeriesData| Encodings::new(&[(data, Some("Dairy"))]);
    let (before, after) = (encode(&a), encode(&changed));
    for offset in 0..=30 {
        let date = day(offset);
        let (x, y) = (before.row(0, date, 1.0), after.row(0, date, 1.0));
        assert_eq!(x.len(), SERIES_COLUMNS.len());
        for (u, v) in x.iter().zip(&y) {
            assert!(
                (u.is_nan() && v.is_nan()) || u == v,
                "{offset}: {x:?} {y:?}"
            );
        }
    }
    assert_ne!(
        before.row(0, day(31), 1.0)[4],
        after.row(0, day(31), 1.0)[4]
    );
    // The first row has no earlier date to encode.
    assert!(before.row(0, day(0), 1.0)[4].is_nan());
    // After the origin, the encodings cover the origin itself.
    let mean_through_day_6 = (1..=7).map(|k| 10.0 * f64::from(k)).sum::<f64>() / 7.0;
    assert!((before.after(0, day(6), 1.0)[4] - mean_through_day_6.ln_1p()).abs() < 1e-12);
}

/// Predicts the scaled `lag_7` column: a seasonal naive in scaled units.
#[derive(Debug)]
struct ScaledLag7(usize);

impl FittedModel for ScaledLag7 {
    fn model_type(&self) -> &'static str {
        "scaled_lag_7"
    }
    fn predict(&self, request: &PredictRequest<'_>) -> Result<Forecast, CoreError> {
        let x = request.features.unwrap();
        assert_eq!(x.n_cols(), columns(&FrameSpec::v1()).len());
        Ok(Forecast::point(x.rows().map(|row| row[self.0]).collect()))
    }
    fn to_payload(&self) -> Result<Vec<u8>, CoreError> {
        Ok(Vec::new())
    }
}

#[test]
fn forecasts_each_series_recursively_in_its_own_units() {
    let a = weekly(1, 1, 10.0, 63);
    let b = weekly(3, 1, 100.0, 63);
    let inputs = [
        GlobalInput {
            data: &a,
            category: None,
        },
        GlobalInput {
            data: &b,
            category: None,
        },
    ];
    let training = build_training(&FrameSpec::v1(), &inputs).unwrap();
    let model = ScaledLag7(training.x.column_index("lag_7").unwrap());
    for (series, level) in training.series.iter().zip([10.0, 100.0]) {
        let origin = series.metadata.origin().unwrap();
        let future = FutureInputs::known(&a, origin, 14, 2.0, Some(2.0)).unwrap();
        let forecast = forecast_series(&model, series, &future, None).unwrap();
        // Day 63 is weekday index 0 again: the weekly pattern continues,
        // the second week from the model's own first-week predictions.
        let expected: Vec<f64> = (63..77).map(|i| level * (1 + i % 7) as f64).collect();
        for (got, want) in forecast.point.iter().zip(&expected) {
            assert!((got - want).abs() < 1e-9, "{got} vs {want}");
        }
    }
}

#[test]
fn series_state_round_trips_through_json_with_missing_values() {
    let a = weekly(1, 1, 10.0, 40);
    let training = build_training(
        &FrameSpec::v1(),
        &[GlobalInput {
            data: &a,
            category: None,
        }],
    )
    .unwrap();
    let state = &training.series[0];
    assert!(state.series_features[2].is_nan(), "no category");
    let json = serde_json::to_value(state).unwrap();
    assert!(json["series_features"][2].is_null());
    let back: GlobalSeries = serde_json::from_value(json).unwrap();
    assert_eq!(back.key, state.key);
    assert!(back.series_features[2].is_nan());
    assert_eq!(back.series_features[..2], state.series_features[..2]);
}
