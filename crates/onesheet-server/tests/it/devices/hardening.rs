//! Abuse and edge cases of the device protocol: login blocks that spare valid screens, stale
//! credentials of removed devices, free acks, socket caps, foreign origins and request budgets.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use onesheet_domain::{CommandId, ServerMessage};
use tokio_tungstenite::tungstenite::http::HeaderValue;

use super::*;

/// A venue's address, seen by the router as the peer of each request.
const VENUE: &str = "198.51.100.7:40000";

fn credential(device_id: &DeviceId, secret: &DeviceSecret) -> String {
    format!("{device_id}:{}", secret.expose())
}

fn wrong_secret(device_id: &DeviceId) -> String {
    format!("{device_id}:{}", "cd".repeat(32))
}

/// Sends `request` as if it came from `peer`.
async fn send_from(app: &DeviceApp, mut request: Request<Body>, peer: &str) -> TestResponse {
    let peer: SocketAddr = peer.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    app.app.send(request).await
}

fn session_request(credential: &str) -> Request<Body> {
    Request::post("/api/v1/devices/session")
        .header("x-onesheet-device", credential)
        .body(Body::empty())
        .unwrap()
}

fn poll_request(headers: &[(&str, &str)]) -> Request<Body> {
    let mut request = Request::get("/api/v1/devices/poll?welcome=true");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(Body::empty()).unwrap()
}

/// Sends wrong secrets from `peer` until the address is blocked, and returns how many it took.
async fn block_address(app: &DeviceApp, device_id: &DeviceId, peer: &str) -> usize {
    for attempt in 1..=10 {
        let response = send_from(app, session_request(&wrong_secret(device_id)), peer).await;
        if response.status == 429 {
            return attempt;
        }
        assert_eq!(response.status, 401);
    }
    panic!("ten wrong secrets did not block {peer}");
}

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

async fn send_command(app: &DeviceApp, device_id: &DeviceId) -> Value {
    let sent = app
        .admin(
            "POST",
            &format!("/api/v1/admin/devices/{device_id}/commands"),
            Some(json!({ "command": { "type": "identify" } })),
        )
        .await;
    assert_eq!(sent.status, 201, "{}", String::from_utf8_lossy(&sent.body));
    sent.json()["command"].clone()
}

/// Polls `condition` every 50 ms for at most `limit`.
async fn eventually<F, Fut>(limit: Duration, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if condition().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    condition().await
}

#[tokio::test]
async fn blocked_address_admits_valid_credentials() {
    let app = DeviceApp::start().await;
    let (device_id, secret, screen) = app.pair("Bar").await;
    drop(screen);

    block_address(&app, &device_id, VENUE).await;
    let wrong = send_from(&app, session_request(&wrong_secret(&device_id)), VENUE).await;
    assert_eq!(wrong.status, 429);
    assert_eq!(wrong.json()["error"]["code"], "too-many-attempts");

    let valid = send_from(
        &app,
        session_request(&credential(&device_id, &secret)),
        VENUE,
    )
    .await;
    assert_eq!(
        valid.status,
        200,
        "{}",
        String::from_utf8_lossy(&valid.body)
    );
    let polled = send_from(
        &app,
        poll_request(&[("x-onesheet-device", &credential(&device_id, &secret))]),
        VENUE,
    )
    .await;
    assert_eq!(polled.status, 200);
}

#[tokio::test]
async fn blocked_loopback_admits_valid_hello() {
    let app = DeviceApp::start().await;
    let (device_id, secret, screen) = app.pair("Bar").await;
    drop(screen);

    // The sockets come from loopback, so the block is set up from there.
    block_address(&app, &device_id, "127.0.0.1:40000").await;
    let mut screen = app.reconnect(&device_id, &secret).await;
    screen
        .send(&ClientMessage::Ping { client_time_ms: 1 })
        .await;
    assert!(matches!(screen.next().await, ServerMessage::Pong { .. }));

    let mut wrong = app.connect().await;
    wrong
        .send(&device_hello(
            &device_id,
            &DeviceSecret::try_from("cd".repeat(32)).unwrap(),
        ))
        .await;
    expect_error(&wrong.next().await, "rate-limited");
}

#[tokio::test]
async fn revoked_cookie_is_free_and_cleared() {
    let app = DeviceApp::start().await;
    let (revoked_id, revoked_secret, screen) = app.pair("Old").await;
    let (other_id, _, _other_screen) = app.pair("Other").await;
    drop(screen);
    let revoked = app
        .admin(
            "POST",
            &format!("/api/v1/admin/devices/{revoked_id}/revoke"),
            None,
        )
        .await;
    assert_eq!(revoked.status, 200);

    let cookie = format!(
        "onesheet_device={}",
        credential(&revoked_id, &revoked_secret)
    );
    for _ in 0..10 {
        let page = app
            .app
            .get_from("/api/v1/playlist", VENUE, &[("cookie", &cookie)])
            .await;
        assert_ne!(page.status, 500);
        let polled = send_from(&app, poll_request(&[("cookie", &cookie)]), VENUE).await;
        assert_eq!(polled.status, 401);
        assert_eq!(polled.json()["error"]["code"], "device-revoked");
        assert_eq!(
            polled.header("set-cookie"),
            "onesheet_device=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
        );
    }

    // Twenty requests with the stale cookie left the address's five free failures untouched.
    assert_eq!(block_address(&app, &other_id, VENUE).await, 7);

    let mut socket = app.connect().await;
    socket
        .send(&device_hello(&revoked_id, &revoked_secret))
        .await;
    assert!(matches!(socket.next().await, ServerMessage::Revoked));
    socket.expect_closed().await;
}

