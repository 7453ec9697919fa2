//! Tests of the feature frames: column contracts, hand-checked values, time
//! safety (property test), per-step alignment of known future inputs, and
//! the direct-vs-recursive comparison behind [`MultiStepStrategy::DEFAULT`].

use chrono::{Days, NaiveDate};
use proptest::prelude::*;

use super::*;
use crate::{linalg, SeriesKey};

fn day(offset: u64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + Days::new(offset)
}

fn key() -> SeriesKey {
    SeriesKey {
        store_id: 1,
        product_id: 1,
    }
}

fn same(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b
}

fn plain(target: Vec<f64>) -> SeriesData {
    let n = target.len() as u64;
    SeriesData::new(
        key(),
        (0..n).map(day).collect(),
        target,
        vec![2.0; n as usize],
    )
}

/// A small deterministic generator (SplitMix64) so the tests need no
/// extra dependency.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-12);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// Ridge on median-imputed features (the prophet_like recipe), enough to
/// exercise the frames end to end.
struct MedianRidge {
    medians: Vec<f64>,
    fit: linalg::RidgeFit,
}

impl MedianRidge {
    fn impute(&self, x: &FeatureMatrix) -> Vec<f64> {
        let width = x.n_cols();
        x.values()
            .iter()
            .enumerate()
            .map(|(i, v)| {
                if v.is_finite() {
                    *v
                } else {
                    let m = self.medians[i % width];
                    if m.is_finite() {
                        m
                    } else {
                        0.0
                    }
                }
            })
            .collect()
    }

    fn fit(x: &FeatureMatrix, y: &[f64]) -> Self {
        let medians = linalg::column_medians(x.values(), x.n_cols());
        let mut model = Self {
            medians,
            fit: linalg::RidgeFit {
                coef: Vec::new(),
                intercept: 0.0,
            },
        };
        let filled = model.impute(x);
        model.fit = linalg::ridge(&filled, x.n_cols(), y, 1.0).unwrap();
        model
    }

    fn predict(&self, x: &FeatureMatrix) -> Result<Vec<f64>, CoreError> {
        let filled = self.impute(x);
        Ok(filled
            .chunks_exact(x.n_cols())
            .map(|row| self.fit.predict_row(row))
            .collect())
    }
}

#[test]
fn v1_and_v2_column_contracts() {
    assert_eq!(FrameSpec::v1().columns().len(), 14);
    assert_eq!(FrameSpec::v1().columns()[13], "days_since_launch");
    let v2 = FrameSpec::v2(None).unwrap();
    assert_eq!(v2.columns().len(), 38);
    let reordered = FrameSpec::v2(Some(&["lifecycle".to_owned(), "calendar".to_owned()])).unwrap();
    assert_eq!(
        reordered.groups,
        vec![FrameGroup::Calendar, FrameGroup::Lifecycle]
    );
    let json = serde_json::to_string(&reordered.feature_groups().unwrap()).unwrap();
    assert!(json.starts_with("{\"calendar\":[\"dow_sin\""));
    assert!(FrameSpec::v2(Some(&[])).is_err());
    assert!(FrameSpec::v2(Some(&["nope".to_owned()])).is_err());
    assert!(FrameSpec::from_request(1, Some(&["calendar".to_owned()])).is_err());
    let all: Vec<String> = FrameGroup::ALL
        .iter()
        .map(|g| g.as_str().to_owned())
        .collect();
    assert_eq!(FrameSpec::v2(Some(&all)).unwrap().columns().len(), 51);
}

#[test]
fn v1_training_rows_hand_checked() {
    let target: Vec<f64> = (0..40).map(f64::from).collect();
    let mut data = plain(target);
    data.price[35] = 4.0;
    data.launch_date = Some(day(0) - Days::new(10));
    data.holidays = vec![day(3)];
    data.promotions = vec![Promotion {
        start: day(5),
        end: day(6),
        kind: PromoKind::PctOff,
        discount_pct: Some(0.1),
    }];
    let frame = build_training_frame(&FrameSpec::v1(), &data).unwrap();
    let x = &frame.x;
    let col = |name: &str| x.column_index(name).unwrap();
    assert!(x.row(0)[col("lag_1")].is_nan());
    assert_eq!(x.row(30)[col("lag_1")], 29.0);
    assert_eq!(x.row(30)[col("lag_28")], 2.0);
    assert!(x.row(27)[col("lag_28")].is_nan());
    // 2024-01-01 is a Monday: dow 0.
    assert_eq!(x.row(0)[col("dow_sin")], 0.0);
    assert_eq!(x.row(5)[col("is_weekend")], 1.0);
    assert_eq!(x.row(30)[col("is_month_end")], 1.0);
    assert_eq!(x.row(35)[col("price_factor")], 2.0);
    assert_eq!(x.row(0)[col("price_factor")], 1.0);
    assert_eq!(x.row(5)[col("promo_active")], 1.0);
    assert_eq!(x.row(7)[col("promo_active")], 0.0);
    assert_eq!(x.row(3)[col("is_holiday")], 1.0);
    assert_eq!(x.row(2)[col("days_since_launch")], 12.0);
    assert_eq!(frame.metadata.history_tail.len(), 40);
    assert_eq!(frame.metadata.baseline_price, 2.0);
    assert!(build_training_frame(&FrameSpec::v1(), &plain(vec![1.0; 29])).is_err());
}

