//! What every display page does besides showing posters: the sleep schedule, the watchdog
//! that reloads a stuck page, burn-in protection and the offline pool.

use std::collections::HashSet;
use std::time::Duration;

use onesheet_domain::DisplaySettings;
use onesheet_domain::settings::SleepWindow;
use serde::Deserialize;
use serde_json::json;

use crate::browser::Browser;
use crate::display_pages::{assert_no_console_errors, save_display_settings, wait_or_fail};
use crate::harness::{ServerOptions, TestServer};

const FIRST_POSTER_TIMEOUT: Duration = Duration::from_secs(60);
/// A sleep window ends at the next whole minute, so this covers a minute plus loading.
const WAKE_TIMEOUT: Duration = Duration::from_secs(100);
/// Three intervals of 3 s, the watchdog's check period and a page load, with a margin.
const RELOAD_TIMEOUT: Duration = Duration::from_secs(60);
const POOL_TIMEOUT: Duration = Duration::from_secs(60);

const PAGE_STATE: &str = r#"
    const images = Array.from(document.querySelectorAll('img'));
    return {
        sleeping: document.body.dataset.sleeping || null,
        cover_opacity: getComputedStyle(document.body, '::after').opacity,
        online: document.body.dataset.online || null,
        wall: document.body.dataset.wallart || null,
        current_item: document.body.dataset.currentItem || null,
        images: images.map(function (image) {
            return { src: (image.currentSrc || '').slice(0, 80), loaded: image.complete && image.naturalWidth > 0 };
        }),
        burn_in: document.documentElement.style.getPropertyValue('--burn-in-x') + ' '
            + document.documentElement.style.getPropertyValue('--burn-in-y'),
    };
"#;

const SLEEPING: &str = r#"
    return document.body.dataset.sleeping === 'true'
        && getComputedStyle(document.body, '::after').opacity === '1';
"#;

const AWAKE_AND_FILLED: &str = r#"
    return document.body.dataset.sleeping === 'false'
        && getComputedStyle(document.body, '::after').opacity === '0'
        && document.body.dataset.wallart === 'filled';
"#;

const SCREENSAVER_POSTER_SHOWN: &str = r#"
    const poster = document.querySelector('#stage img.poster.current');
    return !!document.body.dataset.currentItem && !!poster && poster.complete && poster.naturalWidth > 0;
"#;

/// Image downloads the page started so far, from the Resource Timing entries.
const IMAGE_REQUESTS: &str = r#"
    return performance.getEntriesByType('resource')
        .filter(function (entry) { return entry.initiatorType === 'img'; }).length;
"#;

#[derive(Debug, Deserialize)]
struct ServerClock {
    server_time_ms: i64,
    server_utc_offset_minutes: i32,
}

async fn server_clock(server: &TestServer) -> ServerClock {
    let response = server.get("/api/v1/display-settings").await;
    assert_eq!(response.status(), 200);
    response
        .json()
        .await
        .expect("the display settings carry the server's clock and UTC offset")
}

/// Returns the server's local minutes since midnight, and the seconds left in that minute.
fn local_minute(clock: &ServerClock) -> (i64, i64) {
    let local_ms = clock.server_time_ms + i64::from(clock.server_utc_offset_minutes) * 60_000;
    let minute = local_ms.div_euclid(60_000).rem_euclid(24 * 60);
    let seconds_left = 60 - local_ms.rem_euclid(60_000) / 1000;
    (minute, seconds_left)
}

