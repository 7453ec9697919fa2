//! Unit and property tests of the feature engine.

use chrono::{Days, NaiveDate};
use proptest::prelude::*;

use super::*;
use crate::{
    frame::{InventoryDay, PromoKind, Promotion, Replenishment, SeriesData},
    SeriesKey,
};

fn day(offset: u64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + Days::new(offset)
}

fn series(target: Vec<f64>) -> SeriesData {
    let n = target.len();
    SeriesData::new(
        SeriesKey {
            store_id: 1,
            product_id: 2,
        },
        (0..n as u64).map(day).collect(),
        target,
        (0..n).map(|i| 10.0 + i as f64).collect(),
    )
}

fn full_spec(lags: Vec<usize>, windows: Vec<usize>, min_periods: Option<usize>) -> FeatureSpec {
    FeatureSpec {
        lag: Some(LagSpec {
            lags,
            fill_value: None,
        }),
        rolling: Some(RollingSpec {
            windows,
            aggregations: vec![
                Aggregation::Mean,
                Aggregation::Std,
                Aggregation::Min,
                Aggregation::Max,
                Aggregation::Sum,
            ],
            min_periods,
        }),
        calendar: Some(CalendarSpec {
            day_of_week: true,
            month: true,
            quarter: true,
            year: true,
            is_weekend: true,
            is_month_end: true,
            is_holiday: true,
            cyclical: true,
        }),
        exogenous: Some(ExogenousSpec {
            include_price: true,
            price_lags: vec![1, 7],
            include_price_change: true,
            include_promo: true,
            include_inventory: true,
            include_stockout_flag: true,
        }),
        lifecycle: Some(LifecycleSpec {
            include_days_since_launch: true,
            include_days_since_discontinue: true,
            lag_days: 1,
        }),
        replenishment: Some(ReplenishmentSpec {
            include_days_since_last: true,
            include_count_window: true,
            lag_days: 2,
            count_window_days: 7,
        }),
        promotion: Some(PromotionSpec {
            kinds: vec![PromoKind::Markdown, PromoKind::Bogo],
            include_active: true,
            include_intensity: true,
            lag_days: 1,
        }),
        imputation: Vec::new(),
    }
}

fn same(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b
}

#[test]
fn groups_register_in_pipeline_order() {
    let names: Vec<&str> = feature_groups().iter().map(|g| g.name).collect();
    assert_eq!(
        names,
        [
            "lags",
            "rolling",
            "calendar",
            "exogenous",
            "lifecycle",
            "promotion",
            "replenishment"
        ]
    );
    assert!(feature_group("rolling").is_some());
}

#[test]
fn lags_and_rolling_hand_checked() {
    let data = series(vec![1.0, 2.0, 4.0, 8.0, 16.0]);
    let spec = FeatureSpec {
        lag: Some(LagSpec {
            lags: vec![1, 2],
            fill_value: None,
        }),
        rolling: Some(RollingSpec {
            windows: vec![2],
            aggregations: vec![Aggregation::Mean, Aggregation::Std, Aggregation::Sum],
            min_periods: None,
        }),
        ..FeatureSpec::default()
    };
    let table = compute(&spec, &data).unwrap();
    assert_eq!(
        table.column_names(),
        [
            "lag_1",
            "lag_2",
            "rolling_mean_2",
            "rolling_std_2",
            "rolling_sum_2"
        ]
    );
    let lag1 = table.column("lag_1").unwrap();
    assert!(lag1[0].is_nan());
    assert_eq!(&lag1[1..], &[1.0, 2.0, 4.0, 8.0]);
    let mean = table.column("rolling_mean_2").unwrap();
    // Row i averages rows i−2, i−1; the first value exists at row 2.
    assert!(mean[0].is_nan() && mean[1].is_nan());
    assert_eq!(&mean[2..], &[1.5, 3.0, 6.0]);
    let std = table.column("rolling_std_2").unwrap();
    assert!((std[2] - 0.5f64.sqrt()).abs() < 1e-12);
    assert!((std[4] - 8.0f64.sqrt()).abs() < 1e-12);
    assert_eq!(table.column("rolling_sum_2").unwrap()[4], 12.0);
    assert_eq!(table.null_counts(), vec![1, 2, 2, 2, 2]);
}