#[test]
fn v2_rolling_and_trend_hand_checked() {
    let target: Vec<f64> = (0..120).map(|i| f64::from(i % 7)).collect();
    let data = plain(target.clone());
    let frame = build_training_frame(&FrameSpec::v2(None).unwrap(), &data).unwrap();
    let x = &frame.x;
    let col = |name: &str| x.column_index(name).unwrap();
    let row = x.row(100);
    assert!((row[col("rolling_mean_7")] - 3.0).abs() < 1e-12);
    assert!((row[col("same_dow_mean_4")] - target[93]).abs() < 1e-12);
    assert!(row[col("trend_30")].is_finite());
    assert!(x.row(29)[col("trend_30")].is_nan());
    assert!(x.row(30)[col("trend_30")].is_finite());
    assert!(x.row(55)[col("rolling_mean_28_vs_prev_28")].is_nan());
    assert_eq!(frame.metadata.feature_frame_version, 2);
    assert_eq!(frame.metadata.history_tail.len(), 120);
}

fn fitted_metadata(data: &SeriesData, spec: &FrameSpec) -> FeatureAwareMetadata {
    build_training_frame(spec, data).unwrap().metadata
}

#[test]
fn direct_future_frame_is_nan_where_future() {
    let target: Vec<f64> = (1..=60).map(f64::from).collect();
    let data = plain(target);
    let metadata = fitted_metadata(&data, &FrameSpec::v1());
    let origin = metadata.origin().unwrap();
    let future = FutureInputs::known(&data, origin, 10, 2.0, Some(2.0)).unwrap();
    let x = future_frame(&metadata, &future, None).unwrap();
    let col = |name: &str| x.column_index(name).unwrap();
    // lag_1 at the first step is the last observed value; lag_7 is y[T−6].
    assert_eq!(x.row(0)[col("lag_1")], 60.0);
    assert_eq!(x.row(0)[col("lag_7")], 54.0);
    for j in 1..10 {
        assert!(x.row(j)[col("lag_1")].is_nan());
    }
    assert_eq!(x.row(6)[col("lag_7")], 60.0);
    assert!(x.row(7)[col("lag_7")].is_nan());
    assert_eq!(x.row(0)[col("price_factor")], 1.0);
}

#[test]
fn recursive_lags_come_from_predictions() {
    let target: Vec<f64> = (1..=60).map(f64::from).collect();
    let data = plain(target);
    let metadata = fitted_metadata(&data, &FrameSpec::v1());
    let origin = metadata.origin().unwrap();
    let future = FutureInputs::known(&data, origin, 5, 2.0, Some(2.0)).unwrap();
    let mut seen_lag1 = Vec::new();
    let lag1 = metadata
        .feature_columns
        .iter()
        .position(|c| c == "lag_1")
        .unwrap();
    let forecast = forecast_with(
        |x| {
            seen_lag1.push(x.row(0)[lag1]);
            Ok(vec![x.row(0)[lag1] + 1.0])
        },
        &metadata,
        &future,
        MultiStepStrategy::Recursive,
        None,
    )
    .unwrap();
    assert_eq!(seen_lag1, vec![60.0, 61.0, 62.0, 63.0, 64.0]);
    assert_eq!(forecast.point, vec![61.0, 62.0, 63.0, 64.0, 65.0]);
}

