//! Presets: listed for the admin, and laid over the global settings for a page opened with
//! `?preset=ID`.

use axum::body::Body;
use axum::http::Request;

use crate::devices::DeviceApp;
use crate::support::TestApp;

#[tokio::test]
async fn preset_parameter_merges_over_settings() {
    let app = TestApp::with_posters(1).await;
    let plain = app.get("/api/v1/display-settings").await;
    let preset = app.get("/api/v1/display-settings?preset=midnight").await;
    assert_eq!(preset.status, 200);

    let body = preset.json();
    assert_eq!(body["cinema"]["late_night_from_hour"], 20);
    assert_eq!(body["cinema"]["late_night_text"], "Midnight screening");
    assert_eq!(body["wallart"], plain.json()["wallart"]);
    assert_ne!(preset.header("etag"), plain.header("etag"));

    // The preset's own ETag revalidates, and the plain one does not match it.
    let again = app
        .send(
            Request::get("/api/v1/display-settings?preset=midnight")
                .header("if-none-match", preset.header("etag"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(again.status, 304);
    let other = app
        .send(
            Request::get("/api/v1/display-settings?preset=midnight")
                .header("if-none-match", plain.header("etag"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(other.status, 200);
}

#[tokio::test]
async fn unknown_preset_is_rejected() {
    let app = TestApp::with_posters(1).await;
    let unknown = app.get("/api/v1/display-settings?preset=lobbby").await;
    assert_eq!(unknown.status, 400);
    let error = &unknown.json()["error"];
    assert_eq!(error["field"], "preset");
    assert!(
        error["message"].as_str().unwrap().contains("lobby"),
        "{error}"
    );

    let extra = app.get("/api/v1/display-settings?present=lobby").await;
    assert_eq!(extra.status, 400);
}

#[tokio::test]
async fn admin_lists_presets() {
    let app = DeviceApp::start().await;
    let listed = app.admin("GET", "/api/v1/admin/presets", None).await;
    assert_eq!(listed.status, 200);
    let presets = listed.json()["presets"].as_array().unwrap().clone();
    assert!(presets.len() >= 6, "{presets:?}");

    let lobby = presets
        .iter()
        .find(|preset| preset["id"] == "lobby")
        .unwrap();
    assert_eq!(lobby["mode"], "cinema");
    assert_eq!(lobby["settings"]["cinema"]["header_text"], "Now showing");
    assert!(lobby["name"].as_str().is_some_and(|name| !name.is_empty()));
}

#[tokio::test]
async fn admin_serves_settings_schema() {
    let app = DeviceApp::start().await;
    let schema = app
        .admin("GET", "/api/v1/admin/settings/schema", None)
        .await;
    assert_eq!(schema.status, 200);
    assert_eq!(schema.header("content-type"), "application/schema+json");
    let body = schema.json();
    assert_eq!(
        body["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let cinema = &body["$defs"]["CinemaSettings"]["properties"]["interval_seconds"];
    assert_eq!(cinema["minimum"], 5, "{cinema}");
    assert_eq!(cinema["maximum"], 3600, "{cinema}");

    // The copy in the repository's docs is the one the server serves.
    let committed: serde_json::Value =
        serde_json::from_str(include_str!("../../../../docs/settings.schema.json")).unwrap();
    assert_eq!(
        committed, body,
        "docs/settings.schema.json is out of date: regenerate it from GET /api/v1/admin/settings/schema"
    );
}
