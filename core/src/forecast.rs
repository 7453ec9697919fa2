//! Forecast output: point values plus an optional prediction interval.

use serde::{Deserialize, Serialize};

/// A two-sided prediction interval at a nominal coverage level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionInterval {
    /// Nominal coverage in (0, 1), e.g. 0.8 or 0.95.
    pub level: f64,
    /// Lower bound per horizon step.
    pub lower: Vec<f64>,
    /// Upper bound per horizon step.
    pub upper: Vec<f64>,
}

/// A forecast over a horizon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// Point forecast per horizon step (step 1 first).
    pub point: Vec<f64>,
    /// Prediction interval, when one was requested.
    pub interval: Option<PredictionInterval>,
}

impl Forecast {
    /// A forecast without an interval.
    pub fn point(point: Vec<f64>) -> Self {
        Self {
            point,
            interval: None,
        }
    }

    /// Number of horizon steps.
    pub fn horizon(&self) -> usize {
        self.point.len()
    }
}
