//! Screensaver settings seen on screen: every transition at the configured interval, the
//! overlay fields that are switched on, and the clock.
//!
//! Each test starts one server with the built-in demo library, whose items carry genres,
//! runtimes and taglines, and changes the settings through the admin API while the page runs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use onesheet_domain::settings::ClockFormat;
use onesheet_domain::{DisplaySettings, Layout, Transition};
use serde::Deserialize;
use serde_json::Value;

use crate::browser::Browser;
use crate::display_pages::{assert_no_console_errors, wait_or_fail};
use crate::harness::{ServerOptions, TestServer, http_client};

const ADMIN_TOKEN: &str = "screensaver-options-test-admin-token";
const FIRST_SLIDE_TIMEOUT: Duration = Duration::from_secs(60);
/// Long enough for a few 2-second slides plus image loading on a loaded CI machine.
const SLIDES_TIMEOUT: Duration = Duration::from_secs(40);
const CLOCK_TIMEOUT: Duration = Duration::from_secs(20);
const INTERVAL_SECONDS: u32 = 2;
const TRANSITION_MS: u32 = 600;
/// Time a slide change may take beyond the interval: the settings check and the image loads of
/// the next item, on a busy machine.
const INTERVAL_SLACK_MS: f64 = 3000.0;
/// Offset of Asia/Kolkata from UTC. The zone has had no daylight saving time since 1945.
const KOLKATA_OFFSET_SECONDS: u64 = 5 * 3600 + 30 * 60;

/// Records every slide the page adds in `window.__slides`: its item, transition and time, the
/// properties that CSS animates two frames later, and whether the Ken Burns layer covers its
/// frame then and 1.5 s later. Installed once per page.
const RECORD_SLIDES: &str = r#"
    if (window.__slides) { return null; }
    window.__slides = [];
    function coverage(slide) {
        const layer = slide.querySelector('.pan-layer');
        if (!layer) { return null; }
        const frame = layer.classList.contains('poster') ? layer.parentNode : slide;
        const inner = layer.getBoundingClientRect();
        const outer = frame.getBoundingClientRect();
        return inner.left <= outer.left + 0.5 && inner.top <= outer.top + 0.5
            && inner.right >= outer.right - 0.5 && inner.bottom >= outer.bottom - 0.5;
    }
    function describe(animation) {
        const target = animation.effect && animation.effect.target;
        const name = target ? (target.tagName.toLowerCase() + '.' + Array.from(target.classList).join('.')) : '?';
        return (animation.transitionProperty || animation.animationName || '?') + ' on ' + name;
    }
    new MutationObserver(function (mutations) {
        mutations.forEach(function (mutation) {
            mutation.addedNodes.forEach(function (node) {
                if (!node.classList || !node.classList.contains('slide')) { return; }
                const entry = {
                    item: node.dataset.itemId,
                    transition: node.dataset.transition || null,
                    at_ms: performance.now(),
                    layout: Array.from(node.classList).filter(function (c) { return c.indexOf('layout-') === 0; })[0] || null,
                    animated: [],
                    covered: [],
                };
                window.__slides.push(entry);
                requestAnimationFrame(function () {
                    requestAnimationFrame(function () {
                        entry.animated = document.getAnimations().map(describe);
                        entry.covered.push(coverage(node));
                    });
                });
                setTimeout(function () { entry.covered.push(coverage(node)); }, 1500);
            });
        });
    }).observe(document.getElementById('stage'), { childList: true });
    return null;
"#;

#[derive(Debug, Clone, Deserialize)]
struct SlideRecord {
    item: String,
    transition: Option<String>,
    at_ms: f64,
    layout: Option<String>,
    /// `property on element.classes` for every running CSS transition.
    animated: Vec<String>,
    /// Whether the Ken Burns layer covered its frame, or null without one.
    covered: Vec<Option<bool>>,
}

