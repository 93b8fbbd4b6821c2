//! Request counts and health of each source, for the status page and for metrics.
//!
//! Every request sent upstream adds to `onesheet_upstream_requests_total{source,endpoint,outcome}`
//! (outcome `ok` or an error code such as `source-timeout`) and records its duration in
//! `onesheet_upstream_request_seconds{source,endpoint}`, through the `metrics` facade, so the
//! binary chooses the exporter. [`SourceStats`] is the in-process snapshot of the same events.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Serialize, Serializer};

use crate::UpstreamError;
use crate::breaker::BreakerState;

pub(crate) const REQUESTS_TOTAL: &str = "onesheet_upstream_requests_total";
pub(crate) const REQUEST_SECONDS: &str = "onesheet_upstream_request_seconds";

/// Registers the metrics' descriptions with whatever recorder is installed.
pub(crate) fn describe_metrics() {
    metrics::describe_counter!(
        REQUESTS_TOTAL,
        "Requests sent to media servers, by source, endpoint and outcome (ok or an error code)."
    );
    metrics::describe_histogram!(
        REQUEST_SECONDS,
        metrics::Unit::Seconds,
        "Duration of requests to media servers, from sending to the last body byte."
    );
}

/// A snapshot of one source's requests and health.
///
/// Times serialize as milliseconds since the Unix epoch.
#[derive(Debug, Clone, Serialize)]
pub struct SourceStats {
    pub id: String,
    pub kind: &'static str,
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Requests that failed, plus responses that `get_json` rejected.
    pub failures: u64,
    /// Requests that were retries of an earlier failed one.
    pub retries: u64,
    /// Calls that joined an identical request in flight instead of sending their own.
    pub coalesced: u64,
    /// Requests being sent or read right now.
    pub in_flight: usize,
    /// Message of the last failure, with secrets removed from its URL.
    pub last_error: Option<String>,
    /// Machine code of the last failure, such as `source-timeout`.
    pub last_error_code: Option<&'static str>,
    #[serde(serialize_with = "serialize_time")]
    pub last_error_at: Option<SystemTime>,
    #[serde(serialize_with = "serialize_time")]
    pub last_success_at: Option<SystemTime>,
    pub breaker: BreakerState,
    /// When an open breaker lets the next trial request through.
    #[serde(serialize_with = "serialize_time")]
    pub breaker_open_until: Option<SystemTime>,
    /// True when this source accepts any server certificate.
    pub tls_verify_disabled: bool,
}

fn serialize_time<S: Serializer>(
    time: &Option<SystemTime>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let millis = time.map(|time| {
        let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX)
    });
    millis.serialize(serializer)
}

#[derive(Debug, Default)]
struct Counts {
    requests: u64,
    failures: u64,
    retries: u64,
    coalesced: u64,
    last_error: Option<(String, &'static str, SystemTime)>,
    last_success_at: Option<SystemTime>,
}

/// The counters behind [`SourceStats`] and the metrics of one source.
#[derive(Debug)]
pub(crate) struct StatsRecorder {
    source: String,
    counts: Mutex<Counts>,
}

impl StatsRecorder {
    pub(crate) fn new(source: &str) -> Self {
        Self {
            source: source.to_owned(),
            counts: Mutex::new(Counts::default()),
        }
    }

    /// Records one request sent upstream; `retry` is true for every attempt after the first.
    pub(crate) fn record_request(
        &self,
        endpoint: &'static str,
        retry: bool,
        elapsed: Duration,
        result: Result<(), &UpstreamError>,
    ) {
        let outcome = match result {
            Ok(()) => "ok",
            Err(error) => error.code(),
        };
        metrics::counter!(
            REQUESTS_TOTAL,
            "source" => self.source.clone(),
            "endpoint" => endpoint,
            "outcome" => outcome
        )
        .increment(1);
        metrics::histogram!(
            REQUEST_SECONDS,
            "source" => self.source.clone(),
            "endpoint" => endpoint
        )
        .record(elapsed.as_secs_f64());

        let mut counts = self.lock();
        counts.requests += 1;
        if retry {
            counts.retries += 1;
        }
        match result {
            Ok(()) => counts.last_success_at = Some(SystemTime::now()),
            Err(error) => {
                counts.failures += 1;
                counts.last_error = Some((error.to_string(), error.code(), SystemTime::now()));
            }
        }
    }

    /// Records a request that the open breaker stopped before it was sent.
    pub(crate) fn record_rejected(&self, endpoint: &'static str, error: &UpstreamError) {
        metrics::counter!(
            REQUESTS_TOTAL,
            "source" => self.source.clone(),
            "endpoint" => endpoint,
            "outcome" => error.code()
        )
        .increment(1);
    }

    /// Records a response that arrived but could not be used, such as HTML instead of JSON.
    pub(crate) fn record_invalid_response(&self, error: &UpstreamError) {
        let mut counts = self.lock();
        counts.failures += 1;
        counts.last_error = Some((error.to_string(), error.code(), SystemTime::now()));
    }

    pub(crate) fn record_coalesced(&self) {
        self.lock().coalesced += 1;
    }

    pub(crate) fn snapshot(
        &self,
        kind: &'static str,
        in_flight: usize,
        breaker: (BreakerState, Option<SystemTime>),
        tls_verify_disabled: bool,
    ) -> SourceStats {
        let counts = self.lock();
        let (last_error, last_error_code, last_error_at) = match &counts.last_error {
            Some((message, code, at)) => (Some(message.clone()), Some(*code), Some(*at)),
            None => (None, None, None),
        };
        SourceStats {
            id: self.source.clone(),
            kind,
            requests: counts.requests,
            failures: counts.failures,
            retries: counts.retries,
            coalesced: counts.coalesced,
            in_flight,
            last_error,
            last_error_code,
            last_error_at,
            last_success_at: counts.last_success_at,
            breaker: breaker.0,
            breaker_open_until: breaker.1,
            tls_verify_disabled,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Counts> {
        // Counters stay meaningful after a panic elsewhere; losing the status page would not help.
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
