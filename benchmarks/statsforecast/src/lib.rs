//! The statsforecast comparison shared by the parity test and the speed
//! bench: the reference file written by
//! `benchmarks/statsforecast/reference.py` (series, folds, statsforecast's
//! forecasts and wall times), our models run on the same folds, and one
//! scoring function for both sides (mean MASE over series × folds, pooled
//! WAPE). The statistical model plugins are linked in here, so whatever
//! uses this crate finds them in the model registry.

use forecastlab_core::{metrics, PredictRequest, TrainingData};
use serde_json::Value;

use forecastlab_model_adida as _;
use forecastlab_model_auto_arima as _;
use forecastlab_model_auto_ets as _;
use forecastlab_model_croston as _;
use forecastlab_model_croston_sba as _;
use forecastlab_model_imapa as _;
use forecastlab_model_mstl as _;
use forecastlab_model_optimized_theta as _;
use forecastlab_model_seasonal_naive as _;
use forecastlab_model_theta as _;
use forecastlab_model_tsb as _;

/// Our models with the config that matches the statsforecast reference.
pub const MODELS: [(&str, &str); 11] = [
    (
        "seasonal_naive",
        r#"{"model_type": "seasonal_naive", "season_length": 7}"#,
    ),
    ("theta", r#"{"model_type": "theta", "season_length": 7}"#),
    (
        "optimized_theta",
        r#"{"model_type": "optimized_theta", "season_length": 7}"#,
    ),
    (
        "auto_ets",
        r#"{"model_type": "auto_ets", "season_length": 7}"#,
    ),
    ("mstl", r#"{"model_type": "mstl", "season_lengths": [7]}"#),
    (
        "auto_arima",
        r#"{"model_type": "auto_arima", "season_length": 7}"#,
    ),
    ("croston", r#"{"model_type": "croston"}"#),
    ("croston_sba", r#"{"model_type": "croston_sba"}"#),
    (
        "tsb",
        r#"{"model_type": "tsb", "alpha_d": 0.1, "alpha_p": 0.1}"#,
    ),
    ("adida", r#"{"model_type": "adida"}"#),
    ("imapa", r#"{"model_type": "imapa"}"#),
];

/// `forecasts[series][fold]`: one horizon of values per fold.
pub type Forecasts = Vec<Vec<Vec<f64>>>;

/// The parsed reference file.
#[derive(Debug, Clone)]
pub struct Reference {
    /// Forecast horizon of every fold.
    pub horizon: usize,
    /// Folds per series (the last `folds` windows of `horizon` days).
    pub folds: usize,
    json: Value,
}

fn values(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect())
        .unwrap_or_default()
}

impl Reference {
    /// Reads `reference.json` beside this crate's manifest.
    pub fn load() -> anyhow::Result<Self> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/reference.json");
        let json: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
        let number = |key: &str| {
            json[key]
                .as_u64()
                .map(|v| v as usize)
                .ok_or_else(|| anyhow::anyhow!("reference.json lacks {key}"))
        };
        Ok(Self {
            horizon: number("horizon")?,
            folds: number("folds")?,
            json,
        })
    }

    /// The series a model is benchmarked on (its `kind`).
    pub fn series(&self, model: &str) -> Vec<Vec<f64>> {
        let kind = &self.json["models"][model]["kind"];
        self.json["series"]
            .as_array()
            .map(|all| {
                all.iter()
                    .filter(|s| &s["kind"] == kind)
                    .map(|s| values(&s["y"]))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// statsforecast's forecasts for `model`.
    pub fn forecasts(&self, model: &str) -> Forecasts {
        self.json["models"][model]["forecasts"]
            .as_array()
            .map(|series| {
                series
                    .iter()
                    .map(|folds| {
                        folds
                            .as_array()
                            .map(|f| f.iter().map(values).collect())
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// statsforecast's wall time for `model` over every series and fold.
    pub fn seconds(&self, model: &str) -> f64 {
        self.json["models"][model]["seconds"]
            .as_f64()
            .unwrap_or(f64::NAN)
    }

    /// End of the training window of fold `k` of a series of length `n`.
    pub fn train_end(&self, n: usize, k: usize) -> usize {
        n - (self.folds - k) * self.horizon
    }

    /// Runs our model `config` on every series and fold (one thread).
    pub fn run(&self, series: &[Vec<f64>], config: &str) -> anyhow::Result<Forecasts> {
        let config: Value = serde_json::from_str(config)?;
        let name = config["model_type"].as_str().unwrap_or_default();
        let registration = forecastlab_core::model(name)
            .ok_or_else(|| anyhow::anyhow!("{name} is not linked in"))?;
        let model = (registration.build)(&config)?;
        series
            .iter()
            .map(|y| {
                (0..self.folds)
                    .map(|k| {
                        let train = &y[..self.train_end(y.len(), k)];
                        let fitted = model.fit(&TrainingData::target_only(train, 42))?;
                        Ok(fitted
                            .predict(&PredictRequest::horizon(self.horizon))?
                            .point)
                    })
                    .collect()
            })
            .collect()
    }

    /// How far `ours` lies from `theirs`: the mean absolute difference of
    /// the forecasts over the mean absolute value of `theirs`, in percent.
    pub fn distance(ours: &Forecasts, theirs: &Forecasts) -> f64 {
        let (mut difference, mut size) = (0.0, 0.0);
        for (a, b) in ours.iter().flatten().zip(theirs.iter().flatten()) {
            for (x, y) in a.iter().zip(b) {
                difference += (x - y).abs();
                size += y.abs();
            }
        }
        100.0 * difference / size
    }

    /// Mean MASE over (series, fold) — folds without a scale skipped — and
    /// pooled WAPE (percent) of `forecasts`.
    pub fn score(&self, series: &[Vec<f64>], forecasts: &Forecasts) -> (f64, f64) {
        score_last_folds(series, forecasts, self.folds, self.horizon)
    }
}

/// Scores `forecasts[series][fold]` of the last `folds` windows of
/// `horizon` days of each series (fold `k` trains on all but the last
/// `(folds − k) · horizon` days): mean MASE over (series, fold), scaled by
/// the training window's seasonal naive error (folds without a scale
/// skipped), and pooled WAPE in percent.
pub fn score_last_folds(
    series: &[Vec<f64>],
    forecasts: &Forecasts,
    folds: usize,
    horizon: usize,
) -> (f64, f64) {
    let (mut mase, mut count) = (0.0, 0u32);
    let (mut abs_error, mut abs_actual) = (0.0, 0.0);
    for (y, series_folds) in series.iter().zip(forecasts) {
        for (k, forecast) in series_folds.iter().enumerate() {
            let end = y.len() - (folds - k) * horizon;
            let actual = &y[end..end + horizon];
            if let Ok(m) = metrics::compute_scaled(&y[..end], actual, forecast) {
                if m.mase.is_finite() {
                    mase += m.mase;
                    count += 1;
                }
            }
            for (a, f) in actual.iter().zip(forecast) {
                abs_error += (a - f).abs();
                abs_actual += a.abs();
            }
        }
    }
    (mase / f64::from(count), 100.0 * abs_error / abs_actual)
}