/// Collects the overlay and clock of the visible slide in one round trip.
const OVERLAY_STATE: &str = r#"
    const slide = document.querySelector('#stage .slide[data-item-id="'
        + CSS.escape(document.body.dataset.currentItem || '') + '"]');
    function text(selector) {
        const element = slide && slide.querySelector('.overlay ' + selector);
        return element ? element.textContent : null;
    }
    const clock = document.getElementById('clock');
    return {
        item: document.body.dataset.currentItem || null,
        title: text('.title'),
        logo: !!(slide && slide.querySelector('.overlay .logo')),
        year: text('.year'),
        runtime: text('.runtime'),
        rating: text('.rating'),
        genres: text('.genres'),
        tagline: text('.tagline'),
        clock: clock && !clock.hidden && getComputedStyle(clock).display !== 'none' ? clock.textContent : null,
        clock_zone: clock ? (clock.dataset.timeZone || null) : null,
        browser_zone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    };
"#;

#[derive(Debug, Deserialize)]
struct OverlayState {
    item: Option<String>,
    title: Option<String>,
    logo: bool,
    year: Option<String>,
    runtime: Option<String>,
    rating: Option<String>,
    genres: Option<String>,
    tagline: Option<String>,
    clock: Option<String>,
    clock_zone: Option<String>,
    browser_zone: String,
}

/// True when one slide is on the page and its transition is over.
const SLIDE_SETTLED: &str = r#"
    const slides = document.querySelectorAll('#stage .slide');
    return slides.length === 1 && getComputedStyle(slides[0]).opacity === '1';
"#;

/// Saves a screenshot once the transition is over, so it shows one slide.
async fn screenshot_settled(browser: &Browser, test_name: &str, name: &str) {
    wait_or_fail(
        browser,
        test_name,
        "the transition is over",
        SLIDES_TIMEOUT,
        SLIDE_SETTLED,
        OVERLAY_STATE,
    )
    .await;
    browser.screenshot(&format!("{test_name}-{name}")).await;
}

/// Starts a server on the demo library with the admin token and `settings` saved.
async fn start_server(settings: &DisplaySettings) -> TestServer {
    let server = TestServer::start(ServerOptions {
        env: vec![("ONESHEET_ADMIN_TOKEN".to_owned(), ADMIN_TOKEN.to_owned())],
        ..ServerOptions::default()
    })
    .await;
    put_settings(&server, settings).await;
    server
}

/// Saves the display settings through the admin API, as the admin page does.
async fn put_settings(server: &TestServer, settings: &DisplaySettings) {
    let url = server.url("/api/v1/admin/settings");
    let response = http_client()
        .put(&url)
        .bearer_auth(ADMIN_TOKEN)
        .json(settings)
        .send()
        .await
        .unwrap_or_else(|error| panic!("PUT {url} failed: {error}"));
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, reqwest::StatusCode::OK, "PUT {url}: {body:#}");
}

/// Fast settings: a 2-second interval and a 600 ms transition.
fn fast_settings() -> DisplaySettings {
    let mut settings = DisplaySettings::default();
    settings.screensaver.interval_seconds = INTERVAL_SECONDS;
    settings.screensaver.transition_ms = TRANSITION_MS;
    settings
}

async fn slides(browser: &Browser) -> Vec<SlideRecord> {
    browser.eval("return window.__slides || [];").await
}

/// Waits until the page has added `count` slides after the first `since`, and returns those.
async fn wait_for_slides(
    browser: &Browser,
    test_name: &str,
    description: &str,
    since: usize,
    count: usize,
) -> Vec<SlideRecord> {
    let condition = format!(
        "return (window.__slides || []).length >= {};",
        since + count
    );
    wait_or_fail(
        browser,
        test_name,
        description,
        SLIDES_TIMEOUT,
        &condition,
        "return window.__slides || [];",
    )
    .await;
    // The animation records fill in two frames after a slide is added.
    tokio::time::sleep(Duration::from_millis(300)).await;
    slides(browser).await.split_off(since)
}

