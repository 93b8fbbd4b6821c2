//! The long-poll fallback: commands by `GET`, acks and status by `POST`.

use super::*;

fn poll_request(method: &str, credential: &str, body: Option<Value>) -> Request<Body> {
    let builder = Request::builder()
        .method(method)
        .uri("/api/v1/devices/poll")
        .header("x-onesheet-device", credential);
    match body {
        Some(json) => builder
            .header("content-type", "application/json")
            .body(Body::from(json.to_string()))
            .unwrap(),
        None => builder.body(Body::empty()).unwrap(),
    }
}

#[tokio::test]
async fn poll_delivers_command_and_takes_ack() {
    let app = Arc::new(DeviceApp::start().await);
    let (device_id, secret, screen) = app.pair("Behind a proxy").await;
    drop(screen);
    assert!(
        app.wait_for(Duration::from_secs(2), || !app.service.is_live(&device_id))
            .await
    );
    let credential = format!("{device_id}:{}", secret.expose());

    let polling = {
        let app = app.clone();
        let credential = credential.clone();
        tokio::spawn(async move { app.app.send(poll_request("GET", &credential, None)).await })
    };
    let sent = app
        .admin(
            "POST",
            &format!("/api/v1/admin/devices/{device_id}/commands"),
            Some(json!({ "command": { "type": "pause" } })),
        )
        .await;
    assert_eq!(sent.status, 201);

    let polled = tokio::time::timeout(Duration::from_secs(5), polling)
        .await
        .expect("the poll did not return after a command was queued")
        .unwrap();
    assert_eq!(polled.status, 200);
    let messages = polled.json()["messages"].as_array().unwrap().clone();
    assert_eq!(messages[0]["type"], "settings");
    let command = messages
        .iter()
        .find(|message| message["type"] == "command")
        .expect("no command in the poll");
    assert_eq!(command["command"]["type"], "pause");

    let detail = app
        .admin("GET", &format!("/api/v1/admin/devices/{device_id}"), None)
        .await;
    assert_eq!(detail.json()["device"]["transport"], "long-poll");
    assert_eq!(detail.json()["device"]["presence"], "online");

    let ack = json!({ "messages": [
        { "type": "ack", "id": command["id"], "ok": true },
        { "type": "dance" },
    ] });
    let reported = app
        .app
        .send(poll_request("POST", &credential, Some(ack)))
        .await;
    assert_eq!(reported.status, 200);
    let errors = reported.json()["errors"].as_array().unwrap().clone();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].as_str().unwrap().contains("dance"), "{errors:?}");

    let commands = app
        .admin(
            "GET",
            &format!("/api/v1/admin/devices/{device_id}/commands"),
            None,
        )
        .await;
    assert_eq!(commands.json()["commands"][0]["state"], "acked");
}

#[tokio::test]
async fn poll_needs_device_credential() {
    let app = DeviceApp::start().await;
    let missing = app
        .app
        .send(
            Request::get("/api/v1/devices/poll")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(missing.status, 401);

    let wrong = format!("{}:{}", "unknown-device", "ef".repeat(32));
    let rejected = app.app.send(poll_request("GET", &wrong, None)).await;
    assert_eq!(rejected.status, 401);
    assert_eq!(rejected.json()["error"]["code"], "invalid-credentials");
}

#[tokio::test]
async fn settings_change_wakes_waiting_poll() {
    let app = Arc::new(DeviceApp::start().await);
    let (device_id, secret, screen) = app.pair("Behind a proxy").await;
    drop(screen);
    assert!(
        app.wait_for(Duration::from_secs(2), || !app.service.is_live(&device_id))
            .await
    );
    let credential = format!("{device_id}:{}", secret.expose());

    // A report registers the device as polling, so a later change wakes its poll even if the
    // poll starts after the change.
    let registered = app
        .app
        .send(poll_request(
            "POST",
            &credential,
            Some(json!({ "messages": [] })),
        ))
        .await;
    assert_eq!(registered.status, 200);
    let first = {
        let app = app.clone();
        let credential = credential.clone();
        tokio::spawn(async move { app.app.send(poll_request("GET", &credential, None)).await })
    };
    let changed = app
        .admin(
            "PATCH",
            &format!("/api/v1/admin/devices/{device_id}"),
            Some(json!({ "overrides": { "screensaver": { "interval_seconds": 42 } } })),
        )
        .await;
    assert_eq!(changed.status, 200);

    let polled = tokio::time::timeout(Duration::from_secs(2), first)
        .await
        .expect("the poll did not return after the settings changed")
        .unwrap();
    let messages = polled.json()["messages"].as_array().unwrap().clone();
    assert_eq!(messages[0]["type"], "settings");
    assert_eq!(
        messages[0]["settings"]["screensaver"]["interval_seconds"],
        42
    );
}

#[tokio::test]
async fn first_poll_returns_welcome_at_once() {
    let app = Arc::new(DeviceApp::start().await);
    let (device_id, secret, screen) = app.pair("Attic").await;
    drop(screen);
    assert!(
        app.wait_for(Duration::from_secs(2), || !app.service.is_live(&device_id))
            .await
    );
    let credential = format!("{device_id}:{}", secret.expose());
    let welcome_poll = || {
        Request::get("/api/v1/devices/poll?welcome=true")
            .header("x-onesheet-device", credential.as_str())
            .body(Body::empty())
            .unwrap()
    };

    // With nothing queued, a plain poll would wait 25 s.
    let polled = tokio::time::timeout(Duration::from_secs(5), app.app.send(welcome_poll()))
        .await
        .expect("the welcome poll waited instead of returning at once");
    assert_eq!(polled.status, 200);
    let messages = polled.json()["messages"].as_array().unwrap().clone();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let welcome = &messages[0];
    assert_eq!(welcome["type"], "welcome");
    assert_eq!(welcome["device_id"], device_id.as_str());
    assert_eq!(welcome["name"], "Attic");
    assert!(welcome["settings"]["screensaver"].is_object(), "{welcome}");
    let server_time_ms = welcome["server_time_ms"].as_i64().unwrap();
    assert!(
        (server_time_ms - unix_now() * 1000).abs() < 60_000,
        "{server_time_ms}"
    );

    // A rename reaches the next welcome, and queued commands follow it.
    let renamed = app
        .admin(
            "PATCH",
            &format!("/api/v1/admin/devices/{device_id}"),
            Some(json!({ "name": "Attic left" })),
        )
        .await;
    assert_eq!(renamed.status, 200);
    let sent = app
        .admin(
            "POST",
            &format!("/api/v1/admin/devices/{device_id}/commands"),
            Some(json!({ "command": { "type": "identify" } })),
        )
        .await;
    assert_eq!(sent.status, 201);
    let polled = app.app.send(welcome_poll()).await;
    let messages = polled.json()["messages"].as_array().unwrap().clone();
    assert_eq!(messages[0]["type"], "welcome");
    assert_eq!(messages[0]["name"], "Attic left");
    assert_eq!(messages[1]["type"], "command", "{messages:?}");
    assert_eq!(messages[1]["command"]["type"], "identify");
}

#[tokio::test]
async fn poll_rejects_unknown_query() {
    let app = DeviceApp::start().await;
    let (device_id, secret, _screen) = app.pair("Attic").await;
    let response = app
        .app
        .send(
            Request::get("/api/v1/devices/poll?welcome=maybe")
                .header(
                    "x-onesheet-device",
                    format!("{device_id}:{}", secret.expose()),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, 400);
    assert_eq!(response.json()["error"]["field"], "query");
}
