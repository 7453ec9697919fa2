//! /registry: run lifecycle and every error case, list filters and sorting,
//! duplicate policy, artifact verification, aliases with their history,
//! and run comparison — on SQLite and PostgreSQL.

use forecastlab_tests::{
    both_backends,
    json::{merged, without},
    Backend, TestApp, TestResponse,
};
use reqwest::Method;
use serde_json::{json, Value};

fn run_body(model_type: &str, store_id: i64) -> Value {
    json!({
        "model_type": model_type,
        "model_config": {"model_type": model_type, "season_length": 7},
        "data_window_start": "2024-01-01",
        "data_window_end": "2024-03-31",
        "store_id": store_id,
        "product_id": 1,
    })
}

async fn create(app: &TestApp, body: &Value) -> Value {
    let response = app.post("/registry/runs", body).await;
    response.assert_status(201).clone()
}

async fn set_status(app: &TestApp, run_id: &str, status: &str) -> TestResponse {
    app.patch(
        &format!("/registry/runs/{run_id}"),
        &json!({ "status": status }),
    )
    .await
}

/// `POST /registry/aliases`.
async fn set_alias(app: &TestApp, body: &Value) -> TestResponse {
    app.post("/registry/aliases", body).await
}

/// A run moved to `success`.
async fn success_run(app: &TestApp, model_type: &str, store_id: i64) -> String {
    let run = create(app, &run_body(model_type, store_id)).await;
    let id = run["run_id"].as_str().unwrap().to_owned();
    set_status(app, &id, "running").await.assert_ok();
    set_status(app, &id, "success").await.assert_ok();
    id
}

async fn create_and_get(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut body = run_body("seasonal_naive", 3);
    body["feature_config"] = json!({"lags": [1, 7]});
    body["agent_context"] = json!({"agent_id": "a1", "session_id": "s1"});
    body["git_sha"] = json!("abc123");
    body["runtime_info_extras"] = json!({
        "feature_frame_version": 2,
        "feature_groups": {"calendar": ["dow", "month"]},
        "os": "overridden-by-caller",
    });
    let run = create(&app, &body).await;
    let id = run["run_id"].as_str().unwrap();
    assert_eq!(id.len(), 32);
    assert!(id
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    assert_eq!(run["status"], "pending");
    assert_eq!(run["model_family"], "baseline");
    // json.dumps({"model_type": "seasonal_naive", "season_length": 7}, sort_keys=True)
    // hashed with SHA-256 in Python: the same 16 hex characters.
    assert_eq!(run["config_hash"], "8c8b14e8fb5318d9");
    assert_eq!(run["feature_frame_version"], 2);
    assert_eq!(run["feature_groups"], json!({"calendar": ["dow", "month"]}));
    assert_eq!(run["runtime_info"]["os"], "overridden-by-caller");
    assert!(run["runtime_info"]["forecastlab_version"].is_string());
    assert_eq!(run["agent_context"]["agent_id"], "a1");
    assert_eq!(run["feature_config"], json!({"lags": [1, 7]}));
    assert!(run["started_at"].is_null());
    assert!(run["created_at"].as_str().unwrap().len() >= 20);

    let fetched = app.get(&format!("/registry/runs/{id}")).await;
    assert_eq!(fetched.assert_ok(), &run);

    // Key order does not change the hash; runs without extras have no
    // feature frame version.
    let mut reordered = run_body("seasonal_naive", 4);
    reordered["model_config"] = json!({"season_length": 7, "model_type": "seasonal_naive"});
    let other = create(&app, &reordered).await;
    assert_eq!(other["config_hash"], run["config_hash"]);
    assert!(other["feature_frame_version"].is_null());
    assert!(other["feature_groups"].is_null());

    let missing = app
        .get("/registry/runs/0123456789abcdef0123456789abcdef")
        .await;
    let body = missing.assert_problem(404, "NOT_FOUND");
    assert_eq!(
        body["detail"],
        "Run not found: 0123456789abcdef0123456789abcdef"
    );
}

async fn create_validation_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let naive = run_body("naive", 1);
    let cases: [(Value, &[&str]); 3] = [
        (
            merged(&naive, &json!({"data_window_end": "2023-12-31"})),
            &["data_window_end"],
        ),
        (
            merged(&run_body("naive", 0), &json!({"product_id": -1})),
            &["store_id", "product_id"],
        ),
        (without(&naive, &["model_config"]), &["model_config"]),
    ];
    for (body, fields) in cases {
        app.post("/registry/runs", &body)
            .await
            .assert_invalid_fields(fields);
    }
    let extra = merged(&naive, &json!({"surprise": 1}));
    let response = app.post("/registry/runs", &extra).await;
    response.assert_problem(422, "VALIDATION_ERROR");
    assert_eq!(response.body["errors"][0]["type"], "extra_forbidden");
    for patch in [
        json!({"model_type": "x".repeat(51)}),
        json!({"git_sha": "a".repeat(41)}),
        json!({"agent_context": {"agent_id": "a", "other": 1}}),
    ] {
        app.post("/registry/runs", &merged(&naive, &patch))
            .await
            .assert_problem(422, "VALIDATION_ERROR");
    }
    app.send_raw(Method::POST, "/registry/runs", "application/json", "{nope")
        .await
        .assert_problem(422, "VALIDATION_ERROR");

    assert_eq!(app.rows("model_run").await, 0);
}

