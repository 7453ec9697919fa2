//! Product lifecycle maths: the stage a product is in on a given day and the
//! demand multiplier that stage implies.
//!
//! Shared by the seeder (sales generation, markdowns, the phase-2 stage
//! update) and by `GET /dimensions/products/{id}/lifecycle-curve`.
//!
//! With `t` = days since launch and the default configuration:
//!
//! | condition | stage | multiplier |
//! |---|---|---|
//! | disabled, or no launch date | maturity | 1.0 |
//! | day before launch, or day ≥ discontinue date | discontinued | 0.0 |
//! | t < 30 | intro | 0.1 + 0.9·t/30 |
//! | t < 90 | growth | 1.0 |
//! | t < 270 | maturity | 1.0 |
//! | otherwise | decline | floor + (1 − floor)·e^(−(t − 270)/90) |

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The five lifecycle stages (the `product.lifecycle_stage` allow-list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LifecycleStage {
    /// Ramp-up after launch.
    Intro,
    /// Full demand, growing.
    Growth,
    /// Full demand, steady.
    Maturity,
    /// Exponential fade-out.
    Decline,
    /// Not sold (before launch or from the discontinue date on).
    Discontinued,
}

impl LifecycleStage {
    /// The stored / serialized name (`intro`, `growth`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Intro => "intro",
            Self::Growth => "growth",
            Self::Maturity => "maturity",
            Self::Decline => "decline",
            Self::Discontinued => "discontinued",
        }
    }
}

impl std::fmt::Display for LifecycleStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Shape of the lifecycle curve. [`Default`] gives the upstream defaults
/// (enabled; intro 30 d, growth 60 d, maturity 180 d, decline e-folding
/// 90 d, intro floor 0.1, decline floor 0.0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LifecycleConfig {
    /// When false every day is maturity with multiplier 1.0.
    pub enabled: bool,
    /// Length of the intro stage in days.
    pub intro_days: u32,
    /// Length of the growth stage in days.
    pub growth_days: u32,
    /// Length of the maturity stage in days.
    pub maturity_days: u32,
    /// E-folding time of the decline in days.
    pub decline_efold_days: f64,
    /// Multiplier on launch day (rises linearly to 1.0 over the intro).
    pub intro_floor: f64,
    /// Asymptote of the decline.
    pub decline_floor: f64,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            intro_days: 30,
            growth_days: 60,
            maturity_days: 180,
            decline_efold_days: 90.0,
            intro_floor: 0.1,
            decline_floor: 0.0,
        }
    }
}

/// A product's stage and demand multiplier on one day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LifecyclePoint {
    /// The stage.
    pub stage: LifecycleStage,
    /// Demand multiplier in `[0, 1]`.
    pub multiplier: f64,
}

impl LifecycleConfig {
    /// Stage and multiplier of a product launched on `launch` (and
    /// discontinued on `discontinue`, if any) on `day`.
    pub fn point(
        &self,
        launch: Option<NaiveDate>,
        discontinue: Option<NaiveDate>,
        day: NaiveDate,
    ) -> LifecyclePoint {
        let Some(launch) = launch.filter(|_| self.enabled) else {
            return LifecyclePoint {
                stage: LifecycleStage::Maturity,
                multiplier: 1.0,
            };
        };
        if day < launch || discontinue.is_some_and(|end| day >= end) {
            return LifecyclePoint {
                stage: LifecycleStage::Discontinued,
                multiplier: 0.0,
            };
        }
        let t = (day - launch).num_days();
        let intro = i64::from(self.intro_days);
        let growth_end = intro + i64::from(self.growth_days);
        let maturity_end = growth_end + i64::from(self.maturity_days);
        if t < intro {
            let progress = t as f64 / intro as f64;
            LifecyclePoint {
                stage: LifecycleStage::Intro,
                multiplier: self.intro_floor + (1.0 - self.intro_floor) * progress,
            }
        } else if t < growth_end {
            LifecyclePoint {
                stage: LifecycleStage::Growth,
                multiplier: 1.0,
            }
        } else if t < maturity_end {
            LifecyclePoint {
                stage: LifecycleStage::Maturity,
                multiplier: 1.0,
            }
        } else {
            let fade = if self.decline_efold_days > 0.0 {
                (-((t - maturity_end) as f64) / self.decline_efold_days).exp()
            } else {
                0.0
            };
            LifecyclePoint {
                stage: LifecycleStage::Decline,
                multiplier: self.decline_floor + (1.0 - self.decline_floor) * fade,
            }
        }
    }

