//! The requests a source sends and the responses it receives.

use std::fmt;

use bytes::Bytes;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};

use crate::redact::{REDACTED, is_secret_name};

/// Kind of content in a response body, which sets its size limit and the default `Accept`
/// header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodyKind {
    /// A JSON or XML page of an API; limited by `SourcePolicy::max_json_bytes`.
    Json,
    /// An image; limited by `SourcePolicy::max_image_bytes`.
    Image,
}

/// Headers that carry credentials on the servers we talk to. They are always marked
/// sensitive, so the `Debug` output of a request hides their values.
const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "x-plex-token",
    "x-emby-token",
    "x-emby-authorization",
    "x-mediabrowser-token",
];

/// One GET request relative to a source's [`ServerAddress`](crate::ServerAddress).
///
/// ```
/// use onesheet_upstream::{HeaderName, HeaderValue, Request};
///
/// let token = HeaderValue::from_static("secret");
/// let request = Request::json("library-items", "/library/sections/1/all")
///     .query("X-Plex-Container-Start", "0")
///     .query("X-Plex-Container-Size", "200")
///     .secret_header(HeaderName::from_static("x-plex-token"), token);
/// ```
///
/// `Debug` output shows `***` for the values of sensitive headers and of query parameters
/// whose names look like credentials.
#[derive(Clone)]
pub struct Request {
    pub(crate) endpoint: &'static str,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: HeaderMap,
    pub(crate) kind: BodyKind,
}

impl Request {
    /// Creates a request for an API page with `Accept: application/json`, the exact value Plex
    /// needs to respond with JSON instead of XML.
    ///
    /// `endpoint` names the API call in metrics (`library-items`, `image`); keep it to a small
    /// fixed set, because every value becomes a label.
    pub fn json(endpoint: &'static str, path: impl Into<String>) -> Self {
        Self::new(endpoint, path, BodyKind::Json, "application/json")
    }

    /// Creates a request for an image with `Accept: image/*`.
    pub fn image(endpoint: &'static str, path: impl Into<String>) -> Self {
        Self::new(endpoint, path, BodyKind::Image, "image/*")
    }

    fn new(
        endpoint: &'static str,
        path: impl Into<String>,
        kind: BodyKind,
        accept: &'static str,
    ) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static(accept));
        Self {
            endpoint,
            path: path.into(),
            query: Vec::new(),
            headers,
            kind,
        }
    }

    /// Appends a query parameter; the value is percent-encoded when the URL is built.
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Sets a header, replacing an earlier value of the same name. Credential headers such as
    /// `Authorization` and `X-Plex-Token` are marked sensitive whichever method sets them.
    pub fn header(mut self, name: HeaderName, mut value: HeaderValue) -> Self {
        if CREDENTIAL_HEADERS.contains(&name.as_str()) {
            value.set_sensitive(true);
        }
        self.headers.insert(name, value);
        self
    }

    /// Sets a header that carries a secret, marked sensitive so that `Debug` output hides its
    /// value.
    pub fn secret_header(self, name: HeaderName, mut value: HeaderValue) -> Self {
        value.set_sensitive(true);
        self.header(name, value)
    }

    /// Replaces the `Accept` header, for example with `application/xml`.
    pub fn accept(self, value: HeaderValue) -> Self {
        self.header(header::ACCEPT, value)
    }

    pub fn endpoint(&self) -> &'static str {
        self.endpoint
    }

    pub fn kind(&self) -> BodyKind {
        self.kind
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let query: Vec<(&str, &str)> = self
            .query
            .iter()
            .map(|(name, value)| {
                let value = if is_secret_name(name) {
                    REDACTED
                } else {
                    value.as_str()
                };
                (name.as_str(), value)
            })
            .collect();
        formatter
            .debug_struct("Request")
            .field("endpoint", &self.endpoint)
            .field("path", &self.path)
            .field("query", &query)
            .field("headers", &self.headers)
            .field("kind", &self.kind)
            .finish()
    }
}

/// A successful response (2xx, or 304 to a conditional request) with its whole body.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// The `Content-Type` header as sent, parameters included.
    pub content_type: Option<String>,
    pub etag: Option<String>,
    pub body: Bytes,
    /// The request URL with its secrets replaced by `***`, for messages and logs.
    pub url_redacted: String,
}

impl Response {
    /// Returns the media type of `Content-Type` in lower case, without parameters:
    /// `application/json` for `application/json; charset=utf-8`.
    pub fn media_type(&self) -> Option<String> {
        self.content_type.as_deref().map(media_type)
    }
}

pub(crate) fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_headers_are_sensitive() {
        let request = Request::json("test", "/")
            .header(
                HeaderName::from_static("x-plex-token"),
                HeaderValue::from_static("a"),
            )
            .header(
                HeaderName::from_static("x-plex-client-identifier"),
                HeaderValue::from_static("b"),
            )
            .secret_header(
                HeaderName::from_static("x-custom-key"),
                HeaderValue::from_static("c"),
            );

        assert!(request.headers["x-plex-token"].is_sensitive());
        assert!(!request.headers["x-plex-client-identifier"].is_sensitive());
        assert!(request.headers["x-custom-key"].is_sensitive());
        assert!(!format!("{request:?}").contains("\"a\""));
    }

    #[test]
    fn debug_hides_secret_query_values() {
        let request = Request::json("test", "/Items")
            .query("api_key", "hunter2")
            .query("Limit", "50");

        let debug = format!("{request:?}");

        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("\"50\""), "{debug}");
    }

    #[test]
    fn json_request_accepts_exactly_json() {
        let request = Request::json("test", "/");

        assert_eq!(request.headers[header::ACCEPT], "application/json");
        assert_eq!(request.kind(), BodyKind::Json);
    }

    #[test]
    fn media_type_drops_parameters() {
        assert_eq!(
            media_type("Application/JSON; charset=utf-8"),
            "application/json"
        );
        assert_eq!(media_type("text/html"), "text/html");
    }
}