async fn lifecycle_transitions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let run = create(&app, &run_body("naive", 1)).await;
    let id = run["run_id"].as_str().unwrap();

    // pending → success is not allowed: 400 listing the valid targets.
    let response = set_status(&app, id, "success").await;
    let problem = response.assert_problem(400, "BAD_REQUEST");
    assert_eq!(
        problem["detail"],
        "Invalid transition from pending to success. Valid transitions: ['running', 'archived']"
    );
    assert_eq!(problem["valid_transitions"], json!(["running", "archived"]));
    // Same-state "transitions" are invalid too.
    set_status(&app, id, "pending")
        .await
        .assert_problem(400, "BAD_REQUEST");

    let running = set_status(&app, id, "running").await;
    let running = running.assert_ok();
    assert_eq!(running["status"], "running");
    assert!(running["started_at"].is_string());
    assert!(running["completed_at"].is_null());

    // A rejected transition changes nothing, not even the other fields.
    let response = app
        .patch(
            &format!("/registry/runs/{id}"),
            &json!({"status": "pending", "metrics": {"mae": 1.0}}),
        )
        .await;
    response.assert_problem(400, "BAD_REQUEST");
    let unchanged = app.get(&format!("/registry/runs/{id}")).await;
    assert_eq!(unchanged.body["status"], "running");
    assert!(unchanged.body["metrics"].is_null());

    let done = app
        .patch(
            &format!("/registry/runs/{id}"),
            &json!({"status": "success", "metrics": {"mae": 1.5, "wape": 10.0}}),
        )
        .await;
    let done = done.assert_ok().clone();
    assert_eq!(done["status"], "success");
    assert!(done["completed_at"].is_string());
    assert_eq!(done["started_at"], running["started_at"]);
    assert_eq!(done["metrics"], json!({"mae": 1.5, "wape": 10.0}));

    // metrics replace the whole object; null fields are never applied.
    let patched = app
        .patch(
            &format!("/registry/runs/{id}"),
            &json!({"metrics": {"rmse": 2.0}, "artifact_uri": null, "error_message": "note"}),
        )
        .await;
    let patched = patched.assert_ok();
    assert_eq!(patched["metrics"], json!({"rmse": 2.0}));
    assert_eq!(patched["error_message"], "note");
    assert_eq!(patched["status"], "success");

    let archived = set_status(&app, id, "archived").await;
    assert_eq!(archived.assert_ok()["status"], "archived");
    assert_eq!(archived.body["completed_at"], done["completed_at"]);
    let problem = set_status(&app, id, "running").await;
    let problem = problem.assert_problem(400, "BAD_REQUEST");
    assert_eq!(problem["valid_transitions"], json!([]));

    // running → failed sets completed_at.
    let other = create(&app, &run_body("naive", 2)).await;
    let other = other["run_id"].as_str().unwrap();
    set_status(&app, other, "running").await.assert_ok();
    let failed = set_status(&app, other, "failed").await;
    assert!(failed.assert_ok()["completed_at"].is_string());
}

