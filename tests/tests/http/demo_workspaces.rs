//! /demo/workspaces and /demo/approval-events: list filters and sorts,
//! detail, strict PATCH, DELETE, the reference health probe (a deleted run
//! is dead) and the export bundle (checked with `sha256sum -c`) — on
//! SQLite and PostgreSQL.

use forecastlab_tests::{both_backends, Backend, TestApp};
use serde_json::{json, Value};

both_backends!(
    list_filters_and_sorts,
    detail_patch_and_delete,
    health_marks_a_deleted_run_dead,
    export_writes_a_verifiable_bundle,
    export_errors,
    approval_events_are_flattened,
);

/// Inserts a workspace row: `(id digit, name, status, seed, tags, archived,
/// pinned, created_at)`.
#[allow(clippy::too_many_arguments)]
async fn row(
    app: &TestApp,
    n: u8,
    name: Option<&str>,
    status: &str,
    seed: i64,
    tags: Value,
    archived: bool,
    pinned: bool,
    created_at: &str,
) -> String {
    let id = format!("{n:x}").repeat(32);
    let name = name.map_or("NULL".to_owned(), |n| format!("'{n}'"));
    app.exec(&format!(
        "INSERT INTO showcase_workspace (workspace_id, name, status, seed, scenario, reset, \
         skip_seed, tags, archived, pinned, config_schema_version, created_at, updated_at) \
         VALUES ('{id}', {name}, '{status}', {seed}, 'demo_minimal', false, true, '{tags}', \
         {archived}, {pinned}, 2, '{created_at}', '{created_at}')"
    ))
    .await;
    id
}

async fn names(app: &TestApp, query: &str) -> (Vec<Value>, i64) {
    let response = app.get(&format!("/demo/workspaces{query}")).await;
    let body = response.assert_ok();
    let names = body["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].clone())
        .collect();
    (names, body["total"].as_i64().unwrap())
}

async fn seed_rows(app: &TestApp) {
    row(
        app,
        1,
        Some("alpha-run"),
        "completed",
        5,
        json!(["demo", "q1"]),
        false,
        false,
        "2024-01-01T00:00:00Z",
    )
    .await;
    row(
        app,
        2,
        Some("beta-run"),
        "failed",
        1,
        json!(["demo"]),
        false,
        false,
        "2024-01-02T00:00:00Z",
    )
    .await;
    row(
        app,
        3,
        None,
        "completed",
        9,
        json!([]),
        false,
        false,
        "2024-01-03T00:00:00Z",
    )
    .await;
    row(
        app,
        4,
        Some("gamma"),
        "completed",
        3,
        json!(["q1"]),
        false,
        true,
        "2023-12-01T00:00:00Z",
    )
    .await;
    row(
        app,
        5,
        Some("alpha-archived"),
        "completed",
        2,
        json!(["demo"]),
        true,
        false,
        "2024-01-05T00:00:00Z",
    )
    .await;
}

async fn list_filters_and_sorts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (empty, total) = names(&app, "").await;
    assert!(empty.is_empty());
    assert_eq!(total, 0);
    seed_rows(&app).await;
    // Default: archived hidden, pinned first, then newest.
    let (list, total) = names(&app, "").await;
    assert_eq!(
        list,
        [
            json!("gamma"),
            Value::Null,
            json!("beta-run"),
            json!("alpha-run")
        ]
    );
    assert_eq!(total, 4);
    let (list, total) = names(&app, "?include_archived=true&limit=2&offset=1").await;
    assert_eq!(list, [json!("alpha-archived"), Value::Null]);
    assert_eq!(total, 5);
    // Name search is case-insensitive, on names only; LIKE wildcards are literal.
    let (list, _) = names(&app, "?q=ALPHA&include_archived=true").await;
    assert_eq!(list, [json!("alpha-archived"), json!("alpha-run")]);
    let (list, total) = names(&app, "?q=a%25").await;
    assert!(list.is_empty());
    assert_eq!(total, 0);
    // Every tag must match.
    let (list, total) = names(&app, "?tags=demo").await;
    assert_eq!(list, [json!("beta-run"), json!("alpha-run")]);
    assert_eq!(total, 2);
    let (list, _) = names(&app, "?tags=demo&tags=q1").await;
    assert_eq!(list, [json!("alpha-run")]);
    // Sorts: names ascending with the unnamed row last; seeds; unknown
    // columns fall back to newest first.
    let (list, _) = names(&app, "?sort_by=name&sort_order=asc").await;
    assert_eq!(
        list,
        [
            json!("gamma"),
            json!("alpha-run"),
            json!("beta-run"),
            Value::Null
        ]
    );
    let (list, _) = names(&app, "?sort_by=seed&sort_order=desc").await;
    assert_eq!(
        list,
        [
            json!("gamma"),
            Value::Null,
            json!("alpha-run"),
            json!("beta-run")
        ]
    );
    let (list, _) = names(&app, "?sort_by=bogus&sort_order=asc").await;
    assert_eq!(
        list,
        [
            json!("gamma"),
            Value::Null,
            json!("beta-run"),
            json!("alpha-run")
        ]
    );
    let (list, _) = names(&app, "?sort_by=status&sort_order=asc").await;
    assert_eq!(list[0], json!("gamma"));
    assert_eq!(list[3], json!("beta-run"));
    // Invalid queries.
    for (query, field) in [
        ("?limit=0", "query.limit"),
        ("?limit=101", "query.limit"),
        ("?offset=-1", "query.offset"),
        ("?q=a", "query.q"),
        ("?sort_order=up", "query.sort_order"),
        ("?include_archived=yes", "query.include_archived"),
        ("?limit=x", "query.limit"),
    ] {
        app.get(&format!("/demo/workspaces{query}"))
            .await
            .assert_invalid(field);
    }
}

