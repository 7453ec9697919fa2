//! A real headless Chromium for the dashboard tests, driven over WebDriver
//! (`chromedriver` + fantoccini).
//!
//! Each [`Browser`] starts its own `chromedriver` on a free port and a
//! fresh Chromium profile, with console and network logging on, so a test
//! can assert that a page loaded with no console error and no failed
//! request ([`Browser::assert_clean`]). Screenshots go to
//! [`screenshot_dir`], outside the source tree.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs
//! them); `CHROMIUM_BIN` and `CHROMEDRIVER` override the binaries. Like
//! PostgreSQL, a missing browser fails the test with the way to fix it.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context};
use fantoccini::{wd::WebDriverCompatibleCommand, Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// How long [`Browser::wait_until`] waits.
pub const WAIT: Duration = Duration::from_secs(120);

/// Where screenshots are written: `DASHBOARD_SCREENSHOTS_DIR`, else
/// `dashboard-screenshots/` in the target directory (the test binary lives
/// in `<target>/<profile>/deps/`).
pub fn screenshot_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DASHBOARD_SCREENSHOTS_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    let target = exe.ancestors().nth(3).map(PathBuf::from);
    target
        .unwrap_or_else(std::env::temp_dir)
        .join("dashboard-screenshots")
}

/// A headless Chromium session and its chromedriver.
#[derive(Debug)]
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    driver: Child,
    port: u16,
    session: String,
    _profile: tempfile::TempDir,
}

