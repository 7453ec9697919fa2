//! Model artifact storage behind one interface on the `object_store` crate.
//!
//! Two areas hold artifacts: the forecasting artifacts
//! (`model_<key>.flmodel`, written by train) and the registry copies
//! (`runs/<run_id>/model_<key>.flmodel`). By default each is a local
//! directory (`FORECAST_MODEL_ARTIFACTS_DIR`, `REGISTRY_ARTIFACT_ROOT`), the
//! layout ForecastLab always had. With `ARTIFACT_STORE_URL=s3://bucket/prefix`
//! both live in one S3-compatible bucket under `prefix/models/` and
//! `prefix/registry/` (credentials and region from the usual `AWS_*`
//! variables, `ARTIFACT_STORE_ENDPOINT` for S3-compatible servers), so any
//! number of machines share them. The same path rules (no escape from the
//! registry root, `model_path` inside the artifacts location) hold for both.

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use bytes::Bytes;
use forecastlab_core::artifact::{self, sha256_hex};
use object_store::{
    aws::AmazonS3Builder, local::LocalFileSystem, path::Path as ObjectPath, prefix::PrefixStore,
    ClientOptions, ObjectStore, RetryConfig,
};

use crate::config::Settings;

pub mod paths;

pub use paths::ModelPathError;

/// Why an artifact could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The URI resolves outside the registry root.
    #[error("Artifact path escapes the registry root: {0}")]
    Traversal(String),
    /// A part of the URI is longer than a file or key name may be.
    #[error("Artifact path has a name longer than {max} bytes: {0}", max = paths::MAX_NAME_BYTES)]
    NameTooLong(String),
    /// No artifact is stored there.
    #[error("Artifact not found: {0}")]
    NotFound(String),
    /// A local I/O failure.
    #[error("artifact storage error: {0}")]
    Io(#[from] std::io::Error),
    /// The object store refused or could not be reached.
    #[error("artifact store error: {0}")]
    Store(String),
}

/// Where one area's objects live.
#[derive(Debug, Clone)]
enum Root {
    /// A local directory: its path as configured.
    Local(PathBuf),
    /// An object-store location, as a URL (`s3://bucket/prefix/models`).
    Remote(String),
}

/// One area (models or registry): a store scoped to its root.
#[derive(Debug, Clone)]
struct Area {
    store: Arc<dyn ObjectStore>,
    root: Root,
}

impl Area {
    fn local(dir: &std::path::Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the artifact directory {}", dir.display()))?;
        let store = LocalFileSystem::new_with_prefix(dir)
            .with_context(|| format!("cannot open the artifact directory {}", dir.display()))?;
        Ok(Self {
            store: Arc::new(store),
            root: Root::Local(dir.to_path_buf()),
        })
    }

    /// The object path of `uri`, refusing anything outside the root.
    fn resolve(&self, uri: &str) -> Result<ObjectPath, StorageError> {
        let parts = match &self.root {
            Root::Local(dir) => paths::resolve_local(dir, uri)?,
            Root::Remote(_) => paths::resolve_relative(uri)?,
        };
        Ok(ObjectPath::from_iter(parts))
    }

    async fn get(&self, location: &ObjectPath, label: &str) -> Result<Bytes, StorageError> {
        let result = match self.store.get(location).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(StorageError::NotFound(label.to_owned()))
            }
            Err(error) => return Err(StorageError::Store(error.to_string())),
        };
        result
            .bytes()
            .await
            .map_err(|error| StorageError::Store(error.to_string()))
    }

    async fn put(&self, location: &ObjectPath, bytes: Bytes) -> Result<(), StorageError> {
        self.store
            .put(location, bytes.into())
            .await
            .map(|_| ())
            .map_err(|error| StorageError::Store(error.to_string()))
    }
}

/// The one bucket both areas of an S3 store live in, for copies that stay
/// on the server.
#[derive(Debug, Clone)]
struct Bucket {
    store: Arc<dyn ObjectStore>,
    /// The path parts of `prefix` in `s3://bucket/prefix`.
    prefix: Vec<String>,
}

impl Bucket {
    /// The bucket path of `parts` inside area `area`.
    fn path(&self, area: &str, parts: impl IntoIterator<Item = String>) -> ObjectPath {
        let mut all = self.prefix.clone();
        all.push(area.to_owned());
        all.extend(parts);
        ObjectPath::from_iter(all)
    }
}

