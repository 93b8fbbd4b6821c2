//! The long-poll fallback: a page behind a proxy that rejects WebSocket upgrades switches to
//! long polling and still receives its name, commands and settings changes.

use std::time::Duration;

use serde_json::json;

use super::{
    COMMAND_TIMEOUT, FIRST_POSTER_LOADED, FIRST_SLIDE_TIMEOUT, RECONNECT_TIMEOUT, admin,
    console_errors, device_state, pair_page, send_command, start_server, wait_for,
    wait_for_command, wait_for_detail,
};
use crate::browser::Browser;
use crate::harness::TestServer;

/// A loopback proxy that forwards plain HTTP to the test server and responds to every WebSocket
/// upgrade itself, as a proxy that strips `Upgrade` does. It stops when dropped.
struct UpgradeBlockingProxy {
    port: u16,
    task: tokio::task::JoinHandle<()>,
}

/// The response of a proxy that strips `Upgrade` and gets an error from the server.
const BAD_GATEWAY: &[u8] =
    b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";

/// The response of a proxy that serves its own page instead of passing the upgrade on.
const HTML_PAGE: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 20\r\nconnection: close\r\n\r\n<html>welcome</html>";

impl UpgradeBlockingProxy {
    async fn start(target_port: u16) -> UpgradeBlockingProxy {
        Self::answering(target_port, BAD_GATEWAY).await
    }

    async fn answering(target_port: u16, answer: &'static [u8]) -> UpgradeBlockingProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy to a loopback port");
        let port = listener.local_addr().expect("read the proxy port").port();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(async move {
                    // A failed connection only fails the browser's request, and the test reports that.
                    let _ = forward_without_upgrades(client, target_port, answer).await;
                });
            }
        });
        UpgradeBlockingProxy { port, task }
    }
}

impl Drop for UpgradeBlockingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads the head of the connection's first request, rejects it when it requests a WebSocket,
/// and otherwise pipes the connection to the server. Chromium opens every WebSocket on a
/// connection of its own, so checking the first request is enough.
async fn forward_without_upgrades(
    mut client: tokio::net::TcpStream,
    target_port: u16,
    answer: &[u8],
) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut head = Vec::new();
    let mut buffer = [0u8; 4096];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        let read = client.read(&mut buffer).await?;
        if read == 0 || head.len() > 64 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buffer[..read]);
    }
    if String::from_utf8_lossy(&head)
        .to_ascii_lowercase()
        .contains("\r\nupgrade: websocket")
    {
        client.write_all(answer).await?;
        return Ok(());
    }
    let mut upstream = tokio::net::TcpStream::connect(("127.0.0.1", target_port)).await?;
    upstream.write_all(&head).await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

/// Maximum time from a settings change to the polling page applying it. The server wakes the
/// waiting poll at once, so this covers a slow machine, not a poll's 25 s wait.
const SETTINGS_PUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Returns the port of a test server from its base URL.
fn server_port(server: &TestServer) -> u16 {
    let base = server.base_url();
    base.trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("no port in {base}"))
}

