//! `/api/v1/admin/sources`: list, create, update, delete, test and refresh media-server sources.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use onesheet_sources::registry::{SourceInput, SourceRegistry};

use super::body::JsonBody;
use crate::auth::AdminAccess;
use crate::error::ApiError;
use crate::routes::table::RouteTable;
use crate::state::AppState;

pub(super) fn routes() -> RouteTable {
    RouteTable::new()
        .get("/api/v1/admin/sources", list)
        .post("/api/v1/admin/sources", create)
        .get("/api/v1/admin/sources/{id}", show)
        .put("/api/v1/admin/sources/{id}", update)
        .delete("/api/v1/admin/sources/{id}", remove)
        .post("/api/v1/admin/sources/{id}/test", test)
        .post("/api/v1/admin/sources/{id}/refresh", refresh)
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
    access: AdminAccess,
    State(state): State<AppState>,
    JsonBody(input): JsonBody<SourceInput>,
) -> Result<Response, ApiError> {
    let detail = change_detail(&input);
    let source = registry(&state)?.create(input, unix_now()).await?;
    audit(
        &state,
        &access,
        "source.created",
        source.id.as_str(),
        Some(detail),
    )
    .await;
    Ok((StatusCode::CREATED, axum::Json(source)).into_response())
}

async fn update(
    access: AdminAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<SourceInput>,
) -> Result<Response, ApiError> {
    let detail = change_detail(&input);
    let source = registry(&state)?.update(&id, input, unix_now()).await?;
    audit(&state, &access, "source.updated", &id, Some(detail)).await;
    Ok(axum::Json(source).into_response())
}

async fn remove(
    access: AdminAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    registry(&state)?.delete(&id).await?;
    audit(&state, &access, "source.deleted", &id, None).await;
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

/// Describes a source change for the audit log: what was set, never a credential's value.
fn change_detail(input: &SourceInput) -> serde_json::Value {
    let credential_set = input
        .credential
        .as_deref()
        .is_some_and(|credential| !credential.trim().is_empty());
    serde_json::json!({
        "kind": input.kind,
        "name": input.name,
        "enabled": input.enabled,
        "credential_sent": credential_set,
        "credential_cleared": input.clear_credential,
    })
}

async fn audit(
    state: &AppState,
    access: &AdminAccess,
    action: &str,
    id: &str,
    detail: Option<serde_json::Value>,
) {
    if let Some(accounts) = &state.accounts {
        let actor = access.actor.audit_name();
        accounts
            .audit(&actor, action, Some(id), &access.caller, detail)
            .await;
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}
