//! The admin API of devices, profiles and groups: settings push, validation, listing, merge,
//! deletion and the protected-route list.

use axum::http::Method;

use super::*;

#[tokio::test]
async fn profile_change_reaches_online_member() {
    let app = DeviceApp::start().await;
    let created = app
        .admin(
            "POST",
            "/api/v1/admin/profiles",
            Some(json!({ "name": "Family", "overrides": { "screensaver": { "interval_seconds": 20 } } })),
        )
        .await;
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    let profile_id = created.json()["id"].as_i64().unwrap();

    let (device_id, secret, screen) = app.pair("Lobby").await;
    drop(screen);
    let assigned = app
        .admin(
            "PATCH",
            &format!("/api/v1/admin/devices/{device_id}"),
            Some(json!({ "profile_id": profile_id })),
        )
        .await;
    assert_eq!(assigned.status, 200);

    let mut screen = app.connect().await;
    screen.send(&device_hello(&device_id, &secret)).await;
    let ServerMessage::Welcome { settings, .. } = screen.next().await else {
        panic!("expected welcome");
    };
    assert_eq!(settings.screensaver.interval_seconds, 20);

    let changed = app
        .admin(
            "PATCH",
            &format!("/api/v1/admin/profiles/{profile_id}"),
            Some(json!({ "overrides": { "screensaver": { "interval_seconds": 45 } } })),
        )
        .await;
    assert_eq!(changed.status, 200);
    let pushed = tokio::time::timeout(Duration::from_secs(1), screen.next())
        .await
        .expect("no settings within 1 s");
    let ServerMessage::Settings { settings } = pushed else {
        panic!("expected settings, got {pushed:?}");
    };
    assert_eq!(settings.screensaver.interval_seconds, 45);
}

#[tokio::test]
async fn global_settings_change_reaches_live_devices() {
    let app = DeviceApp::start().await;
    let (_, _, mut screen) = app.pair("Lobby").await;
    let mut changed = serde_json::to_value(onesheet_domain::DisplaySettings::default()).unwrap();
    changed["screensaver"]["interval_seconds"] = json!(33);

    let saved = app
        .admin("PUT", "/api/v1/admin/settings", Some(changed))
        .await;
    let pushed = tokio::time::timeout(Duration::from_secs(1), screen.next())
        .await
        .expect("no settings within 1 s");
    let current = app.admin("GET", "/api/v1/admin/settings", None).await;

    assert_eq!(saved.status, 200);
    assert_eq!(saved.json()["version"], 1);
    assert_eq!(
        saved.json()["changed"],
        json!(["screensaver.interval_seconds"])
    );
    assert_eq!(saved.json()["screens_updated"], 1);
    let ServerMessage::Settings { settings } = pushed else {
        panic!("expected settings, got {pushed:?}");
    };
    assert_eq!(settings.screensaver.interval_seconds, 33);
    assert_eq!(
        current.json()["settings"]["screensaver"]["interval_seconds"],
        33
    );
}

#[tokio::test]
async fn invalid_global_settings_keep_the_old_ones() {
    let app = DeviceApp::start().await;
    let mut out_of_range =
        serde_json::to_value(onesheet_domain::DisplaySettings::default()).unwrap();
    out_of_range["screensaver"]["interval_seconds"] = json!(1);
    let unknown = json!({ "screensaver": { "intervall_seconds": 20 } });

    let rejected = app
        .admin("PUT", "/api/v1/admin/settings", Some(out_of_range))
        .await;
    let misspelt = app
        .admin("PUT", "/api/v1/admin/settings", Some(unknown))
        .await;
    let current = app.admin("GET", "/api/v1/admin/settings", None).await;

    assert_eq!(rejected.status, 400);
    assert_eq!(
        rejected.json()["error"]["fields"][0]["field"],
        "screensaver.interval_seconds"
    );
    assert_eq!(misspelt.status, 400);
    assert!(
        misspelt.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("intervall_seconds"),
        "{}",
        misspelt.json()
    );
    assert_eq!(current.json()["version"], 0);
    assert_eq!(
        current.json()["settings"]["screensaver"]["interval_seconds"],
        10
    );
}

