//! Resolving a model type name to its plugin, with the errors a client
//! needs: unknown names list the known ones, opt-in models that are not
//! compiled in name their Cargo feature, disabled ones name their flag.

use forecastlab_core::{taxonomy, ModelRegistration};
use serde::Serialize;

use crate::{config::Settings, problem::Problem};

/// The plugin registered for `name`, if the client may use it now.
pub fn resolve(settings: &Settings, name: &str) -> Result<&'static ModelRegistration, Problem> {
    let registration = match forecastlab_core::model(name) {
        Some(registration) => registration,
        None => {
            return Err(
                match taxonomy::lookup(name).and_then(|kind| kind.cargo_feature) {
                    Some(feature) => Problem::bad_request(format!(
                        "Model type '{name}' is not compiled into this server. Rebuild with the \
                     Cargo feature '{feature}' (cargo build --features {feature})."
                    )),
                    None => Problem::bad_request(format!(
                        "Unknown model type '{name}'. Known model types: {}.",
                        available_names().join(", ")
                    )),
                },
            )
        }
    };
    if let Some(flag) = registration.flag {
        if !settings.flag_enabled(flag) {
            return Err(Problem::bad_request(format!(
                "Model type '{name}' is disabled. Set {}=true (setting {flag}) to enable it.",
                flag.to_ascii_uppercase()
            )));
        }
    }
    Ok(registration)
}

/// Every model name a client can ask for: the taxonomy plus any third-party
/// plugin linked in, sorted.
pub fn available_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = taxonomy::known_names()
        .chain(forecastlab_core::models().into_iter().map(|r| r.name))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// One entry of `GET /forecasting/models`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ModelInfo {
    /// Wire name.
    pub model_type: &'static str,
    /// `baseline`, `tree` or `additive`.
    pub family: &'static str,
    /// Whether the model fits on a feature frame.
    pub requires_features: bool,
    /// Whether the model needs a Cargo feature and a runtime flag.
    pub opt_in: bool,
    /// Runtime flag, for opt-in models.
    pub flag: Option<&'static str>,
    /// Cargo feature of the server, for opt-in models.
    pub cargo_feature: Option<&'static str>,
    /// Whether the plugin is linked into this binary.
    pub compiled_in: bool,
    /// Whether the model may be used now (compiled in and flag on).
    pub enabled: bool,
    /// Plugin version, when compiled in.
    pub version: Option<&'static str>,
    /// Whether the model is part of the standard taxonomy (false for
    /// third-party plugins).
    pub builtin: bool,
}

/// Describes every known or linked model.
pub fn catalog(settings: &Settings) -> Vec<ModelInfo> {
    available_names()
        .into_iter()
        .filter_map(|name| {
            let kind = taxonomy::lookup(name);
            let registration = forecastlab_core::model(name);
            let (family, input, flag) = match (registration, kind) {
                (Some(r), _) => (r.family, r.input, r.flag),
                (None, Some(k)) => (k.family, k.input, k.flag),
                (None, None) => return None,
            };
            Some(ModelInfo {
                model_type: name,
                family: family.as_str(),
                requires_features: input == taxonomy::InputKind::FeatureAware,
                opt_in: flag.is_some(),
                flag,
                cargo_feature: kind.and_then(|k| k.cargo_feature),
                compiled_in: registration.is_some(),
                enabled: registration.is_some() && flag.is_none_or(|f| settings.flag_enabled(f)),
                version: registration.map(|r| r.version),
                builtin: kind.is_some(),
            })
        })
        .collect()
}