async fn patch_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let missing = app
        .patch(
            "/registry/runs/ffffffffffffffffffffffffffffffff",
            &json!({"status": "running"}),
        )
        .await;
    missing.assert_problem(404, "NOT_FOUND");
    let run = create(&app, &run_body("naive", 1)).await;
    let id = run["run_id"].as_str().unwrap();
    let path = format!("/registry/runs/{id}");
    for (body, field) in [
        (json!({"status": "done"}), "status"),
        (json!({"artifact_size_bytes": -1}), "artifact_size_bytes"),
        (json!({"artifact_hash": "xyz"}), "artifact_hash"),
        (json!({"error_message": "e".repeat(2001)}), "error_message"),
        (json!({"artifact_uri": "u".repeat(501)}), "artifact_uri"),
        (json!({"run_id": "x"}), "run_id"),
    ] {
        app.patch(&path, &body)
            .await
            .assert_invalid_fields(&[field]);
    }
    let unchanged = app.get(&path).await;
    assert_eq!(unchanged.body, run);
}

async fn list_filters_and_sorting(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut ids = Vec::new();
    for (model_type, store) in [("naive", 1), ("seasonal_naive", 2), ("moving_average", 3)] {
        let run = create(&app, &run_body(model_type, store)).await;
        ids.push(run["run_id"].as_str().unwrap().to_owned());
    }
    set_status(&app, &ids[1], "running").await.assert_ok();

    let all = app.get("/registry/runs").await;
    let all = all.assert_ok();
    assert_eq!(all["total"], 3);
    assert_eq!(all["page"], 1);
    assert_eq!(all["page_size"], 20);
    let listed: Vec<&str> = all["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        vec![ids[2].as_str(), ids[1].as_str(), ids[0].as_str()]
    );

    let filtered = app.get("/registry/runs?status=running").await;
    assert_eq!(filtered.body["total"], 1);
    assert_eq!(filtered.body["runs"][0]["run_id"], ids[1].as_str());
    let by_type = app.get("/registry/runs?model_type=naive&store_id=1").await;
    assert_eq!(by_type.body["total"], 1);
    let none = app.get("/registry/runs?product_id=2").await;
    assert_eq!(none.body["total"], 0);

    let sorted = app
        .get("/registry/runs?sort_by=model_type&sort_order=asc")
        .await;
    let types: Vec<&str> = sorted.body["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["model_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, vec!["moving_average", "naive", "seasonal_naive"]);
    let by_store = app
        .get("/registry/runs?sort_by=store_id&sort_order=desc")
        .await;
    assert_eq!(by_store.body["runs"][0]["store_id"], 3);

    // Unknown sort columns (including SQL) fall back to created_at desc.
    let fallback = app
        .get("/registry/runs?sort_by=id%3BDROP%20TABLE%20model_run&sort_order=asc")
        .await;
    assert_eq!(fallback.assert_ok()["runs"][0]["run_id"], ids[2].as_str());
    assert_eq!(app.rows("model_run").await, 3);

    let page = app.get("/registry/runs?page=2&page_size=2").await;
    assert_eq!(page.body["runs"].as_array().unwrap().len(), 1);
    assert_eq!(page.body["total"], 3);
    assert_eq!(page.body["runs"][0]["run_id"], ids[0].as_str());

    for (query, field) in [
        ("status=bogus", "query.status"),
        ("page=0", "query.page"),
        ("page_size=101", "query.page_size"),
        ("store_id=0", "query.store_id"),
        ("page=abc", "query.page"),
    ] {
        app.get(&format!("/registry/runs?{query}"))
            .await
            .assert_invalid_fields(&[field]);
    }
}

