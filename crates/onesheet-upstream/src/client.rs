//! The client every source uses: one shared connection pool, and per source a concurrency
//! limit, a circuit breaker, retries and coalescing of identical requests.
//!
//! A call to [`SourceClient::get`] goes through these steps:
//! 1. Build the URL from the source's address and join an identical request in flight, if
//!    there is one.
//! 2. Per attempt: ask the circuit breaker for leave, wait for a concurrency slot, then send
//!    the request and read the body within the request timeout.
//! 3. On a retryable failure, free the slot and wait with backoff (and never less than the
//!    server's `Retry-After`), then try again until `max_attempts`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::FutureExt;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tracing::Instrument;
use url::Url;

use crate::address::ServerAddress;
use crate::breaker::{Breaker, BreakerPolicy, Transition};
use crate::coalesce::InFlight;
use crate::redact::redact_url;
use crate::request::{BodyKind, Request, Response};
use crate::retry::RetryPolicy;
use crate::stats::{SourceStats, StatsRecorder, describe_metrics};
use crate::tls::{HttpSettings, TlsOptions, build_http_client};
use crate::transport::{Exchange, ExchangeError};
use crate::{UpstreamError, json};

/// Limits and failure handling of one source.
#[derive(Debug, Clone)]
pub struct SourcePolicy {
    /// Maximum time for one request, from sending it to the last body byte. A paged listing
    /// makes one request per page, so this bounds a page, not the whole listing.
    pub request_timeout: Duration,
    /// Requests sent to the source at once; further requests wait. At least 1.
    pub max_in_flight: usize,
    /// Maximum body size in bytes of a [`BodyKind::Json`] request.
    pub max_json_bytes: u64,
    /// Maximum body size in bytes of a [`BodyKind::Image`] request.
    pub max_image_bytes: u64,
    pub retry: RetryPolicy,
    pub breaker: BreakerPolicy,
}

impl Default for SourcePolicy {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            max_in_flight: 4,
            max_json_bytes: 32 * 1024 * 1024,
            max_image_bytes: 50 * 1024 * 1024,
            retry: RetryPolicy::default(),
            breaker: BreakerPolicy::default(),
        }
    }
}

/// Settings of the [`UpstreamClient`] and the policy a source gets unless it has its own.
#[derive(Debug, Clone)]
pub struct ClientDefaults {
    /// Maximum time to open a TCP connection and finish the TLS handshake.
    pub connect_timeout: Duration,
    pub user_agent: String,
    pub policy: SourcePolicy,
}

impl Default for ClientDefaults {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            user_agent: concat!("Onesheet/", env!("CARGO_PKG_VERSION")).to_owned(),
            policy: SourcePolicy::default(),
        }
    }
}

/// Settings of one source.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    pub tls: TlsOptions,
    /// The source's own policy; `None` takes [`ClientDefaults::policy`].
    pub policy: Option<SourcePolicy>,
}

/// The HTTP client of all sources. Cheap to clone; clones share one connection pool.
#[derive(Debug, Clone)]
pub struct UpstreamClient {
    inner: Arc<ClientInner>,
}

#[derive(Debug)]
struct ClientInner {
    /// Client with default TLS settings, shared by every source that has no TLS options.
    shared_http: reqwest::Client,
    defaults: ClientDefaults,
}

impl UpstreamClient {
    /// Builds the shared client. Also installs ring as rustls' crypto provider, see
    /// [`install_crypto_provider`](crate::install_crypto_provider).
    pub fn new(defaults: ClientDefaults) -> Result<Self, UpstreamError> {
        describe_metrics();
        let shared_http = build_http_client(&http_settings(&defaults), &TlsOptions::default())?;
        Ok(Self {
            inner: Arc::new(ClientInner {
                shared_http,
                defaults,
            }),
        })
    }

