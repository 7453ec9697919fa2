//! Lexical path rules shared by both backends: a registry URI must stay
//! inside the registry root, and a `model_path` must name a
//! `model_<12 hex>.flmodel` file of the model artifacts location.

use std::path::{Component, Path, PathBuf};

use forecastlab_core::artifact;

use super::StorageError;

/// Lexically normalizes `path` (resolving `.` and `..`), or `None` when a
/// `..` climbs above its start.
pub(crate) fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    let mut depth = 0usize;
    for component in path.components() {
        match component {
            Component::Prefix(_) | Component::RootDir => {
                out.push(component.as_os_str());
                depth = 0;
            }
            Component::CurDir => {}
            Component::ParentDir => {
                if depth == 0 {
                    return None;
                }
                out.pop();
                depth -= 1;
            }
            Component::Normal(part) => {
                out.push(part);
                depth += 1;
            }
        }
    }
    Some(out)
}

/// The longest name a path part may have (Linux's `NAME_MAX`; longer
/// names cannot be files, so they are refused on both backends alike).
pub const MAX_NAME_BYTES: usize = 255;

/// Refuses a URI with a part longer than [`MAX_NAME_BYTES`].
fn check_name_lengths(uri: &str, parts: Vec<String>) -> Result<Vec<String>, StorageError> {
    if parts.iter().any(|part| part.len() > MAX_NAME_BYTES) {
        return Err(StorageError::NameTooLong(uri.to_owned()));
    }
    Ok(parts)
}

/// Resolves `uri` under the local directory `root`; absolute URIs are
/// accepted only when they lie inside the root. Returns the path parts
/// relative to the root.
pub(crate) fn resolve_local(root: &Path, uri: &str) -> Result<Vec<String>, StorageError> {
    let traversal = || StorageError::Traversal(uri.to_owned());
    let root = normalize(&std::path::absolute(root)?).ok_or_else(traversal)?;
    let candidate = Path::new(uri);
    let joined = if candidate.is_absolute() {
        candidate.to_path_buf()
    } else {
        root.join(candidate)
    };
    let resolved = normalize(&joined).ok_or_else(traversal)?;
    let relative = resolved.strip_prefix(&root).map_err(|_| traversal())?;
    check_name_lengths(uri, parts(relative).ok_or_else(traversal)?)
}

/// Resolves a relative `uri` inside an object-store root: absolute URIs and
/// any `..` that climbs above the root are refused.
pub(crate) fn resolve_relative(uri: &str) -> Result<Vec<String>, StorageError> {
    let traversal = || StorageError::Traversal(uri.to_owned());
    let candidate = Path::new(uri);
    if candidate.is_absolute() {
        return Err(traversal());
    }
    let resolved = normalize(candidate).ok_or_else(traversal)?;
    check_name_lengths(uri, parts(&resolved).ok_or_else(traversal)?)
}

/// The UTF-8 parts of a relative path, or `None` when it is empty (the root
/// itself) or not UTF-8.
fn parts(relative: &Path) -> Option<Vec<String>> {
    let parts: Option<Vec<String>> = relative
        .components()
        .map(|c| c.as_os_str().to_str().map(str::to_owned))
        .collect();
    parts.filter(|parts| !parts.is_empty())
}

/// Why a `model_path` was refused (each is a 400).
#[derive(Debug, PartialEq, Eq)]
pub enum ModelPathError {
    /// Neither a `.flmodel` path nor a 12-hex key.
    NotAnArtifact,
    /// The file name is not `model_<12 hex>.flmodel`.
    BadFileName,
    /// The file lies outside the model artifacts location.
    Outside,
}

impl std::fmt::Display for ModelPathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotAnArtifact => write!(
                f,
                "Invalid model_path: expected a '.{}' artifact path or a 12-hex artifact key",
                artifact::EXTENSION
            ),
            Self::BadFileName => {
                f.write_str("Invalid model_path: the file name must be model_<12 hex>.flmodel")
            }
            Self::Outside => f.write_str(
                "Invalid model_path: the artifact must lie inside the model artifacts directory",
            ),
        }
    }
}

