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

/// Sends `GET uri` from loopback, as a screen on the same machine would, and reads the body.
/// The client address that the request tracker would resolve is set too, because the bare
/// router has no tracker and the display handlers check it.
async fn call(router: &Router, uri: &str) -> usize {
    let mut request = Request::get(uri).body(Body::empty()).unwrap();
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
    let bare = onesheet_server::bare_routes(state);

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
    group.finish();
}

criterion_group!(benches, bench_middleware);
criterion_main!(benches);