async fn duplicate_policy_deny(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("REGISTRY_DUPLICATE_POLICY", "deny")]).await;
    let first = create(&app, &run_body("naive", 1)).await;
    let response = app.post("/registry/runs", &run_body("naive", 1)).await;
    let problem = response.assert_problem(409, "CONFLICT");
    assert_eq!(
        problem["detail"],
        format!(
            "Duplicate run detected: {}",
            first["run_id"].as_str().unwrap()
        )
    );
    assert_eq!(app.rows("model_run").await, 1);
    // Another window, series or frame version is not a duplicate.
    create(&app, &run_body("naive", 2)).await;
    let mut v2 = run_body("naive", 1);
    v2["runtime_info_extras"] = json!({"feature_frame_version": 2});
    create(&app, &v2).await;
    // An archived run no longer blocks.
    let id = first["run_id"].as_str().unwrap();
    set_status(&app, id, "archived").await.assert_ok();
    create(&app, &run_body("naive", 1)).await;
    assert_eq!(app.rows("model_run").await, 4);
}

async fn duplicate_policy_detect_and_allow(backend: Backend) {
    for policy in ["detect", "allow"] {
        let app = TestApp::spawn_with(backend, &[("REGISTRY_DUPLICATE_POLICY", policy)]).await;
        let a = create(&app, &run_body("naive", 1)).await;
        let b = create(&app, &run_body("naive", 1)).await;
        assert_ne!(a["run_id"], b["run_id"]);
        assert_eq!(a["config_hash"], b["config_hash"]);
    }
}

/// SHA-256 of b"hello" (the standard test vector).
const HELLO_SHA256: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

async fn verify_outcomes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let root = app.dir.path().join("artifacts").join("registry");
    std::fs::create_dir_all(root.join("runs")).unwrap();
    std::fs::write(root.join("runs/model.bin"), b"hello").unwrap();
    let id = success_run(&app, "naive", 1).await;
    let path = format!("/registry/runs/{id}");
    let verify = format!("/registry/runs/{id}/verify");

    // No artifact yet.
    let response = app.get(&verify).await;
    assert_eq!(
        response.assert_problem(400, "BAD_REQUEST")["detail"],
        "Run has no associated artifact"
    );
    // An artifact but no hash.
    app.patch(&path, &json!({"artifact_uri": "runs/model.bin"}))
        .await
        .assert_ok();
    let response = app.get(&verify).await;
    assert_eq!(
        response.assert_problem(400, "BAD_REQUEST")["detail"],
        "Run has no stored artifact hash"
    );
    // Matching hash.
    app.patch(
        &path,
        &json!({"artifact_hash": HELLO_SHA256, "artifact_size_bytes": 5}),
    )
    .await
    .assert_ok();
    let response = app.get(&verify).await;
    assert_eq!(
        response.assert_ok(),
        &json!({
            "verified": true,
            "run_id": id,
            "artifact_uri": "runs/model.bin",
            "stored_hash": HELLO_SHA256,
            "computed_hash": HELLO_SHA256,
        })
    );
    // Tampered file: 200 with verified=false and the mismatch.
    std::fs::write(root.join("runs/model.bin"), b"hellO").unwrap();
    let response = app.get(&verify).await;
    let body = response.assert_ok();
    assert_eq!(body["verified"], false);
    let error = body["error"].as_str().unwrap();
    assert!(
        error.starts_with(&format!(
            "Checksum mismatch for runs/model.bin: expected {HELLO_SHA256}, got "
        )),
        "{error}"
    );
    assert!(!error.ends_with(HELLO_SHA256));
    // Missing file: 404.
    std::fs::remove_file(root.join("runs/model.bin")).unwrap();
    let response = app.get(&verify).await;
    assert_eq!(
        response.assert_problem(404, "NOT_FOUND")["detail"],
        "Artifact not found: runs/model.bin"
    );
    // A URI that leaves the registry root is refused, never read.
    let other = success_run(&app, "naive", 2).await;
    app.patch(
        &format!("/registry/runs/{other}"),
        &json!({"artifact_uri": "../../etc/passwd", "artifact_hash": HELLO_SHA256}),
    )
    .await
    .assert_ok();
    app.get(&format!("/registry/runs/{other}/verify"))
        .await
        .assert_problem(400, "BAD_REQUEST");
    // A name no file can have (over 255 bytes) is a 400 too, not a 500
    // from the file system.
    let long = "0".repeat(300);
    app.patch(
        &format!("/registry/runs/{other}"),
        &json!({"artifact_uri": long, "artifact_hash": HELLO_SHA256}),
    )
    .await
    .assert_ok();
    let response = app.get(&format!("/registry/runs/{other}/verify")).await;
    let detail = response.assert_problem(400, "BAD_REQUEST")["detail"].clone();
    assert!(
        detail
            .as_str()
            .unwrap()
            .starts_with("Artifact path has a name longer than 255 bytes"),
        "{detail}"
    );
    app.get("/registry/runs/00000000000000000000000000000000/verify")
        .await
        .assert_problem(404, "NOT_FOUND");
}

