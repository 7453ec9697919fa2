//! Feature frames for feature-aware models (V1 and V2): the fixed column
//! lists, the training matrix, the future rows of a forecast and the
//! metadata a fitted feature-aware model carries in its artifact.
//!
//! Time safety: a feature of row `i` reads targets of rows `< i` only. For a
//! forecast from origin `T`, the future rows are built on a timeline made of
//! the stored history tail (targets ≤ `T`) followed by the horizon days whose
//! targets are unknown. Two multi-step strategies exist
//! ([`MultiStepStrategy`]):
//!
//! * `Direct` — "origin-fixed, NaN-where-future": one matrix for the whole
//!   horizon, every cell that would need a target after `T` is NaN.
//! * `Recursive` — step by step: the unknown targets of earlier horizon
//!   steps are filled with the model's own predictions, never with actuals.
//!
//! Future calendar values come from the date; future prices, promotions and
//! exogenous values from [`FutureInputs`] (§4.8: `price_history` / promotion
//! rows valid in the future window, else the last known value).

mod build;
mod future;
pub mod input;
#[cfg(test)]
mod tests;

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{CoreError, FeatureMatrix, FittedModel, Forecast};

pub(crate) use build::is_month_end;
pub use future::FutureInputs;
pub use input::{
    baseline_price, ExogenousSeries, InventoryDay, PriceWindow, PromoKind, Promotion,
    Replenishment, ReturnDay, SeriesData,
};

/// The 14 V1 columns in their fixed order (§3.3).
pub const V1_COLUMNS: [&str; 14] = [
    "lag_1",
    "lag_7",
    "lag_14",
    "lag_28",
    "dow_sin",
    "dow_cos",
    "month_sin",
    "month_cos",
    "is_weekend",
    "is_month_end",
    "price_factor",
    "promo_active",
    "is_holiday",
    "days_since_launch",
];

/// History tail kept for V1 bundles.
pub const V1_HISTORY_TAIL: usize = 90;
/// History tail kept for V2 bundles.
pub const V2_HISTORY_TAIL: usize = 400;
/// Fewest training rows a feature-aware model accepts.
pub const MIN_TRAINING_ROWS: usize = 30;

/// The V2 feature groups in canonical order (§3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrameGroup {
    /// Lags and same-weekday means of the target.
    TargetHistory,
    /// Calendar encodings and holidays.
    Calendar,
    /// Rolling statistics of the target.
    Rolling,
    /// Slopes and ratios of the target.
    Trend,
    /// Price factor and promotions.
    PricePromo,
    /// Stockouts and on-hand availability.
    Inventory,
    /// Launch / discontinue.
    Lifecycle,
    /// Replenishment events.
    Replenishment,
    /// Returns.
    Returns,
    /// Weather signals.
    ExogenousWeather,
    /// Macro signals.
    ExogenousMacro,
}

impl FrameGroup {
    /// Every group in canonical order.
    pub const ALL: [FrameGroup; 11] = [
        Self::TargetHistory,
        Self::Calendar,
        Self::Rolling,
        Self::Trend,
        Self::PricePromo,
        Self::Inventory,
        Self::Lifecycle,
        Self::Replenishment,
        Self::Returns,
        Self::ExogenousWeather,
        Self::ExogenousMacro,
    ];