/// The artifact store every slice reads and writes model artifacts through.
#[derive(Debug, Clone)]
pub struct ArtifactStore {
    models: Area,
    registry: Area,
    /// Set for an object store: both areas are prefixes of this bucket.
    bucket: Option<Bucket>,
    location: String,
}

impl ArtifactStore {
    /// Builds the store the settings name (no network traffic yet; see
    /// [`ArtifactStore::check`]).
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        match settings.artifact_store_url.as_deref() {
            None => Ok(Self {
                models: Area::local(&settings.forecast_model_artifacts_dir)?,
                registry: Area::local(&settings.registry_artifact_root)?,
                location: format!(
                    "local directories {} and {}",
                    settings.forecast_model_artifacts_dir.display(),
                    settings.registry_artifact_root.display()
                ),
                bucket: None,
            }),
            Some(url) => {
                let mut builder = AmazonS3Builder::from_env();
                if let Some(key) = &settings.aws_access_key_id {
                    builder = builder.with_access_key_id(key);
                }
                if let Some(secret) = &settings.aws_secret_access_key {
                    builder = builder.with_secret_access_key(secret);
                }
                if let Some(region) = &settings.aws_region {
                    builder = builder.with_region(region);
                }
                Self::s3(builder, url, settings.artifact_store_endpoint.as_deref())
            }
        }
    }

    /// An S3 store for `url` (`s3://bucket/prefix`) configured by `builder`
    /// (credentials, region) and an optional endpoint.
    fn s3(builder: AmazonS3Builder, url: &str, endpoint: Option<&str>) -> anyhow::Result<Self> {
        let rest = url.strip_prefix("s3://").with_context(|| {
            format!("ARTIFACT_STORE_URL={url:?} must look like s3://bucket/prefix")
        })?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        anyhow::ensure!(
            !bucket.is_empty(),
            "ARTIFACT_STORE_URL={url:?} names no bucket"
        );
        let prefix = paths::resolve_relative(prefix).unwrap_or_default();
        // Requests are signed without hashing the body (`UNSIGNED-PAYLOAD`,
        // as the AWS SDKs do over HTTPS): neither side spends a SHA-256 pass
        // over every artifact, and integrity is still end to end, as every
        // artifact carries SHA-256 digests that are checked when it is read.
        let mut builder = builder
            .with_bucket_name(bucket)
            .with_unsigned_payload(true)
            .with_retry(RetryConfig {
                max_retries: 3,
                retry_timeout: Duration::from_secs(30),
                ..RetryConfig::default()
            })
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(60)),
            );
        if let Some(endpoint) = endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        let base: Arc<dyn ObjectStore> = Arc::new(
            builder
                .build()
                .with_context(|| format!("cannot configure the artifact store {url}"))?,
        );
        Ok(Self::in_bucket(base, bucket, prefix, url))
    }

    /// A store whose two areas are `prefix/models` and `prefix/registry` of
    /// `base` (the bucket `bucket`); `url` names it in logs and errors.
    fn in_bucket(base: Arc<dyn ObjectStore>, bucket: &str, prefix: Vec<String>, url: &str) -> Self {
        let base_url = prefix.iter().fold(format!("s3://{bucket}"), |url, part| {
            format!("{url}/{part}")
        });
        let area = |name: &str| {
            let mut parts = prefix.clone();
            parts.push(name.to_owned());
            Area {
                store: Arc::new(PrefixStore::new(
                    Arc::clone(&base),
                    ObjectPath::from_iter(parts),
                )),
                root: Root::Remote(format!("{base_url}/{name}")),
            }
        };
        Self {
            models: area("models"),
            registry: area("registry"),
            bucket: Some(Bucket {
                store: Arc::clone(&base),
                prefix,
            }),
            location: url.to_owned(),
        }
    }

    /// Checks the store answers (the bucket exists and the credentials are
    /// accepted); the error names the location.
    pub async fn check(&self) -> anyhow::Result<()> {
        for area in [&self.models, &self.registry] {
            let listing = area.store.list_with_delimiter(None);
            match tokio::time::timeout(Duration::from_secs(20), listing).await {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => anyhow::bail!(
                    "the artifact store {} is not usable: {error}",
                    self.location
                ),
                Err(_) => anyhow::bail!(
                    "the artifact store {} did not answer within 20 s",
                    self.location
                ),
            }
        }
        Ok(())
    }

    /// Where artifacts live, for logs and errors (no credentials).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The `model_path` train returns for artifact `key`.
    pub fn model_path(&self, key: &str) -> String {
        match &self.models.root {
            Root::Local(dir) => dir.join(artifact::file_name(key)).display().to_string(),
            Root::Remote(url) => format!("{url}/{}", artifact::file_name(key)),
        }
    }

    /// The artifact key a `model_path` names: a 12-hex key, or a
    /// `model_<key>.flmodel` path inside the model artifacts location.
    pub fn model_key(&self, model_path: &str) -> Result<String, ModelPathError> {
        let (key, parent) = paths::split_model_path(model_path)?;
        let inside = match (parent, &self.models.root) {
            (None, _) => true,
            (Some(parent), Root::Local(dir)) => paths::same_local_dir(parent, dir),
            (Some(parent), Root::Remote(url)) => parent == url,
        };
        if inside {
            Ok(key)
        } else {
            Err(ModelPathError::Outside)
        }
    }

    /// Stores a model artifact's bytes under `key`.
    pub async fn put_model(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        let location = ObjectPath::from(artifact::file_name(key));
        self.models.put(&location, bytes).await
    }

    /// Reads the model artifact with `key` (`label` names it in errors).
    pub async fn get_model(&self, key: &str, label: &str) -> Result<Bytes, StorageError> {
        let location = ObjectPath::from(artifact::file_name(key));
        self.models.get(&location, label).await
    }

    /// Reads the registry copy at `uri` (relative to the registry root).
    pub async fn get_registry(&self, uri: &str) -> Result<Bytes, StorageError> {
        let location = self.registry.resolve(uri)?;
        self.registry.get(&location, uri).await
    }

    /// SHA-256 (lowercase hex) and size of the registry copy at `uri`; the
    /// hashing runs off the async runtime.
    pub async fn hash_registry(&self, uri: &str) -> Result<(String, u64), StorageError> {
        let bytes = self.get_registry(uri).await?;
        digest(bytes).await
    }

    /// Copies the model artifact `key` into the registry as
    /// `runs/<run_id>/model_<key>.flmodel`; returns `(uri, sha256, size)` of
    /// the stored copy, read back from the store.
    pub async fn copy_to_registry(
        &self,
        key: &str,
        run_id: &str,
    ) -> Result<(String, String, u64), StorageError> {
        let uri = format!("runs/{run_id}/{}", artifact::file_name(key));
        self.copy_to_registry_as(key, uri).await
    }

    /// Copies the model artifact `key` into the registry at `uri` (which
    /// must stay inside the registry root); returns `(uri, sha256, size)`
    /// of the stored copy, read back from the store.
    pub async fn copy_to_registry_as(
        &self,
        key: &str,
        uri: String,
    ) -> Result<(String, String, u64), StorageError> {
        let location = self.registry.resolve(&uri)?;
        match &self.bucket {
            // Both areas are in one bucket: the server copies the object
            // (one request, the bytes never travel through this process).
            Some(bucket) => {
                let from = bucket.path("models", [artifact::file_name(key)]);
                let to = bucket.path("registry", location.parts().map(|p| p.as_ref().to_owned()));
                match bucket.store.copy(&from, &to).await {
                    Ok(()) => {}
                    Err(object_store::Error::NotFound { .. }) => {
                        return Err(StorageError::NotFound(key.to_owned()))
                    }
                    Err(error) => return Err(StorageError::Store(error.to_string())),
                }
            }
            None => {
                let bytes = self.get_model(key, key).await?;
                self.registry.put(&location, bytes).await?;
            }
        }
        let (hash, size) = self.hash_registry(&uri).await?;
        Ok((uri, hash, size))
    }
}

