//! Filters per screen and by time of day: the playlist of each screen lists the items that
//! pass its own filter, with the filter rules of the current local time laid over it.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};

use async_trait::async_trait;
use axum::body::Body;
use axum::http::Request;
use onesheet_domain::settings::TimeOfDay;
use onesheet_domain::{ImageRef, ItemImages, MediaItem, SourceId};
use onesheet_sources::{ImageBody, MediaSource, SourceError};
use serde_json::{Value, json};

use crate::devices::{DeviceApp, Screen, test_config};
use crate::support::TestResponse;

/// A source of films with one genre each, beside the test app's posters, which have none.
struct ShelfSource {
    id: SourceId,
}

const SHELF: [(&str, &str); 6] = [
    ("Bambi", "Animation"),
    ("Dumbo", "Animation"),
    ("Fantasia", "Animation"),
    ("Heat", "Crime"),
    ("Ran", "Drama"),
    ("Ikiru", "Drama"),
];

#[async_trait]
impl MediaSource for ShelfSource {
    fn id(&self) -> &SourceId {
        &self.id
    }

    fn kind(&self) -> &'static str {
        "test"
    }

    async fn fetch_items(&self) -> Result<Vec<Arc<MediaItem>>, SourceError> {
        Ok(SHELF
            .iter()
            .map(|(title, genre)| {
                let mut item = MediaItem {
                    upstream_key: (*title).to_owned(),
                    title: (*title).to_owned(),
                    genres: vec![(*genre).to_owned()],
                    images: ItemImages {
                        poster: Some(ImageRef::new(*title, "v1")),
                        ..ItemImages::default()
                    },
                    ..MediaItem::default()
                };
                item.assign_identity(&self.id);
                Arc::new(item)
            })
            .collect())
    }

    async fn open_image(&self, _image: &ImageRef) -> Result<ImageBody, SourceError> {
        Err(SourceError::ImageNotFound {
            source_id: self.id.clone(),
        })
    }
}

/// Number of posters of the test app, which have no genre.
const POSTERS: usize = 2;

/// Starts the device app with the shelf's films added, and a time of day that the test sets
/// in minutes since midnight, noon at first.
async fn start() -> (DeviceApp, Arc<AtomicU16>) {
    let mut app = DeviceApp::with_posters(test_config(), POSTERS).await;
    let catalog = app.app.catalog.clone();
    catalog
        .add_source(Arc::new(ShelfSource {
            id: SourceId::new("shelf").unwrap(),
        }))
        .await;
    catalog.refresh_all().await;

    let minutes = Arc::new(AtomicU16::new(12 * 60));
    let reading = minutes.clone();
    app.app = app.app.with_state(|state| {
        state.with_time_of_day(Arc::new(move || {
            let minutes = reading.load(Ordering::SeqCst);
            TimeOfDay::new((minutes / 60) as u8, (minutes % 60) as u8).unwrap()
        }))
    });
    (app, minutes)
}

fn set_time(clock: &AtomicU16, hour: u16, minute: u16) {
    clock.store(hour * 60 + minute, Ordering::SeqCst);
}

async fn playlist(app: &DeviceApp, credential: Option<&str>) -> TestResponse {
    let mut request = Request::get("/api/v1/playlist?limit=500");
    if let Some(credential) = credential {
        request = request.header("x-onesheet-device", credential);
    }
    app.app.send(request.body(Body::empty()).unwrap()).await
}

/// Returns the titles of the playlist the screen with `credential` receives, sorted.
async fn titles(app: &DeviceApp, credential: Option<&str>) -> Vec<String> {
    let page = playlist(app, credential).await;
    assert_eq!(page.status, 200, "{}", String::from_utf8_lossy(&page.body));
    titles_of(&page)
}

fn titles_of(page: &TestResponse) -> Vec<String> {
    let mut titles: Vec<String> = page.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["title"].as_str().unwrap().to_owned())
        .collect();
    titles.sort();
    titles
}

fn count_of(titles: &[String], names: &[&str]) -> usize {
    titles
        .iter()
        .filter(|title| names.contains(&title.as_str()))
        .count()
}

async fn create(app: &DeviceApp, path: &str, body: Value) -> i64 {
    let created = app.admin("POST", path, Some(body)).await;
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    created.json()["id"].as_i64().unwrap()
}

/// Pairs a screen, applies `changes` to it, and returns its credential header value and its
/// socket, which keeps the screen online until the test drops it.
async fn paired_screen(app: &DeviceApp, name: &str, changes: Value) -> (String, Screen) {
    let (device_id, secret, screen) = app.pair(name).await;
    let updated = app
        .admin(
            "PATCH",
            &format!("/api/v1/admin/devices/{device_id}"),
            Some(changes),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.json());
    (format!("{device_id}:{}", secret.expose()), screen)
}

