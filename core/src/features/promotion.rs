//! `promotion`: per promotion kind, whether one was active and its largest
//! discount, N rows earlier (fed from the promotion table).

use super::{
    kernels::lag_from,
    plan::{Plan, Planned, PlannedGroup},
    FeatureGroupRegistration, FeatureSpec, PromotionSpec,
};
use crate::frame::{PromoKind, SeriesData};

/// Promotion columns.
#[derive(Debug)]
pub(crate) struct Promotions;

/// One promotion column: a kind and what is read of it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Part {
    Active(PromoKind),
    Intensity(PromoKind),
}

impl PlannedGroup for Promotions {
    const NAME: &'static str = "promotion";
    const DESCRIPTION: &'static str =
        "promo_{kind}_active_lag{N}, promo_{kind}_intensity_lag{N} from the promotion table";
    type Section = PromotionSpec;
    type Part = Part;

    fn section(spec: &FeatureSpec) -> Option<&PromotionSpec> {
        spec.promotion.as_ref()
    }

    fn plan(p: &PromotionSpec, plan: &mut Plan<Part>) {
        let mut kinds = p.kinds.clone();
        kinds.sort_by_key(|k| k.as_str());
        kinds.dedup();
        let lag = p.lag_days;
        for kind in kinds {
            let name = kind.as_str();
            plan.int(
                p.include_active,
                Part::Active(kind),
                format!("promo_{name}_active_lag{lag}"),
            );
            plan.float(
                p.include_intensity,
                Part::Intensity(kind),
                format!("promo_{name}_intensity_lag{lag}"),
            );
        }
    }

    fn fill<'a>(
        p: &PromotionSpec,
        series: &SeriesData,
        columns: impl Iterator<Item = (Part, &'a mut [f64])>,
    ) {
        let of_kind = |i: usize, kind: PromoKind| {
            series
                .promotions_on(series.dates[i])
                .filter(move |promotion| promotion.kind == kind)
        };
        for (part, column) in columns {
            match part {
                Part::Active(kind) => lag_from(p.lag_days, column, |i| {
                    if of_kind(i, kind).next().is_some() {
                        1.0
                    } else {
                        0.0
                    }
                }),
                // The largest discount of the day; NaN when none is known.
                Part::Intensity(kind) => lag_from(p.lag_days, column, |i| {
                    of_kind(i, kind)
                        .filter_map(|promotion| promotion.discount_pct)
                        .fold(f64::NAN, |largest, discount| {
                            if largest.is_nan() || discount > largest {
                                discount
                            } else {
                                largest
                            }
                        })
                }),
            }
        }
    }
}

inventory::submit! {
    FeatureGroupRegistration { name: "promotion", order: 60, build: Planned::<Promotions>::boxed }
}
