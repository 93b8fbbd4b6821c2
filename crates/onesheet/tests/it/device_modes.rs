//! Device sessions on the wallart and cinema pages. Each test pairs a page through the admin
//! API and drives it with the `next`, `previous`, `pause`, `resume` and `reload` commands. A
//! settings push must change the page without a reload, and a per-device filter must change
//! what the cinema page shows.
//!
//! [`Page`] describes each display page for these tests and for those of the remote keys and
//! of old browsers.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::browser::Browser;
use crate::devices::{
    ADMIN_TOKEN, PAIRING_CODE_SHOWN, admin, send_command, wait_for_command, wait_for_detail,
};
use crate::display_pages::{assert_no_console_errors, wait_or_fail};
use crate::harness::{ServerOptions, TestServer, http_client};

const PAIRING_TIMEOUT: Duration = Duration::from_secs(30);
const FIRST_POSTER_TIMEOUT: Duration = Duration::from_secs(60);
const COMMAND_TIMEOUT: Duration = Duration::from_secs(20);
const SAMPLE_INTERVAL: Duration = Duration::from_millis(200);

/// Marks the loaded document, so that a test can tell a change made in place from a reload.
const SET_DOCUMENT_MARKER: &str = "window.onesheetTestMarker = 'kept'; return true;";
const DOCUMENT_MARKER_KEPT: &str = "return window.onesheetTestMarker === 'kept';";

/// Turns begun since the page loaded.
const TURN_COUNT: &str = "return Number(document.body.dataset.turnCount || 0);";

/// True while the page is paused and its loop waits for the next turn, so no change is in
/// flight.
pub(crate) const PAUSED_AND_WAITING: &str = "return document.body.dataset.paused === 'true' \
     && document.body.dataset.turn === 'waiting';";

/// One display page under test.
pub(crate) struct Page {
    pub name: &'static str,
    /// Posters in the media folder: the wall needs more than its 10 tiles, so `next` has
    /// items left to bring in.
    pub posters: usize,
    /// The page's interval in seconds, which its URL sets with `interval`.
    pub interval_seconds: u64,
    /// True once the first posters are on screen.
    pub ready: &'static str,
    /// A script returning, as a string, what is on screen: it changes with every new poster.
    pub shown: &'static str,
    /// A script returning the page state printed when a wait fails.
    pub state: &'static str,
}

pub(crate) const SCREENSAVER: Page = Page {
    name: "screensaver",
    posters: 4,
    interval_seconds: 2,
    ready: r#"
        const poster = document.querySelector('#stage img.poster.current');
        return !!document.body.dataset.currentItem && !!poster && poster.complete && poster.naturalWidth > 0;
    "#,
    shown: "return document.body.dataset.currentItem || '';",
    state: r#"return {
        current_item: document.body.dataset.currentItem || null,
        paused: document.body.dataset.paused || null,
        turn: document.body.dataset.turn || null,
    };"#,
};

pub(crate) const WALLART: Page = Page {
    name: "wallart",
    posters: 16,
    interval_seconds: 3,
    ready: "return document.body.dataset.wallart === 'filled';",
    shown: "return Array.from(document.querySelectorAll('#grid .tile'))\
        .map(function (tile) { return tile.dataset.itemId || '-'; }).join(' ');",
    state: r#"return {
        grid: document.body.dataset.grid || null,
        changes: document.body.dataset.tileChanges || null,
        tiles: Array.from(document.querySelectorAll('#grid .tile')).map(function (tile) { return tile.dataset.itemId || null; }),
        paused: document.body.dataset.paused || null,
        turn: document.body.dataset.turn || null,
        device: document.body.dataset.device || null,
    };"#,
};

