//! `/api/v1/admin/sources`: list, create, update, delete, test and refresh media-server sources,
//! and list the libraries and the genres a source offers for the admin UI's pickers.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use onesheet_sources::registry::{SourceInput, SourceRegistry};
use tracing::warn;

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
        .get("/api/v1/admin/sources/{id}/libraries", libraries)
        .get("/api/v1/admin/sources/{id}/facets", facets)
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

/// Lists the libraries the source's server offers, asking it with the stored credential, for
/// the admin UI's library picker. The connection test does the asking, so a disabled source
/// works too. When the server cannot be asked, the route returns 502 with the test's error
/// code, such as `source-unreachable` or `source-auth-rejected`.
async fn libraries(
    _: AdminAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let report = registry(&state)?.test(&id).await?;
    match report.error {
        None => {
            Ok(axum::Json(serde_json::json!({ "libraries": report.libraries })).into_response())
        }
        Some(error) => {
            warn!(source.id = %id, code = error.code, "cannot list the libraries of a source");
            Err(ApiError::Upstream {
                code: error.code,
                message: format!("cannot list the libraries: {}", error.message),
            })
        }
    }
}

/// Lists the genres and content ratings among the source's items in the catalog, sorted, for
/// the admin UI's filter picker.
///
/// NOTE: the catalog holds only the items that passed the source's current filter, so a genre
/// that the filter excludes entirely drops out of this list once a refresh has run.
async fn facets(
    _: AdminAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let source = registry(&state)?.get(&id).await?;
    let snapshot = state.catalog.snapshot();
    let mut genres = BTreeSet::new();
    let mut content_ratings = BTreeSet::new();
    let mut items = 0_usize;
    for item in snapshot
        .items
        .iter()
        .filter(|item| item.source.as_ref() == Some(&source.id))
    {
        items += 1;
        genres.extend(
            item.genres
                .iter()
                .map(|genre| genre.trim())
                .filter(|genre| !genre.is_empty()),
        );
        if let Some(rating) = item.content_rating.as_deref().map(str::trim)
            && !rating.is_empty()
        {
            content_ratings.insert(rating);
        }
    }
    Ok(axum::Json(serde_json::json!({
        "items": items,
        "genres": genres,
        "content_ratings": content_ratings,
    }))
    .into_response())
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