/// Opens the screensaver, waits for its first slide and starts recording slides.
async fn open_screensaver(browser: &Browser, server: &TestServer, test_name: &str) {
    // Without the device session, so no pairing panel covers the screenshots.
    browser.goto(&server.url("/screensaver?device=off")).await;
    wait_or_fail(
        browser,
        test_name,
        "a slide is shown",
        FIRST_SLIDE_TIMEOUT,
        "return !!document.body.dataset.currentItem;",
        OVERLAY_STATE,
    )
    .await;
    browser.eval::<Value>(RECORD_SLIDES).await;
}

fn transition_name(transition: Transition) -> &'static str {
    match transition {
        Transition::Random => "random",
        Transition::Fade => "fade",
        Transition::Slide => "slide",
        Transition::Zoom => "zoom",
        Transition::KenBurns => "ken_burns",
        Transition::Flip => "flip",
    }
}

/// Returns the `property on element` patterns a transition must animate.
fn expected_animations(transition: &str) -> &'static [&'static str] {
    match transition {
        "fade" => &["opacity on section.slide"],
        "slide" | "flip" => &["transform on section.slide"],
        "zoom" => &["opacity on section.slide", "transform on section.slide"],
        "ken_burns" => &["opacity on section.slide", "transform on img."],
        other => panic!("no expectation for transition {other}"),
    }
}

/// Checks that slides of `transition` came one interval apart and animated what the
/// transition moves, and only transform and opacity.
fn assert_transition_ran(records: &[SlideRecord], transition: &str, layout: &str) {
    let of_transition: Vec<&SlideRecord> = records
        .iter()
        .filter(|record| record.transition.as_deref() == Some(transition))
        .collect();
    assert!(
        of_transition.len() >= 2,
        "fewer than two {transition} slides in {layout}: {records:#?}"
    );
    let interval_ms = f64::from(INTERVAL_SECONDS) * 1000.0;
    for pair in of_transition.windows(2) {
        let gap = pair[1].at_ms - pair[0].at_ms;
        assert!(
            gap >= interval_ms * 0.95,
            "{transition} slides {gap:.0} ms apart in {layout}, less than the {interval_ms} ms interval: {records:#?}"
        );
        assert!(
            gap <= interval_ms + INTERVAL_SLACK_MS,
            "{transition} slides {gap:.0} ms apart in {layout}, far over the {interval_ms} ms interval: {records:#?}"
        );
    }
    for record in &of_transition {
        assert_ne!(record.item, "", "slide without an item id: {record:#?}");
        for expected in expected_animations(transition) {
            assert!(
                record
                    .animated
                    .iter()
                    .any(|animated| animated.starts_with(expected)),
                "{transition} in {layout} did not animate {expected:?}: {record:#?}"
            );
        }
        for animated in &record.animated {
            assert!(
                animated.starts_with("opacity ") || animated.starts_with("transform "),
                "{transition} in {layout} animated something other than transform and opacity: {record:#?}"
            );
        }
        if transition == "ken_burns" {
            assert!(
                !record.covered.is_empty()
                    && record.covered.iter().all(|covered| *covered == Some(true)),
                "the Ken Burns layer left an edge of its frame uncovered in {layout}: {record:#?}"
            );
        }
    }
}

