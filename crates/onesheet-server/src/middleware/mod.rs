//! Cross-cutting request handling: request ids and spans, error bodies, security headers.

mod headers;
mod request;

pub(crate) use headers::with_security_headers;
pub(crate) use request::track_request;
