//! The now-playing rule of `GET /api/v1/now-playing`: the player and user lists of the caller's
//! settings, from the global settings for an unpaired screen and from the merged group and
//! device layers for a paired one.

use axum::body::Body;
use axum::http::Request;
use onesheet_domain::{
    DisplaySettings, MediaKind, NowPlaying, NowPlayingItem, PlaybackState, SourceId,
};
use serde_json::{Value, json};

use crate::devices::DeviceApp;

/// Publishes two sessions of one source: Zoë plays in the living room, José has paused a film
/// on the hall projector.
fn publish_sessions(app: &DeviceApp) {
    let source = SourceId::new("jellyfin").unwrap();
    let session = |id: &str, user: &str, player: &str, state: PlaybackState| NowPlaying {
        source: source.clone(),
        session_id: id.to_owned(),
        user: Some(user.to_owned()),
        player: Some(player.to_owned()),
        item: NowPlayingItem {
            upstream_key: format!("item-{id}"),
            title: format!("Feature {id}"),
            kind: MediaKind::Movie,
            year: Some(1999),
            poster: None,
        },
        position_ms: 60_000,
        duration_ms: Some(7_200_000),
        state,
        library: None,
    };
    app.app.state.now_playing.publish(
        &source,
        vec![
            session("s1", "Zoë", "Living Room TV", PlaybackState::Playing),
            session("s2", "José", "Hall Projector", PlaybackState::Paused),
        ],
    );
}

/// Returns the response body of `GET /api/v1/now-playing`, sent with the device credential
/// when one is given.
async fn now_playing(app: &DeviceApp, credential: Option<&str>) -> Value {
    let mut request = Request::get("/api/v1/now-playing");
    if let Some(credential) = credential {
        request = request.header("x-onesheet-device", credential);
    }
    let response = app.app.send(request.body(Body::empty()).unwrap()).await;
    assert_eq!(response.status, 200, "{}", response.json());
    response.json()
}

/// Returns the session ids of a now-playing response, in order.
fn session_ids(body: &Value) -> Vec<String> {
    body["sessions"]
        .as_array()
        .unwrap_or_else(|| panic!("no session list: {body}"))
        .iter()
        .map(|session| session["session_id"].as_str().unwrap().to_owned())
        .collect()
}

/// Saves the global settings with the cinema section changed by `change`.
async fn save_global(app: &DeviceApp, change: impl FnOnce(&mut Value)) {
    let mut settings = serde_json::to_value(DisplaySettings::default()).unwrap();
    change(&mut settings["cinema"]);
    let saved = app
        .admin("PUT", "/api/v1/admin/settings", Some(settings))
        .await;
    assert_eq!(saved.status, 200, "{}", saved.json());
}

#[tokio::test]
async fn now_playing_defaults_show_every_session() {
    let app = DeviceApp::start().await;
    publish_sessions(&app);

    let body = now_playing(&app, None).await;

    assert_eq!(session_ids(&body), ["s1", "s2"]);
    assert!(body["server_time_ms"].is_i64(), "{body}");
    for session in body["sessions"].as_array().unwrap() {
        assert!(session.get("user").is_none(), "{session}");
    }
    assert_eq!(body["sessions"][1]["state"], "paused");
}

#[tokio::test]
async fn now_playing_global_rule_filters_by_user() {
    let app = DeviceApp::start().await;
    publish_sessions(&app);
    save_global(&app, |cinema| {
        cinema["now_playing_users"] = json!(["ZOË"]);
    })
    .await;

    assert_eq!(session_ids(&now_playing(&app, None).await), ["s1"]);

    save_global(&app, |cinema| cinema["now_playing"] = json!(false)).await;
    assert_eq!(
        session_ids(&now_playing(&app, None).await),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn now_playing_group_and_device_override_global() {
    let app = DeviceApp::start().await;
    publish_sessions(&app);
    // Globally, only the living-room player counts.
    save_global(&app, |cinema| {
        cinema["now_playing_players"] = json!(["Living Room TV"]);
    })
    .await;
    let group = app
        .admin(
            "POST",
            "/api/v1/admin/groups",
            Some(json!({
                "name": "Hall",
                "mode": "independent",
                "overrides": { "cinema": { "now_playing_players": ["hall projector"] } },
            })),
        )
        .await;
    assert_eq!(group.status, 201, "{}", group.json());
    let group_id = group.json()["id"].as_i64().unwrap();
    let (device_id, secret, _screen) = app.pair("Hall screen").await;
    let assigned = app
        .admin(
            "PATCH",
            &format!("/api/v1/admin/devices/{device_id}"),
            Some(json!({ "group_id": group_id })),
        )
        .await;
    assert_eq!(assigned.status, 200, "{}", assigned.json());
    let credential = format!("{device_id}:{}", secret.expose());

    assert_eq!(session_ids(&now_playing(&app, None).await), ["s1"]);
    assert_eq!(
        session_ids(&now_playing(&app, Some(&credential)).await),
        ["s2"]
    );

    // The device's own layer narrows the group's player to one user who does not use it.
    let narrowed = app
        .admin(
            "PATCH",
            &format!("/api/v1/admin/devices/{device_id}"),
            Some(json!({ "overrides": { "cinema": { "now_playing_users": ["Zoë"] } } })),
        )
        .await;
    assert_eq!(narrowed.status, 200, "{}", narrowed.json());
    assert_eq!(
        session_ids(&now_playing(&app, Some(&credential)).await),
        Vec::<String>::new()
    );
    assert_eq!(session_ids(&now_playing(&app, None).await), ["s1"]);
}

#[tokio::test]
async fn now_playing_wrong_credential_gets_global_rule() {
    let app = DeviceApp::start().await;
    publish_sessions(&app);
    save_global(&app, |cinema| {
        cinema["now_playing_players"] = json!(["Living Room TV"]);
    })
    .await;
    let (device_id, _, _screen) = app.pair("Hall screen").await;
    let overridden = app
        .admin(
            "PATCH",
            &format!("/api/v1/admin/devices/{device_id}"),
            Some(json!({ "overrides": { "cinema": { "now_playing_players": [] } } })),
        )
        .await;
    assert_eq!(overridden.status, 200, "{}", overridden.json());

    let wrong = format!("{device_id}:not-the-secret-of-this-device-0123456789");
    assert_eq!(session_ids(&now_playing(&app, Some(&wrong)).await), ["s1"]);
}

#[tokio::test]
async fn now_playing_lists_are_validated() {
    let app = DeviceApp::start().await;
    let mut settings = serde_json::to_value(DisplaySettings::default()).unwrap();
    settings["cinema"]["now_playing_players"] =
        json!((0..51).map(|i| format!("TV {i}")).collect::<Vec<_>>());
    let rejected = app
        .admin("PUT", "/api/v1/admin/settings", Some(settings))
        .await;
    assert_eq!(rejected.status, 400, "{}", rejected.json());
    assert_eq!(
        rejected.json()["error"]["field"],
        "cinema.now_playing_players",
        "{}",
        rejected.json()
    );

    let (device_id, _, _screen) = app.pair("Lobby").await;
    let too_long = app
        .admin(
            "PATCH",
            &format!("/api/v1/admin/devices/{device_id}"),
            Some(json!({ "overrides": { "cinema": { "now_playing_users": ["x".repeat(101)] } } })),
        )
        .await;
    assert_eq!(too_long.status, 400, "{}", too_long.json());
    assert!(
        too_long
            .json()
            .to_string()
            .contains("cinema.now_playing_users"),
        "{}",
        too_long.json()
    );
}