/// Seeded demand: weekly pattern, AR(1) around the level, price elasticity
/// and promotion uplift. Prices change through `price_history` windows.
fn synthetic(seed: u64, n: usize) -> SeriesData {
    let mut rng = Rng(seed);
    let weekly = [0.0, -2.0, -1.0, 0.0, 3.0, 8.0, 6.0];
    let base_price = 10.0;
    let mut data = SeriesData {
        key: key(),
        launch_date: Some(day(0) - Days::new(200)),
        ..SeriesData::default()
    };
    let mut start = 0u64;
    while start < n as u64 {
        let len = 20 + (rng.uniform() * 60.0) as u64;
        let price = base_price * (0.8 + 0.4 * rng.uniform());
        data.price_history.push(PriceWindow {
            valid_from: day(start),
            valid_to: Some(day(start + len - 1)),
            price,
            store_specific: true,
        });
        start += len;
    }
    let mut p = 5u64;
    while p < n as u64 {
        let len = 3 + (rng.uniform() * 5.0) as u64;
        data.promotions.push(Promotion {
            start: day(p),
            end: day(p + len - 1),
            kind: PromoKind::PctOff,
            discount_pct: Some(0.2),
        });
        p += len + 15 + (rng.uniform() * 30.0) as u64;
    }
    let level = 30.0 + 20.0 * rng.uniform();
    let mut deviation = 0.0;
    for i in 0..n {
        let date = day(i as u64);
        let price = data.listed_price(date).unwrap_or(base_price);
        let promo = data.promotions_on(date).next().is_some();
        deviation = 0.7 * deviation + 3.0 * rng.normal();
        let dow = date.format("%u").to_string().parse::<usize>().unwrap() - 1;
        let y = level + weekly[dow] + deviation - 25.0 * (price / base_price - 1.0)
            + if promo { 9.0 } else { 0.0 };
        data.dates.push(date);
        data.target.push(y.max(0.0).round());
        data.price.push(price);
    }
    data
}

/// Holdout comparison of the two strategies on seeded series; returns
/// (MAE direct, MAE recursive).
fn strategy_errors(spec: &FrameSpec, n_series: u64, horizon: usize) -> (f64, f64) {
    let n = 400;
    let train = n - horizon;
    let (mut direct, mut recursive, mut count) = (0.0, 0.0, 0.0);
    for seed in 0..n_series {
        let full = synthetic(seed + 1, n);
        let history = full.rows(0..train);
        let frame = build_training_frame(spec, &history).unwrap();
        let model = MedianRidge::fit(&frame.x, &frame.y);
        let origin = frame.metadata.origin().unwrap();
        let future = FutureInputs::observed(
            &full,
            origin,
            horizon,
            frame.metadata.baseline_price,
            frame.metadata.last_price,
        )
        .unwrap();
        for (strategy, total) in [
            (MultiStepStrategy::Direct, &mut direct),
            (MultiStepStrategy::Recursive, &mut recursive),
        ] {
            let forecast = forecast_with(
                |x| model.predict(x),
                &frame.metadata,
                &future,
                strategy,
                Some(&history),
            )
            .unwrap();
            for (p, a) in forecast.point.iter().zip(&full.target[train..]) {
                *total += (p - a).abs();
            }
        }
        count += horizon as f64;
    }
    (direct / count, recursive / count)
}

/// The measurement behind `MultiStepStrategy::DEFAULT`: on seeded series
/// the recursive strategy is more accurate than direct (NaN-where-future).
/// Run with `--nocapture` to see the figures.
#[test]
fn strategy_comparison() {
    for (name, spec) in [
        ("v1", FrameSpec::v1()),
        ("v2", FrameSpec::v2(None).unwrap()),
    ] {
        for horizon in [14, 28] {
            let (direct, recursive) = strategy_errors(&spec, 30, horizon);
            println!(
                "strategy comparison {name} h={horizon}: MAE direct {direct:.3}, recursive {recursive:.3}"
            );
            assert!(
                recursive < direct,
                "{name} h={horizon}: recursive {recursive} vs direct {direct}"
            );
        }
    }
    assert_eq!(MultiStepStrategy::DEFAULT, MultiStepStrategy::Recursive);
}