async fn save_global(app: &DeviceApp, settings: Value) {
    let saved = app
        .admin("PUT", "/api/v1/admin/settings", Some(settings))
        .await;
    assert_eq!(
        saved.status,
        200,
        "{}",
        String::from_utf8_lossy(&saved.body)
    );
}

const ANIMATION: [&str; 3] = ["Bambi", "Dumbo", "Fantasia"];
const DRAMA: [&str; 2] = ["Ikiru", "Ran"];

#[tokio::test]
async fn profile_filter_narrows_a_paired_screen() {
    let (app, _clock) = start().await;
    let family = create(
        &app,
        "/api/v1/admin/profiles",
        json!({"name": "Family", "overrides": {"filter": {"genres_include": ["Animation"]}}}),
    )
    .await;
    let (kids, _kids_socket) =
        paired_screen(&app, "Kids corner", json!({"profile_id": family})).await;
    let (lobby, _lobby_socket) = paired_screen(&app, "Lobby", json!({"name": "Lobby"})).await;

    let for_kids = titles(&app, Some(&kids)).await;
    let for_lobby = titles(&app, Some(&lobby)).await;
    let unpaired = titles(&app, None).await;

    assert_eq!(for_kids, ANIMATION);
    assert_eq!(for_lobby.len(), POSTERS + SHELF.len(), "{for_lobby:?}");
    assert_eq!(unpaired, for_lobby);
}

#[tokio::test]
async fn device_filter_may_widen_the_global_one() {
    let (app, _clock) = start().await;
    save_global(&app, json!({"filter": {"genres_include": ["Drama"]}})).await;
    let (everything, _everything_socket) = paired_screen(
        &app,
        "Foyer",
        json!({"overrides": {"filter": {"genres_include": []}}}),
    )
    .await;

    let unpaired = titles(&app, None).await;
    let widened = titles(&app, Some(&everything)).await;

    assert_eq!(unpaired, DRAMA);
    assert_eq!(widened.len(), POSTERS + SHELF.len(), "{widened:?}");
}

#[tokio::test]
async fn cached_orders_stay_with_their_filter() {
    let (app, _clock) = start().await;
    let family = create(
        &app,
        "/api/v1/admin/profiles",
        json!({"name": "Family", "overrides": {"filter": {"genres_include": ["Animation"]}}}),
    )
    .await;
    let arthouse = create(
        &app,
        "/api/v1/admin/profiles",
        json!({"name": "Arthouse", "overrides": {"filter": {"genres_include": ["Drama"]}}}),
    )
    .await;
    let (kids, _kids_socket) = paired_screen(&app, "Kids", json!({"profile_id": family})).await;
    let (cinema, _cinema_socket) =
        paired_screen(&app, "Cinema", json!({"profile_id": arthouse})).await;
    let (also_kids, _also_kids_socket) =
        paired_screen(&app, "Kids too", json!({"profile_id": family})).await;

    // Twice each, in turn, so the second round is served from the caches.
    for round in 0..2 {
        assert_eq!(titles(&app, Some(&kids)).await, ANIMATION, "round {round}");
        assert_eq!(titles(&app, Some(&cinema)).await, DRAMA, "round {round}");
        assert_eq!(
            titles(&app, Some(&also_kids)).await,
            ANIMATION,
            "round {round}"
        );
        let unpaired = titles(&app, None).await;
        assert_eq!(unpaired.len(), POSTERS + SHELF.len(), "round {round}");
    }

    // A changed profile reaches its screens at once.
    let changed = app
        .admin(
            "PATCH",
            &format!("/api/v1/admin/profiles/{family}"),
            Some(json!({"overrides": {"filter": {"genres_include": ["Crime"]}}})),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.json());
    assert_eq!(titles(&app, Some(&kids)).await, ["Heat"]);
    assert_eq!(titles(&app, Some(&cinema)).await, DRAMA);
}

#[tokio::test]
async fn time_rule_changes_the_playlist() {
    let (app, clock) = start().await;
    save_global(
        &app,
        json!({"filter_rules": [
            {"from": "06:00", "until": "21:00", "filter": {"genres_include": ["Animation"]}},
            {"from": "23:00", "until": "01:00", "filter": {"genres_include": ["Drama"]}}
        ]}),
    )
    .await;

    set_time(&clock, 12, 0);
    let day = playlist(&app, None).await;
    set_time(&clock, 21, 0);
    let evening = playlist(&app, None).await;
    set_time(&clock, 0, 30);
    let after_midnight = titles(&app, None).await;
    set_time(&clock, 20, 59);
    let day_again = playlist(&app, None).await;

    let day_titles = titles_of(&day);
    assert_eq!(day_titles, ANIMATION);
    assert_eq!(titles_of(&evening).len(), POSTERS + SHELF.len());
    assert_eq!(after_midnight, DRAMA);
    assert_ne!(day.header("etag"), evening.header("etag"));
    assert_eq!(day.header("etag"), day_again.header("etag"));
}