#[test]
fn fill_value_replaces_lag_nans() {
    let spec = FeatureSpec {
        lag: Some(LagSpec {
            lags: vec![2],
            fill_value: Some(-1.0),
        }),
        ..FeatureSpec::default()
    };
    let table = compute(&spec, &series(vec![5.0, 6.0, 7.0])).unwrap();
    assert_eq!(table.values[0], vec![-1.0, -1.0, 5.0]);
}

#[test]
fn calendar_hand_checked() {
    // 2024-01-01 is a Monday; 2024-01-31 a Wednesday and a month end.
    let mut data = series(vec![0.0; 31]);
    data.holidays = vec![day(0)];
    let spec = FeatureSpec {
        calendar: Some(CalendarSpec {
            day_of_week: true,
            month: true,
            quarter: true,
            year: true,
            is_weekend: true,
            is_month_end: true,
            is_holiday: true,
            cyclical: false,
        }),
        ..FeatureSpec::default()
    };
    let table = compute(&spec, &data).unwrap();
    assert_eq!(
        table.column_names(),
        [
            "day_of_week",
            "month",
            "quarter",
            "year",
            "is_weekend",
            "is_month_end",
            "is_holiday"
        ]
    );
    assert_eq!(
        table.column("day_of_week").unwrap()[..7],
        [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    );
    assert_eq!(table.column("is_weekend").unwrap()[5..7], [1.0, 1.0]);
    assert_eq!(table.column("is_month_end").unwrap()[30], 1.0);
    assert_eq!(table.column("is_month_end").unwrap()[29], 0.0);
    assert_eq!(table.column("is_holiday").unwrap()[..2], [1.0, 0.0]);
    assert_eq!(table.column("quarter").unwrap()[0], 1.0);
    assert_eq!(table.column("year").unwrap()[0], 2024.0);
}

#[test]
fn promotion_inventory_and_replenishment_from_side_tables() {
    let mut data = series(vec![1.0; 6]);
    data.promotions = vec![
        Promotion {
            start: day(1),
            end: day(2),
            kind: PromoKind::Markdown,
            discount_pct: Some(0.2),
        },
        Promotion {
            start: day(2),
            end: day(2),
            kind: PromoKind::Markdown,
            discount_pct: Some(0.3),
        },
    ];
    data.inventory = vec![
        InventoryDay {
            date: day(1),
            on_hand: 5.0,
            is_stockout: false,
        },
        InventoryDay {
            date: day(2),
            on_hand: 0.0,
            is_stockout: true,
        },
    ];
    data.replenishments = vec![Replenishment {
        date: day(2),
        received_qty: 10.0,
    }];
    let spec = FeatureSpec {
        exogenous: Some(ExogenousSpec {
            include_price: false,
            price_lags: vec![],
            include_price_change: false,
            include_promo: true,
            include_inventory: true,
            include_stockout_flag: true,
        }),
        replenishment: Some(ReplenishmentSpec {
            include_days_since_last: true,
            include_count_window: true,
            lag_days: 1,
            count_window_days: 7,
        }),
        promotion: Some(PromotionSpec {
            kinds: vec![PromoKind::Markdown],
            include_active: true,
            include_intensity: true,
            lag_days: 1,
        }),
        ..FeatureSpec::default()
    };
    let table = compute(&spec, &data).unwrap();
    assert_eq!(
        table.column_names(),
        [
            "promo_active",
            "inventory_on_hand_lag_1",
            "stockout_lag_1",
            "promo_markdown_active_lag1",
            "promo_markdown_intensity_lag1",
            "days_since_last_replenishment_lag1",
            "replenishment_count_w7_lag1",
        ]
    );
    assert_eq!(
        table.column("promo_active").unwrap(),
        &[0.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    );
    let on_hand = table.column("inventory_on_hand_lag_1").unwrap();
    assert!(on_hand[0].is_nan() && on_hand[1].is_nan());
    assert_eq!(on_hand[2..4], [5.0, 0.0]);
    let stockout = table.column("stockout_lag_1").unwrap();
    assert_eq!(stockout[1..], [0.0, 0.0, 1.0, 0.0, 0.0]);
    let active = table.column("promo_markdown_active_lag1").unwrap();
    assert!(active[0].is_nan());
    assert_eq!(active[1..], [0.0, 1.0, 1.0, 0.0, 0.0]);
    let intensity = table.column("promo_markdown_intensity_lag1").unwrap();
    assert_eq!(intensity[2], 0.2);
    assert_eq!(intensity[3], 0.3);
    assert!(intensity[4].is_nan());
    let since = table.column("days_since_last_replenishment_lag1").unwrap();
    assert!(since[2].is_nan());
    assert_eq!(since[3..], [0.0, 1.0, 2.0]);
    assert_eq!(
        table.column("replenishment_count_w7_lag1").unwrap(),
        &[0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    );
}

#[test]
fn limits_name_the_setting() {
    let spec = full_spec(vec![1, 400], vec![7, 91], None);
    let violations = spec.check_limits(&FeatureLimits::default());
    assert_eq!(violations.len(), 2);
    assert_eq!(violations[0].setting, "FEATURE_MAX_LAG");
    assert_eq!(violations[0].field, "config.lag_config.lags.1");
    assert_eq!(violations[1].setting, "FEATURE_MAX_WINDOW");
    assert!(violations[1].message().contains("FEATURE_MAX_WINDOW=90"));
}

#[test]
fn many_series_match_one_by_one() {
    let spec = full_spec(vec![1, 7], vec![3], None);
    let all: Vec<SeriesData> = (0..8)
        .map(|s| series((0..40).map(|i| ((i * 7 + s * 3) % 11) as f64).collect()))
        .collect();
    let many = compute_many(&spec, &all).unwrap();
    assert_eq!(many.len(), all.len());
    for (one, table) in all.iter().zip(&many) {
        let single = compute(&spec, one).unwrap();
        assert_eq!(single.columns, table.columns);
        assert_eq!(single.dates, table.dates);
        let equal = single
            .values
            .iter()
            .flatten()
            .zip(table.values.iter().flatten())
            .all(|(a, b)| same(*a, *b));
        assert!(equal, "parallel result differs for {:?}", one.key);
    }
}

fn side_tables(data: &mut SeriesData) {
    let n = data.len() as u64;
    data.launch_date = Some(day(0));
    data.discontinue_date = Some(day(n / 2));
    data.holidays = (0..n).step_by(9).map(day).collect();
    data.promotions = vec![Promotion {
        start: day(3),
        end: day(9),
        kind: PromoKind::Bogo,
        discount_pct: Some(0.5),
    }];
    data.inventory = (0..n)
        .step_by(2)
        .map(|i| InventoryDay {
            date: day(i),
            on_hand: i as f64,
            is_stockout: i % 4 == 0,
        })
        .collect();
    data.replenishments = (0..n)
        .step_by(5)
        .map(|i| Replenishment {
            date: day(i),
            received_qty: 3.0,
        })
        .collect();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Time safety: perturbing every target at or after row t changes no
    /// feature at row t or before, for random series, lags and windows.
    #[test]
    fn no_feature_reads_the_present_or_future_target(
        values in prop::collection::vec(0.0f64..100.0, 1..120),
        lags in prop::collection::vec(1usize..40, 1..5),
        windows in prop::collection::vec(1usize..30, 1..4),
        min_periods in prop::option::of(1usize..3),
        t_frac in 0.0f64..1.0,
        noise in prop::collection::vec(-50.0f64..50.0, 120),
    ) {
        let n = values.len();
        let t = ((n as f64) * t_frac) as usize % n;
        let mut original = series(values.clone());
        side_tables(&mut original);
        let mut perturbed = original.clone();
        for (value, delta) in perturbed.target.iter_mut().zip(&noise).skip(t) {
            *value += delta + 1.0;
        }
        let min_periods = min_periods.map(|m| m.min(*windows.iter().min().unwrap()));
        let spec = full_spec(lags, windows, min_periods);
        let a = compute(&spec, &original).unwrap();
        let b = compute(&spec, &perturbed).unwrap();
        for (column, (x, y)) in a.columns.iter().zip(a.values.iter().zip(&b.values)) {
            for row in 0..=t {
                prop_assert!(same(x[row], y[row]), "{} changed at row {} (t = {})", column.name, row, t);
            }
        }
    }
}
