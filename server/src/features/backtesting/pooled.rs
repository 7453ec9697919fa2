//! What a backtest reports across models and series: the comparison of
//! the main model with the baselines (§5.7) and the pooled many-series
//! results (metrics over every point, per-series means, horizon buckets and
//! the portfolio WRMSSE).

use forecastlab_core::{
    backtest::{self, ModelOutcome},
    metrics::{self, MetricSums, Metrics, METRIC_NAMES},
    wrmsse::{self, WrmsseAccumulator},
    CoreError,
};
use serde_json::{json, Map, Value};

use super::{
    candidates::Candidate,
    feature_aware,
    schemas::{finite, BucketMetricsBody, PooledModelResult, PooledResults},
};

/// `{metric: {main, <baseline>, <vs key>, …}}` for every metric (§5.7):
/// improvement % = (baseline − main) / baseline · 100, on absolute values
/// for bias; absent when the baseline is zero or not finite.
pub(super) fn comparison_summary(main: &Metrics, baselines: &[(&Candidate, Metrics)]) -> Value {
    let mut summary = Map::new();
    for name in METRIC_NAMES {
        let main_value = main.get(name).unwrap_or(f64::NAN);
        let mut entry = Map::new();
        entry.insert("main".into(), json!(finite(main_value)));
        for (candidate, metrics) in baselines {
            let base = metrics.get(name).unwrap_or(f64::NAN);
            entry.insert(candidate.model_type.clone(), json!(finite(base)));
            let (b, m) = if name == "bias" {
                (base.abs(), main_value.abs())
            } else {
                (base, main_value)
            };
            let pct = (b - m) / b * 100.0;
            if let Some(key) = candidate.comparison_key {
                if b != 0.0 && !b.is_nan() && pct.is_finite() {
                    entry.insert(key.into(), json!(pct));
                }
            }
        }
        summary.insert(name.into(), Value::Object(entry));
    }
    Value::Object(summary)
}

/// Pooled accumulation over many series, one slot per candidate.
pub(super) struct Pool {
    slots: Vec<PoolSlot>,
}

#[derive(Default)]
struct PoolSlot {
    n_series: usize,
    sums: MetricSums,
    buckets: backtest::BucketSums,
    series_metrics: Vec<Metrics>,
    wrmsse: WrmsseAccumulator,
}

impl Pool {
    /// An empty pool for `candidates`.
    pub(super) fn new(candidates: &[Candidate]) -> Self {
        Self {
            slots: candidates.iter().map(|_| PoolSlot::default()).collect(),
        }
    }

    /// Adds one series' results (one per candidate, in order).
    pub(super) fn add(
        &mut self,
        input: &feature_aware::SeriesInput,
        results: &[Result<ModelOutcome, CoreError>],
    ) {
        let target = input.target();
        for (slot, result) in self.slots.iter_mut().zip(results) {
            if let Ok(model) = result {
                slot.n_series += 1;
                slot.sums.merge(&model.pooled);
                backtest::merge_buckets(&mut slot.buckets, &model.pooled_buckets);
                slot.series_metrics.push(model.aggregated);
                for fold in &model.folds {
                    let train = fold.fold.train.clone();
                    let rmsse = wrmsse::rmsse(
                        &target[train.clone()],
                        &target[fold.fold.test.clone()],
                        &fold.predictions,
                    );
                    let weight = wrmsse::revenue(
                        &target[train.clone()],
                        &input.prices()[train],
                        wrmsse::WEIGHT_WINDOW,
                    );
                    if let Some(rmsse) = rmsse {
                        slot.wrmsse.add(fold.fold.index, weight, rmsse);
                    }
                }
            }
        }
    }

