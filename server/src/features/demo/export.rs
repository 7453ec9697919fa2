//! Export bundles of a workspace: `manifest.json`, one
//! `scenario_plans/<id>.json` per resolvable plan and a
//! `sha256sum`-compatible `checksums.sha256`, written under
//! `SHOWCASE_EXPORT_ROOT/<workspace_id>` and verified from disk. Soft
//! references resolve through the platform's routes in process; model
//! artifacts are referenced, never copied. Nothing is written to the
//! database.

use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use chrono::Utc;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::{
    client::PlatformClient,
    repo::WorkspaceRow,
    ws_schemas::{BundleFile, WorkspaceExport},
};
use crate::{artifacts::paths, problem::Problem};

/// Version of the bundle layout.
pub const BUNDLE_FORMAT_VERSION: i64 = 1;

/// Name of the checksum file.
pub const CHECKSUMS: &str = "checksums.sha256";

/// `value` with every object's keys sorted (recursively).
pub fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let sorted: Map<String, Value> = keys
                .into_iter()
                .map(|key| (key.clone(), canonical(&map[key])))
                .collect();
            Value::Object(sorted)
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// Sorted keys, 2-space indent, trailing newline.
pub fn json_bytes(value: &Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(&canonical(value)).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// SHA-256 of `bytes` in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The checksum file of `files` (`(relative path, bytes)`): one
/// `<hex>  <path>` line per file, sorted by path.
pub fn checksums(files: &[(String, Vec<u8>)]) -> String {
    let mut lines: Vec<(String, String)> = files
        .iter()
        .map(|(path, bytes)| (path.clone(), sha256_hex(bytes)))
        .collect();
    lines.sort();
    lines
        .into_iter()
        .map(|(path, hash)| format!("{hash}  {path}\n"))
        .collect()
}

/// Re-reads every file listed in `dir/checksums.sha256` and compares its
/// hash; false on any mismatch, missing file or unreadable list.
pub fn verify_bundle(dir: &Path) -> bool {
    let Ok(list) = std::fs::read_to_string(dir.join(CHECKSUMS)) else {
        return false;
    };
    let mut any = false;
    for line in list.lines() {
        let Some((hash, path)) = line.split_once("  ") else {
            return false;
        };
        let relative = Path::new(path);
        if relative.is_absolute() || relative.components().any(|c| c.as_os_str() == "..") {
            return false;
        }
        match std::fs::read(dir.join(relative)) {
            Ok(bytes) if sha256_hex(&bytes) == hash => any = true,
            _ => return false,
        }
    }
    any
}

/// Writes the bundle into `dir` (replacing it) and verifies it from disk:
/// `(files with checksums.sha256, validated)`.
pub fn write_bundle(
    dir: &Path,
    files: &[(String, Vec<u8>)],
) -> std::io::Result<(Vec<BundleFile>, bool)> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir.join("scenario_plans"))?;
    let sums = checksums(files).into_bytes();
    let mut all: Vec<(String, &[u8])> = files
        .iter()
        .map(|(path, bytes)| (path.clone(), bytes.as_slice()))
        .collect();
    all.push((CHECKSUMS.to_owned(), sums.as_slice()));
    all.sort_by(|a, b| a.0.cmp(&b.0));
    let mut listed = Vec::with_capacity(all.len());
    for (path, bytes) in &all {
        std::fs::write(dir.join(path), bytes)?;
        listed.push(BundleFile {
            path: path.clone(),
            sha256: sha256_hex(bytes),
            size_bytes: bytes.len() as u64,
        });
    }
    Ok((listed, verify_bundle(dir)))
}

fn write_failed(error: impl std::fmt::Display) -> Problem {
    tracing::error!(%error, "export bundle write failed");
    let mut problem = Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL_ERROR",
        format!("Export bundle write failed: {error}"),
    );
    problem.title = "Internal Server Error".to_owned();
    problem
}

