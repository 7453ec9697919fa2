//! Finds libxgboost for the `enabled` feature.
//!
//! The `xgb` crate links `-lxgboost`; its own build script would download
//! a prebuilt library, which an offline build cannot. This script looks in
//! `XGBOOST_LIB_DIR`, else asks Python where the `xgboost` package (PyPI `xgboost-cpu` or
//! `xgboost`) keeps its `lib/libxgboost.so`, copies the library and the
//! OpenMP runtime the wheel bundles into `OUT_DIR`, and adds `OUT_DIR` to
//! the link search path. Cargo puts search paths inside the target
//! directory on the loader path of `cargo run`, `cargo test` and
//! `cargo bench`, so nothing else is needed there; a deployed binary needs
//! the library on its loader path (see the README).

use std::{
    env, fs,
    path::{Path, PathBuf},
    process::Command,
};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=XGBOOST_LIB_DIR");
    println!("cargo:rerun-if-env-changed=PYTHON");
    if env::var_os("CARGO_FEATURE_ENABLED").is_none() {
        return;
    }
    // XGBOOST_LIB_DIR wins when it holds the library (the workspace's
    // `.cargo/config.toml` points it at this crate, which does not, only to
    // stop the `xgb` crate from trying to download one).
    let lib_dir = env::var_os("XGBOOST_LIB_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.join("libxgboost.so").is_file())
        .or_else(python_lib_dir)
        .unwrap_or_else(|| {
            panic!(
                "libxgboost not found: set XGBOOST_LIB_DIR to the directory holding \
                 libxgboost.so, or `pip install xgboost-cpu` so that python3 can import xgboost"
            )
        });
    let library = lib_dir.join("libxgboost.so");
    if !library.is_file() {
        panic!("{} does not exist", library.display());
    }
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    copy(&library, &out_dir);
    // The wheel bundles its own OpenMP runtime next to the package
    // (`xgboost_cpu.libs/` or `xgboost.libs/`), found through an $ORIGIN
    // run path that no longer holds after the copy.
    if let Some(site) = lib_dir.parent().and_then(Path::parent) {
        for bundle in ["xgboost_cpu.libs", "xgboost.libs"] {
            if let Ok(entries) = fs::read_dir(site.join(bundle)) {
                for entry in entries.flatten() {
                    copy(&entry.path(), &out_dir);
                }
            }
        }
    }
    println!("cargo:rustc-link-search=native={}", out_dir.display());
    println!("cargo:rerun-if-changed={}", library.display());
}

fn copy(file: &Path, dir: &Path) {
    let target = dir.join(file.file_name().expect("file name"));
    fs::copy(file, &target).unwrap_or_else(|e| {
        panic!(
            "cannot copy {} to {}: {e}",
            file.display(),
            target.display()
        )
    });
}

fn python_lib_dir() -> Option<PathBuf> {
    let python = env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let output = Command::new(python)
        .args([
            "-c",
            "import os, xgboost; print(os.path.join(os.path.dirname(xgboost.__file__), 'lib'))",
        ])
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let dir = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (!dir.is_empty()).then(|| PathBuf::from(dir))
}
