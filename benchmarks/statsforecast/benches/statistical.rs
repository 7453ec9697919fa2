//! Speed and accuracy of the statistical models side by side with Nixtla's
//! statsforecast on the series and folds of
//! `benchmarks/statsforecast/reference.json`: our fit + predict of every
//! series × fold on one thread (median of `BENCH_REPS`, default 5) against
//! statsforecast's wall time recorded by `reference.py` (`n_jobs=1`), plus
//! MASE and WAPE of both and the distance between the two forecasts (mean
//! absolute difference over mean absolute statsforecast forecast). Run
//! both sides with
//! `bash benchmarks/statsforecast/run.sh`.

use std::time::Instant;

use forecastlab_parity::{Reference, MODELS};

fn main() -> anyhow::Result<()> {
    let reps: usize = std::env::var("BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .max(1);
    let reference = Reference::load()?;
    println!(
        "{:16} {:>12} {:>12} {:>9} {:>17} {:>17} {:>9}",
        "model",
        "statsforecast",
        "ours",
        "speed-up",
        "MASE ours/theirs",
        "WAPE ours/theirs",
        "distance"
    );
    for (name, config) in MODELS {
        let series = reference.series(name);
        let mut times = Vec::with_capacity(reps);
        let mut ours = Vec::new();
        for _ in 0..reps {
            let started = Instant::now();
            ours = reference.run(&series, config)?;
            times.push(started.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let theirs = reference.seconds(name);
        let (our_mase, our_wape) = reference.score(&series, &ours);
        let forecasts = reference.forecasts(name);
        let (their_mase, their_wape) = reference.score(&series, &forecasts);
        println!(
            "{name:16} {theirs:>11.4}s {median:>11.4}s {:>8.1}× {:>8.4}/{:<8.4} {:>8.3}/{:<8.3} {:>8.3}%",
            theirs / median,
            our_mase,
            their_mase,
            our_wape,
            their_wape,
            Reference::distance(&ours, &forecasts)
        );
    }
    Ok(())
}
