//! The middleware stack's cost per request. The same handlers are called through the whole
//! router (request id, span, client address, body limit, panic catcher, security headers,
//! compression) and through a router with no layers. Calls run in process, so neither the
//! network nor the load tool is timed, and both include the handlers' own display access check.
//!
//! Run with `taskset -c 1 cargo bench -p onesheet-server --bench middleware`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::BodyExt;
use onesheet_domain::DisplaySettings;
use onesheet_server::security::ClientAddress;
use onesheet_server::{AppState, BasePath};
use onesheet_sources::Catalog;
use onesheet_sources::demo::DemoSource;
use onesheet_store::SqliteStore;
use tower::ServiceExt;
use tower::util::MapRequestLayer;
use tower_http::compression::CompressionLayer;

/// Sends `GET uri` from loopback, as a screen on the same machine would, and reads the body.
/// The client address that the request tracker would resolve is set too, because the bare
/// router has no tracker and the display handlers check it.
async fn call(router: &Router, uri: &str) -> usize {
    call_with(router, uri, None).await
}

/// Sends the request of [`call`], with an `Accept-Encoding` header when one is given.
async fn call_with(router: &Router, uri: &str, accept_encoding: Option<&str>) -> usize {
    let mut request = Request::get(uri).body(Body::empty()).unwrap();
    if let Some(value) = accept_encoding {
        request
            .headers_mut()
            .insert("accept-encoding", value.parse().unwrap());
    }
    let loopback = SocketAddr::from(([127, 0, 0, 1], 50_000));
    request.extensions_mut().insert(ConnectInfo(loopback));
    request.extensions_mut().insert(ClientAddress {
        ip: loopback.ip(),
        https: false,
        forwarded: false,
        known: true,
    });
    let response = router.clone().oneshot(request).await.unwrap();
    assert!(
        response.status().is_success(),
        "{uri}: {}",
        response.status()
    );
    response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .len()
}

fn bench_middleware(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = runtime.block_on(async {
        let store = Arc::new(
            SqliteStore::open(&dir.path().join("db.sqlite"))
                .await
                .unwrap(),
        );
        let demo = Arc::new(DemoSource::new(dir.path().join("demo")).unwrap());
        let catalog = Arc::new(Catalog::new(vec![demo], dir.path().join("catalog.json")));
        catalog.refresh_all().await;
        AppState::new(
            catalog,
            store,
            DisplaySettings::default(),
            BasePath::new("").unwrap(),
        )
    });
    let full = onesheet_server::router(state.clone());
    let bare = onesheet_server::bare_routes(state.clone());
    // How the playlist was compressed before pages kept a gzip copy: a layer deflating every
    // response. Without the other middleware, so the difference is compression alone.
    // The handler now serves its gzip copy itself, so the header is hidden from it: the layer
    // reads it and the handler responds uncompressed, as before.
    let compressing = onesheet_server::bare_routes(state)
        .layer(MapRequestLayer::new(|mut request: Request<Body>| {
            request.headers_mut().remove("accept-encoding");
            request
        }))
        .layer(
            CompressionLayer::new()
                .gzip(true)
                .no_br()
                .no_deflate()
                .no_zstd(),
        );

    let mut group = c.benchmark_group("middleware");
    for uri in ["/health", "/api/v1/playlist?limit=50"] {
        let full_bytes = runtime.block_on(call(&full, uri));
        let bare_bytes = runtime.block_on(call(&bare, uri));
        assert_eq!(
            full_bytes, bare_bytes,
            "{uri}: the two routers answer differently"
        );

        group.bench_function(format!("{uri} bare handler"), |b| {
            b.iter(|| runtime.block_on(call(&bare, uri)));
        });
        group.bench_function(format!("{uri} whole stack"), |b| {
            b.iter(|| runtime.block_on(call(&full, uri)));
        });
    }

    // Screens send `Accept-Encoding: gzip`: the playlist page compressed per request by a layer,
    // against the whole stack serving the copy compressed once.
    let playlist = "/api/v1/playlist?limit=50";
    let per_request = runtime.block_on(call_with(&compressing, playlist, Some("gzip")));
    let cached = runtime.block_on(call_with(&full, playlist, Some("gzip")));
    assert!(per_request < 5000, "a gzip body was expected");
    assert!(cached < 5000, "a gzip body was expected");
    group.bench_function(format!("{playlist} gzip, compressed per request"), |b| {
        b.iter(|| runtime.block_on(call_with(&compressing, playlist, Some("gzip"))));
    });
    group.bench_function(format!("{playlist} gzip, whole stack"), |b| {
        b.iter(|| runtime.block_on(call_with(&full, playlist, Some("gzip"))));
    });
    group.finish();
}

criterion_group!(benches, bench_middleware);
criterion_main!(benches);
