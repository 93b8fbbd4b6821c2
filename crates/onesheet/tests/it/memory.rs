//! Memory of the display pages over many transitions: each page runs through 500 items driven
//! by the ArrowRight key, and its heap, DOM nodes and event listeners after 500 must stay close
//! to their values after 50.
//!
//! The figures are printed with `eprintln!` for the benchmark records; run with
//! `cargo nextest run -p onesheet memory --no-capture` to see them.

use std::time::{Duration, Instant};

use onesheet_domain::DisplaySettings;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::browser::Browser;
use crate::display_pages::{assert_no_console_errors, save_display_settings, wait_or_fail};
use crate::harness::{ServerOptions, TestServer};

/// Transitions before the first measurement, which lets caches and pools reach their size.
const WARM_UP_TRANSITIONS: usize = 50;
/// Transitions at the second measurement.
const TOTAL_TRANSITIONS: usize = 500;
const FIRST_ITEM_TIMEOUT: Duration = Duration::from_secs(60);
/// Time one key press may take to put a new item on screen, in milliseconds.
const PRESS_TIMEOUT_MS: u64 = 20_000;
const SETTLE_TIMEOUT: Duration = Duration::from_secs(10);
/// DOM nodes the page may gain between the two measurements. It is well below the 450
/// transitions between them, so a leak of one node per transition fails the test.
const NODE_MARGIN: f64 = 50.0;
/// Heap growth allowed between the two measurements: a factor plus a constant.
const HEAP_FACTOR: f64 = 1.5;
const HEAP_MARGIN_BYTES: f64 = 2.0 * 1024.0 * 1024.0;
/// Event listeners the page may gain between the two measurements.
const LISTENER_MARGIN: f64 = 5.0;

/// One display page and how the test detects its progress.
struct Mode {
    name: &'static str,
    /// Page path with the query that stops the page from advancing on its own.
    path: &'static str,
    /// Script expression for the marker that changes once per transition.
    marker: &'static str,
    /// Script returning true once the page shows its first item or items.
    ready: &'static str,
    /// Script returning true once no transition runs, so old slides or faces are gone.
    settled: &'static str,
}

const SCREENSAVER: Mode = Mode {
    name: "screensaver",
    path: "/screensaver?interval=3600&device=off",
    marker: "document.body.dataset.currentItem || ''",
    ready: r#"
        const poster = document.querySelector('#stage img.current');
        return !!document.body.dataset.currentItem && !!poster && poster.complete
            && poster.naturalWidth > 0;
    "#,
    settled: "return document.querySelectorAll('#stage .slide').length === 1;",
};

const WALLART: Mode = Mode {
    name: "wallart",
    path: "/wallart?interval=3600",
    marker: "document.body.dataset.tileChanges || '0'",
    ready: "return document.body.dataset.wallart === 'filled';",
    settled: "return document.querySelectorAll('#grid .face.leaving').length === 0;",
};

const CINEMA: Mode = Mode {
    name: "cinema",
    path: "/cinema?interval=3600",
    marker: "document.body.dataset.currentItem || ''",
    ready: r#"
        const poster = document.querySelector('#frame .slide.current img.poster');
        return !!document.body.dataset.currentItem && !!poster && poster.complete
            && poster.naturalWidth > 0;
    "#,
    settled: "return document.querySelectorAll('#frame .slide').length === 1;",
};

/// Figures from `Performance.getMetrics` after a forced garbage collection. `Nodes` counts
/// every DOM node still alive, including detached ones that something still references.
#[derive(Debug, Clone, Copy)]
struct Sample {
    heap_bytes: f64,
    nodes: f64,
    listeners: f64,
}

#[derive(Debug, Deserialize)]
struct PressResult {
    changed: bool,
    marker: String,
}

/// Presses ArrowRight and waits inside the page until the marker changes, which costs one
/// WebDriver round trip per transition: WebDriver waits for the promise the script returns.
fn press_script(marker: &str) -> String {
    format!(
        r#"
        const before = {marker};
        document.body.dispatchEvent(new KeyboardEvent('keydown',
            {{ key: 'ArrowRight', code: 'ArrowRight', bubbles: true, cancelable: true }}));
        const deadline = Date.now() + {PRESS_TIMEOUT_MS};
        return new Promise(function (resolve) {{
            (function check() {{
                const now = {marker};
                if (now !== before) {{
                    resolve({{ changed: true, marker: now }});
                }} else if (Date.now() > deadline) {{
                    resolve({{ changed: false, marker: now }});
                }} else {{
                    setTimeout(check, 10);
                }}
            }})();
        }});
        "#
    )
}

async fn press_next(browser: &Browser, mode: &Mode, script: &str, count: usize) {
    for press in 1..=count {
        let result: PressResult = browser.eval(script).await;
        assert!(
            result.changed,
            "{}: press {press} of ArrowRight showed nothing new within {PRESS_TIMEOUT_MS} ms \
             (marker {:?})\n--- browser console ---\n{}",
            mode.name,
            result.marker,
            browser.console_messages().await.join("\n")
        );
    }
}

