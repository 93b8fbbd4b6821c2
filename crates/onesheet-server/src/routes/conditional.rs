//! Conditional GET helpers shared by the API and image routes.

use axum::http::{HeaderMap, header};

/// True when `If-None-Match` lists `etag` or `*`. Uses the weak comparison of RFC 9110 §13.1.2,
/// which is the one defined for `If-None-Match`: `W/"x"` and `"x"` match.
pub(crate) fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    let wanted = etag.trim_start_matches("W/");
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == wanted)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn matches_exact_weak_list_and_star() {
        assert!(if_none_match(&headers("\"abc\""), "\"abc\""));
        assert!(if_none_match(&headers("W/\"abc\""), "\"abc\""));
        assert!(if_none_match(&headers("\"x\", \"abc\""), "W/\"abc\""));
        assert!(if_none_match(&headers("*"), "\"abc\""));
    }

    #[test]
    fn rejects_other_tags_and_missing_header() {
        assert!(!if_none_match(&headers("\"abd\""), "\"abc\""));
        assert!(!if_none_match(&headers("abc"), "\"abc\""));
        assert!(!if_none_match(&HeaderMap::new(), "\"abc\""));
    }
}
