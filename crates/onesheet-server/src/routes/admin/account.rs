//! The signed-in admin's own account: sessions, password, two-factor authentication, API
//! tokens, and the audit log.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use onesheet_store::AuditFilter;
use serde::Deserialize;
use serde_json::json;

use super::auth::{accounts, second_factor_of};
use super::body::JsonBody;
use crate::accounts::TokenScope;
use crate::auth::{AdminAccess, AdminSession};
use crate::error::ApiError;
use crate::routes::table::RouteTable;
use crate::state::AppState;

pub(super) fn routes() -> RouteTable {
    RouteTable::new()
        .get("/api/v1/admin/account/sessions", list_sessions)
        .delete("/api/v1/admin/account/sessions/{id}", revoke_session)
        .put("/api/v1/admin/account/password", change_password)
        .post("/api/v1/admin/account/totp", begin_totp)
        .delete("/api/v1/admin/account/totp", disable_totp)
        .post("/api/v1/admin/account/totp/confirm", confirm_totp)
        .get("/api/v1/admin/tokens", list_tokens)
        .post("/api/v1/admin/tokens", create_token)
        .delete("/api/v1/admin/tokens/{id}", revoke_token)
        .get("/api/v1/admin/audit", audit)
}

async fn list_sessions(
    State(state): State<AppState>,
    session: AdminSession,
) -> Result<Response, ApiError> {
    let current = &session.signed_in.session_hash;
    let sessions: Vec<_> = accounts(&state)?
        .sessions_of(&session.signed_in)
        .await?
        .into_iter()
        .map(|stored| {
            json!({
                "id": stored.id_hash,
                "current": &stored.id_hash == current,
                "created_at": stored.created_at,
                "last_seen_at": stored.last_seen_at,
                "remember": stored.remember,
                "client_ip": stored.client_ip,
                "user_agent": stored.user_agent,
            })
        })
        .collect();
    Ok(Json(json!({ "sessions": sessions })).into_response())
}

async fn revoke_session(
    State(state): State<AppState>,
    session: AdminSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    accounts(&state)?
        .revoke_session(&session.signed_in, &id, &session.caller)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordInput {
    current_password: String,
    new_password: String,
}

async fn change_password(
    State(state): State<AppState>,
    session: AdminSession,
    JsonBody(input): JsonBody<PasswordInput>,
) -> Result<Response, ApiError> {
    accounts(&state)?
        .change_password(
            &session.signed_in,
            &input.current_password,
            &input.new_password,
            &session.caller,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn begin_totp(
    State(state): State<AppState>,
    session: AdminSession,
) -> Result<Response, ApiError> {
    let enrolment = accounts(&state)?.begin_totp(&session.signed_in).await?;
    Ok(Json(json!({
        "secret": enrolment.secret,
        "uri": enrolment.uri,
        "qr_svg": enrolment.qr_svg,
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeInput {
    code: String,
}

async fn confirm_totp(
    State(state): State<AppState>,
    session: AdminSession,
    JsonBody(input): JsonBody<CodeInput>,
) -> Result<Response, ApiError> {
    let codes = accounts(&state)?
        .confirm_totp(&session.signed_in, &input.code, &session.caller)
        .await?;
    Ok(Json(json!({ "recovery_codes": codes })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DisableInput {
    password: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    recovery_code: Option<String>,
}

async fn disable_totp(
    State(state): State<AppState>,
    session: AdminSession,
    JsonBody(input): JsonBody<DisableInput>,
) -> Result<Response, ApiError> {
    let factor = second_factor_of(&input.code, &input.recovery_code)?;
    accounts(&state)?
        .disable_totp(&session.signed_in, &input.password, factor, &session.caller)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_tokens(State(state): State<AppState>, _: AdminAccess) -> Result<Response, ApiError> {
    let tokens: Vec<_> = accounts(&state)?
        .tokens()
        .await?
        .into_iter()
        .map(|token| {
            json!({
                "id": token.id,
                "name": token.name,
                "scope": token.scope,
                "created_at": token.created_at,
                "last_used_at": token.last_used_at,
                "revoked_at": token.revoked_at,
            })
        })
        .collect();
    Ok(Json(json!({ "tokens": tokens })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenInput {
    name: String,
    scope: TokenScope,
}

async fn create_token(
    State(state): State<AppState>,
    session: AdminSession,
    JsonBody(input): JsonBody<TokenInput>,
) -> Result<Response, ApiError> {
    let created = accounts(&state)?
        .create_token(
            &session.signed_in,
            &input.name,
            input.scope,
            &session.caller,
        )
        .await?;
    let body = json!({
        "id": created.record.id,
        "name": created.record.name,
        "scope": created.record.scope,
        // Shown once: only its hash is kept.
        "token": created.secret.as_str(),
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn revoke_token(
    State(state): State<AppState>,
    session: AdminSession,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    accounts(&state)?
        .revoke_token(&session.signed_in, id, &session.caller)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    action: Option<String>,
    actor: Option<String>,
    since: Option<i64>,
    until: Option<i64>,
    before: Option<i64>,
    limit: Option<u32>,
}

async fn audit(
    State(state): State<AppState>,
    _: AdminAccess,
    Query(query): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    let filter = AuditFilter {
        action_prefix: query.action,
        actor: query.actor,
        since: query.since,
        until: query.until,
        before_id: query.before,
        limit: query.limit,
    };
    let events: Vec<_> = accounts(&state)?
        .audit_events(&filter)
        .await?
        .into_iter()
        .map(|event| {
            json!({
                "id": event.id,
                "at": event.at,
                "actor": event.actor,
                "action": event.action,
                "target": event.target,
                "ip": event.ip,
                "user_agent": event.user_agent,
                "detail": event.detail,
            })
        })
        .collect();
    let next = events.last().and_then(|event| event["id"].as_i64());
    Ok(Json(json!({ "events": events, "next_before": next })).into_response())
}
