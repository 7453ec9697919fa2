//! `exogenous`: price lags and change, and (fed from the real tables) the
//! same-day promotion flag, previous-day on-hand units and stockout flag.

use super::{
    engine::FeatureColumn, kernels::lag_into, FeatureGroup, FeatureGroupRegistration, FeatureSpec,
};
use crate::{frame::SeriesData, CoreError};

/// Price / promotion / inventory columns.
#[derive(Debug, Default)]
pub(crate) struct Exogenous;

impl FeatureGroup for Exogenous {
    fn name(&self) -> &'static str {
        "exogenous"
    }

    fn description(&self) -> &'static str {
        "price_lag_{k}, price_pct_change_7d, promo_active (promotion table), \
         inventory_on_hand_lag_1 and stockout_lag_1 (inventory snapshots)"
    }

    fn columns(&self, spec: &FeatureSpec) -> Vec<FeatureColumn> {
        let Some(e) = &spec.exogenous else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if e.include_price {
            out.extend(
                e.price_lags
                    .iter()
                    .map(|k| FeatureColumn::float(format!("price_lag_{k}"))),
            );
        }
        if e.include_price_change {
            out.push(FeatureColumn::float("price_pct_change_7d"));
        }
        if e.include_promo {
            out.push(FeatureColumn::int("promo_active"));
        }
        if e.include_inventory {
            out.push(FeatureColumn::float("inventory_on_hand_lag_1"));
        }
        if e.include_stockout_flag {
            out.push(FeatureColumn::int("stockout_lag_1"));
        }
        out
    }

    fn compute(
        &self,
        spec: &FeatureSpec,
        series: &SeriesData,
        out: &mut [Vec<f64>],
    ) -> Result<(), CoreError> {
        let Some(e) = &spec.exogenous else {
            return Ok(());
        };
        let n = series.len();
        let mut columns = out.iter_mut();
        if e.include_price {
            for k in &e.price_lags {
                if let Some(column) = columns.next() {
                    lag_into(&series.price, *k, column);
                }
            }
        }
        if e.include_price_change {
            if let Some(column) = columns.next() {
                // Interior NaN prices are forward-filled first (pandas' default).
                let mut filled = series.price.clone();
                let mut last = f64::NAN;
                for value in &mut filled {
                    if value.is_nan() {
                        *value = last;
                    } else {
                        last = *value;
                    }
                }
                for i in 0..n {
                    column[i] = if i >= 8 {
                        filled[i - 1] / filled[i - 8] - 1.0
                    } else {
                        f64::NAN
                    };
                }
            }
        }
        if e.include_promo {
            if let Some(column) = columns.next() {
                for (value, date) in column.iter_mut().zip(&series.dates) {
                    *value = if series.promotions_on(*date).next().is_some() {
                        1.0
                    } else {
                        0.0
                    };
                }
            }
        }
        if e.include_inventory {
            if let Some(column) = columns.next() {
                for (value, previous) in column.iter_mut().skip(1).zip(&series.dates) {
                    *value = series
                        .inventory_on(*previous)
                        .map_or(f64::NAN, |day| day.on_hand);
                }
            }
        }
        if e.include_stockout_flag {
            if let Some(column) = columns.next() {
                for (value, previous) in column.iter_mut().skip(1).zip(&series.dates) {
                    *value = match series.inventory_on(*previous) {
                        Some(day) if day.is_stockout => 1.0,
                        _ => 0.0,
                    };
                }
            }
        }
        Ok(())
    }
}

inventory::submit! {
    FeatureGroupRegistration { name: "exogenous", order: 40, build: || Box::new(Exogenous) }
}
