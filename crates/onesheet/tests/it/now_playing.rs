//! The cinema page's now-playing takeover. A fake Jellyfin added through the admin API starts
//! playing one of the catalog's films, and the page covers the rotation with that film, its
//! progress and the time remaining. Once playback stops, the rotation returns.

use std::time::{Duration, Instant};

use onesheet_domain::DisplaySettings;
use onesheet_fakes::{
    FakeJellyfin, FakeServer, JellyfinConfig, Library, LibraryKind, NowPlaying, PlayingItem,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::browser::Browser;
use crate::display_pages::{assert_no_console_errors, save_display_settings, wait_or_fail};
use crate::harness::{ServerOptions, TestServer, http_client};

const TEST: &str = "cinema-now-playing";
/// Bootstrap admin token of the test server: at least 24 characters, as the server requires.
const ADMIN_TOKEN: &str = "now-playing-test-admin-token";
const API_KEY: &str = "JELLYFIN_KEY_NOW_PLAYING";
/// Covers the source's first sync, with its image downloads.
const CATALOG_TIMEOUT: Duration = Duration::from_secs(60);
const FIRST_POSTER_TIMEOUT: Duration = Duration::from_secs(60);
/// Covers one session poll of the server (2 s here) and one poll of the page (5 s), with
/// room for a slow machine.
const TAKEOVER_TIMEOUT: Duration = Duration::from_secs(30);

/// True once the rotation shows a slide whose poster is loaded.
const POSTER_LOADED: &str = r#"
    const poster = document.querySelector('#frame .slide.current img.poster');
    return !!document.body.dataset.currentItem && !!poster && poster.complete && poster.naturalWidth > 0;
"#;

/// True once the takeover is on screen with its poster and its progress.
const TAKEOVER_SHOWN: &str = r#"
    const view = document.querySelector('#frame .takeover.visible');
    const poster = view && view.querySelector('img.poster');
    return !!document.body.dataset.nowPlaying && !!view && !!view.dataset.progress
        && !!poster && poster.complete && poster.naturalWidth > 0
        && getComputedStyle(view).opacity === '1';
"#;

/// What the tests check about the page in one round trip.
const PAGE_STATE: &str = r#"
    const view = document.querySelector('#frame .takeover');
    const pick = function (selector) {
        const element = view && view.querySelector(selector);
        return element ? element.textContent : null;
    };
    const fill = view && view.querySelector('.takeover-progress-fill');
    return {
        now_playing: document.body.dataset.nowPlaying || null,
        current_item: document.body.dataset.currentItem || null,
        takeovers: document.querySelectorAll('#frame .takeover').length,
        header: pick('.header-text'),
        title: pick('.title'),
        remaining: pick('.takeover-remaining'),
        progress: view && view.dataset.progress ? Number(view.dataset.progress) : null,
        state: view ? view.dataset.state || null : null,
        fill_transform: fill ? getComputedStyle(fill).transform : null,
        has_poster: !!(view && view.querySelector('img.poster')),
        has_placeholder: !!(view && view.querySelector('.poster-placeholder')),
        poster_src: view && view.querySelector('img.poster') ? view.querySelector('img.poster').src : null,
    };
"#;

#[derive(Debug, Deserialize)]
struct PageState {
    now_playing: Option<String>,
    current_item: Option<String>,
    takeovers: usize,
    header: Option<String>,
    title: Option<String>,
    remaining: Option<String>,
    progress: Option<f64>,
    state: Option<String>,
    fill_transform: Option<String>,
    has_poster: bool,
    has_placeholder: bool,
    poster_src: Option<String>,
}

async fn page_state(browser: &Browser) -> PageState {
    browser.eval(PAGE_STATE).await
}

/// Sends an admin API request with the bootstrap token and returns the status and JSON body.
async fn admin_post(server: &TestServer, path: &str, body: Value) -> (u16, Value) {
    let response = http_client()
        .post(server.url(path))
        .bearer_auth(ADMIN_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|error| panic!("POST {path} failed: {error}"));
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A film of the fake that reached the catalog with a poster and a runtime.
struct CatalogFilm {
    /// Position in the fake's library, which its sessions refer to.
    position: usize,
    title: String,
    id: String,
}

/// Waits until every film of the fake is in the playlist, and returns the first that has a
/// poster and a runtime. The fake leaves some films without a poster.
async fn wait_for_catalog_film(server: &TestServer, titles: &[String]) -> CatalogFilm {
    let deadline = Instant::now() + CATALOG_TIMEOUT;
    loop {
        let page: Value = server
            .get("/api/v1/playlist?limit=500")
            .await
            .json()
            .await
            .unwrap_or(Value::Null);
        let items = page["items"].as_array().cloned().unwrap_or_default();
        let listed = |title: &String| items.iter().find(|item| item["title"] == **title);
        if titles.iter().all(|title| listed(title).is_some()) {
            let found = titles.iter().enumerate().find_map(|(position, title)| {
                let item = listed(title)?;
                let usable =
                    item["images"]["poster"].is_string() && item["runtime_minutes"].is_u64();
                usable.then(|| CatalogFilm {
                    position,
                    title: title.clone(),
                    id: item["id"].as_str().unwrap_or_default().to_owned(),
                })
            });
            return found.unwrap_or_else(|| panic!("no film has a poster and a runtime: {page}"));
        }
        assert!(
            Instant::now() < deadline,
            "the fake's films did not reach the playlist within {} s: {page}\n{}",
            CATALOG_TIMEOUT.as_secs(),
            server.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Starts a fake Jellyfin with a few films and no sessions, and returns it with the titles of
/// its films in library order.
async fn start_jellyfin() -> (FakeServer, Vec<String>) {
    let library = Library::generate(LibraryKind::Movies, 6, 21);
    let titles = library
        .items()
        .iter()
        .map(|item| item.title.clone())
        .collect();
    let fake = FakeJellyfin::start(JellyfinConfig {
        api_key: API_KEY.to_owned(),
        libraries: vec![library],
        sessions: Some(Vec::new()),
        poster_size: (400, 600),
        ..JellyfinConfig::default()
    })
    .await
    .expect("start the fake Jellyfin");
    (fake, titles)
}

#[tokio::test]
async fn cinema_now_playing_takes_over_and_returns() {
    let Some(browser) = Browser::launch(TEST, 720, 1280).await else {
        return;
    };
    let (fake, titles) = start_jellyfin().await;

    let mut server = TestServer::prepare(ServerOptions {
        media_posters: 3,
        env: vec![("ONESHEET_ADMIN_TOKEN".to_owned(), ADMIN_TOKEN.to_owned())],
        ..ServerOptions::default()
    });
    // An empty late-night window, so the rotation's header does not depend on the hour.
    let mut settings = DisplaySettings::default();
    settings.cinema.late_night_from_hour = 0;
    settings.cinema.late_night_until_hour = 0;
    settings.cinema.now_playing_text = "Playing in the living room".to_owned();
    save_display_settings(&server, &settings).await;
    server.launch().await;

    let (status, body) = admin_post(
        &server,
        "/api/v1/admin/sources",
        json!({
            "kind": "jellyfin",
            "name": "Living Room",
            "credential": API_KEY,
            "settings": { "host": fake.base_url(), "now_playing": { "poll_seconds": 2 } },
        }),
    )
    .await;
    assert_eq!(status, 201, "adding the source failed: {body}");
    let film = wait_for_catalog_film(&server, &titles).await;

    browser.goto(&server.url("/cinema?interval=5")).await;
    wait_or_fail(
        &browser,
        TEST,
        "the rotation shows a poster",
        FIRST_POSTER_TIMEOUT,
        POSTER_LOADED,
        PAGE_STATE,
    )
    .await;
    assert_eq!(page_state(&browser).await.takeovers, 0);

    // Ten minutes into the film on the living-room TV.
    let playing = NowPlaying {
        user: "Zoë".to_owned(),
        client: "Jellyfin Web".to_owned(),
        device: "Living Room TV".to_owned(),
        item: PlayingItem::Library {
            library: 0,
            position: film.position,
        },
        position: Duration::from_secs(600),
        paused: false,
    };
    fake.control().set_sessions(vec![playing.clone()]);
    wait_or_fail(
        &browser,
        TEST,
        "the takeover shows the playing film",
        TAKEOVER_TIMEOUT,
        TAKEOVER_SHOWN,
        PAGE_STATE,
    )
    .await;
    let shown = page_state(&browser).await;
    assert!(shown.now_playing.is_some(), "{shown:#?}");
    assert_eq!(shown.takeovers, 1, "{shown:#?}");
    assert_eq!(
        shown.header.as_deref(),
        Some("Playing in the living room"),
        "{shown:#?}"
    );
    assert_eq!(
        shown.title.as_deref(),
        Some(film.title.as_str()),
        "{shown:#?}"
    );
    assert!(shown.has_poster, "{shown:#?}");
    assert!(!shown.has_placeholder, "{shown:#?}");
    // The played film is a catalog item, so its poster comes from the catalog.
    let poster = shown.poster_src.clone().unwrap_or_default();
    assert!(
        poster.contains(&format!("/img/{}/poster", film.id)),
        "{shown:#?}"
    );
    assert_eq!(shown.state.as_deref(), Some("playing"), "{shown:#?}");
    let progress = shown.progress.expect("a film with a runtime has progress");
    assert!(progress > 0.0, "{shown:#?}");
    assert!(progress < 1.0, "{shown:#?}");
    let remaining = shown.remaining.clone().unwrap_or_default();
    assert!(
        remaining.ends_with(" left") && remaining.contains(':'),
        "{shown:#?}"
    );
    let fill = shown.fill_transform.clone().unwrap_or_default();
    assert!(
        fill.starts_with("matrix(") && fill != "matrix(1, 0, 0, 1, 0, 0)",
        "the progress bar is not scaled: {shown:#?}"
    );

    // A playing session advances between reports: the time remaining counts down.
    wait_or_fail(
        &browser,
        TEST,
        "the time remaining counts down",
        Duration::from_secs(10),
        &format!(
            "const text = document.querySelector('#frame .takeover .takeover-remaining');
             return !!text && text.textContent !== {};",
            serde_json::to_string(&remaining).unwrap()
        ),
        PAGE_STATE,
    )
    .await;
    browser.screenshot(TEST).await;
    assert_no_console_errors(&browser, "the takeover was shown").await;

    // Paused, the view shows it and keeps the session on screen.
    fake.control().set_sessions(vec![NowPlaying {
        paused: true,
        ..playing.clone()
    }]);
    wait_or_fail(
        &browser,
        TEST,
        "the takeover shows the pause",
        TAKEOVER_TIMEOUT,
        "const view = document.querySelector('#frame .takeover.visible');
         const text = view && view.querySelector('.takeover-remaining');
         return !!view && view.dataset.state === 'paused'
             && !!text && text.textContent.indexOf('Paused') === 0;",
        PAGE_STATE,
    )
    .await;

    // Playback stops: the takeover goes and the rotation turns again.
    let covered_item = page_state(&browser).await.current_item;
    fake.control().set_sessions(Vec::new());
    wait_or_fail(
        &browser,
        TEST,
        "the takeover is gone",
        TAKEOVER_TIMEOUT,
        "return !document.body.dataset.nowPlaying
             && document.querySelectorAll('#frame .takeover').length === 0;",
        PAGE_STATE,
    )
    .await;
    wait_or_fail(
        &browser,
        TEST,
        "the rotation shows another poster",
        FIRST_POSTER_TIMEOUT,
        &format!(
            "const poster = document.querySelector('#frame .slide.current img.poster');
             return !!poster && poster.complete && poster.naturalWidth > 0
                 && document.body.dataset.currentItem !== {};",
            serde_json::to_string(&covered_item).unwrap()
        ),
        PAGE_STATE,
    )
    .await;
    assert_no_console_errors(&browser, "the rotation resumed").await;
    browser.close().await;
}
