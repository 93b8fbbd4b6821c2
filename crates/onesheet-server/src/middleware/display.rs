//! Keeps display pages, the display API and images to the clients that
//! [`DisplayAccess`](crate::security::DisplayAccess) admits, and to admins.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;

use crate::auth::AdminAccess;
use crate::error::ApiError;
use crate::security::ClientAddress;
use crate::state::AppState;

/// Headers a reverse proxy adds to name the client it forwards for.
const FORWARDING_HEADERS: [&str; 3] = ["x-forwarded-for", "forwarded", "x-real-ip"];

pub(crate) async fn require_display_access(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    // Without a client address (no socket behind the request) nothing can be admitted by network.
    let client = request.extensions().get::<ClientAddress>().copied();
    let through_unknown_proxy = came_through_unknown_proxy(&request, &state);
    if !through_unknown_proxy && client.is_some_and(|client| state.display_access.allows(client.ip))
    {
        return Ok(next.run(request).await);
    }

    // An admin may preview what screens show from anywhere, with a session or any API token.
    let (mut parts, body) = request.into_parts();
    if AdminAccess::from_request_parts(&mut parts, &state)
        .await
        .is_ok()
    {
        return Ok(next.run(Request::from_parts(parts, body)).await);
    }

    Err(ApiError::DisplayRefused {
        ip: client.map(|client| client.ip),
        through_unknown_proxy,
    })
}

/// Returns true when an untrusted peer forwarded the request for someone else. A reverse proxy on the
/// server's own machine would otherwise pass every internet client off as loopback, so such a
/// request is judged by nobody's address until the proxy is listed in `trusted_proxies`. A
/// client that adds these headers itself only refuses itself.
fn came_through_unknown_proxy(request: &Request, state: &AppState) -> bool {
    if state.display_access.is_public() || !has_forwarding_header(request.headers()) {
        return false;
    }
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_none_or(|peer| !state.trusted_proxies.contains(peer.0.ip()))
}

fn has_forwarding_header(headers: &HeaderMap) -> bool {
    FORWARDING_HEADERS
        .iter()
        .any(|name| headers.contains_key(*name))
}
