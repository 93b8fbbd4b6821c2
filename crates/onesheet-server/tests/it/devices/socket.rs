//! One live socket per device, heartbeats, frame limits and the message rate.

use onesheet_domain::ServerMessage;

use super::*;

#[tokio::test]
async fn new_socket_replaces_old_one() {
    let app = DeviceApp::start().await;
    let (device_id, secret, mut old) = app.pair("Lobby").await;

    let mut new = app.reconnect(&device_id, &secret).await;
    expect_error(&old.next().await, "replaced");
    old.expect_closed().await;

    // The old socket's cleanup ran after the new one registered, and must have left it alone.
    assert!(app.service.is_live(&device_id));
    let sent = app
        .admin(
            "POST",
            &format!("/api/v1/admin/devices/{device_id}/commands"),
            Some(json!({ "command": { "type": "next" } })),
        )
        .await;
    assert_eq!(sent.status, 201);
    assert_eq!(sent.json()["command"]["state"], "delivered");
    assert!(matches!(new.next().await, ServerMessage::Command { .. }));
}

#[tokio::test]
async fn replacements_in_a_burst_leave_one_live_socket() {
    let app = DeviceApp::start().await;
    let (device_id, secret, first) = app.pair("Lobby").await;
    drop(first);

    let mut screens = Vec::new();
    for _ in 0..5 {
        screens.push(app.reconnect(&device_id, &secret).await);
    }
    let mut last = screens.pop().unwrap();
    for mut replaced in screens {
        replaced.expect_closed().await;
    }
    assert!(app.service.is_live(&device_id));
    last.send(&ClientMessage::Ping { client_time_ms: 9 }).await;
    assert!(matches!(
        last.next().await,
        ServerMessage::Pong {
            client_time_ms: 9,
            ..
        }
    ));
}

#[tokio::test]
async fn malformed_and_unknown_frames_keep_connection() {
    let app = DeviceApp::start().await;
    let (_, _, mut screen) = app.pair("Lobby").await;

    screen.send_text("{not json").await;
    expect_error(&screen.next().await, "malformed-message");

    screen.send_text(r#"{"type": "dance"}"#).await;
    let message = expect_error(&screen.next().await, "unknown-type");
    assert!(message.contains("dance"), "{message}");

    screen.send_text(r#"{"type": "ack", "id": "x"}"#).await;
    expect_error(&screen.next().await, "invalid-message");

    screen
        .send(&ClientMessage::Ping { client_time_ms: 3 })
        .await;
    assert!(matches!(
        screen.next().await,
        ServerMessage::Pong {
            client_time_ms: 3,
            ..
        }
    ));
}

#[tokio::test]
async fn oversized_frame_closes_socket_and_server_lives() {
    let app = DeviceApp::start().await;
    let (device_id, secret, mut screen) = app.pair("Lobby").await;

    let huge = format!(
        r#"{{"type": "ping", "pad": "{}"}}"#,
        "x".repeat(MAX_MESSAGE_BYTES)
    );
    // The server may close while the client still writes, so the send may fail.
    let _ = screen.socket.send(Message::text(huge)).await;
    while let Some(message) = screen.try_next().await {
        expect_error(&message, "message-too-large");
    }

    app.reconnect(&device_id, &secret).await;
}

#[tokio::test]
async fn message_flood_is_rate_limited_then_closed() {
    let app = DeviceApp::start().await;
    let (_, _, mut screen) = app.pair("Lobby").await;

    for index in 0..200 {
        let ping = ClientMessage::Ping {
            client_time_ms: index,
        };
        if screen
            .socket
            .send(Message::text(serde_json::to_string(&ping).unwrap()))
            .await
            .is_err()
        {
            break;
        }
    }

    let mut pongs = 0;
    let mut rate_limited = 0;
    while let Some(message) = screen.try_next().await {
        match message {
            ServerMessage::Pong { .. } => pongs += 1,
            ServerMessage::Error { .. } => {
                expect_error(&message, "rate-limited");
                rate_limited += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!((20..100).contains(&pongs), "{pongs} pongs");
    assert!(rate_limited >= 1, "no rate-limited error");
}

#[tokio::test]
async fn half_open_client_is_dropped() {
    let config = DeviceConfig {
        ping_interval: Duration::from_millis(150),
        pong_timeout: Duration::from_millis(100),
        ..test_config()
    };
    let app = DeviceApp::with_config(config).await;
    let (device_id, _, screen) = app.pair("Lobby").await;

    // A client that keeps reading replies to pings, so the socket stays over several intervals.
    let (_, _, mut answering) = app.pair("Answering").await;
    let reader = tokio::spawn(async move { while answering.try_next().await.is_some() {} });

    // `screen` is never read again, so no pong goes back: a half-open connection.
    let dropped = app
        .wait_for(Duration::from_secs(3), || !app.service.is_live(&device_id))
        .await;
    assert!(
        dropped,
        "a client that stopped answering pings is still live"
    );
    drop(screen);
    reader.abort();
}

#[tokio::test]
async fn answering_client_stays_live() {
    let config = DeviceConfig {
        ping_interval: Duration::from_millis(100),
        pong_timeout: Duration::from_millis(100),
        ..test_config()
    };
    let app = DeviceApp::with_config(config).await;
    let (device_id, _, mut screen) = app.pair("Lobby").await;

    // The test client replies to pings by itself while it reads, here for ten intervals.
    let read = tokio::time::timeout(Duration::from_secs(1), async {
        while screen.try_next().await.is_some() {}
    })
    .await;
    assert!(
        read.is_err(),
        "the socket closed although pings were answered"
    );
    assert!(app.service.is_live(&device_id));
}

#[tokio::test]
async fn status_is_flushed_to_the_store() {
    let app = DeviceApp::start().await;
    let (device_id, _, mut screen) = app.pair("Lobby").await;
    let item = app.app.first_item_id();
    let status = json!({
        "type": "status",
        "current_item_id": item,
        "mode": "screensaver",
        "paused": false,
        "resolution": { "width": 1920, "height": 1080 },
        "version": "0.1.0",
        "uptime_seconds": 12,
    });
    screen.send_text(&status.to_string()).await;
    screen
        .send(&ClientMessage::Ping { client_time_ms: 1 })
        .await;
    screen.next().await;

    // The pong proves the status before it was handled; the flush writes it at once.
    app.service.flush_presence().await;
    let stored = app
        .app
        .state
        .store
        .get_device(&device_id)
        .await
        .unwrap()
        .and_then(|record| record.last_status)
        .expect("the status never reached the store");
    assert_eq!(stored.uptime_seconds, 12);

    let detail = app
        .admin("GET", &format!("/api/v1/admin/devices/{device_id}"), None)
        .await;
    assert_eq!(detail.json()["device"]["presence"], "live");
    assert_eq!(detail.json()["device"]["transport"], "websocket");
}