    /// Groups used when a V2 request names none.
    pub const DEFAULT: [FrameGroup; 6] = [
        Self::TargetHistory,
        Self::Calendar,
        Self::Rolling,
        Self::Trend,
        Self::PricePromo,
        Self::Lifecycle,
    ];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TargetHistory => "target_history",
            Self::Calendar => "calendar",
            Self::Rolling => "rolling",
            Self::Trend => "trend",
            Self::PricePromo => "price_promo",
            Self::Inventory => "inventory",
            Self::Lifecycle => "lifecycle",
            Self::Replenishment => "replenishment",
            Self::Returns => "returns",
            Self::ExogenousWeather => "exogenous_weather",
            Self::ExogenousMacro => "exogenous_macro",
        }
    }

    /// Parses a wire name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|group| group.as_str() == name)
    }

    /// The group's columns in order.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Self::TargetHistory => &[
                "lag_1",
                "lag_7",
                "lag_14",
                "lag_28",
                "lag_56",
                "lag_364",
                "same_dow_mean_4",
                "same_dow_mean_8",
            ],
            Self::Calendar => &[
                "dow_sin",
                "dow_cos",
                "month_sin",
                "month_cos",
                "is_weekend",
                "is_month_end",
                "week_of_year_sin",
                "week_of_year_cos",
                "day_of_month_sin",
                "day_of_month_cos",
                "is_holiday",
            ],
            Self::Rolling => &[
                "rolling_mean_7",
                "rolling_mean_28",
                "rolling_mean_90",
                "rolling_median_28",
                "rolling_std_28",
            ],
            Self::Trend => &[
                "trend_30",
                "trend_90",
                "rolling_mean_7_vs_28",
                "rolling_mean_28_vs_prev_28",
            ],
            Self::PricePromo => &[
                "price_factor",
                "promo_active",
                "promo_discount_pct",
                "promo_kind_markdown_active",
                "promo_kind_bundle_active",
            ],
            Self::Inventory => &[
                "is_stockout_lag1",
                "stockout_days_7",
                "stockout_days_28",
                "inventory_available_ratio_28",
            ],
            Self::Lifecycle => &[
                "days_since_launch",
                "is_new_product",
                "is_mature_product",
                "is_discontinued",
                "days_until_discontinue",
            ],
            Self::Replenishment => &[
                "days_since_last_replenishment",
                "replenishment_count_14",
                "replenishment_qty_28",
            ],
            Self::Returns => &["returns_qty_7", "returns_qty_28", "returns_rate_28"],
            Self::ExogenousWeather => &["exo_weather_temp_c", "exo_weather_precip_mm"],
            Self::ExogenousMacro => &["exo_macro_index"],
        }
    }

    /// Safety class of the group's columns (§3.4).
    pub fn safety(self) -> SafetyClass {
        match self {
            Self::Calendar | Self::Lifecycle => SafetyClass::Safe,
            Self::PricePromo => SafetyClass::UnsafeUnlessSupplied,
            _ => SafetyClass::ConditionallySafe,
        }
    }
}

impl fmt::Display for FrameGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Safety class of a feature column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SafetyClass {
    /// A pure function of the date or of timeless attributes.
    Safe,
    /// Reads only observed values before the row (or the origin).
    ConditionallySafe,
    /// Needs caller-supplied future values (assumptions, recorded inputs).
    UnsafeUnlessSupplied,
}

/// Which feature frame a feature-aware model trains and predicts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameSpec {
    /// 1 or 2.
    pub version: u8,
    /// V2 groups in canonical order (empty for V1).
    pub groups: Vec<FrameGroup>,
}

impl FrameSpec {
    /// The V1 frame.
    pub fn v1() -> Self {
        Self {
            version: 1,
            groups: Vec::new(),
        }
    }

    /// The V2 frame with the given groups (deduplicated, canonical order) or
    /// the defaults when `None`. An empty list or an unknown name is an
    /// [`CoreError::InvalidConfig`].
    pub fn v2(groups: Option<&[String]>) -> Result<Self, CoreError> {
        let groups = match groups {
            None => FrameGroup::DEFAULT.to_vec(),
            Some(names) => {
                if names.is_empty() {
                    return Err(CoreError::config(
                        "feature_groups must name at least one group",
                    ));
                }
                let mut parsed = Vec::with_capacity(names.len());
                for name in names {
                    let group = FrameGroup::parse(name).ok_or_else(|| {
                        CoreError::config(format!(
                            "unknown feature group '{name}'; known groups: {}",
                            FrameGroup::ALL.map(FrameGroup::as_str).join(", ")
                        ))
                    })?;
                    parsed.push(group);
                }
                parsed.sort();
                parsed.dedup();
                parsed
            }
        };
        Ok(Self { version: 2, groups })
    }

