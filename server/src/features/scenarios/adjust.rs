//! The arithmetic of a scenario (spec §7.2–§7.3): heuristic multipliers per
//! horizon day, the comparison totals and the coverage verdict. Pure
//! functions over slices, unit-tested against the spec's worked cases.

use chrono::NaiveDate;

use super::schemas::{
    CoverageVerdict, LifecycleStage, PromotionKind, ScenarioAssumptions, ScenarioPoint,
};

/// Fixed own-price elasticity of the heuristic method.
pub const PRICE_ELASTICITY: f64 = -1.2;
/// Holiday uplift.
pub const HOLIDAY_UPLIFT: f64 = 1.30;
/// Lower end of the factor clamp band.
pub const FACTOR_MIN: f64 = 0.1;
/// Upper end of the factor clamp band.
pub const FACTOR_MAX: f64 = 5.0;
/// Half-width of the coverage at-risk band (±10 %).
pub const COVERAGE_BAND: f64 = 0.10;

/// Uplift of a promotion kind.
pub fn promotion_uplift(kind: PromotionKind) -> f64 {
    match kind {
        PromotionKind::PctOff => 1.25,
        PromotionKind::Bogo => 1.40,
        PromotionKind::Bundle => 1.15,
        PromotionKind::Markdown => 1.30,
    }
}

/// Factor of a lifecycle stage.
pub fn lifecycle_factor(stage: LifecycleStage) -> f64 {
    match stage {
        LifecycleStage::Launch => 1.2,
        LifecycleStage::Growth => 1.1,
        LifecycleStage::Maturity => 1.0,
        LifecycleStage::Decline => 0.85,
    }
}

fn clamp(value: f64) -> f64 {
    value.clamp(FACTOR_MIN, FACTOR_MAX)
}

/// True when `date` lies in the inclusive window (a reversed window is read
/// the other way round).
pub fn in_window(date: NaiveDate, start: NaiveDate, end: NaiveDate) -> bool {
    let (from, to) = if start <= end {
        (start, end)
    } else {
        (end, start)
    };
    from <= date && date <= to
}

/// Price factor of a relative change: `(1 + change)^elasticity` clamped to
/// the band; a price at or below zero gives the band's top.
pub fn price_factor(change_pct: f64, elasticity: f64) -> f64 {
    let base = 1.0 + change_pct;
    if base <= 0.0 {
        FACTOR_MAX
    } else {
        clamp(base.powf(elasticity))
    }
}

/// The combined multiplier of one horizon day (§7.2): price × promotion ×
/// holiday × lifecycle, clamped to [0.1, 5.0]. Calendar holidays are not
/// used here, only the assumed ones.
pub fn heuristic_factor(
    date: NaiveDate,
    assumptions: &ScenarioAssumptions,
    elasticity: f64,
) -> f64 {
    let mut factor = 1.0;
    if let Some(price) = &assumptions.price {
        if in_window(date, price.start_date, price.end_date) {
            factor *= price_factor(price.change_pct, elasticity);
        }
    }
    if let Some(promotion) = &assumptions.promotion {
        if in_window(date, promotion.start_date, promotion.end_date) {
            factor *= promotion_uplift(promotion.kind);
        }
    }
    if let Some(holiday) = &assumptions.holiday {
        if holiday.dates.contains(&date) {
            factor *= HOLIDAY_UPLIFT;
        }
    }
    if let Some(lifecycle) = &assumptions.lifecycle {
        factor *= lifecycle_factor(lifecycle.stage);
    }
    clamp(factor)
}

/// Heuristic points: `scenario = max(0, baseline × factor)`; the baseline
/// itself is reported as forecast.
pub fn heuristic_points(
    dates: &[NaiveDate],
    baseline: &[f64],
    assumptions: &ScenarioAssumptions,
    elasticity: f64,
) -> Vec<ScenarioPoint> {
    dates
        .iter()
        .zip(baseline)
        .map(|(date, &base)| {
            let factor = heuristic_factor(*date, assumptions, elasticity);
            let scenario = (base * factor).max(0.0);
            ScenarioPoint {
                date: *date,
                baseline: base,
                scenario,
                delta: scenario - base,
                applied_factor: factor,
            }
        })
        .collect()
}

