//! Files the RAG slice reads: one source file confined to the project
//! root, and the project's own documentation (`docs/`, `PRPs/`, root
//! files) for `POST /rag/index/project-docs`.

use std::{
    io,
    path::{Component, Path, PathBuf},
};

use super::schemas::ProjectDocsRequest;

/// Root files indexed with `include_root`.
const ROOT_FILES: [&str; 3] = ["README.md", "AGENTS.md", "CHANGELOG.md"];

/// Why a file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReadError {
    /// It does not exist (or is not a regular file).
    NotFound,
    /// It resolves outside the project root.
    Outside,
    /// Its bytes are not UTF-8.
    NotUtf8,
    /// It is larger than the limit (bytes).
    TooLarge(u64),
    /// Any other I/O failure.
    Io(String),
}

impl ReadError {
    /// A message naming `path`.
    pub(crate) fn message(&self, path: &str) -> String {
        match self {
            ReadError::NotFound => format!("Source file not found: {path}"),
            ReadError::Outside => format!("Source file not found or access denied: {path}"),
            ReadError::NotUtf8 => format!("Source file is not valid UTF-8 text: {path}"),
            ReadError::TooLarge(limit) => {
                format!("Source file is larger than {limit} bytes: {path}")
            }
            ReadError::Io(error) => format!("Source file could not be read: {path}: {error}"),
        }
    }
}

/// The canonical project root.
pub(crate) fn canonical_root(root: &Path) -> io::Result<PathBuf> {
    root.canonicalize()
}

/// Reads `path` (relative to `root`, or absolute) as UTF-8, refusing
/// anything that resolves outside `root` (`..`, absolute paths, symbolic
/// links) and files over `limit` bytes. Blocking.
pub(crate) fn read_confined(root: &Path, path: &str, limit: u64) -> Result<String, ReadError> {
    let root = canonical_root(root).map_err(|error| ReadError::Io(error.to_string()))?;
    let resolved = match root.join(path).canonicalize() {
        Ok(resolved) => resolved,
        // A path that names no file (missing, or a name the file system
        // cannot hold) is not found; one outside the root is still "outside".
        Err(_) => {
            return Err(if escapes(path) {
                ReadError::Outside
            } else {
                ReadError::NotFound
            });
        }
    };
    if !resolved.starts_with(&root) {
        return Err(ReadError::Outside);
    }
    read_utf8(&resolved, limit)
}

fn read_utf8(path: &Path, limit: u64) -> Result<String, ReadError> {
    let metadata = std::fs::metadata(path).map_err(|error| ReadError::Io(error.to_string()))?;
    if !metadata.is_file() {
        return Err(ReadError::NotFound);
    }
    if metadata.len() > limit {
        return Err(ReadError::TooLarge(limit));
    }
    let bytes = std::fs::read(path).map_err(|error| ReadError::Io(error.to_string()))?;
    String::from_utf8(bytes).map_err(|_| ReadError::NotUtf8)
}

/// Whether `path` is absolute or climbs above where it starts.
fn escapes(path: &str) -> bool {
    let mut depth: i64 = 0;
    for component in Path::new(path).components() {
        match component {
            Component::Prefix(_) | Component::RootDir => return true,
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
        }
        if depth < 0 {
            return true;
        }
    }
    false
}

/// One documentation file to index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DocFile {
    /// Where it is.
    pub(crate) absolute: PathBuf,
    /// POSIX path relative to the root.
    pub(crate) relative: String,
    /// `docs`, `prp` or `root`.
    pub(crate) category: &'static str,
}

/// Why discovery failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DiscoverError {
    /// `path_prefix` leaves the root.
    PrefixOutside,
    /// The root itself cannot be read.
    Root(String),
}

fn posix(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(parts.join("/"))
}

/// Every `*.md` under `dir` (recursively, symbolic links resolved and
/// kept only inside `root`).
fn markdown_under(root: &Path, dir: &Path, category: &'static str, out: &mut Vec<DocFile>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(path) = entry.path().canonicalize() else {
            continue;
        };
        if !path.starts_with(root) {
            continue;
        }
        if path.is_dir() {
            markdown_under(root, &path, category, out);
        } else if path.extension().is_some_and(|ext| ext == "md") {
            if let Some(relative) = posix(root, &path) {
                out.push(DocFile {
                    absolute: path,
                    relative,
                    category,
                });
            }
        }
    }
}