    /// The frame a train request selects: version 1 (groups must be absent)
    /// or 2.
    pub fn from_request(version: u8, groups: Option<&[String]>) -> Result<Self, CoreError> {
        match version {
            1 if groups.is_some() => Err(CoreError::config(
                "feature_groups requires feature_frame_version 2",
            )),
            1 => Ok(Self::v1()),
            2 => Self::v2(groups),
            other => Err(CoreError::config(format!(
                "feature_frame_version must be 1 or 2, got {other}"
            ))),
        }
    }

    /// Column names in order.
    pub fn columns(&self) -> Vec<String> {
        if self.version == 1 {
            V1_COLUMNS.iter().map(|c| (*c).to_owned()).collect()
        } else {
            self.groups
                .iter()
                .flat_map(|g| g.columns().iter().map(|c| (*c).to_owned()))
                .collect()
        }
    }

    /// History tail length stored in the bundle.
    pub fn history_tail_len(&self) -> usize {
        if self.version == 1 {
            V1_HISTORY_TAIL
        } else {
            V2_HISTORY_TAIL
        }
    }

    /// `{group: [columns]}` for V2, `None` for V1.
    pub fn feature_groups(&self) -> Option<GroupColumns> {
        (self.version == 2).then(|| {
            GroupColumns(
                self.groups
                    .iter()
                    .map(|g| {
                        (
                            g.as_str().to_owned(),
                            g.columns().iter().map(|c| (*c).to_owned()).collect(),
                        )
                    })
                    .collect(),
            )
        })
    }
}

/// `{group: [columns]}` in canonical group order (serialised as a JSON
/// object whose key order is kept).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupColumns(pub Vec<(String, Vec<String>)>);

impl Serialize for GroupColumns {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (group, columns) in &self.0 {
            map.serialize_entry(group, columns)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for GroupColumns {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = GroupColumns;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of group name to column list")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Vec<String>>()? {
                    out.push((key, value));
                }
                Ok(GroupColumns(out))
            }
        }
        deserializer.deserialize_map(Visit)
    }
}

/// How a feature-aware model forecasts more than one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MultiStepStrategy {
    /// Origin-fixed, NaN-where-future (§3.1): one matrix, unknown lags NaN.
    Direct,
    /// Step by step; unknown lags come from earlier predictions.
    Recursive,
}

impl MultiStepStrategy {
    /// The default strategy: the one that was more accurate on the seeded
    /// holdout comparison (see `frame::tests::strategy_comparison`).
    pub const DEFAULT: MultiStepStrategy = MultiStepStrategy::Recursive;

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Recursive => "recursive",
        }
    }
}

impl Default for MultiStepStrategy {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What a fitted feature-aware model carries in its artifact metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureAwareMetadata {
    /// Columns the model was fitted on, in order.
    pub feature_columns: Vec<String>,
    /// Last observed targets (oldest first, last = target at the origin).
    pub history_tail: Vec<f64>,
    /// Dates of `history_tail`.
    pub history_tail_dates: Vec<NaiveDate>,
    /// Product launch date.
    pub launch_date: Option<NaiveDate>,
    /// Product discontinue date (used by V2 lifecycle columns).
    #[serde(default)]
    pub discontinue_date: Option<NaiveDate>,
    /// 1 or 2 (absent = 1).
    #[serde(default = "one")]
    pub feature_frame_version: u8,
    /// V2 only: `{group: [columns]}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_groups: Option<GroupColumns>,
    /// V2 only: `{column: safety class}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_safety_classes: Option<serde_json::Map<String, serde_json::Value>>,
    /// V2 only: the pinned window constants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_pinned_constants: Option<serde_json::Map<String, serde_json::Value>>,
    /// Baseline price of the training window (future prices are divided by
    /// it to give `price_factor`).
    #[serde(default = "one_f64")]
    pub baseline_price: f64,
    /// Last observed unit price (the "last known value" of §4.8).
    #[serde(default)]
    pub last_price: Option<f64>,
}

fn one() -> u8 {
    1
}

fn one_f64() -> f64 {
    1.0
}

impl FeatureAwareMetadata {
    /// The frame the model was fitted on.
    pub fn frame_spec(&self) -> Result<FrameSpec, CoreError> {
        match self.feature_frame_version {
            1 => Ok(FrameSpec::v1()),
            2 => {
                let names: Option<Vec<String>> = self
                    .feature_groups
                    .as_ref()
                    .map(|groups| groups.0.iter().map(|(name, _)| name.clone()).collect());
                FrameSpec::v2(names.as_deref())
            }
            other => Err(CoreError::Artifact(format!(
                "unknown feature_frame_version {other}"
            ))),
        }
    }

