//! The routes screens call to connect as devices: the WebSocket, the device cookie, and the
//! long-poll fallback. The protocol itself is described in [`crate::devices`].
//!
//! These routes stay out of the compression layer and the request deadline: a WebSocket lives
//! for hours, and a long poll waits on purpose.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use onesheet_domain::FieldError;
use onesheet_domain::protocol::MAX_MESSAGE_BYTES;
use serde::Deserialize;
use serde_json::json;

use super::admin::JsonBody;
use crate::accounts::CookieSecure;
use crate::devices::{
    DEVICE_COOKIE, DEVICE_HEADER, DeviceCredential, DeviceService, POLL_WAIT, SocketClient,
    run_socket,
};
use crate::error::ApiError;
use crate::security::{ClientAddress, DisplayViewer};
use crate::state::AppState;

/// Read and write buffers of a device socket. tungstenite's defaults (128 KiB to write, 128 KiB
/// to read) would cost a fleet of 10,000 idle screens gigabytes. Device messages are small, so
/// a larger one only takes a few more reads.
const SOCKET_BUFFER_BYTES: usize = 4 * 1024;

/// Maximum bytes waiting to be written on one socket before writes fail: a settings message at
/// the frame limit, plus room for the next.
const MAX_WRITE_BUFFER_BYTES: usize = 2 * MAX_MESSAGE_BYTES;

/// Lifetime of the device cookie. The secret stays valid until the device is revoked, and the
/// screen sets the cookie again at every start, so a year only bounds a forgotten browser.
const COOKIE_MAX_AGE: Duration = Duration::from_secs(365 * 24 * 60 * 60);

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/devices/ws", get(socket))
        .route("/api/v1/devices/session", post(session))
        .route("/api/v1/devices/poll", get(poll).post(report))
        .route("/api/v1/devices/pairing-qr", get(super::qr::pairing_qr))
}

pub(super) fn service(state: &AppState) -> Result<&Arc<DeviceService>, ApiError> {
    state.devices.as_ref().ok_or(ApiError::Disabled {
        reason: "devices are not available on this server",
    })
}

/// Upgrades to the device WebSocket. The display access rule applies to the upgrade request;
/// the device authenticates afterwards, in its `hello`.
async fn socket(
    _viewer: DisplayViewer,
    State(state): State<AppState>,
    client: Option<Extension<ClientAddress>>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let service = service(&state)?.clone();
    let client = SocketClient {
        ip: client.map(|Extension(client)| client.ip),
        base_path: state.base_path.as_str().to_owned(),
    };
    Ok(upgrade
        .read_buffer_size(SOCKET_BUFFER_BYTES)
        .write_buffer_size(SOCKET_BUFFER_BYTES)
        .max_write_buffer_size(MAX_WRITE_BUFFER_BYTES)
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| run_socket(service, socket, client)))
}

/// Turns the device credential in `X-Onesheet-Device` into an HttpOnly cookie, so display
/// pages and images, which a browser loads without custom headers, carry it too.
async fn session(
    State(state): State<AppState>,
    client: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let service = service(&state)?;
    let credential = headers
        .get(DEVICE_HEADER)
        .and_then(|value| value.to_str().ok())
        .and_then(DeviceCredential::parse)
        .ok_or(ApiError::Unauthorized {
            reason: "missing or invalid X-Onesheet-Device header: send <device id>:<secret> as the screen received them in its paired message",
        })?;
    let client = client.map(|Extension(client)| client);
    let device_id = service
        .verify_credential(client.map(|client| client.ip), &credential)
        .await?;

    let https = client.is_some_and(|client| client.https);
    let cookie = device_cookie(&state, &credential, https);
    let mut response = (StatusCode::OK, Json(json!({ "device_id": device_id }))).into_response();
    let value = HeaderValue::from_str(&cookie).map_err(ApiError::internal)?;
    response.headers_mut().insert(header::SET_COOKIE, value);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

fn polling_credential(headers: &HeaderMap) -> Result<DeviceCredential, ApiError> {
    DeviceCredential::from_headers(headers).ok_or(ApiError::Unauthorized {
        reason: "missing or invalid device credential: send X-Onesheet-Device: <device id>:<secret>, or the cookie from POST /api/v1/devices/session",
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PollQuery {
    /// Requests a `welcome` message at once, as a screen does on its first poll.
    #[serde(default)]
    welcome: bool,
}

/// Waits for commands, for screens that cannot keep a WebSocket open.
async fn poll(
    State(state): State<AppState>,
    client: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    query: Result<Query<PollQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|rejection| {
        FieldError::new(
            "query",
            format!(
                "invalid query string: {}: send welcome=true or nothing",
                rejection.body_text()
            ),
        )
    })?;
    let service = service(&state)?;
    let credential = polling_credential(&headers)?;
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok());
    let ip = client.map(|Extension(client)| client.ip);
    let messages = service
        .poll(ip, &credential, user_agent, POLL_WAIT, query.welcome)
        .await?;
    let mut response = Json(json!({ "messages": messages })).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Report {
    messages: Vec<serde_json::Value>,
}

/// Takes the `status` and `ack` messages of a polling screen.
async fn report(
    State(state): State<AppState>,
    client: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    JsonBody(report): JsonBody<Report>,
) -> Result<Response, ApiError> {
    let service = service(&state)?;
    let credential = polling_credential(&headers)?;
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok());
    let ip = client.map(|Extension(client)| client.ip);
    let errors = service
        .poll_report(ip, &credential, user_agent, &report.messages)
        .await?;
    Ok(Json(json!({ "errors": errors })).into_response())
}

/// Builds the `Set-Cookie` value of the device cookie: HttpOnly so page scripts cannot read it,
/// SameSite=Strict so no other site's request carries it, and Secure under the same rule as
/// the admin session cookie.
fn device_cookie(state: &AppState, credential: &DeviceCredential, https: bool) -> String {
    let path = match state.base_path.as_str() {
        "" => "/",
        base => base,
    };
    let secure = match state
        .accounts
        .as_ref()
        .map(|accounts| accounts.policy().cookie_secure)
    {
        Some(CookieSecure::Always) => true,
        Some(CookieSecure::Never) => false,
        Some(CookieSecure::Auto) | None => https,
    };
    let mut cookie = format!(
        "{DEVICE_COOKIE}={}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={}",
        credential.to_header_value(),
        COOKIE_MAX_AGE.as_secs()
    );
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}
