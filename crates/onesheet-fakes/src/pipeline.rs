//! The middleware every request of a fake passes first: it records the request, applies the
//! rate limit and the fault rules, then hands the request to the fake's router.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;
use tracing::debug;

use crate::control::Control;
use crate::fault::Fault;
use crate::recorder::{Recorder, strip_base_path};
use crate::xml::{generic_element_name, to_xml};

/// Rewrites a path before routing (Jellyfin routes ignore case), or leaves it when `None`.
pub(crate) type Canonicalise = fn(&str) -> Option<String>;

/// Per-fake state of the middleware.
pub(crate) struct Pipeline {
    pub(crate) recorder: Recorder,
    pub(crate) control: Control,
    pub(crate) base_path: String,
    pub(crate) canonicalise: Option<Canonicalise>,
}

/// Time between the first half of a truncated body and the connection's end.
const TRUNCATION_PAUSE: Duration = Duration::from_millis(50);

/// Body of the [`Fault::HtmlLoginPage`] response.
const LOGIN_PAGE: &str = "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Sign in</title></head>\n<body><form method=\"post\" action=\"/login\"><input name=\"username\"><input name=\"password\" type=\"password\"><button>Sign in</button></form></body>\n</html>\n";

pub(crate) async fn run(
    State(pipeline): State<Arc<Pipeline>>,
    mut request: Request,
    next: Next,
) -> Response {
    let position = pipeline
        .recorder
        .record(request.method(), request.uri(), request.headers());

    if let Some(canonicalise) = pipeline.canonicalise
        && let Some(path) = canonicalise(request.uri().path())
    {
        replace_path(&mut request, &path);
    }
    let route = strip_base_path(request.uri().path(), &pipeline.base_path).to_owned();

    let response = if let Some(retry_after) = pipeline.control.check_rate_limit(&route) {
        debug!(route, retry_after, "fake server rate limit reached");
        too_many_requests(retry_after)
    } else {
        let page = page_of(&request);
        match pipeline.control.take_fault(&route, page) {
            Some(fault) => {
                debug!(route, ?fault, "fake server fault fired");
                apply(fault, request, next).await
            }
            None => next.run(request).await,
        }
    };

    pipeline.recorder.set_status(position, response.status());
    response
}

fn replace_path(request: &mut Request, path: &str) {
    let path_and_query = match request.uri().query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    let mut parts = request.uri().clone().into_parts();
    if let Ok(value) = path_and_query.parse() {
        parts.path_and_query = Some(value);
        if let Ok(uri) = Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
}

/// Page index of a listing request (start / size), from Plex's container headers or query
/// parameters, or from Jellyfin's `StartIndex` and `Limit` (any case).
fn page_of(request: &Request) -> Option<u64> {
    let query: Vec<(String, String)> = request
        .uri()
        .query()
        .map(|query| {
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let lookup = |name: &str| -> Option<u64> {
        let from_header = request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        from_header
            .or_else(|| {
                query
                    .iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case(name))
                    .map(|(_, value)| value.clone())
            })?
            .trim()
            .parse()
            .ok()
    };

    let (start, size) = match lookup("X-Plex-Container-Size") {
        Some(size) => (lookup("X-Plex-Container-Start").unwrap_or(0), size),
        None => (lookup("StartIndex").unwrap_or(0), lookup("Limit")?),
    };
    (size > 0).then(|| start / size)
}

fn too_many_requests(retry_after_secs: u64) -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, retry_after_secs.to_string())],
        "Too Many Requests",
    )
        .into_response()
}

async fn apply(fault: Fault, mut request: Request, next: Next) -> Response {
    match fault {
        Fault::Status(status) => (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            status.canonical_reason().unwrap_or("Error"),
        )
            .into_response(),
        Fault::TooManyRequests { retry_after_secs } => too_many_requests(retry_after_secs),
        Fault::Delay(delay) => {
            tokio::time::sleep(delay).await;
            next.run(request).await
        }
        Fault::TruncatedBody => truncate(next.run(request).await).await,
        Fault::HtmlLoginPage => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            LOGIN_PAGE,
        )
            .into_response(),
        Fault::XmlInsteadOfJson => {
            // Plex switches to XML by itself once the request stops asking for JSON. The
            // others get their JSON converted below.
            request
                .headers_mut()
                .insert(header::ACCEPT, HeaderValue::from_static("application/xml"));
            json_to_xml(next.run(request).await).await
        }
        Fault::EmptyBody => {
            let (mut parts, _) = next.run(request).await.into_parts();
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::empty())
        }
    }
}

/// Sends the full `Content-Length` with half of the body, then fails the body stream, which
/// makes hyper close the connection mid-response.
async fn truncate(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(error) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response();
        }
    };
    // An empty body still gets a promised length, so the client sees a short read.
    let promised = bytes.len().max(64);
    let sent = bytes.slice(..bytes.len() / 2);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(promised));
    // The pause lets hyper flush the headers and the first half before the error makes it
    // drop the connection. Without it the client may receive nothing at all.
    let first_half = futures::stream::iter([Ok::<Bytes, io::Error>(sent)]);
    let failure = futures::stream::once(async {
        tokio::time::sleep(TRUNCATION_PAUSE).await;
        Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "body truncated by a scripted fault",
        ))
    });
    Response::from_parts(parts, Body::from_stream(first_half.chain(failure)))
}

async fn json_to_xml(response: Response) -> Response {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if !is_json {
        return response;
    }

    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(error) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response();
        }
    };
    let xml = match serde_json::from_slice(&bytes) {
        Ok(value) => to_xml(&value, "Response", generic_element_name),
        Err(_) => String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response />\n"),
    };
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(xml))
}