    /// The pooled results of `candidates` (main model first) over
    /// `n_series` series, with the baselines and their comparison when
    /// `include_baselines`.
    pub(super) fn finish(
        self,
        candidates: &[Candidate],
        include_baselines: bool,
        n_series: usize,
    ) -> PooledResults {
        let mut models: Vec<(&Candidate, PooledModelResult, Metrics)> = self
            .slots
            .into_iter()
            .zip(candidates)
            .map(|(slot, candidate)| {
                let pooled = slot.sums.metrics();
                let buckets = backtest::bucket_metrics(&slot.buckets);
                (
                    candidate,
                    PooledModelResult {
                        model_type: candidate.model_type.clone(),
                        n_series: slot.n_series,
                        n_points: slot.sums.n,
                        pooled_metrics: pooled.into(),
                        mean_series_metrics: metrics::aggregate(&slot.series_metrics).into(),
                        bucketed_pooled_metrics: (!buckets.is_empty())
                            .then(|| BucketMetricsBody::from_pairs(&buckets)),
                        wrmsse: finite(slot.wrmsse.value()),
                    },
                    pooled,
                )
            })
            .collect();
        let rest = models.split_off(1);
        let (_, main, main_metrics) = models.remove(0);
        let ran: Vec<(&Candidate, PooledModelResult, Metrics)> = rest
            .into_iter()
            .filter(|(_, r, _)| r.n_series > 0)
            .collect();
        let baseline_metrics: Vec<(&Candidate, Metrics)> =
            ran.iter().map(|(c, _, m)| (*c, *m)).collect();
        PooledResults {
            n_series,
            main_model: main,
            comparison_summary: include_baselines
                .then(|| comparison_summary(&main_metrics, &baseline_metrics)),
            baselines: include_baselines.then(|| ran.into_iter().map(|(_, r, _)| r).collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(name: &str, key: Option<&'static str>) -> Candidate {
        let registration = forecastlab_core::model("naive").expect("naive is linked");
        Candidate {
            model_type: name.to_owned(),
            config_hash: String::new(),
            forecaster: (registration.build)(&json!({})).expect("builds"),
            feature_aware: false,
            comparison_key: key,
        }
    }

    #[test]
    fn comparison_follows_the_spec() {
        let main = Metrics::from_array([5.0, 6.0, 10.0, 20.0, -2.0, 0.5, 0.8]);
        let naive = candidate("naive", Some("vs_naive_pct"));
        let seasonal = candidate("seasonal_naive", Some("vs_seasonal_pct"));
        let summary = comparison_summary(
            &main,
            &[
                (
                    &naive,
                    Metrics::from_array([10.0, 0.0, f64::NAN, f64::INFINITY, 4.0, 1.0, 1.0]),
                ),
                (
                    &seasonal,
                    Metrics::from_array([4.0, 6.0, 10.0, 20.0, 0.0, 1.0, f64::NAN]),
                ),
            ],
        );
        assert_eq!(summary["mae"]["main"], 5.0);
        assert_eq!(summary["mae"]["naive"], 10.0);
        assert_eq!(summary["mae"]["vs_naive_pct"], 50.0);
        assert_eq!(summary["mae"]["vs_seasonal_pct"], -25.0);
        // Baseline zero or NaN or infinite: no percentage, value kept (null).
        assert!(summary["rmse"].get("vs_naive_pct").is_none());
        assert!(summary["smape"].get("vs_naive_pct").is_none());
        assert!(summary["smape"]["naive"].is_null());
        assert!(summary["wape"].get("vs_naive_pct").is_none());
        // Bias compares absolute values.
        assert_eq!(summary["bias"]["vs_naive_pct"], 50.0);
        assert!(summary["bias"].get("vs_seasonal_pct").is_none());
        // Scale-free metrics compare like the others.
        assert_eq!(summary["mase"]["vs_naive_pct"], 50.0);
        assert!(summary["rmsse"].get("vs_seasonal_pct").is_none());
        let keys: Vec<&String> = summary.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["mae", "rmse", "smape", "wape", "bias", "mase", "rmsse"]
        );
    }
}
