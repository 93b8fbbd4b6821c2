//! Device credentials: the session cookie, display access from anywhere, and no admin access.

use super::*;

const OUTSIDE: &str = "203.0.113.9:40000";

fn credential(device_id: &DeviceId, secret: &DeviceSecret) -> String {
    format!("{device_id}:{}", secret.expose())
}

#[tokio::test]
async fn session_sets_strict_http_only_cookie() {
    let app = DeviceApp::start().await;
    let (device_id, secret, _screen) = app.pair("Lobby").await;

    let request = Request::post("/api/v1/devices/session")
        .header("x-onesheet-device", credential(&device_id, &secret))
        .body(Body::empty())
        .unwrap();
    let response = app.app.send(request).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.json()["device_id"], device_id.as_str());

    let cookie = response.header("set-cookie");
    assert!(cookie.starts_with(&format!(
        "onesheet_device={}",
        credential(&device_id, &secret)
    )));
    assert!(cookie.contains("; HttpOnly"), "{cookie}");
    assert!(cookie.contains("; SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("; Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
}

#[tokio::test]
async fn session_rejects_wrong_secret() {
    let app = DeviceApp::start().await;
    let (device_id, _, _screen) = app.pair("Lobby").await;

    let wrong = format!("{device_id}:{}", "cd".repeat(32));
    let request = Request::post("/api/v1/devices/session")
        .header("x-onesheet-device", wrong)
        .body(Body::empty())
        .unwrap();
    let response = app.app.send(request).await;
    assert_eq!(response.status, 401);
    assert_eq!(response.json()["error"]["code"], "invalid-credentials");
    assert!(response.headers.get("set-cookie").is_none());
}

#[tokio::test]
async fn device_credential_opens_display_api_only() {
    let app = DeviceApp::start().await;
    let (device_id, secret, _screen) = app.pair("Lobby").await;
    let header = credential(&device_id, &secret);
    let cookie = format!("onesheet_device={header}");

    let refused = app.app.get_from("/api/v1/playlist", OUTSIDE, &[]).await;
    assert_eq!(refused.status, 403);

    let by_header = app
        .app
        .get_from(
            "/api/v1/playlist",
            OUTSIDE,
            &[("x-onesheet-device", &header)],
        )
        .await;
    assert_eq!(by_header.status, 200);
    let by_cookie = app
        .app
        .get_from("/api/v1/display-settings", OUTSIDE, &[("cookie", &cookie)])
        .await;
    assert_eq!(by_cookie.status, 200);

    for uri in ["/api/v1/admin/devices", "/api/v1/admin/sources"] {
        let admin = app
            .app
            .get_from(uri, OUTSIDE, &[("x-onesheet-device", &header)])
            .await;
        assert_eq!(admin.status, 401, "{uri} with a device header");
        let admin = app
            .app
            .get_from(uri, "127.0.0.1:1", &[("cookie", &cookie)])
            .await;
        assert_eq!(admin.status, 401, "{uri} with a device cookie");
    }
}

#[tokio::test]
async fn revoked_credential_loses_display_access() {
    let app = DeviceApp::start().await;
    let (device_id, secret, mut screen) = app.pair("Lobby").await;
    let header = credential(&device_id, &secret);
    let allowed = app
        .app
        .get_from(
            "/api/v1/playlist",
            OUTSIDE,
            &[("x-onesheet-device", &header)],
        )
        .await;
    assert_eq!(allowed.status, 200);

    let revoked = app
        .admin(
            "POST",
            &format!("/api/v1/admin/devices/{device_id}/revoke"),
            None,
        )
        .await;
    assert_eq!(revoked.status, 200);
    assert_eq!(revoked.json()["revoked"], true);
    assert!(matches!(screen.next().await, ServerMessage::Revoked));
    screen.expect_closed().await;

    let refused = app
        .app
        .get_from(
            "/api/v1/playlist",
            OUTSIDE,
            &[("x-onesheet-device", &header)],
        )
        .await;
    assert_eq!(refused.status, 403);

    let mut again = app.connect().await;
    again.send(&device_hello(&device_id, &secret)).await;
    assert!(matches!(again.next().await, ServerMessage::Revoked));
}

#[tokio::test]
async fn socket_upgrade_follows_display_access() {
    let app = DeviceApp::start().await;
    let (device_id, secret, _screen) = app.pair("Lobby").await;

    let refused = app.app.get_from("/api/v1/devices/ws", OUTSIDE, &[]).await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.json()["error"]["code"], "display-not-allowed");

    // With a credential the request passes access and reaches the upgrade, which this plain
    // request without upgrade headers cannot complete.
    let header = credential(&device_id, &secret);
    let passed = app
        .app
        .get_from(
            "/api/v1/devices/ws",
            OUTSIDE,
            &[("x-onesheet-device", &header)],
        )
        .await;
    assert_ne!(passed.status, 403);
}