#[tokio::test]
async fn upgrade_clears_a_revoked_cookie() {
    let app = DeviceApp::start().await;
    let (device_id, secret, screen) = app.pair("Old").await;
    drop(screen);
    let revoked = app
        .admin(
            "POST",
            &format!("/api/v1/admin/devices/{device_id}/revoke"),
            None,
        )
        .await;
    assert_eq!(revoked.status, 200);

    let url = format!("ws://{}/api/v1/devices/ws", app.address);
    let mut request = url.into_client_request().unwrap();
    let cookie = format!("onesheet_device={}", credential(&device_id, &secret));
    request
        .headers_mut()
        .insert("cookie", HeaderValue::from_str(&cookie).unwrap());
    let (_socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    let cleared = response
        .headers()
        .get("set-cookie")
        .expect("the upgrade did not clear the cookie");
    assert_eq!(
        cleared.to_str().unwrap(),
        "onesheet_device=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
    );
}

#[tokio::test]
async fn acks_pass_the_message_budget() {
    let app = DeviceApp::with_config(DeviceConfig {
        message_burst: 2,
        messages_per_second: 1,
        ack_timeout: Duration::from_secs(20),
        ..test_config()
    })
    .await;
    let (device_id, secret, screen) = app.pair("Lobby").await;
    drop(screen);
    assert!(
        app.wait_for(Duration::from_secs(2), || !app.service.is_live(&device_id))
            .await
    );
    for _ in 0..10 {
        send_command(&app, &device_id).await;
    }

    let mut screen = app.reconnect(&device_id, &secret).await;
    let mut ids = Vec::new();
    while ids.len() < 10 {
        match screen.next().await {
            ServerMessage::Command { id, .. } => ids.push(id),
            ServerMessage::Settings { .. } => {}
            other => panic!("expected a command, got {other:?}"),
        }
    }
    for id in &ids {
        screen.send(&ClientMessage::ack_ok(*id)).await;
    }

    let all_acked = eventually(Duration::from_secs(5), || async {
        let states = command_states(&app, &device_id).await;
        states.len() == 10 && states.iter().all(|command| command["state"] == "acked")
    })
    .await;
    assert!(all_acked, "{:?}", command_states(&app, &device_id).await);

    // An ack of a command that is finished, like any other message, still spends the budget.
    for _ in 0..3 {
        screen.send(&ClientMessage::ack_ok(ids[0])).await;
    }
    expect_error(&screen.next().await, "rate-limited");
}

#[tokio::test]
async fn sockets_capped_per_address_and_total() {
    let app = DeviceApp::with_config(DeviceConfig {
        max_sockets_per_address: 2,
        ..test_config()
    })
    .await;
    let url = format!("ws://{}/api/v1/devices/ws", app.address);

    let first = app.connect().await;
    let _second = app.connect().await;
    let Err(tokio_tungstenite::tungstenite::Error::Http(rejected)) =
        tokio_tungstenite::connect_async(url.as_str()).await
    else {
        panic!("a third socket from one address was accepted");
    };
    assert_eq!(rejected.status(), 429);
    assert!(rejected.headers().contains_key("retry-after"));
    let body = String::from_utf8_lossy(rejected.body().as_deref().unwrap_or_default());
    assert!(body.contains("device_max_sockets_per_address"), "{body}");

    drop(first);
    let freed = eventually(Duration::from_secs(5), || async {
        app.service.open_sockets() < 2
    })
    .await;
    assert!(freed, "the closed socket kept its slot");
    assert!(tokio_tungstenite::connect_async(url.as_str()).await.is_ok());

    let total = DeviceApp::with_config(DeviceConfig {
        max_sockets: 1,
        ..test_config()
    })
    .await;
    let _only = total.connect().await;
    let url = format!("ws://{}/api/v1/devices/ws", total.address);
    let Err(tokio_tungstenite::tungstenite::Error::Http(rejected)) =
        tokio_tungstenite::connect_async(url.as_str()).await
    else {
        panic!("a socket over the total cap was accepted");
    };
    assert_eq!(rejected.status(), 503);
    let body = String::from_utf8_lossy(rejected.body().as_deref().unwrap_or_default());
    assert!(body.contains("device_max_sockets"), "{body}");
}

#[tokio::test]
async fn merge_into_revoked_survivor_rejected() {
    let app = DeviceApp::start().await;
    let (survivor, _, survivor_screen) = app.pair("Old").await;
    let (retired, _, mut retired_screen) = app.pair("New").await;
    drop(survivor_screen);
    let revoked = app
        .admin(
            "POST",
            &format!("/api/v1/admin/devices/{survivor}/revoke"),
            None,
        )
        .await;
    assert_eq!(revoked.status, 200);

    let merged = app
        .admin(
            "POST",
            "/api/v1/admin/devices/merge",
            Some(json!({ "survivor": survivor, "retired": retired })),
        )
        .await;
    assert_eq!(
        merged.status,
        409,
        "{}",
        String::from_utf8_lossy(&merged.body)
    );
    assert_eq!(merged.json()["error"]["code"], "device-inactive");
    let message = merged.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains(survivor.as_str()), "{message}");

    assert!(app.service.is_live(&retired));
    retired_screen
        .send(&ClientMessage::Ping { client_time_ms: 3 })
        .await;
    assert!(matches!(
        retired_screen.next().await,
        ServerMessage::Pong { .. }
    ));
}