    /// Last history date = the forecast origin `T`.
    pub fn origin(&self) -> Option<NaiveDate> {
        self.history_tail_dates.last().copied()
    }
}

/// Pinned V2 constants (§3.4), every value a list of ints.
pub fn pinned_constants() -> serde_json::Map<String, serde_json::Value> {
    let mut map = serde_json::Map::new();
    let pairs: [(&str, &[i64]); 11] = [
        ("exogenous_lags", &[1, 7, 14, 28, 56, 364]),
        ("same_dow_mean_lookbacks", &[4, 8]),
        ("rolling_windows", &[7, 28, 90]),
        ("trend_windows", &[30, 90]),
        ("stockout_windows", &[7, 28]),
        ("replenishment_window", &[14]),
        ("replenishment_qty_window", &[28]),
        ("returns_windows", &[7, 28]),
        ("returns_rate_window", &[28]),
        ("inventory_availability_window", &[28]),
        ("history_tail_days", &[400]),
    ];
    for (key, values) in pairs {
        map.insert(key.to_owned(), serde_json::json!(values));
    }
    map
}

/// A training matrix and its target, row-aligned, plus the metadata to
/// store with the fitted model.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingFrame {
    /// Feature rows (one per target row).
    pub x: FeatureMatrix,
    /// Target per row.
    pub y: Vec<f64>,
    /// Date per row.
    pub dates: Vec<NaiveDate>,
    /// Artifact metadata.
    pub metadata: FeatureAwareMetadata,
}

/// Builds the training matrix of one series. Row `i` of `x` reads targets
/// of rows `< i` only. Fewer than [`MIN_TRAINING_ROWS`] rows is
/// [`CoreError::InsufficientData`].
pub fn build_training_frame(
    spec: &FrameSpec,
    series: &SeriesData,
) -> Result<TrainingFrame, CoreError> {
    series.check()?;
    if series.len() < MIN_TRAINING_ROWS {
        return Err(CoreError::insufficient(
            "a feature-aware model",
            MIN_TRAINING_ROWS,
            series.len(),
        ));
    }
    let columns = spec.columns();
    let timeline = build::Timeline::history(series);
    let x = timeline.matrix(&columns, 0..series.len());
    let tail = spec.history_tail_len().min(series.len());
    let start = series.len() - tail;
    let metadata = FeatureAwareMetadata {
        feature_columns: columns.clone(),
        history_tail: series.target[start..].to_vec(),
        history_tail_dates: series.dates[start..].to_vec(),
        launch_date: series.launch_date,
        discontinue_date: series.discontinue_date,
        feature_frame_version: spec.version,
        feature_groups: spec.feature_groups(),
        feature_safety_classes: (spec.version == 2).then(|| {
            spec.groups
                .iter()
                .flat_map(|g| {
                    g.columns().iter().map(move |c| {
                        (
                            (*c).to_owned(),
                            serde_json::to_value(g.safety()).unwrap_or_default(),
                        )
                    })
                })
                .collect()
        }),
        feature_pinned_constants: (spec.version == 2).then(pinned_constants),
        baseline_price: series.baseline_price(),
        last_price: series.price.iter().rev().copied().find(|p| p.is_finite()),
    };
    Ok(TrainingFrame {
        x,
        y: series.target.clone(),
        dates: series.dates.clone(),
        metadata,
    })
}

