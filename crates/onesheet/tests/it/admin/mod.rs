//! Browser tests of the admin UI. Each section has its own module, and this one contains what
//! they share: a server with a signed-in admin, and the checks every admin page must pass (no
//! console errors, no CSP violations, no accessibility violations found by axe-core).

mod dashboard;
mod devices;
mod display;
mod logs;
mod security;
mod setup;
mod shell;
mod sources;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

use crate::browser::Browser;
use crate::harness::{TestServer, http_client, workspace_dir};

pub const USERNAME: &str = "admin";
pub const PASSWORD: &str = "meadow copper signal 31";
pub const PAGE_TIMEOUT: Duration = Duration::from_secs(20);

/// Set to `1` to make a missing axe-core fail the test instead of skipping the check.
const REQUIRE_BROWSER_VAR: &str = "ONESHEET_REQUIRE_BROWSER";

/// A session of the first admin, made through the setup API.
pub struct AdminSession {
    /// `name=value` of the session cookie, for API calls made by the test itself.
    pub cookie: String,
    pub csrf_token: String,
}

impl AdminSession {
    /// Sends an API request as this admin and returns the status and the JSON body (null for
    /// an empty one).
    pub async fn send(
        &self,
        server: &TestServer,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a valid method");
        let mut request = http_client()
            .request(method.clone(), server.url(path))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf_token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|error| panic!("{method} {path} failed: {error}"));
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, body)
    }
}

/// Creates the first admin with the setup token that the server wrote to its data folder.
pub async fn create_admin(server: &TestServer) -> AdminSession {
    let token = std::fs::read_to_string(server.data_dir().join("setup-token"))
        .expect("read the setup token")
        .trim()
        .to_owned();
    let response = http_client()
        .post(server.url("/api/v1/setup"))
        .json(&json!({ "setup_token": token, "username": USERNAME, "password": PASSWORD }))
        .send()
        .await
        .expect("POST /api/v1/setup");
    assert_eq!(response.status().as_u16(), 201, "creating the admin failed");
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.expect("read the setup response");
    let csrf_token = body["csrf_token"].as_str().unwrap().to_owned();
    AdminSession { cookie, csrf_token }
}

/// Sends a GET for `path` under the base path without following a redirect, as a signed-out
/// visitor would, and returns the status and the `Location` header.
pub async fn get_unfollowed(server: &TestServer, path: &str) -> (u16, Option<String>) {
    // The shared client installs the TLS provider that reqwest needs even for plain HTTP.
    drop(http_client());
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("build the HTTP client");
    let url = server.url(path);
    let response = client
        .get(&url)
        .send()
        .await
        .unwrap_or_else(|error| panic!("GET {url} failed: {error}"));
    let location = response
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    (response.status().as_u16(), location)
}

/// Launches a browser and signs in through the sign-in page, which then opens `path`.
/// Returns None when the browser test is skipped (no Chromium).
pub async fn signed_in_browser(
    server: &TestServer,
    test_name: &str,
    width: u32,
    height: u32,
    path: &str,
) -> Option<Browser> {
    let browser = Browser::launch(test_name, width, height).await?;
    let next = format!("{}{path}", base_path(server));
    let login = format!(
        "/admin/login?next={}",
        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    );
    browser.goto(&server.url(&login)).await;
    wait_for(
        &browser,
        "the sign-in form is ready",
        "return document.body.dataset.login === 'password';",
    )
    .await;
    browser.eval::<bool>(&fill("username", USERNAME)).await;
    browser.eval::<bool>(&fill("password", PASSWORD)).await;
    browser
        .eval::<bool>(&click("#login-form button[type=\"submit\"]"))
        .await;
    let expected = serde_json::to_string(&next).unwrap();
    wait_for(
        &browser,
        &format!("the browser opens {next} after sign-in"),
        &format!(
            "return window.location.pathname + window.location.search === {expected} \
             && document.body.dataset.shell === 'ready';"
        ),
    )
    .await;
    Some(browser)
}

/// Returns the server's base path (empty at the root), as the pages see it.
fn base_path(server: &TestServer) -> String {
    let root = server.url("");
    url::Url::parse(&root)
        .map(|url| url.path().trim_end_matches('/').to_owned())
        .unwrap_or_default()
}

