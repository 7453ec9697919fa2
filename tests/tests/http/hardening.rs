//! Hostile and concurrent clients: NUL characters, oversized JSON shapes,
//! concurrent writers, abandoned requests, stalled connections, deadlines,
//! seeder limits and counts, metrics.

use std::time::{Duration, Instant};

use forecastlab_tests::{both_backends, fixtures, jobs, Backend, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

both_backends!(
    nul_characters_are_refused_with_their_field,
    oversized_json_shapes_are_refused_before_parsing,
    concurrent_ingests_in_any_order_all_succeed,
    delete_during_a_seeder_run_never_fails,
    seeder_counts_only_what_it_wrote,
    seeder_requests_are_capped,
    big_seeder_runs_go_through_a_job,
    abandoned_requests_leave_later_requests_healthy,
    stalled_headers_and_bodies_are_cut_off,
    slow_requests_answer_504_and_finish_in_the_background,
    metrics_count_requests_by_route_template,
    shutdown_lets_in_flight_requests_finish,
);

/// Two stores, two products and January 2024 in the calendar.
async fn small_dimensions(app: &TestApp) {
    for code in ["S1", "S2"] {
        fixtures::store(app, code).insert().await;
    }
    for sku in ["P1", "P2"] {
        fixtures::product(app, sku).insert().await;
    }
    fixtures::calendar(app, fixtures::d("2024-01-01"), fixtures::d("2024-01-31")).await;
}

fn ingest_rows(reverse: bool) -> Value {
    let mut rows = Vec::new();
    for day in 1..=31 {
        for store in ["S1", "S2"] {
            for sku in ["P1", "P2"] {
                rows.push(json!({
                    "date": format!("2024-01-{day:02}"), "store_code": store, "sku": sku,
                    "quantity": day, "unit_price": "1.00", "total_amount": format!("{day}.00")
                }));
            }
        }
    }
    if reverse {
        rows.reverse();
    }
    json!({ "records": rows })
}

async fn nul_characters_are_refused_with_their_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    small_dimensions(&app).await;
    for (path, field) in [
        ("/dimensions/stores?search=ab%00c", "query.search"),
        ("/dimensions/stores?region=N%00", "query.region"),
        ("/dimensions/products?category=%00", "query.category"),
        ("/registry/runs?model_type=naive%00", "query.model_type"),
        ("/jobs/abc%00def", "path.job_id"),
        ("/registry/runs/abc%00", "path.run_id"),
        ("/registry/aliases/prod%00", "path.alias_name"),
    ] {
        app.get(path).await.assert_invalid(field);
    }
    let mut body = ingest_rows(false);
    body["records"][3]["store_code"] = json!("S1\u{0}");
    app.post("/ingest/sales-daily", &body)
        .await
        .assert_invalid("records.3.store_code");
    let run = json!({
        "model_type": "naive\u{0}", "model_config": {"model_type": "naive"},
        "data_window_start": "2024-01-01", "data_window_end": "2024-01-31",
        "store_id": 1, "product_id": 1
    });
    app.post("/registry/runs", &run)
        .await
        .assert_invalid("model_type");
    assert_eq!(app.rows("model_run").await, 0);
    let run = json!({
        "model_type": "naive", "model_config": {"model_type": "naive"},
        "data_window_start": "2024-01-01", "data_window_end": "2024-01-31",
        "store_id": 1, "product_id": 1
    });
    let created = app.post("/registry/runs", &run).await;
    let run_id = created.assert_status(201)["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.patch(
        &format!("/registry/runs/{run_id}"),
        &json!({"artifact_uri": "file\u{0}.bin"}),
    )
    .await
    .assert_invalid("artifact_uri");
    let stored = app.get(&format!("/registry/runs/{run_id}")).await;
    assert!(stored.assert_ok()["artifact_uri"].is_null());
    assert_eq!(app.rows("sales_daily").await, 0);
}

async fn oversized_json_shapes_are_refused_before_parsing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Three hundred thousand numbers where a model config goes: refused
    // before any of them becomes a JSON tree.
    let numbers = vec!["0"; 300_000].join(",");
    let body = format!(
        r#"{{"store_id":1,"product_id":1,"train_start_date":"2024-01-01","train_end_date":"2024-02-01","config":{{"model_type":"naive","x":[{numbers}]}}}}"#
    );
    app.send_raw(Method::POST, "/forecasting/train", "application/json", body)
        .await
        .assert_problem(413, "PAYLOAD_TOO_LARGE");
    let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
    app.send_raw(Method::POST, "/jobs", "application/json", deep)
        .await
        .assert_invalid("body");
    // Over MAX_BODY_BYTES: 413 without reading it.
    let app = TestApp::spawn_with(backend, &[("MAX_BODY_BYTES", "1000")]).await;
    app.send_raw(
        Method::POST,
        "/ingest/sales-daily",
        "application/json",
        "x".repeat(5000),
    )
    .await
    .assert_problem(413, "PAYLOAD_TOO_LARGE");
}

