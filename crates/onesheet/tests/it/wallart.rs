//! The wallart page: a grid of distinct posters that changes a few tiles at a time.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use onesheet_domain::{DisplaySettings, TileAnimation, TileShape, WallartLayout};
use serde::Deserialize;

use crate::browser::Browser;
use crate::display_pages::{assert_no_console_errors, save_display_settings, wait_or_fail};
use crate::harness::{ServerOptions, TestServer};

const FILL_TIMEOUT: Duration = Duration::from_secs(60);
/// Long enough for four rounds of 3 seconds plus poster loading on a loaded CI machine.
const CHANGES_TIMEOUT: Duration = Duration::from_secs(60);
const SAMPLE_INTERVAL: Duration = Duration::from_millis(150);
const OFFLINE_TIMEOUT: Duration = Duration::from_secs(30);
/// Covers the page's retry backoff, which grows towards 60 s while the server is away.
const RESUME_TIMEOUT: Duration = Duration::from_secs(90);
/// Rounds of changes the test watches.
const ROUNDS: usize = 4;

const GRID_FILLED: &str = "return document.body.dataset.wallart === 'filled';";

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

/// Collects what the tests check about the wall in one round trip.
const WALL_STATE: &str = r#"
    const tiles = Array.from(document.querySelectorAll('#grid .tile'));
    const faces = Array.from(document.querySelectorAll('#grid .face'));
    const images = Array.from(document.querySelectorAll('#grid img'));
    return {
        grid: document.body.dataset.grid || null,
        filled: document.body.dataset.wallart === 'filled',
        changes: Number(document.body.dataset.tileChanges || 0),
        tiles: tiles.map(function (tile) { return tile.dataset.itemId || null; }),
        hero_tiles: tiles.filter(function (tile) { return tile.classList.contains('hero'); }).length,
        faces: faces.map(function (face) { return face.dataset.itemId; }),
        loaded_posters: images.filter(function (image) { return image.complete && image.naturalWidth > 0; }).length,
        broken_images: images.filter(function (image) {
            return image.getAttribute('src') && image.complete && image.naturalWidth === 0;
        }).map(function (image) { return image.currentSrc; }),
        tile_ratios: tiles.map(function (tile) { return tile.offsetHeight / tile.offsetWidth; }),
        animations: Array.from(new Set(faces.map(function (face) {
            const name = Array.from(face.classList).find(function (c) { return c.indexOf('animation-') === 0; });
            return name || null;
        }))),
        ambient: document.body.dataset.ambient || null,
    };
"#;

#[derive(Debug, Deserialize)]
#[allow(dead_code)] // Some fields are only read through Debug in failure messages.
struct WallState {
    grid: Option<String>,
    filled: bool,
    changes: usize,
    tiles: Vec<Option<String>>,
    hero_tiles: usize,
    faces: Vec<String>,
    loaded_posters: usize,
    broken_images: Vec<String>,
    tile_ratios: Vec<f64>,
    animations: Vec<Option<String>>,
    ambient: Option<String>,
}

impl WallState {
    fn tile_ids(&self) -> Vec<String> {
        self.tiles
            .iter()
            .map(|id| {
                id.clone()
                    .unwrap_or_else(|| panic!("a tile has no item: {self:#?}"))
            })
            .collect()
    }
}

async fn wall_state(browser: &Browser) -> WallState {
    browser.eval(WALL_STATE).await
}

/// Checks what must hold at every moment: no item twice among the faces on screen (those
/// animating out included), and no broken image.
fn assert_wall_is_sound(state: &WallState, moment: &str) {
    let mut seen = HashSet::new();
    for id in &state.faces {
        assert!(
            seen.insert(id),
            "item {id} is on screen twice once {moment}: {state:#?}"
        );
    }
    assert!(
        state.broken_images.is_empty(),
        "broken images once {moment}: {state:#?}"
    );
}

/// Fills the wall, then watches [`ROUNDS`] rounds of changes, sampling the page all along.
/// Returns the state when the wall filled and the state at the end.
async fn watch_wall(browser: &Browser, test_name: &str) -> (WallState, WallState) {
    wait_or_fail(
        browser,
        test_name,
        "the wall is filled",
        FILL_TIMEOUT,
        GRID_FILLED,
        WALL_STATE,
    )
    .await;
    let filled = wall_state(browser).await;
    assert_wall_is_sound(&filled, "the wall filled");

    let expected_changes = filled.changes + ROUNDS * 2;
    let started = Instant::now();
    let mut samples = 0;
    loop {
        let state = wall_state(browser).await;
        samples += 1;
        assert_wall_is_sound(&state, &format!("sample {samples}"));
        if state.changes >= expected_changes {
            return (filled, state);
        }
        assert!(
            started.elapsed() < CHANGES_TIMEOUT,
            "timed out after {} s waiting for {expected_changes} tile changes: {state:#?}",
            CHANGES_TIMEOUT.as_secs()
        );
        tokio::time::sleep(SAMPLE_INTERVAL).await;
    }
}

