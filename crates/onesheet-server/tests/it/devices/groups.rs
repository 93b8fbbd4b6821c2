//! Distinct groups: the members share out the playlist, so no item shows on two of them.

use std::collections::HashSet;

use super::*;

/// Returns the item ids of the playlist that the device with this credential receives.
async fn playlist_ids(app: &DeviceApp, credential: Option<String>) -> Vec<String> {
    let mut request = Request::get("/api/v1/playlist?limit=500");
    if let Some(credential) = credential {
        request = request.header("x-onesheet-device", credential);
    }
    let page = app
        .app
        .send(request.body(Body::empty()).unwrap())
        .await
        .json();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn distinct_group_shares_out_the_playlist() {
    let app = DeviceApp::with_posters(test_config(), 10).await;
    let group = app
        .admin(
            "POST",
            "/api/v1/admin/groups",
            Some(json!({ "name": "Lobby wall", "mode": "distinct" })),
        )
        .await;
    let group_id = group.json()["id"].as_i64().unwrap();
    let mut credentials = Vec::new();
    let mut _screens = Vec::new();
    for name in ["Left", "Middle", "Right"] {
        let (device_id, secret, screen) = app.pair(name).await;
        let assigned = app
            .admin(
                "PATCH",
                &format!("/api/v1/admin/devices/{device_id}"),
                Some(json!({ "group_id": group_id })),
            )
            .await;
        assert_eq!(assigned.status, 200, "{}", assigned.json());
        credentials.push(format!("{device_id}:{}", secret.expose()));
        _screens.push(screen);
    }

    let mut seen = HashSet::new();
    for credential in &credentials {
        let share = playlist_ids(&app, Some(credential.clone())).await;
        assert!(share.len() >= 3, "{share:?}");
        for id in share {
            assert!(seen.insert(id.clone()), "{id} is in two shares");
        }
    }
    let whole = playlist_ids(&app, None).await;

    assert_eq!(seen.len(), 10);
    assert_eq!(whole.len(), 10);
}

#[tokio::test]
async fn independent_group_shows_the_whole_playlist() {
    let app = DeviceApp::with_posters(test_config(), 6).await;
    let group = app
        .admin(
            "POST",
            "/api/v1/admin/groups",
            Some(json!({ "name": "Hall", "mode": "independent" })),
        )
        .await;
    let group_id = group.json()["id"].as_i64().unwrap();
    let (device_id, secret, _screen) = app.pair("Hall").await;
    app.admin(
        "PATCH",
        &format!("/api/v1/admin/devices/{device_id}"),
        Some(json!({ "group_id": group_id })),
    )
    .await;

    let share = playlist_ids(&app, Some(format!("{device_id}:{}", secret.expose()))).await;

    assert_eq!(share.len(), 6);
}
