//! Route groups by audience, merged into one router under the base path.

mod admin;
pub use admin::protected_routes;
mod conditional;
mod display;
mod health;
mod images;
mod pages;

use axum::Router;
use axum::http::{HeaderValue, Method};
use axum::middleware::from_fn_with_state;
use axum::response::Redirect;
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;

use crate::error::ApiError;
use crate::middleware::{track_request, with_security_headers};
use crate::state::AppState;

/// Largest request body accepted anywhere. Only admin routes read bodies, and their largest
/// document, a source with its settings, is a few kilobytes.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Builds the whole application. With a base path such as `/posters`, every route lives under
/// it and requests outside it get 404.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(display::routes())
        .merge(admin::routes())
        // JSON compresses about tenfold; images are already compressed and skip this layer.
        .layer(CompressionLayer::new().gzip(true).br(true));

    let app = Router::new()
        .merge(health::routes())
        .merge(api)
        .merge(images::routes())
        .merge(pages::routes())
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

    // Layers wrap what was added before them, so the request tracker, added last, gets every
    // response with its final headers.
    let app = app.layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES));
    let app = with_cors(app, &state.cors_origins);
    with_security_headers(app).layer(from_fn_with_state(state, track_request))
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