/// `POST /session/{id}/se/log`: chromedriver's log of `kind` since the
/// last call (`browser` = console, `performance` = DevTools events).
#[derive(Debug)]
struct ReadLog(&'static str);

impl WebDriverCompatibleCommand for ReadLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"type": self.0}).to_string()),
        )
    }
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a fresh profile.
    pub async fn start() -> Self {
        match Self::try_start().await {
            Ok(browser) => browser,
            Err(error) => panic!(
                "cannot start headless Chromium: {error:#}. Install Debian's `chromium` and \
                 `chromium-driver` (`apt-get install -y chromium chromium-driver`, as `.ci/run` \
                 does) or point CHROMIUM_BIN / CHROMEDRIVER at them; the browser tests never \
                 skip silently."
            ),
        }
    }

    async fn try_start() -> anyhow::Result<Self> {
        let driver_bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let chromium = std::env::var("CHROMIUM_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let port = free_port()?;
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {driver_bin}"))?;
        let profile = tempfile::tempdir()?;
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-extensions",
                    "--no-first-run",
                    "--window-size=1280,1000",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        capabilities.insert(
            "goog:loggingPrefs".into(),
            json!({"browser": "ALL", "performance": "ALL"}),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(error) if Instant::now() > deadline => {
                    bail!("chromedriver at {url} did not start a session: {error}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        let session = client.session_id().await?.unwrap_or_default();
        let mut browser = Self {
            client,
            driver,
            port,
            session,
            _profile: profile,
        };
        browser.drain_logs().await?;
        Ok(browser)
    }

    /// Opens `url` and waits until every fragment has loaded (see
    /// [`Browser::wait_settled`]).
    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("navigation failed");
        self.wait_settled().await;
    }

    /// Waits until no htmx request is in flight and no "loading"
    /// placeholder is left.
    pub async fn wait_settled(&self) {
        self.wait_until(
            "document.readyState === 'complete' && window.htmx !== undefined \
             && document.querySelectorAll('.htmx-request, .loading').length === 0",
        )
        .await;
    }

    /// Polls the JavaScript expression `condition` until it is true.
    pub async fn wait_until(&self, condition: &str) {
        let script = format!("return Boolean({condition});");
        let deadline = Instant::now() + WAIT;
        loop {
            let ready = self.client.execute(&script, vec![]).await;
            if matches!(ready, Ok(Value::Bool(true))) {
                return;
            }
            if Instant::now() > deadline {
                let alert = self
                    .eval("document.getElementById('page-alert')?.textContent")
                    .await;
                panic!("timed out waiting for `{condition}` (page alert: {alert})");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Evaluates the JavaScript expression `expression`.
    pub async fn eval(&self, expression: &str) -> Value {
        self.client
            .execute(&format!("return ({expression});"), vec![])
            .await
            .unwrap_or_else(|error| panic!("evaluating {expression}: {error}"))
    }

    /// Clicks the element matching the CSS selector.
    pub async fn click(&self, selector: &str) {
        self.client
            .find(Locator::Css(selector))
            .await
            .unwrap_or_else(|error| panic!("no element {selector}: {error}"))
            .click()
            .await
            .unwrap_or_else(|error| panic!("clicking {selector}: {error}"));
    }

    /// Sets the value of the form control matching the CSS selector and
    /// fires its `change` event.
    pub async fn set_value(&self, selector: &str, value: &str) {
        let script = "const el = document.querySelector(arguments[0]); el.value = arguments[1]; \
                      el.dispatchEvent(new Event('change', {bubbles: true})); return el.value;";
        let set = self
            .client
            .execute(script, vec![json!(selector), json!(value)])
            .await
            .unwrap_or_else(|error| panic!("setting {selector}: {error}"));
        assert_eq!(set, json!(value), "{selector} did not take {value}");
    }

    /// Saves a PNG of the viewport as `<screenshot_dir>/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("screenshot directory");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("writing the screenshot");
        path
    }

    async fn read_log(&self, kind: &'static str) -> anyhow::Result<Vec<Value>> {
        let log = self.client.issue_cmd(ReadLog(kind)).await?;
        Ok(log.as_array().cloned().unwrap_or_default())
    }

    async fn drain_logs(&mut self) -> anyhow::Result<()> {
        self.read_log("browser").await?;
        self.read_log("performance").await?;
        Ok(())
    }

    /// Console errors (exceptions, `console.error`, resources that failed)
    /// and failed requests of the page (network errors or HTTP status
    /// ≥ 400) since the last call, as readable lines.
    pub async fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for entry in self.read_log("browser").await.expect("browser log") {
            if entry["level"] == "SEVERE" {
                problems.push(format!("console: {}", entry["message"]));
            }
        }
        let mut urls = std::collections::HashMap::new();
        for entry in self.read_log("performance").await.expect("performance log") {
            let Some(text) = entry["message"].as_str() else {
                continue;
            };
            let Ok(event) = serde_json::from_str::<Value>(text) else {
                continue;
            };
            let params = &event["message"]["params"];
            match event["message"]["method"].as_str() {
                Some("Network.requestWillBeSent") => {
                    urls.insert(
                        params["requestId"].to_string(),
                        params["request"]["url"].to_string(),
                    );
                }
                Some("Network.responseReceived") => {
                    let status = params["response"]["status"].as_f64().unwrap_or(0.0);
                    if status >= 400.0 {
                        problems.push(format!(
                            "request: {} answered {status}",
                            params["response"]["url"]
                        ));
                    }
                }
                // Requests the page sent (Chromium's own background
                // requests never announce themselves to the page).
                Some("Network.loadingFailed") if params["canceled"] != true => {
                    if let Some(url) = urls.get(&params["requestId"].to_string()) {
                        problems.push(format!("request {url} failed: {}", params["errorText"]));
                    }
                }
                _ => {}
            }
        }
        problems
    }

    /// Asserts no console error and no failed request since the last check.
    pub async fn assert_clean(&self, page: &str) {
        let problems = self.problems().await;
        assert!(
            problems.is_empty(),
            "{page} logged problems:\n{}",
            problems.join("\n")
        );
    }
}

impl Drop for Browser {
    /// Ends the session (chromedriver then quits Chromium) with a plain
    /// blocking request, so it also happens while a failed test unwinds,
    /// and stops chromedriver.
    fn drop(&mut self) {
        use std::io::{Read, Write};
        let request = format!(
            "DELETE /session/{} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\n\
             Connection: close\r\n\r\n",
            self.session, self.port
        );
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
            if stream.write_all(request.as_bytes()).is_ok() {
                let _ = stream.read_to_end(&mut Vec::new());
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
