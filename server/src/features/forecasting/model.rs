//! Resolving a model config to a plugin and building it, and the mapping
//! of plugin errors to problems that every forecasting path shares.

use forecastlab_core::{model_config, taxonomy::InputKind, CoreError, ModelRegistration};

use crate::{models, problem::Problem, state::AppState};

/// How intervals are estimated, per input kind (reported in responses).
pub fn interval_method(input: InputKind) -> &'static str {
    match input {
        InputKind::TargetOnly => "split_conformal_rolling_origin_h_step",
        InputKind::FeatureAware => "split_conformal_holdout_sqrt_h",
    }
}

/// Maps a plugin error to a problem: config errors are 422 naming
/// `config.<field>`, everything else the client caused is 400.
pub fn model_problem(error: CoreError) -> Problem {
    match error {
        CoreError::InvalidConfig(message) => match model_config::field_of(&message) {
            Some((field, detail)) => {
                Problem::invalid_field(format!("config.{field}"), detail, "value_error")
            }
            None => Problem::invalid_field("config", message, "value_error"),
        },
        CoreError::Cancelled => Problem::conflict("The operation was cancelled."),
        other => Problem::bad_request(other.to_string()),
    }
}

/// Resolves a model type and builds the unfitted model from `config`
/// (unknown type / not compiled in / flag off → 400, bad config → 422).
pub fn build_model(
    state: &AppState,
    config: &serde_json::Value,
) -> Result<
    (
        &'static ModelRegistration,
        Box<dyn forecastlab_core::Forecaster>,
    ),
    Problem,
> {
    let name = config
        .get("model_type")
        .and_then(|v| v.as_str())
        .ok_or_else(|| Problem::invalid_field("config.model_type", "Field required", "missing"))?;
    let registration = models::resolve(&state.settings, name)?;
    let model = (registration.build)(config).map_err(model_problem)?;
    Ok((registration, model))
}
