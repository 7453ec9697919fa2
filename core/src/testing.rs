//! Test support for plugin crates (the `test-support` feature; enable it in
//! a plugin's `[dev-dependencies]`): the conformance suite every
//! feature-aware tree model runs on its registration, and the seeded
//! generator its fixtures use.
//!
//! A plugin runs the whole suite, one `#[test]` per check, with
//! [`tree_model_conformance_tests!`](crate::tree_model_conformance_tests):
//!
//! ```ignore
//! forecastlab_core::tree_model_conformance_tests!(
//!     crate::MODEL_TYPE,
//!     corrupt_payload: "model" => serde_json::json!("not a model"),
//! );
//! ```

use serde_json::json;

use crate::{
    explain::ExplainMethod, model, FeatureMatrix, FittedModel, PredictRequest, TrainingData,
};

/// Runs every check of this module as its own `#[test]` against the
/// registered model `$model_type`. `corrupt_payload: "field" => value`
/// names a payload field and a value for it that the model's `load` must
/// reject (a corrupt model, fill values that do not fit the columns, …).
#[macro_export]
macro_rules! tree_model_conformance_tests {
    ($model_type:expr, corrupt_payload: $field:literal => $value:expr $(,)?) => {
        #[test]
        fn registration_matches_the_taxonomy() {
            $crate::testing::registration_matches_the_taxonomy($model_type);
        }

        #[test]
        fn fits_a_nonlinear_function_better_than_the_mean() {
            $crate::testing::fits_a_nonlinear_function_better_than_the_mean($model_type);
        }

        #[test]
        fn same_seed_same_model() {
            $crate::testing::same_seed_same_model($model_type);
        }

        #[test]
        fn payload_round_trips_through_the_registration() {
            $crate::testing::payload_round_trips_through_the_registration(
                $model_type,
                $field,
                $value,
            );
        }

        #[test]
        fn nan_features_are_missing_values() {
            $crate::testing::nan_features_are_missing_values($model_type);
        }

        #[test]
        fn intervals_contain_the_point_and_widen_with_the_step() {
            $crate::testing::intervals_contain_the_point_and_widen_with_the_step($model_type);
        }

        #[test]
        fn bad_inputs_are_errors_not_panics() {
            $crate::testing::bad_inputs_are_errors_not_panics($model_type);
        }

        #[test]
        fn shap_values_add_up_to_every_step() {
            $crate::testing::shap_values_add_up_to_every_step($model_type);
        }
    };
}

/// A small deterministic generator (xorshift) so that fixtures need no
/// extra crate. The state is the seed; it must not be zero.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next draw, uniform on `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `y = 10·sin(x0) + x1² + noise` on `n` rows of three columns (the third
/// is pure noise).
fn nonlinear(n: usize, seed: u64) -> (FeatureMatrix, Vec<f64>) {
    let mut rng = Rng(seed);
    let columns = vec!["x0".to_owned(), "x1".to_owned(), "x2".to_owned()];
    let mut x = FeatureMatrix::new(columns);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let row = [
            rng.uniform() * 6.0,
            rng.uniform() * 4.0 - 2.0,
            rng.uniform(),
        ];
        y.push(10.0 * row[0].sin() + row[1] * row[1] + (rng.uniform() - 0.5));
        x.push_row(&row).unwrap();
    }
    (x, y)
}

fn mse(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / a.len() as f64
}

fn fit(
    model_type: &str,
    config: serde_json::Value,
    x: &FeatureMatrix,
    y: &[f64],
    seed: u64,
) -> Box<dyn FittedModel> {
    let registration = model(model_type).expect("registered");
    let model = (registration.build)(&config).unwrap();
    model
        .fit(&TrainingData {
            target: y,
            features: Some(x),
            seed,
        })
        .unwrap()
}

fn predict_all(fitted: &dyn FittedModel, x: &FeatureMatrix) -> Vec<f64> {
    fitted
        .predict(&PredictRequest {
            horizon: x.n_rows(),
            features: Some(x),
            interval_level: None,
        })
        .unwrap()
        .point
}

/// The registration's flag, family and input kind are the taxonomy's.
pub fn registration_matches_the_taxonomy(model_type: &str) {
    let registration = model(model_type).expect("registered");
    let kind = crate::taxonomy::lookup(model_type).unwrap();
    assert_eq!(registration.flag, kind.flag);
    assert_eq!(registration.family, kind.family);
    assert_eq!(registration.input, kind.input);
}

