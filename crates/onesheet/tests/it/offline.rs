//! Display pages through a two-minute server outage, and a poster whose image fails.
//!
//! Each outage test keeps the server stopped for 120 real seconds. For the first half nothing
//! listens on the port, so connections are refused. For the second half a stand-in responds
//! to every request with 502, as a reverse proxy in front of a stopped server does, and counts
//! the requests, which shows how often the page retries. The page is reloaded in the first
//! half, so it must start from its service worker and offline pool. Then the server starts
//! again on the same port and data directory, and the page must come back online by itself.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use image::{ImageFormat, Rgb, RgbImage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use crate::browser::Browser;
use crate::display_pages::{assert_no_console_errors, wait_or_fail};
use crate::harness::{ServerOptions, TestServer};

/// Time the server stays stopped.
const OUTAGE: Duration = Duration::from_secs(120);
/// Time into the outage when the stand-in proxy starts to respond with 502.
const PROXY_FROM: Duration = Duration::from_secs(60);
/// Time into the outage when the page is reloaded.
const RELOAD_AT: Duration = Duration::from_secs(30);
/// Largest wait between two retries of the page's connection, from common/backoff.js.
const RETRY_CAP: Duration = Duration::from_secs(60);
/// Slack for a machine busy with other tests, added to the limits that follow from the
/// interval and the retry cap.
const MARGIN: Duration = Duration::from_secs(15);
const FIRST_POSTER_TIMEOUT: Duration = Duration::from_secs(60);
const POOL_TIMEOUT: Duration = Duration::from_secs(90);
const OFFLINE_TIMEOUT: Duration = Duration::from_secs(30);
/// Posters that must change on screen in each stage of the outage, each about 30 seconds
/// long. With the longest interval, 5 seconds, about five changes fit.
const CHANGES_PER_STAGE: usize = 3;
/// Requests the page may send per second on average while the server is down: one per three
/// seconds.
const MAX_REQUESTS_PER_SECOND: f64 = 1.0 / 3.0;
const SAMPLE_INTERVAL: Duration = Duration::from_millis(250);

/// One display page and what it shows when a poster is on screen.
struct Mode {
    name: &'static str,
    path: &'static str,
    /// Seconds between posters, given as `?interval=`: the shortest the page accepts.
    interval_seconds: u64,
    options: ServerOptions,
    /// Returns an id of what is on screen, which changes with every new poster, or null while
    /// no loaded poster is shown.
    frame: &'static str,
    /// Items the offline pool must contain before the outage, so that a reload has posters
    /// to rotate. A script, because the wall's size depends on the screen.
    pool_needed: &'static str,
}

const SCREENSAVER_FRAME: &str = r#"
    const poster = document.querySelector('#stage img.poster.current');
    return poster && poster.complete && poster.naturalWidth > 0
        ? (document.body.dataset.currentItem || null) : null;
"#;

const CINEMA_FRAME: &str = r#"
    const poster = document.querySelector('#frame .slide.current img.poster');
    return poster && poster.complete && poster.naturalWidth > 0
        ? (document.body.dataset.currentItem || null) : null;
"#;

/// The item ids of the tiles, which change a few at a time.
const WALLART_FRAME: &str = r#"
    if (document.body.dataset.wallart !== 'filled') {
        return null;
    }
    const images = Array.from(document.querySelectorAll('#grid img'));
    const loaded = images.every(function (image) { return image.complete && image.naturalWidth > 0; });
    if (images.length === 0 || !loaded) {
        return null;
    }
    return Array.from(document.querySelectorAll('#grid .tile'))
        .map(function (tile) { return tile.dataset.itemId || '-'; }).join(' ');
"#;

const FOUR_ITEMS: &str = "return 4;";
/// A full wall and three spare posters to swap in.
const WALL_AND_THREE: &str = "return document.querySelectorAll('#grid .tile').length + 3;";

fn screensaver() -> Mode {
    Mode {
        name: "screensaver",
        path: "/screensaver",
        interval_seconds: 3,
        options: ServerOptions {
            media_posters: 8,
            ..ServerOptions::default()
        },
        frame: SCREENSAVER_FRAME,
        pool_needed: FOUR_ITEMS,
    }
}

