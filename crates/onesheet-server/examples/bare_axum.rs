//! A bare axum server with static handlers: the baselines the benchmark script measures in the
//! same run as Onesheet, so figures from a noisy shared machine can be read as ratios.
//!
//! `/health` returns a short JSON body. `/bytes/{kib}` returns `kib` KiB of static bytes (at
//! most 4 MiB), the transport's ceiling for a cached image of that size: whatever Onesheet
//! serves at that size can only be slower.
//!
//! With `--onesheet-listener`, the same handlers are served through Onesheet's own connection
//! loop (its timeouts, buffer limit and connection cap) instead of `axum::serve`, so that the
//! load script can tell the cost of the loop from the cost of the middleware.
//!
//! With `--real-handlers`, the server instead serves `/health` and the display API with
//! Onesheet's own handlers on a demo library, with none of the middleware (the router of
//! `onesheet_server::bare_routes`), always through Onesheet's connection loop. The gap between
//! that server and Onesheet itself is the cost of the middleware stack alone. The one thing added
//! is the client address the request tracker would resolve, which the display handlers check.
//!
//! Usage: `bare_axum 127.0.0.1:9000 [--onesheet-listener | --real-handlers]`

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ConnectInfo;
use axum::http::Request;
use onesheet_domain::DisplaySettings;
use onesheet_server::security::ClientAddress;
use onesheet_server::{AppState, BasePath};
use onesheet_sources::Catalog;
use onesheet_sources::demo::DemoSource;
use onesheet_store::SqliteStore;
use tower::util::MapRequestLayer;

/// Largest body `/bytes/{kib}` serves, so a typo cannot allocate gigabytes.
const MAX_KIB: usize = 4096;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9000".to_owned());
    let onesheet_listener = std::env::args().any(|arg| arg == "--onesheet-listener");
    let listener = tokio::net::TcpListener::bind(&address).await?;
    if std::env::args().any(|arg| arg == "--real-handlers") {
        return serve_real_handlers(listener).await;
    }

    // One buffer shared by every response, as a memory cache hands out one copy.
    let body = Bytes::from(vec![0x5A; MAX_KIB * 1024]);
    let app = Router::new()
        .route("/health", get(|| async { r#"{"status":"ok"}"# }))
        .route(
            "/bytes/{kib}",
            get(move |Path(kib): Path<usize>| async move {
                if kib > MAX_KIB {
                    return Err((StatusCode::BAD_REQUEST, format!("at most {MAX_KIB} KiB")));
                }
                Ok(([("content-type", "image/jpeg")], body.slice(..kib * 1024)))
            }),
        );

    if onesheet_listener {
        let draining =
            onesheet_server::listener::serve(listener, app, 10_000, None, std::future::pending())
                .await;
        draining.finish().await;
        return Ok(());
    }
    axum::serve(listener, app).await
}

/// Serves Onesheet's health and display handlers on a demo library without the middleware.
async fn serve_real_handlers(listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(&dir.path().join("db.sqlite"))
        .await
        .map_err(std::io::Error::other)?;
    let demo = DemoSource::new(dir.path().join("demo")).map_err(std::io::Error::other)?;
    let catalog = Arc::new(Catalog::new(
        vec![Arc::new(demo)],
        dir.path().join("catalog.json"),
    ));
    catalog.refresh_all().await;
    // The colours and placeholders of the posters, as the server computes them, so that the
    // playlist has the same bytes as Onesheet's once both are idle.
    catalog.start_enrichment();
    let state = AppState::new(
        catalog,
        Arc::new(store),
        DisplaySettings::default(),
        BasePath::new("").map_err(std::io::Error::other)?,
    );

    // The address as the request tracker resolves it for a direct client, so the display
    // handlers' access check runs as it does behind the whole stack.
    let app = onesheet_server::bare_routes(state).layer(MapRequestLayer::new(
        |mut request: Request<axum::body::Body>| {
            if let Some(ConnectInfo(peer)) = request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .copied()
            {
                request.extensions_mut().insert(ClientAddress {
                    ip: peer.ip(),
                    https: false,
                    forwarded: false,
                    known: true,
                });
            }
            request
        },
    ));
    let draining =
        onesheet_server::listener::serve(listener, app, 10_000, None, std::future::pending()).await;
    draining.finish().await;
    Ok(())
}