pub(crate) const CINEMA: Page = Page {
    name: "cinema",
    posters: 4,
    interval_seconds: 5,
    ready: r#"
        const poster = document.querySelector('#frame .slide.current img.poster');
        return !!document.body.dataset.currentItem && !!poster && poster.complete && poster.naturalWidth > 0;
    "#,
    shown: "return document.body.dataset.currentItem || '';",
    state: r#"
        const text = document.querySelector('#frame .slide.current .header-text');
        return {
            current_item: document.body.dataset.currentItem || null,
            header: document.body.dataset.header || null,
            header_text: text ? text.textContent : null,
            paused: document.body.dataset.paused || null,
            turn: document.body.dataset.turn || null,
            device: document.body.dataset.device || null,
        };
    "#,
};

impl Page {
    pub(crate) fn interval(&self) -> Duration {
        Duration::from_secs(self.interval_seconds)
    }

    pub(crate) async fn shown(&self, browser: &Browser) -> String {
        browser.eval(self.shown).await
    }

    /// Waits for `condition`, failing with the page state, a screenshot and the console.
    pub(crate) async fn wait(
        &self,
        browser: &Browser,
        description: &str,
        timeout: Duration,
        condition: &str,
    ) {
        let test_name = format!("{}-page", self.name);
        wait_or_fail(
            browser,
            &test_name,
            description,
            timeout,
            condition,
            self.state,
        )
        .await;
    }

    /// Waits until the page shows something other than `before`, and returns it.
    pub(crate) async fn wait_for_change(
        &self,
        browser: &Browser,
        description: &str,
        timeout: Duration,
        before: &str,
    ) -> String {
        let condition = format!(
            "return (function () {{ {} }})() !== {};",
            self.shown,
            serde_json::to_string(before).unwrap()
        );
        self.wait(browser, description, timeout, &condition).await;
        self.shown(browser).await
    }

    /// Waits until the page shows `expected` again.
    pub(crate) async fn wait_for_shown(
        &self,
        browser: &Browser,
        description: &str,
        timeout: Duration,
        expected: &str,
    ) {
        let condition = format!(
            "return (function () {{ {} }})() === {};",
            self.shown,
            serde_json::to_string(expected).unwrap()
        );
        self.wait(browser, description, timeout, &condition).await;
    }

    /// Checks, sampling all along, that the page keeps showing `expected` for 2.5 intervals.
    pub(crate) async fn assert_held(&self, browser: &Browser, expected: &str, moment: &str) {
        let hold = self.interval() * 5 / 2;
        let started = Instant::now();
        while started.elapsed() < hold {
            let shown = self.shown(browser).await;
            assert_eq!(
                shown,
                expected,
                "{}: the page changed {} ms after {moment}",
                self.name,
                started.elapsed().as_millis()
            );
            tokio::time::sleep(SAMPLE_INTERVAL).await;
        }
    }
}

/// Opens `path`, claims the code the page shows as `name` and returns the device id once the
/// page is live. Checks the pairing card's QR code on the way.
async fn pair(
    browser: &Browser,
    server: &TestServer,
    page: &Page,
    path: &str,
    name: &str,
) -> String {
    browser.goto(&server.url(path)).await;
    page.wait(
        browser,
        "the pairing code is shown",
        PAIRING_TIMEOUT,
        PAIRING_CODE_SHOWN,
    )
    .await;
    page.wait(
        browser,
        "the pairing QR code is shown",
        PAIRING_TIMEOUT,
        "const qr = document.getElementById('pairing-qr'); \
         return !!qr && !qr.hidden && qr.complete && qr.naturalWidth > 0;",
    )
    .await;
    let code: String = browser
        .eval("return document.getElementById('pairing-overlay').dataset.code;")
        .await;

    let (status, claimed) = admin(
        server,
        reqwest::Method::POST,
        "/api/v1/admin/devices/claim",
        Some(json!({ "code": code, "name": name })),
    )
    .await;
    assert_eq!(status, 201, "claiming code {code} failed: {claimed}");
    let device_id = claimed["device"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("the claim response has no device id: {claimed}"))
        .to_owned();

    let live = format!(
        "const overlay = document.getElementById('pairing-overlay'); \
         return document.body.dataset.device === 'live' && document.body.dataset.deviceId === {} \
         && (!overlay || overlay.hidden);",
        serde_json::to_string(&device_id).unwrap()
    );
    page.wait(browser, "the paired page is live", PAIRING_TIMEOUT, &live)
        .await;
    device_id
}

