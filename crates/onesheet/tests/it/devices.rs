//! The screen's device session in a real browser: pairing through the claim flow, reconnecting
//! after a server restart, commands from the admin API, and the reconnect delays. The long-poll
//! fallback is in [`fallback`], the pairing card's QR code in [`pairing_qr`], and distinct and
//! synchronised groups in [`groups`].

use std::time::Duration;

use serde_json::{Value, json};

use crate::browser::Browser;
use crate::harness::{ServerOptions, TestServer, http_client};

mod fallback;
mod groups;
mod pairing_qr;

/// Bootstrap admin token of the test servers: at least 24 characters, as the server requires.
pub(crate) const ADMIN_TOKEN: &str = "device-session-test-admin-token";
const FIRST_SLIDE_TIMEOUT: Duration = Duration::from_secs(60);
const PAIRING_TIMEOUT: Duration = Duration::from_secs(30);
/// Covers the reconnect delay, whose first ceiling the pages below shorten with `device_retry_ms`.
const RECONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const COMMAND_TIMEOUT: Duration = Duration::from_secs(20);
const POLL_INTERVAL: Duration = Duration::from_millis(200);

pub(crate) const PAIRING_CODE_SHOWN: &str = r#"
    const overlay = document.getElementById('pairing-overlay');
    return !!overlay && !overlay.hidden && !!overlay.dataset.code
        && document.body.dataset.pairing === 'shown';
"#;

const FIRST_POSTER_LOADED: &str = r#"
    const poster = document.querySelector('#stage img.poster.current');
    return !!document.body.dataset.currentItem && !!poster && poster.complete && poster.naturalWidth > 0;
"#;

/// The page's device state, its stored identity and the visible overlays in one round trip.
const DEVICE_STATE: &str = r#"
    const overlay = document.getElementById('pairing-overlay');
    const identify = document.getElementById('device-identify');
    let stored = null;
    try { stored = JSON.parse(localStorage.getItem('onesheet.device')); } catch (error) { stored = null; }
    return {
        state: document.body.dataset.device || null,
        device_id: document.body.dataset.deviceId || null,
        stored_device_id: stored ? stored.device_id : null,
        pairing_shown: !!overlay && !overlay.hidden,
        pairing_text: overlay ? overlay.textContent : null,
        current_item: document.body.dataset.currentItem || null,
        identify_text: identify && !identify.hidden ? identify.textContent : null,
        power: document.body.dataset.power || null,
    };
"#;

#[derive(Debug, serde::Deserialize)]
struct DeviceState {
    state: Option<String>,
    device_id: Option<String>,
    stored_device_id: Option<String>,
    pairing_shown: bool,
    pairing_text: Option<String>,
    current_item: Option<String>,
    identify_text: Option<String>,
    power: Option<String>,
}

async fn device_state(browser: &Browser) -> DeviceState {
    browser.eval(DEVICE_STATE).await
}

/// Waits for `condition`, failing with the page's device state and console on timeout.
async fn wait_for(browser: &Browser, description: &str, timeout: Duration, condition: &str) {
    if let Err(error) = browser.wait_until(description, timeout, condition).await {
        panic!(
            "{error}\ndevice state: {:#?}\n--- browser console ---\n{}",
            device_state(browser).await,
            browser.console_messages().await.join("\n")
        );
    }
}

/// Starts a server with four posters and the bootstrap admin token, under `base_path` if given.
async fn start_server(base_path: Option<&str>) -> TestServer {
    TestServer::start(ServerOptions {
        base_path: base_path.map(str::to_owned),
        media_posters: 4,
        env: vec![("ONESHEET_ADMIN_TOKEN".to_owned(), ADMIN_TOKEN.to_owned())],
    })
    .await
}