async fn aliases_and_history(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = success_run(&app, "naive", 1).await;
    let second = success_run(&app, "seasonal_naive", 2).await;
    let pending = create(&app, &run_body("naive", 3)).await;
    let pending = pending["run_id"].as_str().unwrap();

    // Only success runs can be aliased; unknown runs are a 400.
    let response = set_alias(&app, &json!({"alias_name": "prod", "run_id": pending})).await;
    assert_eq!(
        response.assert_problem(400, "BAD_REQUEST")["detail"],
        format!("Only SUCCESS runs can be aliased. Run {pending} has status: pending")
    );
    let response = set_alias(&app, &json!({"alias_name": "prod", "run_id": "nope"})).await;
    assert_eq!(
        response.assert_problem(400, "BAD_REQUEST")["detail"],
        "Run not found: nope"
    );
    for name in ["Prod", "-prod", "pr od", ""] {
        let response = set_alias(&app, &json!({"alias_name": name, "run_id": first})).await;
        response.assert_invalid_fields(&["alias_name"]);
    }
    set_alias(
        &app,
        &json!({"alias_name": "prod", "run_id": first, "extra": 1}),
    )
    .await
    .assert_problem(422, "VALIDATION_ERROR");
    assert_eq!(app.rows("deployment_alias").await, 0);
    assert_eq!(app.rows("alias_history").await, 0);

    let created = set_alias(
        &app,
        &json!({"alias_name": "prod", "run_id": first, "description": "v1",
                    "actor": "alice", "reason": "first release"}),
    )
    .await;
    created.assert_status(201);
    let created = created.body.clone();
    assert_eq!(created["run_id"], first.as_str());
    assert_eq!(created["run_status"], "success");
    assert_eq!(created["model_type"], "naive");
    assert_eq!(created["description"], "v1");

    // Move onto another run: 201, created_at kept, description cleared.
    let moved = set_alias(
        &app,
        &json!({"alias_name": "prod", "run_id": second, "actor": "bob"}),
    )
    .await;
    moved.assert_status(201);
    assert_eq!(moved.body["run_id"], second.as_str());
    assert_eq!(moved.body["model_type"], "seasonal_naive");
    assert!(moved.body["description"].is_null());
    assert_eq!(moved.body["created_at"], created["created_at"]);
    // Same run again: an update.
    set_alias(
        &app,
        &json!({"alias_name": "prod", "run_id": second, "description": "v2"}),
    )
    .await
    .assert_ok();
    set_alias(&app, &json!({"alias_name": "a-canary_1", "run_id": first}))
        .await
        .assert_ok();

    let list = app.get("/registry/aliases").await;
    let names: Vec<&str> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["alias_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["a-canary_1", "prod"]);
    let got = app.get("/registry/aliases/prod").await;
    assert_eq!(got.assert_ok()["description"], "v2");

    // Archiving the run shows through the alias.
    set_status(&app, &second, "archived").await.assert_ok();
    let got = app.get("/registry/aliases/prod").await;
    assert_eq!(got.body["run_status"], "archived");

    let deleted = app
        .delete("/registry/aliases/prod?actor=carol&reason=rollback")
        .await;
    deleted.assert_status(204);
    app.get("/registry/aliases/prod")
        .await
        .assert_problem(404, "NOT_FOUND");
    let again = app.delete("/registry/aliases/prod").await;
    assert_eq!(
        again.assert_problem(404, "NOT_FOUND")["detail"],
        "Alias not found: prod"
    );

    let history = app.get("/registry/aliases/prod/history").await;
    let history = history.assert_ok();
    assert_eq!(history["alias_name"], "prod");
    let entries = history["history"].as_array().unwrap();
    let summary: Vec<(String, Value, Value, Value)> = entries
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["from_run_id"].clone(),
                e["to_run_id"].clone(),
                e["actor"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("create".into(), Value::Null, json!(first), json!("alice")),
            ("move".into(), json!(first), json!(second), json!("bob")),
            ("update".into(), json!(second), json!(second), Value::Null),
            ("delete".into(), json!(second), Value::Null, json!("carol")),
        ]
    );
    assert_eq!(entries[0]["reason"], "first release");
    assert_eq!(entries[3]["reason"], "rollback");
    assert!(entries
        .windows(2)
        .all(|w| w[0]["created_at"].as_str() <= w[1]["created_at"].as_str()));
    app.get("/registry/aliases/never-existed/history")
        .await
        .assert_problem(404, "NOT_FOUND");
    app.delete("/registry/aliases/prod?actor=".to_owned().as_str())
        .await
        .assert_problem(404, "NOT_FOUND");
    let long_actor = format!("/registry/aliases/a-canary_1?actor={}", "x".repeat(101));
    app.delete(&long_actor)
        .await
        .assert_problem(422, "VALIDATION_ERROR");
    assert_eq!(app.rows("deployment_alias").await, 1);
}