/// Sends `command` and checks that the page acknowledged it.
async fn run_command(server: &TestServer, device_id: &str, command: Value) {
    let id = send_command(server, device_id, command.clone()).await;
    let result = wait_for_command(server, device_id, id).await;
    assert_eq!(
        result["state"], "acked",
        "{command} was not acked: {result}"
    );
}

/// Replaces the device's settings overrides, which the server pushes to the page.
async fn set_overrides(server: &TestServer, device_id: &str, overrides: Value) {
    let path = format!("/api/v1/admin/devices/{device_id}");
    let (status, body) = admin(
        server,
        reqwest::Method::PATCH,
        &path,
        Some(json!({ "overrides": overrides })),
    )
    .await;
    assert_eq!(status, 200, "PATCH {path} failed: {body}");
}

async fn start_server(page: &Page) -> TestServer {
    TestServer::start(ServerOptions {
        media_posters: page.posters,
        env: vec![("ONESHEET_ADMIN_TOKEN".to_owned(), ADMIN_TOKEN.to_owned())],
        ..ServerOptions::default()
    })
    .await
}

/// Pairs `page` and drives it with commands. After `pause` nothing changes for 2.5 intervals,
/// `next` shows something new while paused, `previous` brings back what was shown before, and
/// after `resume` the page changes again. Returns the server, the browser and the device id.
async fn pair_and_drive(page: &Page) -> Option<(TestServer, Browser, String)> {
    let server = start_server(page).await;
    let browser = Browser::launch(&format!("{}_device_session", page.name), 1280, 720).await?;
    let path = format!(
        "/{}?interval={}&device_retry_ms=200",
        page.name, page.interval_seconds
    );
    let device_id = pair(&browser, &server, page, &path, "Lobby").await;
    page.wait(
        &browser,
        "the first posters are shown",
        FIRST_POSTER_TIMEOUT,
        page.ready,
    )
    .await;
    wait_for_detail(
        &server,
        &device_id,
        "the page reports its mode and item",
        |detail| {
            detail["device"]["last_status"]["mode"] == page.name
                && detail["device"]["last_status"]["current_item_id"].is_string()
        },
    )
    .await;
    let _: bool = browser.eval(SET_DOCUMENT_MARKER).await;

    run_command(&server, &device_id, json!({ "type": "pause" })).await;
    page.wait(
        &browser,
        "the page is paused",
        COMMAND_TIMEOUT,
        PAUSED_AND_WAITING,
    )
    .await;
    wait_for_detail(
        &server,
        &device_id,
        "the status reports the pause",
        |detail| detail["device"]["last_status"]["paused"] == true,
    )
    .await;
    let paused = page.shown(&browser).await;
    page.assert_held(&browser, &paused, "pause").await;

    run_command(&server, &device_id, json!({ "type": "next" })).await;
    let after_next = page
        .wait_for_change(
            &browser,
            "next shows something new",
            COMMAND_TIMEOUT,
            &paused,
        )
        .await;
    page.wait(
        &browser,
        "the page stays paused after next",
        COMMAND_TIMEOUT,
        PAUSED_AND_WAITING,
    )
    .await;

    run_command(&server, &device_id, json!({ "type": "previous" })).await;
    page.wait_for_shown(
        &browser,
        "previous brings back what was shown before next",
        COMMAND_TIMEOUT,
        &paused,
    )
    .await;
    assert_ne!(after_next, paused);

    run_command(&server, &device_id, json!({ "type": "resume" })).await;
    page.wait_for_change(
        &browser,
        "the resumed page changes by itself",
        page.interval() * 2 + COMMAND_TIMEOUT,
        &paused,
    )
    .await;
    wait_for_detail(
        &server,
        &device_id,
        "the status reports the resume",
        |detail| detail["device"]["last_status"]["paused"] == false,
    )
    .await;
    Some((server, browser, device_id))
}

