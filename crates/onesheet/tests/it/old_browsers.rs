//! Display pages under the user agent of an old tablet browser, Safari 12.1 on iOS 12.5. Each
//! page must keep changing posters. The image route must send such a browser JPEG, with
//! `Vary: Accept` so that a shared cache keeps the WebP variant of newer browsers apart.
//!
//! Chromium only pretends to be Safari here: it still parses newer syntax and still sends its
//! own `Accept` header. The page check catches code that depends on the user agent, and the
//! image check sends Safari's headers itself.

use std::time::Duration;

use serde_json::{Value, json};

use crate::browser::Browser;
use crate::device_modes::{CINEMA, Page, SCREENSAVER, WALLART};
use crate::display_pages::assert_no_console_errors;
use crate::harness::{ServerOptions, TestServer, http_client};

const FIRST_POSTER_TIMEOUT: Duration = Duration::from_secs(60);
/// Margin over two intervals for the first change, on a loaded machine.
const CHANGE_MARGIN: Duration = Duration::from_secs(20);

const CURRENT_CHROMIUM_USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

const SAFARI_12_USER_AGENT: &str = "Mozilla/5.0 (iPad; CPU OS 12_5 like Mac OS X) \
     AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1 Mobile/15E148 Safari/604.1";
/// The `Accept` header Safari sends for images before macOS Big Sur and iOS 14, which added
/// WebP, after MDN's "List of default Accept values".
const SAFARI_12_IMAGE_ACCEPT: &str =
    "image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5";

/// Loads `page` as Safari 12.1 and checks that it shows posters and changes them by itself.
async fn page_changes_posters_as_safari_12(page: &Page) {
    let server = TestServer::start(ServerOptions {
        media_posters: page.posters,
        ..ServerOptions::default()
    })
    .await;
    let Some(browser) = Browser::launch(&format!("{}_safari_12", page.name), 1280, 720).await
    else {
        return;
    };
    browser
        .cdp(
            "Emulation.setUserAgentOverride",
            json!({ "userAgent": SAFARI_12_USER_AGENT, "platform": "iPad" }),
        )
        .await;
    browser
        .goto(&server.url(&format!(
            "/{}?interval={}&device=off",
            page.name, page.interval_seconds
        )))
        .await;
    let user_agent: String = browser.eval("return navigator.userAgent;").await;
    assert_eq!(user_agent, SAFARI_12_USER_AGENT);

    page.wait(
        &browser,
        "the first posters are shown",
        FIRST_POSTER_TIMEOUT,
        page.ready,
    )
    .await;
    let first = page.shown(&browser).await;
    let second = page
        .wait_for_change(
            &browser,
            "the posters change",
            page.interval() * 2 + CHANGE_MARGIN,
            &first,
        )
        .await;
    page.wait_for_change(
        &browser,
        "the posters change again",
        page.interval() * 2 + CHANGE_MARGIN,
        &second,
    )
    .await;
    assert_no_console_errors(&browser, "the page ran as Safari 12.1").await;
    browser.close().await;
}

#[tokio::test]
async fn screensaver_runs_as_safari_12() {
    page_changes_posters_as_safari_12(&SCREENSAVER).await;
}

#[tokio::test]
async fn wallart_runs_as_safari_12() {
    page_changes_posters_as_safari_12(&WALLART).await;
}

#[tokio::test]
async fn cinema_runs_as_safari_12() {
    page_changes_posters_as_safari_12(&CINEMA).await;
}

/// Requests `url` with the given user agent and `Accept`, and returns the status, the content
/// type and the `Vary` header.
async fn fetch_image(url: &str, user_agent: &str, accept: &str) -> (u16, String, String) {
    let response = http_client()
        .get(url)
        .header("user-agent", user_agent)
        .header("accept", accept)
        .send()
        .await
        .unwrap_or_else(|error| panic!("GET {url} failed: {error}"));
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    (
        response.status().as_u16(),
        header("content-type"),
        header("vary"),
    )
}

#[tokio::test]
async fn sized_posters_are_jpeg_for_safari_12() {
    let server = TestServer::start(ServerOptions {
        media_posters: 2,
        ..ServerOptions::default()
    })
    .await;
    let playlist: Value = server
        .get("/api/v1/playlist?mode=screensaver&limit=1")
        .await
        .json()
        .await
        .expect("the playlist is JSON");
    let poster = playlist["items"][0]["images"]["poster"]
        .as_str()
        .unwrap_or_else(|| panic!("no poster URL in {playlist:#}"));
    // The size the display pages add, as common/sizing.js does.
    let url = format!("{}{poster}&w=720&h=1080", server.base_url());

    for accept in [SAFARI_12_IMAGE_ACCEPT, "*/*"] {
        let (status, content_type, vary) = fetch_image(&url, SAFARI_12_USER_AGENT, accept).await;
        assert_eq!(status, 200, "Accept: {accept}");
        assert_eq!(content_type, "image/jpeg", "Accept: {accept}");
        assert_eq!(vary, "Accept, User-Agent", "Accept: {accept}");
    }

    // A proxy or an extension may add WebP to Safari 12's Accept, but it cannot show WebP.
    let (status, content_type, vary) =
        fetch_image(&url, SAFARI_12_USER_AGENT, "image/webp,*/*").await;
    assert_eq!(status, 200);
    assert_eq!(
        content_type, "image/jpeg",
        "Safari 12 gets JPEG even when its Accept names WebP"
    );
    assert_eq!(vary, "Accept, User-Agent");

    let (status, content_type, _) =
        fetch_image(&url, CURRENT_CHROMIUM_USER_AGENT, "image/webp,*/*").await;
    assert_eq!(status, 200);
    assert_eq!(
        content_type, "image/webp",
        "a current browser that names WebP gets WebP"
    );
}
