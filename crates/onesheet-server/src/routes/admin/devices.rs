//! `/api/v1/admin/devices`, `/api/v1/admin/profiles` and `/api/v1/admin/groups`: claim, list,
//! change, command, revoke, delete and merge devices, and manage the profiles and groups whose
//! settings they share. Handlers translate between HTTP and [`DeviceService`]. They take
//! [`DeviceAccess`], so API tokens of the `devices` scope may make changes here, and every
//! command request leaves one audit event.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::patch;
use axum::{Json, Router};
use onesheet_domain::{Command, DeviceId, FieldError};
use serde::Deserialize;
use serde_json::json;

use super::body::JsonBody;
use super::device_events::{DetailWithTitle, DeviceRow};
use crate::auth::{AdminAccess, DeviceAccess};
use crate::devices::{
    ClaimRequest, DeviceListFilter, DeviceService, DeviceUpdate, GroupInput, MAX_COMMAND_TARGETS,
    ProfileInput,
};
use crate::error::ApiError;
use crate::routes::table::RouteTable;
use crate::state::AppState;

/// Commands listed by `GET /api/v1/admin/devices/{id}/commands`.
const COMMAND_LIST_LIMIT: u32 = 200;

pub(super) fn routes() -> RouteTable {
    RouteTable::new()
        .get("/api/v1/admin/devices", list)
        .post("/api/v1/admin/devices/claim", claim)
        .post("/api/v1/admin/devices/merge", merge)
        .post("/api/v1/admin/devices/commands", command_many)
        .post("/api/v1/admin/devices/commands/all", command_fleet)
        .get("/api/v1/admin/devices/{id}", show)
        .delete("/api/v1/admin/devices/{id}", remove)
        .post("/api/v1/admin/devices/{id}/revoke", revoke)
        .get("/api/v1/admin/devices/{id}/commands", list_commands)
        .post("/api/v1/admin/devices/{id}/commands", command_one)
        .get("/api/v1/admin/profiles", list_profiles)
        .post("/api/v1/admin/profiles", create_profile)
        .get("/api/v1/admin/profiles/{id}", show_profile)
        .delete("/api/v1/admin/profiles/{id}", delete_profile)
        .get("/api/v1/admin/groups", list_groups)
        .post("/api/v1/admin/groups", create_group)
        .get("/api/v1/admin/groups/{id}", show_group)
        .delete("/api/v1/admin/groups/{id}", delete_group)
        .post("/api/v1/admin/groups/{id}/commands", command_group)
}

/// Paths of the `PATCH` routes, which [`RouteTable`] has no method for. [`patch_router`] builds
/// them from this list, and the protected-route list reads it, so the two cannot drift apart.
pub(super) const PATCH_PATHS: [&str; 3] = [
    "/api/v1/admin/devices/{id}",
    "/api/v1/admin/profiles/{id}",
    "/api/v1/admin/groups/{id}",
];

pub(super) fn patch_router() -> Router<AppState> {
    let [device, profile, group] = PATCH_PATHS;
    Router::new()
        .route(device, patch(update))
        .route(profile, patch(update_profile))
        .route(group, patch(update_group))
}

fn service(state: &AppState) -> Result<&Arc<DeviceService>, ApiError> {
    state.devices.as_ref().ok_or(ApiError::Disabled {
        reason: "devices are not available on this server",
    })
}

fn device_id(text: &str) -> Result<DeviceId, ApiError> {
    Ok(text.parse::<DeviceId>()?)
}

fn numeric_id(field: &str, text: &str) -> Result<i64, ApiError> {
    text.parse().map_err(|_| {
        ApiError::InvalidInput(FieldError::new(
            field,
            format!(
                "invalid {field} {:?}: expected a whole number",
                text.chars().take(40).collect::<String>()
            ),
        ))
    })
}

/// Records a command in the audit log: one event per request, naming the command and how many
/// devices it went to, because a fleet broadcast must not write ten thousand events.
async fn audit_command(
    state: &AppState,
    access: &AdminAccess,
    target: &str,
    command: &Command,
    devices: usize,
) {
    let detail = json!({ "command": command.name(), "devices": devices });
    audit(state, access, "device.command", target, Some(detail)).await;
}

async fn audit(
    state: &AppState,
    access: &AdminAccess,
    action: &str,
    target: &str,
    detail: Option<serde_json::Value>,
) {
    if let Some(accounts) = &state.accounts {
        let actor = access.actor.audit_name();
        accounts
            .audit(&actor, action, Some(target), &access.caller, detail)
            .await;
    }
}

