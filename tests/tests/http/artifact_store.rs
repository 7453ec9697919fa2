//! Artifacts on an S3-compatible store (`ARTIFACT_STORE_URL=s3://…`), tested
//! against real local S3 servers (moto, and SeaweedFS for the main flow):
//! train, predict, registry copies, verify with SHA-256, the path rules, a
//! store that goes away (also in the middle of a sharded batch), and a store
//! that cannot be reached at start — on SQLite and PostgreSQL.

use std::sync::Arc;

use forecastlab_core::artifact::sha256_hex;
use forecastlab_server::{
    cli,
    config::Settings,
    features::jobs::schemas::JobType,
    jobs::{handlers::Batch, Handlers, JobContext, JobFailure, JobHandler, WorkerPool},
};
use forecastlab_tests::{
    both_backends, fixtures,
    jobs::{finished, run, submit, wait_for},
    s3::S3Server,
    Backend, TestApp,
};
use futures::future::BoxFuture;
use object_store::{path::Path as ObjectPath, ObjectStore};
use serde_json::{json, Value};
use tokio::sync::Semaphore;

async fn spawn_on(backend: Backend, store: &S3Server, prefix: &str) -> TestApp {
    let vars = store.settings(prefix);
    let overrides: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    TestApp::spawn_with(backend, &overrides).await
}

fn train_body(config: Value) -> Value {
    json!({
        "store_id": 1, "product_id": 1,
        "train_start_date": "2024-01-01", "train_end_date": "2024-03-31",
        "config": config,
    })
}

fn predict_body(model_path: &str) -> Value {
    json!({"store_id": 1, "product_id": 1, "horizon": 5, "model_path": model_path})
}

async fn object(client: &impl ObjectStore, path: &str) -> Option<Vec<u8>> {
    match client.get(&ObjectPath::from(path)).await {
        Ok(result) => Some(result.bytes().await.expect("object body").to_vec()),
        Err(object_store::Error::NotFound { .. }) => None,
        Err(error) => panic!("S3 read of {path} failed: {error}"),
    }
}