async fn compare_runs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = create(&app, &run_body("naive", 1)).await;
    let mut body_b = run_body("naive", 1);
    body_b["model_config"] = json!({"model_type": "naive", "window_size": 3});
    body_b["data_window_end"] = json!("2024-04-30");
    let b = create(&app, &body_b).await;
    let (a, b) = (a["run_id"].as_str().unwrap(), b["run_id"].as_str().unwrap());
    app.patch(
        &format!("/registry/runs/{a}"),
        &json!({"metrics": {"mae": 2.0, "wape": 12.0, "note": "x"}}),
    )
    .await
    .assert_ok();
    app.patch(
        &format!("/registry/runs/{b}"),
        &json!({"metrics": {"mae": 1.5, "rmse": 2.5}}),
    )
    .await
    .assert_ok();
    let response = app.get(&format!("/registry/compare/{a}/{b}")).await;
    let diff = response.assert_ok();
    assert_eq!(diff["run_a"]["run_id"], a);
    assert_eq!(diff["run_b"]["run_id"], b);
    assert_eq!(
        diff["config_diff"],
        json!({"season_length": {"a": 7, "b": null}, "window_size": {"a": null, "b": 3}})
    );
    assert_eq!(
        diff["metrics_diff"]["mae"],
        json!({"a": 2.0, "b": 1.5, "diff": -0.5})
    );
    assert_eq!(
        diff["metrics_diff"]["rmse"],
        json!({"a": null, "b": 2.5, "diff": null})
    );
    assert_eq!(
        diff["metrics_diff"]["wape"],
        json!({"a": 12.0, "b": null, "diff": null})
    );
    assert_eq!(
        diff["metrics_diff"]["note"],
        json!({"a": null, "b": null, "diff": null})
    );
    assert_eq!(
        diff["data_window_diff"],
        json!({"data_window_end": {"a": "2024-03-31", "b": "2024-04-30"}})
    );
    // Same run: empty diffs.
    let same = app.get(&format!("/registry/compare/{a}/{a}")).await;
    assert_eq!(same.body["config_diff"], json!({}));
    assert_eq!(same.body["data_window_diff"], json!({}));

    let missing = app
        .get(&format!(
            "/registry/compare/{a}/ffffffffffffffffffffffffffffffff"
        ))
        .await;
    assert_eq!(
        missing.assert_problem(404, "NOT_FOUND")["detail"],
        format!("One or both runs not found: {a}, ffffffffffffffffffffffffffffffff")
    );
}

both_backends!(
    create_and_get,
    create_validation_changes_nothing,
    lifecycle_transitions,
    patch_errors,
    list_filters_and_sorting,
    duplicate_policy_deny,
    duplicate_policy_detect_and_allow,
    verify_outcomes,
    aliases_and_history,
    compare_runs,
);