// Devices.

async fn list(
    _: DeviceAccess,
    State(state): State<AppState>,
    query: Result<Query<DeviceListFilter>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(filter) = query.map_err(|rejection| {
        ApiError::InvalidInput(FieldError::new(
            "query",
            format!(
                "invalid device filter: {}. Use status, location, group, profile and q",
                rejection.body_text()
            ),
        ))
    })?;
    let devices: Vec<DeviceRow> = service(&state)?
        .list_devices(&filter)
        .await?
        .into_iter()
        .map(|device| DeviceRow::new(&state, device))
        .collect();
    Ok(Json(json!({ "devices": devices })).into_response())
}

async fn show(
    _: DeviceAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let detail = service(&state)?.device_detail(&device_id(&id)?).await?;
    Ok(Json(DetailWithTitle::new(&state, detail)).into_response())
}

async fn claim(
    DeviceAccess(access): DeviceAccess,
    State(state): State<AppState>,
    JsonBody(request): JsonBody<ClaimRequest>,
) -> Result<Response, ApiError> {
    let record = service(&state)?.claim(&request).await?;
    let detail = json!({
        "name": record.name,
        "location": record.location,
        "profile_id": record.profile_id,
        "group_id": record.group_id,
    });
    audit(
        &state,
        &access,
        "device.claimed",
        record.id.as_str(),
        Some(detail),
    )
    .await;
    Ok((StatusCode::CREATED, Json(json!({ "device": record }))).into_response())
}

async fn update(
    DeviceAccess(access): DeviceAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(update): JsonBody<DeviceUpdate>,
) -> Result<Response, ApiError> {
    let id = device_id(&id)?;
    let view = service(&state)?.update_device(&id, &update).await?;
    let detail = json!({
        "name": update.name.is_some(),
        "location": update.location.is_some(),
        "profile_id": update.profile_id,
        "group_id": update.group_id,
        "overrides": update.overrides.is_some(),
    });
    audit(&state, &access, "device.updated", id.as_str(), Some(detail)).await;
    Ok(Json(view).into_response())
}

