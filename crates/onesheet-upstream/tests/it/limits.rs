//! Timeouts, body limits, broken bodies, the concurrency limit and coalescing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use bytes::Bytes;
use futures::future::join_all;
use onesheet_upstream::{HeaderName, HeaderValue, Request, ServerAddress, UpstreamError};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::{Upstream, fast_policy, source_for};

#[tokio::test]
async fn slow_response_times_out() {
    let router = Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            "late"
        }),
    );
    let upstream = Upstream::start(router).await;
    let mut policy = fast_policy();
    policy.request_timeout = Duration::from_millis(200);
    policy.retry.max_attempts = 2;
    let source = upstream.source(policy);
    let started = Instant::now();

    let error = source
        .get(Request::json("test", "/slow"))
        .await
        .unwrap_err();

    assert!(
        matches!(error, UpstreamError::TimedOut { after, .. } if after == Duration::from_millis(200)),
        "{error:?}"
    );
    assert_eq!(error.code(), "source-timeout");
    assert_eq!(upstream.log.count("/slow"), 2);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}

/// Serves raw HTTP/1.1 responses: each connection reads one request and gets `response`,
/// then the connection is closed. Returns the address and the number of connections.
async fn raw_server(response: &'static [u8]) -> (ServerAddress, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                while !request.windows(4).any(|window| window == b"\r\n\r\n") {
                    let read = stream.read(&mut buffer).await.unwrap();
                    if read == 0 {
                        return;
                    }
                    request.extend_from_slice(&buffer[..read]);
                }
                stream.write_all(response).await.unwrap();
                stream.shutdown().await.unwrap();
            });
        }
    });
    let address = ServerAddress::parse(&addr.to_string(), None, None, None).unwrap();
    (address, connections)
}

#[tokio::test]
async fn short_body_is_truncated() {
    let (address, connections) = raw_server(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"items\":[",
    )
    .await;
    let mut policy = fast_policy();
    policy.retry.max_attempts = 2;
    let source = source_for(address, policy, Default::default());

    let error = source
        .get(Request::json("test", "/Items"))
        .await
        .unwrap_err();

    assert!(
        matches!(error, UpstreamError::Truncated { .. }),
        "{error:?}"
    );
    assert_eq!(error.code(), "source-invalid-response");
    assert_eq!(
        connections.load(Ordering::SeqCst),
        2,
        "a broken body is retried"
    );
}

#[tokio::test]
async fn content_length_over_limit_is_rejected() {
    let router = Router::new().route("/huge", get(|| async { "x".repeat(2048) }));
    let upstream = Upstream::start(router).await;
    let mut policy = fast_policy();
    policy.max_json_bytes = 1024;
    let source = upstream.source(policy);

    let error = source
        .get(Request::json("test", "/huge"))
        .await
        .unwrap_err();

    assert!(
        matches!(error, UpstreamError::TooLarge { limit: 1024, .. }),
        "{error:?}"
    );
    assert_eq!(error.code(), "source-too-large");
    assert_eq!(
        upstream.log.count("/huge"),
        1,
        "an oversized body is not retried"
    );
}

#[tokio::test]
async fn streamed_body_over_limit_is_rejected() {
    let router = Router::new().route(
        "/stream",
        get(|| async {
            // No Content-Length: the body is sent chunked, so only counting catches it.
            let chunks = (0..64).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; 1024])));
            Body::from_stream(futures::stream::iter(chunks))
        }),
    );
    let upstream = Upstream::start(router).await;
    let mut policy = fast_policy();
    policy.max_image_bytes = 10 * 1024;
    let source = upstream.source(policy);

    let error = source
        .get(Request::image("test", "/stream"))
        .await
        .unwrap_err();

    assert!(
        matches!(error, UpstreamError::TooLarge { limit: 10240, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn body_at_limit_is_accepted() {
    let router = Router::new().route("/exact", get(|| async { "x".repeat(1024) }));
    let upstream = Upstream::start(router).await;
    let mut policy = fast_policy();
    policy.max_image_bytes = 1024;
    let source = upstream.source(policy);

    let response = source.get(Request::image("test", "/exact")).await.unwrap();

    assert_eq!(response.body.len(), 1024);
}

#[tokio::test]
async fn identical_requests_are_coalesced() {
    let router = Router::new().route(
        "/Items",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            axum::Json(json!({ "Items": [1, 2, 3] }))
        }),
    );
    let upstream = Upstream::start(router).await;
    let source = upstream.source(fast_policy());
    let request = || Request::json("test", "/Items").query("ParentId", "abc");

    let results = join_all((0..20).map(|_| source.get_json::<Value>(request()))).await;

    assert_eq!(upstream.log.count("/Items"), 1);
    for result in &results {
        assert_eq!(result.as_ref().unwrap(), &json!({ "Items": [1, 2, 3] }));
    }
    let stats = source.stats();
    assert_eq!(stats.requests, 1);
    assert_eq!(stats.coalesced, 19);
}

#[tokio::test]
async fn requests_with_different_headers_are_not_coalesced() {
    let router = Router::new().route(
        "/Items",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            "{}"
        }),
    );
    let upstream = Upstream::start(router).await;
    let source = upstream.source(fast_policy());
    let user = HeaderName::from_static("x-user");
    let first = Request::json("test", "/Items").header(user.clone(), HeaderValue::from_static("a"));
    let second = Request::json("test", "/Items").header(user, HeaderValue::from_static("b"));

    let (first, second) = tokio::join!(source.get(first), source.get(second));

    assert!(first.is_ok(), "{first:?}");
    assert!(second.is_ok(), "{second:?}");
    assert_eq!(upstream.log.count("/Items"), 2);
}

#[tokio::test]
async fn finished_request_is_not_reused() {
    let router = Router::new().route("/Items", get(|| async { "{}" }));
    let upstream = Upstream::start(router).await;
    let source = upstream.source(fast_policy());

    source.get(Request::json("test", "/Items")).await.unwrap();
    source.get(Request::json("test", "/Items")).await.unwrap();

    assert_eq!(upstream.log.count("/Items"), 2);
}

#[tokio::test]
async fn concurrency_limit_holds() {
    let router = Router::new().route(
        "/work",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            "{}"
        }),
    );
    let upstream = Upstream::start(router).await;
    let mut policy = fast_policy();
    policy.max_in_flight = 2;
    let source = upstream.source(policy);

    let results =
        join_all((0..8).map(|page| {
            source.get(Request::json("test", "/work").query("page", page.to_string()))
        }))
        .await;

    assert!(results.iter().all(Result::is_ok));
    assert_eq!(upstream.log.count("/work"), 8);
    assert_eq!(upstream.log.max_in_flight(), 2);
    assert_eq!(source.stats().in_flight, 0);
}
