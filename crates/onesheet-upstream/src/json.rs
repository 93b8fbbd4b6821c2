//! The strict JSON check behind `get_json`: the content type must be JSON. A web page sent in
//! its place (a login page, a proxy's error page) gets an error that calls it an HTML page.

use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

use crate::UpstreamError;
use crate::request::{Response, media_type};

/// Checks that `response` is JSON and decodes it into `T`.
pub(crate) fn decode<T: DeserializeOwned>(response: &Response) -> Result<T, UpstreamError> {
    check_content_type(response)?;

    // serde_json rejects a byte order mark, which some .NET servers put before the JSON.
    let body = response
        .body
        .strip_prefix(UTF8_BOM)
        .unwrap_or(&response.body);
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| UpstreamError::Decode {
        url: response.url_redacted.clone(),
        detail: decode_detail(&error),
    })
}

/// Describes a decode error, with the JSON path when any step of it is known. An empty path
/// (the error is at the root) would print as `.`, and an unknown one as `?`.
fn decode_detail(error: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = error.path();
    let known = path
        .iter()
        .any(|segment| !matches!(segment, Segment::Unknown));
    if known {
        format!("{} (at JSON path {path})", error.inner())
    } else {
        error.inner().to_string()
    }
}

fn check_content_type(response: &Response) -> Result<(), UpstreamError> {
    let start = body_start(&response.body);
    let got = match response.content_type.as_deref().map(media_type) {
        Some(media) if is_json_media_type(&media) => return Ok(()),
        // Some servers omit the header; a body that opens like JSON gets the benefit of the doubt.
        None if start
            .first()
            .is_some_and(|byte| matches!(byte, b'{' | b'[')) =>
        {
            return Ok(());
        }
        Some(media) => media,
        None => "a response without Content-Type".to_owned(),
    };

    let html = got == "text/html" || got == "application/xhtml+xml" || looks_like_html(start);
    Err(UpstreamError::UnexpectedContentType {
        url: response.url_redacted.clone(),
        expected: "JSON",
        got,
        html,
    })
}

fn is_json_media_type(media: &str) -> bool {
    media == "application/json" || media == "text/json" || media.ends_with("+json")
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Returns the body after a UTF-8 byte order mark and leading whitespace.
fn body_start(body: &[u8]) -> &[u8] {
    let body = body.strip_prefix(UTF8_BOM).unwrap_or(body);
    let skip = body
        .iter()
        .take_while(|byte| byte.is_ascii_whitespace())
        .count();
    &body[skip..]
}

fn looks_like_html(start: &[u8]) -> bool {
    let head = &start[..start.len().min(15)];
    let head = head.to_ascii_lowercase();
    head.starts_with(b"<!doctype html") || head.starts_with(b"<html")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use bytes::Bytes;
    use serde::Deserialize;

    use super::*;

    fn response(content_type: Option<&str>, body: &'static str) -> Response {
        Response {
            status: 200,
            content_type: content_type.map(str::to_owned),
            etag: None,
            body: Bytes::from_static(body.as_bytes()),
            url_redacted: "http://jf.local/Items?api_key=***".to_owned(),
        }
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Page {
        items: Vec<Item>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Item {
        year: u16,
    }

    #[test]
    fn json_types_are_accepted() {
        for content_type in [
            Some("application/json"),
            Some("application/json; charset=utf-8"),
            Some("application/vnd.api+json"),
            Some("text/json"),
            None,
        ] {
            let page: Page = decode(&response(
                content_type,
                "\u{feff} {\"items\":[{\"year\":1999}]}",
            ))
            .unwrap();
            assert_eq!(page.items[0].year, 1999, "{content_type:?}");
        }
    }

    #[test]
    fn html_page_is_named() {
        let error = decode::<Page>(&response(
            Some("text/html; charset=utf-8"),
            "<!DOCTYPE html><title>Sign in</title>",
        ))
        .unwrap_err();

        let UpstreamError::UnexpectedContentType { got, html, .. } = &error else {
            panic!("{error:?}");
        };
        assert_eq!(got, "text/html");
        assert!(html);
        assert!(
            error
                .to_string()
                .starts_with("expected JSON, got text/html from http://jf.local/Items?api_key=***")
        );
    }

    #[test]
    fn html_without_content_type_is_detected() {
        let error = decode::<Page>(&response(None, "\n <HTML><body>login</body>")).unwrap_err();

        assert!(
            matches!(
                error,
                UpstreamError::UnexpectedContentType { html: true, .. }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn xml_is_not_json_but_not_html() {
        let error =
            decode::<Page>(&response(Some("application/xml"), "<MediaContainer/>")).unwrap_err();

        let UpstreamError::UnexpectedContentType { got, html, .. } = &error else {
            panic!("{error:?}");
        };
        assert_eq!(got, "application/xml");
        assert!(!html);
    }

    #[test]
    fn decode_error_names_json_path() {
        let error = decode::<Page>(&response(
            Some("application/json"),
            "{\"items\":[{\"year\":1999},{\"year\":\"soon\"}]}",
        ))
        .unwrap_err();

        let UpstreamError::Decode { detail, .. } = &error else {
            panic!("{error:?}");
        };
        assert!(detail.contains("items[1].year"), "{detail}");
        assert_eq!(error.code(), "source-invalid-response");
    }

    #[test]
    fn decode_error_without_path_omits_it() {
        // serde_path_to_error writes an empty path as `.` and an unknown position as `?`.
        for body in ["[]", "", "{\"items\":[{\"year\":1999}]", "{\"items\":[]]"] {
            let error = decode::<Page>(&response(Some("application/json"), body)).unwrap_err();

            let UpstreamError::Decode { detail, .. } = &error else {
                panic!("{body:?}: {error:?}");
            };
            assert!(!detail.contains("JSON path"), "{body:?}: {detail}");
            assert!(detail.contains("at line 1 column"), "{body:?}: {detail}");
        }
    }
}
