//! One HTTP exchange: send the GET, check the status, read the body within its size limit,
//! and turn every failure into an [`UpstreamError`].

use std::error::Error as StdError;
use std::time::{Duration, SystemTime};

use bytes::BytesMut;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use url::Url;

use crate::UpstreamError;
use crate::redact::redact_url;
use crate::request::Response;
use crate::retry::parse_retry_after;
use crate::tls::describe_tls_error;

/// A failed exchange, with the server's `Retry-After` when it sent one on 429 or 503.
#[derive(Debug)]
pub(crate) struct ExchangeError {
    pub error: UpstreamError,
    pub retry_after: Option<Duration>,
}

impl From<UpstreamError> for ExchangeError {
    fn from(error: UpstreamError) -> Self {
        Self {
            error,
            retry_after: None,
        }
    }
}

/// Everything one exchange needs.
pub(crate) struct Exchange<'a> {
    pub http: &'a reqwest::Client,
    pub url: &'a Url,
    pub url_redacted: &'a str,
    pub headers: &'a HeaderMap,
    /// Maximum body size in bytes.
    pub limit: u64,
    pub connect_timeout: Duration,
}

impl Exchange<'_> {
    /// Sends the request and reads the whole body. The caller bounds the total time.
    pub(crate) async fn run(&self) -> Result<Response, ExchangeError> {
        let response = self
            .http
            .get(self.url.clone())
            .headers(self.headers.clone())
            .send()
            .await
            .map_err(|error| self.send_error(&error))?;

        let status = response.status();
        if !status.is_success() && status != StatusCode::NOT_MODIFIED {
            return Err(self.status_error(status, response.headers()));
        }
        if response
            .content_length()
            .is_some_and(|length| length > self.limit)
        {
            return Err(self.too_large().into());
        }

        let content_type = header_text(response.headers(), header::CONTENT_TYPE);
        let etag = header_text(response.headers(), header::ETAG);
        let body = self.read_body(response).await?;

        Ok(Response {
            status: status.as_u16(),
            content_type,
            etag,
            body,
            url_redacted: self.url_redacted.to_owned(),
        })
    }

    /// Reads the body chunk by chunk, so an oversized body is rejected as soon as it passes
    /// the limit instead of after it was buffered whole.
    async fn read_body(
        &self,
        mut response: reqwest::Response,
    ) -> Result<bytes::Bytes, UpstreamError> {
        let expected = response.content_length();
        // Content-Length was checked against the limit, so this reserves at most `limit`.
        let capacity = expected.unwrap_or(0).min(self.limit);
        let mut body = BytesMut::with_capacity(usize::try_from(capacity).unwrap_or(0));

        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let total = body.len() as u64 + chunk.len() as u64;
                    if total > self.limit {
                        return Err(self.too_large());
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                // No read timeout is set on the client, so this is a broken connection.
                Err(error) => {
                    return Err(UpstreamError::Truncated {
                        url: self.url_redacted.to_owned(),
                        detail: format!("{} after {} bytes", innermost_message(&error), body.len()),
                    });
                }
            }
        }

        // hyper reports a short body as an error already; this guards the contract anyway.
        if let Some(expected) = expected
            && (body.len() as u64) < expected
        {
            return Err(UpstreamError::Truncated {
                url: self.url_redacted.to_owned(),
                detail: format!("received {} of {expected} bytes", body.len()),
            });
        }
        Ok(body.freeze())
    }

    fn send_error(&self, error: &reqwest::Error) -> ExchangeError {
        let url = self.url_redacted.to_owned();
        if let Some(tls) = find_rustls_error(error) {
            let host = self.url.host_str().unwrap_or_default();
            return UpstreamError::Tls {
                url,
                detail: describe_tls_error(tls, host),
            }
            .into();
        }
        // The request timeout wraps the whole exchange, so a timeout reported by reqwest
        // itself is the connect timeout.
        if error.is_timeout() {
            return self.timed_out(self.connect_timeout).into();
        }
        UpstreamError::Unreachable {
            url,
            detail: innermost_message(error),
        }
        .into()
    }

    fn status_error(&self, status: StatusCode, headers: &HeaderMap) -> ExchangeError {
        let url = self.url_redacted.to_owned();
        let retry_after = match status {
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => headers
                .get(header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| parse_retry_after(value, SystemTime::now())),
            _ => None,
        };

        let error = match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                UpstreamError::CredentialsRejected {
                    url,
                    status: status.as_u16(),
                }
            }
            StatusCode::NOT_FOUND => UpstreamError::NotFound { url },
            StatusCode::TOO_MANY_REQUESTS => UpstreamError::RateLimited { url, retry_after },
            _ => UpstreamError::Status {
                url,
                status: status.as_u16(),
                location: if status.is_redirection() {
                    self.redirect_target(headers)
                } else {
                    None
                },
            },
        };
        ExchangeError { error, retry_after }
    }

    /// Returns the `Location` of a redirect as an absolute URL with its secrets redacted, so
    /// the admin can see which address the server wants. A relative location is resolved
    /// against the request URL, as a browser would.
    fn redirect_target(&self, headers: &HeaderMap) -> Option<String> {
        let location = headers.get(header::LOCATION)?.to_str().ok()?;
        // A longer value is no address anyone would type, and would only bloat the message.
        if location.len() > MAX_LOCATION_BYTES {
            return None;
        }
        let target = self.url.join(location).ok()?;
        Some(redact_url(&target))
    }

    fn too_large(&self) -> UpstreamError {
        UpstreamError::TooLarge {
            url: self.url_redacted.to_owned(),
            limit: self.limit,
        }
    }

    fn timed_out(&self, after: Duration) -> UpstreamError {
        UpstreamError::TimedOut {
            url: self.url_redacted.to_owned(),
            after,
        }
    }
}

/// Maximum length in bytes of a redirect's `Location` that an error message includes.
const MAX_LOCATION_BYTES: usize = 2048;

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// Returns the message of the deepest cause of a reqwest error, such as "Connection refused
/// (os error 111)". reqwest's own message contains the full URL, token included, so it is
/// never shown.
pub(crate) fn innermost_message(error: &reqwest::Error) -> String {
    let Some(mut cause) = error.source() else {
        return if error.is_builder() {
            "invalid client settings".to_owned()
        } else {
            "request failed".to_owned()
        };
    };
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Finds the rustls error in an error's chain of causes.
///
/// With reqwest 0.13 it sits inside an `io::Error` inside another `io::Error`. The `source`
/// of an `io::Error` skips the error it wraps, so each `io::Error` is unwrapped by hand.
fn find_rustls_error(error: &reqwest::Error) -> Option<&rustls::Error> {
    let mut current: Option<&(dyn StdError + 'static)> = error.source();
    while let Some(cause) = current {
        let mut candidate: &(dyn StdError + 'static) = cause;
        loop {
            if let Some(tls) = candidate.downcast_ref::<rustls::Error>() {
                return Some(tls);
            }
            match candidate
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
            {
                Some(inner) => candidate = inner,
                None => break,
            }
        }
        current = cause.source();
    }
    None
}
