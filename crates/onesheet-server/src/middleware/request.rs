//! The outermost middleware: gives each request an id, opens its root span, and turns an
//! [`ErrorReport`] left by a handler into the JSON error body and one log line.

use std::net::SocketAddr;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::request_id::{MakeRequestId, MakeRequestUuid};
use tracing::{Instrument, Level, debug, error, info, warn};

use crate::error::{ErrorBody, ErrorFields, ErrorReport};
use crate::listener::ConnectionTls;
use crate::security::ClientAddress;
use crate::state::AppState;

pub(crate) static REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Maximum length of a client-supplied request id that is kept. Longer or odd ones are replaced.
const MAX_CLIENT_REQUEST_ID: usize = 64;

pub(crate) async fn track_request(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let id = client_request_id(&request).unwrap_or_else(|| {
        MakeRequestUuid
            .make_request_id(&request)
            .and_then(|id| id.into_header_value().to_str().ok().map(str::to_owned))
            .unwrap_or_else(|| "unknown".to_owned())
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        request.headers_mut().insert(&REQUEST_ID_HEADER, value);
    }

    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| request.uri().path().chars().take(200).collect());
    // Resolved once here, so the log line, rate limits and cookie flags agree on the client.
    let tls = request.extensions().get::<ConnectionTls>().is_some();
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| ClientAddress::resolve(info.0, tls, request.headers(), &state.trusted_proxies));
    let client_ip = client
        .map(|client| client.ip.to_string())
        .unwrap_or_default();
    if let Some(client) = client {
        request.extensions_mut().insert(client);
    }

    // Health probes run every few seconds on every installation; they stay out of INFO logs.
    let quiet = route.ends_with("/health") || route.ends_with("/health/ready");
    let span = if quiet {
        tracing::span!(Level::DEBUG, "request", http.method = %method, http.route = %route, client.ip = %client_ip, request.id = %id, http.status = tracing::field::Empty)
    } else {
        tracing::span!(Level::INFO, "request", http.method = %method, http.route = %route, client.ip = %client_ip, request.id = %id, http.status = tracing::field::Empty)
    };

    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.record("http.status", response.status().as_u16());

    let mut response = span.in_scope(|| render_error(response, &id));
    span.in_scope(|| {
        debug!(
            http.status = response.status().as_u16(),
            latency_ms, "request finished"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(&REQUEST_ID_HEADER, value);
    }
    // Browsers ignore HSTS received over plain HTTP, and sending it there would tell a LAN
    // client something untrue, so only HTTPS responses carry it. No includeSubDomains: other
    // services on sibling host names are not ours to pin.
    if client.is_some_and(|client| client.https) {
        response
            .headers_mut()
            .entry(header::STRICT_TRANSPORT_SECURITY)
            .or_insert(HeaderValue::from_static("max-age=31536000"));
    }
    response
}

/// Maximum length of an error message sent to a client, in bytes. Messages quote the invalid value, which a
/// client controls, so this keeps a 60 KB query from coming back in the body.
const MAX_PUBLIC_MESSAGE: usize = 300;
/// Maximum length of an error detail written to the log, in bytes, for the same reason.
const MAX_LOGGED_DETAIL: usize = 600;

/// True for an error status whose body is not JSON already, such as the readiness report.
fn is_bare_error(response: &Response) -> bool {
    let status = response.status();
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    (status.is_client_error() || status.is_server_error()) && !json
}

/// Describes an error status that a layer or the router produced without an [`ErrorReport`]
/// (405, 413, 416), so every error reaches the client in the same JSON shape.
fn bare_error_report(status: StatusCode) -> ErrorReport {
    let (code, message) = match status.as_u16() {
        405 => (
            "method-not-allowed",
            "method not allowed: display and image routes answer GET and HEAD only; see the API documentation for admin routes",
        ),
        413 => (
            "body-too-large",
            "request body too large: the limit is 64 KiB",
        ),
        503 => (
            "request-timeout",
            "the request took too long and was stopped: try again; if it keeps happening, the server log names the slow step under this request id",
        ),
        416 => (
            "range-not-satisfiable",
            "range not satisfiable: request a single byte range within the file",
        ),
        _ => (
            "http-error",
            status.canonical_reason().unwrap_or("request failed"),
        ),
    };
    ErrorReport {
        code,
        message: message.to_owned(),
        field: None,
        fields: Vec::new(),
        detail: format!("{status} produced by a layer"),
    }
}

/// Cuts `text` to at most `max` bytes at a character boundary, marking the cut.
fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… (truncated)", &text[..end])
}

/// Keeps a client's request id only when it is short and made of safe characters, so a log line
/// cannot be forged or bloated through it.
fn client_request_id(request: &Request) -> Option<String> {
    let value = request.headers().get(&REQUEST_ID_HEADER)?.to_str().ok()?;
    let safe = !value.is_empty()
        && value.len() <= MAX_CLIENT_REQUEST_ID
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    safe.then(|| value.to_owned())
}

fn render_error(response: Response, request_id: &str) -> Response {
    let status = response.status();
    let report = match response.extensions().get::<ErrorReport>() {
        Some(report) => report.clone(),
        None if is_bare_error(&response) => bare_error_report(status),
        None => return response,
    };
    let report = ErrorReport {
        message: truncate(&report.message, MAX_PUBLIC_MESSAGE),
        detail: truncate(&report.detail, MAX_LOGGED_DETAIL),
        ..report
    };
    // The id is a field of its own as well as of the span, because quiet routes (health) have
    // a DEBUG span that an INFO log level drops.
    // A 502 or 503 is an upstream failure, load or a pending start-up, which the client retries. It
    // is no fault of this server, and at ERROR a busy image queue would flood the log.
    if matches!(status.as_u16(), 502 | 503) {
        warn!(request.id = %request_id, error.code = report.code, error.detail = ?report.detail, "request deferred");
    } else if status.is_server_error() {
        error!(request.id = %request_id, error.code = report.code, error.detail = ?report.detail, "request failed");
    } else if status.as_u16() == 404 {
        debug!(request.id = %request_id, error.code = report.code, error.detail = ?report.detail, "request rejected");
    } else {
        info!(request.id = %request_id, error.code = report.code, error.detail = ?report.detail, "request rejected");
    }

    let body = ErrorBody {
        error: ErrorFields {
            code: report.code,
            message: &report.message,
            field: report.field.as_deref(),
            fields: &report.fields,
            request_id,
        },
    };
    let json = match serde_json::to_vec(&body) {
        Ok(json) => json,
        Err(serialize_error) => {
            warn!(%serialize_error, "cannot serialise an error body");
            b"{\"error\":{\"code\":\"internal\"}}".to_vec()
        }
    };

    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_ENCODING);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    // An error must never be cached as if it were the resource.
    parts
        .headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Response::from_parts(parts, Body::from(json))
}