async fn detail_patch_and_delete(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed_rows(&app).await;
    let id = "1".repeat(32);
    let path = format!("/demo/workspaces/{id}");
    let detail = app.get(&path).await;
    let detail = detail.assert_ok().clone();
    assert_eq!(detail["workspace_id"], id.as_str());
    assert_eq!(detail["tags"], json!(["demo", "q1"]));
    assert_eq!(detail["created_objects"], json!({}));
    assert_eq!(detail["approval_events"], Value::Null);
    // `{}` changes nothing.
    let same = app.patch(&path, &json!({})).await;
    assert_eq!(same.assert_ok()["name"], "alpha-run");
    let patched = app
        .patch(
            &path,
            &json!({"name": null, "notes": "kept for the review", "tags": ["x"], "pinned": true}),
        )
        .await;
    let patched = patched.assert_ok();
    assert_eq!(patched["name"], Value::Null);
    assert_eq!(patched["notes"], "kept for the review");
    assert_eq!(patched["tags"], json!(["x"]));
    assert_eq!(patched["pinned"], true);
    assert_eq!(patched["archived"], false);
    assert_eq!(patched["status"], "completed");
    for (body, field) in [
        (json!({"status": "failed"}), "status"),
        (json!({"tags": null}), "tags"),
        (json!({"archived": null}), "archived"),
        (json!({"pinned": "yes"}), "pinned"),
        (json!({"name": "Not Valid"}), "name"),
        (json!({"notes": "x".repeat(2001)}), "notes"),
        (json!({"tags": vec!["t"; 21]}), "tags"),
    ] {
        app.patch(&path, &body).await.assert_invalid(field);
    }
    let missing = format!("/demo/workspaces/{}", "9".repeat(32));
    app.get(&missing).await.assert_problem(404, "NOT_FOUND");
    app.patch(&missing, &json!({"pinned": true}))
        .await
        .assert_problem(404, "NOT_FOUND");
    app.delete(&missing).await.assert_problem(404, "NOT_FOUND");
    app.get("/demo/workspaces/not-an-id")
        .await
        .assert_problem(404, "NOT_FOUND");
    let deleted = app.delete(&path).await;
    assert_eq!(deleted.status, 204);
    app.get(&path).await.assert_problem(404, "NOT_FOUND");
    assert_eq!(app.rows("showcase_workspace").await, 4);
}

/// A kept, seeded legacy run: its workspace id.
async fn kept_run(app: &TestApp) -> (String, Value) {
    let response = app
        .post(
            "/demo/run",
            &json!({"skip_seed": false, "preservation": "keep", "workspace_name": "kept"}),
        )
        .await;
    let body = response.assert_ok().clone();
    assert_eq!(body["overall_status"], "pass", "{body}");
    (body["workspace_id"].as_str().unwrap().to_owned(), body)
}

async fn health_marks_a_deleted_run_dead(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, body) = kept_run(&app).await;
    let path = format!("/demo/workspaces/{id}/health");
    let health = app.get(&path).await;
    let health = health.assert_ok().clone();
    assert_eq!(health["workspace_status"], "completed");
    assert_eq!(health["alive"], 2, "{health}");
    assert_eq!(health["dead"], 0);
    let keys: Vec<&str> = health["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["winning_run_id", "alias"]);
    // Delete the alias and the run behind it.
    let run_id = body["winning_run_id"].as_str().unwrap();
    assert_eq!(
        app.delete("/registry/aliases/demo-production").await.status,
        204
    );
    app.exec(&format!("DELETE FROM model_run WHERE run_id = '{run_id}'"))
        .await;
    let health = app.get(&path).await;
    let health = health.assert_ok();
    assert_eq!(health["dead"], 2, "{health}");
    assert_eq!(health["alive"], 0);
    assert_eq!(health["references"][0]["status"], "dead");
    assert_eq!(
        health["references"][0]["probe_path"],
        format!("/registry/runs/{run_id}")
    );
    app.get(&format!("/demo/workspaces/{}/health", "9".repeat(32)))
        .await
        .assert_problem(404, "NOT_FOUND");
}

