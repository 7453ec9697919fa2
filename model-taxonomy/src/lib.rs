//! The model types ForecastLab knows about, their families and the
//! runtime flags that gate the opt-in ones.
//!
//! This crate has no dependencies so that the server, every plugin and any
//! client can read the same table.

/// Broad family of a model, as reported by the upstream taxonomy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelFamily {
    /// Simple statistical baselines (naive, moving averages, …).
    Baseline,
    /// Tree ensembles (gradient boosting, random forest).
    Tree,
    /// Additive models (trend regression, prophet-like).
    Additive,
}

impl ModelFamily {
    /// The lowercase wire name (`baseline`, `tree`, `additive`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Baseline => "baseline",
            Self::Tree => "tree",
            Self::Additive => "additive",
        }
    }
}

/// What a model consumes: the target alone, or a feature frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputKind {
    /// Fits on the target series only.
    TargetOnly,
    /// Fits on a feature frame (lags, calendar, price, promotion, …).
    FeatureAware,
}

/// One entry of the taxonomy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelKind {
    /// Wire name, e.g. `seasonal_naive`.
    pub name: &'static str,
    /// Upstream family.
    pub family: ModelFamily,
    /// Whether the model needs a feature frame.
    pub input: InputKind,
    /// Runtime flag that must be on before the model may be used
    /// (`forecast_enable_lightgbm`, …); `None` for always-on models.
    pub flag: Option<&'static str>,
    /// Cargo feature of the server that compiles the model in; `None` for
    /// models that are always compiled in.
    pub cargo_feature: Option<&'static str>,
}

impl ModelKind {
    /// True when the model needs a runtime flag and a Cargo feature.
    pub const fn is_opt_in(&self) -> bool {
        self.flag.is_some()
    }

    /// True when the model fits on a feature frame.
    pub const fn requires_features(&self) -> bool {
        matches!(self.input, InputKind::FeatureAware)
    }

    /// Environment variable holding the runtime flag (`FORECAST_ENABLE_LIGHTGBM`, …).
    pub fn flag_env_var(&self) -> Option<String> {
        self.flag.map(str::to_ascii_uppercase)
    }
}

const fn always_on(name: &'static str, family: ModelFamily, input: InputKind) -> ModelKind {
    ModelKind {
        name,
        family,
        input,
        flag: None,
        cargo_feature: None,
    }
}

const fn opt_in(name: &'static str, flag: &'static str, cargo_feature: &'static str) -> ModelKind {
    ModelKind {
        name,
        family: ModelFamily::Tree,
        input: InputKind::FeatureAware,
        flag: Some(flag),
        cargo_feature: Some(cargo_feature),
    }
}

/// Every model type ForecastLab knows, in a stable order.
pub const KNOWN_MODELS: [ModelKind; 21] = [
    always_on("naive", ModelFamily::Baseline, InputKind::TargetOnly),
    always_on(
        "seasonal_naive",
        ModelFamily::Baseline,
        InputKind::TargetOnly,
    ),
    always_on(
        "moving_average",
        ModelFamily::Baseline,
        InputKind::TargetOnly,
    ),
    always_on(
        "weighted_moving_average",
        ModelFamily::Baseline,
        InputKind::TargetOnly,
    ),
    always_on(
        "seasonal_average",
        ModelFamily::Baseline,
        InputKind::TargetOnly,
    ),
    always_on(
        "trend_regression_baseline",
        ModelFamily::Additive,
        InputKind::TargetOnly,
    ),
    always_on("regression", ModelFamily::Tree, InputKind::FeatureAware),
    always_on(
        "prophet_like",
        ModelFamily::Additive,
        InputKind::FeatureAware,
    ),
    // The statistical zoo (statsforecast's definitions), family baseline.
    always_on("croston", ModelFamily::Baseline, InputKind::TargetOnly),
    always_on("croston_sba", ModelFamily::Baseline, InputKind::TargetOnly),
    always_on("tsb", ModelFamily::Baseline, InputKind::TargetOnly),
    always_on("adida", ModelFamily::Baseline, InputKind::TargetOnly),
    always_on("imapa", ModelFamily::Baseline, InputKind::TargetOnly),
    always_on("theta", ModelFamily::Baseline, InputKind::TargetOnly),
    always_on(
        "optimized_theta",
        ModelFamily::Baseline,
        InputKind::TargetOnly,
    ),
    always_on("auto_ets", ModelFamily::Baseline, InputKind::TargetOnly),
    always_on("mstl", ModelFamily::Baseline, InputKind::TargetOnly),
    always_on("auto_arima", ModelFamily::Baseline, InputKind::TargetOnly),
    opt_in("lightgbm", "forecast_enable_lightgbm", "lightgbm"),
    opt_in("xgboost", "forecast_enable_xgboost", "xgboost"),
    opt_in(
        "random_forest",
        "forecast_enable_random_forest",
        "random-forest",
    ),
];

/// Looks a model type up by its wire name.
pub fn lookup(name: &str) -> Option<&'static ModelKind> {
    KNOWN_MODELS.iter().find(|kind| kind.name == name)
}

/// The wire names of every known model type, in taxonomy order.
pub fn known_names() -> impl Iterator<Item = &'static str> {
    KNOWN_MODELS.iter().map(|kind| kind.name)
}

/// The family of a model type; an unknown name classifies as
/// [`ModelFamily::Baseline`], as upstream does.
pub fn family_of(name: &str) -> ModelFamily {
    lookup(name).map_or(ModelFamily::Baseline, |kind| kind.family)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_models() {
        let mut names: Vec<_> = known_names().collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), KNOWN_MODELS.len());
        assert_eq!(names.len(), 21);
    }

    #[test]
    fn statistical_models_are_always_on_target_only_baselines() {
        for name in [
            "croston",
            "croston_sba",
            "tsb",
            "adida",
            "imapa",
            "theta",
            "optimized_theta",
            "auto_ets",
            "mstl",
            "auto_arima",
        ] {
            let kind = lookup(name).unwrap();
            assert_eq!(kind.family, ModelFamily::Baseline, "{name}");
            assert!(!kind.is_opt_in() && !kind.requires_features(), "{name}");
        }
    }

    #[test]
    fn opt_in_models_have_flags_and_features() {
        let opt_in: Vec<_> = KNOWN_MODELS.iter().filter(|k| k.is_opt_in()).collect();
        assert_eq!(opt_in.len(), 3);
        let lgbm = lookup("lightgbm").unwrap();
        assert_eq!(
            lgbm.flag_env_var().as_deref(),
            Some("FORECAST_ENABLE_LIGHTGBM")
        );
        assert_eq!(
            lookup("random_forest").unwrap().cargo_feature,
            Some("random-forest")
        );
    }

    #[test]
    fn families_match_upstream() {
        assert_eq!(
            family_of("trend_regression_baseline"),
            ModelFamily::Additive
        );
        assert_eq!(family_of("regression"), ModelFamily::Tree);
        assert_eq!(family_of("no_such_model"), ModelFamily::Baseline);
        assert!(lookup("prophet_like").unwrap().requires_features());
        assert!(!lookup("naive").unwrap().requires_features());
    }
}