/// SHA-256 and length of `bytes`, computed on the blocking pool.
pub async fn digest(bytes: Bytes) -> Result<(String, u64), StorageError> {
    tokio::task::spawn_blocking(move || (sha256_hex(&bytes), bytes.len() as u64))
        .await
        .map_err(|error| StorageError::Store(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local_settings(dir: &std::path::Path) -> Settings {
        let models = dir.join("models").display().to_string();
        let registry = dir.join("registry").display().to_string();
        Settings::from_lookup(|name| match name {
            "FORECAST_MODEL_ARTIFACTS_DIR" => Some(models.clone()),
            "REGISTRY_ARTIFACT_ROOT" => Some(registry.clone()),
            _ => None,
        })
        .unwrap()
    }

    #[tokio::test]
    async fn local_layout_is_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let store = ArtifactStore::from_settings(&local_settings(dir.path())).unwrap();
        store.check().await.unwrap();
        let key = "0123456789ab";
        store
            .put_model(key, Bytes::from_static(b"hello"))
            .await
            .unwrap();
        let file = dir.path().join("models").join("model_0123456789ab.flmodel");
        assert_eq!(std::fs::read(&file).unwrap(), b"hello");
        assert_eq!(store.model_path(key), file.display().to_string());
        assert_eq!(store.model_key(&store.model_path(key)).unwrap(), key);
        assert_eq!(store.model_key(key).unwrap(), key);
        assert_eq!(
            store.model_key("/elsewhere/model_0123456789ab.flmodel"),
            Err(ModelPathError::Outside)
        );

        let (uri, hash, size) = store.copy_to_registry(key, "r1").await.unwrap();
        assert_eq!(uri, "runs/r1/model_0123456789ab.flmodel");
        assert_eq!(size, 5);
        // sha256("hello")
        assert_eq!(
            hash,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert!(dir.path().join("registry").join(&uri).is_file());
        assert!(matches!(
            store.get_registry("runs/missing/x").await,
            Err(StorageError::NotFound(_))
        ));
        assert!(matches!(
            store.get_registry("runs/r1").await,
            Err(StorageError::NotFound(_))
        ));
        assert!(matches!(
            store
                .get_registry("../models/model_0123456789ab.flmodel")
                .await,
            Err(StorageError::Traversal(_))
        ));
    }

    fn credentials() -> AmazonS3Builder {
        AmazonS3Builder::new()
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .with_region("us-east-1")
    }

    #[test]
    fn s3_urls_are_checked() {
        assert!(ArtifactStore::s3(credentials(), "file:///tmp", None).is_err());
        assert!(ArtifactStore::s3(credentials(), "s3:///prefix", None).is_err());
        let store = ArtifactStore::s3(credentials(), "s3://bucket/a/b", Some("http://127.0.0.1:1"))
            .unwrap();
        assert_eq!(
            store.model_path("0123456789ab"),
            "s3://bucket/a/b/models/model_0123456789ab.flmodel"
        );
        assert_eq!(
            store
                .model_key("s3://bucket/a/b/models/model_0123456789ab.flmodel")
                .unwrap(),
            "0123456789ab"
        );
        assert_eq!(
            store.model_key("s3://other/models/model_0123456789ab.flmodel"),
            Err(ModelPathError::Outside)
        );
    }

    #[tokio::test]
    async fn a_bucket_copies_into_the_registry_on_the_server() {
        let bucket = Arc::new(object_store::memory::InMemory::new());
        let base: Arc<dyn ObjectStore> = bucket.clone();
        let store = ArtifactStore::in_bucket(base, "b", vec!["p".into()], "s3://b/p");
        let key = "0123456789ab";
        store
            .put_model(key, Bytes::from_static(b"hello"))
            .await
            .unwrap();
        let (uri, hash, size) = store.copy_to_registry(key, "r1").await.unwrap();
        assert_eq!(uri, "runs/r1/model_0123456789ab.flmodel");
        assert_eq!((hash.as_str(), size), (sha256_hex(b"hello").as_str(), 5));
        // Both objects sit in the bucket under the prefix.
        for path in [
            "p/models/model_0123456789ab.flmodel",
            "p/registry/runs/r1/model_0123456789ab.flmodel",
        ] {
            let stored = bucket.get(&ObjectPath::from(path)).await.unwrap();
            assert_eq!(stored.bytes().await.unwrap().as_ref(), b"hello", "{path}");
        }
        assert!(matches!(
            store.copy_to_registry("ba9876543210", "r2").await,
            Err(StorageError::NotFound(_))
        ));
        assert!(matches!(
            store
                .copy_to_registry_as(key, "../models/x".to_owned())
                .await,
            Err(StorageError::Traversal(_))
        ));
    }

    #[tokio::test]
    async fn an_unreachable_store_names_its_url() {
        let store =
            ArtifactStore::s3(credentials(), "s3://bucket/p", Some("http://127.0.0.1:9")).unwrap();
        let error = store.check().await.unwrap_err().to_string();
        assert!(error.contains("s3://bucket/p"), "{error}");
    }
}
