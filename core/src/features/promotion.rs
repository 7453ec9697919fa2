//! `promotion`: per promotion kind, whether one was active and its largest
//! discount, N rows earlier (fed from the promotion table).

use super::{engine::FeatureColumn, FeatureGroup, FeatureGroupRegistration, FeatureSpec};
use crate::{
    frame::{PromoKind, SeriesData},
    CoreError,
};

/// Promotion columns.
#[derive(Debug, Default)]
pub(crate) struct Promotions;

fn kinds(spec: &FeatureSpec) -> Vec<PromoKind> {
    let mut kinds = spec
        .promotion
        .as_ref()
        .map(|p| p.kinds.clone())
        .unwrap_or_default();
    kinds.sort_by_key(|k| k.as_str());
    kinds.dedup();
    kinds
}

impl FeatureGroup for Promotions {
    fn name(&self) -> &'static str {
        "promotion"
    }

    fn description(&self) -> &'static str {
        "promo_{kind}_active_lag{N}, promo_{kind}_intensity_lag{N} from the promotion table"
    }

    fn columns(&self, spec: &FeatureSpec) -> Vec<FeatureColumn> {
        let Some(p) = &spec.promotion else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for kind in kinds(spec) {
            if p.include_active {
                out.push(FeatureColumn::int(format!(
                    "promo_{}_active_lag{}",
                    kind.as_str(),
                    p.lag_days
                )));
            }
            if p.include_intensity {
                out.push(FeatureColumn::float(format!(
                    "promo_{}_intensity_lag{}",
                    kind.as_str(),
                    p.lag_days
                )));
            }
        }
        out
    }

    fn compute(
        &self,
        spec: &FeatureSpec,
        series: &SeriesData,
        out: &mut [Vec<f64>],
    ) -> Result<(), CoreError> {
        let Some(p) = &spec.promotion else {
            return Ok(());
        };
        let n = series.len();
        let mut columns = out.iter_mut();
        for kind in kinds(spec) {
            let mut active = vec![0.0; n];
            let mut intensity = vec![f64::NAN; n];
            for (i, date) in series.dates.iter().enumerate() {
                for promotion in series.promotions_on(*date).filter(|p| p.kind == kind) {
                    active[i] = 1.0;
                    if let Some(discount) = promotion.discount_pct {
                        if intensity[i].is_nan() || discount > intensity[i] {
                            intensity[i] = discount;
                        }
                    }
                }
            }
            for (include, daily) in [
                (p.include_active, &active),
                (p.include_intensity, &intensity),
            ] {
                if include {
                    if let Some(column) = columns.next() {
                        super::kernels::lag_into(daily, p.lag_days, column);
                    }
                }
            }
        }
        Ok(())
    }
}

inventory::submit! {
    FeatureGroupRegistration { name: "promotion", order: 60, build: || Box::new(Promotions) }
}