/// Train, predict, registry copy, verify, the path rules and a store that
/// goes away, on `store` (a bucket named `forecastlab`).
async fn train_predict_and_verify(backend: Backend, store: S3Server) {
    let client = store.client().unwrap();
    let app = spawn_on(backend, &store, "team/a").await;
    fixtures::weekly_sales(&app, 1, 1, 91).await;

    let trained = app
        .post(
            "/forecasting/train",
            &train_body(json!({"model_type": "seasonal_naive"})),
        )
        .await
        .assert_ok()
        .clone();
    let key = trained["artifact_key"].as_str().unwrap().to_owned();
    let path = trained["model_path"].as_str().unwrap().to_owned();
    assert_eq!(
        path,
        format!("s3://forecastlab/team/a/models/model_{key}.flmodel")
    );
    let stored = object(&client, &format!("team/a/models/model_{key}.flmodel"))
        .await
        .expect("the artifact is in the bucket");
    assert_eq!(sha256_hex(&stored), trained["artifact_sha256"]);
    let local = app.dir.path().join("artifacts");
    assert!(!local.exists(), "nothing is written to the local disk");

    // Predict by path and by key: the same forecasts.
    let by_path = app.post("/forecasting/predict", &predict_body(&path)).await;
    let by_key = app.post("/forecasting/predict", &predict_body(&key)).await;
    assert_eq!(
        by_path.assert_ok()["forecasts"],
        by_key.assert_ok()["forecasts"]
    );
    assert_eq!(by_path.body["forecasts"].as_array().unwrap().len(), 5);

    // The path rules hold: outside the models location → 400, unknown key → 404.
    for bad in [
        format!("s3://other/team/a/models/model_{key}.flmodel"),
        format!("s3://forecastlab/team/model_{key}.flmodel"),
        format!("s3://forecastlab/team/a/models/../model_{key}.flmodel"),
        path.replace(".flmodel", ".bin"),
        format!("/tmp/model_{key}.flmodel"),
    ] {
        app.post("/forecasting/predict", &predict_body(&bad))
            .await
            .assert_problem(400, "BAD_REQUEST");
    }
    app.post("/forecasting/predict", &predict_body("abcdefabcdef"))
        .await
        .assert_problem_mentions(404, "NOT_FOUND", "abcdefabcdef");

    // A train job copies the artifact into the registry area; verify reads
    // it back from the bucket.
    let result = run(
        &app,
        "train",
        json!({"model_type": "naive", "store_id": 1, "product_id": 1,
               "start_date": "2024-01-01", "end_date": "2024-03-31"}),
    )
    .await;
    let run_id = result["run_id"].as_str().unwrap().to_owned();
    let run = app.get(&format!("/registry/runs/{run_id}")).await;
    let run = run.assert_ok().clone();
    let uri = run["artifact_uri"].as_str().unwrap().to_owned();
    assert_eq!(
        uri,
        format!(
            "runs/{run_id}/model_{}.flmodel",
            result["artifact_key"].as_str().unwrap()
        )
    );
    let copy = object(&client, &format!("team/a/registry/{uri}"))
        .await
        .expect("the registry copy is in the bucket");
    assert_eq!(run["artifact_hash"].as_str().unwrap(), sha256_hex(&copy));
    assert_eq!(run["artifact_size_bytes"], copy.len());
    let verify = format!("/registry/runs/{run_id}/verify");
    let verified = app.get(&verify).await;
    assert_eq!(verified.assert_ok()["verified"], true, "{}", verified.text);
    assert_eq!(verified.body["computed_hash"], run["artifact_hash"]);

    // A predict job through the run id reads the registry copy.
    let predicted = run_job_predict(&app, &run_id).await;
    assert_eq!(predicted["forecasts"].as_array().unwrap().len(), 3);

    // Tampered in the bucket: verified=false; gone: 404.
    let location = ObjectPath::from(format!("team/a/registry/{uri}"));
    client
        .put(&location, b"tampered".to_vec().into())
        .await
        .unwrap();
    let tampered = app.get(&verify).await;
    assert_eq!(tampered.assert_ok()["verified"], false);
    client.delete(&location).await.unwrap();
    app.get(&verify)
        .await
        .assert_problem_mentions(404, "NOT_FOUND", &uri);

    // A registry URI that leaves the root is refused, never read.
    app.patch(
        &format!("/registry/runs/{run_id}"),
        &json!({"artifact_uri": "../models/x", "artifact_hash": run["artifact_hash"]}),
    )
    .await
    .assert_ok();
    app.get(&verify).await.assert_problem(400, "BAD_REQUEST");

    // The store goes away: a training fails with a problem and its run is
    // never marked success without its artifact.
    drop(store);
    let queued = submit(
        &app,
        "train",
        json!({"model_type": "naive", "store_id": 1, "product_id": 1,
               "start_date": "2024-01-01", "end_date": "2024-03-31"}),
    )
    .await;
    let job = wait_for(&app, queued["job_id"].as_str().unwrap(), finished).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "ARTIFACT_STORE_UNAVAILABLE", "{job}");
    let detail = job["error"]["detail"].as_str().unwrap();
    assert!(detail.contains("s3://forecastlab/team/a"), "{detail}");
    assert!(!detail.contains("testing"), "no credentials: {detail}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM model_run WHERE status = 'success'")
            .await,
        1,
        "only the run trained while the store was up succeeded"
    );
}

async fn train_predict_and_verify_on_moto(backend: Backend) {
    let store = S3Server::moto("forecastlab").await.expect("moto");
    train_predict_and_verify(backend, store).await;
}

