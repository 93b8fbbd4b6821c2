//! `force_https`: a permanent redirect from plain HTTP to the configured public HTTPS URL.
//!
//! A request is redirected only when it is known to have arrived over plain HTTP: it came on
//! a plain socket from a peer that is not a trusted proxy, or from a trusted proxy whose
//! `X-Forwarded-Proto` names another scheme than `https`. A trusted proxy that sends no
//! `X-Forwarded-Proto` leaves the scheme unknown. Such a proxy often terminates TLS itself, so
//! redirecting would loop, and the request is served as it is.
//!
//! The target is built from the configured public URL, never from the `Host` header, because
//! a client chooses that header and could otherwise send the redirect to any host.
//!
//! Health probes (`/health`, `/health/ready`) are never redirected, so load balancers and
//! container runtimes that probe over plain HTTP keep working.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};

use crate::security::ClientAddress;
use crate::state::AppState;

/// Adds the redirect to `app` when the state has a public URL to redirect to, and returns
/// `app` unchanged otherwise. It must run inside the request tracker, which resolves the
/// [`ClientAddress`] that it reads.
pub(crate) fn with_https_redirect(app: Router, state: &AppState) -> Router {
    if state.force_https.is_none() {
        return app;
    }
    app.layer(from_fn_with_state(state.clone(), redirect_plain_http))
}

async fn redirect_plain_http(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(public_url) = state.force_https.as_deref() else {
        return next.run(request).await;
    };
    if !is_known_plain_http(&request, &state) || is_health_probe(&request, &state) {
        return next.run(request).await;
    }

    let target = redirect_target(public_url, state.base_path.as_str(), &request);
    match HeaderValue::from_str(&target) {
        // 308 rather than 301, so that a client repeats a POST as a POST instead of a GET.
        Ok(location) => (
            StatusCode::PERMANENT_REDIRECT,
            [(header::LOCATION, location)],
        )
            .into_response(),
        // The path and query of a parsed request are visible ASCII, so this does not happen.
        Err(_) => next.run(request).await,
    }
}

/// True when the request is known to have reached us over plain HTTP, as the module header
/// describes.
fn is_known_plain_http(request: &Request, state: &AppState) -> bool {
    let extensions = request.extensions();
    let (Some(client), Some(ConnectInfo(peer))) = (
        extensions.get::<ClientAddress>(),
        extensions.get::<ConnectInfo<SocketAddr>>(),
    ) else {
        // A request that did not come through the listener, such as one built in a test:
        // nothing is known about its scheme.
        return false;
    };
    if client.https {
        return false;
    }
    !state.trusted_proxies.contains(peer.ip()) || has_forwarded_proto(request.headers())
}

/// True when the left-most `X-Forwarded-Proto` value is present and not empty, which is the
/// value [`ClientAddress`] reads the scheme from.
fn has_forwarded_proto(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(',').next())
        .is_some_and(|scheme| !scheme.trim().is_empty())
}

fn is_health_probe(request: &Request, state: &AppState) -> bool {
    let path = request.uri().path();
    let Some(rest) = path.strip_prefix(state.base_path.as_str()) else {
        return false;
    };
    rest == "/health" || rest == "/health/ready"
}

/// Builds the redirect target: the public URL, then the request's path below the base path,
/// then its query.
///
/// The public URL is where browsers reach the base path, so the base path is taken off the
/// request's path first: with `base_path = "/posters"` and `public_url =
/// "https://example.com/posters"`, `/posters/screensaver` goes to
/// `https://example.com/posters/screensaver`. A proxy that maps another prefix onto the base
/// path works the same way. A path outside the base path, which gets 404 from the router, is
/// appended whole.
fn redirect_target(public_url: &str, base_path: &str, request: &Request) -> String {
    let path = request.uri().path();
    let below_base = match path.strip_prefix(base_path) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
        _ => path,
    };
    let below_base = if below_base.is_empty() {
        "/"
    } else {
        below_base
    };
    match request.uri().query() {
        Some(query) => format!("{public_url}{below_base}?{query}"),
        None => format!("{public_url}{below_base}"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use axum::body::Body;

    use super::*;

    fn request(uri: &str) -> Request {
        Request::get(uri).body(Body::empty()).unwrap()
    }

    #[test]
    fn target_keeps_path_and_query() {
        let target = redirect_target(
            "https://posters.example.com",
            "",
            &request("/api/v1/playlist?limit=2&mode=posters"),
        );
        assert_eq!(
            target,
            "https://posters.example.com/api/v1/playlist?limit=2&mode=posters"
        );
    }

    #[test]
    fn target_does_not_repeat_the_base_path() {
        let public_url = "https://example.com/posters";
        assert_eq!(
            redirect_target(public_url, "/posters", &request("/posters/screensaver")),
            "https://example.com/posters/screensaver"
        );
        assert_eq!(
            redirect_target(public_url, "/posters", &request("/posters")),
            "https://example.com/posters/"
        );
        assert_eq!(
            redirect_target(public_url, "/posters", &request("/postersx/a")),
            "https://example.com/posters/postersx/a"
        );
    }

    #[test]
    fn forwarded_proto_must_have_a_value() {
        let mut headers = HeaderMap::new();
        assert!(!has_forwarded_proto(&headers));
        headers.insert("x-forwarded-proto", HeaderValue::from_static(""));
        assert!(!has_forwarded_proto(&headers));
        headers.insert("x-forwarded-proto", HeaderValue::from_static("http, https"));
        assert!(has_forwarded_proto(&headers));
    }
}