/// [`build_training_frame`] for many series at once, in parallel.
pub fn build_training_frames(
    spec: &FrameSpec,
    series: &[SeriesData],
) -> Vec<Result<TrainingFrame, CoreError>> {
    use rayon::prelude::*;
    series
        .par_iter()
        .map(|one| build_training_frame(spec, one))
        .collect()
}

/// The future feature matrix of the `Direct` strategy: one row per horizon
/// day, every cell needing a target after the origin is NaN. Columns are
/// the metadata's `feature_columns` (a column the builder does not know is
/// all-NaN). `history`, when given, supplies observed side data
/// (inventory, returns, replenishment) up to the origin.
pub fn future_frame(
    metadata: &FeatureAwareMetadata,
    future: &FutureInputs,
    history: Option<&SeriesData>,
) -> Result<FeatureMatrix, CoreError> {
    let timeline = build::Timeline::future(metadata, future, history, &[])?;
    let n_tail = metadata.history_tail.len();
    Ok(timeline.matrix(&metadata.feature_columns, n_tail..n_tail + future.len()))
}

/// Forecasts `future.len()` steps after the origin with a fitted
/// feature-aware model, using the chosen multi-step strategy.
pub fn forecast(
    model: &dyn FittedModel,
    metadata: &FeatureAwareMetadata,
    future: &FutureInputs,
    strategy: MultiStepStrategy,
    history: Option<&SeriesData>,
) -> Result<Forecast, CoreError> {
    forecast_with(
        |x| {
            model
                .predict(&crate::PredictRequest {
                    horizon: x.n_rows(),
                    features: Some(x),
                    interval_level: None,
                })
                .map(|f| f.point)
        },
        metadata,
        future,
        strategy,
        history,
    )
}

/// [`forecast`] with any prediction function `x -> one value per row`
/// (used by tests and by callers that hold a model another way).
pub fn forecast_with<P>(
    mut predict: P,
    metadata: &FeatureAwareMetadata,
    future: &FutureInputs,
    strategy: MultiStepStrategy,
    history: Option<&SeriesData>,
) -> Result<Forecast, CoreError>
where
    P: FnMut(&FeatureMatrix) -> Result<Vec<f64>, CoreError>,
{
    let horizon = future.len();
    if horizon == 0 {
        return Ok(Forecast::point(Vec::new()));
    }
    if metadata.history_tail.is_empty() {
        return Err(CoreError::Artifact(
            "the model's metadata holds no history tail".into(),
        ));
    }
    let n_tail = metadata.history_tail.len();
    match strategy {
        MultiStepStrategy::Direct => {
            let x = future_frame(metadata, future, history)?;
            let point = predict(&x)?;
            check_len(&point, horizon)?;
            Ok(Forecast::point(point))
        }
        MultiStepStrategy::Recursive => {
            let mut predictions: Vec<f64> = Vec::with_capacity(horizon);
            for step in 0..horizon {
                let timeline = build::Timeline::future(metadata, future, history, &predictions)?;
                let row = n_tail + step;
                let x = timeline.matrix(&metadata.feature_columns, row..row + 1);
                let value = predict(&x)?;
                check_len(&value, 1)?;
                predictions.push(value[0]);
            }
            Ok(Forecast::point(predictions))
        }
    }
}

fn check_len(values: &[f64], expected: usize) -> Result<(), CoreError> {
    if values.len() == expected {
        Ok(())
    } else {
        Err(CoreError::input(format!(
            "model returned {} predictions for {} rows",
            values.len(),
            expected
        )))
    }
}