#[tokio::test]
async fn stale_etag_gets_the_new_selection() {
    let (app, clock) = start().await;
    save_global(
        &app,
        json!({"filter_rules": [
            {"from": "06:00", "until": "21:00", "filter": {"genres_include": ["Animation"]}}
        ]}),
    )
    .await;
    set_time(&clock, 20, 59);
    let before = playlist(&app, None).await;

    set_time(&clock, 21, 0);
    let request = Request::get("/api/v1/playlist?limit=500")
        .header("if-none-match", before.header("etag"))
        .body(Body::empty())
        .unwrap();
    let after = app.app.send(request).await;

    assert_eq!(after.status, 200);
    assert_eq!(titles_of(&after).len(), POSTERS + SHELF.len());
}

#[tokio::test]
async fn screen_rules_lay_over_its_profile_filter() {
    let (app, clock) = start().await;
    let family = create(
        &app,
        "/api/v1/admin/profiles",
        json!({"name": "Family", "overrides": {
            "filter": {"genres_exclude": ["Crime"]},
            "filter_rules": [
                {"from": "18:00", "until": "06:00", "filter": {"genres_include": ["Drama"]}}
            ]
        }}),
    )
    .await;
    let (screen, _screen_socket) = paired_screen(&app, "Bar", json!({"profile_id": family})).await;

    set_time(&clock, 12, 0);
    let noon = titles(&app, Some(&screen)).await;
    set_time(&clock, 19, 0);
    let night = titles(&app, Some(&screen)).await;
    let unpaired_night = titles(&app, None).await;

    assert_eq!(count_of(&noon, &["Heat"]), 0, "{noon:?}");
    assert_eq!(noon.len(), POSTERS + SHELF.len() - 1, "{noon:?}");
    assert_eq!(night, DRAMA);
    assert_eq!(unpaired_night.len(), POSTERS + SHELF.len());
}

#[tokio::test]
async fn distinct_group_deals_out_its_own_selection() {
    let (app, _clock) = start().await;
    let group = create(
        &app,
        "/api/v1/admin/groups",
        json!({"name": "Wall", "mode": "distinct",
               "overrides": {"filter": {"genres_include": ["Animation", "Drama"]}}}),
    )
    .await;
    let (left, _left_socket) = paired_screen(&app, "Left", json!({"group_id": group})).await;
    let (right, _right_socket) = paired_screen(&app, "Right", json!({"group_id": group})).await;

    let left_titles = titles(&app, Some(&left)).await;
    let right_titles = titles(&app, Some(&right)).await;

    let mut seen = HashSet::new();
    for title in left_titles.iter().chain(&right_titles) {
        assert!(seen.insert(title.clone()), "{title} is on both screens");
    }
    let mut all: Vec<String> = seen.into_iter().collect();
    all.sort();
    assert_eq!(all, ["Bambi", "Dumbo", "Fantasia", "Ikiru", "Ran"]);
    assert_eq!(left_titles.len() + right_titles.len(), 5);
}

#[tokio::test]
async fn lite_page_follows_global_time_rules() {
    let (app, clock) = start().await;
    save_global(
        &app,
        json!({"filter_rules": [
            {"from": "06:00", "until": "21:00", "filter": {"genres_include": ["Drama"]}}
        ]}),
    )
    .await;

    set_time(&clock, 12, 0);
    let mut titles = Vec::new();
    for position in 0..4 {
        let page = app.app.get(&format!("/lite?i={position}")).await;
        let html = String::from_utf8(page.body.clone()).unwrap();
        let title = html
            .split("<title>")
            .nth(1)
            .and_then(|rest| rest.split(" · ").next())
            .unwrap()
            .to_owned();
        titles.push(title);
    }
    titles.sort();
    titles.dedup();
    assert_eq!(titles, DRAMA);
}

#[tokio::test]
async fn preset_parameter_selects_its_kinds() {
    let (app, _) = start().await;
    let everything = titles(&app, None).await;
    assert_eq!(everything.len(), POSTERS + SHELF.len());

    // The test catalog contains films only, so the music wall finds nothing to show.
    let music = app
        .app
        .get("/api/v1/playlist?mode=wallart&preset=music-wall")
        .await;
    assert_eq!(music.status, 200);
    assert_eq!(titles_of(&music), Vec::<String>::new());

    // A preset without a filter leaves the selection alone.
    let lobby = app
        .app
        .get("/api/v1/playlist?mode=cinema&preset=lobby")
        .await;
    assert_eq!(titles_of(&lobby).len(), everything.len());

    let unknown = app.app.get("/api/v1/playlist?preset=nothing").await;
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.json()["error"]["field"], "preset");
}