/// Model points (§7.4): both forecasts floored at 0, factor =
/// scenario / baseline (1.0 when the baseline is 0).
pub fn model_points(dates: &[NaiveDate], baseline: &[f64], scenario: &[f64]) -> Vec<ScenarioPoint> {
    dates
        .iter()
        .zip(baseline.iter().zip(scenario))
        .map(|(date, (&base, &with))| {
            let base = base.max(0.0);
            let with = with.max(0.0);
            ScenarioPoint {
                date: *date,
                baseline: base,
                scenario: with,
                delta: with - base,
                applied_factor: if base > 0.0 { with / base } else { 1.0 },
            }
        })
        .collect()
}

/// The totals of §7.3.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Totals {
    /// Σ baseline.
    pub baseline_units: f64,
    /// Σ scenario.
    pub scenario_units: f64,
    /// Percent change of units (0 when the baseline total ≤ 0).
    pub units_delta_pct: f64,
}

/// Sums the points.
pub fn totals(points: &[ScenarioPoint]) -> Totals {
    let baseline_units: f64 = points.iter().map(|p| p.baseline).sum();
    let scenario_units: f64 = points.iter().map(|p| p.scenario).sum();
    let delta = scenario_units - baseline_units;
    Totals {
        baseline_units,
        scenario_units,
        units_delta_pct: if baseline_units > 0.0 {
            delta / baseline_units * 100.0
        } else {
            0.0
        },
    }
}