/// Checks that `reload` reloads the page, which comes back live with its stored identity.
async fn assert_reload_works(page: &Page, server: &TestServer, browser: &Browser, device_id: &str) {
    let kept: bool = browser.eval(DOCUMENT_MARKER_KEPT).await;
    assert!(
        kept,
        "{}: the page reloaded before the reload command",
        page.name
    );
    run_command(server, device_id, json!({ "type": "reload" })).await;
    let reloaded = format!(
        "return window.onesheetTestMarker === undefined && document.body.dataset.device === 'live' \
         && document.body.dataset.deviceId === {};",
        serde_json::to_string(device_id).unwrap()
    );
    page.wait(
        browser,
        "the reloaded page is live again",
        PAIRING_TIMEOUT,
        &reloaded,
    )
    .await;
}

#[tokio::test]
async fn wallart_obeys_device_commands() {
    let page = &WALLART;
    let Some((server, browser, device_id)) = pair_and_drive(page).await else {
        return;
    };

    // Density 5 on 1280×720 gives 5×2 tiles, and density 3 gives 2×1 tiles of 480×720.
    let grid: String = browser.eval("return document.body.dataset.grid;").await;
    assert_eq!(grid, "5x2");
    set_overrides(&server, &device_id, json!({ "wallart": { "density": 3 } })).await;
    page.wait(
        &browser,
        "the pushed density rebuilds the grid",
        COMMAND_TIMEOUT,
        "return document.body.dataset.grid === '2x1' && document.body.dataset.wallart === 'filled';",
    )
    .await;
    let kept: bool = browser.eval(DOCUMENT_MARKER_KEPT).await;
    assert!(kept, "the density push reloaded the page");

    assert_reload_works(page, &server, &browser, &device_id).await;
    page.wait(
        &browser,
        "the reloaded page builds the device's grid",
        FIRST_POSTER_TIMEOUT,
        "return document.body.dataset.grid === '2x1' && document.body.dataset.wallart === 'filled';",
    )
    .await;
    assert_no_console_errors(&browser, "the wall was paired and driven").await;
    browser.close().await;
}

/// The header rule that applies decides which of the three texts the header shows.
const HEADER_SHOWS_PUSHED_TEXT: &str = r#"
    const text = document.querySelector('#frame .slide.current .header-text');
    const expected = { default: 'Tonight only', coming_soon: 'Soon in this hall', late_night: 'After hours' };
    return !!text && text.textContent === expected[document.body.dataset.header];
"#;

/// Checks, sampling all along, that the page shows `expected` until `turns` more turns began.
async fn assert_shown_for_turns(page: &Page, browser: &Browser, expected: &str, turns: u64) {
    let first: u64 = browser.eval(TURN_COUNT).await;
    let deadline = page.interval() * (turns as u32 + 1) + COMMAND_TIMEOUT;
    let started = Instant::now();
    loop {
        let shown = page.shown(browser).await;
        assert_eq!(
            shown,
            expected,
            "{}: the page changed {} ms into the check",
            page.name,
            started.elapsed().as_millis()
        );
        let count: u64 = browser.eval(TURN_COUNT).await;
        if count >= first + turns {
            return;
        }
        assert!(
            started.elapsed() < deadline,
            "{}: only {} of {turns} turns began within {} s",
            page.name,
            count - first,
            deadline.as_secs()
        );
        tokio::time::sleep(SAMPLE_INTERVAL).await;
    }
}