/// Exports `row` (not `running`) under `root`.
pub async fn export(
    client: &PlatformClient,
    root: &Path,
    row: &WorkspaceRow,
) -> Result<WorkspaceExport, Problem> {
    let id = row.workspace_id.clone();
    let dir: PathBuf = paths::resolve_local(root, &id)
        .map(|parts| root.join(parts.join("/")))
        .map_err(write_failed)?;
    let created = &row.created_objects.0;
    let mut unresolved: Vec<Value> = Vec::new();
    let mut model_runs: Vec<Value> = Vec::new();
    for key in ["winning_run_id", "v2_run_id", "stale_alias_run_id"] {
        let Some(run_id) = created[key].as_str().filter(|s| !s.is_empty()) else {
            continue;
        };
        let (status, run) = client
            .send(
                axum::http::Method::GET,
                &format!("/registry/runs/{run_id}"),
                None,
            )
            .await
            .unwrap_or((0, Value::Null));
        if status != 200 {
            unresolved
                .push(json!({"key": key, "ref_id": run_id, "reason": format!("HTTP {status}")}));
            continue;
        }
        let mut verified = Value::Null;
        if run["artifact_uri"].is_string() && run["artifact_hash"].is_string() {
            if let Ok((200, body)) = client
                .send(
                    axum::http::Method::GET,
                    &format!("/registry/runs/{run_id}/verify"),
                    None,
                )
                .await
            {
                verified = body["verified"].clone();
            }
        }
        model_runs.push(json!({
            "key": key, "run_id": run_id, "model_type": run["model_type"],
            "status": run["status"], "artifact_uri": run["artifact_uri"],
            "artifact_hash": run["artifact_hash"], "artifact_verified": verified,
            "metrics": run["metrics"],
        }));
    }
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut plans: Vec<Value> = Vec::new();
    for plan_id in created["scenario_plan_ids"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let Some(plan_id) = plan_id.as_str().filter(|s| !s.is_empty()) else {
            continue;
        };
        let (status, plan) = client
            .send(
                axum::http::Method::GET,
                &format!("/scenarios/{plan_id}"),
                None,
            )
            .await
            .unwrap_or((0, Value::Null));
        if status != 200 || !plan_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            unresolved.push(json!({"key": "scenario_plan_ids", "ref_id": plan_id,
                                   "reason": format!("HTTP {status}")}));
            continue;
        }
        let file = format!("scenario_plans/{plan_id}.json");
        plans.push(json!({"scenario_id": plan_id, "file": file, "name": plan["name"]}));
        files.push((file, json_bytes(&plan)));
    }
    let exported_at = Utc::now();
    let plan_files: Vec<Value> = files
        .iter()
        .map(|(path, bytes)| json!({"path": path, "size_bytes": bytes.len()}))
        .collect();
    let manifest = json!({
        "bundle_format_version": BUNDLE_FORMAT_VERSION,
        "exported_at": exported_at,
        "workspace": serde_json::to_value(row.detail()).unwrap_or(Value::Null),
        "model_runs": model_runs,
        "scenario_plans": plans,
        "unresolved_references": unresolved,
        "files": plan_files,
    });
    files.push(("manifest.json".to_owned(), json_bytes(&manifest)));
    let target = dir.clone();
    let (listed, validated) = tokio::task::spawn_blocking(move || write_bundle(&target, &files))
        .await
        .map_err(write_failed)?
        .map_err(write_failed)?;
    Ok(WorkspaceExport {
        bundle_path: format!("{}/{id}", root.display()),
        workspace_id: id,
        bundle_format_version: BUNDLE_FORMAT_VERSION,
        exported_at,
        files: listed,
        scenario_plans_exported: plans.len() as i64,
        model_runs_referenced: model_runs.len() as i64,
        unresolved_references: unresolved,
        validated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_sorted_indented_and_terminated() {
        let text = String::from_utf8(json_bytes(&json!({"b": 1, "a": {"d": 2, "c": 3}}))).unwrap();
        assert_eq!(
            text,
            "{\n  \"a\": {\n    \"c\": 3,\n    \"d\": 2\n  },\n  \"b\": 1\n}\n"
        );
    }

    #[test]
    fn checksum_lines_are_sorted_with_two_spaces() {
        let files = vec![
            ("manifest.json".to_owned(), b"m".to_vec()),
            ("scenario_plans/x.json".to_owned(), b"x".to_vec()),
        ];
        let text = checksums(&files);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], format!("{}  manifest.json", sha256_hex(b"m")));
        assert!(lines[1].ends_with("  scenario_plans/x.json"));
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn a_tampered_bundle_fails_a_fresh_verification() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("w");
        let files = vec![
            ("manifest.json".to_owned(), b"{}\n".to_vec()),
            ("scenario_plans/p.json".to_owned(), b"{\"a\": 1}\n".to_vec()),
        ];
        let (listed, validated) = write_bundle(&bundle, &files).unwrap();
        assert!(validated);
        let paths: Vec<&str> = listed.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, [CHECKSUMS, "manifest.json", "scenario_plans/p.json"]);
        std::fs::write(bundle.join("scenario_plans/p.json"), b"{\"a\": 2}\n").unwrap();
        assert!(!verify_bundle(&bundle));
        // Writing again replaces the bundle and validates.
        let (_, validated) = write_bundle(&bundle, &files).unwrap();
        assert!(validated);
    }
}