async fn concurrent_ingests_in_any_order_all_succeed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    small_dimensions(&app).await;
    let forward = ingest_rows(false);
    let backward = ingest_rows(true);
    for _ in 0..5 {
        let (a, b) = tokio::join!(
            app.post("/ingest/sales-daily", &forward),
            app.post("/ingest/sales-daily", &backward)
        );
        assert_eq!(a.assert_ok()["processed_count"], 124);
        assert_eq!(b.assert_ok()["processed_count"], 124);
    }
    assert_eq!(app.rows("sales_daily").await, 124);
}

async fn delete_during_a_seeder_run_never_fails(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let generate = json!({"seed": 3, "stores": 3, "products": 20,
        "start_date": "2024-01-01", "end_date": "2024-06-30"});
    for round in 0..3 {
        let (generated, deleted) = tokio::join!(app.post("/seeder/generate", &generate), async {
            tokio::time::sleep(Duration::from_millis(50 * round)).await;
            app.delete("/seeder/data").await
        });
        generated.assert_status(201);
        deleted.assert_status(200);
    }
    let verify = app.post("/seeder/verify", &json!({})).await;
    assert_eq!(verify.assert_ok()["passed"], true);
}

async fn seeder_counts_only_what_it_wrote(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let body = json!({"seed": 9, "stores": 2, "products": 3,
        "start_date": "2024-01-01", "end_date": "2024-01-31"});
    let first = app.post("/seeder/generate", &body).await;
    let created = first.assert_status(201)["records_created"].clone();
    for (table, key) in [
        ("store", "stores"),
        ("product", "products"),
        ("calendar", "calendar"),
        ("sales_daily", "sales"),
        ("inventory_snapshot_daily", "inventory"),
    ] {
        assert_eq!(created[key], app.rows(table).await, "{table}");
    }
    // The same run again writes nothing new and says so.
    let second = app.post("/seeder/generate", &body).await;
    let again = &second.assert_status(201)["records_created"];
    for key in ["stores", "products", "calendar", "sales", "inventory"] {
        assert_eq!(again[key], 0, "{key}");
    }
}

async fn seeder_requests_are_capped(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("SEEDER_MAX_ROWS_PER_REQUEST", "1000")]).await;
    let too_big =
        json!({"stores": 2, "products": 10, "start_date": "2024-01-01", "end_date": "2024-04-09"});
    let response = app.post("/seeder/generate", &too_big).await;
    response.assert_invalid("body");
    assert!(response.text.contains("SEEDER_MAX_ROWS_PER_REQUEST"));
    assert_eq!(app.rows("store").await, 0);
    let fits =
        json!({"stores": 2, "products": 10, "start_date": "2024-01-01", "end_date": "2024-01-31"});
    app.post("/seeder/generate", &fits).await.assert_status(201);
    let append = json!({"start_date": "2024-02-01", "end_date": "2024-12-31"});
    app.post("/seeder/append", &append)
        .await
        .assert_invalid("body");
}

/// A data set above the request cap is generated by a `seed` job with the
/// same body and result; the job has its own, larger cap, refuses dry runs
/// and leaves nothing behind when refused.
async fn big_seeder_runs_go_through_a_job(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[
            ("SEEDER_MAX_ROWS_PER_REQUEST", "1000"),
            ("SEEDER_MAX_ROWS_PER_JOB", "5000"),
        ],
    )
    .await;
    let body = json!({"seed": 7, "stores": 2, "products": 10, "start_date": "2024-01-01", "end_date": "2024-04-09"});
    let refused = app.post("/seeder/generate", &body).await;
    refused.assert_invalid("body");
    assert!(refused.text.contains("job_type"), "{}", refused.text);

    let queued = jobs::submit(&app, "seed", body.clone()).await;
    assert_eq!(queued["job_type"], "seed");
    let job = jobs::wait_for(&app, queued["job_id"].as_str().unwrap(), jobs::finished).await;
    assert_eq!(job["status"], "completed", "{job}");
    let result = &job["result"];
    assert_eq!(result["success"], true);
    assert_eq!(result["seed"], 7);
    assert_eq!(result["records_created"]["stores"], 2);
    assert_eq!(result["records_created"]["products"], 10);
    assert_eq!(result["records_created"]["calendar"], 100);
    assert_eq!(
        result["records_created"]["sales"],
        app.rows("sales_daily").await
    );
    assert!(app.rows("sales_daily").await > 1000);
    assert_eq!(job["progress"]["done"], job["progress"]["total"], "{job}");

    let jobs_before = app.get("/jobs").await.assert_ok()["total"].clone();
    let too_big =
        json!({"stores": 2, "products": 10, "start_date": "2023-01-01", "end_date": "2024-12-31"});
    let response = app
        .post("/jobs", &json!({"job_type": "seed", "params": too_big}))
        .await;
    response.assert_invalid("params");
    assert!(response.text.contains("SEEDER_MAX_ROWS_PER_JOB"));
    let dry = json!({"job_type": "seed", "params": {"stores": 1, "products": 1, "dry_run": true}});
    app.post("/jobs", &dry)
        .await
        .assert_invalid("params.dry_run");
    let bad = json!({"job_type": "seed", "params": {"stores": 0}});
    app.post("/jobs", &bad)
        .await
        .assert_invalid("params.stores");
    assert_eq!(app.get("/jobs").await.assert_ok()["total"], jobs_before);
}

