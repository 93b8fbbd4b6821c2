//! The signed-in admin's own account: sessions, password, two-factor authentication, API
//! tokens, and the audit log.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use onesheet_auth::PasswordPolicy;
use onesheet_domain::FieldError;
use onesheet_store::{AUDIT_PAGE_MAX, AuditFilter};
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
        .get("/api/v1/admin/account", overview)
        .get("/api/v1/admin/account/sessions", list_sessions)
        // A static segment takes precedence over `{id}`, and session ids are hex digests.
        .delete(
            "/api/v1/admin/account/sessions/others",
            revoke_other_sessions,
        )
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

/// Maximum characters of the audit log's `action` and `actor` filters. Action names are short,
/// and the longest actor, `token:` and a token name of 64 characters, fits.
const MAX_AUDIT_FILTER_CHARS: usize = 100;

/// Returns the signed-in admin's account: two-factor state, recovery codes left and the length
/// limits of a new password.
async fn overview(
    State(state): State<AppState>,
    session: AdminSession,
) -> Result<Response, ApiError> {
    let accounts = accounts(&state)?;
    let enabled = accounts.two_factor_enabled(&session.signed_in).await?;
    let codes_left = if enabled {
        accounts.recovery_codes_left(&session.signed_in).await?
    } else {
        0
    };
    let policy = PasswordPolicy::default();
    Ok(Json(json!({
        "username": session.signed_in.username,
        "two_factor": {
            "enabled": enabled,
            "recovery_codes_left": codes_left,
        },
        "password": {
            "min_chars": policy.min_chars,
            "max_chars": policy.max_chars,
        },
    }))
    .into_response())
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

async fn revoke_other_sessions(
    State(state): State<AppState>,
    session: AdminSession,
) -> Result<Response, ApiError> {
    let ended = accounts(&state)?
        .revoke_other_sessions(&session.signed_in, &session.caller)
        .await?;
    Ok(Json(json!({ "ended": ended })).into_response())
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

async fn list_tokens(State(state): State<AppState>, _: AdminSession) -> Result<Response, ApiError> {
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

/// Query of `GET /api/v1/admin/audit`. Every value arrives as text, so an empty one (a form's
/// blank field) means "not set" and a wrong one gets an error that names it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    action: Option<String>,
    actor: Option<String>,
    since: Option<String>,
    until: Option<String>,
    before: Option<String>,
    limit: Option<String>,
}

impl AuditQuery {
    fn into_filter(self) -> Result<AuditFilter, FieldError> {
        let before_id = filter_number("before", self.before.as_deref(), "an event id")?;
        if let Some(before) = before_id
            && before < 1
        {
            return Err(FieldError::new(
                "before",
                format!("invalid before {before}: send the next_before of the previous page"),
            ));
        }

        let limit = match filter_number("limit", self.limit.as_deref(), "a page size")? {
            None => None,
            Some(limit) => match u32::try_from(limit) {
                Ok(limit) if (1..=AUDIT_PAGE_MAX).contains(&limit) => Some(limit),
                _ => {
                    return Err(FieldError::new(
                        "limit",
                        format!(
                            "invalid limit {limit}: send a page size from 1 to {AUDIT_PAGE_MAX}"
                        ),
                    ));
                }
            },
        };

        let since = filter_number("since", self.since.as_deref(), "Unix seconds")?;
        let until = filter_number("until", self.until.as_deref(), "Unix seconds")?;
        if let (Some(since), Some(until)) = (since, until)
            && since >= until
        {
            return Err(FieldError::new(
                "until",
                format!("until ({until}) must be later than since ({since})"),
            ));
        }

        Ok(AuditFilter {
            action_prefix: filter_text("action", self.action)?,
            actor: filter_text("actor", self.actor)?,
            since,
            until,
            before_id,
            limit,
        })
    }
}

/// Reads a text filter: blank means not set, and at most [`MAX_AUDIT_FILTER_CHARS`] characters.
fn filter_text(name: &'static str, value: Option<String>) -> Result<Option<String>, FieldError> {
    let Some(value) = value.map(|value| value.trim().to_owned()) else {
        return Ok(None);
    };
    if value.is_empty() {
        return Ok(None);
    }
    if value.chars().count() > MAX_AUDIT_FILTER_CHARS {
        return Err(FieldError::new(
            name,
            format!("{name} is too long: send at most {MAX_AUDIT_FILTER_CHARS} characters"),
        ));
    }
    Ok(Some(value))
}

/// Reads a whole-number filter: blank means not set.
fn filter_number(
    name: &'static str,
    value: Option<&str>,
    meaning: &str,
) -> Result<Option<i64>, FieldError> {
    let Some(value) = value.map(str::trim).filter(|value| !value.is_empty()) else {
        return Ok(None);
    };
    value.parse().map(Some).map_err(|_| {
        let echoed: String = value.chars().take(MAX_AUDIT_FILTER_CHARS).collect();
        FieldError::new(
            name,
            format!("invalid {name} {echoed:?}: send a whole number, {meaning}"),
        )
    })
}

async fn audit(
    State(state): State<AppState>,
    _: AdminAccess,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|rejection| {
        FieldError::new(
            "query",
            format!(
                "invalid audit query: {}: the filters are action, actor, since, until, before and limit",
                rejection.body_text()
            ),
        )
    })?;
    let filter = query.into_filter()?;
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
    // A short page is the last one, so the page offers no "older" link that leads nowhere.
    let full_page = events.len() >= filter.effective_limit() as usize;
    let next = full_page
        .then(|| events.last().and_then(|event| event["id"].as_i64()))
        .flatten();
    Ok(Json(json!({ "events": events, "next_before": next })).into_response())
}