/// Describes the wallart page, which runs under a base path, so the worker's scope and URLs
/// are tested there.
fn wallart() -> Mode {
    Mode {
        name: "wallart",
        path: "/wallart",
        interval_seconds: 3,
        options: ServerOptions {
            base_path: Some("/posters".to_owned()),
            media_posters: 24,
            ..ServerOptions::default()
        },
        frame: WALLART_FRAME,
        pool_needed: WALL_AND_THREE,
    }
}

fn cinema() -> Mode {
    Mode {
        name: "cinema",
        path: "/cinema",
        interval_seconds: 5,
        options: ServerOptions {
            media_posters: 8,
            ..ServerOptions::default()
        },
        frame: CINEMA_FRAME,
        pool_needed: FOUR_ITEMS,
    }
}

/// True once the service worker controls the page and its cache exists.
const WORKER_READY: &str = r#"
    if (!navigator.serviceWorker || !navigator.serviceWorker.controller) {
        return false;
    }
    return caches.keys().then(function (names) {
        return names.some(function (name) { return name.indexOf('onesheet-shell-') === 0; });
    });
"#;

const OFFLINE_MARKER_SHOWN: &str = r#"
    const marker = document.getElementById('offline-marker');
    return document.body.dataset.online === 'false' && !!marker && !marker.hidden
        && getComputedStyle(marker).display !== 'none';
"#;

const OFFLINE_MARKER_HIDDEN: &str = r#"
    const marker = document.getElementById('offline-marker');
    return document.body.dataset.online === 'true' && !!marker
        && (marker.hidden || getComputedStyle(marker).display === 'none');
"#;

/// Collects the page state for failure messages.
const PAGE_STATE: &str = r#"
    const marker = document.getElementById('offline-marker');
    const message = document.getElementById('message');
    return {
        url: location.href,
        title: document.title,
        online: document.body ? document.body.dataset.online || null : null,
        marker_visible: !!marker && !marker.hidden,
        message: message && !message.hidden ? message.textContent : null,
        device: document.body ? document.body.dataset.device || null : null,
        controlled: !!(navigator.serviceWorker && navigator.serviceWorker.controller),
        current_item: document.body ? document.body.dataset.currentItem || null : null,
        images: Array.from(document.querySelectorAll('img')).map(function (image) {
            return {
                src: (image.currentSrc || '').slice(0, 90),
                loaded: image.complete && image.naturalWidth > 0,
            };
        }),
    };
"#;

/// True once the offline pool of `mode` contains the items its `pool_needed` script requires.
/// Execute Script waits for the returned promise.
fn pool_ready_script(mode: &Mode) -> String {
    format!(
        r#"
        const needed = (function () {{ {needed} }})();
        const index = new URL('offline-pool/{name}.json', document.baseURI).href;
        return caches.open('onesheet-posters')
            .then(function (cache) {{ return cache.match(index); }})
            .then(function (response) {{ return response ? response.json() : []; }})
            .then(function (entries) {{ return entries.length >= needed; }});
        "#,
        needed = mode.pool_needed,
        name = mode.name
    )
}

/// Browser console messages, kept across reads because each read empties the browser's buffer.
struct Console {
    messages: Vec<String>,
}

impl Console {
    fn new() -> Console {
        Console {
            messages: Vec::new(),
        }
    }

    /// Reads the messages logged since the last read and returns them.
    async fn read(&mut self, browser: &Browser) -> &[String] {
        let start = self.messages.len();
        self.messages.extend(browser.console_messages().await);
        &self.messages[start..]
    }
}