    /// The stage only (see [`LifecycleConfig::point`]).
    pub fn stage(
        &self,
        launch: Option<NaiveDate>,
        discontinue: Option<NaiveDate>,
        day: NaiveDate,
    ) -> LifecycleStage {
        self.point(launch, discontinue, day).stage
    }

    /// The multiplier only (see [`LifecycleConfig::point`]).
    pub fn multiplier(
        &self,
        launch: Option<NaiveDate>,
        discontinue: Option<NaiveDate>,
        day: NaiveDate,
    ) -> f64 {
        self.point(launch, discontinue, day).multiplier
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn at(t: i64) -> LifecyclePoint {
        let launch = d(2024, 1, 1);
        LifecycleConfig::default().point(Some(launch), None, launch + chrono::Days::new(t as u64))
    }

    #[test]
    fn no_launch_or_disabled_is_mature() {
        let config = LifecycleConfig::default();
        let p = config.point(None, Some(d(2024, 1, 1)), d(2025, 1, 1));
        assert_eq!(p.stage, LifecycleStage::Maturity);
        assert_eq!(p.multiplier, 1.0);
        let disabled = LifecycleConfig {
            enabled: false,
            ..config
        };
        let p = disabled.point(Some(d(2024, 1, 1)), None, d(2023, 1, 1));
        assert_eq!(p.stage, LifecycleStage::Maturity);
        assert_eq!(p.multiplier, 1.0);
    }

    #[test]
    fn before_launch_and_from_discontinue_date_is_discontinued() {
        let config = LifecycleConfig::default();
        let launch = Some(d(2024, 1, 10));
        let end = Some(d(2024, 3, 1));
        assert_eq!(
            config.point(launch, end, d(2024, 1, 9)).stage,
            LifecycleStage::Discontinued
        );
        assert_eq!(config.multiplier(launch, end, d(2024, 3, 1)), 0.0);
        assert_eq!(
            config.stage(launch, end, d(2024, 2, 29)),
            LifecycleStage::Growth
        );
    }

    #[test]
    fn intro_ramps_linearly_from_the_floor() {
        assert_eq!(at(0).stage, LifecycleStage::Intro);
        assert!((at(0).multiplier - 0.1).abs() < 1e-12);
        assert!((at(15).multiplier - (0.1 + 0.9 * 0.5)).abs() < 1e-12);
        assert!((at(29).multiplier - (0.1 + 0.9 * 29.0 / 30.0)).abs() < 1e-12);
    }

    #[test]
    fn stage_boundaries() {
        assert_eq!(at(29).stage, LifecycleStage::Intro);
        assert_eq!(at(30).stage, LifecycleStage::Growth);
        assert_eq!(at(89).stage, LifecycleStage::Growth);
        assert_eq!(at(90).stage, LifecycleStage::Maturity);
        assert_eq!(at(269).stage, LifecycleStage::Maturity);
        assert_eq!(at(270).stage, LifecycleStage::Decline);
        assert_eq!(at(30).multiplier, 1.0);
        assert_eq!(at(269).multiplier, 1.0);
    }

    #[test]
    fn decline_decays_with_the_e_folding_time() {
        assert!((at(270).multiplier - 1.0).abs() < 1e-12);
        assert!((at(360).multiplier - (-1.0f64).exp()).abs() < 1e-12);
        let floored = LifecycleConfig {
            decline_floor: 0.2,
            ..LifecycleConfig::default()
        };
        let launch = d(2024, 1, 1);
        let m = floored.multiplier(Some(launch), None, launch + chrono::Days::new(450));
        assert!((m - (0.2 + 0.8 * (-2.0f64).exp())).abs() < 1e-12);
    }

    #[test]
    fn stage_names() {
        assert_eq!(LifecycleStage::Discontinued.as_str(), "discontinued");
        assert_eq!(
            serde_json::to_value(LifecycleStage::Intro).unwrap(),
            serde_json::json!("intro")
        );
    }
}
