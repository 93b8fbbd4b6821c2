//! API token scopes per kind of route: `read` reads, `devices` also manages the screen fleet,
//! `admin` changes everything and reads the server log, and no token manages the account
//! itself or lists the tokens.

use axum::body::Body;
use axum::http::Request;
use onesheet_server::devices::{DeviceConfig, DeviceService};
use onesheet_store::SecretKey;
use serde_json::json;

use super::*;

/// Returns an accounts app with the device service on, and a session cookie.
pub(super) async fn fleet_app() -> (AccountsApp, String) {
    let mut app = accounts_app().await;
    app.app = app.app.with_state(|state| {
        let service = DeviceService::new(
            state.store.clone(),
            state.settings.clone(),
            &SecretKey::from_bytes(&[9; 32]),
            DeviceConfig::default(),
        );
        state.with_devices(std::sync::Arc::new(service))
    });
    let cookie = app.setup().await;
    (app, cookie)
}

pub(super) async fn token(app: &AccountsApp, cookie: &str, scope: &str) -> String {
    let created = app
        .send(
            "POST",
            "/api/v1/admin/tokens",
            Some(cookie),
            Some(json!({ "name": format!("{scope} script"), "scope": scope })),
        )
        .await;
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    created.json()["token"].as_str().unwrap().to_owned()
}

async fn with_bearer(
    app: &AccountsApp,
    token: &str,
    method: &str,
    uri: &str,
    body: serde_json::Value,
) -> u16 {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    app.app.send(request).await.status
}

#[tokio::test]
async fn devices_scope_manages_the_fleet_only() {
    let (app, cookie) = fleet_app().await;
    let read = token(&app, &cookie, "read").await;
    let devices = token(&app, &cookie, "devices").await;
    let admin = token(&app, &cookie, "admin").await;
    let group = |name: &str| json!({ "name": name, "mode": "distinct" });

    assert_eq!(
        with_bearer(&app, &read, "POST", "/api/v1/admin/groups", group("Read")).await,
        403
    );
    assert_eq!(
        with_bearer(
            &app,
            &devices,
            "POST",
            "/api/v1/admin/groups",
            group("Lobby")
        )
        .await,
        201
    );
    assert_eq!(
        with_bearer(&app, &admin, "POST", "/api/v1/admin/groups", group("Bar")).await,
        201
    );
    assert_eq!(
        with_bearer(
            &app,
            &devices,
            "POST",
            "/api/v1/admin/devices/commands/all",
            json!({ "command": { "type": "next" } })
        )
        .await,
        200
    );

    // The command is in the audit log once, with the token's name and the device count.
    let audit = app
        .send(
            "GET",
            "/api/v1/admin/audit?action=device.command",
            Some(&cookie),
            None,
        )
        .await;
    assert_eq!(audit.status, 200);
    let events = audit.json()["events"].as_array().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["actor"], "token:devices script");
    assert_eq!(events[0]["target"], "all devices");
    assert_eq!(events[0]["detail"]["command"], "next");
    assert_eq!(events[0]["detail"]["devices"], 0);

    // Sources and global settings stay with admin tokens.
    let source = json!({ "kind": "folder", "id": "more", "path": "/nonexistent" });
    assert_eq!(
        with_bearer(&app, &devices, "POST", "/api/v1/admin/sources", source).await,
        403
    );
    let settings = onesheet_domain::DisplaySettings::default();
    assert_eq!(
        with_bearer(
            &app,
            &devices,
            "PUT",
            "/api/v1/admin/settings",
            serde_json::to_value(&settings).unwrap()
        )
        .await,
        403
    );
}

#[tokio::test]
async fn tokens_cannot_manage_the_account() {
    let (app, cookie) = fleet_app().await;
    let admin = token(&app, &cookie, "admin").await;
    let request = Request::builder()
        .method("POST")
        .uri("/api/v1/admin/tokens")
        .header("authorization", format!("Bearer {admin}"))
        .header("content-type", "application/json")
        .body(Body::from(
            json!({ "name": "more", "scope": "read" }).to_string(),
        ))
        .unwrap();
    let rejected = app.app.send(request).await;
    assert_eq!(rejected.status, 401);
    let message = rejected.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("API tokens"), "{message}");
    assert!(!message.contains("send an API token"), "{message}");
}

#[tokio::test]
async fn read_scope_cannot_see_tokens_or_logs() {
    let (app, cookie) = fleet_app().await;
    let read = token(&app, &cookie, "read").await;
    let admin = token(&app, &cookie, "admin").await;
    let empty = json!({});

    assert_eq!(
        with_bearer(&app, &read, "GET", "/api/v1/admin/tokens", empty.clone()).await,
        401
    );
    assert_eq!(
        with_bearer(&app, &admin, "GET", "/api/v1/admin/tokens", empty.clone()).await,
        401
    );
    assert_eq!(
        app.send("GET", "/api/v1/admin/tokens", Some(&cookie), None)
            .await
            .status,
        200
    );
    for uri in [
        "/api/v1/admin/logs",
        "/api/v1/admin/logs/download",
        "/api/v1/admin/logs/stream",
    ] {
        assert_eq!(
            with_bearer(&app, &read, "GET", uri, empty.clone()).await,
            403,
            "{uri} with a read token"
        );
    }
    assert_eq!(
        with_bearer(&app, &admin, "GET", "/api/v1/admin/logs", empty.clone()).await,
        200
    );
    assert_eq!(
        app.send("GET", "/api/v1/admin/logs", Some(&cookie), None)
            .await
            .status,
        200
    );
    // Reading the rest of the admin API stays open to read tokens.
    assert_eq!(
        with_bearer(&app, &read, "GET", "/api/v1/admin/audit", empty).await,
        200
    );
}