/// Returns whether a console message is the browser's report of a request that failed because
/// the server at `base_url` is down. The failure must be a refused connection or a proxy's 502,
/// for a URL under one of `prefixes` (such as `/api/v1/`) or for the device socket.
fn is_expected_network_failure(message: &str, base_url: &str, prefixes: &[&str]) -> bool {
    if !message.starts_with("SEVERE ") {
        return false;
    }
    let failed_request = prefixes
        .iter()
        .any(|prefix| message.starts_with(&format!("SEVERE {base_url}{prefix}")))
        && (message.ends_with("Failed to load resource: net::ERR_CONNECTION_REFUSED")
            || message.ends_with(
                "Failed to load resource: the server responded with a status of 502 (Bad Gateway)",
            ));
    let socket = base_url.replacen("http://", "ws://", 1);
    let failed_socket = message.contains(&format!(
        "WebSocket connection to '{socket}/api/v1/devices/ws' failed"
    )) && (message.contains("net::ERR_CONNECTION_REFUSED")
        || message.contains("Unexpected response code: 502"));
    failed_request || failed_socket
}

/// Fails on any error in `messages` other than the expected network failures for URLs under
/// `prefixes`, and on any CSP violation.
fn assert_only_network_failures(
    messages: &[String],
    base_url: &str,
    prefixes: &[&str],
    moment: &str,
) {
    let unexpected: Vec<&String> = messages
        .iter()
        .filter(|message| {
            message.contains("Content Security Policy")
                || (message.starts_with("SEVERE")
                    && !is_expected_network_failure(message, base_url, prefixes))
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "unexpected browser console errors {moment}:\n{unexpected:#?}"
    );
}

/// Returns the scheme, host and port of a server URL: `http://127.0.0.1:PORT`.
fn origin_of(url: &str) -> String {
    let after_scheme = url.strip_prefix("http://").expect("a plain HTTP test URL");
    let host = after_scheme.split('/').next().expect("a host in the URL");
    format!("http://{host}")
}

fn port_of(origin: &str) -> u16 {
    origin
        .rsplit(':')
        .next()
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("no port in {origin}"))
}

/// Returns what is on screen now, per the mode's frame script.
async fn frame(browser: &Browser, mode: &Mode) -> Option<String> {
    browser.eval(mode.frame).await
}

/// Samples the screen until `deadline` and returns how many times a new poster appeared.
async fn count_changes_until(browser: &Browser, mode: &Mode, deadline: Instant) -> usize {
    let mut last = frame(browser, mode).await;
    let mut changes = 0;
    while Instant::now() < deadline {
        tokio::time::sleep(SAMPLE_INTERVAL).await;
        let now = frame(browser, mode).await;
        if now.is_some() && now != last {
            changes += 1;
            last = now;
        }
    }
    changes
}

/// Waits until `count` new posters have appeared, and fails with the page state on timeout.
async fn wait_for_changes(
    browser: &Browser,
    mode: &Mode,
    test_name: &str,
    count: usize,
    timeout: Duration,
) {
    let started = Instant::now();
    let mut last = frame(browser, mode).await;
    let mut changes = 0;
    while changes < count {
        if started.elapsed() >= timeout {
            let state: serde_json::Value = browser.eval(PAGE_STATE).await;
            let screenshot = browser.screenshot(&format!("{test_name}-failure")).await;
            panic!(
                "timed out after {} s waiting for {count} new posters, saw {changes}\n\
                 page state: {state:#}\nscreenshot: {}",
                timeout.as_secs(),
                screenshot.display()
            );
        }
        tokio::time::sleep(SAMPLE_INTERVAL).await;
        let now = frame(browser, mode).await;
        if now.is_some() && now != last {
            changes += 1;
            last = now;
        }
    }
}

/// Fails, with the page state, a screenshot and the console, unless at least
/// [`CHANGES_PER_STAGE`] new posters appeared during `stage`.
async fn assert_rotated(
    browser: &Browser,
    console: &mut Console,
    test_name: &str,
    changes: usize,
    stage: &str,
) {
    if changes >= CHANGES_PER_STAGE {
        return;
    }
    let state: serde_json::Value = browser.eval(PAGE_STATE).await;
    let screenshot = browser.screenshot(&format!("{test_name}-failure")).await;
    console.read(browser).await;
    panic!(
        "only {changes} new posters {stage}, expected {CHANGES_PER_STAGE}\n\
         page state: {state:#}\nscreenshot: {}\n--- browser console ---\n{}",
        screenshot.display(),
        console.messages.join("\n")
    );
}

