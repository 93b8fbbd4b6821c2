//! Helpers shared by the tests of the wallart and cinema pages: saved display settings, and
//! checks of the browser console.

use onesheet_domain::DisplaySettings;
use onesheet_store::{SqliteStore, Store};

use crate::browser::Browser;
use crate::harness::TestServer;

/// Saves `settings` as the current display settings of a prepared, not yet launched server,
/// the way an admin save would store them.
pub async fn save_display_settings(server: &TestServer, settings: &DisplaySettings) {
    settings
        .validate()
        .unwrap_or_else(|errors| panic!("the test's display settings are invalid: {errors}"));
    let path = server.data_dir().join("onesheet.db");
    let store = SqliteStore::open(&path)
        .await
        .unwrap_or_else(|error| panic!("opening {} failed: {error}", path.display()));
    store
        .save_settings(settings, "test", 0)
        .await
        .unwrap_or_else(|error| panic!("saving the display settings failed: {error}"));
}

/// Checks that the browser logged no error since the last check: script errors, failed
/// requests and CSP violations, which Chromium logs as errors.
pub async fn assert_no_console_errors(browser: &Browser, moment: &str) {
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
        "browser console errors once {moment}:\n{}",
        errors.join("\n")
    );
}

/// Waits for `condition`, and on timeout fails with `state` (a script returning the page
/// state), a screenshot and the browser console.
pub async fn wait_or_fail(
    browser: &Browser,
    test_name: &str,
    description: &str,
    timeout: std::time::Duration,
    condition: &str,
    state: &str,
) {
    if let Err(error) = browser.wait_until(description, timeout, condition).await {
        let state: serde_json::Value = browser.eval(state).await;
        let screenshot = browser.screenshot(&format!("{test_name}-failure")).await;
        panic!(
            "{error}\npage state: {state:#}\nscreenshot: {}\n--- browser console ---\n{}",
            screenshot.display(),
            browser.console_messages().await.join("\n")
        );
    }
}
