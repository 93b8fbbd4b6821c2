//! Content encoding for bodies compressed once and sent many times, such as playlist pages.
//!
//! Compressing a page as it is rendered, not per request, keeps the display API's cost per
//! request at a lookup and a copy of headers, however many screens fetch the page.

use std::io::Write;

use axum::http::{HeaderMap, header};
use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;

/// Returns true when `Accept-Encoding` lists gzip (or `*`) without `q=0` (RFC 9110, section
/// 12.5.3). Without the header the body is sent uncompressed, as load tools and `curl` without
/// `--compressed` expect.
pub(super) fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|entry| {
            let mut parts = entry.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let listed = coding.eq_ignore_ascii_case("gzip")
                || coding.eq_ignore_ascii_case("x-gzip")
                || coding == "*";
            listed && !parts.any(is_zero_quality)
        })
}

/// Returns true for a `q=0` parameter in any spelling of zero (`0`, `0.0`, `0.000`).
fn is_zero_quality(parameter: &str) -> bool {
    let Some((name, value)) = parameter.split_once('=') else {
        return false;
    };
    name.trim().eq_ignore_ascii_case("q")
        && value
            .trim()
            .trim_start_matches('0')
            .trim_start_matches('.')
            .chars()
            .all(|c| c == '0')
}

/// Compresses `body` with gzip at flate2's default level (6). Pages are compressed once per
/// catalog revision, so the level's cost hardly matters.
pub(super) fn gzip(body: &[u8]) -> std::io::Result<Bytes> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::default());
    encoder.write_all(body)?;
    Ok(Bytes::from(encoder.finish()?))
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use axum::http::HeaderValue;
    use flate2::read::GzDecoder;

    use super::*;

    fn accepts(value: &str) -> bool {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        accepts_gzip(&headers)
    }

    #[test]
    fn accept_encoding_cases() {
        let cases = [
            ("gzip", true),
            ("gzip, deflate, br, zstd", true),
            ("br;q=1.0, GZIP;q=0.5", true),
            ("x-gzip", true),
            ("*", true),
            ("gzip;q=0", false),
            ("gzip; q=0.000", false),
            ("gzip;q=0.001", true),
            ("br", false),
            ("identity", false),
            ("gzipped", false),
            ("", false),
        ];
        for (value, expected) in cases {
            assert_eq!(accepts(value), expected, "Accept-Encoding: {value:?}");
        }
    }

    #[test]
    fn missing_header_means_identity() {
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn gzip_round_trips() {
        let body = br#"{"items":[{"title":"A"},{"title":"A"},{"title":"A"}]}"#.repeat(50);

        let compressed = gzip(&body).unwrap();

        assert!(compressed.len() < body.len() / 5);
        let mut decoded = Vec::new();
        GzDecoder::new(&compressed[..])
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(decoded, body);
    }
}
