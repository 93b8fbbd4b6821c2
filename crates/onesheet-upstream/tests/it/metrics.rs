//! Counters and histograms reach the installed `metrics` recorder with their labels.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use metrics::{
    Counter, CounterFn, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
};
use onesheet_upstream::{Request, SourceOptions};

use crate::support::{Upstream, client, fast_policy};

/// A recorder that keeps counter values and histogram sample counts by name and labels.
#[derive(Default)]
struct TestRecorder {
    counters: Mutex<HashMap<String, Arc<Value>>>,
    histograms: Mutex<HashMap<String, Arc<Value>>>,
}

#[derive(Default)]
struct Value(AtomicU64);

impl CounterFn for Value {
    fn increment(&self, value: u64) {
        self.0.fetch_add(value, Ordering::SeqCst);
    }
    fn absolute(&self, value: u64) {
        self.0.store(value, Ordering::SeqCst);
    }
}

impl HistogramFn for Value {
    fn record(&self, _value: f64) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Writes a key as `name{label=value,...}` with labels sorted.
fn key_text(key: &Key) -> String {
    let mut labels: Vec<String> = key
        .labels()
        .map(|label| format!("{}={}", label.key(), label.value()))
        .collect();
    labels.sort();
    format!("{}{{{}}}", key.name(), labels.join(","))
}

impl Recorder for TestRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let value = self
            .counters
            .lock()
            .unwrap()
            .entry(key_text(key))
            .or_default()
            .clone();
        Counter::from_arc(value)
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        let value = self
            .histograms
            .lock()
            .unwrap()
            .entry(key_text(key))
            .or_default()
            .clone();
        Histogram::from_arc(value)
    }
}

impl TestRecorder {
    fn counter(&self, key: &str) -> u64 {
        self.counters
            .lock()
            .unwrap()
            .get(key)
            .map_or(0, |value| value.0.load(Ordering::SeqCst))
    }

    fn histogram_samples(&self, key: &str) -> u64 {
        self.histograms
            .lock()
            .unwrap()
            .get(key)
            .map_or(0, |value| value.0.load(Ordering::SeqCst))
    }
}

/// Returns the process-wide recorder, installed on first use. Other tests' metrics land in it
/// too, under their own source ids.
fn recorder() -> &'static TestRecorder {
    static RECORDER: OnceLock<&'static TestRecorder> = OnceLock::new();
    RECORDER.get_or_init(|| {
        let recorder: &'static TestRecorder = Box::leak(Box::default());
        metrics::set_global_recorder(recorder).unwrap();
        recorder
    })
}

#[tokio::test]
async fn requests_are_counted_by_outcome() {
    let recorder = recorder();
    let router = Router::new()
        .route("/ok", get(|| async { "{}" }))
        .route("/fail", get(|| async { StatusCode::BAD_GATEWAY }));
    let upstream = Upstream::start(router).await;
    let mut policy = fast_policy();
    policy.retry.max_attempts = 2;
    let source = client()
        .source(
            "metrics-source",
            "test",
            upstream.address(),
            SourceOptions {
                tls: Default::default(),
                policy: Some(policy),
            },
        )
        .unwrap();

    source.get(Request::json("items", "/ok")).await.unwrap();
    source
        .get(Request::json("items", "/fail"))
        .await
        .unwrap_err();

    let ok = "onesheet_upstream_requests_total{endpoint=items,outcome=ok,source=metrics-source}";
    let failed = "onesheet_upstream_requests_total{endpoint=items,outcome=source-http-status,source=metrics-source}";
    let seconds = "onesheet_upstream_request_seconds{endpoint=items,source=metrics-source}";
    assert_eq!(recorder.counter(ok), 1);
    assert_eq!(recorder.counter(failed), 2);
    assert_eq!(recorder.histogram_samples(seconds), 3);
}