fn hh_mm(minutes: i64) -> String {
    let minutes = minutes.rem_euclid(24 * 60);
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

#[tokio::test]
async fn sleep_window_blacks_out_and_wakes() {
    const TEST: &str = "client-core-sleep";
    let mut server = TestServer::start(ServerOptions {
        media_posters: 16,
        ..ServerOptions::default()
    })
    .await;
    let Some(browser) = Browser::launch(TEST, 1280, 720).await else {
        return;
    };

    // The window is the server's current minute, so the page sleeps at once and wakes when
    // the minute ends. Close to the end of a minute, wait for the next one to leave time to
    // load the page.
    let mut clock = server_clock(&server).await;
    let (_, seconds_left) = local_minute(&clock);
    if seconds_left < 25 {
        tokio::time::sleep(Duration::from_secs(
            u64::try_from(seconds_left).unwrap() + 1,
        ))
        .await;
        clock = server_clock(&server).await;
    }
    let (minute, _) = local_minute(&clock);
    server.stop().await;
    let mut settings = DisplaySettings::default();
    settings.display.sleep = vec![SleepWindow {
        from: hh_mm(minute),
        until: hh_mm(minute + 1),
    }];
    save_display_settings(&server, &settings).await;
    server.launch().await;

    browser.goto(&server.url("/wallart?interval=3")).await;
    wait_or_fail(
        &browser,
        TEST,
        "the screen is black",
        FIRST_POSTER_TIMEOUT,
        SLEEPING,
        PAGE_STATE,
    )
    .await;
    browser.screenshot(&format!("{TEST}-asleep")).await;
    let requests_asleep: usize = browser.eval(IMAGE_REQUESTS).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    let still_asleep: bool = browser.eval(SLEEPING).await;
    let requests_later: usize = browser.eval(IMAGE_REQUESTS).await;
    if still_asleep {
        assert_eq!(
            requests_later, requests_asleep,
            "the page loaded images during the sleep window"
        );
    }

    wait_or_fail(
        &browser,
        TEST,
        "the screen wakes and fills the wall",
        WAKE_TIMEOUT,
        AWAKE_AND_FILLED,
        PAGE_STATE,
    )
    .await;
    let requests_awake: usize = browser.eval(IMAGE_REQUESTS).await;
    assert!(
        requests_awake > requests_asleep,
        "no image loaded after the window ended"
    );
    browser.screenshot(&format!("{TEST}-awake")).await;
    assert_no_console_errors(&browser, "the screen woke").await;
    browser.close().await;
}

#[tokio::test]
async fn watchdog_reloads_stuck_rotation() {
    const TEST: &str = "client-core-watchdog";
    let server = TestServer::start(ServerOptions {
        media_posters: 8,
        ..ServerOptions::default()
    })
    .await;
    let Some(browser) = Browser::launch(TEST, 1280, 720).await else {
        return;
    };

    browser
        .goto(&server.url("/screensaver?interval=3&device=off"))
        .await;
    wait_or_fail(
        &browser,
        TEST,
        "the first poster is shown",
        FIRST_POSTER_TIMEOUT,
        SCREENSAVER_POSTER_SHOWN,
        PAGE_STATE,
    )
    .await;

    // Every image the page loads from now on fails to decode, so the rotation stops while
    // the server stays reachable. A reload drops this page state, the marker included.
    browser
        .eval::<serde_json::Value>(
            r#"
            window.__beforeReload = 1;
            const property = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, 'src');
            Object.defineProperty(HTMLImageElement.prototype, 'src', {
                configurable: true,
                get: property.get,
                set: function () { property.set.call(this, 'data:image/png;base64,AAAA'); },
            });
            return null;
            "#,
        )
        .await;
    wait_or_fail(
        &browser,
        TEST,
        "the watchdog reloads the page",
        RELOAD_TIMEOUT,
        "return window.__beforeReload !== 1;",
        PAGE_STATE,
    )
    .await;
    wait_or_fail(
        &browser,
        TEST,
        "the reloaded page shows a poster",
        FIRST_POSTER_TIMEOUT,
        SCREENSAVER_POSTER_SHOWN,
        PAGE_STATE,
    )
    .await;
    let messages = browser.console_messages().await;
    assert!(
        messages
            .iter()
            .any(|message| message.contains("Reloading the page: no new item")),
        "the watchdog did not log why it reloaded:\n{}",
        messages.join("\n")
    );
    browser.close().await;
}

