//! The screensaver page: served files, rotation, offline behaviour and base paths. The
//! settings seen on screen (transitions, overlay fields, clock) are tested in [`options`].

mod options;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::browser::Browser;
use crate::harness::{ServerOptions, TestServer, workspace_dir};

const FIRST_SLIDE_TIMEOUT: Duration = Duration::from_secs(60);
/// Long enough for a 3-second interval plus preloading on a loaded CI machine.
const NEXT_SLIDE_TIMEOUT: Duration = Duration::from_secs(30);
const OFFLINE_TIMEOUT: Duration = Duration::from_secs(30);
/// Covers the page's retry backoff, which grows towards 60 s while the server is away.
const RESUME_TIMEOUT: Duration = Duration::from_secs(90);

/// True once a poster of the visible slide is loaded and the slide's item id is published.
const FIRST_POSTER_LOADED: &str = r#"
    const poster = document.querySelector('#stage img.poster.current');
    return !!document.body.dataset.currentItem && !!poster && poster.complete && poster.naturalWidth > 0;
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

/// True when one slide is on the page and its fade-in is over.
const SLIDE_SETTLED: &str = r#"
    const slides = document.querySelectorAll('#stage .slide');
    return slides.length === 1 && getComputedStyle(slides[0]).opacity === '1';
"#;

/// Collects what the tests check about the page in one round trip.
const PAGE_STATE: &str = r#"
    const marker = document.getElementById('offline-marker');
    const message = document.getElementById('message');
    const images = Array.from(document.querySelectorAll('#stage img'));
    return {
        current_item: document.body.dataset.currentItem || null,
        online: document.body.dataset.online || null,
        marker_visible: !!marker && !marker.hidden && getComputedStyle(marker).display !== 'none',
        message: message && !message.hidden ? message.textContent : null,
        slides: document.querySelectorAll('#stage .slide').length,
        current_title: (function () {
            const slide = document.querySelector('#stage .slide[data-item-id="' + CSS.escape(document.body.dataset.currentItem || '') + '"]');
            const title = slide && slide.querySelector('.overlay .title, .overlay .logo');
            return title ? (title.textContent || title.alt || null) : null;
        })(),
        current_images: images.filter(function (image) { return image.classList.contains('current'); })
            .map(function (image) { return image.className + ' ' + image.naturalWidth + 'px ' + image.currentSrc; }),
        loaded_current_images: images.filter(function (image) {
            return image.classList.contains('current') && image.complete && image.naturalWidth > 0;
        }).length,
        broken_images: images.filter(function (image) {
            return image.getAttribute('src') && image.complete && image.naturalWidth === 0;
        }).map(function (image) { return image.currentSrc; }),
        no_reload_marker: window.__noReloadMarker === 1,
        url: location.href,
    };
"#;

#[derive(Debug, Deserialize)]
#[allow(dead_code)] // Some fields are only read through Debug in failure messages.
struct PageState {
    current_item: Option<String>,
    online: Option<String>,
    marker_visible: bool,
    message: Option<String>,
    slides: usize,
    /// Title text or clear logo alt text of the visible slide.
    current_title: Option<String>,
    current_images: Vec<String>,
    loaded_current_images: usize,
    broken_images: Vec<String>,
    no_reload_marker: bool,
    url: String,
}

/// Returns a script that is true once an item other than `previous` is visible and loaded.
fn other_item_loaded(previous: &str) -> String {
    let previous = serde_json::to_string(previous).expect("encode the item id");
    format!(
        r#"
        const current = document.body.dataset.currentItem;
        const images = Array.from(document.querySelectorAll('#stage img.current'));
        return !!current && current !== {previous} && images.length > 0
            && images.every(function (image) {{ return image.complete && image.naturalWidth > 0; }});
        "#
    )
}

async fn page_state(browser: &Browser) -> PageState {
    browser.eval(PAGE_STATE).await
}

