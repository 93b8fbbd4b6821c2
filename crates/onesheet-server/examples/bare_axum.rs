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
//! Usage: `bare_axum 127.0.0.1:9000 [--onesheet-listener]`

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;

/// Largest body `/bytes/{kib}` serves, so a typo cannot allocate gigabytes.
const MAX_KIB: usize = 4096;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9000".to_owned());
    let onesheet_listener = std::env::args().any(|arg| arg == "--onesheet-listener");

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

    let listener = tokio::net::TcpListener::bind(&address).await?;
    if onesheet_listener {
        let draining =
            onesheet_server::listener::serve(listener, app, 10_000, None, std::future::pending())
                .await;
        draining.finish().await;
        return Ok(());
    }
    axum::serve(listener, app).await
}