/// A stand-in for a reverse proxy whose server is down: it responds to every request on the
/// port with 502 and records the request lines with their arrival time.
struct BadGatewayProxy {
    requests: Arc<Mutex<Vec<(Duration, String)>>>,
    accept: JoinHandle<()>,
}

const BAD_GATEWAY: &[u8] = b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\n\
    Content-Length: 11\r\nConnection: close\r\n\r\nBad Gateway";

impl BadGatewayProxy {
    async fn start(port: u16) -> BadGatewayProxy {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap_or_else(|error| {
                panic!("binding the stand-in proxy to port {port} failed: {error}")
            });
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&requests);
        let started = Instant::now();
        let accept = tokio::spawn(async move {
            // Dropping the set when this task is aborted closes every open connection.
            let mut connections = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let recorded = Arc::clone(&recorded);
                connections.spawn(async move {
                    if let Some(line) = answer_bad_gateway(stream).await {
                        recorded.lock().unwrap().push((started.elapsed(), line));
                    }
                });
            }
        });
        BadGatewayProxy { requests, accept }
    }

    /// Stops listening and returns the requests it received.
    async fn stop(self) -> Vec<(Duration, String)> {
        self.accept.abort();
        let _ = self.accept.await;
        self.requests.lock().unwrap().clone()
    }
}

/// Reads one request head, responds with 502 and returns the request line, or None when the client
/// sent no complete head.
async fn answer_bad_gateway(mut stream: TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 4096];
    let read_head = async {
        while !head.windows(4).any(|window| window == b"\r\n\r\n") {
            let read = stream.read(&mut buffer).await.ok()?;
            if read == 0 {
                return None;
            }
            head.extend_from_slice(&buffer[..read]);
        }
        Some(())
    };
    tokio::time::timeout(Duration::from_secs(10), read_head)
        .await
        .ok()??;
    let line = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    let _ = stream.write_all(BAD_GATEWAY).await;
    let _ = stream.shutdown().await;
    // Waiting for the browser to close its side leaves the closed connection's TIME_WAIT state
    // with the browser, so the restarted server can bind the port at once.
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while matches!(stream.read(&mut buffer).await, Ok(read) if read > 0) {}
    })
    .await;
    Some(line)
}

