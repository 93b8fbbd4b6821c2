//! Plex responses: JSON or XML by `Accept`, container paging headers, and HTML errors.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::xml::to_xml;

/// Header and query parameter names of Plex paging.
pub(super) const CONTAINER_START: &str = "X-Plex-Container-Start";
pub(super) const CONTAINER_SIZE: &str = "X-Plex-Container-Size";
const CONTAINER_TOTAL_SIZE: &str = "X-Plex-Container-Total-Size";

/// Returns whether the client requested JSON in the one way Plex honours: a single `Accept` header
/// whose whole value is `application/json`. `application/json, text/plain, */*` gets XML.
pub(super) fn wants_json(headers: &HeaderMap) -> bool {
    let mut accept = headers.get_all(header::ACCEPT).iter();
    match (accept.next(), accept.next()) {
        (Some(value), None) => value.as_bytes() == b"application/json",
        _ => false,
    }
}

/// Element name of an entry of a `Metadata` array in Plex XML: `Video` for playable video,
/// `Directory` for containers, `Track`, `Photo` and `Playlist` for those.
fn element_name(key: &str, entry: &Value) -> String {
    if key != "Metadata" {
        return key.to_owned();
    }
    let name = match entry.get("type").and_then(Value::as_str) {
        Some("movie" | "episode" | "clip") => "Video",
        Some("track") => "Track",
        Some("photo") => "Photo",
        Some("playlist") => "Playlist",
        _ => "Directory",
    };
    name.to_owned()
}

/// Builds the response with `document` (`{"MediaContainer": {...}}`) as JSON or XML for
/// `request_headers`.
pub(super) fn container(request_headers: &HeaderMap, document: &Value) -> Response {
    if wants_json(request_headers) {
        (
            [(header::CONTENT_TYPE, "application/json")],
            document.to_string(),
        )
            .into_response()
    } else {
        (
            [(header::CONTENT_TYPE, "application/xml")],
            to_xml(document, "MediaContainer", element_name),
        )
            .into_response()
    }
}

/// Like [`container`], with the paging headers Plex adds to listings.
pub(super) fn paged_container(
    request_headers: &HeaderMap,
    document: &Value,
    start: usize,
    total: usize,
) -> Response {
    let mut response = container(request_headers, document);
    let headers = response.headers_mut();
    headers.insert(CONTAINER_START, HeaderValue::from(start));
    headers.insert(CONTAINER_TOTAL_SIZE, HeaderValue::from(total));
    response
}

/// Plex's HTML error page for `status`.
pub(super) fn html_error(status: StatusCode) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    let code = status.as_u16();
    (
        status,
        [(header::CONTENT_TYPE, "text/html")],
        format!(
            "<html><head><title>{reason}</title></head><body><h1>{code} {reason}</h1></body></html>"
        ),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(accept: &[&'static str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in accept {
            map.append(header::ACCEPT, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn json_only_for_exact_accept() {
        assert!(wants_json(&headers(&["application/json"])));
        assert!(!wants_json(&headers(&[])));
        assert!(!wants_json(&headers(&[
            "application/json, text/plain, */*"
        ])));
        assert!(!wants_json(&headers(&["Application/JSON"])));
        assert!(!wants_json(&headers(&["application/json", "text/plain"])));
    }
}
