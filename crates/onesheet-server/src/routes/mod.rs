//! Route groups by audience, merged into one router under the base path.

mod admin;
pub use admin::protected_routes;
mod admin_pages;
mod conditional;
mod devices;
mod display;
mod encoding;
mod health;
mod images;
mod lite;
mod pages;
mod qr;
mod service_worker;
mod table;

use axum::Router;
use std::time::Duration;

use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Redirect;
use axum::routing::get;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

use crate::error::ApiError;
use crate::middleware::{TrackRequestLayer, with_https_redirect};
use crate::state::AppState;

/// Maximum pause between two pieces of a request body. Bodies are at most 64 KiB, which even a
/// slow phone sends in a second or two. A body trickled slower than that runs into the
/// request's deadline instead.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds the whole application. With a base path such as `/posters`, every route lives under
/// it and requests outside it get 404.
pub fn router(state: AppState) -> Router {
    // Handlers that wait on a database, a media server or a decode get a deadline. The health
    // and display API handlers respond from memory, so they skip the cost of a timer per request.
    let deadline = || {
        ServiceBuilder::new()
            .layer(TimeoutLayer::with_status_code(
                StatusCode::SERVICE_UNAVAILABLE,
                state.request_timeout,
            ))
            .layer(RequestBodyTimeoutLayer::new(BODY_TIMEOUT))
    };
    // Admin JSON compresses about tenfold. The display API is left out: its one large response,
    // the playlist page, is compressed once when rendered (see `encoding`), and a layer here
    // would cost every screen's every request. Images are already compressed.
    let admin =
        admin::routes().layer(deadline().layer(CompressionLayer::new().gzip(true).br(true)));

    let app = Router::new()
        .merge(health::routes())
        .merge(display::routes().into_router())
        // The device WebSocket lives for hours, so it gets neither the deadline nor compression.
        .merge(devices::routes())
        .merge(admin)
        .merge(admin_pages::routes().layer(deadline()))
        .merge(
            images::routes()
                .merge(pages::screens())
                .merge(lite::routes())
                .into_router()
                .layer(deadline()),
        )
        .merge(pages::assets())
        .merge(service_worker::routes())
        .fallback(not_found)
        .with_state(state.clone());

    let app = match state.base_path.as_str() {
        "" => app,
        base => {
            // `/posters/` is what people type and what a proxy's `location /posters/` forwards.
            let home = format!("{base}/screensaver");
            Router::new()
                .route(
                    &format!("{base}/"),
                    get(move || async move { Redirect::temporary(&home) }),
                )
                .nest(base, app)
                .fallback(not_found)
        }
    };

    let app = with_cors(app, &state.cors_origins);
    let app = with_https_redirect(app, &state);

    // The request tracker, added last, wraps everything else, so it receives every response, the
    // timeout's included, and adds the security headers to each. It also bounds request bodies
    // and catches panics. Its module explains why these two are not layers of their own.
    app.layer(TrackRequestLayer::new(state))
}

/// Builds the health and display API routes with none of the middleware layers, so a benchmark
/// can measure what the layers cost per request. Nothing serves this router.
pub fn bare_routes(state: AppState) -> Router {
    Router::new()
        .merge(health::routes())
        .merge(display::routes().into_router())
        .with_state(state)
}

/// Lists every route that shows catalog data to screens, for the test that calls each one from a
/// client outside the allowed networks.
pub fn display_routes() -> Vec<(&'static str, Method)> {
    display::routes()
        .merge(images::routes())
        .merge(pages::screens())
        .merge(lite::routes())
        .entries()
        .to_vec()
}

/// Adds CORS headers for the configured origins only. Without any, no CORS header is sent and
/// browsers keep other sites from reading responses. Credentials are never allowed across
/// origins, so a listed origin can read public data but never act as a signed-in admin.
fn with_cors(app: Router, origins: &[HeaderValue]) -> Router {
    if origins.is_empty() {
        return app;
    }
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins.iter().cloned()))
        .allow_methods([Method::GET, Method::HEAD])
        .allow_credentials(false)
        .max_age(std::time::Duration::from_secs(600));
    app.layer(cors)
}

async fn not_found() -> ApiError {
    ApiError::NotFound { what: "page" }
}