/// Waits for `condition` and checks the page. On timeout, fails with the page state, a
/// screenshot and the browser console.
async fn wait_for_page(
    browser: &Browser,
    test_name: &str,
    description: &str,
    timeout: Duration,
    condition: &str,
) -> PageState {
    if let Err(error) = browser.wait_until(description, timeout, condition).await {
        let state = page_state(browser).await;
        let screenshot = browser.screenshot(&format!("{test_name}-failure")).await;
        panic!(
            "{error}\npage state: {state:#?}\nscreenshot: {}\n--- browser console ---\n{}",
            screenshot.display(),
            browser.console_messages().await.join("\n")
        );
    }
    let state = page_state(browser).await;
    assert_page_is_sound(&state, description);
    state
}

/// Checks what must hold at every moment: no broken image, at most two slides in the DOM.
fn assert_page_is_sound(state: &PageState, moment: &str) {
    assert!(
        state.broken_images.is_empty(),
        "broken images on the page once {moment}: {state:#?}"
    );
    assert!(
        state.slides <= 2,
        "old slides were not removed once {moment}: {state:#?}"
    );
}

/// Saves a screenshot once the crossfade is over, so it shows one slide.
async fn screenshot_settled(browser: &Browser, test_name: &str, name: &str) {
    wait_for_page(
        browser,
        test_name,
        "the crossfade is over",
        NEXT_SLIDE_TIMEOUT,
        SLIDE_SETTLED,
    )
    .await;
    browser.screenshot(&format!("{test_name}-{name}")).await;
}

/// Checks that the browser logged no error (script errors, failed requests, CSP violations)
/// since the last check.
async fn assert_no_console_errors(browser: &Browser, moment: &str) {
    let errors: Vec<String> = browser
        .console_messages()
        .await
        .into_iter()
        .filter(|message| message.starts_with("SEVERE"))
        .collect();
    assert!(
        errors.is_empty(),
        "browser console errors once {moment}:\n{}",
        errors.join("\n")
    );
}

fn current_item(state: &PageState) -> String {
    state
        .current_item
        .clone()
        .unwrap_or_else(|| panic!("no current item on the page: {state:#?}"))
}

#[tokio::test]
async fn screensaver_rotates_and_survives_restart() {
    const TEST: &str = "screensaver";
    let mut server = TestServer::start(ServerOptions {
        media_posters: 6,
        ..ServerOptions::default()
    })
    .await;
    let Some(browser) = Browser::launch(TEST, 1280, 720).await else {
        return;
    };

    browser.goto(&server.url("/screensaver?interval=3")).await;
    let first = wait_for_page(
        &browser,
        TEST,
        "a poster is loaded",
        FIRST_SLIDE_TIMEOUT,
        FIRST_POSTER_LOADED,
    )
    .await;
    let first_item = current_item(&first);
    assert!(first.loaded_current_images > 0, "{first:#?}");
    assert!(
        !first.marker_visible,
        "offline marker shown while online: {first:#?}"
    );
    assert_eq!(
        first.message, None,
        "message shown over a poster: {first:#?}"
    );

    let second = wait_for_page(
        &browser,
        TEST,
        "the next item is shown",
        NEXT_SLIDE_TIMEOUT,
        &other_item_loaded(&first_item),
    )
    .await;
    let second_item = current_item(&second);
    screenshot_settled(&browser, TEST, "playing").await;
    assert_no_console_errors(&browser, "two items were shown").await;

    browser
        .eval::<serde_json::Value>("window.__noReloadMarker = 1; return null;")
        .await;
    server.stop().await;

    let offline = wait_for_page(
        &browser,
        TEST,
        "the offline marker shows",
        OFFLINE_TIMEOUT,
        OFFLINE_MARKER_SHOWN,
    )
    .await;
    assert!(
        offline.current_item.is_some() && offline.loaded_current_images > 0,
        "no loaded image on screen while offline: {offline:#?}"
    );
    screenshot_settled(&browser, TEST, "offline").await;

    server.restart().await;
    let resumed = wait_for_page(
        &browser,
        TEST,
        "the offline marker hides",
        RESUME_TIMEOUT,
        OFFLINE_MARKER_HIDDEN,
    )
    .await;
    let item_at_resume = current_item(&resumed);
    let rotating = wait_for_page(
        &browser,
        TEST,
        "rotation resumes",
        NEXT_SLIDE_TIMEOUT,
        &other_item_loaded(&item_at_resume),
    )
    .await;
    assert!(
        rotating.no_reload_marker,
        "the page reloaded while the server restarted: {rotating:#?}"
    );
    assert_ne!(first_item, second_item);
    screenshot_settled(&browser, TEST, "resumed").await;

    browser.close().await;
    server.stop().await;
}