/// Returns the id of the playlist item called `title`, as a screen without filters gets it.
async fn item_id_by_title(server: &TestServer, title: &str) -> String {
    let url = server.url("/api/v1/playlist?mode=cinema&limit=50");
    let body: Value = http_client()
        .get(&url)
        .send()
        .await
        .unwrap_or_else(|error| panic!("GET {url} failed: {error}"))
        .json()
        .await
        .unwrap_or_else(|error| panic!("GET {url} returned no JSON: {error}"));
    body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|item| item["title"] == title))
        .and_then(|item| item["id"].as_str())
        .unwrap_or_else(|| panic!("no item called {title:?} in {body:#}"))
        .to_owned()
}

#[tokio::test]
async fn cinema_obeys_device_commands() {
    let page = &CINEMA;
    let Some((server, browser, device_id)) = pair_and_drive(page).await else {
        return;
    };

    let headers = json!({
        "header_text": "Tonight only",
        "coming_soon_text": "Soon in this hall",
        "late_night_text": "After hours",
    });
    set_overrides(&server, &device_id, json!({ "cinema": headers })).await;
    page.wait(
        &browser,
        "the pushed header text replaces the one on screen",
        COMMAND_TIMEOUT,
        HEADER_SHOWS_PUSHED_TEXT,
    )
    .await;
    let kept: bool = browser.eval(DOCUMENT_MARKER_KEPT).await;
    assert!(kept, "the header push reloaded the page");

    // The four media posters are from 1994, 2011, 1987 and 2003, so this filter leaves one.
    let only = item_id_by_title(&server, "The Quiet Orbit").await;
    let turns_before_push: u64 = browser.eval(TURN_COUNT).await;
    set_overrides(
        &server,
        &device_id,
        json!({ "cinema": headers, "filter": { "year_from": 2011, "year_to": 2011 } }),
    )
    .await;
    // A poster prepared before the push may still come once, before the next turn begins.
    let filtered = format!(
        "return document.body.dataset.currentItem === {} \
         && Number(document.body.dataset.turnCount || 0) > {turns_before_push};",
        serde_json::to_string(&only).unwrap()
    );
    page.wait(
        &browser,
        "the device's filter leaves one poster in rotation",
        page.interval() * 3 + COMMAND_TIMEOUT,
        &filtered,
    )
    .await;
    assert_shown_for_turns(page, &browser, &only, 2).await;
    let kept: bool = browser.eval(DOCUMENT_MARKER_KEPT).await;
    assert!(kept, "the filter push reloaded the page");

    assert_reload_works(page, &server, &browser, &device_id).await;
    page.wait(
        &browser,
        "the reloaded page shows the device's header text",
        FIRST_POSTER_TIMEOUT,
        HEADER_SHOWS_PUSHED_TEXT,
    )
    .await;
    assert_no_console_errors(&browser, "the cinema page was paired and driven").await;
    browser.close().await;
}

/// Returns an item id of the same form as `real` that no catalog item has: its last four hex
/// digits replaced.
pub(crate) fn unknown_item_id(real: &str) -> String {
    let stem = &real[..real.len() - 4];
    if real.ends_with("0000") {
        format!("{stem}ffff")
    } else {
        format!("{stem}0000")
    }
}

