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
use tracing::{debug, warn};

use super::admin::JsonBody;
use crate::accounts::CookieSecure;
use crate::devices::{
    DEVICE_COOKIE, DEVICE_HEADER, DeviceCredential, DeviceError, DeviceService, POLL_WAIT,
    SocketClient, SocketLimit, run_socket,
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

/// Time a client should wait after the socket cap rejected its upgrade.
const SOCKET_RETRY_SECONDS: u32 = 30;

/// Upgrades to the device WebSocket. The display access rule applies to the upgrade request;
/// the device authenticates afterwards, in its `hello`. A browser page of another site may not
/// connect, and the socket cap is checked before the upgrade.
///
/// A screen that still sends the cookie of a revoked or merged device gets the cookie cleared in
/// the upgrade response, which browsers apply like any other `Set-Cookie`.
async fn socket(
    _viewer: DisplayViewer,
    State(state): State<AppState>,
    client: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let service = service(&state)?.clone();
    if !origin_allowed(&state, &headers) {
        return Err(ApiError::Forbidden {
            reason: "device connection rejected: the page's Origin is not this server; open the display page from this server, or add its origin to cors_origins (ONESHEET_CORS_ORIGINS)",
        });
    }
    let client = client.map(|Extension(client)| client);
    let ip = client.map(|client| client.ip);
    let permit = service
        .acquire_socket(ip)
        .map_err(|limit| socket_limit_error(limit, ip))?;
    let stale_cookie = stale_device_cookie(service.as_ref(), ip, &headers).await;

    let socket_client = SocketClient {
        ip,
        base_path: state.base_path.as_str().to_owned(),
    };
    let mut response = upgrade
        .read_buffer_size(SOCKET_BUFFER_BYTES)
        .write_buffer_size(SOCKET_BUFFER_BYTES)
        .max_write_buffer_size(MAX_WRITE_BUFFER_BYTES)
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| run_socket(service, socket, socket_client, permit));
    if stale_cookie {
        let https = client.is_some_and(|client| client.https);
        clear_device_cookie(&state, &mut response, https)?;
    }
    Ok(response)
}

/// Returns whether a request without an `Origin` (a client that is not a browser page), or with
/// this server's own origin or one in `cors_origins`, may open a device socket. A browser
/// always sends `Origin` on a WebSocket upgrade, so this stops other sites' pages from asking
/// for pairing codes or sending failing logins from a screen's network.
fn origin_allowed(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    if state
        .cors_origins
        .iter()
        .any(|allowed| allowed.as_bytes().eq_ignore_ascii_case(origin.as_bytes()))
    {
        return true;
    }
    let Some(authority) = origin
        .to_str()
        .ok()
        .and_then(|origin| origin.split_once("://"))
        .map(|(_, authority)| authority)
    else {
        // `null` and other opaque origins.
        return false;
    };
    // The scheme is not compared: behind a proxy that ends TLS, the server may not know that
    // the page used HTTPS, and a page on this host and port is this server's own either way.
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok());
    let public = state
        .public_url
        .as_deref()
        .and_then(|url| url.split_once("://"))
        .map(|(_, rest)| rest.split('/').next().unwrap_or(rest));
    [host, public]
        .into_iter()
        .flatten()
        .any(|own| own.eq_ignore_ascii_case(authority))
}

fn socket_limit_error(limit: SocketLimit, ip: Option<std::net::IpAddr>) -> ApiError {
    match limit {
        SocketLimit::Total(max) => {
            warn!(max_sockets = max, client.ip = ?ip, "device connection rejected: device_max_sockets reached");
            ApiError::Busy {
                reason: format!(
                    "this server has reached its maximum of {max} device connections (device_max_sockets): retry later, or raise device_max_sockets"
                ),
                retry_after_seconds: SOCKET_RETRY_SECONDS,
            }
        }
        SocketLimit::PerAddress(max) => {
            debug!(max_sockets_per_address = max, client.ip = ?ip, "device connection rejected: device_max_sockets_per_address reached");
            ApiError::Device(DeviceError::RateLimited {
                message: format!(
                    "this address has reached its maximum of {max} device connections (device_max_sockets_per_address): close unused screens, or raise device_max_sockets_per_address"
                ),
                retry_after_seconds: SOCKET_RETRY_SECONDS,
            })
        }
    }
}

