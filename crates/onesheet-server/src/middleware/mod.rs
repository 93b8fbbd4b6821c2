//! Cross-cutting request handling: request ids and spans, error bodies, security headers, and
//! the redirect from plain HTTP to HTTPS.

mod force_https;
mod headers;
mod request;

pub(crate) use force_https::with_https_redirect;
pub(crate) use headers::{
    add_security_headers, allow_framing_own_pages, allow_same_origin_framing,
};
pub(crate) use request::TrackRequestLayer;