/// A client that gives up on a long request must not break later,
/// unrelated requests (the handler finishes in its own task, so no
/// connection goes back to the pool half-way through a query).
async fn abandoned_requests_leave_later_requests_healthy(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    for _ in 0..3 {
        let abandoned = impatient
            .post(app.url("/seeder/generate"))
            .json(&json!({"seed": 1, "stores": 5, "products": 40,
                "start_date": "2023-01-01", "end_date": "2023-12-31"}))
            .send()
            .await;
        assert!(abandoned.is_err(), "the request should have timed out");
        let reads = (0..60).map(|i| {
            let path = match i % 3 {
                0 => "/seeder/status",
                1 => "/dimensions/products?page_size=5",
                _ => "/analytics/inventory-status",
            };
            app.get(path)
        });
        for response in futures::future::join_all(reads).await {
            response.assert_status(200);
        }
    }
}

async fn stalled_headers_and_bodies_are_cut_off(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[
            ("HEADER_READ_TIMEOUT_SECONDS", "1"),
            ("BODY_READ_TIMEOUT_SECONDS", "1"),
        ],
    )
    .await;
    let addr = app.base_url.trim_start_matches("http://").to_owned();
    // Headers that never finish: the server closes the connection.
    let mut stalled = TcpStream::connect(&addr).await.unwrap();
    stalled
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut buffer = Vec::new();
    let closed =
        tokio::time::timeout(Duration::from_secs(10), stalled.read_to_end(&mut buffer)).await;
    assert!(closed.is_ok(), "a stalled connection was kept open");
    assert!(started.elapsed() < Duration::from_secs(5));
    // A body that never arrives: 408.
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    slow.write_all(
        b"POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"job_type\"",
    )
    .await
    .unwrap();
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(10), slow.read(&mut answer))
        .await
        .expect("no answer to a stalled body")
        .unwrap();
    let text = String::from_utf8_lossy(&answer[..read]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("application/problem+json"), "{text}");
    assert_eq!(app.rows("job").await, 0);
}

async fn slow_requests_answer_504_and_finish_in_the_background(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("REQUEST_TIMEOUT_LONG_SECONDS", "1")]).await;
    let body = json!({"seed": 2, "stores": 6, "products": 40,
        "start_date": "2023-01-01", "end_date": "2023-12-31"});
    let started = Instant::now();
    let response = app.post("/seeder/generate", &body).await;
    response.assert_problem(504, "GATEWAY_TIMEOUT");
    assert!(started.elapsed() < Duration::from_secs(5));
    // The run itself completes (one transaction) rather than being cut.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let status = app.get("/seeder/status").await;
        if status.assert_ok()["sales"].as_i64().unwrap_or(0) > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the seeder run never committed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(app.rows("store").await, 6);
}

async fn metrics_count_requests_by_route_template(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for id in [
        "0123456789abcdef0123456789abcdef",
        "fedcba9876543210fedcba9876543210",
    ] {
        app.get(&format!("/jobs/{id}")).await.assert_status(404);
    }
    let response = app.get("/metrics").await;
    response.assert_status(200);
    assert!(response.content_type().starts_with("text/plain"));
    let text = &response.text;
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/jobs/{job_id}",status="404"}"#),
        "{text}"
    );
    assert!(!text.contains("0123456789abcdef0123456789abcdef"));
    assert!(text.contains("http_request_duration_seconds_bucket"));
    assert!(text.contains(r#"forecastlab_jobs{type="train",status="pending"} 0"#));
    assert!(text.contains("forecastlab_job_oldest_age_seconds"));
    assert!(text.contains(r#"forecastlab_db_pool_connections{state="idle"}"#));
    assert!(text.contains("forecastlab_db_pool_max_connections"));
}

async fn shutdown_lets_in_flight_requests_finish(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let body = json!({"seed": 4, "stores": 4, "products": 30,
        "start_date": "2023-01-01", "end_date": "2023-12-31"});
    let in_flight = {
        let request = app.client.post(app.url("/seeder/generate")).json(&body);
        tokio::spawn(async move { request.send().await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.begin_shutdown();
    let response = in_flight
        .await
        .unwrap()
        .expect("the in-flight request was cut");
    assert_eq!(response.status().as_u16(), 201);
    // New connections are refused once the listener is gone.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let fresh = reqwest::Client::new().get(app.url("/health")).send().await;
    assert!(fresh.is_err(), "the server still accepts connections");
    // The server closed its pool; look with a connection of our own.
    let db = forecastlab_server::Db::connect(&app.database_url)
        .await
        .unwrap();
    let stores: i64 = forecastlab_server::with_db!(&db, pool => {
        sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM store").fetch_one(pool).await
    })
    .unwrap();
    assert_eq!(stores, 4);
    db.close().await;
}
