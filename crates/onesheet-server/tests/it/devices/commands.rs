//! Commands: immediate delivery, the queue for offline devices, acks and the ack timeout.

use onesheet_domain::{CommandId, ServerMessage};

use super::*;

async fn command_states(app: &DeviceApp, device_id: &DeviceId) -> Vec<Value> {
    let listed = app
        .admin(
            "GET",
            &format!("/api/v1/admin/devices/{device_id}/commands"),
            None,
        )
        .await;
    assert_eq!(listed.status, 200);
    listed.json()["commands"].as_array().unwrap().clone()
}

/// Polls the device's newest command until it reaches `state`, for at most 5 s. Acks are
/// written in batches, so a pong does not prove the ack is stored yet.
async fn wait_for_state(app: &DeviceApp, device_id: &DeviceId, state: &str) -> Value {
    let mut newest = Value::Null;
    for _ in 0..100 {
        newest = command_states(app, device_id).await[0].clone();
        if newest["state"] == state {
            return newest;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the command never reached {state}: {newest}");
}

async fn send_next(app: &DeviceApp, device_id: &DeviceId) -> Value {
    let sent = app
        .admin(
            "POST",
            &format!("/api/v1/admin/devices/{device_id}/commands"),
            Some(json!({ "command": { "type": "next" } })),
        )
        .await;
    assert_eq!(sent.status, 201, "{}", String::from_utf8_lossy(&sent.body));
    sent.json()["command"].clone()
}

#[tokio::test]
async fn queued_command_arrives_after_reconnect() {
    let app = DeviceApp::start().await;
    let (device_id, secret, screen) = app.pair("Lobby").await;
    drop(screen);
    assert!(
        app.wait_for(Duration::from_secs(2), || !app.service.is_live(&device_id))
            .await
    );

    let queued = send_next(&app, &device_id).await;
    assert_eq!(queued["state"], "queued");

    let mut screen = app.reconnect(&device_id, &secret).await;
    let ServerMessage::Command { id, command } = screen.next().await else {
        panic!("expected the queued command");
    };
    assert_eq!(id.0, queued["id"].as_i64().unwrap());
    assert_eq!(command, onesheet_domain::Command::Next);

    screen.send(&ClientMessage::ack_ok(id)).await;
    wait_for_state(&app, &device_id, "acked").await;
}

#[tokio::test]
async fn failed_ack_keeps_the_error() {
    let app = DeviceApp::start().await;
    let (device_id, _, mut screen) = app.pair("Lobby").await;

    let sent = send_next(&app, &device_id).await;
    let ServerMessage::Command { id, .. } = screen.next().await else {
        panic!("expected a command");
    };
    assert_eq!(id, CommandId(sent["id"].as_i64().unwrap()));
    screen
        .send(&ClientMessage::ack_failed(id, "no next item"))
        .await;

    let command = wait_for_state(&app, &device_id, "failed").await;
    assert_eq!(command["error"], "no next item");
}

#[tokio::test]
async fn unacknowledged_command_fails_after_timeout() {
    let app = DeviceApp::start().await;
    let (device_id, _, mut screen) = app.pair("Lobby").await;

    send_next(&app, &device_id).await;
    assert!(matches!(screen.next().await, ServerMessage::Command { .. }));

    // The ack timeout is 300 ms in tests, and the background task checks every 100 ms.
    let command = wait_for_state(&app, &device_id, "failed").await;
    assert_eq!(command["error"], "no acknowledgement");
}

#[tokio::test]
async fn command_to_many_and_to_group() {
    // The screens here never ack, and a loaded machine can take longer than the usual 300 ms
    // between sending and reading back a command, which would fail it.
    let config = DeviceConfig {
        ack_timeout: Duration::from_secs(60),
        ..test_config()
    };
    let app = DeviceApp::with_config(config).await;
    let (first, _, mut first_screen) = app.pair("One").await;
    let (second, _, mut second_screen) = app.pair("Two").await;

    let many = app
        .admin(
            "POST",
            "/api/v1/admin/devices/commands",
            Some(json!({
                "device_ids": [first.as_str(), second.as_str(), "unknown-device"],
                "command": { "type": "identify" },
            })),
        )
        .await;
    assert_eq!(many.status, 200);
    let results = many.json()["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["command"]["state"], "delivered");
    assert!(results[2]["error"].as_str().unwrap().contains("not found"));
    assert!(matches!(
        first_screen.next().await,
        ServerMessage::Command { .. }
    ));
    assert!(matches!(
        second_screen.next().await,
        ServerMessage::Command { .. }
    ));
    let stored = app
        .admin(
            "GET",
            &format!("/api/v1/admin/devices/{first}/commands"),
            None,
        )
        .await;
    assert_eq!(
        stored.json()["commands"][0]["state"],
        "delivered",
        "{}",
        stored.json()
    );

    let group = app
        .admin(
            "POST",
            "/api/v1/admin/groups",
            Some(json!({ "name": "Bar", "mode": "distinct" })),
        )
        .await;
    assert_eq!(group.status, 201);
    let group_id = group.json()["id"].as_i64().unwrap();
    let assigned = app
        .admin(
            "PATCH",
            &format!("/api/v1/admin/devices/{second}"),
            Some(json!({ "group_id": group_id })),
        )
        .await;
    assert_eq!(assigned.status, 200);
    // The assignment pushes settings to the live screen.
    let pushed = second_screen.next().await;
    assert!(
        matches!(pushed, ServerMessage::Settings { .. }),
        "{pushed:?}"
    );

    let to_group = app
        .admin(
            "POST",
            &format!("/api/v1/admin/groups/{group_id}/commands"),
            Some(json!({ "command": { "type": "reload" } })),
        )
        .await;
    assert_eq!(to_group.status, 200);
    let results = to_group.json()["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["device_id"], second.as_str());
    let ServerMessage::Command { command, .. } = second_screen.next().await else {
        panic!("expected the group's command");
    };
    assert_eq!(command, onesheet_domain::Command::Reload);
}

#[tokio::test]
async fn full_queue_is_reported() {
    let config = DeviceConfig {
        max_pending_commands: 2,
        ..test_config()
    };
    let app = DeviceApp::with_config(config).await;
    let (device_id, _, screen) = app.pair("Lobby").await;
    drop(screen);
    assert!(
        app.wait_for(Duration::from_secs(2), || !app.service.is_live(&device_id))
            .await
    );

    send_next(&app, &device_id).await;
    send_next(&app, &device_id).await;
    let third = app
        .admin(
            "POST",
            &format!("/api/v1/admin/devices/{device_id}/commands"),
            Some(json!({ "command": { "type": "next" } })),
        )
        .await;
    assert_eq!(third.status, 409);
    assert_eq!(third.json()["error"]["code"], "command-queue-full");
}

#[tokio::test]
async fn command_to_all_reaches_active_devices() {
    let app = DeviceApp::start().await;
    let (live, _, mut live_screen) = app.pair("Live").await;
    let (offline, _, offline_screen) = app.pair("Offline").await;
    let (revoked, _, _revoked_screen) = app.pair("Revoked").await;
    drop(offline_screen);
    assert!(
        app.wait_for(Duration::from_secs(2), || !app.service.is_live(&offline))
            .await
    );
    let revoke = app
        .admin(
            "POST",
            &format!("/api/v1/admin/devices/{revoked}/revoke"),
            None,
        )
        .await;
    assert_eq!(
        revoke.status,
        200,
        "{}",
        String::from_utf8_lossy(&revoke.body)
    );

    let sent = app
        .admin(
            "POST",
            "/api/v1/admin/devices/commands/all",
            Some(json!({ "command": { "type": "reload" } })),
        )
        .await;
    assert_eq!(sent.status, 200);
    let results = sent.json()["results"].as_array().unwrap().clone();
    let state_of = |device: &DeviceId| {
        results
            .iter()
            .find(|result| result["device_id"] == device.as_str())
            .map(|result| result["command"]["state"].clone())
    };
    assert_eq!(results.len(), 2, "{results:?}");
    assert_eq!(state_of(&live), Some(json!("delivered")));
    assert_eq!(state_of(&offline), Some(json!("queued")));
    assert_eq!(state_of(&revoked), None);

    let ServerMessage::Command { command, .. } = live_screen.next().await else {
        panic!("expected the fleet's command");
    };
    assert_eq!(command, onesheet_domain::Command::Reload);
}
