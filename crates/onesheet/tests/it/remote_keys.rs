//! Remote-control keys on every display page, pressed through the Chrome DevTools Protocol so
//! that they arrive as real key events. The arrow keys and the media track keys show the next
//! and the previous item. Space, Enter and the media play/pause key pause and resume.

use std::time::Duration;

use serde_json::json;

use crate::browser::Browser;
use crate::device_modes::{CINEMA, PAUSED_AND_WAITING, Page, SCREENSAVER, WALLART};
use crate::display_pages::assert_no_console_errors;
use crate::harness::{ServerOptions, TestServer};

const FIRST_POSTER_TIMEOUT: Duration = Duration::from_secs(60);
const KEY_TIMEOUT: Duration = Duration::from_secs(20);

const NOT_PAUSED: &str = "return document.body.dataset.paused === undefined;";

/// A key as `Input.dispatchKeyEvent` needs it: the `KeyboardEvent.key` and `code` values and
/// the Windows virtual key code.
struct Key {
    key: &'static str,
    code: &'static str,
    virtual_key: u32,
}

const ARROW_RIGHT: Key = Key {
    key: "ArrowRight",
    code: "ArrowRight",
    virtual_key: 0x27,
};
const ARROW_LEFT: Key = Key {
    key: "ArrowLeft",
    code: "ArrowLeft",
    virtual_key: 0x25,
};
const SPACE: Key = Key {
    key: " ",
    code: "Space",
    virtual_key: 0x20,
};
const ENTER: Key = Key {
    key: "Enter",
    code: "Enter",
    virtual_key: 0x0D,
};
const MEDIA_NEXT: Key = Key {
    key: "MediaTrackNext",
    code: "MediaTrackNext",
    virtual_key: 0xB0,
};
const MEDIA_PREVIOUS: Key = Key {
    key: "MediaTrackPrevious",
    code: "MediaTrackPrevious",
    virtual_key: 0xB1,
};
const MEDIA_PLAY_PAUSE: Key = Key {
    key: "MediaPlayPause",
    code: "MediaPlayPause",
    virtual_key: 0xB3,
};

async fn press(browser: &Browser, key: &Key) {
    for kind in ["rawKeyDown", "keyUp"] {
        browser
            .cdp(
                "Input.dispatchKeyEvent",
                json!({
                    "type": kind,
                    "key": key.key,
                    "code": key.code,
                    "windowsVirtualKeyCode": key.virtual_key,
                    "nativeVirtualKeyCode": key.virtual_key,
                }),
            )
            .await;
    }
}

/// Pauses `page` with `pause`, checks that nothing changes for 2.5 intervals, steps forward with
/// `next` and back with `previous` while paused, and resumes it with `resume`.
async fn check_keys(page: &Page, browser: &Browser, pause: &Key, next: &Key, previous: &Key) {
    press(browser, pause).await;
    page.wait(
        browser,
        &format!("{:?} pauses the page", pause.key),
        KEY_TIMEOUT,
        PAUSED_AND_WAITING,
    )
    .await;
    let paused = page.shown(browser).await;
    page.assert_held(browser, &paused, &format!("{:?}", pause.key))
        .await;

    press(browser, next).await;
    page.wait_for_change(
        browser,
        &format!("{} shows something new", next.key),
        KEY_TIMEOUT,
        &paused,
    )
    .await;
    page.wait(
        browser,
        &format!("the page stays paused after {}", next.key),
        KEY_TIMEOUT,
        PAUSED_AND_WAITING,
    )
    .await;

    press(browser, previous).await;
    page.wait_for_shown(
        browser,
        &format!("{} brings back what was shown before", previous.key),
        KEY_TIMEOUT,
        &paused,
    )
    .await;

    press(browser, &MEDIA_PLAY_PAUSE).await;
    page.wait(
        browser,
        "MediaPlayPause resumes the page",
        KEY_TIMEOUT,
        NOT_PAUSED,
    )
    .await;
    page.wait_for_change(
        browser,
        "the resumed page changes by itself",
        page.interval() * 2 + KEY_TIMEOUT,
        &paused,
    )
    .await;
}

async fn keys_drive_page(page: &Page) {
    let server = TestServer::start(ServerOptions {
        media_posters: page.posters,
        ..ServerOptions::default()
    })
    .await;
    let Some(browser) = Browser::launch(&format!("{}_keys", page.name), 1280, 720).await else {
        return;
    };
    browser
        .goto(&server.url(&format!(
            "/{}?interval={}&device=off",
            page.name, page.interval_seconds
        )))
        .await;
    page.wait(
        &browser,
        "the first posters are shown",
        FIRST_POSTER_TIMEOUT,
        page.ready,
    )
    .await;

    check_keys(page, &browser, &SPACE, &ARROW_RIGHT, &ARROW_LEFT).await;
    check_keys(page, &browser, &ENTER, &MEDIA_NEXT, &MEDIA_PREVIOUS).await;
    assert_no_console_errors(&browser, "the keys drove the page").await;
    browser.close().await;
}

#[tokio::test]
async fn keys_drive_screensaver() {
    keys_drive_page(&SCREENSAVER).await;
}

#[tokio::test]
async fn keys_drive_wallart() {
    keys_drive_page(&WALLART).await;
}

#[tokio::test]
async fn keys_drive_cinema() {
    keys_drive_page(&CINEMA).await;
}
