//! The outermost middleware: gives each request an id, opens its root span, turns an
//! [`ErrorReport`] left by a handler into the JSON error body and one log line, and adds the
//! security headers.

use std::hash::{BuildHasher, Hasher, RandomState};
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use tracing::{Instrument, Level, debug, error, info, warn};

use super::add_security_headers;
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
    let id = client_request_id(&request).unwrap_or_else(new_request_id);
    request.headers_mut().insert(&REQUEST_ID_HEADER, id.clone());
    let id_text = id.to_str().unwrap_or("unknown");

    let method = request.method().clone();
    let route: String = request
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
    let client_ip = client.map(|client| client.ip);
    if let Some(client) = client {
        request.extensions_mut().insert(client);
    }

    // Health probes and screens send a steady stream of reads, so those spans are DEBUG: at INFO
    // they would cost a formatted span per request and bury the admin actions in the log.
    // Errors are logged with the request id whatever the span's level.
    let quiet = !is_admin_route(&route);
    let span = if quiet {
        tracing::span!(Level::DEBUG, "request", http.method = %method, http.route = %route, client.ip = client_ip.map(tracing::field::display), request.id = %id_text, http.status = tracing::field::Empty)
    } else {
        tracing::span!(Level::INFO, "request", http.method = %method, http.route = %route, client.ip = client_ip.map(tracing::field::display), request.id = %id_text, http.status = tracing::field::Empty)
    };

    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.record("http.status", response.status().as_u16());

    let mut response = span.in_scope(|| render_error(response, id_text));
    span.in_scope(|| {
        debug!(
            http.status = response.status().as_u16(),
            latency_ms, "request finished"
        );
    });
    let headers = response.headers_mut();
    // The request id, the security headers and HSTS: one growth of the map instead of several.
    headers.reserve(10);
    headers.insert(&REQUEST_ID_HEADER, id.clone());
    add_security_headers(headers);
    // Browsers ignore HSTS received over plain HTTP, and sending it there would tell a LAN
    // client something untrue, so only HTTPS responses carry it. No includeSubDomains: other
    // services on sibling host names are not ours to pin.
    if client.is_some_and(|client| client.https) {
        headers
            .entry(header::STRICT_TRANSPORT_SECURITY)
            .or_insert(HeaderValue::from_static("max-age=31536000"));
    }
    response
}

/// Returns true for the account and admin API routes, whose requests are few and worth an INFO span.
fn is_admin_route(path: &str) -> bool {
    ["/api/v1/admin", "/api/v1/auth", "/api/v1/setup"]
        .iter()
        .any(|prefix| path.contains(prefix))
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
fn client_request_id(request: &Request) -> Option<HeaderValue> {
    let value = request.headers().get(&REQUEST_ID_HEADER)?;
    let bytes = value.as_bytes();
    let safe = !bytes.is_empty()
        && bytes.len() <= MAX_CLIENT_REQUEST_ID
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    safe.then(|| value.clone())
}

/// Source of new request ids: a random prefix drawn once per process, then a counter. Ids need
/// to be unique across restarts, not secret, and a random draw per request costs a system call.
struct RequestIds {
    prefix: u32,
    next: AtomicU64,
}

static REQUEST_IDS: OnceLock<RequestIds> = OnceLock::new();

/// Returns a new request id such as `3fa2c91b-1a2f`.
fn new_request_id() -> HeaderValue {
    let ids = REQUEST_IDS.get_or_init(|| RequestIds {
        // The standard library seeds each `RandomState` from the operating system's random
        // source, so its hash of nothing differs between processes.
        prefix: RandomState::new().build_hasher().finish() as u32,
        next: AtomicU64::new(1),
    });
    let number = ids.next.fetch_add(1, Ordering::Relaxed);
    let text = format!("{:08x}-{number:x}", ids.prefix);
    HeaderValue::try_from(text).unwrap_or(HeaderValue::from_static("unknown"))
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
