//! What the agent tests share: an app whose agent model is answered by a
//! local protocol server, registry runs for the tools to read, and a capture
//! of every log line the test process writes.

use std::{
    io::Write,
    sync::{Arc, Mutex, OnceLock},
};

use forecastlab_llm_testing::ProviderServer;
use serde_json::json;

use crate::{Backend, TestApp};

/// The app with `openai:gpt-4o` answered by `server`, no fallback, a 20 s
/// agent deadline, plus `extra` settings.
pub async fn scripted_app(
    backend: Backend,
    server: &ProviderServer,
    extra: &[(&str, &str)],
) -> TestApp {
    let base = server.base_url();
    let mut settings = vec![
        ("AGENT_DEFAULT_MODEL", "openai:gpt-4o"),
        ("AGENT_FALLBACK_MODEL", "none"),
        ("OPENAI_API_KEY", server.api_key().unwrap()),
        ("OPENAI_BASE_URL", base.as_str()),
        ("AGENT_TIMEOUT_SECONDS", "20"),
    ];
    settings.extend_from_slice(extra);
    TestApp::spawn_with(backend, &settings).await
}

/// A registered `naive` run of (`store_id`, product 1), moved to `success`
/// when `success` (an alias may then point at it).
pub async fn registered_run(app: &TestApp, store_id: i64, success: bool) -> String {
    let created = app
        .post(
            "/registry/runs",
            &json!({
                "model_type": "naive",
                "model_config": {"model_type": "naive"},
                "data_window_start": "2024-01-01",
                "data_window_end": "2024-03-31",
                "store_id": store_id,
                "product_id": 1,
            }),
        )
        .await;
    let id = created.assert_status(201)["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    if success {
        for status in ["running", "success"] {
            app.patch(&format!("/registry/runs/{id}"), &json!({"status": status}))
                .await
                .assert_ok();
        }
    }
    id
}

/// Every log line written by this process.
#[derive(Clone, Debug, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Everything captured so far.
    pub fn text(&self) -> String {
        let bytes = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// Installs a subscriber capturing every event at TRACE level (before any
/// app installs its own) and returns the capture.
pub fn logs() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .init();
        captured
    })
}