async fn export_writes_a_verifiable_bundle(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, body) = kept_run(&app).await;
    let export = app
        .post(&format!("/demo/workspaces/{id}/export"), &json!({}))
        .await;
    let export = export.assert_ok().clone();
    assert_eq!(export["validated"], true);
    assert_eq!(export["bundle_format_version"], 1);
    assert_eq!(export["model_runs_referenced"], 1);
    assert_eq!(export["scenario_plans_exported"], 0);
    let paths: Vec<&str> = export["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["checksums.sha256", "manifest.json"]);
    let bundle = app.dir.path().join("artifacts/showcase").join(&id);
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["workspace"]["workspace_id"], id.as_str());
    assert_eq!(manifest["model_runs"][0]["run_id"], body["winning_run_id"]);
    assert_eq!(manifest["model_runs"][0]["artifact_verified"], true);
    assert_eq!(manifest["unresolved_references"], json!([]));
    // Anyone can verify the bundle with standard tools.
    let check = std::process::Command::new("sha256sum")
        .args(["-c", "checksums.sha256"])
        .current_dir(&bundle)
        .output()
        .expect("sha256sum runs");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    // A tampered file no longer verifies; a re-export rewrites the bundle.
    std::fs::write(bundle.join("manifest.json"), b"{}\n").unwrap();
    let check = std::process::Command::new("sha256sum")
        .args(["-c", "--quiet", "checksums.sha256"])
        .current_dir(&bundle)
        .output()
        .unwrap();
    assert!(!check.status.success());
    let again = app
        .post(&format!("/demo/workspaces/{id}/export"), &json!({}))
        .await;
    assert_eq!(again.assert_ok()["validated"], true);
    // A deleted run becomes an unresolved reference; the export still works.
    let run_id = body["winning_run_id"].as_str().unwrap();
    assert_eq!(
        app.delete("/registry/aliases/demo-production").await.status,
        204
    );
    app.exec(&format!("DELETE FROM model_run WHERE run_id = '{run_id}'"))
        .await;
    let dangling = app
        .post(&format!("/demo/workspaces/{id}/export"), &json!({}))
        .await;
    let dangling = dangling.assert_ok();
    assert_eq!(dangling["model_runs_referenced"], 0);
    assert_eq!(
        dangling["unresolved_references"],
        json!([{"key": "winning_run_id", "ref_id": run_id, "reason": "HTTP 404"}])
    );
}

async fn export_errors(backend: Backend) {
    let blocker = tempfile::NamedTempFile::new().unwrap();
    let root = blocker.path().join("bundles");
    let app =
        TestApp::spawn_with(backend, &[("SHOWCASE_EXPORT_ROOT", root.to_str().unwrap())]).await;
    seed_rows(&app).await;
    let missing = format!("/demo/workspaces/{}/export", "9".repeat(32));
    app.post(&missing, &json!({}))
        .await
        .assert_problem(404, "NOT_FOUND");
    let running = row(
        &app,
        6,
        Some("busy"),
        "running",
        1,
        json!([]),
        false,
        false,
        "2024-02-01T00:00:00Z",
    )
    .await;
    app.post(&format!("/demo/workspaces/{running}/export"), &json!({}))
        .await
        .assert_problem_mentions(409, "CONFLICT", "still in progress");
    // The export root lies under a regular file: nothing can be written.
    let failed = app
        .post(
            &format!("/demo/workspaces/{}/export", "2".repeat(32)),
            &json!({}),
        )
        .await;
    failed.assert_problem_mentions(500, "INTERNAL_ERROR", "Export bundle write failed");
    let row = app
        .get(&format!("/demo/workspaces/{}", "2".repeat(32)))
        .await;
    assert_eq!(row.assert_ok()["status"], "failed", "nothing changed");
}

async fn approval_events_are_flattened(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let empty = app.get("/demo/approval-events").await;
    assert_eq!(empty.assert_ok()["events"], json!([]));
    seed_rows(&app).await;
    let events = |ids: &[&str]| {
        json!(ids
            .iter()
            .map(|id| json!({"action_id": id, "decision": "approved", "auto_approved": true}))
            .collect::<Vec<_>>())
        .to_string()
    };
    app.exec(&format!(
        "UPDATE showcase_workspace SET approval_events = '{}' WHERE workspace_id = '{}'",
        events(&["a1", "a2"]),
        "1".repeat(32)
    ))
    .await;
    app.exec(&format!(
        "UPDATE showcase_workspace SET approval_events = '{}' WHERE workspace_id = '{}'",
        events(&["b1"]),
        "2".repeat(32)
    ))
    .await;
    let body = app.get("/demo/approval-events").await;
    let body = body.assert_ok();
    assert_eq!(body["total"], 3);
    let ids: Vec<&str> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["b1", "a1", "a2"], "newest workspace first");
    assert_eq!(body["events"][0]["workspace_name"], "beta-run");
    assert_eq!(body["events"][1]["workspace_id"], "1".repeat(32));
    let limited = app.get("/demo/approval-events?limit=2").await;
    assert_eq!(limited.assert_ok()["total"], 2);
    for bad in ["0", "201", "x"] {
        app.get(&format!("/demo/approval-events?limit={bad}"))
            .await
            .assert_invalid("query.limit");
    }
}
