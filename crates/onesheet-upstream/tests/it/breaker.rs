//! The circuit breaker against a server that fails and recovers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use onesheet_upstream::{BreakerState, Request, SourcePolicy, UpstreamError};

use crate::support::{Upstream, fast_policy};

const COOL_DOWN: Duration = Duration::from_millis(300);

fn breaker_policy() -> SourcePolicy {
    let mut policy = fast_policy();
    policy.retry.max_attempts = 1;
    policy.breaker.failure_threshold = 3;
    policy.breaker.cool_down = COOL_DOWN;
    policy
}

/// Starts a server whose `/flaky` responds with 500 until `healthy` is set.
async fn flaky_server() -> (Upstream, Arc<AtomicBool>) {
    let healthy = Arc::new(AtomicBool::new(false));
    let flag = healthy.clone();
    let router = Router::new().route(
        "/flaky",
        get(move || {
            let healthy = flag.load(Ordering::SeqCst);
            async move {
                if healthy {
                    (StatusCode::OK, "{}")
                } else {
                    (StatusCode::INTERNAL_SERVER_ERROR, "")
                }
            }
        }),
    );
    (Upstream::start(router).await, healthy)
}

#[tokio::test]
async fn breaker_opens_then_half_opens_and_closes() {
    let (upstream, healthy) = flaky_server().await;
    let source = upstream.source(breaker_policy());
    let request = || Request::json("test", "/flaky");

    for _ in 0..3 {
        let error = source.get(request()).await.unwrap_err();
        assert!(
            matches!(error, UpstreamError::Status { status: 500, .. }),
            "{error:?}"
        );
    }
    let rejected = source.get(request()).await.unwrap_err();

    assert!(
        matches!(rejected, UpstreamError::CircuitOpen { .. }),
        "{rejected:?}"
    );
    assert_eq!(rejected.code(), "source-circuit-open");
    assert_eq!(
        upstream.log.count("/flaky"),
        3,
        "an open breaker sends nothing"
    );
    let stats = source.stats();
    assert_eq!(stats.breaker, BreakerState::Open);
    assert!(stats.breaker_open_until.is_some());

    tokio::time::sleep(COOL_DOWN + Duration::from_millis(50)).await;
    healthy.store(true, Ordering::SeqCst);
    source.get(request()).await.unwrap();

    assert_eq!(upstream.log.count("/flaky"), 4);
    assert_eq!(source.stats().breaker, BreakerState::Closed);
    source.get(request()).await.unwrap();
    assert_eq!(upstream.log.count("/flaky"), 5);
}

#[tokio::test]
async fn failed_trial_reopens_breaker() {
    let (upstream, _healthy) = flaky_server().await;
    let source = upstream.source(breaker_policy());
    let request = || Request::json("test", "/flaky");
    for _ in 0..3 {
        source.get(request()).await.unwrap_err();
    }

    tokio::time::sleep(COOL_DOWN + Duration::from_millis(50)).await;
    let trial = source.get(request()).await.unwrap_err();
    let after_trial = source.get(request()).await.unwrap_err();

    assert!(
        matches!(trial, UpstreamError::Status { status: 500, .. }),
        "{trial:?}"
    );
    assert!(
        matches!(after_trial, UpstreamError::CircuitOpen { .. }),
        "{after_trial:?}"
    );
    assert_eq!(upstream.log.count("/flaky"), 4, "exactly one trial request");
    assert_eq!(source.stats().breaker, BreakerState::Open);
}

#[tokio::test]
async fn client_errors_do_not_open_breaker() {
    let upstream = Upstream::start(Router::new()).await;
    let source = upstream.source(breaker_policy());

    for _ in 0..10 {
        let error = source
            .get(Request::json("test", "/gone"))
            .await
            .unwrap_err();
        assert!(matches!(error, UpstreamError::NotFound { .. }), "{error:?}");
    }

    assert_eq!(upstream.log.count("/gone"), 10);
    assert_eq!(source.stats().breaker, BreakerState::Closed);
}

#[tokio::test]
async fn breaker_opening_during_retries_returns_last_failure() {
    let (upstream, _healthy) = flaky_server().await;
    let mut policy = breaker_policy();
    policy.retry.max_attempts = 10;
    let source = upstream.source(policy);

    let error = source
        .get(Request::json("test", "/flaky"))
        .await
        .unwrap_err();

    assert!(
        matches!(error, UpstreamError::Status { status: 500, .. }),
        "{error:?}"
    );
    assert_eq!(upstream.log.count("/flaky"), 3);
}