/// Runs the outage scenario described in the module documentation for one display page.
async fn survive_outage(mode: Mode) {
    let test = format!("offline-{}", mode.name);
    let mut server = TestServer::start(mode.options.clone()).await;
    let Some(browser) = Browser::launch(&test, 1280, 720).await else {
        return;
    };
    let base_url = server.base_url();
    let origin = origin_of(&base_url);
    let page_url = server.url(&format!("{}?interval={}", mode.path, mode.interval_seconds));
    let mut console = Console::new();

    // Online: posters rotate, the worker takes control and the pool fills.
    browser.goto(&page_url).await;
    wait_for_changes(&browser, &mode, &test, 1, FIRST_POSTER_TIMEOUT).await;
    wait_or_fail(
        &browser,
        &test,
        "the service worker controls the page",
        FIRST_POSTER_TIMEOUT,
        WORKER_READY,
        PAGE_STATE,
    )
    .await;
    wait_or_fail(
        &browser,
        &test,
        "the offline pool holds enough posters",
        POOL_TIMEOUT,
        &pool_ready_script(&mode),
        PAGE_STATE,
    )
    .await;
    assert_no_console_errors(&browser, "posters rotated online").await;

    // Connections refused: the page notices, keeps rotating, and survives a reload.
    server.stop().await;
    let outage_started = Instant::now();
    wait_or_fail(
        &browser,
        &test,
        "the offline marker shows",
        OFFLINE_TIMEOUT,
        OFFLINE_MARKER_SHOWN,
        PAGE_STATE,
    )
    .await;
    // Until the page has marked itself offline, it may still start to load a new poster.
    let first_failures = console.read(&browser).await.to_vec();
    assert_only_network_failures(
        &first_failures,
        &base_url,
        &["/api/v1/", "/img/"],
        "until the offline marker showed",
    );
    let changes = count_changes_until(&browser, &mode, outage_started + RELOAD_AT).await;
    assert_rotated(&browser, &mut console, &test, changes, "before the reload").await;

    browser.goto(&page_url).await;
    wait_or_fail(
        &browser,
        &test,
        "the reloaded page shows a poster and the offline marker",
        OFFLINE_TIMEOUT,
        &format!(
            "const frame = (function () {{ {} }})();\n\
             return frame !== null && (function () {{ {OFFLINE_MARKER_SHOWN} }})();",
            mode.frame
        ),
        PAGE_STATE,
    )
    .await;
    let controlled: bool = browser
        .eval("return !!navigator.serviceWorker.controller;")
        .await;
    assert!(controlled, "the reloaded page is not served by the worker");
    browser.screenshot(&format!("{test}-reloaded")).await;
    let changes = count_changes_until(&browser, &mode, outage_started + PROXY_FROM).await;
    assert_rotated(&browser, &mut console, &test, changes, "after the reload").await;
    browser
        .eval::<serde_json::Value>("window.__noReloadMarker = 1; return null;")
        .await;

    // A proxy responds with 502: the page keeps rotating and retries with backoff.
    let proxy = BadGatewayProxy::start(port_of(&origin)).await;
    let proxy_started = Instant::now();
    let changes = count_changes_until(&browser, &mode, outage_started + OUTAGE).await;
    let requests = proxy.stop().await;
    let proxy_window = proxy_started.elapsed();
    assert_rotated(
        &browser,
        &mut console,
        &test,
        changes,
        "while the proxy sent 502",
    )
    .await;
    let limit = (proxy_window.as_secs_f64() * MAX_REQUESTS_PER_SECOND).ceil() as usize;
    assert!(
        requests.len() <= limit,
        "{} requests in {} s while the server was down, more than {limit}:\n{requests:#?}",
        requests.len(),
        proxy_window.as_secs()
    );
    eprintln!(
        "{test}: {} requests in {} s while the proxy sent 502: {requests:?}",
        requests.len(),
        proxy_window.as_secs()
    );

    // The server returns on the same port: the page comes back by itself, without a reload.
    server.launch().await;
    let restarted = Instant::now();
    wait_or_fail(
        &browser,
        &test,
        "the offline marker hides",
        RETRY_CAP + MARGIN,
        OFFLINE_MARKER_HIDDEN,
        PAGE_STATE,
    )
    .await;
    wait_for_changes(
        &browser,
        &mode,
        &test,
        1,
        Duration::from_secs(mode.interval_seconds) + MARGIN,
    )
    .await;
    let recovery = restarted.elapsed();
    assert!(
        recovery <= RETRY_CAP + Duration::from_secs(mode.interval_seconds) + MARGIN,
        "the page took {} s to show a new poster after the restart",
        recovery.as_secs()
    );
    let reloaded: bool = browser.eval("return window.__noReloadMarker !== 1;").await;
    assert!(!reloaded, "the page reloaded after the server came back");
    browser.screenshot(&format!("{test}-recovered")).await;

    let outage_messages = console.read(&browser).await.to_vec();
    assert_only_network_failures(
        &outage_messages,
        &base_url,
        &["/api/v1/"],
        "once the page was offline",
    );
    eprintln!(
        "{test}: online again {} s after the restart",
        recovery.as_secs()
    );
    browser.close().await;
    server.stop().await;
}

#[tokio::test]
async fn screensaver_survives_two_minute_outage() {
    survive_outage(screensaver()).await;
}

#[tokio::test]
async fn wallart_survives_two_minute_outage() {
    survive_outage(wallart()).await;
}

#[tokio::test]
async fn cinema_survives_two_minute_outage() {
    survive_outage(cinema()).await;
}