async fn remove(
    DeviceAccess(access): DeviceAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = device_id(&id)?;
    service(&state)?.delete_device(&id).await?;
    audit(&state, &access, "device.deleted", id.as_str(), None).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn revoke(
    DeviceAccess(access): DeviceAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = device_id(&id)?;
    let revoked = service(&state)?.revoke_device(&id).await?;
    if revoked {
        audit(&state, &access, "device.revoked", id.as_str(), None).await;
    }
    Ok(Json(json!({ "revoked": revoked })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeRequest {
    survivor: DeviceId,
    retired: DeviceId,
}

async fn merge(
    DeviceAccess(access): DeviceAccess,
    State(state): State<AppState>,
    JsonBody(request): JsonBody<MergeRequest>,
) -> Result<Response, ApiError> {
    let view = service(&state)?
        .merge_devices(&request.survivor, &request.retired)
        .await?;
    let detail = json!({ "retired": request.retired });
    audit(
        &state,
        &access,
        "device.merged",
        request.survivor.as_str(),
        Some(detail),
    )
    .await;
    Ok(Json(json!({ "device": view })).into_response())
}

// Commands.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommandRequest {
    command: Command,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManyCommandRequest {
    device_ids: Vec<DeviceId>,
    command: Command,
}

async fn list_commands(
    _: DeviceAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let commands = service(&state)?
        .list_commands(&device_id(&id)?, COMMAND_LIST_LIMIT)
        .await?;
    Ok(Json(json!({ "commands": commands })).into_response())
}

async fn command_one(
    DeviceAccess(access): DeviceAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<CommandRequest>,
) -> Result<Response, ApiError> {
    let view = service(&state)?
        .send_command(&device_id(&id)?, &request.command)
        .await?;
    audit_command(&state, &access, &id, &request.command, 1).await;
    Ok((StatusCode::CREATED, Json(json!({ "command": view }))).into_response())
}

async fn command_many(
    DeviceAccess(access): DeviceAccess,
    State(state): State<AppState>,
    JsonBody(request): JsonBody<ManyCommandRequest>,
) -> Result<Response, ApiError> {
    if request.device_ids.is_empty() || request.device_ids.len() > MAX_COMMAND_TARGETS {
        return Err(ApiError::InvalidInput(FieldError::new(
            "device_ids",
            format!(
                "invalid device_ids: list 1 to {MAX_COMMAND_TARGETS} devices, or command a group or all devices"
            ),
        )));
    }
    let results = service(&state)?
        .send_commands(&request.device_ids, &request.command)
        .await;
    audit_command(
        &state,
        &access,
        "listed devices",
        &request.command,
        results.len(),
    )
    .await;
    Ok(Json(json!({ "results": results })).into_response())
}

async fn command_fleet(
    DeviceAccess(access): DeviceAccess,
    State(state): State<AppState>,
    JsonBody(request): JsonBody<CommandRequest>,
) -> Result<Response, ApiError> {
    let results = service(&state)?
        .send_fleet_command(&request.command)
        .await?;
    audit_command(
        &state,
        &access,
        "all devices",
        &request.command,
        results.len(),
    )
    .await;
    Ok(Json(json!({ "results": results })).into_response())
}

async fn command_group(
    DeviceAccess(access): DeviceAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<CommandRequest>,
) -> Result<Response, ApiError> {
    let group_id = numeric_id("group id", &id)?;
    let results = service(&state)?
        .send_group_command(group_id, &request.command)
        .await?;
    let target = format!("group {group_id}");
    audit_command(&state, &access, &target, &request.command, results.len()).await;
    Ok(Json(json!({ "results": results })).into_response())
}

// Profiles.

async fn list_profiles(
    _: DeviceAccess,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let profiles = service(&state)?.list_profiles().await?;
    Ok(Json(json!({ "profiles": profiles })).into_response())
}

async fn show_profile(
    _: DeviceAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let profile = service(&state)?
        .profile(numeric_id("profile id", &id)?)
        .await?;
    Ok(Json(profile).into_response())
}

async fn create_profile(
    DeviceAccess(access): DeviceAccess,
    State(state): State<AppState>,
    JsonBody(input): JsonBody<ProfileInput>,
) -> Result<Response, ApiError> {
    let profile = service(&state)?.create_profile(&input).await?;
    let detail = json!({ "name": profile.name });
    audit(
        &state,
        &access,
        "profile.created",
        &profile.id.to_string(),
        Some(detail),
    )
    .await;
    Ok((StatusCode::CREATED, Json(profile)).into_response())
}

async fn update_profile(
    DeviceAccess(access): DeviceAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<ProfileInput>,
) -> Result<Response, ApiError> {
    let id = numeric_id("profile id", &id)?;
    let profile = service(&state)?.update_profile(id, &input).await?;
    let detail = json!({ "name": input.name.is_some(), "overrides": input.overrides.is_some() });
    audit(
        &state,
        &access,
        "profile.updated",
        &id.to_string(),
        Some(detail),
    )
    .await;
    Ok(Json(profile).into_response())
}

async fn delete_profile(
    DeviceAccess(access): DeviceAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = numeric_id("profile id", &id)?;
    service(&state)?.delete_profile(id).await?;
    audit(&state, &access, "profile.deleted", &id.to_string(), None).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// Groups.

async fn list_groups(_: DeviceAccess, State(state): State<AppState>) -> Result<Response, ApiError> {
    let groups = service(&state)?.list_groups().await?;
    Ok(Json(json!({ "groups": groups })).into_response())
}

async fn show_group(
    _: DeviceAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let group = service(&state)?.group(numeric_id("group id", &id)?).await?;
    Ok(Json(group).into_response())
}

async fn create_group(
    DeviceAccess(access): DeviceAccess,
    State(state): State<AppState>,
    JsonBody(input): JsonBody<GroupInput>,
) -> Result<Response, ApiError> {
    let group = service(&state)?.create_group(&input).await?;
    let detail = json!({ "name": group.name, "mode": group.mode });
    audit(
        &state,
        &access,
        "group.created",
        &group.id.to_string(),
        Some(detail),
    )
    .await;
    Ok((StatusCode::CREATED, Json(group)).into_response())
}

async fn update_group(
    DeviceAccess(access): DeviceAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<GroupInput>,
) -> Result<Response, ApiError> {
    let id = numeric_id("group id", &id)?;
    let group = service(&state)?.update_group(id, &input).await?;
    let detail = json!({
        "name": input.name.is_some(),
        "mode": input.mode,
        "overrides": input.overrides.is_some(),
    });
    audit(
        &state,
        &access,
        "group.updated",
        &id.to_string(),
        Some(detail),
    )
    .await;
    Ok(Json(group).into_response())
}

async fn delete_group(
    DeviceAccess(access): DeviceAccess,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = numeric_id("group id", &id)?;
    service(&state)?.delete_group(id).await?;
    audit(&state, &access, "group.deleted", &id.to_string(), None).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}
