//! Model artifacts in the artifact store: where one is read from, loading
//! and verifying it into a fitted model, and storing a new one.

use std::sync::Arc;

use bytes::Bytes;
use chrono::NaiveDate;
use forecastlab_core::{
    artifact::{self, Artifact},
    CoreError, FittedModel, ModelRegistration, SeriesKey,
};

use crate::{artifacts::StorageError, config::Settings, models, problem::Problem, state::AppState};

/// A loaded, verified artifact and its fitted model.
#[derive(Debug)]
pub struct LoadedModel {
    /// The 12-hex artifact key.
    pub key: String,
    /// The artifact's header (model type, config, metadata, …).
    pub header: forecastlab_core::artifact::ArtifactHeader,
    /// The plugin that reads it.
    pub registration: &'static ModelRegistration,
    /// The fitted model.
    pub fitted: Box<dyn FittedModel>,
    /// SHA-256 of the artifact file.
    pub sha256: String,
}

impl LoadedModel {
    /// A metadata member.
    pub fn meta(&self, name: &str) -> Option<&serde_json::Value> {
        self.header.metadata.get(name)
    }

    /// The series the model was trained on, from the metadata (400 when
    /// the artifact does not say).
    pub fn series_key(&self) -> Result<SeriesKey, Problem> {
        let id = |name: &str| self.meta(name).and_then(|v| v.as_i64());
        match (id("store_id"), id("product_id")) {
            (Some(store_id), Some(product_id)) => Ok(SeriesKey {
                store_id,
                product_id,
            }),
            _ => Err(Problem::bad_request(
                "Corrupt or incompatible model artifact: its metadata has no store_id / product_id",
            )),
        }
    }

    /// `train_end_date` from the metadata.
    pub fn train_end_date(&self) -> Option<NaiveDate> {
        self.meta("train_end_date")
            .and_then(|v| v.as_str())
            .and_then(|s| s.parse().ok())
    }
}

/// Where an artifact is read from: the model artifacts (by key) or a
/// registry copy (by its URI under the registry root).
#[derive(Debug, Clone)]
pub enum ArtifactSource {
    /// `model_<key>.flmodel` among the model artifacts.
    Model(String),
    /// A registry URI (`runs/<run_id>/model_<key>.flmodel`).
    Registry(String),
}

/// The artifact key `model_path` names (an artifact path or a bare 12-hex
/// key inside the model artifacts location); anything else is a 400.
pub fn model_key(state: &AppState, model_path: &str) -> Result<String, Problem> {
    state
        .artifacts
        .model_key(model_path)
        .map_err(|error| Problem::bad_request(error.to_string()))
}

/// Loads and verifies an artifact (400 for bad paths or corrupt/mismatched
/// files, 404 when missing) and rebuilds its fitted model.
pub async fn load_model(state: &AppState, model_path: &str) -> Result<LoadedModel, Problem> {
    let key = model_key(state, model_path)?;
    load_model_from(state, ArtifactSource::Model(key.clone()), key, model_path).await
}

/// Reads the bytes of an artifact (404 when missing, 400 for a registry
/// URI outside the root); `label` names it in errors.
pub async fn fetch_artifact(
    state: &AppState,
    source: &ArtifactSource,
    label: &str,
) -> Result<Bytes, Problem> {
    let fetched = match source {
        ArtifactSource::Model(key) => state.artifacts.get_model(key, label).await,
        ArtifactSource::Registry(uri) => state.artifacts.get_registry(uri).await,
    };
    fetched.map_err(|error| match error {
        StorageError::NotFound(_) => {
            Problem::not_found(format!("Model artifact not found: {label}"))
        }
        StorageError::Traversal(_) | StorageError::NameTooLong(_) => {
            Problem::bad_request(error.to_string())
        }
        StorageError::Io(error) => {
            Problem::bad_request(format!("Model artifact cannot be read: {error}"))
        }
        StorageError::Store(error) => Problem::internal(error),
    })
}

/// Loads and verifies the artifact at `source` as [`load_model`] does; the
/// decoding runs off the async runtime.
pub async fn load_model_from(
    state: &AppState,
    source: ArtifactSource,
    key: String,
    label: &str,
) -> Result<LoadedModel, Problem> {
    let bytes = fetch_artifact(state, &source, label).await?;
    let settings = Arc::clone(&state.settings);
    tokio::task::spawn_blocking(move || decode_model(&settings, &bytes, key)).await?
}

/// Verifies artifact bytes and rebuilds the fitted model on the calling
/// thread (callers decoding many artifacts run this on a rayon pool).
pub fn decode_model(
    settings: &Settings,
    bytes: &[u8],
    key: String,
) -> Result<LoadedModel, Problem> {
    let artifact = Artifact::decode(bytes).map_err(|error| {
        Problem::bad_request(format!("Corrupt or incompatible model artifact: {error}"))
    })?;
    let sha256 = artifact::sha256_hex(bytes);
    let registration = models::resolve(settings, &artifact.header.model_type)?;
    let fitted = (registration.load)(&artifact.payload).map_err(|e| {
        Problem::bad_request(format!("Corrupt or incompatible model artifact: {e}"))
    })?;
    if fitted.model_type() != artifact.header.model_type {
        return Err(Problem::bad_request(format!(
            "Corrupt or incompatible model artifact: the payload holds a '{}' model, the header says '{}'",
            fitted.model_type(),
            artifact.header.model_type
        )));
    }
    Ok(LoadedModel {
        key,
        header: artifact.header,
        registration,
        fitted,
        sha256,
    })
}

/// Encodes `artifact` off the runtime and stores it under `key`; returns
/// the SHA-256 of the stored bytes.
pub async fn store_artifact(
    state: &AppState,
    key: &str,
    artifact: Artifact,
) -> Result<String, Problem> {
    let (bytes, sha256) = tokio::task::spawn_blocking(move || {
        let bytes = artifact.encode()?;
        let sha256 = artifact::sha256_hex(&bytes);
        Ok::<_, CoreError>((Bytes::from(bytes), sha256))
    })
    .await?
    .map_err(Problem::internal)?;
    state
        .artifacts
        .put_model(key, bytes)
        .await
        .map_err(Problem::internal)?;
    Ok(sha256)
}
