//! The screenshots in the README: each display mode and the main presets over the built-in
//! demo library, saved as `gallery-*.png` among the test screenshots. Each page must also load
//! without a console error or a CSP violation.

use std::time::Duration;

use crate::browser::Browser;
use crate::display_pages::{assert_no_console_errors, wait_or_fail};
use crate::harness::{ServerOptions, TestServer};

const PAGE_TIMEOUT: Duration = Duration::from_secs(60);

/// Time after a page settles before the screenshot, so entry animations are over.
const SETTLE: Duration = Duration::from_millis(2_500);

const SCREENSAVER_READY: &str = r#"
    const poster = document.querySelector('#stage img.poster.current');
    const slides = document.querySelectorAll('#stage .slide');
    return !!poster && poster.complete && poster.naturalWidth > 0 && slides.length === 1
        && getComputedStyle(slides[0]).opacity === '1';
"#;

const WALLART_READY: &str = r#"
    const images = Array.from(document.querySelectorAll('#grid img'));
    return document.body.dataset.wallart === 'filled' && images.length > 0
        && images.every(function loaded(image) { return image.complete && image.naturalWidth > 0; });
"#;

const CINEMA_READY: &str = r#"
    const poster = document.querySelector('#frame .slide.current img.poster');
    const slides = document.querySelectorAll('#frame .slide');
    return !!poster && poster.complete && poster.naturalWidth > 0 && slides.length === 1
        && getComputedStyle(slides[0]).opacity === '1';
"#;

const LITE_READY: &str = r#"
    const poster = document.querySelector('.poster img');
    return !!poster && poster.complete && poster.naturalWidth > 0;
"#;

const PAGE_STATE: &str = r#"
    return { url: location.href, body: document.body.dataset };
"#;

/// One screenshot: its name, the page, the window size and the condition that it is ready.
struct Shot {
    name: &'static str,
    path: &'static str,
    size: (u32, u32),
    ready: &'static str,
}

const SHOTS: &[Shot] = &[
    Shot {
        name: "screensaver",
        path: "/screensaver?device=off",
        size: (1280, 720),
        ready: SCREENSAVER_READY,
    },
    Shot {
        name: "wallart",
        path: "/wallart?device=off",
        size: (1280, 720),
        ready: WALLART_READY,
    },
    Shot {
        name: "wallart-spotlight-wall",
        path: "/wallart?device=off&preset=spotlight-wall",
        size: (1280, 720),
        ready: WALLART_READY,
    },
    Shot {
        name: "cinema-lobby",
        path: "/cinema?device=off&preset=lobby",
        size: (720, 1280),
        ready: CINEMA_READY,
    },
    Shot {
        name: "cinema-home-theater",
        path: "/cinema?device=off&preset=home-theater",
        size: (720, 1280),
        ready: CINEMA_READY,
    },
    Shot {
        name: "cinema-poster-only",
        path: "/cinema?device=off&preset=poster-only",
        size: (720, 1280),
        ready: CINEMA_READY,
    },
    Shot {
        name: "lite",
        path: "/lite?w=480",
        size: (800, 1280),
        ready: LITE_READY,
    },
];

#[tokio::test]
async fn gallery_of_modes_and_presets() {
    let server = TestServer::start(ServerOptions::default()).await;
    for shot in SHOTS {
        let test = format!("gallery-{}", shot.name);
        let Some(browser) = Browser::launch(&test, shot.size.0, shot.size.1).await else {
            return;
        };
        browser.goto(&server.url(shot.path)).await;
        wait_or_fail(
            &browser,
            &test,
            "the page is ready",
            PAGE_TIMEOUT,
            shot.ready,
            PAGE_STATE,
        )
        .await;
        tokio::time::sleep(SETTLE).await;
        browser.screenshot(&test).await;
        assert_no_console_errors(&browser, shot.name).await;
        browser.close().await;
    }
}