    /// Creates the client of one configured source.
    ///
    /// `id` labels the source's metrics and stats, `kind` names its server software
    /// (`plex`, `jellyfin`). A source with TLS options gets its own connection pool, because
    /// TLS settings belong to a reqwest client; all others share one pool. A bad CA file
    /// fails here with [`UpstreamError::CaFile`], naming the path.
    pub fn source(
        &self,
        id: &str,
        kind: &'static str,
        address: ServerAddress,
        options: SourceOptions,
    ) -> Result<SourceClient, UpstreamError> {
        let defaults = &self.inner.defaults;
        let http = if options.tls.is_custom() {
            build_http_client(&http_settings(defaults), &options.tls)?
        } else {
            self.inner.shared_http.clone()
        };

        let tls_verify_disabled = !options.tls.verify;
        if tls_verify_disabled {
            tracing::warn!(
                source.id = id,
                source.kind = kind,
                "TLS certificate verification is off for this source, so anyone on the network \
                 path can read its credentials; set a CA file instead if you can"
            );
        }

        let policy = options.policy.unwrap_or_else(|| defaults.policy.clone());
        Ok(SourceClient {
            inner: Arc::new(SourceInner {
                id: id.to_owned(),
                kind,
                address,
                http,
                connect_timeout: defaults.connect_timeout,
                limiter: Semaphore::new(policy.max_in_flight.max(1)),
                max_in_flight: policy.max_in_flight.max(1),
                breaker: Breaker::new(policy.breaker.clone()),
                policy,
                stats: StatsRecorder::new(id),
                in_flight: Arc::new(InFlight::new()),
                tls_verify_disabled,
            }),
        })
    }
}

fn http_settings(defaults: &ClientDefaults) -> HttpSettings<'_> {
    HttpSettings {
        connect_timeout: defaults.connect_timeout,
        user_agent: &defaults.user_agent,
    }
}

/// The client of one source. Cheap to clone; clones share limits, breaker and stats.
#[derive(Debug, Clone)]
pub struct SourceClient {
    inner: Arc<SourceInner>,
}

/// Identity of a request for coalescing. The source is implied, because each source has its
/// own map.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RequestKey {
    url: String,
    kind: BodyKind,
    headers: Vec<(String, Vec<u8>)>,
}

type Outcome = Result<Response, UpstreamError>;

#[derive(Debug)]
struct SourceInner {
    id: String,
    kind: &'static str,
    address: ServerAddress,
    http: reqwest::Client,
    connect_timeout: Duration,
    policy: SourcePolicy,
    limiter: Semaphore,
    max_in_flight: usize,
    breaker: Breaker,
    stats: StatsRecorder,
    in_flight: Arc<InFlight<RequestKey, Outcome>>,
    tls_verify_disabled: bool,
}

impl SourceClient {
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    pub fn address(&self) -> &ServerAddress {
        &self.inner.address
    }

    /// Sends a GET and returns any 2xx (or 304) response with its whole body, whatever its
    /// content type: a Plex server may respond with XML despite `Accept: application/json`, and
    /// the caller can parse that itself.
    ///
    /// Identical requests in flight at the same time (same URL, headers and body kind) share
    /// one upstream request. Failures are retried as the source's [`RetryPolicy`] says.
    pub async fn get(&self, request: Request) -> Result<Response, UpstreamError> {
        let query: Vec<(&str, &str)> = request
            .query
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        let url = self.inner.address.url(&request.path, &query);
        let key = request_key(&url, &request);

        let source = Arc::clone(&self.inner);
        let (response, joined) = self.inner.in_flight.join_or_start(key, move || {
            let span = tracing::info_span!(
                "upstream_get",
                source.id = %source.id,
                endpoint = request.endpoint,
            );
            async move { source.fetch(url, request).await }
                .instrument(span)
                .boxed()
        });
        if joined {
            self.inner.stats.record_coalesced();
        }
        response.await
    }

    /// Sends a GET and decodes the body as JSON. Unlike [`get`](Self::get), rejects a body
    /// whose content type is not JSON, with an error that flags an HTML page.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        request: Request,
    ) -> Result<T, UpstreamError> {
        let response = self.get(request).await?;
        let decoded = json::decode(&response);
        if let Err(error) = &decoded {
            self.inner.stats.record_invalid_response(error);
        }
        decoded
    }

    /// Returns a snapshot of the source's counters and health.
    pub fn stats(&self) -> SourceStats {
        let inner = &self.inner;
        let (state, open_until) = inner.breaker.state();
        let in_flight =
            inner.max_in_flight - inner.limiter.available_permits().min(inner.max_in_flight);
        inner.stats.snapshot(
            inner.kind,
            in_flight,
            (state, open_until.map(to_system_time)),
            inner.tls_verify_disabled,
        )
    }
}

fn request_key(url: &Url, request: &Request) -> RequestKey {
    let mut headers: Vec<(String, Vec<u8>)> = request
        .headers
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
        .collect();
    headers.sort();
    RequestKey {
        url: url.as_str().to_owned(),
        kind: request.kind,
        headers,
    }
}