#[tokio::test]
async fn screensaver_runs_every_transition() {
    const TEST: &str = "screensaver-transitions";
    let mut settings = fast_settings();
    let server = start_server(&settings).await;
    let Some(browser) = Browser::launch(TEST, 1280, 720).await else {
        return;
    };
    open_screensaver(&browser, &server, TEST).await;

    // Every transition moves whole slides, which look the same in both layouts, except Ken
    // Burns, which pans the background in one and the poster inside its frame in the other.
    let all = [
        Transition::Fade,
        Transition::Slide,
        Transition::Zoom,
        Transition::KenBurns,
        Transition::Flip,
    ];
    let plans: [(Layout, &str, &[Transition]); 2] = [
        (Layout::BackgroundWithPoster, "layout-backdrop", &all),
        (
            Layout::Poster,
            "layout-poster",
            &[Transition::KenBurns, Transition::Flip],
        ),
    ];
    for (layout, layout_class, transitions) in plans {
        settings.screensaver.layout = layout;
        for &transition in transitions {
            let name = transition_name(transition);
            settings.screensaver.transition = transition;
            put_settings(&server, &settings).await;
            // The slide after the settings change may still be prepared under the old ones, so
            // two more follow it.
            let since = slides(&browser).await.len();
            let records =
                wait_for_slides(&browser, TEST, &format!("{name} slides show"), since, 3).await;
            let settled: Vec<SlideRecord> = records
                .iter()
                .filter(|record| record.layout.as_deref() == Some(layout_class))
                .cloned()
                .collect();
            assert_transition_ran(&settled, name, layout_class);
            browser
                .screenshot(&format!("{TEST}-{layout_class}-{name}"))
                .await;
        }
        assert_no_console_errors(&browser, &format!("every transition ran in {layout_class}"))
            .await;
    }

    // Random: one of the five per slide, never the same twice in a row.
    settings.screensaver.transition = Transition::Random;
    put_settings(&server, &settings).await;
    let since = slides(&browser).await.len();
    let records = wait_for_slides(&browser, TEST, "random slides show", since, 6).await;
    let picked: Vec<&str> = records[1..]
        .iter()
        .map(|record| record.transition.as_deref().unwrap_or(""))
        .collect();
    for name in &picked {
        assert!(
            ["fade", "slide", "zoom", "ken_burns", "flip"].contains(name),
            "random picked {name:?}: {picked:?}"
        );
    }
    for pair in picked.windows(2) {
        assert_ne!(pair[0], pair[1], "random repeated a transition: {picked:?}");
    }

    // Reduced motion: the page reads the media query per slide, so a stub switches it on.
    settings.screensaver.transition = Transition::Slide;
    put_settings(&server, &settings).await;
    browser
        .eval::<Value>(
            r#"
            const original = window.matchMedia.bind(window);
            window.matchMedia = function (query) {
                if (query.indexOf('prefers-reduced-motion') !== -1) {
                    return { matches: true, media: query };
                }
                return original(query);
            };
            return null;
            "#,
        )
        .await;
    let since = slides(&browser).await.len();
    let records = wait_for_slides(&browser, TEST, "reduced-motion slides show", since, 3).await;
    for record in &records {
        assert_eq!(
            record.transition.as_deref(),
            Some("fade"),
            "a slide moved although the screen asks for reduced motion: {records:#?}"
        );
    }

    assert_no_console_errors(&browser, "random and reduced-motion slides ran").await;
    browser.close().await;
}

/// Returns the demo item the playlist API lists under `id`.
async fn playlist_item(server: &TestServer, id: &str) -> Value {
    let response = server
        .get("/api/v1/playlist?mode=screensaver&limit=100")
        .await;
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let body: Value = response.json().await.expect("read the playlist");
    body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|item| item["id"] == id))
        .cloned()
        .unwrap_or_else(|| panic!("item {id} is not in the playlist: {body:#}"))
}

async fn overlay_state(browser: &Browser) -> OverlayState {
    browser.eval(OVERLAY_STATE).await
}

