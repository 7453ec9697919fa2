//! Accuracy parity with Nixtla's statsforecast: every statistical model is
//! fitted on the same series and folds as the reference forecasts in
//! `benchmarks/statsforecast/reference.json` (written by `reference.py`
//! beside it; read and scored by the `forecastlab-parity` crate there), both sides are scored by the same code (mean MASE over
//! series × folds, pooled WAPE), and ours must be within 2 % of
//! statsforecast's, or better.

use forecastlab_parity::{Reference, MODELS};

/// Allowed relative accuracy gap.
const TOLERANCE: f64 = 0.02;

#[test]
fn every_statistical_model_is_within_two_percent_of_statsforecast() {
    let reference = Reference::load().expect("reference.json is committed and parses");
    let mut report = Vec::new();
    for (name, config) in MODELS {
        let series = reference.series(name);
        let theirs = reference.forecasts(name);
        assert!(!series.is_empty(), "{name}: no reference series");
        assert_eq!(theirs.len(), series.len(), "{name}");
        let ours = reference.run(&series, config).expect("fits and predicts");
        let (our_mase, our_wape) = reference.score(&series, &ours);
        let (their_mase, their_wape) = reference.score(&series, &theirs);
        let distance = Reference::distance(&ours, &theirs);
        report.push(format!(
            "{name:16} MASE {our_mase:.4} vs {their_mase:.4}   WAPE {our_wape:.3} vs {their_wape:.3}   distance {distance:.3} %"
        ));
        assert!(
            our_mase <= their_mase * (1.0 + TOLERANCE),
            "{name}: MASE {our_mase} vs statsforecast {their_mase}\n{}",
            report.join("\n")
        );
        assert!(
            our_wape <= their_wape * (1.0 + TOLERANCE),
            "{name}: WAPE {our_wape} vs statsforecast {their_wape}\n{}",
            report.join("\n")
        );
    }
    println!("{}", report.join("\n"));
}