/// The same on SeaweedFS, a production object store (disk-backed, Go):
/// what runs on moto's in-memory emulation runs on a real server too.
async fn train_predict_and_verify_on_seaweedfs(backend: Backend) {
    let store = S3Server::seaweedfs("forecastlab").await.expect("SeaweedFS");
    train_predict_and_verify(backend, store).await;
}

async fn run_job_predict(app: &TestApp, run_id: &str) -> Value {
    run(app, "predict", json!({"run_id": run_id, "horizon": 3})).await
}

/// The standard batch handler, except that each shard waits for a permit
/// of `gate` first: the test decides when each shard may run.
#[derive(Debug)]
struct GatedShards {
    gate: Arc<Semaphore>,
}

impl JobHandler for GatedShards {
    fn run(&self, ctx: JobContext, params: Value) -> BoxFuture<'static, Result<Value, JobFailure>> {
        let gate = Arc::clone(&self.gate);
        Box::pin(async move {
            if ctx.shard().is_some() {
                gate.acquire().await.expect("gate open").forget();
            }
            Batch.run(ctx, params).await
        })
    }
}

async fn shards_in(app: &TestApp, batch_id: &str, status: &str) -> i64 {
    let listed = app
        .get(&format!("/jobs?parent_job_id={batch_id}&status={status}"))
        .await;
    listed.assert_ok()["total"].as_i64().unwrap()
}

async fn wait_for_shards(app: &TestApp, batch_id: &str, status: &str, count: i64) {
    let deadline = std::time::Instant::now() + forecastlab_tests::jobs::TIMEOUT;
    while shards_in(app, batch_id, status).await != count {
        assert!(
            std::time::Instant::now() < deadline,
            "no {count} {status} shards"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The bucket vanishes between the shards of a batch: the shard that ran
/// before keeps its runs, every later shard fails with a problem naming the
/// store, no run is marked success without its artifact, and the batch
/// ends failed.
async fn a_bucket_that_vanishes_fails_the_batch(backend: Backend) {
    let moto = S3Server::moto("vanishing").await.expect("moto");
    let mut vars = moto.settings("fleet");
    vars.push(("JOBS_BATCH_SHARD_SIZE".into(), "2".into()));
    vars.push(("JOBS_WORKERS".into(), "0".into()));
    let overrides: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let app = TestApp::spawn_with(backend, &overrides).await;
    fixtures::weekly_sales(&app, 2, 3, 60).await;

    // A worker of its own (another process would do the same), whose
    // shards wait at the gate.
    let worker_dir = tempfile::tempdir().unwrap();
    let mut pairs: Vec<(&str, String)> =
        vars.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    pairs.push(("DATABASE_URL", app.database_url.clone()));
    let models = worker_dir.path().join("models").display().to_string();
    let registry = worker_dir.path().join("registry").display().to_string();
    pairs.push(("FORECAST_MODEL_ARTIFACTS_DIR", models));
    pairs.push(("REGISTRY_ARTIFACT_ROOT", registry));
    let worker_state = cli::prepare(settings(&pairs)).await.unwrap();
    let gate = Arc::new(Semaphore::new(0));
    let handlers = Handlers::standard().with(
        JobType::Batch,
        Arc::new(GatedShards {
            gate: Arc::clone(&gate),
        }),
    );
    let pool = WorkerPool::start_with(&worker_state, 1, handlers);

    let queued = submit(
        &app,
        "batch",
        json!({"model_type": "naive", "start_date": "2024-01-01", "end_date": "2024-02-29"}),
    )
    .await;
    let batch_id = queued["job_id"].as_str().unwrap().to_owned();
    wait_for(&app, &batch_id, |job| job["shards"]["total"] == 3).await;

    // The first shard runs with the bucket in place.
    gate.add_permits(1);
    wait_for_shards(&app, &batch_id, "completed", 1).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM model_run WHERE status = 'success'")
            .await,
        2
    );

    // The bucket vanishes (moto's reset drops every bucket); the other
    // shards run.
    reqwest::Client::new()
        .post(format!("{}/moto-api/reset", moto.endpoint))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    gate.add_permits(2);
    let batch = wait_for(&app, &batch_id, finished).await;
    assert_eq!(batch["status"], "failed", "{batch}");
    assert_eq!(batch["error_type"], "ARTIFACT_STORE_UNAVAILABLE", "{batch}");
    assert_eq!(batch["error"]["status"], 502);
    let detail = batch["error"]["detail"].as_str().unwrap();
    assert!(detail.starts_with("Shard 2 of 3"), "{detail}");
    assert!(detail.contains("s3://vanishing/fleet"), "{detail}");
    assert_eq!(
        batch["shards"],
        json!({"total": 3, "pending": 0, "running": 0, "completed": 1, "failed": 2, "cancelled": 0})
    );
    let failed = app
        .get(&format!("/jobs?parent_job_id={batch_id}&status=failed"))
        .await;
    for shard in failed.assert_ok()["jobs"].as_array().unwrap() {
        assert_eq!(
            shard["error"]["code"], "ARTIFACT_STORE_UNAVAILABLE",
            "{shard}"
        );
        assert!(shard["result"].is_null());
    }

    // Only the first shard's two series succeeded; every other run that
    // was registered failed, naming the store; none is left open.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM model_run WHERE status = 'success'")
            .await,
        2
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM model_run WHERE status IN ('pending', 'running')")
            .await,
        0
    );
    let failed_runs = app
        .count(
            "SELECT COUNT(*) FROM model_run WHERE status = 'failed' \
             AND error_message LIKE '%s3://vanishing/fleet%'",
        )
        .await;
    assert_eq!(
        failed_runs,
        app.count("SELECT COUNT(*) FROM model_run WHERE status = 'failed'")
            .await
    );
    assert!(failed_runs >= 2, "one failed run per failed shard at least");
    pool.shutdown().await;
}

both_backends!(
    train_predict_and_verify_on_moto,
    train_predict_and_verify_on_seaweedfs,
    a_bucket_that_vanishes_fails_the_batch
);

fn settings(pairs: &[(&str, String)]) -> Settings {
    Settings::from_lookup(|name| {
        pairs
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.clone())
    })
    .expect("settings")
}