/// Sends an admin API request with the bootstrap token and returns the status and JSON body.
pub(crate) async fn admin(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = http_client()
        .request(method.clone(), server.url(path))
        .bearer_auth(ADMIN_TOKEN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|error| panic!("{method} {path} failed: {error}"));
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// Polls the admin device detail until `accept` holds, and returns the detail.
pub(crate) async fn wait_for_detail(
    server: &TestServer,
    device_id: &str,
    description: &str,
    accept: impl Fn(&Value) -> bool,
) -> Value {
    let path = format!("/api/v1/admin/devices/{device_id}");
    let started = std::time::Instant::now();
    loop {
        let (status, detail) = admin(server, reqwest::Method::GET, &path, None).await;
        assert_eq!(status, 200, "GET {path}: {detail}");
        if accept(&detail) {
            return detail;
        }
        assert!(
            started.elapsed() < RECONNECT_TIMEOUT,
            "timed out waiting until {description}: {detail:#}\n{}",
            server.log_tail()
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

fn is_live(detail: &Value) -> bool {
    detail["device"]["presence"] == "live" && detail["device"]["transport"] == "websocket"
}

/// Opens the screensaver, claims the code it shows as `name`, and returns the device id once
/// the page is live.
async fn pair_page(browser: &Browser, server: &TestServer, query: &str, name: &str) -> String {
    browser
        .goto(&server.url(&format!("/screensaver?{query}")))
        .await;
    wait_for(
        browser,
        "the pairing code is shown",
        PAIRING_TIMEOUT,
        PAIRING_CODE_SHOWN,
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
        "return document.body.dataset.device === 'live' && document.body.dataset.deviceId === {};",
        serde_json::to_string(&device_id).unwrap()
    );
    wait_for(browser, "the paired page is live", PAIRING_TIMEOUT, &live).await;
    device_id
}

/// Returns the SEVERE console messages (script errors, failed requests, CSP violations) since
/// the last read, without the failed connections that a stopped server causes on purpose.
async fn console_errors(browser: &Browser, server_was_down: bool) -> Vec<String> {
    browser
        .console_messages()
        .await
        .into_iter()
        .filter(|message| message.starts_with("SEVERE"))
        .filter(|message| {
            !server_was_down
                || !(message.contains("ERR_CONNECTION_REFUSED")
                    || message.contains("WebSocket connection to"))
        })
        .collect()
}

#[tokio::test]
async fn paired_page_reconnects_after_restart() {
    let mut server = start_server(None).await;
    let Some(browser) = Browser::launch("paired_page_reconnects_after_restart", 1280, 720).await
    else {
        return;
    };

    browser
        .goto(&server.url("/screensaver?interval=3&device_retry_ms=200"))
        .await;
    wait_for(
        &browser,
        "the pairing code is shown",
        PAIRING_TIMEOUT,
        PAIRING_CODE_SHOWN,
    )
    .await;
    let overlay_state = device_state(&browser).await;
    let code: String = browser
        .eval("return document.getElementById('pairing-overlay').dataset.code;")
        .await;
    let text = overlay_state.pairing_text.clone().unwrap_or_default();
    let grouped = format!("{}-{}", &code[..3], &code[3..]);
    assert!(
        text.contains(&grouped),
        "the overlay does not show {grouped}: {overlay_state:#?}"
    );
    assert!(
        text.contains("Open the admin page") && text.contains(&server.base_url()),
        "the overlay lacks the instruction with the server address: {overlay_state:#?}"
    );
    assert!(
        text.contains("Code expires in"),
        "no countdown: {overlay_state:#?}"
    );
    assert_eq!(
        overlay_state.state.as_deref(),
        Some("pairing"),
        "{overlay_state:#?}"
    );
    // Posters keep running behind the overlay.
    wait_for(
        &browser,
        "a poster is shown behind the pairing code",
        FIRST_SLIDE_TIMEOUT,
        FIRST_POSTER_LOADED,
    )
    .await;
    browser
        .screenshot("paired_page_reconnects_after_restart-pairing")
        .await;

    let (status, claimed) = admin(
        &server,
        reqwest::Method::POST,
        "/api/v1/admin/devices/claim",
        Some(json!({ "code": code, "name": "Hallway" })),
    )
    .await;
    assert_eq!(status, 201, "claim failed: {claimed}");
    let device_id = claimed["device"]["id"].as_str().unwrap().to_owned();

    wait_for(
        &browser,
        "the page stored its identity and is live",
        PAIRING_TIMEOUT,
        "return document.body.dataset.device === 'live' && !!localStorage.getItem('onesheet.device');",
    )
    .await;
    let paired = device_state(&browser).await;
    assert_eq!(
        paired.stored_device_id.as_deref(),
        Some(device_id.as_str()),
        "{paired:#?}"
    );
    assert_eq!(paired.device_id.as_deref(), Some(device_id.as_str()));
    assert!(!paired.pairing_shown, "the overlay stayed: {paired:#?}");
    let detail = wait_for_detail(&server, &device_id, "the device is live", is_live).await;
    assert_eq!(detail["device"]["name"], "Hallway");
    wait_for_detail(
        &server,
        &device_id,
        "the page reported its item",
        |detail| {
            detail["device"]["last_status"]["mode"] == "screensaver"
                && detail["device"]["last_status"]["current_item_id"].is_string()
        },
    )
    .await;
    let errors = console_errors(&browser, false).await;
    assert!(
        errors.is_empty(),
        "console errors while pairing:\n{}",
        errors.join("\n")
    );

    server.restart().await;

    // The hub of the new process starts empty, so "live" means the page reconnected.
    let detail = wait_for_detail(
        &server,
        &device_id,
        "the page reconnects after the restart",
        is_live,
    )
    .await;
    assert_eq!(detail["device"]["id"], device_id.as_str());
    let after = device_state(&browser).await;
    assert_eq!(after.state.as_deref(), Some("live"), "{after:#?}");
    assert_eq!(after.stored_device_id.as_deref(), Some(device_id.as_str()));
    assert!(!after.pairing_shown, "the page paired again: {after:#?}");
    let errors = console_errors(&browser, true).await;
    assert!(
        errors.is_empty(),
        "console errors around the restart:\n{}",
        errors.join("\n")
    );

    let (status, list) = admin(&server, reqwest::Method::GET, "/api/v1/admin/devices", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        list["devices"].as_array().map(Vec::len),
        Some(1),
        "the restart created another device record: {list:#}"
    );
    browser.close().await;
}

/// Sends a command through the admin API and returns its id.
pub(crate) async fn send_command(server: &TestServer, device_id: &str, command: Value) -> i64 {
    let path = format!("/api/v1/admin/devices/{device_id}/commands");
    let (status, body) = admin(
        server,
        reqwest::Method::POST,
        &path,
        Some(json!({ "command": command })),
    )
    .await;
    assert_eq!(status, 201, "POST {path} failed: {body}");
    body["command"]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no command id in {body}"))
}

/// Polls the command list until command `id` reaches a final state, and returns it.
pub(crate) async fn wait_for_command(server: &TestServer, device_id: &str, id: i64) -> Value {
    let path = format!("/api/v1/admin/devices/{device_id}/commands");
    let started = std::time::Instant::now();
    loop {
        let (status, body) = admin(server, reqwest::Method::GET, &path, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        let command = body["commands"]
            .as_array()
            .and_then(|commands| commands.iter().find(|command| command["id"] == id))
            .cloned()
            .unwrap_or_else(|| panic!("command {id} missing from {body}"));
        if command["state"] != "queued" && command["state"] != "delivered" {
            return command;
        }
        assert!(
            started.elapsed() < COMMAND_TIMEOUT,
            "command {id} still pending after {} s: {command}",
            COMMAND_TIMEOUT.as_secs()
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

#[tokio::test]
async fn admin_commands_drive_the_page() {
    // Under a base path, so the socket URL and the device cookie's path are checked too.
    let server = start_server(Some("/posters")).await;
    let Some(browser) = Browser::launch("admin_commands_drive_the_page", 1280, 720).await else {
        return;
    };
    // A long interval, so only the command can change the item within the test's timeouts.
    let device_id = pair_page(
        &browser,
        &server,
        "interval=300&device_retry_ms=200",
        "Bar screen",
    )
    .await;
    wait_for(
        &browser,
        "the first poster is shown",
        FIRST_SLIDE_TIMEOUT,
        FIRST_POSTER_LOADED,
    )
    .await;
    let before = device_state(&browser).await;
    let first_item = before.current_item.clone().expect("an item is shown");

    let next = send_command(&server, &device_id, json!({ "type": "next" })).await;
    let changed = format!(
        "return !!document.body.dataset.currentItem && document.body.dataset.currentItem !== {};",
        serde_json::to_string(&first_item).unwrap()
    );
    wait_for(
        &browser,
        "next shows another item",
        COMMAND_TIMEOUT,
        &changed,
    )
    .await;
    let command = wait_for_command(&server, &device_id, next).await;
    assert_eq!(command["state"], "acked", "{command}");
    let second_item = device_state(&browser).await.current_item.unwrap();
    wait_for_detail(
        &server,
        &device_id,
        "the status names the new item",
        |detail| detail["device"]["last_status"]["current_item_id"] == second_item.as_str(),
    )
    .await;

    let previous = send_command(&server, &device_id, json!({ "type": "previous" })).await;
    let back = format!(
        "return document.body.dataset.currentItem === {};",
        serde_json::to_string(&first_item).unwrap()
    );
    wait_for(
        &browser,
        "previous shows the first item again",
        COMMAND_TIMEOUT,
        &back,
    )
    .await;
    assert_eq!(
        wait_for_command(&server, &device_id, previous).await["state"],
        "acked"
    );

    let pause = send_command(&server, &device_id, json!({ "type": "pause" })).await;
    assert_eq!(
        wait_for_command(&server, &device_id, pause).await["state"],
        "acked"
    );
    wait_for_detail(
        &server,
        &device_id,
        "the status reports the pause",
        |detail| detail["device"]["last_status"]["paused"] == true,
    )
    .await;

    let identify = send_command(&server, &device_id, json!({ "type": "identify" })).await;
    wait_for(
        &browser,
        "identify shows the device name",
        COMMAND_TIMEOUT,
        "const node = document.getElementById('device-identify'); return !!node && !node.hidden && node.textContent === 'Bar screen';",
    )
    .await;
    let state = device_state(&browser).await;
    assert_eq!(
        state.identify_text.as_deref(),
        Some("Bar screen"),
        "{state:#?}"
    );
    assert_eq!(
        wait_for_command(&server, &device_id, identify).await["state"],
        "acked"
    );

    let power_off = send_command(&server, &device_id, json!({ "type": "power_off" })).await;
    wait_for(
        &browser,
        "power_off covers the screen",
        COMMAND_TIMEOUT,
        "const cover = document.getElementById('power-cover'); return document.body.dataset.power === 'off' && !!cover && getComputedStyle(cover).display !== 'none';",
    )
    .await;
    assert_eq!(
        wait_for_command(&server, &device_id, power_off).await["state"],
        "acked"
    );
    let power_on = send_command(&server, &device_id, json!({ "type": "power_on" })).await;
    assert_eq!(
        wait_for_command(&server, &device_id, power_on).await["state"],
        "acked"
    );
    let state = device_state(&browser).await;
    assert_eq!(state.power, None, "{state:#?}");

    // An item id of the right form that the catalog lacks fails with the reason. The pin of
    // a catalog item is tested in device_modes.rs.
    let unknown = crate::device_modes::unknown_item_id(&first_item);
    let pin = send_command(
        &server,
        &device_id,
        json!({ "type": "pin", "item_id": unknown }),
    )
    .await;
    let pin_result = wait_for_command(&server, &device_id, pin).await;
    assert_eq!(pin_result["state"], "failed", "{pin_result}");
    assert!(
        pin_result["error"]
            .as_str()
            .is_some_and(|error| error.contains(&unknown) && error.contains("not in the playlist")),
        "{pin_result}"
    );

    // A revoked screen clears its stored identity and requests a new code.
    let (status, revoked) = admin(
        &server,
        reqwest::Method::POST,
        &format!("/api/v1/admin/devices/{device_id}/revoke"),
        None,
    )
    .await;
    assert_eq!(status, 200, "revoke failed: {revoked}");
    wait_for(
        &browser,
        "the revoked page shows a new pairing code",
        PAIRING_TIMEOUT,
        PAIRING_CODE_SHOWN,
    )
    .await;
    let state = device_state(&browser).await;
    assert_eq!(state.stored_device_id, None, "{state:#?}");
    assert_eq!(state.device_id, None, "{state:#?}");

    let errors = console_errors(&browser, false).await;
    assert!(errors.is_empty(), "console errors:\n{}", errors.join("\n"));
    browser.close().await;
}

/// Draws reconnect delays in the browser from the page's own module.
const JITTER_SAMPLES: &str = r#"
    const url = new URL('assets/js/common/reconnect.js', document.baseURI).href;
    return import(url).then(function (module) {
        const samples = [];
        for (let attempt = 0; attempt < 8; attempt += 1) {
            const draws = [];
            for (let i = 0; i < 400; i += 1) {
                draws.push(module.fullJitterDelayMs(attempt, 1000, 30000, Math.random));
            }
            samples.push(draws);
        }
        const schedule = new module.ReconnectSchedule({ random: function () { return 0.999999; } });
        const ceilings = [];
        for (let i = 0; i < 8; i += 1) {
            ceilings.push(schedule.nextDelayMs());
        }
        schedule.reset();
        return {
            samples: samples,
            ceilings: ceilings,
            after_reset: schedule.nextDelayMs(),
            lowest: module.fullJitterDelayMs(5, 1000, 30000, function () { return 0; }),
        };
    });
"#;

#[derive(Debug, serde::Deserialize)]
struct JitterSamples {
    samples: Vec<Vec<u64>>,
    ceilings: Vec<u64>,
    after_reset: u64,
    lowest: u64,
}

#[tokio::test]
async fn reconnect_delays_use_full_jitter() {
    let server = start_server(None).await;
    let Some(browser) = Browser::launch("reconnect_delays_use_full_jitter", 800, 600).await else {
        return;
    };
    browser.goto(&server.url("/screensaver?device=off")).await;
    let result: JitterSamples = browser.eval(JITTER_SAMPLES).await;

    for (attempt, draws) in result.samples.iter().enumerate() {
        let ceiling = (1000u64 << attempt).min(30_000);
        let max = *draws.iter().max().unwrap();
        let min = *draws.iter().min().unwrap();
        assert!(
            max < ceiling,
            "attempt {attempt}: {max} ms is not below {ceiling} ms"
        );
        // Full jitter spreads over the whole range: 400 uniform draws all landing in one
        // quarter of it would happen with probability 2 * 0.75^400.
        assert!(
            min < ceiling / 4,
            "attempt {attempt}: lowest draw {min} ms of {ceiling} ms"
        );
        assert!(
            max > ceiling * 3 / 4,
            "attempt {attempt}: highest draw {max} ms of {ceiling} ms"
        );
    }
    assert_eq!(
        result.ceilings,
        vec![999, 1999, 3999, 7999, 15999, 29999, 29999, 29999],
        "the ceiling doubles from 1 s and stops at 30 s"
    );
    assert_eq!(result.after_reset, 999, "reset starts again from 1 s");
    assert_eq!(result.lowest, 0, "full jitter reaches 0 ms");

    let device_state = device_state(&browser).await;
    assert_eq!(
        device_state.state, None,
        "device=off still started the session: {device_state:#?}"
    );
    browser.close().await;
}