impl SourceInner {
    /// Runs the attempts of one request until one succeeds, a failure is final, or the
    /// attempts run out.
    async fn fetch(&self, url: Url, request: Request) -> Outcome {
        let url_redacted = redact_url(&url);
        let limit = match request.kind {
            BodyKind::Json => self.policy.max_json_bytes,
            BodyKind::Image => self.policy.max_image_bytes,
        };
        let exchange = Exchange {
            http: &self.http,
            url: &url,
            url_redacted: &url_redacted,
            headers: &request.headers,
            limit,
            connect_timeout: self.connect_timeout,
        };
        let max_attempts = self.policy.retry.max_attempts.max(1);
        let mut last_error: Option<UpstreamError> = None;
        let mut attempt: u32 = 1;

        loop {
            let ticket = match self.breaker.admit(Instant::now()) {
                Ok(ticket) => ticket,
                Err(until) => {
                    // The breaker opened during the retries; the failure that opened it tells
                    // the caller more than `CircuitOpen`.
                    if let Some(error) = last_error {
                        return Err(error);
                    }
                    let error = UpstreamError::CircuitOpen {
                        url: url_redacted,
                        until: to_system_time(until),
                    };
                    self.stats.record_rejected(request.endpoint, &error);
                    return Err(error);
                }
            };
            // The breaker is asked first, so that an open breaker fails fast even while slow
            // requests occupy every slot.
            let permit = self
                .limiter
                .acquire()
                .await
                .map_err(|_| UpstreamError::ClientSetup {
                    detail: "the source client was shut down".to_owned(),
                })?;

            let started = Instant::now();
            let result =
                match tokio::time::timeout(self.policy.request_timeout, exchange.run()).await {
                    Ok(result) => result,
                    Err(_) => Err(ExchangeError::from(UpstreamError::TimedOut {
                        url: url_redacted.clone(),
                        after: self.policy.request_timeout,
                    })),
                };
            drop(permit);
            let elapsed = started.elapsed();

            let ExchangeError { error, retry_after } = match result {
                Ok(response) => {
                    self.stats
                        .record_request(request.endpoint, attempt > 1, elapsed, Ok(()));
                    self.log_transition(ticket.record(false, Instant::now()), None);
                    return Ok(response);
                }
                Err(failure) => failure,
            };
            self.stats
                .record_request(request.endpoint, attempt > 1, elapsed, Err(&error));
            self.log_transition(
                ticket.record(error.counts_against_server(), Instant::now()),
                Some(&error),
            );

            let Some(delay) = self.retry_delay(attempt, max_attempts, &error, retry_after) else {
                return Err(error);
            };
            tracing::info!(
                attempt,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                error = %error,
                "retrying upstream request"
            );
            last_error = Some(error);
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// Returns the wait before the next attempt, or `None` when the failure is final.
    fn retry_delay(
        &self,
        attempt: u32,
        max_attempts: u32,
        error: &UpstreamError,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        let retry = &self.policy.retry;
        if !error.is_retryable() || attempt >= max_attempts {
            return None;
        }
        let backoff = retry.backoff(attempt, &mut rand::rng());
        match retry_after {
            Some(wait) if wait > retry.max_retry_after => None,
            Some(wait) => Some(wait.max(backoff)),
            None => Some(backoff),
        }
    }

    fn log_transition(&self, transition: Option<Transition>, error: Option<&UpstreamError>) {
        match transition {
            Some(Transition::Opened { .. }) => tracing::warn!(
                source.id = %self.id,
                cool_down_ms = u64::try_from(self.policy.breaker.cool_down.as_millis()).unwrap_or(u64::MAX),
                error = error.map(tracing::field::display),
                "circuit breaker opened after repeated failures; requests to this source fail at once until the cool-down ends"
            ),
            Some(Transition::Closed) => {
                tracing::info!(source.id = %self.id, "circuit breaker closed; the source responds again");
            }
            None => {}
        }
    }
}

/// Converts a tokio instant into wall-clock time for messages and the status page.
fn to_system_time(instant: Instant) -> SystemTime {
    let now = Instant::now();
    let wall_now = SystemTime::now();
    let converted = if instant >= now {
        wall_now.checked_add(instant - now)
    } else {
        wall_now.checked_sub(now - instant)
    };
    converted.unwrap_or(wall_now)
}
