//! The outermost middleware. It gives each request an id and a root span, bounds the body and
//! turns a handler's panic into a 500. It turns an [`ErrorReport`] left by a handler into the
//! JSON error body and one log line, and it adds the security headers.
//!
//! These steps live in one service because every request of every screen passes through it.
//! As separate tower-http layers (panic catcher, body limit), each would add a boxed future and
//! a boxed response body per request.

use std::any::Any;
use std::convert::Infallible;
use std::future::Future;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::{Body, HttpBody as _};
use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::Limited;
use pin_project_lite::pin_project;
use tower::{Layer, Service};
use tracing::{Level, Span, debug, error, info, warn};

use super::add_security_headers;
use crate::error::{ApiError, ErrorBody, ErrorFields, ErrorReport};
use crate::listener::ConnectionTls;
use crate::security::ClientAddress;
use crate::state::AppState;

pub(crate) static REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

static STRICT_TRANSPORT_SECURITY: HeaderValue = HeaderValue::from_static("max-age=31536000");

/// Maximum length of a client-supplied request id that is kept. Longer or odd ones are replaced.
const MAX_CLIENT_REQUEST_ID: usize = 64;

/// Maximum length of an unmatched path written into a span, in bytes.
const MAX_LOGGED_PATH: usize = 200;

/// Largest request body accepted anywhere. Only admin routes read bodies, and their largest
/// document, a source with its settings, is a few kilobytes.
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;

/// Wraps every route in [`TrackRequest`].
///
/// A tower layer rather than `axum::middleware::from_fn`, because this runs on every request of
/// every screen. `from_fn` boxes its own future and the rest of the stack's future, and it
/// clones the inner service per request.
#[derive(Clone)]
pub(crate) struct TrackRequestLayer {
    state: AppState,
}

impl TrackRequestLayer {
    pub(crate) fn new(state: AppState) -> Self {
        Self { state }
    }
}

impl<S> Layer<S> for TrackRequestLayer {
    type Service = TrackRequest<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TrackRequest {
            inner,
            state: self.state.clone(),
        }
    }
}

/// The outermost service: gives the request an id and a root span, resolves the client address
/// once (so the log line, rate limits and cookie flags agree on it), and finishes the response
/// in [`finish_response`].
#[derive(Clone)]
pub(crate) struct TrackRequest<S> {
    inner: S,
    state: AppState,
}

impl<S> Service<Request> for TrackRequest<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = TrackedResponse<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        // The latency only goes into the DEBUG line at the end, so without it the two clock
        // reads are skipped.
        let started = tracing::enabled!(Level::DEBUG).then(Instant::now);
        let id = client_request_id(&request).unwrap_or_else(new_request_id);
        let tls = request.extensions().get::<ConnectionTls>().is_some();
        let client = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| {
                ClientAddress::resolve(info.0, tls, request.headers(), &self.state.trusted_proxies)
            });
        let span = request_span(&request, client, &id);
        if let Some(client) = client {
            request.extensions_mut().insert(client);
        }
        let https = client.is_some_and(|client| client.https);
        let api = request.uri().path().starts_with("/api/");

        let inner = {
            let _entered = span.enter();
            match limit_body(request) {
                Some(request) => catch_unwind(AssertUnwindSafe(|| self.inner.call(request)))
                    .map_err(panic_response),
                None => Err(ApiError::BodyTooLarge.into_response()),
            }
        };
        let (inner, early) = match inner {
            Ok(inner) => (Some(inner), None),
            Err(response) => (None, Some(response)),
        };
        TrackedResponse {
            inner,
            early,
            span,
            id,
            https,
            api,
            started,
        }
    }
}

pin_project! {
    /// The response of a tracked request, finished by [`finish_response`] once the inner
    /// service produced it. `early` contains a response made before the inner service ran (a body
    /// over the limit, or a panic while the route was called), and then `inner` is `None`.
    pub(crate) struct TrackedResponse<F> {
        #[pin]
        inner: Option<F>,
        early: Option<Response>,
        span: Span,
        id: HeaderValue,
        https: bool,
        // Whether the path is under `/api/`, for the wording of a router's bare 405.
        api: bool,
        started: Option<Instant>,
    }
}

impl<F> Future for TrackedResponse<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        let response = match (this.inner.as_pin_mut(), this.early.take()) {
            (Some(inner), _) => {
                // A panic inside the handler's future ends this request only; the connection
                // and every other request carry on. The future is not polled again.
                match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
                    Ok(Poll::Pending) => return Poll::Pending,
                    Ok(Poll::Ready(Ok(response))) => response,
                    Err(panic) => panic_response(panic),
                }
            }
            (None, Some(response)) => response,
            (None, None) => {
                ApiError::internal("a finished request was polled again").into_response()
            }
        };
        let latency_ms = this
            .started
            .map(|started| started.elapsed().as_secs_f64() * 1000.0);
        Poll::Ready(Ok(finish_response(
            response,
            this.span,
            this.id,
            *this.https,
            *this.api,
            latency_ms,
        )))
    }
}

/// Caps the request body at [`MAX_BODY_BYTES`] while it is read, so a chunked upload cannot grow
/// without bound. Returns `None` when the declared length is over the limit, and the caller
/// then responds with 413. A body known to be empty, as with nearly every GET, is passed on unwrapped.
fn limit_body(request: Request) -> Option<Request> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return None;
    }
    if request.body().is_end_stream() {
        return Some(request);
    }
    Some(request.map(|body| Body::new(Limited::new(body, MAX_BODY_BYTES))))
}