#[tokio::test]
async fn screensaver_works_under_base_path() {
    const TEST: &str = "screensaver-base-path";
    let server = TestServer::start(ServerOptions {
        base_path: Some("/posters".to_owned()),
        ..ServerOptions::default()
    })
    .await;
    let Some(browser) = Browser::launch(TEST, 1280, 720).await else {
        return;
    };

    // Empty data directory: the built-in demo library is shown, with its badge.
    browser.goto(&server.url("/screensaver?interval=3")).await;
    let first = wait_for_page(
        &browser,
        TEST,
        "a poster is loaded",
        FIRST_SLIDE_TIMEOUT,
        FIRST_POSTER_LOADED,
    )
    .await;
    assert!(
        first.url.starts_with(&server.url("/screensaver")),
        "the page left its URL: {first:#?}"
    );
    let badge_shown: bool = browser
        .eval("return !!document.querySelector('#stage .slide.visible .demo-badge');")
        .await;
    assert!(
        badge_shown,
        "demo item shown without the demo badge: {first:#?}"
    );
    screenshot_settled(&browser, TEST, "landscape").await;
    assert_no_console_errors(&browser, "the first item was shown").await;

    // Portrait tablet layout.
    browser.set_viewport(768, 1024).await;
    wait_for_page(
        &browser,
        TEST,
        "the next item is shown in portrait",
        NEXT_SLIDE_TIMEOUT,
        &other_item_loaded(&current_item(&first)),
    )
    .await;
    screenshot_settled(&browser, TEST, "portrait").await;

    browser.close().await;
}

#[tokio::test]
async fn screensaver_files_are_served_under_base_path() {
    let server = TestServer::start(ServerOptions {
        base_path: Some("/posters".to_owned()),
        ..ServerOptions::default()
    })
    .await;

    let page = server.get("/screensaver").await;
    assert_eq!(page.status(), reqwest::StatusCode::OK);
    let content_type = header(&page, "content-type");
    assert!(
        content_type.starts_with("text/html"),
        "content type {content_type:?}"
    );
    let html = page.text().await.expect("read the page");
    for reference in [
        r#"href="assets/css/screensaver.css""#,
        r#"src="assets/js/screensaver/main.js""#,
    ] {
        assert!(
            html.contains(reference),
            "page lacks the relative reference {reference}"
        );
    }

    // Every file under web/assets is served byte for byte, with a type browsers accept for it.
    let assets = web_dir().join("assets");
    for path in files_under(&assets) {
        let relative = path
            .strip_prefix(&assets)
            .expect("asset path is under web/assets")
            .to_string_lossy()
            .replace('\\', "/");
        let response = server.get(&format!("/assets/{relative}")).await;
        assert_eq!(
            response.status(),
            reqwest::StatusCode::OK,
            "assets/{relative}"
        );
        let content_type = header(&response, "content-type");
        let expected_type = match path.extension().and_then(|extension| extension.to_str()) {
            Some("js") => "javascript",
            Some("css") => "text/css",
            Some("svg") => "image/svg+xml",
            _ => "",
        };
        assert!(
            content_type.contains(expected_type),
            "assets/{relative} served as {content_type:?}, expected {expected_type}"
        );
        let body = response.bytes().await.expect("read the asset");
        let on_disk = std::fs::read(&path).expect("read the asset from web/");
        assert!(
            body.as_ref() == on_disk.as_slice(),
            "assets/{relative} differs from the file in web/"
        );
    }
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

fn web_dir() -> PathBuf {
    workspace_dir().join("web")
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|error| panic!("read {} failed: {error}", dir.display()));
        for entry in entries {
            let path = entry.expect("read a directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}
