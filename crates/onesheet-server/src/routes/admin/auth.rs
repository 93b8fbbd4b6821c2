//! Setup, login, the second factor and logout: the routes a browser reaches before or while
//! signing in. Handlers only translate between HTTP and [`Accounts`](crate::accounts::Accounts).

use std::sync::Arc;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::body::JsonBody;
use crate::accounts::{Accounts, LoginOutcome, SecondFactor, SessionGrant};
use crate::auth::{AdminSession, AnySession, RequestCaller, check_same_origin, session_cookies};
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/setup", get(setup_status).post(setup))
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/second-factor", post(second_factor))
        .route("/api/v1/auth/session", get(session))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/logout-everywhere", post(logout_everywhere))
}

pub(super) fn accounts(state: &AppState) -> Result<&Arc<Accounts>, ApiError> {
    state.accounts.as_ref().ok_or(ApiError::Disabled {
        reason: "admin accounts are not available on this server",
    })
}

/// Login and setup have no session yet, so only the browser's own origin headers can show a
/// cross-site form; this rejects those before any password is checked.
struct SameOrigin;

impl FromRequestParts<AppState> for SameOrigin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        check_same_origin(parts, None)?;
        Ok(Self)
    }
}

async fn setup_status(State(state): State<AppState>) -> Result<Response, ApiError> {
    let open = accounts(&state)?.setup_open().await?;
    Ok(Json(json!({ "setup_required": open })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetupInput {
    setup_token: String,
    username: String,
    password: String,
}

async fn setup(
    _: SameOrigin,
    State(state): State<AppState>,
    request: RequestCaller,
    JsonBody(input): JsonBody<SetupInput>,
) -> Result<Response, ApiError> {
    let accounts = accounts(&state)?;
    let grant = accounts
        .create_first_admin(
            &input.setup_token,
            &input.username,
            &input.password,
            &request.caller,
        )
        .await?;
    Ok(signed_in_response(
        accounts,
        StatusCode::CREATED,
        &grant,
        request.https,
        "signed-in",
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginInput {
    username: String,
    password: String,
    #[serde(default)]
    remember: bool,
}

async fn login(
    _: SameOrigin,
    State(state): State<AppState>,
    request: RequestCaller,
    headers: HeaderMap,
    JsonBody(input): JsonBody<LoginInput>,
) -> Result<Response, ApiError> {
    let accounts = accounts(&state)?;
    let previous: Vec<&str> = session_cookies(&headers).collect();
    let outcome = accounts
        .login(
            &input.username,
            &input.password,
            input.remember,
            &previous,
            &request.caller,
        )
        .await?;
    let (grant, status) = match &outcome {
        LoginOutcome::SignedIn(grant) => (grant, "signed-in"),
        LoginOutcome::SecondFactorRequired(grant) => (grant, "second-factor-required"),
    };
    Ok(signed_in_response(
        accounts,
        StatusCode::OK,
        grant,
        request.https,
        status,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SecondFactorInput {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    recovery_code: Option<String>,
}

async fn second_factor(
    State(state): State<AppState>,
    session: AnySession,
    request: RequestCaller,
    JsonBody(input): JsonBody<SecondFactorInput>,
) -> Result<Response, ApiError> {
    let accounts = accounts(&state)?;
    let factor = match (&input.code, &input.recovery_code) {
        (Some(code), None) => SecondFactor::Code(code),
        (None, Some(code)) => SecondFactor::RecoveryCode(code),
        _ => {
            return Err(ApiError::InvalidBody {
                reason: "send either code (six digits from the authenticator app) or recovery_code"
                    .to_owned(),
            });
        }
    };
    let grant = accounts
        .complete_second_factor(&session.signed_in, factor, &session.caller)
        .await?;
    Ok(signed_in_response(
        accounts,
        StatusCode::OK,
        &grant,
        request.https,
        "signed-in",
    ))
}

async fn session(session: AnySession) -> Response {
    let signed_in = session.signed_in;
    Json(json!({
        "username": signed_in.username,
        "second_factor_pending": signed_in.second_factor_pending,
        "csrf_token": signed_in.csrf_token,
        "expires_at": signed_in.expires_at,
    }))
    .into_response()
}

async fn logout(
    State(state): State<AppState>,
    session: AnySession,
    request: RequestCaller,
) -> Result<Response, ApiError> {
    let accounts = accounts(&state)?;
    accounts.logout(&session.signed_in, &session.caller).await?;
    Ok(cleared_cookie(accounts, request.https))
}

async fn logout_everywhere(
    State(state): State<AppState>,
    session: AdminSession,
    request: RequestCaller,
) -> Result<Response, ApiError> {
    let accounts = accounts(&state)?;
    accounts
        .logout_everywhere(&session.signed_in, &session.caller)
        .await?;
    Ok(cleared_cookie(accounts, request.https))
}

/// Reads the second factor from a body that has either `code` or `recovery_code`.
pub(super) fn second_factor_of<'a>(
    code: &'a Option<String>,
    recovery_code: &'a Option<String>,
) -> Result<SecondFactor<'a>, ApiError> {
    match (code, recovery_code) {
        (Some(code), None) => Ok(SecondFactor::Code(code)),
        (None, Some(code)) => Ok(SecondFactor::RecoveryCode(code)),
        _ => Err(ApiError::InvalidBody {
            reason: "send either code (six digits from the authenticator app) or recovery_code"
                .to_owned(),
        }),
    }
}

/// Builds the response to a successful step: the new session cookie, the step reached, and the CSRF
/// token the page sends back with changes.
fn signed_in_response(
    accounts: &Accounts,
    status: StatusCode,
    grant: &SessionGrant,
    https: bool,
    step: &str,
) -> Response {
    let cookie = accounts.policy().cookie(&grant.id, grant.remember, https);
    let body = json!({
        "status": step,
        "username": grant.username,
        "csrf_token": grant.csrf_token,
    });
    with_cookie((status, Json(body)).into_response(), &cookie)
}

fn cleared_cookie(accounts: &Accounts, https: bool) -> Response {
    let cookie = accounts.policy().clear_cookie(https);
    with_cookie(StatusCode::NO_CONTENT.into_response(), &cookie)
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    // A response that sets a session cookie must never be stored by a shared cache.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
