//! Security headers on every response.
//!
//! The content security policy allows scripts, styles and fetches from this server only, with no
//! inline code, so an injected string in a title can never run. Framing is denied, except that
//! the settings editor frames a display page of this server as its live preview.

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};

/// `worker-src` would fall back to `script-src`, but it is spelled out because the display
/// pages register a service worker, which must come from this server too.
macro_rules! content_security_policy {
    ($framing:literal) => {
        concat!(
            "default-src 'none'; script-src 'self'; style-src 'self'; ",
            "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; manifest-src 'self'; ",
            "worker-src 'self'; base-uri 'none'; form-action 'self'; ",
            $framing
        )
    };
}

const CONTENT_SECURITY_POLICY: &str = content_security_policy!("frame-ancestors 'none'");

/// Policy of a display page opened as the settings editor's preview, which only pages of this
/// server may frame.
const FRAMED_PREVIEW_POLICY: &str = content_security_policy!("frame-ancestors 'self'");

/// Policy of the settings editor, which frames a display page of this server.
const PREVIEW_FRAMING_POLICY: &str =
    content_security_policy!("frame-src 'self'; frame-ancestors 'none'");

const PERMISSIONS_POLICY: &str =
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()";

/// The headers every response carries unless its handler set its own value. A static, so that
/// the values are checked once at compile time: `HeaderValue::from_static` called at run time
/// would scan the whole policy text on every response.
static SECURITY_HEADERS: [(HeaderName, HeaderValue); 7] = [
    (
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    ),
    (
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ),
    (
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    ),
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    (
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static(PERMISSIONS_POLICY),
    ),
    // No other site's window keeps a handle to ours, and no other site may embed our
    // responses (posters, the playlist) in its own pages.
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    ),
    (
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-origin"),
    ),
];

/// Adds the security headers to a response's `headers`, keeping any value a handler set. The
/// request tracker calls it for every response, which costs a few map inserts where a layer per
/// header would cost a boxed service and future each.
pub(crate) fn add_security_headers(headers: &mut HeaderMap) {
    for (name, value) in &SECURITY_HEADERS {
        headers.entry(name).or_insert_with(|| value.clone());
    }
}

/// Lets pages of this server frame the response, and no other site: for a display page opened
/// as the settings editor's preview.
pub(crate) fn allow_same_origin_framing(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(FRAMED_PREVIEW_POLICY),
    );
    headers.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
}

/// Lets the response frame pages of this server: for the settings editor and its preview.
pub(crate) fn allow_framing_own_pages(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PREVIEW_FRAMING_POLICY),
    );
}