#[tokio::test]
async fn screensaver_overlay_shows_selected_fields() {
    const TEST: &str = "screensaver-overlay";
    let mut settings = fast_settings();
    let screensaver = &mut settings.screensaver;
    screensaver.show_logo = false;
    screensaver.show_title = true;
    screensaver.show_year = false;
    screensaver.show_rating = true;
    screensaver.show_genres = true;
    screensaver.show_runtime = false;
    screensaver.show_tagline = true;
    let server = start_server(&settings).await;
    let Some(browser) = Browser::launch(TEST, 1280, 720).await else {
        return;
    };
    open_screensaver(&browser, &server, TEST).await;

    let state = overlay_state(&browser).await;
    let item = playlist_item(&server, state.item.as_deref().unwrap_or("")).await;
    assert_eq!(state.title.as_deref(), item["title"].as_str(), "{state:#?}");
    assert!(!state.logo, "{state:#?}");
    assert_eq!(state.year, None, "year shown although off: {state:#?}");
    assert_eq!(
        state.runtime, None,
        "runtime shown although off: {state:#?}"
    );
    let rating = item["rating"].as_f64().expect("demo items have a rating");
    assert_eq!(
        state.rating,
        Some(format!("\u{2605} {rating:.1}")),
        "{state:#?}"
    );
    let genres: Vec<&str> = item["genres"]
        .as_array()
        .expect("demo items have genres")
        .iter()
        .filter_map(Value::as_str)
        .take(3)
        .collect();
    assert_eq!(state.genres, Some(genres.join(" \u{b7} ")), "{state:#?}");
    assert_eq!(
        state.tagline.as_deref(),
        item["tagline"].as_str(),
        "{state:#?}"
    );
    screenshot_settled(&browser, TEST, "some").await;

    // The opposite selection, from a slide prepared after the change.
    let screensaver = &mut settings.screensaver;
    screensaver.show_title = false;
    screensaver.show_year = true;
    screensaver.show_rating = false;
    screensaver.show_genres = false;
    screensaver.show_runtime = true;
    screensaver.show_tagline = false;
    put_settings(&server, &settings).await;
    let since = slides(&browser).await.len();
    wait_for_slides(&browser, TEST, "slides after the change show", since, 2).await;

    let state = overlay_state(&browser).await;
    let item = playlist_item(&server, state.item.as_deref().unwrap_or("")).await;
    assert_eq!(state.title, None, "title shown although off: {state:#?}");
    assert_eq!(state.rating, None, "rating shown although off: {state:#?}");
    assert_eq!(state.genres, None, "genres shown although off: {state:#?}");
    assert_eq!(
        state.tagline, None,
        "tagline shown although off: {state:#?}"
    );
    let year = item["year"].as_u64().expect("demo items have a year");
    assert_eq!(state.year, Some(year.to_string()), "{state:#?}");
    let minutes = item["runtime_minutes"]
        .as_u64()
        .expect("demo items have a runtime");
    let expected_runtime = match (minutes / 60, minutes % 60) {
        (0, rest) => format!("{rest} min"),
        (hours, 0) => format!("{hours} h"),
        (hours, rest) => format!("{hours} h {rest} min"),
    };
    assert_eq!(state.runtime, Some(expected_runtime), "{state:#?}");
    screenshot_settled(&browser, TEST, "others").await;

    assert_no_console_errors(&browser, "both overlay selections were shown").await;
    browser.close().await;
}

/// Returns the wall-clock hour and minute in the fixed offset `offset_seconds` east of UTC.
fn hour_minute_at(time: SystemTime, offset_seconds: u64) -> (u64, u64) {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
        + offset_seconds;
    ((seconds / 3600) % 24, (seconds / 60) % 60)
}

