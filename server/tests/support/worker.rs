//! `forecastlab worker` child processes for the multi-process tests and
//! benchmarks: each runs in its own working directory, with the settings
//! it is given, and is SIGKILLed when dropped.

use std::{
    path::Path,
    process::{Child, Command, Stdio},
};

/// A running `forecastlab worker`.
pub(crate) struct WorkerProcess(Child);

impl WorkerProcess {
    /// Starts `forecastlab worker --workers <workers>` in `dir` on the
    /// database `url`, its local artifact directories inside `dir`, with the
    /// extra settings `env`; bound to CPU `core` when given (through
    /// util-linux's `taskset`, which execs the worker in place), so that the
    /// process sees one core, as on a one-core machine.
    pub(crate) fn spawn(
        url: &str,
        dir: &Path,
        workers: usize,
        env: &[(String, String)],
        core: Option<usize>,
    ) -> Self {
        let binary = env!("CARGO_BIN_EXE_forecastlab");
        let mut command = match core {
            Some(core) => {
                let mut taskset = Command::new("taskset");
                taskset.args(["--cpu-list", &core.to_string(), binary]);
                taskset
            }
            None => Command::new(binary),
        };
        command
            .args(["worker", "--workers", &workers.to_string()])
            .current_dir(dir)
            .env("DATABASE_URL", url)
            .env("APP_ENV", "testing")
            .env("LOG_LEVEL", "warn")
            .env("JOBS_POLL_INTERVAL_MS", "50")
            .env("FORECAST_MODEL_ARTIFACTS_DIR", dir.join("models"))
            .env("REGISTRY_ARTIFACT_ROOT", dir.join("registry"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (key, value) in env {
            command.env(key, value);
        }
        Self(command.spawn().expect("spawn forecastlab worker"))
    }

    /// The process id, as worker ids begin with it.
    pub(crate) fn pid(&self) -> String {
        self.0.id().to_string()
    }

    /// SIGKILL: the process gets no chance to clean up.
    pub(crate) fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
