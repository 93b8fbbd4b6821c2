//! Errors of upstream requests, each with a stable machine code and the URL with its secrets
//! removed.
//!
//! Messages are written for the admin who configured the source: what failed, on which URL,
//! and what to check next. They never contain a token, because every URL in them went through
//! [`redact_url`](crate::redact_url).

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// A failed upstream request or a source client that could not be built.
///
/// Clone, because the result of one coalesced request goes to every caller that waited for it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UpstreamError {
    /// DNS failure, connection refused or reset, or no route to the host.
    #[error(
        "cannot reach {url}: {detail}; check the address and port, and that the server is running"
    )]
    Unreachable { url: String, detail: String },

    /// The TLS handshake failed; `detail` names the certificate problem and the fix.
    #[error("TLS connection to {url} failed: {detail}")]
    Tls { url: String, detail: String },

    /// No connection within the connect timeout, or no complete response within the request
    /// timeout.
    #[error(
        "request to {url} timed out after {after:?}; check that the server is up and not overloaded"
    )]
    TimedOut { url: String, after: Duration },

    /// 401 or 403. The message stays generic, because a 401 from an endpoint that needs no
    /// credential points at a reverse proxy instead, which only the caller can tell.
    #[error(
        "{url} rejected the credentials (HTTP {status}); check the token or API key of this source"
    )]
    CredentialsRejected { url: String, status: u16 },

    /// 404.
    #[error(
        "{url} returned 404 Not Found; check the base path, and that the library or item still exists"
    )]
    NotFound { url: String },

    /// 429, after the retries, or with a Retry-After longer than the client waits.
    #[error("{url} is limiting the request rate (HTTP 429){}; lower the refresh frequency of this source", retry_after_text(*.retry_after))]
    RateLimited {
        url: String,
        retry_after: Option<Duration>,
    },

    /// Any other status that is neither success nor one of the above, including redirects,
    /// which are never followed so that a server cannot send the client to another host.
    /// `location` is the absolute, redacted target of a redirect that has one.
    #[error("{url} returned HTTP {status}{}{}", location_text(.location.as_deref()), status_hint(*.status))]
    Status {
        url: String,
        status: u16,
        location: Option<String>,
    },

    /// A response body of another type than the caller expected. `html` is set when the body
    /// is an HTML page, which usually is a login page or a reverse proxy's error page.
    #[error("expected {expected}, got {got} from {url}{}", if *.html { "; the server sent a web page, often a login or proxy error page: check the address and base path" } else { "" })]
    UnexpectedContentType {
        url: String,
        expected: &'static str,
        got: String,
        html: bool,
    },

    /// The body is larger than the limit for its kind of request, by Content-Length or while
    /// it was read.
    #[error("response from {url} is larger than the limit of {limit} bytes")]
    TooLarge { url: String, limit: u64 },

    /// The body ended before its Content-Length, or the connection broke while it was read.
    #[error("response from {url} ended early: {detail}")]
    Truncated { url: String, detail: String },

    /// The body could not be decoded into the expected shape; `detail` includes the JSON path
    /// when it is known.
    #[error("invalid response from {url}: {detail}")]
    Decode { url: String, detail: String },

    /// The source failed repeatedly, so requests are not sent until `until`.
    #[error("requests to {url} are paused until {} after repeated failures; see the source's last error", httpdate::fmt_http_date(*.until))]
    CircuitOpen { url: String, until: SystemTime },

    /// The CA file of a source is not a regular file, is larger than 1 MiB, cannot be read, or
    /// contains no certificate.
    #[error("cannot use CA file {}: {detail}", .path.display())]
    CaFile { path: PathBuf, detail: String },

    /// The HTTP client itself could not be built.
    #[error("cannot build the HTTP client: {detail}")]
    ClientSetup { detail: String },
}

