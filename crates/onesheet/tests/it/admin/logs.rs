//! The server log page on a phone. A failed sign-in that the test causes arrives live, and
//! pausing keeps new lines back until resume. The page reconnects after a server restart, the
//! level filter hides info lines, and the setup token never reaches the page.

use serde_json::json;

use super::{check_page, click, create_admin, fill, signed_in_browser, wait_for};
use crate::harness::{ServerOptions, TestServer, http_client};

const TEST: &str = "admin_logs_live";

/// The error code in the log line of a rejected sign-in.
const REJECTED: &str = "invalid-credentials";

/// Signs in with a wrong password, which the server logs as a rejected request.
async fn fail_sign_in(server: &TestServer) {
    let response = http_client()
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({ "username": "admin", "password": "not the password" }))
        .send()
        .await
        .expect("POST /api/v1/auth/login");
    assert_eq!(response.status().as_u16(), 401);
}

/// Returns a script expression that counts the lines in the view that contain `text`.
fn lines_with(text: &str) -> String {
    format!(
        "Array.from(document.querySelectorAll('#log-view .log-line')) \
           .filter(function (line) {{ return line.textContent.indexOf({}) >= 0; }}).length",
        serde_json::to_string(text).unwrap()
    )
}

#[tokio::test]
async fn failed_sign_in_arrives_live() {
    let mut server = TestServer::start(ServerOptions::default()).await;
    let setup_token = std::fs::read_to_string(server.data_dir().join("setup-token"))
        .expect("read the setup token")
        .trim()
        .to_owned();
    create_admin(&server).await;

    let Some(browser) = signed_in_browser(&server, TEST, 390, 844, "/admin/logs").await else {
        return;
    };
    wait_for(
        &browser,
        "the log stream is live",
        "return document.body.dataset.logs === 'live';",
    )
    .await;
    // The start-up message with the setup token is among the kept lines, redacted.
    let page_text: String = browser
        .eval("return document.getElementById('log-view').textContent;")
        .await;
    assert!(
        page_text.contains("setup token [redacted]"),
        "the setup token line is shown redacted"
    );
    assert!(!page_text.contains(&setup_token), "the setup token leaked");

    fail_sign_in(&server).await;
    wait_for(
        &browser,
        "the failed sign-in appears without a reload",
        &format!("return {} >= 1;", lines_with(REJECTED)),
    )
    .await;
    check_page(&browser, "logs").await;

    // Paused, a new failure waits; resumed, it appears.
    browser.eval::<bool>(&click("#log-pause")).await;
    wait_for(
        &browser,
        "the view is paused",
        "return document.body.dataset.logs === 'paused' \
         && document.getElementById('log-pause').getAttribute('aria-pressed') === 'true';",
    )
    .await;
    fail_sign_in(&server).await;
    wait_for(
        &browser,
        "the paused page counts the waiting lines",
        "return /new lines? waits?/.test(document.getElementById('log-state').textContent);",
    )
    .await;
    let while_paused: i64 = browser
        .eval(&format!("return {};", lines_with(REJECTED)))
        .await;
    assert_eq!(while_paused, 1, "no line is added while paused");
    check_page(&browser, "logs-paused").await;
    browser.eval::<bool>(&click("#log-pause")).await;
    wait_for(
        &browser,
        "the waiting line appears on resume",
        &format!("return {} === 2;", lines_with(REJECTED)),
    )
    .await;

    // The server restarts: the page reconnects by itself and new lines keep arriving.
    server.restart().await;
    wait_for(
        &browser,
        "the page reconnects after the restart",
        "return document.body.dataset.logs === 'live' \
         && document.getElementById('log-state').textContent.indexOf('Live again') === 0;",
    )
    .await;
    fail_sign_in(&server).await;
    wait_for(
        &browser,
        "a line of the restarted server arrives",
        &format!("return {} === 3;", lines_with(REJECTED)),
    )
    .await;

    // Errors only: the rejected sign-ins, logged at info, are gone.
    browser.eval::<bool>(&fill("log-level", "error")).await;
    wait_for(
        &browser,
        "the stream reconnects with the error level",
        &format!(
            "return document.body.dataset.logs === 'live' && {} === 0 \
             && document.getElementById('log-download').getAttribute('href').endsWith('level=error');",
            lines_with(REJECTED)
        ),
    )
    .await;
    browser.close().await;
}