/// The artifact key of `model_path` (a 12-hex key, or a path whose file
/// name is `model_<key>.flmodel`) and its parent (`None` for a bare key).
pub(crate) fn split_model_path(model_path: &str) -> Result<(String, Option<&str>), ModelPathError> {
    if artifact::is_key(model_path) {
        return Ok((model_path.to_owned(), None));
    }
    let (parent, name) = match model_path.rfind('/') {
        Some(at) => (&model_path[..at], &model_path[at + 1..]),
        None => ("", model_path),
    };
    let Some(stem) = name.strip_suffix(&format!(".{}", artifact::EXTENSION)) else {
        return Err(ModelPathError::NotAnArtifact);
    };
    let key = stem
        .strip_prefix("model_")
        .filter(|key| artifact::is_key(key))
        .ok_or(ModelPathError::BadFileName)?;
    Ok((key.to_owned(), Some(parent)))
}

/// True when the local directory `parent` (as written in a `model_path`)
/// is the model artifacts directory `dir`.
pub(crate) fn same_local_dir(parent: &str, dir: &Path) -> bool {
    let parent = absolute_lexical(Path::new(if parent.is_empty() { "." } else { parent }));
    let base = absolute_lexical(dir);
    parent == base
        || matches!(
            (parent.canonicalize(), base.canonicalize()),
            (Ok(a), Ok(b)) if a == b
        )
}

/// `path` made absolute against the working directory, `..` resolved
/// lexically (clamped at the root).
fn absolute_lexical(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_longer_than_a_file_name_are_rejected() {
        let long = "0".repeat(MAX_NAME_BYTES + 1);
        let fits = "0".repeat(MAX_NAME_BYTES);
        let root = Path::new("/srv/registry");
        for uri in [long.clone(), format!("runs/{long}/model.flmodel")] {
            assert!(matches!(
                resolve_local(root, &uri),
                Err(StorageError::NameTooLong(_))
            ));
            assert!(matches!(
                resolve_relative(&uri),
                Err(StorageError::NameTooLong(_))
            ));
        }
        assert_eq!(resolve_relative(&fits).unwrap(), vec![fits.clone()]);
    }

    #[test]
    fn local_traversal_is_rejected() {
        let root = Path::new("/srv/registry");
        assert_eq!(
            resolve_local(root, "runs/a/model.flmodel").unwrap(),
            ["runs", "a", "model.flmodel"]
        );
        for bad in ["../etc/passwd", "runs/../../x", "/etc/passwd", ".", ""] {
            assert!(
                matches!(resolve_local(root, bad), Err(StorageError::Traversal(_))),
                "{bad}"
            );
        }
        assert_eq!(
            resolve_local(root, "/srv/registry/runs/./x").unwrap(),
            ["runs", "x"]
        );
    }

    #[test]
    fn object_store_traversal_is_rejected() {
        assert_eq!(
            resolve_relative("runs/a/../b/m").unwrap(),
            ["runs", "b", "m"]
        );
        for bad in ["../x", "runs/../../x", "/runs/x", ".", ""] {
            assert!(
                matches!(resolve_relative(bad), Err(StorageError::Traversal(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn model_paths_split_into_key_and_parent() {
        assert_eq!(
            split_model_path("0123456789ab").unwrap(),
            ("0123456789ab".to_owned(), None)
        );
        assert_eq!(
            split_model_path("dir/x/model_0123456789ab.flmodel").unwrap(),
            ("0123456789ab".to_owned(), Some("dir/x"))
        );
        assert_eq!(
            split_model_path("model_0123456789ab.flmodel").unwrap(),
            ("0123456789ab".to_owned(), Some(""))
        );
        assert_eq!(
            split_model_path("dir/model.bin"),
            Err(ModelPathError::NotAnArtifact)
        );
        assert_eq!(
            split_model_path("dir/model_XYZ.flmodel"),
            Err(ModelPathError::BadFileName)
        );
    }

    #[test]
    fn local_dirs_compare_lexically() {
        let dir = Path::new("/srv/models");
        assert!(same_local_dir("/srv/models", dir));
        assert!(same_local_dir("/srv/x/../models", dir));
        assert!(!same_local_dir("/srv/other", dir));
    }
}