/// Waits for `condition`, failing with the page's address and console on timeout.
pub async fn wait_for(browser: &Browser, description: &str, condition: &str) {
    if let Err(error) = browser
        .wait_until(description, PAGE_TIMEOUT, condition)
        .await
    {
        let url: String = browser.eval("return window.location.href;").await;
        panic!(
            "{error}\npage: {url}\n--- browser console ---\n{}",
            browser.console_messages().await.join("\n")
        );
    }
}

/// Sets the value of the field `id` as typing would, so the page receives an `input` event.
pub fn fill(id: &str, value: &str) -> String {
    format!(
        "const field = document.getElementById({id}); field.value = {value}; \
         field.dispatchEvent(new Event('input', {{ bubbles: true }})); \
         field.dispatchEvent(new Event('change', {{ bubbles: true }})); return true;",
        id = serde_json::to_string(id).unwrap(),
        value = serde_json::to_string(value).unwrap(),
    )
}

pub fn click(selector: &str) -> String {
    format!(
        "document.querySelector({}).click(); return true;",
        serde_json::to_string(selector).unwrap()
    )
}

/// Checks a ready admin page: no console errors or CSP violations since the last read of the
/// console, and no accessibility violation that axe-core finds. Also saves a screenshot named
/// `admin-<name>` among the test artifacts.
pub async fn check_page(browser: &Browser, name: &str) {
    browser.screenshot(&format!("admin-{name}")).await;

    let errors: Vec<String> = browser
        .console_messages()
        .await
        .into_iter()
        .filter(|message| {
            message.starts_with("SEVERE") || message.contains("Content Security Policy")
        })
        .collect();
    assert!(
        errors.is_empty(),
        "the admin page {name} logged errors:\n{}",
        errors.join("\n")
    );

    let violations = accessibility_violations(browser).await;
    assert!(
        violations.is_empty(),
        "axe-core found accessibility violations on the admin page {name}:\n{}",
        violations.join("\n")
    );
}

/// Path of axe-core's script, installed by `npm ci --prefix tools/axe`.
fn axe_script_path() -> PathBuf {
    workspace_dir().join("tools/axe/node_modules/axe-core/axe.min.js")
}

/// Runs axe-core in the page and returns one line per violation: rule, impact, help and the
/// first elements concerned. An empty list means the page passed.
///
/// The script goes in through the DevTools protocol rather than a `<script>` element, so the
/// page's CSP applies to the page alone and the check changes nothing the page loads.
pub async fn accessibility_violations(browser: &Browser) -> Vec<String> {
    let path = axe_script_path();
    let Ok(source) = std::fs::read_to_string(&path) else {
        let message = format!(
            "{} is missing; run `npm ci --prefix tools/axe` (scripts/test does)",
            path.display()
        );
        if std::env::var(REQUIRE_BROWSER_VAR).as_deref() == Ok("1") {
            panic!("{message} ({REQUIRE_BROWSER_VAR}=1 makes this a failure)");
        }
        eprintln!("SKIPPED the accessibility check: {message}");
        return Vec::new();
    };

    let loaded = browser
        .cdp(
            "Runtime.evaluate",
            json!({ "expression": source, "returnByValue": true }),
        )
        .await;
    assert!(
        loaded.get("exceptionDetails").is_none(),
        "loading axe-core failed: {loaded}"
    );
    let result = browser
        .cdp(
            "Runtime.evaluate",
            json!({
                "expression": AXE_RUN,
                "awaitPromise": true,
                "returnByValue": true,
            }),
        )
        .await;
    assert!(
        result.get("exceptionDetails").is_none(),
        "running axe-core failed: {result}"
    );
    let violations: Vec<Value> =
        serde_json::from_value(result["result"]["value"].clone()).unwrap_or_default();
    violations
        .iter()
        .map(|violation| {
            format!(
                "{} ({}): {} at {}",
                violation["id"].as_str().unwrap_or("?"),
                violation["impact"].as_str().unwrap_or("?"),
                violation["help"].as_str().unwrap_or(""),
                violation["targets"]
            )
        })
        .collect()
}

/// Runs axe-core against WCAG 2.1 A and AA and best practices, and keeps what a failure
/// message needs.
const AXE_RUN: &str = r#"
    axe.run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
        resultTypes: ['violations'],
    }).then(function (results) {
        return results.violations.map(function (violation) {
            return {
                id: violation.id,
                impact: violation.impact,
                help: violation.help,
                targets: violation.nodes.slice(0, 5).map(function (node) { return node.target.join(' '); }),
            };
        });
    })
"#;