/// Waits until the clock shows text that `matches` accepts, comparing against the Kolkata
/// time read just before and just after each look, so a minute change between them passes.
async fn wait_for_clock(
    browser: &Browser,
    description: &str,
    matches: impl Fn(&str, (u64, u64)) -> bool,
) -> OverlayState {
    let started = std::time::Instant::now();
    loop {
        let before = hour_minute_at(SystemTime::now(), KOLKATA_OFFSET_SECONDS);
        let state = overlay_state(browser).await;
        let after = hour_minute_at(SystemTime::now(), KOLKATA_OFFSET_SECONDS);
        if let Some(text) = state.clock.as_deref()
            && (matches(text, before) || matches(text, after))
        {
            return state;
        }
        assert!(
            started.elapsed() < CLOCK_TIMEOUT,
            "timed out waiting until {description}: {state:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Reads `H:MM AM` or `H:MM PM`, with any space before the suffix.
fn parse_twelve_hour(text: &str) -> Option<(u64, u64, bool)> {
    let (time, suffix) = text.split_at(text.find(|c: char| !c.is_ascii_digit() && c != ':')?);
    let (hour, minute) = time.split_once(':')?;
    let pm = match suffix.trim_start_matches(|c: char| c.is_whitespace()) {
        "AM" => false,
        "PM" => true,
        _ => return None,
    };
    Some((hour.parse().ok()?, minute.parse().ok()?, pm))
}

#[tokio::test]
async fn screensaver_clock_shows_zone_time() {
    const TEST: &str = "screensaver-clock";
    let mut settings = fast_settings();
    settings.screensaver.clock = ClockFormat::TwentyFourHour;
    settings.screensaver.clock_time_zone = "Asia/Kolkata".to_owned();
    let server = start_server(&settings).await;
    let Some(browser) = Browser::launch(TEST, 1280, 720).await else {
        return;
    };
    open_screensaver(&browser, &server, TEST).await;

    let state = wait_for_clock(
        &browser,
        "the clock shows 24-hour Kolkata time",
        |text, (hour, minute)| text == format!("{hour:02}:{minute:02}"),
    )
    .await;
    // Chromium 148 resolves the zone to its older ICU name, Asia/Calcutta.
    assert!(
        matches!(
            state.clock_zone.as_deref(),
            Some("Asia/Kolkata" | "Asia/Calcutta")
        ),
        "{state:#?}"
    );
    browser.screenshot(&format!("{TEST}-24h")).await;

    settings.screensaver.clock = ClockFormat::TwelveHour;
    put_settings(&server, &settings).await;
    wait_for_clock(
        &browser,
        "the clock shows 12-hour Kolkata time",
        |text, (hour, minute)| {
            let twelve = if hour % 12 == 0 { 12 } else { hour % 12 };
            parse_twelve_hour(text) == Some((twelve, minute, hour >= 12))
        },
    )
    .await;
    browser.screenshot(&format!("{TEST}-12h")).await;

    // A well-formed name that no zone has passes the server and falls back on the screen.
    settings.screensaver.clock = ClockFormat::TwentyFourHour;
    settings.screensaver.clock_time_zone = "Mars/Olympus_Mons".to_owned();
    put_settings(&server, &settings).await;
    wait_or_fail(
        &browser,
        TEST,
        "the clock falls back to the browser's zone",
        CLOCK_TIMEOUT,
        r#"const clock = document.getElementById('clock');
           return !clock.hidden && clock.dataset.timeZone === Intl.DateTimeFormat().resolvedOptions().timeZone
               && /^\d\d:\d\d$/.test(clock.textContent);"#,
        OVERLAY_STATE,
    )
    .await;
    let state = overlay_state(&browser).await;
    assert_eq!(
        state.clock_zone.as_deref(),
        Some(state.browser_zone.as_str()),
        "{state:#?}"
    );

    settings.screensaver.clock = ClockFormat::Off;
    put_settings(&server, &settings).await;
    wait_or_fail(
        &browser,
        TEST,
        "the clock hides",
        CLOCK_TIMEOUT,
        "return document.getElementById('clock').hidden;",
        OVERLAY_STATE,
    )
    .await;

    assert_no_console_errors(&browser, "the clock changed format and zone").await;
    browser.close().await;
}

#[test]
fn twelve_hour_text_is_parsed() {
    assert_eq!(parse_twelve_hour("3:07 PM"), Some((3, 7, true)));
    assert_eq!(parse_twelve_hour("12:00\u{202f}AM"), Some((12, 0, false)));
    assert_eq!(parse_twelve_hour("15:07"), None);
    assert_eq!(parse_twelve_hour("3:07 nachm."), None);
}