#[tokio::test]
async fn burn_in_shift_moves_fixed_text() {
    const TEST: &str = "client-core-burn-in";
    let server = TestServer::start(ServerOptions {
        media_posters: 4,
        ..ServerOptions::default()
    })
    .await;
    let Some(browser) = Browser::launch(TEST, 1280, 720).await else {
        return;
    };

    browser
        .goto(&server.url("/screensaver?device=off&burn_in_cycle=4"))
        .await;
    wait_or_fail(
        &browser,
        TEST,
        "the first poster is shown",
        FIRST_POSTER_TIMEOUT,
        SCREENSAVER_POSTER_SHOWN,
        PAGE_STATE,
    )
    .await;

    // One cycle of 4 s, sampled every 100 ms.
    let mut seen = HashSet::new();
    for _ in 0..40 {
        let translate: String = browser
            .eval("return getComputedStyle(document.querySelector('.overlay')).translate;")
            .await;
        seen.insert(translate);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        seen.len() >= 4,
        "the overlay took only {} positions in a cycle: {seen:?}",
        seen.len()
    );
    for translate in &seen {
        let pixels: Vec<f64> = translate
            .split_whitespace()
            .map(|part| part.trim_end_matches("px").parse().unwrap())
            .collect();
        assert!(
            pixels.iter().all(|pixel| (0.0..=8.0).contains(pixel)),
            "the overlay moved beyond 8 px: {translate}"
        );
    }
    let transform: String = browser
        .eval("return getComputedStyle(document.querySelector('.overlay')).transform;")
        .await;
    assert_eq!(
        transform, "none",
        "the shift must not replace the element's transform"
    );
    assert_no_console_errors(&browser, "the overlay moved").await;
    browser.close().await;
}

/// Whether the wallart page's offline pool contains a wall of 10 posters. Execute Script waits
/// for the returned promise.
const POOL_HOLDS_A_WALL: &str = r#"
    return caches.open('onesheet-posters')
        .then(function (cache) { return cache.match(new URL('offline-pool/wallart.json', document.baseURI).href); })
        .then(function (response) { return response ? response.json() : []; })
        .then(function (entries) { return entries.length >= 10; });
"#;

#[tokio::test]
async fn offline_pool_shows_posters_after_reload() {
    const TEST: &str = "client-core-offline-pool";
    let server = TestServer::start(ServerOptions {
        media_posters: 16,
        ..ServerOptions::default()
    })
    .await;
    let Some(browser) = Browser::launch(TEST, 1280, 720).await else {
        return;
    };

    browser.goto(&server.url("/wallart?interval=3")).await;
    wait_or_fail(
        &browser,
        TEST,
        "the pool holds a wall of posters",
        POOL_TIMEOUT,
        POOL_HOLDS_A_WALL,
        PAGE_STATE,
    )
    .await;
    assert_no_console_errors(&browser, "the pool filled").await;

    // Only the API and the images are blocked, so this test checks the pool alone: the HTML
    // still loads from the server. The outage tests in `offline` stop the server itself and
    // cover the service worker that serves the page then.
    browser.cdp("Network.enable", json!({})).await;
    browser
        .cdp(
            "Network.setBlockedURLs",
            json!({ "urls": ["*/api/v1/*", "*/img/*"] }),
        )
        .await;
    browser.goto(&server.url("/wallart?interval=3")).await;
    wait_or_fail(
        &browser,
        TEST,
        "the reloaded wall fills from the pool",
        POOL_TIMEOUT,
        r#"
            const images = Array.from(document.querySelectorAll('#grid img'));
            return document.body.dataset.online === 'false' && document.body.dataset.wallart === 'filled'
                && images.length > 0 && images.every(function (image) {
                    return image.currentSrc.indexOf('blob:') === 0 && image.complete && image.naturalWidth > 0;
                });
        "#,
        PAGE_STATE,
    )
    .await;
    browser.screenshot(TEST).await;
    let violations: Vec<String> = browser
        .console_messages()
        .await
        .into_iter()
        .filter(|message| message.contains("Content Security Policy"))
        .collect();
    assert!(violations.is_empty(), "CSP violations: {violations:#?}");
    browser.close().await;
}
