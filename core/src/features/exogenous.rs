//! `exogenous`: price lags and change, and (fed from the real tables) the
//! same-day promotion flag, previous-day on-hand units and stockout flag.

use super::{
    kernels::{forward_fill, lag_from, lag_into},
    plan::{Plan, Planned, PlannedGroup},
    ExogenousSpec, FeatureGroupRegistration, FeatureSpec,
};
use crate::frame::SeriesData;

/// Price / promotion / inventory columns.
#[derive(Debug)]
pub(crate) struct Exogenous;

/// One exogenous column.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Part {
    PriceLag(usize),
    PriceChange,
    Promo,
    Inventory,
    Stockout,
}

impl PlannedGroup for Exogenous {
    const NAME: &'static str = "exogenous";
    const DESCRIPTION: &'static str =
        "price_lag_{k}, price_pct_change_7d, promo_active (promotion table), \
         inventory_on_hand_lag_1 and stockout_lag_1 (inventory snapshots)";
    type Section = ExogenousSpec;
    type Part = Part;

    fn section(spec: &FeatureSpec) -> Option<&ExogenousSpec> {
        spec.exogenous.as_ref()
    }

    fn plan(e: &ExogenousSpec, plan: &mut Plan<Part>) {
        for k in &e.price_lags {
            plan.float(
                e.include_price,
                Part::PriceLag(*k),
                format!("price_lag_{k}"),
            );
        }
        plan.float(
            e.include_price_change,
            Part::PriceChange,
            "price_pct_change_7d",
        );
        plan.int(e.include_promo, Part::Promo, "promo_active");
        plan.float(
            e.include_inventory,
            Part::Inventory,
            "inventory_on_hand_lag_1",
        );
        plan.int(e.include_stockout_flag, Part::Stockout, "stockout_lag_1");
    }

    fn fill<'a>(
        _: &ExogenousSpec,
        series: &SeriesData,
        columns: impl Iterator<Item = (Part, &'a mut [f64])>,
    ) {
        for (part, column) in columns {
            match part {
                Part::PriceLag(k) => lag_into(&series.price, k, column),
                Part::PriceChange => {
                    // Interior NaN prices are forward-filled first (pandas' default).
                    let mut filled = series.price.clone();
                    forward_fill(&mut filled);
                    for (i, value) in column.iter_mut().enumerate() {
                        *value = if i >= 8 {
                            filled[i - 1] / filled[i - 8] - 1.0
                        } else {
                            f64::NAN
                        };
                    }
                }
                Part::Promo => {
                    for (value, date) in column.iter_mut().zip(&series.dates) {
                        *value = if series.promotions_on(*date).next().is_some() {
                            1.0
                        } else {
                            0.0
                        };
                    }
                }
                Part::Inventory => lag_from(1, column, |i| {
                    series
                        .inventory_on(series.dates[i])
                        .map_or(f64::NAN, |day| day.on_hand)
                }),
                Part::Stockout => {
                    lag_from(1, column, |i| match series.inventory_on(series.dates[i]) {
                        Some(day) if day.is_stockout => 1.0,
                        _ => 0.0,
                    })
                }
            }
        }
    }
}

inventory::submit! {
    FeatureGroupRegistration { name: "exogenous", order: 40, build: Planned::<Exogenous>::boxed }
}
