//! Which failures are retried, how often, and how long the client waits in between.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use onesheet_upstream::{Request, UpstreamError};
use serde_json::{Value, json};

use crate::support::{Upstream, closed_port, fast_policy, source_for};

/// Builds a route that responds to the n-th request (from 0) with `script(n)`.
fn scripted<F>(path: &str, script: F) -> Router
where
    F: Fn(usize) -> axum::response::Response + Clone + Send + Sync + 'static,
{
    let calls = Arc::new(AtomicUsize::new(0));
    Router::new().route(
        path,
        get(move || {
            let script = script.clone();
            let calls = calls.clone();
            async move { script(calls.fetch_add(1, Ordering::SeqCst)) }
        }),
    )
}

fn ok_json() -> axum::response::Response {
    axum::Json(json!({ "ok": true })).into_response()
}

#[tokio::test]
async fn too_many_requests_waits_for_retry_after() {
    let upstream = Upstream::start(scripted("/limited", |call| match call {
        0 => (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")]).into_response(),
        _ => ok_json(),
    }))
    .await;
    let source = upstream.source(fast_policy());

    let body: Value = source
        .get_json(Request::json("test", "/limited"))
        .await
        .unwrap();

    assert_eq!(body, json!({ "ok": true }));
    let seen = upstream.log.requests();
    assert_eq!(seen.len(), 2);
    let gap = seen[1].at - seen[0].at;
    assert!(
        gap >= Duration::from_secs(1),
        "second request after {gap:?}"
    );
    assert_eq!(source.stats().retries, 1);
}

#[tokio::test]
async fn service_unavailable_twice_then_success() {
    let upstream = Upstream::start(scripted("/busy", |call| match call {
        0 | 1 => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        _ => ok_json(),
    }))
    .await;
    let source = upstream.source(fast_policy());

    let body: Value = source
        .get_json(Request::json("test", "/busy"))
        .await
        .unwrap();

    assert_eq!(body, json!({ "ok": true }));
    assert_eq!(upstream.log.count("/busy"), 3);
    let stats = source.stats();
    assert_eq!(stats.requests, 3);
    assert_eq!(stats.retries, 2);
    assert_eq!(stats.failures, 2);
    assert!(stats.last_success_at.is_some());
}

#[tokio::test]
async fn server_errors_give_up_after_max_attempts() {
    let upstream = Upstream::start(scripted("/broken", |_| {
        StatusCode::BAD_GATEWAY.into_response()
    }))
    .await;
    let source = upstream.source(fast_policy());

    let error = source
        .get(Request::json("test", "/broken"))
        .await
        .unwrap_err();

    assert!(
        matches!(error, UpstreamError::Status { status: 502, .. }),
        "{error:?}"
    );
    assert_eq!(error.code(), "source-http-status");
    assert_eq!(upstream.log.count("/broken"), 4);
    assert_eq!(source.stats().last_error_code, Some("source-http-status"));
}

#[tokio::test]
async fn not_found_is_not_retried() {
    let upstream = Upstream::start(Router::new()).await;
    let source = upstream.source(fast_policy());

    let error = source
        .get(Request::json("test", "/missing"))
        .await
        .unwrap_err();

    assert!(matches!(error, UpstreamError::NotFound { .. }), "{error:?}");
    assert_eq!(error.code(), "source-not-found");
    assert_eq!(upstream.log.count("/missing"), 1);
}

#[tokio::test]
async fn unauthorized_is_credentials_rejected_once() {
    let upstream = Upstream::start(scripted("/library", |_| {
        StatusCode::UNAUTHORIZED.into_response()
    }))
    .await;
    let source = upstream.source(fast_policy());

    let error = source
        .get(Request::json("test", "/library").query("X-Plex-Token", "hunter2"))
        .await
        .unwrap_err();

    assert!(
        matches!(
            error,
            UpstreamError::CredentialsRejected { status: 401, .. }
        ),
        "{error:?}"
    );
    assert_eq!(error.code(), "source-auth-rejected");
    assert_eq!(upstream.log.count("/library"), 1);
    assert!(!error.to_string().contains("hunter2"), "{error}");
    assert!(error.to_string().contains("X-Plex-Token=***"), "{error}");
    assert!(
        error.to_string().contains("check the token or API key"),
        "{error}"
    );
    assert!(!error.to_string().contains("user name"), "{error}");
}

#[tokio::test]
async fn other_client_errors_are_not_retried() {
    let upstream = Upstream::start(scripted("/bad", |_| {
        StatusCode::BAD_REQUEST.into_response()
    }))
    .await;
    let source = upstream.source(fast_policy());

    let error = source.get(Request::json("test", "/bad")).await.unwrap_err();

    assert!(
        matches!(error, UpstreamError::Status { status: 400, .. }),
        "{error:?}"
    );
    assert_eq!(upstream.log.count("/bad"), 1);
}

#[tokio::test]
async fn request_timeout_is_retried() {
    let upstream = Upstream::start(scripted("/timeout-once", |call| match call {
        0 => StatusCode::REQUEST_TIMEOUT.into_response(),
        _ => ok_json(),
    }))
    .await;
    let source = upstream.source(fast_policy());

    let response = source
        .get(Request::json("test", "/timeout-once"))
        .await
        .unwrap();

    assert_eq!(response.status, 200);
    assert_eq!(upstream.log.count("/timeout-once"), 2);
}

#[tokio::test]
async fn long_retry_after_fails_as_rate_limited() {
    let upstream = Upstream::start(scripted("/limited", |_| {
        (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "3600")]).into_response()
    }))
    .await;
    let source = upstream.source(fast_policy());

    let error = source
        .get(Request::json("test", "/limited"))
        .await
        .unwrap_err();

    let UpstreamError::RateLimited { retry_after, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(*retry_after, Some(Duration::from_secs(3600)));
    assert_eq!(error.code(), "source-rate-limited");
    assert_eq!(upstream.log.count("/limited"), 1);
}

#[tokio::test]
async fn rate_limit_without_retry_after_uses_backoff() {
    let upstream = Upstream::start(scripted("/limited", |_| {
        StatusCode::TOO_MANY_REQUESTS.into_response()
    }))
    .await;
    let source = upstream.source(fast_policy());

    let error = source
        .get(Request::json("test", "/limited"))
        .await
        .unwrap_err();

    assert!(
        matches!(
            error,
            UpstreamError::RateLimited {
                retry_after: None,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(upstream.log.count("/limited"), 4);
}

#[tokio::test]
async fn refused_connection_is_unreachable() {
    let addr = closed_port().await;
    let address =
        onesheet_upstream::ServerAddress::parse(&addr.to_string(), None, None, None).unwrap();
    let mut policy = fast_policy();
    policy.retry.max_attempts = 2;
    let source = source_for(address, policy, Default::default());

    let error = source
        .get(Request::json("test", "/System/Info"))
        .await
        .unwrap_err();

    assert!(
        matches!(error, UpstreamError::Unreachable { .. }),
        "{error:?}"
    );
    assert_eq!(error.code(), "source-unreachable");
    let message = error.to_string();
    assert!(
        message.contains(&format!("http://{addr}/System/Info")),
        "{message}"
    );
    assert!(message.to_lowercase().contains("refused"), "{message}");
    let stats = source.stats();
    assert_eq!(stats.requests, 2);
    assert_eq!(stats.retries, 1);
}