#[tokio::test]
async fn foreign_ack_leaves_the_ack_timeout() {
    let app = DeviceApp::start().await;
    let (victim, _, mut victim_screen) = app.pair("Victim").await;
    let (_, _, mut other_screen) = app.pair("Other").await;

    let sent = send_command(&app, &victim).await;
    assert!(matches!(
        victim_screen.next().await,
        ServerMessage::Command { .. }
    ));
    let id = CommandId(sent["id"].as_i64().unwrap());
    other_screen.send(&ClientMessage::ack_ok(id)).await;

    // The ack timeout is 300 ms in tests.
    let failed = eventually(Duration::from_secs(5), || async {
        command_states(&app, &victim).await[0]["state"] == "failed"
    })
    .await;
    assert!(failed, "{:?}", command_states(&app, &victim).await);
}

#[tokio::test]
async fn venue_pairs_forty_screens() {
    let app = DeviceApp::start().await;
    let mut screens = Vec::new();
    for _ in 0..40 {
        let (screen, _, _) = app.show_code().await;
        screens.push(screen);
    }
    assert_eq!(screens.len(), 40);
}

#[tokio::test]
async fn long_polls_limited_per_device() {
    let app = DeviceApp::start().await;
    let (device_id, secret, screen) = app.pair("Proxy").await;
    drop(screen);
    let header = credential(&device_id, &secret);

    let mut statuses = Vec::new();
    for _ in 0..80 {
        let response = app
            .app
            .send(poll_request(&[("x-onesheet-device", &header)]))
            .await;
        statuses.push(response.status);
        if response.status == 429 {
            assert_eq!(response.json()["error"]["code"], "rate-limited");
            assert!(response.headers.contains_key("retry-after"));
            break;
        }
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    assert!(statuses.len() > 50, "{statuses:?}");
}

#[tokio::test]
async fn long_poll_user_agent_is_capped() {
    let app = DeviceApp::start().await;
    let (device_id, secret, screen) = app.pair("Proxy").await;
    drop(screen);
    let header = credential(&device_id, &secret);
    let agent = "a".repeat(60_000);

    let polled = app
        .app
        .send(poll_request(&[
            ("x-onesheet-device", &header),
            ("user-agent", &agent),
        ]))
        .await;
    assert_eq!(polled.status, 200);

    let stored = eventually(Duration::from_secs(5), || async {
        let detail = app
            .admin("GET", &format!("/api/v1/admin/devices/{device_id}"), None)
            .await;
        detail.json()["device"]["last_user_agent"]
            .as_str()
            .is_some_and(|agent| agent.starts_with('a'))
    })
    .await;
    assert!(stored, "the poll's user agent was never stored");
    let detail = app
        .admin("GET", &format!("/api/v1/admin/devices/{device_id}"), None)
        .await;
    let stored = detail.json()["device"]["last_user_agent"]
        .as_str()
        .unwrap()
        .len();
    assert_eq!(stored, 512);
}

#[tokio::test]
async fn socket_rejects_foreign_origin() {
    let app = DeviceApp::start().await;
    let url = format!("ws://{}/api/v1/devices/ws", app.address);

    let mut foreign = url.as_str().into_client_request().unwrap();
    foreign
        .headers_mut()
        .insert("origin", HeaderValue::from_static("http://evil.example"));
    let Err(tokio_tungstenite::tungstenite::Error::Http(rejected)) =
        tokio_tungstenite::connect_async(foreign).await
    else {
        panic!("a foreign origin was accepted");
    };
    assert_eq!(rejected.status(), 403);

    let mut own = url.as_str().into_client_request().unwrap();
    let origin = format!("http://{}", app.address);
    own.headers_mut()
        .insert("origin", HeaderValue::from_str(&origin).unwrap());
    assert!(tokio_tungstenite::connect_async(own).await.is_ok());

    // A client that is not a browser sends no Origin.
    assert!(tokio_tungstenite::connect_async(url.as_str()).await.is_ok());
}