/// Returns whether the request's device cookie belongs to a device that can no longer sign in:
/// revoked, merged, deleted or with a wrong secret.
async fn stale_device_cookie(
    service: &DeviceService,
    ip: Option<std::net::IpAddr>,
    headers: &HeaderMap,
) -> bool {
    let Some(credential) = DeviceCredential::from_cookie(headers) else {
        return false;
    };
    matches!(
        service.verify_credential(ip, &credential).await,
        Err(DeviceError::Revoked | DeviceError::InvalidCredentials | DeviceError::Blocked { .. })
    )
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
    let https = client.is_some_and(|client| client.https);
    let device_id = match service
        .verify_credential(client.map(|client| client.ip), &credential)
        .await
    {
        Ok(device_id) => device_id,
        Err(error) => return rejected_credential(&state, &headers, &credential, error, https),
    };

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
    let client = client.map(|Extension(client)| client);
    let ip = client.map(|client| client.ip);
    let https = client.is_some_and(|client| client.https);
    let messages = match service
        .poll(ip, &credential, user_agent, POLL_WAIT, query.welcome)
        .await
    {
        Ok(messages) => messages,
        Err(error) => return rejected_credential(&state, &headers, &credential, error, https),
    };
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
    let client = client.map(|Extension(client)| client);
    let ip = client.map(|client| client.ip);
    let https = client.is_some_and(|client| client.https);
    let errors = match service
        .poll_report(ip, &credential, user_agent, &report.messages)
        .await
    {
        Ok(errors) => errors,
        Err(error) => return rejected_credential(&state, &headers, &credential, error, https),
    };
    Ok(Json(json!({ "errors": errors })).into_response())
}

/// Returns the response to a device route whose credential `error` rejected. When the
/// device cookie carries that same device, which was revoked, merged or deleted or has a wrong
/// secret, the response also clears the cookie, so the screen's display requests stop sending
/// it.
fn rejected_credential(
    state: &AppState,
    headers: &HeaderMap,
    credential: &DeviceCredential,
    error: DeviceError,
    https: bool,
) -> Result<Response, ApiError> {
    let stale = matches!(
        error,
        DeviceError::Revoked | DeviceError::InvalidCredentials
    ) && DeviceCredential::from_cookie(headers)
        .is_some_and(|cookie| cookie.device_id == credential.device_id);
    let mut response = ApiError::from(error).into_response();
    if stale {
        clear_device_cookie(state, &mut response, https)?;
    }
    Ok(response)
}

/// Builds the `Set-Cookie` value of the device cookie: HttpOnly so page scripts cannot read it,
/// SameSite=Strict so no other site's request carries it, and Secure under the same rule as
/// the admin session cookie.
fn device_cookie(state: &AppState, credential: &DeviceCredential, https: bool) -> String {
    format!(
        "{DEVICE_COOKIE}={}; {}; Max-Age={}",
        credential.to_header_value(),
        cookie_attributes(state, https),
        COOKIE_MAX_AGE.as_secs()
    )
}

/// Adds a `Set-Cookie` that deletes the device cookie, with the attributes it was set with.
fn clear_device_cookie(
    state: &AppState,
    response: &mut Response,
    https: bool,
) -> Result<(), ApiError> {
    let cookie = format!(
        "{DEVICE_COOKIE}=; {}; Max-Age=0",
        cookie_attributes(state, https)
    );
    let value = HeaderValue::from_str(&cookie).map_err(ApiError::internal)?;
    response.headers_mut().append(header::SET_COOKIE, value);
    Ok(())
}

/// Builds the attributes the device cookie is set and cleared with, without `Max-Age`.
fn cookie_attributes(state: &AppState, https: bool) -> String {
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
    let mut attributes = format!("Path={path}; HttpOnly; SameSite=Strict");
    if secure {
        attributes.push_str("; Secure");
    }
    attributes
}