#[tokio::test]
async fn invalid_overrides_name_their_fields() {
    let app = DeviceApp::start().await;
    let unknown = app
        .admin(
            "POST",
            "/api/v1/admin/profiles",
            Some(json!({ "name": "Typo", "overrides": { "screensaver": { "intervall_seconds": 20 } } })),
        )
        .await;
    assert_eq!(unknown.status, 400);
    assert_eq!(
        unknown.json()["error"]["field"],
        "screensaver.intervall_seconds"
    );

    let (device_id, _, _screen) = app.pair("Lobby").await;
    let out_of_range = app
        .admin(
            "PATCH",
            &format!("/api/v1/admin/devices/{device_id}"),
            Some(json!({ "overrides": { "screensaver": { "interval_seconds": 1 } } })),
        )
        .await;
    assert_eq!(out_of_range.status, 400);
    let fields: Vec<String> = out_of_range.json()["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|field| field["field"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        fields.contains(&"screensaver.interval_seconds".to_owned()),
        "{fields:?}"
    );
}

#[tokio::test]
async fn list_filters_by_status_and_text() {
    let app = DeviceApp::start().await;
    let (live_id, _, _live) = app.pair("Lobby screen").await;
    let (gone_id, _, gone) = app.pair("Bar screen").await;
    drop(gone);
    assert!(
        app.wait_for(Duration::from_secs(2), || !app.service.is_live(&gone_id))
            .await
    );

    let all = app.admin("GET", "/api/v1/admin/devices", None).await;
    assert_eq!(all.json()["devices"].as_array().unwrap().len(), 2);

    let live = app
        .admin("GET", "/api/v1/admin/devices?status=live", None)
        .await;
    let live = live.json()["devices"].as_array().unwrap().clone();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0]["id"], live_id.as_str());

    let text = app.admin("GET", "/api/v1/admin/devices?q=bar", None).await;
    let text = text.json()["devices"].as_array().unwrap().clone();
    assert_eq!(text.len(), 1);
    assert_eq!(text[0]["id"], gone_id.as_str());

    let bad = app
        .admin("GET", "/api/v1/admin/devices?status=asleep", None)
        .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn merge_retires_record_and_closes_its_socket() {
    let app = DeviceApp::start().await;
    let (survivor, _, _survivor_screen) = app.pair("New record").await;
    let (retired, retired_secret, mut retired_screen) = app.pair("Lobby").await;

    let merged = app
        .admin(
            "POST",
            "/api/v1/admin/devices/merge",
            Some(json!({ "survivor": survivor.as_str(), "retired": retired.as_str() })),
        )
        .await;
    assert_eq!(
        merged.status,
        200,
        "{}",
        String::from_utf8_lossy(&merged.body)
    );
    assert_eq!(merged.json()["device"]["name"], "Lobby");
    assert!(matches!(
        retired_screen.next().await,
        ServerMessage::Revoked
    ));

    let mut again = app.connect().await;
    again.send(&device_hello(&retired, &retired_secret)).await;
    assert!(matches!(again.next().await, ServerMessage::Revoked));

    let same = app
        .admin(
            "POST",
            "/api/v1/admin/devices/merge",
            Some(json!({ "survivor": survivor.as_str(), "retired": survivor.as_str() })),
        )
        .await;
    assert_eq!(same.status, 400);
}

#[tokio::test]
async fn delete_closes_socket_and_removes_record() {
    let app = DeviceApp::start().await;
    let (device_id, _, mut screen) = app.pair("Lobby").await;

    let deleted = app
        .admin(
            "DELETE",
            &format!("/api/v1/admin/devices/{device_id}"),
            None,
        )
        .await;
    assert_eq!(deleted.status, 204);
    assert!(matches!(screen.next().await, ServerMessage::Revoked));

    let detail = app
        .admin("GET", &format!("/api/v1/admin/devices/{device_id}"), None)
        .await;
    assert_eq!(detail.status, 404);
    assert_eq!(detail.json()["error"]["code"], "device-not-found");
}

#[tokio::test]
async fn group_crud_round_trips() {
    let app = DeviceApp::start().await;
    let created = app
        .admin(
            "POST",
            "/api/v1/admin/groups",
            Some(json!({ "name": "Wall", "mode": "synchronised" })),
        )
        .await;
    assert_eq!(created.status, 201);
    let id = created.json()["id"].as_i64().unwrap();

    let duplicate = app
        .admin(
            "POST",
            "/api/v1/admin/groups",
            Some(json!({ "name": "wall" })),
        )
        .await;
    assert_eq!(duplicate.status, 409);

    let renamed = app
        .admin(
            "PATCH",
            &format!("/api/v1/admin/groups/{id}"),
            Some(json!({ "name": "Back wall", "mode": "independent" })),
        )
        .await;
    assert_eq!(renamed.status, 200);
    assert_eq!(renamed.json()["mode"], "independent");

    let listed = app.admin("GET", "/api/v1/admin/groups", None).await;
    assert_eq!(listed.json()["groups"][0]["name"], "Back wall");

    let deleted = app
        .admin("DELETE", &format!("/api/v1/admin/groups/{id}"), None)
        .await;
    assert_eq!(deleted.status, 204);
    let missing = app
        .admin("GET", &format!("/api/v1/admin/groups/{id}"), None)
        .await;
    assert_eq!(missing.status, 404);
}

