//! Local-filesystem artifact storage rooted at `REGISTRY_ARTIFACT_ROOT`:
//! path resolution that refuses to leave the root, streamed SHA-256, and
//! copying a trained model into the registry.

use std::{
    io::Read,
    path::{Component, Path, PathBuf},
};

use sha2::{Digest, Sha256};

/// Why an artifact path could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The URI resolves outside the registry root.
    #[error("Artifact path escapes the registry root: {0}")]
    Traversal(String),
    /// The file does not exist.
    #[error("Artifact not found: {0}")]
    NotFound(String),
    /// Any other I/O failure.
    #[error("artifact storage error: {0}")]
    Io(#[from] std::io::Error),
}

/// Lexically normalizes `path` (resolving `.` and `..`), or `None` when a
/// `..` climbs above its start.
fn normalize(path: &Path) -> Option<PathBuf> {
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

/// Resolves `uri` under `root`; absolute URIs are accepted only when they
/// lie inside the root.
pub fn resolve(root: &Path, uri: &str) -> Result<PathBuf, StorageError> {
    let traversal = || StorageError::Traversal(uri.to_owned());
    let root = normalize(&std::path::absolute(root)?).ok_or_else(traversal)?;
    let candidate = Path::new(uri);
    let joined = if candidate.is_absolute() {
        candidate.to_path_buf()
    } else {
        root.join(candidate)
    };
    let resolved = normalize(&joined).ok_or_else(traversal)?;
    if resolved == root || !resolved.starts_with(&root) {
        return Err(traversal());
    }
    Ok(resolved)
}

/// SHA-256 (lowercase hex) and size of a file, read in 8 KiB chunks.
pub fn hash_file(path: &Path, uri: &str) -> Result<(String, u64), StorageError> {
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(StorageError::NotFound(uri.to_owned()))
        }
        Err(error) => return Err(error.into()),
    };
    if file.metadata()?.is_dir() {
        return Err(StorageError::NotFound(uri.to_owned()));
    }
    let mut hasher = Sha256::new();
    let mut buffer = [0u8; 8192];
    let mut size = 0u64;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        size += read as u64;
        hasher.update(&buffer[..read]);
    }
    Ok((hex::encode(hasher.finalize()), size))
}

/// Copies `source` into the registry as `runs/<run_id>/<file name>` and
/// returns `(uri, sha256, size)` of the stored copy.
pub fn store_copy(
    root: &Path,
    run_id: &str,
    source: &Path,
) -> Result<(String, String, u64), StorageError> {
    let name = source
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("model.bin");
    let uri = format!("runs/{run_id}/{name}");
    let target = resolve(root, &uri)?;
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let temporary = target.with_extension("partial");
    std::fs::copy(source, &temporary)?;
    std::fs::rename(&temporary, &target)?;
    let (hash, size) = hash_file(&target, &uri)?;
    Ok((uri, hash, size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_is_rejected() {
        let root = Path::new("/srv/registry");
        assert!(resolve(root, "runs/a/model.flmodel").is_ok());
        assert!(matches!(
            resolve(root, "../etc/passwd"),
            Err(StorageError::Traversal(_))
        ));
        assert!(matches!(
            resolve(root, "runs/../../x"),
            Err(StorageError::Traversal(_))
        ));
        assert!(matches!(
            resolve(root, "/etc/passwd"),
            Err(StorageError::Traversal(_))
        ));
        assert_eq!(
            resolve(root, "/srv/registry/runs/./x").unwrap(),
            PathBuf::from("/srv/registry/runs/x")
        );
        assert!(matches!(
            resolve(root, "."),
            Err(StorageError::Traversal(_))
        ));
    }

    #[test]
    fn hash_and_copy() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("model_abc.flmodel");
        std::fs::write(&source, b"hello").unwrap();
        let root = dir.path().join("registry");
        let (uri, hash, size) = store_copy(&root, "r1", &source).unwrap();
        assert_eq!(uri, "runs/r1/model_abc.flmodel");
        assert_eq!(size, 5);
        // sha256("hello")
        assert_eq!(
            hash,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert!(matches!(
            hash_file(&root.join("missing"), "missing"),
            Err(StorageError::NotFound(_))
        ));
    }
}
