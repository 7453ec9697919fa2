//! Feature groups: named, time-safe blocks of feature columns, and the
//! engine that runs them over many series at once.
//!
//! Each group (lags, rolling statistics, calendar, price/promotion/
//! exogenous, lifecycle, promotion, replenishment) is a [`FeatureGroup`]
//! registered with `inventory::submit!`; the engine runs the enabled groups
//! in their registered order on one series' contiguous slices, and runs
//! series in parallel with rayon. Groups made of optional columns declare
//! each column once, with the part that computes it (`plan`).
//!
//! Time safety: a feature at row `i` (date `t`) never reads a target of a
//! row at or after `i`: lags shift first, rolling windows are taken over the
//! one-row-shifted target, everything is computed per series, and rows after
//! the cutoff are dropped before any feature work.

mod calendar;
mod engine;
mod exogenous;
mod imputation;
pub mod kernels;
mod lags;
mod lifecycle;
mod plan;
mod promotion;
mod replenishment;
mod rolling;
pub mod spec;
#[cfg(test)]
mod tests;

use std::fmt::Debug;

use crate::{frame::SeriesData, CoreError};

pub use engine::{compute, compute_many, ColumnKind, FeatureColumn, FeatureTable};
pub use spec::{
    Aggregation, CalendarSpec, ExogenousSpec, FeatureLimits, FeatureSpec, Imputation,
    ImputedColumn, LagSpec, LifecycleSpec, LimitViolation, PromotionSpec, ReplenishmentSpec,
    RollingSpec,
};

/// A named block of time-safe feature columns.
pub trait FeatureGroup: Send + Sync + Debug {
    /// Group name (`lags`, `rolling`, `calendar`, …).
    fn name(&self) -> &'static str;

    /// One-line description for API docs and listings.
    fn description(&self) -> &'static str;

    /// The columns this group emits for `spec`, in order (empty when the
    /// group is disabled).
    fn columns(&self, spec: &FeatureSpec) -> Vec<FeatureColumn>;

    /// Computes the group's columns for one series. `out` holds one
    /// NaN-initialised vector of `series.len()` values per column returned
    /// by [`columns`](Self::columns). A value at row `i` must not read a
    /// target of a row `>= i`.
    fn compute(
        &self,
        spec: &FeatureSpec,
        series: &SeriesData,
        out: &mut [Vec<f64>],
    ) -> Result<(), CoreError>;
}

/// A feature group's entry in the registry.
#[derive(Debug)]
pub struct FeatureGroupRegistration {
    /// Group name.
    pub name: &'static str,
    /// Position in the pipeline (§2.4: lag → rolling → calendar →
    /// exogenous → lifecycle → promotion → replenishment); lower runs first.
    pub order: u32,
    /// Builds the group.
    pub build: fn() -> Box<dyn FeatureGroup>,
}

inventory::collect!(FeatureGroupRegistration);

/// Every feature group linked in, in pipeline order.
pub fn feature_groups() -> Vec<&'static FeatureGroupRegistration> {
    let mut all: Vec<_> = inventory::iter::<FeatureGroupRegistration>
        .into_iter()
        .collect();
    all.sort_by_key(|registration| (registration.order, registration.name));
    all
}

/// The feature group registered under `name`.
pub fn feature_group(name: &str) -> Option<&'static FeatureGroupRegistration> {
    inventory::iter::<FeatureGroupRegistration>
        .into_iter()
        .find(|registration| registration.name == name)
}
