//! Cross-cutting request handling: request ids and spans, error bodies, security headers, the
//! display access check, and the redirect from plain HTTP to HTTPS.

mod display;
mod force_https;
mod headers;
mod request;

pub(crate) use display::require_display_access;
pub(crate) use force_https::with_https_redirect;
pub(crate) use headers::with_security_headers;
pub(crate) use request::track_request;
