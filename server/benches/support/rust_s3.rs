//! S3-compatible servers written in Rust for the capacity benchmark: an
//! `s3s` backend — the project's filesystem one (`s3s-fs`) or the bench's
//! in-memory one ([`super::memory_s3`]) — served by hyper on a free
//! 127.0.0.1 port, on a runtime of its own (as a separate server process
//! would be), so the S3 figure measures our client path rather than a
//! Python server. Every request's handler time is recorded, so the report
//! can tell the server's own work (for `s3s-fs`: MD5 of the body, a
//! temporary file renamed into place, two JSON side files per object, the
//! body read back in 4 KiB steps) from the rest.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

const KEY: &str = "bench";
const SECRET: &str = "bench-secret";

/// Handler time of every request, by method.
#[derive(Debug, Default)]
pub(crate) struct HandlerTimes {
    put: Vec<f64>,
    get: Vec<f64>,
}

impl HandlerTimes {
    /// How many PUT and GET (and other) requests were handled, then the
    /// median handler seconds of each; forgets them.
    pub(crate) fn take(&mut self) -> ((usize, usize), (f64, f64)) {
        let counts = (self.put.len(), self.get.len());
        let put = super::median(&mut std::mem::take(&mut self.put));
        let get = super::median(&mut std::mem::take(&mut self.get));
        (counts, (put, get))
    }
}

/// A running `s3s-fs` server with one bucket, stopped on drop.
#[derive(Debug)]
pub(crate) struct RustS3 {
    /// `http://127.0.0.1:<port>`.
    pub(crate) endpoint: String,
    /// The bucket created at start.
    pub(crate) bucket: String,
    /// Handler times so far.
    pub(crate) times: Arc<Mutex<HandlerTimes>>,
    runtime: Option<tokio::runtime::Runtime>,
    _root: tempfile::TempDir,
}

impl RustS3 {
    /// Starts `s3s-fs` on a free port over a fresh temporary directory
    /// holding `bucket`.
    pub(crate) fn start(bucket: &str) -> anyhow::Result<Self> {
        let root = tempfile::tempdir()?;
        std::fs::create_dir(root.path().join(bucket))?;
        let fs = s3s_fs::FileSystem::new(root.path())
            .map_err(|error| anyhow::anyhow!("s3s-fs root: {error:?}"))?;
        Self::serve(bucket, fs, root)
    }

    /// Starts the in-memory backend on a free port (any bucket name works).
    pub(crate) fn start_in_memory(bucket: &str) -> anyhow::Result<Self> {
        Self::serve(
            bucket,
            super::memory_s3::MemoryS3::default(),
            tempfile::tempdir()?,
        )
    }

    /// Serves `backend` on a free port; `root` lives as long as the server.
    fn serve(bucket: &str, backend: impl s3s::S3, root: tempfile::TempDir) -> anyhow::Result<Self> {
        let mut builder = s3s::service::S3ServiceBuilder::new(backend);
        builder.set_auth(s3s::auth::SimpleAuth::from_single(KEY, SECRET));
        let service = builder.build();
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let times = Arc::new(Mutex::new(HandlerTimes::default()));
        let recorded = Arc::clone(&times);
        runtime.spawn(async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                return;
            };
            while let Ok((socket, _)) = listener.accept().await {
                let _ = socket.set_nodelay(true);
                let (service, times) = (service.clone(), Arc::clone(&recorded));
                let timed = hyper::service::service_fn(
                    move |request: hyper::Request<hyper::body::Incoming>| {
                        let (service, times) = (service.clone(), Arc::clone(&times));
                        let is_put = request.method() == hyper::Method::PUT;
                        async move {
                            let started = Instant::now();
                            let response = hyper::service::Service::call(&service, request).await;
                            let seconds = started.elapsed().as_secs_f64();
                            if let Ok(mut times) = times.lock() {
                                if is_put {
                                    times.put.push(seconds);
                                } else {
                                    times.get.push(seconds);
                                }
                            }
                            response
                        }
                    },
                );
                tokio::spawn(async move {
                    let io = hyper_util::rt::TokioIo::new(socket);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, timed)
                        .await;
                });
            }
        });
        // Wait until it accepts connections.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            anyhow::ensure!(Instant::now() < deadline, "s3s-fs did not come up");
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            bucket: bucket.to_owned(),
            times,
            runtime: Some(runtime),
            _root: root,
        })
    }

    /// The settings that point the app at this server under `prefix`.
    pub(crate) fn settings(&self, prefix: &str) -> Vec<(String, String)> {
        vec![
            (
                "ARTIFACT_STORE_URL".into(),
                format!("s3://{}/{prefix}", self.bucket),
            ),
            ("ARTIFACT_STORE_ENDPOINT".into(), self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID".into(), KEY.into()),
            ("AWS_SECRET_ACCESS_KEY".into(), SECRET.into()),
            ("AWS_REGION".into(), "us-east-1".into()),
        ]
    }
}

impl Drop for RustS3 {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