/// With default parameters the model's test MSE on a nonlinear function is
/// below a fifth of the training mean's.
pub fn fits_a_nonlinear_function_better_than_the_mean(model_type: &str) {
    let (x, y) = nonlinear(600, 7);
    let (x_test, y_test) = nonlinear(200, 99);
    let fitted = fit(model_type, json!({}), &x, &y, 42);
    let predicted = predict_all(fitted.as_ref(), &x_test);
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let baseline = mse(&vec![mean; y_test.len()], &y_test);
    let model_mse = mse(&predicted, &y_test);
    assert!(
        model_mse < 0.2 * baseline,
        "model MSE {model_mse} vs mean MSE {baseline}"
    );
}

/// Two fits on the same data with the same seed give the same payload and
/// the same predictions.
pub fn same_seed_same_model(model_type: &str) {
    let (x, y) = nonlinear(300, 3);
    let a = fit(model_type, json!({"n_estimators": 50}), &x, &y, 42);
    let b = fit(model_type, json!({"n_estimators": 50}), &x, &y, 42);
    assert_eq!(a.to_payload().unwrap(), b.to_payload().unwrap());
    assert_eq!(predict_all(a.as_ref(), &x), predict_all(b.as_ref(), &x));
}

/// A payload reloads through the registration and predicts the same;
/// garbage, and a payload whose `corrupt_field` is set to `corrupt_value`,
/// are refused.
pub fn payload_round_trips_through_the_registration(
    model_type: &str,
    corrupt_field: &str,
    corrupt_value: serde_json::Value,
) {
    let (x, y) = nonlinear(200, 5);
    let fitted = fit(
        model_type,
        json!({"n_estimators": 20, "max_depth": 3}),
        &x,
        &y,
        1,
    );
    let payload = fitted.to_payload().unwrap();
    let reloaded = (model(model_type).unwrap().load)(&payload).unwrap();
    assert_eq!(
        predict_all(fitted.as_ref(), &x),
        predict_all(reloaded.as_ref(), &x)
    );
    assert!((model(model_type).unwrap().load)(b"not a payload").is_err());
    let mut corrupt: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    corrupt[corrupt_field] = corrupt_value;
    assert!((model(model_type).unwrap().load)(corrupt.to_string().as_bytes()).is_err());
}

/// NaN feature values are missing values: fitting on them works and every
/// prediction, even from an all-NaN row, is finite.
pub fn nan_features_are_missing_values(model_type: &str) {
    let (mut x, y) = nonlinear(300, 11);
    let mut values = x.values().to_vec();
    for (i, v) in values.iter_mut().enumerate() {
        if i % 7 == 0 {
            *v = f64::NAN;
        }
    }
    x = FeatureMatrix::from_row_major(x.columns().to_vec(), values).unwrap();
    let fitted = fit(model_type, json!({}), &x, &y, 42);
    let all_nan = FeatureMatrix::from_row_major(x.columns().to_vec(), vec![f64::NAN; 3]).unwrap();
    let predicted = predict_all(fitted.as_ref(), &all_nan);
    assert!(predicted[0].is_finite());
    assert!(predict_all(fitted.as_ref(), &x)
        .iter()
        .all(|v| v.is_finite()));
}

/// Intervals strictly contain the point, widen with the step, and an
/// invalid level is an error.
pub fn intervals_contain_the_point_and_widen_with_the_step(model_type: &str) {
    let (x, y) = nonlinear(300, 13);
    let fitted = fit(model_type, json!({}), &x, &y, 42);
    let future =
        FeatureMatrix::from_row_major(x.columns().to_vec(), x.values()[..9].to_vec()).unwrap();
    let forecast = fitted
        .predict(&PredictRequest {
            horizon: 3,
            features: Some(&future),
            interval_level: Some(0.9),
        })
        .unwrap();
    let interval = forecast.interval.unwrap();
    for h in 0..3 {
        assert!(interval.lower[h] < forecast.point[h] && forecast.point[h] < interval.upper[h]);
    }
    assert!(interval.upper[2] - interval.lower[2] > interval.upper[0] - interval.lower[0]);
    let bad_level = PredictRequest {
        horizon: 3,
        features: Some(&future),
        interval_level: Some(1.5),
    };
    assert!(fitted.predict(&bad_level).is_err());
}