/// Per-step alignment: a known future price change at step k moves the
/// forecast from step k on and not before (both strategies), and future
/// actuals never enter the forecast.
#[test]
fn future_price_change_takes_effect_at_its_step() {
    let full = synthetic(7, 300);
    let history = full.rows(0..272);
    let frame = build_training_frame(&FrameSpec::v1(), &history).unwrap();
    let model = MedianRidge::fit(&frame.x, &frame.y);
    let price_coef = model.fit.coef[frame.x.column_index("price_factor").unwrap()];
    assert!(
        price_coef < -5.0,
        "the model learned the price effect ({price_coef})"
    );
    let origin = frame.metadata.origin().unwrap();
    let k = 6usize;
    let mut changed = history.clone();
    let last = frame.metadata.last_price.unwrap();
    changed.price_history = vec![PriceWindow {
        valid_from: origin + Days::new(k as u64),
        valid_to: None,
        price: last * 1.5,
        store_specific: true,
    }];
    let mut unchanged = history.clone();
    unchanged.price_history.clear();
    let b = frame.metadata.baseline_price;
    for strategy in [MultiStepStrategy::Direct, MultiStepStrategy::Recursive] {
        let run = |data: &SeriesData| {
            let future = FutureInputs::known(data, origin, 14, b, Some(last)).unwrap();
            forecast_with(
                |x| model.predict(x),
                &frame.metadata,
                &future,
                strategy,
                None,
            )
            .unwrap()
            .point
        };
        let base = run(&unchanged);
        let moved = run(&changed);
        for step in 0..k - 1 {
            assert_eq!(
                base[step],
                moved[step],
                "{strategy:?} reacted early at step {}",
                step + 1
            );
        }
        assert!(
            moved[k - 1] < base[k - 1] - 1.0,
            "{strategy:?} did not react at step {k}"
        );
    }
    // Future actuals in the history argument change nothing.
    let future = FutureInputs::known(&history, origin, 14, b, Some(last)).unwrap();
    let mut poisoned = full.clone();
    for v in &mut poisoned.target[272..] {
        *v += 1000.0;
    }
    for strategy in [MultiStepStrategy::Direct, MultiStepStrategy::Recursive] {
        let a = forecast_with(
            |x| model.predict(x),
            &frame.metadata,
            &future,
            strategy,
            Some(&full),
        )
        .unwrap();
        let p = forecast_with(
            |x| model.predict(x),
            &frame.metadata,
            &future,
            strategy,
            Some(&poisoned),
        )
        .unwrap();
        assert_eq!(a.point, p.point);
    }
}

#[test]
fn known_future_prices_follow_price_history_else_last_value() {
    let mut data = plain(vec![1.0; 40]);
    let origin = day(39);
    data.price_history = vec![PriceWindow {
        valid_from: day(42),
        valid_to: Some(day(43)),
        price: 3.0,
        store_specific: false,
    }];
    data.promotions = vec![Promotion {
        start: day(41),
        end: day(41),
        kind: PromoKind::Markdown,
        discount_pct: None,
    }];
    data.holidays = vec![day(44)];
    let future = FutureInputs::known(&data, origin, 6, 2.0, Some(2.0)).unwrap();
    assert_eq!(future.dates[0], day(40));
    assert_eq!(future.price_factor, vec![1.0, 1.0, 1.5, 1.5, 1.5, 1.5]);
    assert_eq!(future.promo_active, vec![0.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(future.promo_markdown_active[1], 1.0);
    assert_eq!(future.is_holiday, vec![0.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
}

#[test]
fn metadata_round_trips_through_json() {
    let data = synthetic(3, 120);
    let frame = build_training_frame(&FrameSpec::v2(None).unwrap(), &data).unwrap();
    let json = serde_json::to_value(&frame.metadata).unwrap();
    assert_eq!(json["feature_frame_version"], 2);
    assert!(json["history_tail_dates"][0].is_string());
    assert_eq!(json["feature_groups"].as_object().unwrap().len(), 6);
    let back: FeatureAwareMetadata = serde_json::from_value(json).unwrap();
    assert_eq!(back, frame.metadata);
    let v1: FeatureAwareMetadata = serde_json::from_value(serde_json::json!({
        "feature_columns": ["lag_1"], "history_tail": [1.0], "history_tail_dates": ["2024-01-01"],
        "launch_date": null
    }))
    .unwrap();
    assert_eq!(v1.feature_frame_version, 1);
    assert_eq!(v1.frame_spec().unwrap(), FrameSpec::v1());
}

fn all_groups() -> FrameSpec {
    let names: Vec<String> = FrameGroup::ALL
        .iter()
        .map(|g| g.as_str().to_owned())
        .collect();
    FrameSpec::v2(Some(&names)).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Time safety of the training frames: perturbing every target at or
    /// after row t changes no V1 or V2 (all groups) feature at row t or
    /// before.
    #[test]
    fn frames_never_read_present_or_future_targets(
        seed in 0u64..1000,
        len in 30usize..160,
        t_frac in 0.0f64..1.0,
        bump in 1.0f64..50.0,
    ) {
        let original = synthetic(seed, len);
        let t = ((len as f64) * t_frac) as usize % len;
        let mut perturbed = original.clone();
        for v in &mut perturbed.target[t..] {
            *v += bump;
        }
        for spec in [FrameSpec::v1(), all_groups()] {
            let a = build_training_frame(&spec, &original).unwrap();
            let b = build_training_frame(&spec, &perturbed).unwrap();
            for row in 0..=t {
                for (c, (x, y)) in a.x.row(row).iter().zip(b.x.row(row)).enumerate() {
                    prop_assert!(same(*x, *y), "{} changed at row {} (t = {})", a.x.columns()[c], row, t);
                }
            }
        }
    }
}