#[tokio::test]
async fn page_falls_back_to_long_polling() {
    let server = start_server(None).await;
    let Some(browser) = Browser::launch("page_falls_back_to_long_polling", 1280, 720).await else {
        return;
    };
    let device_id = pair_page(
        &browser,
        &server,
        "interval=300&device_retry_ms=50",
        "Attic",
    )
    .await;
    let identity: String = browser
        .eval("return localStorage.getItem('onesheet.device');")
        .await;

    // The proxy is another origin with its own storage, so the identity is copied over.
    let proxy = UpgradeBlockingProxy::start(server_port(&server)).await;
    let proxied = format!(
        "http://127.0.0.1:{}/screensaver?interval=300&device_retry_ms=50",
        proxy.port
    );
    browser.goto(&proxied).await;
    let store = format!(
        "localStorage.setItem('onesheet.device', {}); return true;",
        serde_json::to_string(&identity).unwrap()
    );
    let _: bool = browser.eval(&store).await;
    browser.goto(&proxied).await;

    wait_for(
        &browser,
        "the page switches to long polling",
        RECONNECT_TIMEOUT,
        "return document.body.dataset.device === 'polling';",
    )
    .await;
    wait_for_detail(
        &server,
        &device_id,
        "the admin detail shows the long poll",
        |detail| {
            detail["device"]["transport"] == "long-poll" && detail["device"]["presence"] == "online"
        },
    )
    .await;
    wait_for(
        &browser,
        "the first poster is shown",
        FIRST_SLIDE_TIMEOUT,
        FIRST_POSTER_LOADED,
    )
    .await;
    let first_item = device_state(&browser).await.current_item.unwrap();
    wait_for_detail(
        &server,
        &device_id,
        "the polling page reported its item",
        |detail| detail["device"]["last_status"]["current_item_id"] == first_item.as_str(),
    )
    .await;

    let next = send_command(&server, &device_id, json!({ "type": "next" })).await;
    let changed = format!(
        "return !!document.body.dataset.currentItem && document.body.dataset.currentItem !== {};",
        serde_json::to_string(&first_item).unwrap()
    );
    wait_for(
        &browser,
        "next reaches the polling page",
        COMMAND_TIMEOUT,
        &changed,
    )
    .await;
    let command = wait_for_command(&server, &device_id, next).await;
    assert_eq!(command["state"], "acked", "{command}");

    // The first poll's welcome gave the page its name.
    let identify = send_command(&server, &device_id, json!({ "type": "identify" })).await;
    wait_for(
        &browser,
        "identify shows the device name on the polling page",
        COMMAND_TIMEOUT,
        "const node = document.getElementById('device-identify'); return !!node && !node.hidden && node.textContent === 'Attic';",
    )
    .await;
    let command = wait_for_command(&server, &device_id, identify).await;
    assert_eq!(command["state"], "acked", "{command}");

    // A settings change wakes the waiting poll, and the page applies it like a pushed one.
    let transition =
        "return document.getElementById('stage').style.getPropertyValue('--transition-ms');";
    let before: String = browser.eval(transition).await;
    assert_ne!(before, "700ms", "the test needs another starting value");
    let path = format!("/api/v1/admin/devices/{device_id}");
    let (status, changed) = admin(
        &server,
        reqwest::Method::PATCH,
        &path,
        Some(json!({ "overrides": { "screensaver": { "transition_ms": 700 } } })),
    )
    .await;
    assert_eq!(status, 200, "PATCH {path}: {changed}");
    wait_for(
        &browser,
        "the settings change reaches the polling page",
        SETTINGS_PUSH_TIMEOUT,
        "return document.getElementById('stage').style.getPropertyValue('--transition-ms') === '700ms';",
    )
    .await;

    // The refused upgrades are the point of this test; anything else is an error.
    let errors = console_errors(&browser, true).await;
    assert!(errors.is_empty(), "console errors:\n{}", errors.join("\n"));
    browser.close().await;
}

#[tokio::test]
async fn html_answer_to_upgrade_falls_back() {
    let server = start_server(None).await;
    let Some(browser) = Browser::launch("html_answer_to_upgrade_falls_back", 1280, 720).await
    else {
        return;
    };
    let device_id = pair_page(&browser, &server, "device_retry_ms=50", "Porch").await;
    let identity: String = browser
        .eval("return localStorage.getItem('onesheet.device');")
        .await;

    // A proxy that answers the upgrade with its own HTML page, with status 200.
    let proxy = UpgradeBlockingProxy::answering(server_port(&server), HTML_PAGE).await;
    let proxied = format!(
        "http://127.0.0.1:{}/screensaver?device_retry_ms=50",
        proxy.port
    );
    browser.goto(&proxied).await;
    let store = format!(
        "localStorage.setItem('onesheet.device', {}); return true;",
        serde_json::to_string(&identity).unwrap()
    );
    let _: bool = browser.eval(&store).await;
    browser.goto(&proxied).await;

    wait_for(
        &browser,
        "the page switches to long polling",
        RECONNECT_TIMEOUT,
        "return document.body.dataset.device === 'polling';",
    )
    .await;
    wait_for_detail(
        &server,
        &device_id,
        "the admin detail shows the long poll",
        |detail| {
            detail["device"]["transport"] == "long-poll" && detail["device"]["presence"] == "online"
        },
    )
    .await;
}
