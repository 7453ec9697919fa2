//! The database going away and coming back: a private PostgreSQL instance
//! (`initdb` + `pg_ctl` on a private port and directory) is stopped for a
//! few seconds under load. Requests during the outage get 503 problems (no
//! 500, no hang past the acquire timeout), `/health/ready` says not ready,
//! and everything recovers by itself, with no job lost or run twice.

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use forecastlab_tests::{fixtures, jobs, TestApp};
use serde_json::json;

/// Where Debian keeps the server binaries (`PG_BIN_DIR` overrides).
fn pg_bin(tool: &str) -> PathBuf {
    let dir = std::env::var("PG_BIN_DIR").unwrap_or_else(|_| {
        let root = Path::new("/usr/lib/postgresql");
        std::fs::read_dir(root)
            .ok()
            .and_then(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|entry| entry.path().join("bin"))
                    .filter(|bin| bin.join("pg_ctl").exists())
                    .max()
            })
            .map_or_else(
                || "/usr/lib/postgresql/15/bin".into(),
                |p| p.display().to_string(),
            )
    });
    Path::new(&dir).join(tool)
}

/// A PostgreSQL server of this test's own, stopped on drop.
struct PrivatePostgres {
    data: PathBuf,
    port: u16,
    as_postgres_user: bool,
    _dir: tempfile::TempDir,
}

impl PrivatePostgres {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let data = dir.path().join("data");
        // PostgreSQL refuses to run as root: run its tools as `postgres`.
        let as_postgres_user = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0");
        if as_postgres_user {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(status.success());
        }
        let port = free_port();
        let server = Self {
            data,
            port,
            as_postgres_user,
            _dir: dir,
        };
        server.run(
            "initdb",
            &[
                "-D",
                &server.data.display().to_string(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
            ],
        );
        server.ctl_start();
        server
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let binary = pg_bin(tool);
        let output = if self.as_postgres_user {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&binary)
                .args(args)
                .output()
        } else {
            Command::new(&binary).args(args).output()
        }
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", binary.display()));
        assert!(
            output.status.success(),
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn ctl_start(&self) {
        let data = self.data.display().to_string();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port, data
        );
        let log = self.data.join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &["-D", &data, "-o", &options, "-l", &log, "-w", "start"],
        );
    }

    fn ctl_stop(&self) {
        let data = self.data.display().to_string();
        self.run("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"]);
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.data.display().to_string();
        let binary = pg_bin("pg_ctl");
        let args = ["-D", data.as_str(), "-m", "immediate", "stop"];
        let _ = if self.as_postgres_user {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&binary)
                .args(args)
                .output()
        } else {
            Command::new(&binary).args(args).output()
        };
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_database_goes_away_and_comes_back() {
    let postgres = PrivatePostgres::start();
    let app = TestApp::spawn_at(
        &postgres.url(),
        &[
            ("DATABASE_ACQUIRE_TIMEOUT_SECONDS", "2"),
            ("JOBS_WORKERS", "2"),
            ("JOBS_POLL_INTERVAL_MS", "50"),
            ("JOBS_HEARTBEAT_SECONDS", "1"),
        ],
    )
    .await;
    let store = fixtures::store(&app, "S1").insert().await;
    let product = fixtures::product(&app, "P1").insert().await;
    fixtures::calendar(&app, fixtures::d("2024-01-01"), fixtures::d("2024-03-31")).await;
    let sales: Vec<_> = (0..90)
        .map(|day| {
            let date = fixtures::d("2024-01-01") + chrono::Days::new(day);
            fixtures::Sale::new(
                &date.to_string(),
                store,
                product,
                3 + (day % 5) as i64,
                "2.00",
                &format!("{}.00", 2 * (3 + day % 5)),
            )
        })
        .collect();
    fixtures::sales(&app, &sales).await;
    let train = json!({"model_type": "naive", "store_id": store, "product_id": product,
        "start_date": "2024-01-01", "end_date": "2024-03-31"});

    // Readers hammer the API for the whole test and record what they get.
    let stop = Arc::new(AtomicBool::new(false));
    let seen: Arc<Mutex<Vec<(u16, Duration, String)>>> = Arc::default();
    let readers: Vec<_> = (0..4)
        .map(|i| {
            let (client, base, stop, seen) = (
                app.client.clone(),
                app.base_url.clone(),
                stop.clone(),
                seen.clone(),
            );
            tokio::spawn(async move {
                let path = if i % 2 == 0 {
                    "/analytics/kpis?start_date=2024-01-01&end_date=2024-03-31"
                } else {
                    "/seeder/status"
                };
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let response = client.get(format!("{base}{path}")).send().await;
                    let (status, content_type) = match response {
                        Ok(response) => (
                            response.status().as_u16(),
                            response
                                .headers()
                                .get("content-type")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("")
                                .to_owned(),
                        ),
                        Err(_) => (0, String::new()),
                    };
                    seen.lock()
                        .unwrap()
                        .push((status, started.elapsed(), content_type));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        })
        .collect();

    // Jobs queued just before the outage.
    let mut job_ids = Vec::new();
    for _ in 0..4 {
        let job = jobs::submit(&app, "train", train.clone()).await;
        job_ids.push(job["job_id"].as_str().unwrap().to_owned());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    postgres.ctl_stop();
    let outage_started = Instant::now();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.assert_ok()["database"], "disconnected");
    let refused = app
        .post("/jobs", &json!({"job_type": "train", "params": train}))
        .await;
    refused.assert_problem(503, "DATABASE_UNAVAILABLE");
    assert!(refused.headers.get("retry-after").is_some());
    tokio::time::sleep(Duration::from_secs(2)).await;
    postgres.ctl_start();
    let outage = outage_started.elapsed();

    // Everything recovers by itself.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = app.get("/health/ready").await;
        if ready.body["database"] == "connected" {
            break;
        }
        assert!(Instant::now() < deadline, "the app never reconnected");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let late = jobs::submit(&app, "train", train.clone()).await;
    job_ids.push(late["job_id"].as_str().unwrap().to_owned());
    for job_id in &job_ids {
        let job = jobs::wait_for(&app, job_id, jobs::finished).await;
        assert_eq!(job["status"], "completed", "{job}");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.await.unwrap();
    }

    let seen = std::mem::take(&mut *seen.lock().unwrap());
    let unavailable = seen.iter().filter(|(status, _, _)| *status == 503).count();
    assert!(unavailable > 0, "no request saw the outage ({outage:?})");
    for (status, took, content_type) in seen.iter() {
        assert!(
            *status == 200 || *status == 503,
            "a request during or around the outage answered {status}"
        );
        if *status == 503 {
            assert_eq!(content_type, "application/problem+json");
        }
        assert!(
            *took < Duration::from_secs(10),
            "a request hung for {took:?}"
        );
    }
    let last: Vec<u16> = seen
        .iter()
        .rev()
        .take(8)
        .map(|(status, _, _)| *status)
        .collect();
    assert!(last.iter().all(|status| *status == 200), "{last:?}");
    // Every job ran exactly once: one registry run each, one completion.
    let runs = app.rows("model_run").await;
    assert_eq!(runs, job_ids.len() as i64);
    let completed = app
        .count("SELECT CAST(COUNT(*) AS BIGINT) FROM job WHERE status = 'completed'")
        .await;
    assert_eq!(completed, job_ids.len() as i64);
    drop(app);
}