#[test]
fn protected_route_list_covers_device_routes() {
    let routes = onesheet_server::protected_routes();
    let expected = [
        ("/api/v1/admin/devices", Method::GET),
        ("/api/v1/admin/devices/claim", Method::POST),
        ("/api/v1/admin/devices/merge", Method::POST),
        ("/api/v1/admin/devices/commands", Method::POST),
        ("/api/v1/admin/devices/{id}", Method::GET),
        ("/api/v1/admin/devices/{id}", Method::PATCH),
        ("/api/v1/admin/devices/{id}", Method::DELETE),
        ("/api/v1/admin/devices/{id}/revoke", Method::POST),
        ("/api/v1/admin/devices/{id}/commands", Method::GET),
        ("/api/v1/admin/devices/{id}/commands", Method::POST),
        ("/api/v1/admin/profiles", Method::GET),
        ("/api/v1/admin/profiles", Method::POST),
        ("/api/v1/admin/profiles/{id}", Method::GET),
        ("/api/v1/admin/profiles/{id}", Method::PATCH),
        ("/api/v1/admin/profiles/{id}", Method::DELETE),
        ("/api/v1/admin/groups", Method::GET),
        ("/api/v1/admin/groups", Method::POST),
        ("/api/v1/admin/groups/{id}", Method::GET),
        ("/api/v1/admin/groups/{id}", Method::PATCH),
        ("/api/v1/admin/groups/{id}", Method::DELETE),
        ("/api/v1/admin/groups/{id}/commands", Method::POST),
    ];
    for (path, method) in expected {
        assert!(
            routes
                .iter()
                .any(|(listed, listed_method)| *listed == path && *listed_method == method),
            "{method} {path} missing from protected_routes()"
        );
    }
}

#[tokio::test]
async fn device_routes_need_admin_credentials() {
    let app = DeviceApp::start().await;
    for (path, method) in onesheet_server::protected_routes() {
        if !path.contains("/devices") && !path.contains("/profiles") && !path.contains("/groups") {
            continue;
        }
        let request = Request::builder()
            .method(method.clone())
            .uri(path.replace("{id}", "1"))
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .unwrap();
        let response = app.app.send(request).await;
        assert_eq!(response.status, 401, "{method} {path}");
    }
}

#[tokio::test]
async fn frozen_screen_gets_reload_when_enabled() {
    let config = DeviceConfig {
        auto_recover_frozen: true,
        ..test_config()
    };
    let app = DeviceApp::with_config(config).await;
    let (device_id, _, mut screen) = app.pair("Lobby").await;
    let status = json!({
        "type": "status",
        "current_item_id": app.app.first_item_id(),
        "mode": "screensaver",
        "paused": false,
        "resolution": { "width": 1920, "height": 1080 },
        "version": "0.1.0",
        "uptime_seconds": 1,
    });
    screen.send_text(&status.to_string()).await;
    screen
        .send(&ClientMessage::Ping { client_time_ms: 1 })
        .await;
    assert!(matches!(screen.next().await, ServerMessage::Pong { .. }));

    // Three default intervals pass on the service's clock without a new item.
    let interval = i64::from(
        onesheet_domain::DisplaySettings::default()
            .screensaver
            .interval_seconds,
    );
    app.advance_clock(3 * interval);

    let ServerMessage::Command { command, .. } = screen.next().await else {
        panic!("expected a reload command");
    };
    assert_eq!(command, onesheet_domain::Command::Reload);
    let detail = app
        .admin("GET", &format!("/api/v1/admin/devices/{device_id}"), None)
        .await;
    assert_eq!(detail.json()["device"]["frozen"], true);
}

#[tokio::test]
async fn same_address_and_agent_flag_duplicates() {
    let config = DeviceConfig {
        auto_admit: vec!["127.0.0.0/8".parse().unwrap()],
        ..test_config()
    };
    let app = DeviceApp::with_config(config).await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let mut screen = app.connect().await;
        screen
            .send(&hello(HelloAuth::Pairing { resume: None }))
            .await;
        let ServerMessage::Paired { device_id, .. } = screen.next().await else {
            panic!("expected paired");
        };
        ids.push(device_id);
    }

    let detail = app
        .admin("GET", &format!("/api/v1/admin/devices/{}", ids[1]), None)
        .await;
    assert_eq!(detail.json()["possible_duplicate"], true);
    assert_eq!(detail.json()["possible_duplicates"][0], ids[0].as_str());
}
