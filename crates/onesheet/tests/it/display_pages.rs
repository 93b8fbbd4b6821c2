//! Helpers shared by the tests of the wallart and cinema pages: saved display settings, and
//! checks of the browser console. Also the tests that hold for every display page: the
//! message of a misspelled preset, and the settings editor's preview leaving the screens'
//! cache alone.

use std::time::Duration;

use onesheet_domain::DisplaySettings;
use onesheet_store::{SqliteStore, Store};

use crate::browser::Browser;
use crate::harness::{ServerOptions, TestServer};

const MESSAGE_TIMEOUT: Duration = Duration::from_secs(30);
const PREVIEW_TIMEOUT: Duration = Duration::from_secs(60);

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

/// The page's message, whether it is visible, and its font size, which shows the page's style.
const MESSAGE_STATE: &str = r#"
    const message = document.getElementById('message');
    return {
        text: message ? message.textContent : null,
        visible: !!message && !message.hidden && getComputedStyle(message).display !== 'none',
        font_size: message ? getComputedStyle(message).fontSize : null,
    };
"#;

const PRESET_MESSAGE_SHOWN: &str = "const message = document.getElementById('message'); \
     return !!message && !message.hidden \
         && message.textContent.indexOf('Invalid preset in the page address') === 0;";

#[tokio::test]
async fn misspelled_preset_shows_the_fix() {
    let server = TestServer::start(ServerOptions {
        media_posters: 2,
        ..ServerOptions::default()
    })
    .await;
    let Some(browser) = Browser::launch("misspelled-preset", 1280, 720).await else {
        return;
    };
    for (path, preset) in [
        ("/cinema?preset=lobbby&device=off", "lobbby"),
        ("/wallart?preset=nonexistent&device=off", "nonexistent"),
        ("/screensaver?preset=nonexistent&device=off", "nonexistent"),
    ] {
        browser.goto(&server.url(path)).await;
        wait_or_fail(
            &browser,
            "misspelled-preset",
            &format!("{path} explains the unknown preset"),
            MESSAGE_TIMEOUT,
            PRESET_MESSAGE_SHOWN,
            MESSAGE_STATE,
        )
        .await;
        let state: serde_json::Value = browser.eval(MESSAGE_STATE).await;
        let text = state["text"].as_str().unwrap_or_default();
        assert!(state["visible"] == true, "{path}: {state}");
        assert!(text.contains(&format!("\"{preset}\"")), "{path}: {text}");
        // The server's error lists the valid ids, which is the fix.
        assert!(text.contains("lobby, coming-soon"), "{path}: {text}");
        assert!(text.contains("games-wall"), "{path}: {text}");
        assert_ne!(state["font_size"], "0px", "{path}: {state}");
    }
    browser.close().await;
}

/// True once the preview frame's page listens and has shown three items.
const PREVIEW_RUNNING: &str = r#"
    const frame = document.getElementById('storage-preview');
    const doc = frame && frame.contentDocument;
    return !!doc && !!doc.body && doc.body.dataset.preview === 'ready'
        && !!doc.body.dataset.currentItem && Number(doc.body.dataset.turnCount || 0) >= 3;
"#;

const PREVIEW_STATE: &str = r#"
    const frame = document.getElementById('storage-preview');
    const doc = frame && frame.contentDocument;
    return {
        parent: location.href,
        frame: doc ? doc.location.href : null,
        preview: doc && doc.body ? doc.body.dataset.preview || null : null,
        current_item: doc && doc.body ? doc.body.dataset.currentItem || null : null,
        turns: doc && doc.body ? doc.body.dataset.turnCount || null : null,
    };
"#;

/// Service worker registrations and Cache Storage names of the origin, and whether the
/// offline pool has an index for any page.
const ORIGIN_STORAGE: &str = r#"
    return navigator.serviceWorker.getRegistrations().then(function (registrations) {
        return caches.keys().then(function (names) {
            return caches.open('onesheet-posters').then(function (cache) {
                return cache.keys();
            }).then(function (requests) {
                return {
                    registrations: registrations.length,
                    caches: names,
                    pooled: requests.map(function (request) { return request.url; }),
                };
            });
        });
    });
"#;

#[tokio::test]
async fn preview_leaves_screen_cache_alone() {
    let server = TestServer::start(ServerOptions {
        media_posters: 4,
        ..ServerOptions::default()
    })
    .await;
    crate::admin::create_admin(&server).await;
    // The settings editor allows frames of this server, and its own preview frame runs too.
    let Some(browser) =
        crate::admin::signed_in_browser(&server, "preview-storage", 1280, 800, "/admin/display")
            .await
    else {
        return;
    };
    wait_or_fail(
        &browser,
        "preview-storage",
        "the settings editor is ready",
        PREVIEW_TIMEOUT,
        "return document.body.dataset.display === 'ready';",
        "return document.body.dataset;",
    )
    .await;
    let before: serde_json::Value = browser.eval(ORIGIN_STORAGE).await;
    assert_eq!(before["registrations"], 0, "{before}");

    for mode in ["screensaver", "cinema", "wallart"] {
        let _: bool = browser
            .eval(&format!(
                "const old = document.getElementById('storage-preview'); if (old) {{ old.remove(); }} \
                 const frame = document.createElement('iframe'); frame.id = 'storage-preview'; \
                 frame.width = '640'; frame.height = '360'; \
                 frame.src = location.origin + '/{mode}?preview=1&interval=5'; \
                 document.body.appendChild(frame); return true;"
            ))
            .await;
        let running = if mode == "wallart" {
            PREVIEW_RUNNING.replace(
                "!!doc.body.dataset.currentItem",
                "doc.querySelectorAll('#grid .tile[data-item-id]').length > 0",
            )
        } else {
            PREVIEW_RUNNING.to_owned()
        };
        wait_or_fail(
            &browser,
            "preview-storage",
            &format!("the {mode} preview shows three turns"),
            PREVIEW_TIMEOUT,
            &running,
            PREVIEW_STATE,
        )
        .await;
    }

    let after: serde_json::Value = browser.eval(ORIGIN_STORAGE).await;
    assert_eq!(
        after["registrations"], 0,
        "the preview registered a worker: {after}"
    );
    let caches: Vec<&str> = after["caches"]
        .as_array()
        .map(|names| names.iter().filter_map(|name| name.as_str()).collect())
        .unwrap_or_default();
    assert!(
        caches
            .iter()
            .all(|name| !name.starts_with("onesheet-shell-")),
        "the preview filled the page cache: {after}"
    );
    // `caches.open` above creates the pool's cache when it is missing, so it must be empty.
    assert_eq!(
        after["pooled"],
        serde_json::json!([]),
        "the preview wrote to the offline pool: {after}"
    );
    browser.close().await;
}