/// Waits until no transition runs, forces a garbage collection and reads the metrics.
async fn measure(browser: &Browser, mode: &Mode, test_name: &str) -> Sample {
    wait_or_fail(
        browser,
        test_name,
        "the last transition is over",
        SETTLE_TIMEOUT,
        mode.settled,
        "return { marker: String(document.body.dataset.currentItem) };",
    )
    .await;
    browser.cdp("HeapProfiler.collectGarbage", json!({})).await;
    let metrics = browser.cdp("Performance.getMetrics", json!({})).await;
    Sample {
        heap_bytes: metric(&metrics, "JSHeapUsedSize"),
        nodes: metric(&metrics, "Nodes"),
        listeners: metric(&metrics, "JSEventListeners"),
    }
}

fn metric(metrics: &Value, name: &str) -> f64 {
    metrics["metrics"]
        .as_array()
        .and_then(|entries| entries.iter().find(|entry| entry["name"] == name))
        .and_then(|entry| entry["value"].as_f64())
        .unwrap_or_else(|| panic!("Performance.getMetrics returned no {name}: {metrics}"))
}

fn mebibytes(bytes: f64) -> f64 {
    bytes / (1024.0 * 1024.0)
}

async fn check_memory_is_flat(mode: Mode, settings: DisplaySettings) {
    let test_name = format!("memory-{}", mode.name);
    let Some(browser) = Browser::launch(&test_name, 1280, 720).await else {
        return;
    };
    // No media folder: the built-in demo library is shown.
    let mut server = TestServer::prepare(ServerOptions::default());
    save_display_settings(&server, &settings).await;
    server.launch().await;

    browser.goto(&server.url(mode.path)).await;
    wait_or_fail(
        &browser,
        &test_name,
        "the first item is shown",
        FIRST_ITEM_TIMEOUT,
        mode.ready,
        "return { marker: String(document.body.dataset.currentItem), wallart: String(document.body.dataset.wallart) };",
    )
    .await;
    browser.cdp("Performance.enable", json!({})).await;
    let script = press_script(mode.marker);

    let started = Instant::now();
    press_next(&browser, &mode, &script, WARM_UP_TRANSITIONS).await;
    let warm = measure(&browser, &mode, &test_name).await;
    press_next(
        &browser,
        &mode,
        &script,
        TOTAL_TRANSITIONS - WARM_UP_TRANSITIONS,
    )
    .await;
    let after = measure(&browser, &mode, &test_name).await;
    let elapsed = started.elapsed();

    eprintln!(
        "memory {}: after {WARM_UP_TRANSITIONS} transitions heap {:.2} MiB, {} nodes, {} \
         listeners; after {TOTAL_TRANSITIONS} heap {:.2} MiB, {} nodes, {} listeners; \
         {TOTAL_TRANSITIONS} transitions took {:.1} s",
        mode.name,
        mebibytes(warm.heap_bytes),
        warm.nodes,
        warm.listeners,
        mebibytes(after.heap_bytes),
        after.nodes,
        after.listeners,
        elapsed.as_secs_f64()
    );
    assert!(
        after.nodes <= warm.nodes + NODE_MARGIN,
        "{}: DOM nodes grew from {} to {}",
        mode.name,
        warm.nodes,
        after.nodes
    );
    assert!(
        after.heap_bytes <= warm.heap_bytes * HEAP_FACTOR + HEAP_MARGIN_BYTES,
        "{}: JS heap grew from {:.2} MiB to {:.2} MiB",
        mode.name,
        mebibytes(warm.heap_bytes),
        mebibytes(after.heap_bytes)
    );
    assert!(
        after.listeners <= warm.listeners + LISTENER_MARGIN,
        "{}: event listeners grew from {} to {}",
        mode.name,
        warm.listeners,
        after.listeners
    );
    assert_no_console_errors(&browser, &format!("{TOTAL_TRANSITIONS} transitions")).await;

    browser.close().await;
}

#[tokio::test]
async fn screensaver_memory_flat_over_500() {
    let mut settings = DisplaySettings::default();
    settings.screensaver.interval_seconds = 3600;
    settings.screensaver.transition_ms = 0;
    check_memory_is_flat(SCREENSAVER, settings).await;
}

#[tokio::test]
async fn wallart_memory_flat_over_500() {
    let mut settings = DisplaySettings::default();
    settings.wallart.interval_seconds = 3600;
    settings.wallart.animation_ms = 200;
    check_memory_is_flat(WALLART, settings).await;
}

// The cinema crossfade is fixed at 1.2 s, and each press ends the running fade at once.
#[tokio::test]
async fn cinema_memory_flat_over_500() {
    let mut settings = DisplaySettings::default();
    settings.cinema.interval_seconds = 3600;
    check_memory_is_flat(CINEMA, settings).await;
}