/// Writes a PNG poster whose header and end are valid, so the media scan accepts it, but whose
/// compressed data is noise, so resizing it fails.
fn write_undecodable_poster(dir: &std::path::Path) {
    let poster = RgbImage::from_fn(400, 600, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    poster
        .write_to(&mut bytes, ImageFormat::Png)
        .expect("encode the PNG poster");
    let mut bytes = bytes.into_inner();
    // The IHDR chunk ends at byte 33. The noise stops short of the IEND chunk at the end.
    let mut state: u32 = 0x2545_f491;
    let end = bytes.len() - 64;
    for byte in &mut bytes[64..end] {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        *byte = state as u8;
    }
    let path = dir.join("Static Noise (2005).png");
    std::fs::write(&path, bytes)
        .unwrap_or_else(|error| panic!("write {} failed: {error}", path.display()));
}

/// Returns the id and poster URL of the item titled `title` in the first playlist page.
async fn playlist_item(server: &TestServer, title: &str) -> (String, String) {
    let response = server.get("/api/v1/playlist").await;
    assert_eq!(response.status(), 200);
    let page: serde_json::Value = response.json().await.expect("a JSON playlist");
    let item = page["items"]
        .as_array()
        .expect("playlist items")
        .iter()
        .find(|item| item["title"] == title)
        .unwrap_or_else(|| panic!("{title} missing from the playlist: {page:#}"));
    (
        item["id"].as_str().expect("an item id").to_owned(),
        item["images"]["poster"]
            .as_str()
            .expect("a poster URL")
            .to_owned(),
    )
}

#[tokio::test]
async fn failing_poster_is_skipped() {
    const TEST: &str = "offline-failing-poster";
    let mut server = TestServer::prepare(ServerOptions {
        media_posters: 12,
        ..ServerOptions::default()
    });
    write_undecodable_poster(&server.data_dir().join("media/posters"));
    server.launch().await;

    // The fixture must fail the way a damaged file in a library does: with a 4xx for the
    // resized image that every page requests.
    let (broken_id, broken_url) = playlist_item(&server, "Static Noise").await;
    let resized = server
        .get_absolute(&format!("{broken_url}&w=640&h=640"))
        .await;
    assert!(
        resized.status().is_client_error(),
        "the damaged poster answered {}",
        resized.status()
    );

    let Some(browser) = Browser::launch(TEST, 1280, 720).await else {
        return;
    };
    let origin = origin_of(&server.base_url());
    let broken_in_dom =
        format!("return !!document.querySelector('[data-item-id=\"{broken_id}\"] img');");
    for mode in [screensaver(), wallart(), cinema()] {
        let test = format!("{TEST}-{}", mode.name);
        let mut console = Console::new();
        browser
            .goto(&server.url(&format!(
                "{}?interval={}&device=off",
                mode.path, mode.interval_seconds
            )))
            .await;
        // The damaged poster comes up once the page has tried every item, and the rotation
        // must go on past it.
        wait_for_changes(&browser, &mode, &test, 1, FIRST_POSTER_TIMEOUT).await;
        let skip_warning = format!("Skipping item {broken_id}");
        let whole_playlist = Duration::from_secs(13 * mode.interval_seconds) + MARGIN;
        let started = Instant::now();
        loop {
            let broken_on_screen: bool = browser.eval(&broken_in_dom).await;
            assert!(
                !broken_on_screen,
                "{}: the damaged poster was put on screen",
                mode.name
            );
            console.read(&browser).await;
            if console
                .messages
                .iter()
                .any(|message| message.contains(&skip_warning))
            {
                break;
            }
            assert!(
                started.elapsed() < whole_playlist,
                "{}: no `{skip_warning}` warning within {} s:\n{:#?}",
                mode.name,
                whole_playlist.as_secs(),
                console.messages
            );
            tokio::time::sleep(SAMPLE_INTERVAL).await;
        }
        let three_intervals = Duration::from_secs(3 * mode.interval_seconds);
        wait_for_changes(&browser, &mode, &test, 3, three_intervals + MARGIN).await;

        console.read(&browser).await;
        let unexpected: Vec<&String> = console
            .messages
            .iter()
            .filter(|message| {
                message.contains("Content Security Policy")
                    || (message.starts_with("SEVERE")
                        && !(message.starts_with(&format!("SEVERE {origin}{broken_url}&"))
                            && message.contains("status of 422")))
            })
            .collect();
        assert!(
            unexpected.is_empty(),
            "{}: console errors other than the damaged poster's 422:\n{unexpected:#?}",
            mode.name
        );
    }
    browser.close().await;
}