impl UpstreamError {
    /// Returns a stable machine code for clients and the status API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unreachable { .. } => "source-unreachable",
            Self::Tls { .. } | Self::CaFile { .. } => "source-tls",
            Self::TimedOut { .. } => "source-timeout",
            Self::CredentialsRejected { .. } => "source-auth-rejected",
            Self::NotFound { .. } => "source-not-found",
            Self::RateLimited { .. } => "source-rate-limited",
            Self::Status { .. } => "source-http-status",
            Self::UnexpectedContentType { .. } => "source-not-json",
            Self::TooLarge { .. } => "source-too-large",
            Self::Truncated { .. } | Self::Decode { .. } => "source-invalid-response",
            Self::CircuitOpen { .. } => "source-circuit-open",
            Self::ClientSetup { .. } => "source-client-setup",
        }
    }

    /// Returns the redacted URL of the failed request, if there was one.
    pub fn url(&self) -> Option<&str> {
        match self {
            Self::Unreachable { url, .. }
            | Self::Tls { url, .. }
            | Self::TimedOut { url, .. }
            | Self::CredentialsRejected { url, .. }
            | Self::NotFound { url }
            | Self::RateLimited { url, .. }
            | Self::Status { url, .. }
            | Self::UnexpectedContentType { url, .. }
            | Self::TooLarge { url, .. }
            | Self::Truncated { url, .. }
            | Self::Decode { url, .. }
            | Self::CircuitOpen { url, .. } => Some(url),
            Self::CaFile { .. } | Self::ClientSetup { .. } => None,
        }
    }

    /// Returns true for failures that may pass on their own: network errors, timeouts, 408,
    /// 429 and 5xx. Certificate problems, other 4xx and oversized bodies would fail again.
    pub(crate) fn is_retryable(&self) -> bool {
        match self {
            Self::Unreachable { .. }
            | Self::TimedOut { .. }
            | Self::Truncated { .. }
            | Self::RateLimited { .. } => true,
            Self::Status { status, .. } => *status == 408 || *status >= 500,
            _ => false,
        }
    }

    /// Returns true when the failure suggests the server is unwell, which the circuit breaker
    /// counts. A 4xx other than 408 and 429 is a response from a healthy server.
    pub(crate) fn counts_against_server(&self) -> bool {
        match self {
            Self::Tls { .. } => true,
            other => other.is_retryable(),
        }
    }
}

fn retry_after_text(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(wait) => format!(" and asks to wait {} s", wait.as_secs()),
        None => String::new(),
    }
}

fn location_text(location: Option<&str>) -> String {
    match location {
        Some(location) => format!(" (Location: {location})"),
        None => String::new(),
    }
}

fn status_hint(status: u16) -> &'static str {
    match status {
        300..=399 => "; redirects are not followed, so enter the address the server redirects to",
        500..=599 => "; the server failed, see its log",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_message_names_type_and_url() {
        let error = UpstreamError::UnexpectedContentType {
            url: "https://jf.example.org/Items?api_key=***".to_owned(),
            expected: "JSON",
            got: "text/html".to_owned(),
            html: true,
        };

        let message = error.to_string();

        assert!(
            message.starts_with(
                "expected JSON, got text/html from https://jf.example.org/Items?api_key=***"
            ),
            "{message}"
        );
        assert!(message.contains("login"), "{message}");
        assert_eq!(error.code(), "source-not-json");
    }

    #[test]
    fn retry_and_breaker_classes() {
        let url = String::new();
        let status = |status| UpstreamError::Status {
            url: url.clone(),
            status,
            location: None,
        };

        assert!(status(500).is_retryable());
        assert!(status(503).is_retryable());
        assert!(status(408).is_retryable());
        assert!(!status(400).is_retryable());
        assert!(!status(302).is_retryable());
        assert!(!UpstreamError::NotFound { url: url.clone() }.is_retryable());
        assert!(
            !UpstreamError::CredentialsRejected {
                url: url.clone(),
                status: 401
            }
            .is_retryable()
        );
        assert!(
            UpstreamError::RateLimited {
                url: url.clone(),
                retry_after: None
            }
            .is_retryable()
        );

        assert!(status(502).counts_against_server());
        assert!(!status(400).counts_against_server());
        assert!(!UpstreamError::NotFound { url: url.clone() }.counts_against_server());
        assert!(
            UpstreamError::Tls {
                url,
                detail: String::new()
            }
            .counts_against_server()
        );
    }
}