/// Returns the ids of the items in the playlist of `mode`, as a screen without filters gets it.
async fn playlist_item_ids(server: &TestServer, mode: &str) -> Vec<String> {
    let url = server.url(&format!("/api/v1/playlist?mode={mode}&limit=50"));
    let body: Value = http_client()
        .get(&url)
        .send()
        .await
        .unwrap_or_else(|error| panic!("GET {url} failed: {error}"))
        .json()
        .await
        .unwrap_or_else(|error| panic!("GET {url} returned no JSON: {error}"));
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {body:#}"))
        .iter()
        .filter_map(|item| item["id"].as_str().map(str::to_owned))
        .collect()
}

/// Sends `command` and returns the final state of the command and the page's error.
async fn command_outcome(server: &TestServer, device_id: &str, command: Value) -> (String, String) {
    let id = send_command(server, device_id, command).await;
    let result = wait_for_command(server, device_id, id).await;
    (
        result["state"].as_str().unwrap_or_default().to_owned(),
        result["error"].as_str().unwrap_or_default().to_owned(),
    )
}

/// Pairs `page`, pins an item that is not on screen and checks that the page shows it (on the
/// first tile of a wall) and keeps it for 2.5 intervals, that `next` fails while it is pinned,
/// that an unknown item fails with the reason, and that `unpin` resumes the rotation.
async fn assert_pin_holds_until_unpin(page: &Page, pinned_condition: &str) {
    let server = start_server(page).await;
    let Some(browser) = Browser::launch(&format!("{}_pin", page.name), 1280, 720).await else {
        return;
    };
    let path = format!(
        "/{}?interval={}&device_retry_ms=200",
        page.name, page.interval_seconds
    );
    let device_id = pair(&browser, &server, page, &path, "Lobby").await;
    page.wait(
        &browser,
        "the first posters are shown",
        FIRST_POSTER_TIMEOUT,
        page.ready,
    )
    .await;

    let ids = playlist_item_ids(&server, page.name).await;
    let shown = page.shown(&browser).await;
    let target = ids
        .iter()
        .find(|id| !shown.contains(id.as_str()))
        .unwrap_or_else(|| panic!("every item of {ids:?} is on screen: {shown}"))
        .clone();

    let unknown = unknown_item_id(&target);
    let (state, error) = command_outcome(
        &server,
        &device_id,
        json!({ "type": "pin", "item_id": unknown }),
    )
    .await;
    assert_eq!(state, "failed", "{}: pin of an unknown item", page.name);
    assert!(
        error.contains(&unknown) && error.contains("not in the playlist"),
        "{}: {error}",
        page.name
    );

    run_command(
        &server,
        &device_id,
        json!({ "type": "pin", "item_id": target }),
    )
    .await;
    let condition = format!(
        "const id = {}; return document.body.dataset.pinned === id && ({pinned_condition});",
        serde_json::to_string(&target).unwrap()
    );
    page.wait(
        &browser,
        "the pinned item is shown",
        page.interval() + COMMAND_TIMEOUT,
        &condition,
    )
    .await;
    let pinned = page.shown(&browser).await;
    page.assert_held(&browser, &pinned, "pin").await;

    let (state, error) = command_outcome(&server, &device_id, json!({ "type": "next" })).await;
    assert_eq!(state, "failed", "{}: next while pinned", page.name);
    assert!(error.contains("send unpin first"), "{}: {error}", page.name);
    page.assert_held(&browser, &pinned, "next while pinned")
        .await;

    run_command(&server, &device_id, json!({ "type": "unpin" })).await;
    page.wait_for_change(
        &browser,
        "the page rotates again after unpin",
        page.interval() * 2 + COMMAND_TIMEOUT,
        &pinned,
    )
    .await;
    let still_pinned: bool = browser
        .eval("return document.body.dataset.pinned !== undefined;")
        .await;
    assert!(!still_pinned, "{}: the page still marks a pin", page.name);

    let (state, error) = command_outcome(&server, &device_id, json!({ "type": "unpin" })).await;
    assert_eq!(state, "failed", "{}: unpin without a pin", page.name);
    assert!(
        error.contains("no item is pinned"),
        "{}: {error}",
        page.name
    );
    assert_no_console_errors(&browser, "an item was pinned and unpinned").await;
    browser.close().await;
}

#[tokio::test]
async fn screensaver_pin_holds_until_unpin() {
    assert_pin_holds_until_unpin(&SCREENSAVER, "document.body.dataset.currentItem === id").await;
}

#[tokio::test]
async fn cinema_pin_holds_until_unpin() {
    assert_pin_holds_until_unpin(&CINEMA, "document.body.dataset.currentItem === id").await;
}

#[tokio::test]
async fn wallart_pin_holds_first_tile() {
    assert_pin_holds_until_unpin(
        &WALLART,
        "(function () { const first = document.querySelector('#grid .tile'); \
         return !!first && first.dataset.itemId === id; })()",
    )
    .await;
}
