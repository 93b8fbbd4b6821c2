//! Liveness and readiness probes for orchestrators, load balancers and the admin.

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use tracing::warn;

use crate::error::ApiError;
use crate::security::DisplayViewer;
use crate::state::AppState;

/// Maximum time the readiness probe waits for the database before reporting it as failing.
const STORE_PING_TIMEOUT: Duration = Duration::from_secs(2);

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(live))
        .route("/health/ready", get(ready))
}

/// Returns liveness: 200 as long as the process serves HTTP. It touches no store or file.
async fn live() -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        r#"{"status":"ok"}"#,
    )
        .into_response()
}

#[derive(Serialize)]
struct Readiness {
    status: &'static str,
    version: &'static str,
    uptime_seconds: u64,
    store: CheckResult,
    catalog: CatalogStatus,
    sources: Vec<PublicSourceHealth>,
    /// Cache sizes, hit counts and queue figures of the image service. They name no file.
    images: onesheet_images::pipeline::PipelineStats,
}

/// A source's status as unauthenticated callers see it: no error text, because errors name
/// folders and hosts. The log has the details.
#[derive(Serialize)]
struct PublicSourceHealth {
    id: String,
    kind: &'static str,
    state: onesheet_sources::SourceState,
    items: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_success_unix: Option<i64>,
}

#[derive(Serialize)]
struct CheckResult {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize)]
struct CatalogStatus {
    loaded: bool,
    generation: u64,
    items: usize,
    demo: bool,
}

/// Readiness body for clients outside the display networks: the status without the version,
/// sources and cache figures, which would tell a stranger what to attack.
#[derive(Serialize)]
struct BriefReadiness {
    status: &'static str,
}

/// Returns readiness: 200 once the store responds and the catalog is loaded, else 503 with the
/// reasons. Only clients that may use display routes (loopback, display networks, admins) get
/// the details, so a probe on the same machine or network gets every figure and the
/// internet gets the status alone.
async fn ready(viewer: Result<DisplayViewer, ApiError>, State(state): State<AppState>) -> Response {
    let store = match tokio::time::timeout(STORE_PING_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => CheckResult {
            ok: true,
            error: None,
        },
        Ok(Err(error)) => {
            warn!(%error, "readiness check failed: the database did not respond");
            CheckResult {
                ok: false,
                error: Some(
                    "the database did not respond; the server log has the details".to_owned(),
                ),
            }
        }
        Err(_) => CheckResult {
            ok: false,
            error: Some(format!(
                "database did not answer within {} s",
                STORE_PING_TIMEOUT.as_secs()
            )),
        },
    };
    let snapshot = state.catalog.snapshot();
    let catalog = CatalogStatus {
        loaded: state.catalog.is_loaded(),
        generation: snapshot.generation,
        items: snapshot.items.len(),
        demo: snapshot.demo,
    };

    let is_ready = store.ok && catalog.loaded;
    let body = Readiness {
        status: if is_ready { "ready" } else { "starting" },
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: state.started_at.elapsed().as_secs(),
        store,
        catalog,
        images: state.images.stats(),
        sources: state
            .catalog
            .health()
            .iter()
            .map(|source| PublicSourceHealth {
                id: source.id.to_string(),
                kind: source.kind,
                state: source.state,
                items: source.items,
                last_success_unix: source.last_success_unix,
            })
            .collect(),
    };
    let status = if is_ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    if viewer.is_err() {
        let brief = BriefReadiness {
            status: body.status,
        };
        return (status, [(header::CACHE_CONTROL, "no-store")], Json(brief)).into_response();
    }
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}
