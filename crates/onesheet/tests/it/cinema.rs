//! The cinema page: portrait layout, rotation for landscape-only devices, and the header rule.

use std::time::Duration;

use onesheet_domain::DisplaySettings;
use serde::Deserialize;

use crate::browser::Browser;
use crate::display_pages::{assert_no_console_errors, save_display_settings, wait_or_fail};
use crate::harness::{ServerOptions, TestServer};

const FIRST_POSTER_TIMEOUT: Duration = Duration::from_secs(60);

/// True once the visible slide's poster is loaded.
const POSTER_LOADED: &str = r#"
    const poster = document.querySelector('#frame .slide.current img.poster');
    return !!document.body.dataset.currentItem && !!poster && poster.complete && poster.naturalWidth > 0;
"#;

/// True when one slide is on the page and its fade-in is over, for screenshots.
const SLIDE_SETTLED: &str = r#"
    const slides = document.querySelectorAll('#frame .slide');
    return slides.length === 1 && getComputedStyle(slides[0]).opacity === '1';
"#;

/// Collects what the tests check about the page in one round trip.
const CINEMA_STATE: &str = r#"
    const frame = document.getElementById('frame');
    const slide = document.querySelector('#frame .slide.current');
    const poster = slide && slide.querySelector('img.poster');
    const header = slide && slide.querySelector('.header-text');
    const metadata = slide && slide.querySelector('.metadata');
    const box = frame.getBoundingClientRect();
    const matrix = getComputedStyle(frame).transform;
    return {
        current_item: document.body.dataset.currentItem || null,
        layout: document.body.dataset.layout || null,
        rotation: document.body.dataset.rotation || null,
        header_rule: document.body.dataset.header || null,
        header_text: header ? header.textContent : null,
        metadata: metadata ? metadata.textContent : null,
        frame_size: [frame.offsetWidth, frame.offsetHeight],
        frame_on_screen: [Math.round(box.width), Math.round(box.height)],
        frame_transform: matrix,
        poster_natural: poster ? [poster.naturalWidth, poster.naturalHeight] : null,
        poster_size: poster ? [poster.offsetWidth, poster.offsetHeight] : null,
        slides: document.querySelectorAll('#frame .slide').length,
    };
"#;

#[derive(Debug, Deserialize)]
#[allow(dead_code)] // Some fields are only read through Debug in failure messages.
struct CinemaState {
    current_item: Option<String>,
    layout: Option<String>,
    rotation: Option<String>,
    header_rule: Option<String>,
    header_text: Option<String>,
    metadata: Option<String>,
    /// Width and height of the frame's own box, before its transform.
    frame_size: (u32, u32),
    /// Width and height the frame covers on screen, after its transform.
    frame_on_screen: (u32, u32),
    frame_transform: String,
    poster_natural: Option<(u32, u32)>,
    poster_size: Option<(u32, u32)>,
    slides: usize,
}

/// Returns the `a` and `b` entries of a CSS `matrix(a, b, c, d, e, f)`, the cosine and sine
/// of the rotation angle.
fn rotation_of(transform: &str) -> (f64, f64) {
    let inner = transform
        .strip_prefix("matrix(")
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("expected a 2D matrix, found {transform:?}"));
    let values: Vec<f64> = inner
        .split(',')
        .map(|value| value.trim().parse().expect("a number in the matrix"))
        .collect();
    (values[0], values[1])
}

async fn cinema_state(browser: &Browser) -> CinemaState {
    browser.eval(CINEMA_STATE).await
}

fn assert_poster_is_portrait(state: &CinemaState) {
    let (natural_width, natural_height) = state
        .poster_natural
        .unwrap_or_else(|| panic!("no poster on screen: {state:#?}"));
    assert!(natural_height > natural_width, "{state:#?}");
    let (width, height) = state.poster_size.expect("a shown poster has a size");
    assert!(
        height > width,
        "the poster is not drawn upright in its frame: {state:#?}"
    );
}

#[tokio::test]
async fn cinema_rotates_and_follows_header_rule() {
    const TEST: &str = "cinema";
    // Chromium decides the local hour, so it is read from the browser before the settings are
    // written. The late-night window covers this hour and the next, so it still holds if the
    // hour turns during the test.
    let Some(browser) = Browser::launch(TEST, 1280, 720).await else {
        return;
    };
    let hour: u32 = browser.eval("return new Date().getHours();").await;

    let mut server = TestServer::prepare(ServerOptions {
        media_posters: 4,
        ..ServerOptions::default()
    });
    let mut settings = DisplaySettings::default();
    settings.cinema.rotate_90 = true;
    settings.cinema.late_night_from_hour = hour;
    settings.cinema.late_night_until_hour = (hour + 2) % 24;
    settings.cinema.late_night_text = "Midnight matinee".to_owned();
    save_display_settings(&server, &settings).await;
    server.launch().await;

    browser.goto(&server.url("/cinema")).await;
    wait_or_fail(
        &browser,
        TEST,
        "a poster is loaded",
        FIRST_POSTER_TIMEOUT,
        POSTER_LOADED,
        CINEMA_STATE,
    )
    .await;
    let state = cinema_state(&browser).await;

    assert_eq!(state.rotation.as_deref(), Some("90"), "{state:#?}");
    assert_eq!(state.layout.as_deref(), Some("portrait"), "{state:#?}");
    // The frame is a 720×1280 portrait box turned on its side to cover the 1280×720 screen.
    assert_eq!(state.frame_size, (720, 1280), "{state:#?}");
    assert_eq!(state.frame_on_screen, (1280, 720), "{state:#?}");
    let (cosine, sine) = rotation_of(&state.frame_transform);
    assert!(
        cosine.abs() < 1e-6 && (sine - 1.0).abs() < 1e-6,
        "the frame is not turned by 90 degrees: {state:#?}"
    );
    assert_poster_is_portrait(&state);

    assert_eq!(
        state.header_rule.as_deref(),
        Some("late_night"),
        "{state:#?}"
    );
    assert_eq!(
        state.header_text.as_deref(),
        Some("Midnight matinee"),
        "{state:#?}"
    );
    let metadata = state.metadata.clone().unwrap_or_default();
    assert!(
        metadata.contains("19") || metadata.contains("20"),
        "the footer lacks the year: {state:#?}"
    );
    assert!(state.slides <= 2, "{state:#?}");

    wait_or_fail(
        &browser,
        TEST,
        "the fade is over",
        FIRST_POSTER_TIMEOUT,
        SLIDE_SETTLED,
        CINEMA_STATE,
    )
    .await;
    browser.screenshot(TEST).await;
    assert_no_console_errors(&browser, "the rotated poster was shown").await;
    browser.close().await;
}

