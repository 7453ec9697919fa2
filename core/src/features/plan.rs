//! Groups made of optional columns. A [`PlannedGroup`] lists once, in
//! order, the columns its section of the spec switches on, each with the
//! part that computes it; [`Planned`] turns it into a [`FeatureGroup`] whose
//! `columns` and `compute` both walk that one list, so the names and the
//! values cannot fall out of step.

use std::{fmt::Debug, marker::PhantomData};

use super::{engine::FeatureColumn, FeatureGroup, FeatureSpec};
use crate::{frame::SeriesData, CoreError};

/// The enabled columns of a group, in output order, each with its part.
#[derive(Debug)]
pub(super) struct Plan<P> {
    entries: Vec<(P, FeatureColumn)>,
}

impl<P> Plan<P> {
    /// Adds a float column computed by `part` when `on`.
    pub(super) fn float(&mut self, on: bool, part: P, name: impl Into<String>) {
        if on {
            self.entries.push((part, FeatureColumn::float(name)));
        }
    }

    /// Adds an integer-valued column computed by `part` when `on`.
    pub(super) fn int(&mut self, on: bool, part: P, name: impl Into<String>) {
        if on {
            self.entries.push((part, FeatureColumn::int(name)));
        }
    }
}

/// A feature group whose section of the spec switches its columns on one
/// by one.
pub(super) trait PlannedGroup: Debug + Send + Sync {
    /// Group name (`calendar`, …).
    const NAME: &'static str;
    /// One-line description for API docs and listings.
    const DESCRIPTION: &'static str;
    /// The group's section of the spec.
    type Section;
    /// What computes one column.
    type Part;

    /// The group's section of `spec`; `None` disables the group.
    fn section(spec: &FeatureSpec) -> Option<&Self::Section>;

    /// Adds the enabled columns of `section` to `plan`, in output order.
    fn plan(section: &Self::Section, plan: &mut Plan<Self::Part>);

    /// Computes each planned column of one series into its NaN-initialised
    /// output. A value at row `i` must not read a target of a row `>= i`.
    fn fill<'a>(
        section: &Self::Section,
        series: &SeriesData,
        columns: impl Iterator<Item = (Self::Part, &'a mut [f64])>,
    );
}

/// Makes a [`PlannedGroup`] a [`FeatureGroup`].
#[derive(Debug)]
pub(super) struct Planned<G>(PhantomData<G>);

impl<G: PlannedGroup> Planned<G> {
    /// The group, boxed for its registration's `build`.
    pub(super) fn boxed() -> Box<dyn FeatureGroup>
    where
        G: 'static,
    {
        Box::new(Self(PhantomData))
    }
}

fn plan_of<G: PlannedGroup>(section: &G::Section) -> Plan<G::Part> {
    let mut plan = Plan {
        entries: Vec::new(),
    };
    G::plan(section, &mut plan);
    plan
}

impl<G: PlannedGroup> FeatureGroup for Planned<G> {
    fn name(&self) -> &'static str {
        G::NAME
    }

    fn description(&self) -> &'static str {
        G::DESCRIPTION
    }

    fn columns(&self, spec: &FeatureSpec) -> Vec<FeatureColumn> {
        G::section(spec).map_or_else(Vec::new, |section| {
            plan_of::<G>(section)
                .entries
                .into_iter()
                .map(|(_, column)| column)
                .collect()
        })
    }

    fn compute(
        &self,
        spec: &FeatureSpec,
        series: &SeriesData,
        out: &mut [Vec<f64>],
    ) -> Result<(), CoreError> {
        if let Some(section) = G::section(spec) {
            let parts = plan_of::<G>(section).entries.into_iter().map(|(p, _)| p);
            G::fill(
                section,
                series,
                parts.zip(out.iter_mut().map(Vec::as_mut_slice)),
            );
        }
        Ok(())
    }
}