/// The files `request` selects under `root`, sorted by path, each once.
/// Blocking.
pub(crate) fn discover(
    root: &Path,
    request: &ProjectDocsRequest,
) -> Result<Vec<DocFile>, DiscoverError> {
    let root = canonical_root(root).map_err(|error| DiscoverError::Root(error.to_string()))?;
    let mut files = Vec::new();
    if request.include_docs {
        let dir = match &request.path_prefix {
            Some(prefix) => {
                if escapes(prefix) {
                    return Err(DiscoverError::PrefixOutside);
                }
                let dir = root.join(prefix);
                match dir.canonicalize() {
                    Ok(dir) if !dir.starts_with(&root) => return Err(DiscoverError::PrefixOutside),
                    Ok(dir) => dir,
                    Err(_) => dir,
                }
            }
            None => root.join("docs"),
        };
        markdown_under(&root, &dir, "docs", &mut files);
    }
    if request.include_prps {
        markdown_under(&root, &root.join("PRPs"), "prp", &mut files);
    }
    if request.include_root {
        for name in ROOT_FILES {
            let path = root.join(name);
            if path.is_file() {
                files.push(DocFile {
                    absolute: path,
                    relative: name.to_owned(),
                    category: "root",
                });
            }
        }
    }
    files.sort_by(|a, b| a.relative.cmp(&b.relative));
    files.dedup_by(|b, a| a.relative == b.relative);
    Ok(files)
}

/// Reads one discovered file as UTF-8. Blocking.
pub(crate) fn read_doc(file: &DocFile, limit: u64) -> Result<String, ReadError> {
    read_utf8(&file.absolute, limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(prefix: Option<&str>) -> ProjectDocsRequest {
        ProjectDocsRequest {
            include_docs: true,
            include_prps: true,
            include_root: true,
            path_prefix: prefix.map(str::to_owned),
        }
    }

    #[test]
    fn escapes_catches_parents_and_absolute_paths() {
        assert!(escapes("../x.md"));
        assert!(escapes("docs/../../x.md"));
        assert!(escapes("/etc/passwd"));
        assert!(!escapes("docs/../README.md"));
        assert!(!escapes("./docs/a.md"));
    }

    #[test]
    fn reads_are_confined_to_the_root() {
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("project");
        std::fs::create_dir_all(root.join("docs")).unwrap();
        std::fs::write(root.join("docs/a.md"), "# A").unwrap();
        std::fs::write(outer.path().join("secret.md"), "secret").unwrap();
        std::fs::write(root.join("bin.md"), [0xff, 0xfe, 0x00]).unwrap();
        assert_eq!(read_confined(&root, "docs/a.md", 100).unwrap(), "# A");
        assert_eq!(
            read_confined(&root, "../secret.md", 100),
            Err(ReadError::Outside)
        );
        let absolute = outer.path().join("secret.md").display().to_string();
        assert_eq!(
            read_confined(&root, &absolute, 100),
            Err(ReadError::Outside)
        );
        assert_eq!(
            read_confined(&root, "../missing.md", 100),
            Err(ReadError::Outside)
        );
        assert_eq!(
            read_confined(&root, "docs/none.md", 100),
            Err(ReadError::NotFound)
        );
        assert_eq!(read_confined(&root, "docs", 100), Err(ReadError::NotFound));
        assert_eq!(read_confined(&root, "bin.md", 100), Err(ReadError::NotUtf8));
        assert_eq!(
            read_confined(&root, "docs/a.md", 2),
            Err(ReadError::TooLarge(2))
        );
    }

    #[test]
    fn discovery_selects_sorts_and_categorises() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for file in [
            "docs/b.md",
            "docs/guide/a.md",
            "docs/notes.txt",
            "PRPs/p1.md",
            "README.md",
            "other/x.md",
        ] {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "# x").unwrap();
        }
        let found: Vec<(String, &str)> = discover(root, &request(None))
            .unwrap()
            .into_iter()
            .map(|f| (f.relative, f.category))
            .collect();
        assert_eq!(
            found,
            [
                ("PRPs/p1.md".to_owned(), "prp"),
                ("README.md".to_owned(), "root"),
                ("docs/b.md".to_owned(), "docs"),
                ("docs/guide/a.md".to_owned(), "docs"),
            ]
        );
        let only_guide = discover(
            root,
            &ProjectDocsRequest {
                include_prps: false,
                include_root: false,
                ..request(Some("docs/guide"))
            },
        )
        .unwrap();
        assert_eq!(only_guide.len(), 1);
        assert_eq!(only_guide[0].relative, "docs/guide/a.md");
        assert_eq!(
            discover(root, &request(Some("../.."))),
            Err(DiscoverError::PrefixOutside)
        );
        assert_eq!(
            discover(root, &request(Some("/tmp"))),
            Err(DiscoverError::PrefixOutside)
        );
        assert_eq!(discover(root, &request(Some("missing"))).unwrap().len(), 2);
    }
}
