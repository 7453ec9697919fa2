//! The models taking part in a backtest: the main model, resolved through
//! the registry with its config errors named under
//! `config.model_config_main`, and the baselines it is compared with.

use forecastlab_core::{model_config, taxonomy::InputKind, CoreError, Forecaster};
use serde_json::{json, Value};

use crate::{config::Settings, problem::Problem};

/// The baselines of §5.7, in order: model config and the key of the
/// improvement percentage in `comparison_summary`.
const BASELINES: [(&str, &str); 2] = [
    ("naive", "vs_naive_pct"),
    ("seasonal_naive", "vs_seasonal_pct"),
];

/// A model taking part in a backtest.
#[derive(Debug)]
pub(super) struct Candidate {
    pub(super) model_type: String,
    pub(super) config_hash: String,
    pub(super) forecaster: Box<dyn Forecaster>,
    pub(super) feature_aware: bool,
    /// Key of the improvement percentage (baselines only).
    pub(super) comparison_key: Option<&'static str>,
}

/// Resolves and builds the main model; config errors become 422s naming
/// the field under `config.model_config_main`.
pub(super) fn build_main(settings: &Settings, config: &Value) -> Result<Candidate, Problem> {
    let model_type = config
        .get("model_type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let registration = crate::models::resolve(settings, model_type)?;
    let forecaster = (registration.build)(config).map_err(|error| match error {
        CoreError::InvalidConfig(message) => match model_config::field_of(&message) {
            Some((field, detail)) => Problem::invalid_field(
                format!("config.model_config_main.{field}"),
                detail,
                "value_error",
            ),
            None => Problem::invalid_field("config.model_config_main", message, "value_error"),
        },
        other => Problem::bad_request(other.to_string()),
    })?;
    Ok(Candidate {
        model_type: registration.name.to_owned(),
        config_hash: model_config::config_hash(&forecaster.config_json()),
        forecaster,
        feature_aware: registration.input == InputKind::FeatureAware,
        comparison_key: None,
    })
}

/// The baselines that are linked in (a missing or failing one is skipped).
pub(super) fn build_baselines() -> Vec<Candidate> {
    BASELINES
        .iter()
        .filter_map(|(name, key)| {
            let registration = forecastlab_core::model(name)?;
            let config = if *name == "seasonal_naive" {
                json!({"model_type": name, "season_length": 7})
            } else {
                json!({"model_type": name})
            };
            match (registration.build)(&config) {
                Ok(forecaster) => Some(Candidate {
                    model_type: registration.name.to_owned(),
                    config_hash: model_config::config_hash(&forecaster.config_json()),
                    forecaster,
                    feature_aware: false,
                    comparison_key: Some(key),
                }),
                Err(error) => {
                    tracing::warn!(baseline = name, %error, "baseline cannot be built; skipped");
                    None
                }
            }
        })
        .collect()
}
