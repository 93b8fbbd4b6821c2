//! A bare axum server with one static handler: the baseline the benchmark script measures in the
//! same run as Onesheet, so figures from a noisy shared machine can be read as ratios.
//!
//! Usage: `bare_axum 127.0.0.1:9000`

use axum::Router;
use axum::routing::get;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9000".to_owned());
    let app = Router::new().route("/health", get(|| async { r#"{"status":"ok"}"# }));
    let listener = tokio::net::TcpListener::bind(&address).await?;
    axum::serve(listener, app).await
}
