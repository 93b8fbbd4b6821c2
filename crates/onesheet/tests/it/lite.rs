//! The low-JavaScript page in a real browser: it moves to the next poster by meta refresh
//! alone, and breaks no CSP rule.

use std::time::Duration;

use onesheet_domain::DisplaySettings;

use crate::browser::Browser;
use crate::display_pages::{assert_no_console_errors, save_display_settings, wait_or_fail};
use crate::harness::{ServerOptions, TestServer};

const PAGE_TIMEOUT: Duration = Duration::from_secs(30);

const LITE_STATE: &str = r#"
    const poster = document.querySelector('.poster img');
    return {
        search: location.search,
        title: document.title,
        scripts: document.scripts.length,
        poster_loaded: !!poster && poster.complete && poster.naturalWidth > 0,
    };
"#;

#[tokio::test]
async fn lite_page_advances_by_refresh() {
    const TEST: &str = "lite";
    let mut server = TestServer::prepare(ServerOptions {
        media_posters: 3,
        ..ServerOptions::default()
    });
    let mut settings = DisplaySettings::default();
    settings.screensaver.interval_seconds = 2;
    save_display_settings(&server, &settings).await;
    server.launch().await;
    let Some(browser) = Browser::launch(TEST, 800, 1280).await else {
        return;
    };

    browser.goto(&server.url("/lite")).await;
    wait_or_fail(
        &browser,
        TEST,
        "the first poster is loaded",
        PAGE_TIMEOUT,
        "const poster = document.querySelector('.poster img'); \
         return !!poster && poster.complete && poster.naturalWidth > 0;",
        LITE_STATE,
    )
    .await;
    let first: serde_json::Value = browser.eval(LITE_STATE).await;
    assert_eq!(first["scripts"], 0, "{first}");
    browser.screenshot(TEST).await;

    // Two refreshes later the page shows the third poster, with no script on the page.
    wait_or_fail(
        &browser,
        TEST,
        "the page moved on twice",
        PAGE_TIMEOUT,
        "return location.search.indexOf('i=2&') === 1;",
        LITE_STATE,
    )
    .await;
    let third: serde_json::Value = browser.eval(LITE_STATE).await;
    assert_ne!(first["title"], third["title"], "{first} {third}");
    assert_no_console_errors(&browser, "the lite page refreshed").await;
}