/// Turns a handler's panic into a 500 with the usual error body; the panic message goes to the
/// log only.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned());
    ApiError::internal(format!("handler panicked: {message}")).into_response()
}

/// Opens the request's root span. Health probes and screens send a steady stream of reads, so
/// those spans are DEBUG: at INFO they would cost a formatted span per request and bury the
/// admin actions in the log. Errors are logged with the request id whatever the span's level.
fn request_span(request: &Request, client: Option<ClientAddress>, id: &HeaderValue) -> Span {
    let matched = request.extensions().get::<MatchedPath>();
    let route = matched.map_or_else(
        || truncate_str(request.uri().path(), MAX_LOGGED_PATH),
        MatchedPath::as_str,
    );
    let method = request.method();
    let client_ip = client.map(|client| tracing::field::display(client.ip));
    let id = id.to_str().unwrap_or("unknown");
    if is_admin_route(route) {
        tracing::span!(Level::INFO, "request", http.method = %method, http.route = %route, client.ip = client_ip, request.id = %id, http.status = tracing::field::Empty)
    } else {
        tracing::span!(Level::DEBUG, "request", http.method = %method, http.route = %route, client.ip = client_ip, request.id = %id, http.status = tracing::field::Empty)
    }
}

/// Turns an [`ErrorReport`] left by a handler into the JSON error body and one log line, and
/// adds the request id and the security headers. Every response passes through here, the
/// timeout's and the panic catcher's included.
fn finish_response(
    response: Response,
    span: &Span,
    id: &HeaderValue,
    https: bool,
    api: bool,
    latency_ms: Option<f64>,
) -> Response {
    let status = response.status().as_u16();
    span.record("http.status", status);
    let id_text = id.to_str().unwrap_or("unknown");
    let mut response = render_error(response, id_text, api);
    // The status is a field of the span, which the log line prints already.
    if let Some(latency_ms) = latency_ms {
        debug!(latency_ms, "request finished");
    }

    let headers = response.headers_mut();
    // The request id, the security headers and HSTS: one growth of the map instead of several.
    headers.reserve(10);
    headers.insert(&REQUEST_ID_HEADER, id.clone());
    add_security_headers(headers);
    // Browsers ignore HSTS received over plain HTTP, and sending it there would tell a LAN
    // client something untrue, so only HTTPS responses carry it. No includeSubDomains: other
    // services on sibling host names are not ours to pin.
    if https {
        headers
            .entry(header::STRICT_TRANSPORT_SECURITY)
            .or_insert_with(|| STRICT_TRANSPORT_SECURITY.clone());
    }
    response
}

/// Cuts `text` to at most `max` bytes at a character boundary.
fn truncate_str(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
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
/// (405, 413, 416), so every error reaches the client in the same JSON shape. `api` is true for
/// a path under `/api/`, whose routes accept other methods than the pages do.
fn bare_error_report(status: StatusCode, api: bool) -> ErrorReport {
    let (code, message) = match status.as_u16() {
        405 if api => (
            "method-not-allowed",
            "method not allowed on this API route: the Allow header lists the methods it accepts",
        ),
        405 => (
            "method-not-allowed",
            "method not allowed: display pages, assets and images accept GET and HEAD only",
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
    format!("{}… (truncated)", truncate_str(text, max))
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
    HeaderValue::from_maybe_shared(axum::body::Bytes::from(text))
        .unwrap_or(HeaderValue::from_static("unknown"))
}

fn render_error(response: Response, request_id: &str, api: bool) -> Response {
    let status = response.status();
    let report = match response.extensions().get::<ErrorReport>() {
        Some(report) => report.clone(),
        None if is_bare_error(&response) => bare_error_report(status, api),
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
    } else if matches!(status.as_u16(), 404 | 429) {
        // A flood of probes, polls or blocked sign-ins would write one INFO line per request
        // and drown the rest of the log. Failed sign-ins are in the audit log either way.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_not_allowed_fits_the_route() {
        let api = bare_error_report(StatusCode::METHOD_NOT_ALLOWED, true);
        let page = bare_error_report(StatusCode::METHOD_NOT_ALLOWED, false);

        assert_eq!(api.code, "method-not-allowed");
        assert!(api.message.contains("Allow header"), "{}", api.message);
        assert!(!api.message.contains("display"), "{}", api.message);
        assert!(page.message.contains("GET and HEAD"), "{}", page.message);
    }

    /// A log writer into a shared buffer.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn finished_line_has_status_once() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let _default = tracing::subscriber::set_default(subscriber);
        let span = tracing::info_span!("request", http.status = tracing::field::Empty);
        let _entered = span.enter();

        let response = StatusCode::NO_CONTENT.into_response();
        finish_response(
            response,
            &span,
            &HeaderValue::from_static("test-id"),
            false,
            true,
            Some(1.5),
        );

        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let line = log
            .lines()
            .find(|line| line.contains("request finished"))
            .unwrap_or_else(|| panic!("no finished line in {log:?}"));
        assert_eq!(line.matches("http.status").count(), 1, "{line}");
        assert!(line.contains("http.status=204"), "{line}");
        assert!(line.contains("latency_ms=1.5"), "{line}");
    }
}