#[tokio::test]
async fn wallart_fills_grid_and_changes_tiles() {
    const TEST: &str = "wallart";
    let server = TestServer::start(ServerOptions {
        media_posters: 16,
        ..ServerOptions::default()
    })
    .await;
    let Some(browser) = Browser::launch(TEST, 1280, 720).await else {
        return;
    };

    browser.goto(&server.url("/wallart?interval=3")).await;
    let (filled, end) = watch_wall(&browser, TEST).await;

    // Density 5 on 1280×720: 2 rows of 360-pixel tiles, so 5 columns of 240 pixels.
    assert_eq!(filled.grid.as_deref(), Some("5x2"), "{filled:#?}");
    let first_ids = filled.tile_ids();
    assert_eq!(first_ids.len(), 10, "{filled:#?}");
    assert_eq!(
        first_ids.iter().collect::<HashSet<_>>().len(),
        first_ids.len(),
        "the filled wall repeats an item: {filled:#?}"
    );
    assert!(filled.loaded_posters >= first_ids.len(), "{filled:#?}");
    for ratio in &filled.tile_ratios {
        assert!(
            (ratio - 1.5).abs() < 0.02,
            "a tile is not 2:3 (height/width {ratio}): {filled:#?}"
        );
    }

    let end_ids = end.tile_ids();
    let changed = first_ids
        .iter()
        .zip(&end_ids)
        .filter(|(before, after)| before != after)
        .count();
    assert!(
        changed >= 3,
        "only {changed} tiles show another item after {ROUNDS} rounds: {filled:#?}\n{end:#?}"
    );
    assert!(end.filled, "{end:#?}");

    browser.screenshot(TEST).await;
    assert_no_console_errors(&browser, "the wall changed").await;
    browser.close().await;
}

#[tokio::test]
async fn wallart_hero_layout_flips_tiles() {
    const TEST: &str = "wallart-hero";
    let mut server = TestServer::prepare(ServerOptions {
        media_posters: 16,
        ..ServerOptions::default()
    });
    let mut settings = DisplaySettings::default();
    settings.wallart.layout = WallartLayout::HeroGrid;
    settings.wallart.animation = TileAnimation::Flip;
    settings.wallart.density = 6;
    save_display_settings(&server, &settings).await;
    server.launch().await;
    let Some(browser) = Browser::launch(TEST, 1280, 720).await else {
        return;
    };

    browser.goto(&server.url("/wallart?interval=3")).await;
    let (filled, end) = watch_wall(&browser, TEST).await;

    // Density 6 on 1280×720 rounds to 2 rows of 360-pixel tiles, so 5 columns, and the hero
    // covers 2×2 cells: 10 - 4 + 1 tiles.
    assert_eq!(filled.grid.as_deref(), Some("5x2"), "{filled:#?}");
    assert_eq!(filled.hero_tiles, 1, "{filled:#?}");
    assert_eq!(filled.tiles.len(), 7, "{filled:#?}");
    assert_eq!(
        end.animations,
        vec![Some("animation-flip".to_owned())],
        "{end:#?}"
    );

    browser.screenshot(TEST).await;
    assert_no_console_errors(&browser, "the hero wall changed").await;
    browser.close().await;
}

#[tokio::test]
async fn wallart_square_tiles_for_album_covers() {
    const TEST: &str = "wallart-square";
    let mut server = TestServer::prepare(ServerOptions {
        media_posters: 16,
        ..ServerOptions::default()
    });
    let mut settings = DisplaySettings::default();
    settings.wallart.tile_shape = TileShape::Square;
    settings.wallart.density = 6;
    save_display_settings(&server, &settings).await;
    server.launch().await;
    let Some(browser) = Browser::launch(TEST, 1280, 720).await else {
        return;
    };

    browser.goto(&server.url("/wallart?interval=3")).await;
    let (filled, _) = watch_wall(&browser, TEST).await;

    // Density 6 on 1280×720 gives square tiles of 240 pixels: 3 rows of 5 columns.
    assert_eq!(filled.grid.as_deref(), Some("5x3"), "{filled:#?}");
    assert!(
        filled
            .tile_ratios
            .iter()
            .all(|ratio| (ratio - 1.0).abs() < 0.02),
        "{filled:#?}"
    );
    assert_no_console_errors(&browser, "the square wall was filled").await;
    browser.close().await;
}

#[tokio::test]
async fn wallart_keeps_changing_while_offline() {
    const TEST: &str = "wallart-offline";
    let mut server = TestServer::start(ServerOptions {
        media_posters: 16,
        ..ServerOptions::default()
    })
    .await;
    let Some(browser) = Browser::launch(TEST, 1280, 720).await else {
        return;
    };

    // A few rounds online load more posters than the wall shows, so the browser cache contains
    // spare posters for the offline rounds.
    browser.goto(&server.url("/wallart?interval=3")).await;
    watch_wall(&browser, TEST).await;
    assert_no_console_errors(&browser, "the wall changed online").await;
    browser
        .eval::<serde_json::Value>("window.__noReloadMarker = 1; return null;")
        .await;
    server.stop().await;

    wait_or_fail(
        &browser,
        TEST,
        "the offline marker shows",
        OFFLINE_TIMEOUT,
        OFFLINE_MARKER_SHOWN,
        WALL_STATE,
    )
    .await;
    let offline = wall_state(&browser).await;
    assert!(offline.filled, "the wall emptied offline: {offline:#?}");
    let (_, after) = watch_wall(&browser, TEST).await;
    assert!(
        after.changes > offline.changes,
        "no tile changed offline: {after:#?}"
    );

    server.restart().await;
    wait_or_fail(
        &browser,
        TEST,
        "the offline marker hides",
        RESUME_TIMEOUT,
        OFFLINE_MARKER_HIDDEN,
        WALL_STATE,
    )
    .await;
    let reloaded: bool = browser.eval("return window.__noReloadMarker !== 1;").await;
    assert!(!reloaded, "the page reloaded while the server restarted");
    browser.screenshot(TEST).await;
    browser.close().await;
    server.stop().await;
}
