//! Feature groups: named, time-safe blocks of feature columns.
//!
//! A feature group computes its columns for one series from values known at
//! or before each row's date; the engine runs groups over many series in
//! parallel.

use std::fmt::Debug;

/// A named block of time-safe feature columns.
pub trait FeatureGroup: Send + Sync + Debug {
    /// Group name (`lags`, `rolling`, `calendar`, …).
    fn name(&self) -> &'static str;

    /// One-line description for API docs and listings.
    fn description(&self) -> &'static str;
}

/// A feature group's entry in the registry.
#[derive(Debug)]
pub struct FeatureGroupRegistration {
    /// Group name.
    pub name: &'static str,
    /// Builds the group.
    pub build: fn() -> Box<dyn FeatureGroup>,
}

inventory::collect!(FeatureGroupRegistration);

/// Every feature group linked in, sorted by name.
pub fn feature_groups() -> Vec<&'static FeatureGroupRegistration> {
    let mut all: Vec<_> = inventory::iter::<FeatureGroupRegistration>
        .into_iter()
        .collect();
    all.sort_by_key(|registration| registration.name);
    all
}

/// The feature group registered under `name`.
pub fn feature_group(name: &str) -> Option<&'static FeatureGroupRegistration> {
    inventory::iter::<FeatureGroupRegistration>
        .into_iter()
        .find(|registration| registration.name == name)
}