#[tokio::test]
async fn cinema_portrait_screen_shows_default_header() {
    const TEST: &str = "cinema-portrait";
    let mut server = TestServer::prepare(ServerOptions {
        media_posters: 4,
        ..ServerOptions::default()
    });
    // An empty late-night window, so the header does not depend on the hour the test runs.
    let mut settings = DisplaySettings::default();
    settings.cinema.late_night_from_hour = 0;
    settings.cinema.late_night_until_hour = 0;
    save_display_settings(&server, &settings).await;
    server.launch().await;
    let Some(browser) = Browser::launch(TEST, 720, 1280).await else {
        return;
    };

    browser.goto(&server.url("/cinema")).await;
    wait_or_fail(
        &browser,
        TEST,
        "a poster is loaded",
        FIRST_POSTER_TIMEOUT,
        POSTER_LOADED,
        CINEMA_STATE,
    )
    .await;
    let state = cinema_state(&browser).await;

    assert_eq!(state.rotation.as_deref(), Some("0"), "{state:#?}");
    assert_eq!(state.layout.as_deref(), Some("portrait"), "{state:#?}");
    assert_eq!(state.frame_size, (720, 1280), "{state:#?}");
    assert_eq!(state.frame_on_screen, (720, 1280), "{state:#?}");
    assert_poster_is_portrait(&state);
    // The test posters are all from past years, so neither special rule applies.
    assert_eq!(state.header_rule.as_deref(), Some("default"), "{state:#?}");
    assert_eq!(
        state.header_text.as_deref(),
        Some("Now showing"),
        "{state:#?}"
    );

    wait_or_fail(
        &browser,
        TEST,
        "the fade is over",
        FIRST_POSTER_TIMEOUT,
        SLIDE_SETTLED,
        CINEMA_STATE,
    )
    .await;
    browser.screenshot(TEST).await;
    assert_no_console_errors(&browser, "the portrait poster was shown").await;

    // With the automatic orientation, a landscape screen puts the poster beside its details.
    browser.set_viewport(1280, 720).await;
    wait_or_fail(
        &browser,
        TEST,
        "the layout follows the landscape screen",
        FIRST_POSTER_TIMEOUT,
        // The window may pass through intermediate sizes while it is resized, so the wait
        // is for the final frame size.
        "const frame = document.getElementById('frame');
         return document.body.dataset.layout === 'landscape'
             && frame.offsetWidth === 1280 && frame.offsetHeight === 720;",
        CINEMA_STATE,
    )
    .await;
    let landscape = cinema_state(&browser).await;
    assert_eq!(landscape.rotation.as_deref(), Some("0"), "{landscape:#?}");
    assert_eq!(landscape.frame_size, (1280, 720), "{landscape:#?}");
    assert_poster_is_portrait(&landscape);
    browser.screenshot(&format!("{TEST}-landscape")).await;
    assert_no_console_errors(&browser, "the layout turned landscape").await;
    browser.close().await;
}

#[tokio::test]
async fn cinema_preset_parameter_changes_the_look() {
    const TEST: &str = "cinema-preset-home-theater";
    let mut server = TestServer::prepare(ServerOptions {
        media_posters: 4,
        ..ServerOptions::default()
    });
    // An empty late-night window, which the preset leaves alone, so the header does not
    // depend on the hour the test runs.
    let mut settings = DisplaySettings::default();
    settings.cinema.late_night_from_hour = 0;
    settings.cinema.late_night_until_hour = 0;
    save_display_settings(&server, &settings).await;
    server.launch().await;
    let Some(browser) = Browser::launch(TEST, 720, 1280).await else {
        return;
    };

    browser
        .goto(&server.url("/cinema?preset=home-theater"))
        .await;
    wait_or_fail(
        &browser,
        TEST,
        "a poster is loaded",
        FIRST_POSTER_TIMEOUT,
        POSTER_LOADED,
        CINEMA_STATE,
    )
    .await;
    wait_or_fail(
        &browser,
        TEST,
        "the preset's header is shown",
        FIRST_POSTER_TIMEOUT,
        r#"
            const header = document.querySelector('#frame .slide.current .header-text');
            return !!header && header.textContent === 'Feature presentation';
        "#,
        CINEMA_STATE,
    )
    .await;
    let state = cinema_state(&browser).await;
    assert_eq!(
        state.metadata, None,
        "the preset hides the footer: {state:#?}"
    );

    wait_or_fail(
        &browser,
        TEST,
        "the fade is over",
        FIRST_POSTER_TIMEOUT,
        SLIDE_SETTLED,
        CINEMA_STATE,
    )
    .await;
    browser.screenshot(TEST).await;
    assert_no_console_errors(&browser, "the preset page was shown").await;
}