/// Coverage verdict of scenario demand `total` against `on_hand` units
/// (§7.3); `None` = no inventory assumption.
pub fn coverage(total: f64, on_hand: Option<i64>) -> CoverageVerdict {
    let Some(on_hand) = on_hand else {
        return CoverageVerdict::Unknown;
    };
    let on_hand = on_hand as f64;
    if on_hand <= 0.0 {
        return if total > 0.0 {
            CoverageVerdict::Stockout
        } else {
            CoverageVerdict::AtRisk
        };
    }
    if total > (1.0 + COVERAGE_BAND) * on_hand {
        CoverageVerdict::Stockout
    } else if total >= (1.0 - COVERAGE_BAND) * on_hand {
        CoverageVerdict::AtRisk
    } else {
        CoverageVerdict::Covered
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::scenarios::schemas::{
        HolidayAssumption, LifecycleAssumption, PriceAssumption, PromotionAssumption,
    };

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 3, 10).unwrap()
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-6, "{a} != {b}");
    }

    fn price(change_pct: f64) -> ScenarioAssumptions {
        ScenarioAssumptions {
            price: Some(PriceAssumption {
                change_pct,
                start_date: day(),
                end_date: day(),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn price_factors_match_the_worked_cases() {
        for (change, expected) in [
            (-0.15, 1.2153386),
            (0.10, 0.8919259),
            (0.5, 0.6147386),
            (-0.5, 2.2973967),
            (-0.9, 5.0),
            (5.0, 0.1164712),
        ] {
            close(
                heuristic_factor(day(), &price(change), PRICE_ELASTICITY),
                expected,
            );
            // the unclamped value is the power law
            if change != -0.9 {
                close(
                    price_factor(change, PRICE_ELASTICITY),
                    (1.0 + change).powf(-1.2),
                );
            }
        }
        // −0.9 is 15.85 before the clamp
        close(0.1f64.powf(-1.2), 15.848931924611133);
        assert_eq!(price_factor(-1.0, PRICE_ELASTICITY), FACTOR_MAX);
    }

    #[test]
    fn each_assumption_alone() {
        let d = day();
        for (kind, uplift) in [
            (PromotionKind::PctOff, 1.25),
            (PromotionKind::Bogo, 1.40),
            (PromotionKind::Bundle, 1.15),
            (PromotionKind::Markdown, 1.30),
        ] {
            let a = ScenarioAssumptions {
                promotion: Some(PromotionAssumption {
                    kind,
                    start_date: d,
                    end_date: d,
                }),
                ..Default::default()
            };
            close(heuristic_factor(d, &a, PRICE_ELASTICITY), uplift);
            // outside the window: identity
            close(
                heuristic_factor(d.succ_opt().unwrap(), &a, PRICE_ELASTICITY),
                1.0,
            );
        }
        let holiday = ScenarioAssumptions {
            holiday: Some(HolidayAssumption { dates: vec![d] }),
            ..Default::default()
        };
        close(heuristic_factor(d, &holiday, PRICE_ELASTICITY), 1.30);
        close(
            heuristic_factor(d.pred_opt().unwrap(), &holiday, PRICE_ELASTICITY),
            1.0,
        );
        for (stage, factor) in [
            (LifecycleStage::Launch, 1.2),
            (LifecycleStage::Growth, 1.1),
            (LifecycleStage::Maturity, 1.0),
            (LifecycleStage::Decline, 0.85),
        ] {
            let a = ScenarioAssumptions {
                lifecycle: Some(LifecycleAssumption { stage }),
                ..Default::default()
            };
            // every day
            close(heuristic_factor(d, &a, PRICE_ELASTICITY), factor);
            close(
                heuristic_factor(d + chrono::Days::new(40), &a, PRICE_ELASTICITY),
                factor,
            );
        }
    }

    fn combined(change: f64, stage: LifecycleStage) -> ScenarioAssumptions {
        let d = day();
        ScenarioAssumptions {
            price: Some(PriceAssumption {
                change_pct: change,
                start_date: d,
                end_date: d,
            }),
            promotion: Some(PromotionAssumption {
                kind: PromotionKind::Bogo,
                start_date: d,
                end_date: d,
            }),
            holiday: Some(HolidayAssumption { dates: vec![d] }),
            lifecycle: Some(LifecycleAssumption { stage }),
            inventory: None,
        }
    }

    #[test]
    fn combinations_multiply_then_clamp() {
        close(
            heuristic_factor(
                day(),
                &combined(-0.15, LifecycleStage::Decline),
                PRICE_ELASTICITY,
            ),
            1.8801288,
        );
        // 2.2973967 × 1.4 × 1.3 × 1.2 = 5.0175144 (the spec rounds it to
        // 5.0175) → clamped to 5.0
        close(2.2973967 * 1.4 * 1.3 * 1.2, 5.017_514_4);
        close(
            heuristic_factor(
                day(),
                &combined(-0.5, LifecycleStage::Launch),
                PRICE_ELASTICITY,
            ),
            5.0,
        );
    }

    #[test]
    fn reversed_windows_are_swapped() {
        let d = day();
        let a = ScenarioAssumptions {
            price: Some(PriceAssumption {
                change_pct: 0.1,
                start_date: d + chrono::Days::new(3),
                end_date: d - chrono::Days::new(3),
            }),
            ..Default::default()
        };
        close(heuristic_factor(d, &a, PRICE_ELASTICITY), 0.8919259);
        close(
            heuristic_factor(d + chrono::Days::new(4), &a, PRICE_ELASTICITY),
            1.0,
        );
    }

    #[test]
    fn empty_assumptions_are_the_identity() {
        let dates: Vec<NaiveDate> = (0..5).map(|i| day() + chrono::Days::new(i)).collect();
        let baseline = [3.0, -1.0, 0.0, 7.5, 2.0];
        let points = heuristic_points(&dates, &baseline, &ScenarioAssumptions::default(), -1.2);
        for (point, base) in points.iter().zip(baseline) {
            assert_eq!(point.applied_factor, 1.0);
            assert_eq!(point.baseline, base);
            // the scenario is floored at 0, the baseline is not
            assert_eq!(point.scenario, base.max(0.0));
        }
        let t = totals(&points);
        close(t.baseline_units, 11.5);
        close(t.scenario_units, 12.5);
    }

    #[test]
    fn model_points_floor_both_and_divide() {
        let dates: Vec<NaiveDate> = (0..3).map(|i| day() + chrono::Days::new(i)).collect();
        let points = model_points(&dates, &[10.0, 0.0, -2.0], &[12.0, 3.0, 1.0]);
        close(points[0].applied_factor, 1.2);
        close(points[1].applied_factor, 1.0);
        assert_eq!(points[2].baseline, 0.0);
        close(points[2].delta, 1.0);
    }

    #[test]
    fn totals_and_percent() {
        let dates = [day(), day()];
        let points = model_points(&dates, &[10.0, 30.0], &[15.0, 35.0]);
        let t = totals(&points);
        close(t.units_delta_pct, 25.0);
        let zero = model_points(&dates, &[0.0, 0.0], &[1.0, 1.0]);
        assert_eq!(totals(&zero).units_delta_pct, 0.0);
    }

    #[test]
    fn coverage_matches_the_worked_cases() {
        use CoverageVerdict::*;
        for (total, verdict) in [
            (50.0, Covered),
            (89.9, Covered),
            (90.0, AtRisk),
            (110.0, AtRisk),
            (110.0001, Stockout),
        ] {
            assert_eq!(coverage(total, Some(100)), verdict, "{total}");
        }
        assert_eq!(coverage(0.0, Some(0)), AtRisk);
        assert_eq!(coverage(5.0, Some(0)), Stockout);
        assert_eq!(coverage(5.0, None), Unknown);
    }
}