/// Missing features, a target of the wrong length, a non-finite target
/// and prediction without feature rows are errors, not panics.
pub fn bad_inputs_are_errors_not_panics(model_type: &str) {
    let (x, y) = nonlinear(50, 17);
    let registration = model(model_type).unwrap();
    let model = (registration.build)(&json!({})).unwrap();
    assert!(model.fit(&TrainingData::target_only(&y, 42)).is_err());
    assert!(model
        .fit(&TrainingData {
            target: &y[..10],
            features: Some(&x),
            seed: 42
        })
        .is_err());
    let mut with_nan_target = y.clone();
    with_nan_target[3] = f64::NAN;
    assert!(model
        .fit(&TrainingData {
            target: &with_nan_target,
            features: Some(&x),
            seed: 42
        })
        .is_err());
    let fitted = fit(model_type, json!({"n_estimators": 10}), &x, &y, 42);
    assert!(fitted.predict(&PredictRequest::horizon(2)).is_err());
}

/// Every step of a forecast is explained by SHAP values that add up to that
/// step's prediction within 1e-6 (missing values included), the drivers
/// name the training columns in order, the one column the target ignores
/// weighs least, and a step outside the horizon is an error.
pub fn shap_values_add_up_to_every_step(model_type: &str) {
    let (x, y) = nonlinear(400, 19);
    let fitted = fit(model_type, json!({}), &x, &y, 42);
    let mut future = x.values()[..15].to_vec();
    future[4] = f64::NAN;
    let future = FeatureMatrix::from_row_major(x.columns().to_vec(), future).unwrap();
    let request = PredictRequest {
        horizon: 5,
        features: Some(&future),
        interval_level: None,
    };
    let point = fitted.predict(&request).unwrap().point;
    let mut noise_weight = 0.0;
    let mut signal_weight = 0.0;
    for step in 1..=5 {
        let explanation = fitted
            .explain(&request, step)
            .unwrap()
            .expect("tree models explain themselves");
        assert_eq!(explanation.method, ExplainMethod::Shap);
        assert!(
            (explanation.prediction - point[step - 1]).abs()
                <= 1e-6 * point[step - 1].abs().max(1.0),
            "step {step}: explained {} vs predicted {}",
            explanation.prediction,
            point[step - 1]
        );
        explanation.check_additive(1e-6).unwrap();
        let names: Vec<&str> = explanation
            .drivers
            .iter()
            .map(|d| d.name.as_str())
            .collect();
        assert_eq!(names, ["x0", "x1", "x2"]);
        noise_weight += explanation.drivers[2].contribution.abs();
        signal_weight += explanation.drivers[0].contribution.abs();
    }
    assert!(
        noise_weight < signal_weight,
        "{noise_weight} vs {signal_weight}"
    );
    assert!(fitted.explain(&request, 0).is_err());
    assert!(fitted.explain(&request, 6).is_err());
}

/// A boosted model's `objective` is the loss it fits: on a signal with
/// rare large positive spikes, `absolute_error` follows the median (the
/// signal) where `squared_error` is pulled up towards the mean, `huber`
/// lies in between, and every objective's SHAP values add up.
pub fn objectives_fit_their_statistic(model_type: &str) {
    let mut rng = Rng(0x0B1E_C71E);
    let columns = vec!["x0".to_owned(), "x1".to_owned()];
    let (mut x, mut y, mut signal) = (FeatureMatrix::new(columns), Vec::new(), Vec::new());
    for _ in 0..600 {
        let row = [rng.uniform() * 6.0, rng.uniform()];
        let level = 20.0 + 5.0 * row[0].sin();
        let spike = if rng.uniform() < 0.15 { 40.0 } else { 0.0 };
        y.push(level + spike + (rng.uniform() - 0.5));
        signal.push(level);
        x.push_row(&row).unwrap();
    }
    let bias = |objective: &str| {
        let config = json!({ "objective": objective });
        let fitted = fit(model_type, config, &x, &y, 7);
        let predicted = predict_all(fitted.as_ref(), &x);
        let request = PredictRequest {
            horizon: x.n_rows(),
            features: Some(&x),
            interval_level: None,
        };
        for step in 1..=3 {
            let explanation = fitted.explain(&request, step).unwrap().expect("explains");
            explanation.check_additive(1e-6).unwrap();
        }
        predicted
            .iter()
            .zip(&signal)
            .map(|(p, s)| p - s)
            .sum::<f64>()
            / signal.len() as f64
    };
    let (squared, absolute, huber) = (bias("squared_error"), bias("absolute_error"), bias("huber"));
    // The mean sits 0.15 × 40 = 6 above the signal, the median on it; the
    // absolute losses move towards it by shrunken steps, so within 100
    // trees they get at least half way.
    assert!((squared - 6.0).abs() < 1.5, "squared error bias {squared}");
    assert!(
        absolute.abs() < 0.5 * squared,
        "absolute error bias {absolute} vs squared {squared}"
    );
    assert!(
        huber < 0.75 * squared,
        "huber bias {huber} vs squared {squared}"
    );
}