/// An unreachable store or a missing bucket stops the start with an error
/// naming the URL, before anything else is configured.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusable_store_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = settings(&[
        ("DATABASE_URL", database.clone()),
        ("ARTIFACT_STORE_URL", "s3://nowhere/prefix".into()),
        (
            "ARTIFACT_STORE_ENDPOINT",
            format!("http://127.0.0.1:{closed}"),
        ),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_REGION", "us-east-1".into()),
    ]);
    let error = cli::prepare(unreachable).await.unwrap_err();
    assert!(
        format!("{error:#}").contains("s3://nowhere/prefix"),
        "{error:#}"
    );
    assert!(
        !dir.path().join("db.sqlite").exists(),
        "the server stopped before touching the database"
    );

    let moto = S3Server::moto("present").await.expect("moto");
    let mut vars = moto.settings("p");
    vars.retain(|(key, _)| key != "ARTIFACT_STORE_URL");
    let mut pairs: Vec<(&str, String)> =
        vars.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    pairs.push(("DATABASE_URL", database));
    pairs.push(("ARTIFACT_STORE_URL", "s3://missing-bucket/p".into()));
    let error = cli::prepare(settings(&pairs)).await.unwrap_err();
    assert!(
        format!("{error:#}").contains("s3://missing-bucket/p"),
        "{error:#}"
    );
    pairs.retain(|(key, _)| *key != "ARTIFACT_STORE_URL");
    pairs.push(("ARTIFACT_STORE_URL", "gs://bucket/p".into()));
    let error = cli::prepare(settings(&pairs)).await.unwrap_err();
    assert!(
        format!("{error:#}").contains("s3://bucket/prefix"),
        "{error:#}"
    );
}
