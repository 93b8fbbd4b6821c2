//! Headless Chromium driven through chromedriver (WebDriver), for tests of the display pages.
//!
//! [`Browser::launch`] starts chromedriver on a free loopback port and opens a session with a
//! fresh profile. Chromium runs with background networking, component updates and sync turned
//! off: without those flags it contacts outside hosts on its own. Screenshots go to
//! `<workspace>/artifacts/screenshots/`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::harness::{find_executable, free_port, http_client};

/// Set to `1` to make a missing Chromium or chromedriver fail the test instead of skipping it.
const REQUIRE_BROWSER_VAR: &str = "ONESHEET_REQUIRE_BROWSER";
const DRIVER_READY_TIMEOUT: Duration = Duration::from_secs(30);
const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// Lines of the chromedriver log printed when a test fails.
const DRIVER_LOG_TAIL_LINES: usize = 40;

pub struct Browser {
    client: Option<Client>,
    driver: Child,
    driver_port: u16,
    session_id: String,
    /// Holds the Chromium profile and the chromedriver log.
    root: TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a viewport of `width`×`height` pixels.
    ///
    /// Returns None, after printing why, when Chromium or chromedriver is not installed, unless
    /// `ONESHEET_REQUIRE_BROWSER=1`, which turns that into a test failure.
    pub async fn launch(test_name: &str, width: u32, height: u32) -> Option<Browser> {
        let chromium = find_executable("chromium", "/usr/bin/chromium");
        let chromedriver = find_executable("chromedriver", "/usr/bin/chromedriver");
        let (chromium, chromedriver) = match (chromium, chromedriver) {
            (Some(chromium), Some(chromedriver)) => (chromium, chromedriver),
            (chromium, _) => {
                let missing = if chromium.is_none() {
                    "chromium"
                } else {
                    "chromedriver"
                };
                let message = format!(
                    "{missing} not found on PATH or in /usr/bin; run scripts/test, which installs \
                     Debian's chromium and chromium-driver"
                );
                if std::env::var(REQUIRE_BROWSER_VAR).as_deref() == Ok("1") {
                    panic!("{message} ({REQUIRE_BROWSER_VAR}=1 makes this a failure)");
                }
                eprintln!("SKIPPED {test_name}: {message}");
                return None;
            }
        };

        let root = tempfile::Builder::new()
            .prefix("onesheet-browser-")
            .tempdir()
            .expect("create the temporary directory for the browser");
        let driver_port = free_port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={driver_port}"))
            .arg(format!(
                "--log-path={}",
                root.path().join("chromedriver.log").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("starting {} failed: {error}", chromedriver.display()));
        let driver_url = format!("http://127.0.0.1:{driver_port}");
        wait_for_driver(&driver_url).await;

        let profile = root.path().join("profile");
        let capabilities = json!({
            "browserName": "chrome",
            "goog:loggingPrefs": { "browser": "ALL" },
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--no-default-browser-check",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-crash-reporter",
                    "--no-proxy-server",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("capabilities are a JSON object literal")
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver_url)
            .await
            .unwrap_or_else(|error| panic!("opening a WebDriver session failed: {error}"));
        let session_id = client
            .session_id()
            .await
            .expect("read the WebDriver session id")
            .expect("chromedriver returned a session id");

        let browser = Browser {
            client: Some(client),
            driver,
            driver_port,
            session_id,
            root,
        };
        browser.set_viewport(width, height).await;
        Some(browser)
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("the WebDriver session is open")
    }

    /// Resizes the window so that the page itself gets `width`×`height` CSS pixels: headless
    /// Chromium counts its hidden window frame in the window size.
    pub async fn set_viewport(&self, width: u32, height: u32) {
        self.client()
            .set_window_size(width, height)
            .await
            .expect("set the window size");
        let frame: (u32, u32) = self
            .eval("return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight];")
            .await;
        if frame != (0, 0) {
            self.client()
                .set_window_size(width + frame.0, height + frame.1)
                .await
                .expect("set the window size");
        }

        // Headless Chromium keeps a window at least 500 pixels wide, so a phone-sized page
        // would be tested wider than asked. The DevTools override sets the page's size exactly,
        // and as a mobile page below that width, so the viewport meta tag applies as on a phone.
        let inner: (u32, u32) = self
            .eval("return [window.innerWidth, window.innerHeight];")
            .await;
        if inner != (width, height) {
            self.cdp(
                "Emulation.setDeviceMetricsOverride",
                json!({
                    "width": width,
                    "height": height,
                    "deviceScaleFactor": 1,
                    "mobile": width < 500,
                }),
            )
            .await;
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client()
            .goto(url)
            .await
            .unwrap_or_else(|error| panic!("opening {url} failed: {error}"));
    }

    /// Runs a script (a function body that may `return` a value) and converts its result.
    pub async fn eval<T: serde::de::DeserializeOwned>(&self, script: &str) -> T {
        let value = self
            .client()
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|error| panic!("script failed: {error}\nscript: {script}"));
        serde_json::from_value(value.clone()).unwrap_or_else(|error| {
            panic!("script returned an unexpected value {value}: {error}\nscript: {script}")
        })
    }

    /// Polls `condition` (a script returning a boolean) until it returns true.
    /// On timeout, returns an error naming `description` and the time waited.
    pub async fn wait_until(
        &self,
        description: &str,
        timeout: Duration,
        condition: &str,
    ) -> Result<(), String> {
        let started = Instant::now();
        loop {
            if self.eval::<bool>(condition).await {
                return Ok(());
            }
            if started.elapsed() >= timeout {
                return Err(format!(
                    "timed out after {} s waiting until {description}",
                    timeout.as_secs()
                ));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Saves a PNG screenshot as `<workspace>/artifacts/screenshots/<name>.png` and returns
    /// its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client().screenshot().await.expect("take a screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|error| panic!("create {} failed: {error}", dir.display()));
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png)
            .unwrap_or_else(|error| panic!("write {} failed: {error}", path.display()));
        path
    }

    /// Returns the browser console messages logged since the last call, each as
    /// `LEVEL message` (levels are chromedriver's: SEVERE, WARNING, INFO, DEBUG).
    pub async fn console_messages(&self) -> Vec<String> {
        // Chromedriver's log endpoint is outside the W3C protocol, so fantoccini has no call for it.
        let url = format!(
            "http://127.0.0.1:{}/session/{}/se/log",
            self.driver_port, self.session_id
        );
        let response = http_client()
            .post(&url)
            .json(&json!({ "type": "browser" }))
            .send()
            .await
            .unwrap_or_else(|error| panic!("reading the browser console failed: {error}"));
        let body: Value = response
            .json()
            .await
            .unwrap_or_else(|error| panic!("reading the browser console failed: {error}"));
        body["value"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|entry| {
                format!(
                    "{} {}",
                    entry["level"].as_str().unwrap_or("?"),
                    entry["message"].as_str().unwrap_or("")
                )
            })
            .collect()
    }

    /// Sends a Chrome DevTools Protocol command, such as `Performance.getMetrics`, and returns
    /// its result.
    pub async fn cdp(&self, method: &str, params: Value) -> Value {
        // Chromedriver's CDP endpoint is outside the W3C protocol, like the log endpoint.
        let url = format!(
            "http://127.0.0.1:{}/session/{}/goog/cdp/execute",
            self.driver_port, self.session_id
        );
        let response = http_client()
            .post(&url)
            .json(&json!({ "cmd": method, "params": params }))
            .send()
            .await
            .unwrap_or_else(|error| panic!("CDP command {method} failed: {error}"));
        let status = response.status();
        let body: Value = response.json().await.unwrap_or_else(|error| {
            panic!("reading the result of CDP command {method} failed: {error}")
        });
        assert!(
            status.is_success(),
            "CDP command {method} failed with HTTP {status}: {body}"
        );
        body["value"].clone()
    }

    /// Ends the session (which quits Chromium) and stops chromedriver.
    pub async fn close(mut self) {
        if let Some(client) = self.client.take()
            && let Err(error) = client.close().await
        {
            eprintln!("closing the WebDriver session failed: {error}");
        }
        self.stop_driver();
    }

    fn driver_log_tail(&self) -> String {
        let path = self.root.path().join("chromedriver.log");
        let log = std::fs::read_to_string(&path).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let start = lines.len().saturating_sub(DRIVER_LOG_TAIL_LINES);
        format!(
            "--- last lines of the chromedriver log ---\n{}",
            lines[start..].join("\n")
        )
    }

    fn stop_driver(&mut self) {
        // Both fail only when chromedriver is already gone.
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if self.client.take().is_some() {
            // The session is still open because the test failed before `close`. Chromium
            // outlives a killed chromedriver, so end the session first. Drop cannot await, so
            // the request blocks.
            delete_session_blocking(self.driver_port, &self.session_id);
            if std::thread::panicking() {
                eprintln!("{}", self.driver_log_tail());
            }
        }
        self.stop_driver();
    }
}

fn delete_session_blocking(port: u16, session_id: &str) {
    let result = (|| -> std::io::Result<()> {
        let mut stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(20)))?;
        write!(
            stream,
            "DELETE /session/{session_id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response)?;
        Ok(())
    })();
    if let Err(error) = result {
        eprintln!("ending the WebDriver session {session_id} failed: {error}");
    }
}

async fn wait_for_driver(driver_url: &str) {
    let http = http_client();
    let status_url = format!("{driver_url}/status");
    let started = Instant::now();
    loop {
        if let Ok(response) = http.get(&status_url).send().await
            && response.status().is_success()
        {
            return;
        }
        if started.elapsed() >= DRIVER_READY_TIMEOUT {
            panic!(
                "chromedriver not ready at {status_url} after {} s",
                DRIVER_READY_TIMEOUT.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn screenshot_dir() -> PathBuf {
    crate::harness::workspace_dir().join("artifacts/screenshots")
}
