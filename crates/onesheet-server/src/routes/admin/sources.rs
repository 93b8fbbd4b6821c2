//! `/api/v1/admin/sources`: list, create, update, delete, test and refresh media-server sources.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use onesheet_sources::registry::{SourceInput, SourceRegistry};

use super::body::JsonBody;
use crate::auth::AdminAccess;
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/sources", get(list).post(create))
        .route(
            "/api/v1/admin/sources/{id}",
            get(show).put(update).delete(remove),
        )
        .route("/api/v1/admin/sources/{id}/test", post(test))
        .route("/api/v1/admin/sources/{id}/refresh", post(refresh))
}

fn registry(state: &AppState) -> Result<&Arc<SourceRegistry>, ApiError> {
    state.sources.as_ref().ok_or(ApiError::Disabled {
        reason: "source management is not available on this server",
    })
}

async fn list(_: AdminAccess, State(state): State<AppState>) -> Result<Response, ApiError> {
    let sources = registry(&state)?.list().await?;
    Ok(axum::Json(serde_json::json!({ "sources": sources })).into_response())
}

async fn show(
    _: AdminAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let source = registry(&state)?.get(&id).await?;
    Ok(axum::Json(source).into_response())
}

async fn create(
    _: AdminAccess,
    State(state): State<AppState>,
    JsonBody(input): JsonBody<SourceInput>,
) -> Result<Response, ApiError> {
    let source = registry(&state)?.create(input, unix_now()).await?;
    Ok((StatusCode::CREATED, axum::Json(source)).into_response())
}

async fn update(
    _: AdminAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<SourceInput>,
) -> Result<Response, ApiError> {
    let source = registry(&state)?.update(&id, input, unix_now()).await?;
    Ok(axum::Json(source).into_response())
}

async fn remove(
    _: AdminAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    registry(&state)?.delete(&id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn test(
    _: AdminAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let report = registry(&state)?.test(&id).await?;
    Ok(axum::Json(report).into_response())
}

async fn refresh(
    _: AdminAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let started = registry(&state)?.refresh(&id).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(serde_json::json!({ "refresh": started })),
    )
        .into_response())
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}
