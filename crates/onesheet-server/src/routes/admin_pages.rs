//! The admin UI: server-rendered pages under `/admin`, one module per section.
//!
//! The server renders each page, and a module under `web/assets/js/admin/` sends the forms to
//! the JSON API, so the pages hold no rules of their own. Links are absolute paths under the
//! base path, because the CSP's `base-uri 'none'` rules out a `<base>` element and the pages
//! sit at different depths. Every page but sign-in needs a signed-in admin ([`PageSession`]);
//! anybody else is sent to sign-in and brought back afterwards.

mod dashboard;
mod devices;
mod display;
mod layout;
mod logs;
mod markup;
mod next;
mod profiles;
mod security;
mod setup;
mod sources;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, OriginalUri, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::Markup;
use onesheet_domain::PairingCode;
use serde::Deserialize;
use url::form_urlencoded;

use crate::auth::AdminSession;
use crate::error::ApiError;
use crate::state::AppState;
use markup::{ClaimCode, LoginState};

/// Path of the sign-in page below the base path.
const LOGIN_PATH: &str = "/admin/login";

/// Path of the claim page below the base path.
const CLAIM_PATH: &str = "/admin/devices/claim";

/// Maximum characters of a query's pairing code that a page or a redirect repeats. A code
/// with separators and stray spaces fits easily.
const MAX_ECHOED_CODE_CHARS: usize = 32;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(LOGIN_PATH, get(login_page))
        .route(CLAIM_PATH, get(claim_page))
        .merge(dashboard::routes())
        .merge(devices::routes())
        .merge(display::routes())
        .merge(logs::routes())
        .merge(profiles::routes())
        .merge(security::routes())
        .merge(setup::routes())
        .merge(sources::routes())
}

/// The signed-in admin of a page request. Without a session the extractor responds with a
/// redirect to the sign-in page that returns to the requested page, query included.
struct PageSession {
    username: String,
    csrf_token: String,
}

impl FromRequestParts<AppState> for PageSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match AdminSession::from_request_parts(parts, state).await {
            Ok(session) => Ok(Self {
                username: session.signed_in.username,
                csrf_token: session.signed_in.csrf_token,
            }),
            Err(ApiError::Unauthorized { .. }) => {
                // Behind a base path the router receives the path without it, so the original URI
                // is the one to come back to.
                let uri = parts
                    .extensions
                    .get::<OriginalUri>()
                    .map_or(&parts.uri, |original| &original.0);
                let requested = uri.path_and_query().map_or("/", |path| path.as_str());
                let login = format!(
                    "{}{LOGIN_PATH}?{}",
                    state.base_path.as_str(),
                    encode_pair("next", requested)
                );
                Err(see_other(&login))
            }
            Err(error) => Err(error.into_response()),
        }
    }
}

impl PageSession {
    /// Returns the frame of a page of `section` titled `title`, loading `script`.
    fn frame<'a>(
        &'a self,
        base: &'a str,
        section: layout::Section,
        title: &'a str,
        script: Option<&'a str>,
    ) -> layout::Frame<'a> {
        layout::Frame {
            base,
            username: &self.username,
            csrf_token: &self.csrf_token,
            section,
            title,
            script,
        }
    }
}

/// Query of `GET /admin/login`.
#[derive(Deserialize)]
struct LoginQuery {
    /// Page to open after sign-in. Only an admin page under the base path is followed.
    next: Option<String>,
}

/// Query of `GET /admin/devices/claim`.
#[derive(Deserialize)]
struct ClaimQuery {
    /// Pairing code from the screen's QR code, as typed or scanned.
    code: Option<String>,
}

/// Shows the sign-in form, or sends an admin who is already signed in on to `next`.
///
/// A malformed query is read as an empty one: the page is the target of links, and a wrong
/// `next` must only cost the redirect, never the sign-in.
async fn login_page(
    State(state): State<AppState>,
    session: Result<AdminSession, ApiError>,
    query: Result<Query<LoginQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let base = state.base_path.as_str();
    let requested = query.ok().and_then(|Query(query)| query.next);
    let next = requested
        .as_deref()
        .and_then(|next| next::safe_next(base, next))
        .unwrap_or_else(|| format!("{base}{}", layout::Section::Dashboard.path()));

    match session {
        Ok(_) => return Ok(see_other(&next)),
        Err(ApiError::Unauthorized { .. }) => {}
        Err(error) => return Err(error),
    }

    let login_state = match &state.accounts {
        None => LoginState::AccountsDisabled,
        Some(accounts) if accounts.setup_open().await? => LoginState::SetupRequired,
        Some(_) => LoginState::Ready,
    };
    Ok(html_page(markup::login_page(base, &next, login_state)))
}

/// Shows the claim form to a signed-in admin, and sends anybody else to the sign-in page with
/// this page, code included, as `next`.
async fn claim_page(
    State(state): State<AppState>,
    session: Result<AdminSession, ApiError>,
    query: Result<Query<ClaimQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let base = state.base_path.as_str();
    let typed: Option<String> = query
        .ok()
        .and_then(|Query(query)| query.code)
        .map(|code| code.chars().take(MAX_ECHOED_CODE_CHARS).collect());

    let session = match session {
        Ok(session) => session,
        Err(ApiError::Unauthorized { .. }) => {
            let mut claim = format!("{base}{CLAIM_PATH}");
            if let Some(code) = typed.as_deref().filter(|code| !code.is_empty()) {
                claim.push('?');
                claim.push_str(&encode_pair("code", code));
            }
            let login = format!("{base}{LOGIN_PATH}?{}", encode_pair("next", &claim));
            return Ok(see_other(&login));
        }
        Err(error) => return Err(error),
    };

    let code = match typed.as_deref().map(str::trim) {
        None | Some("") => ClaimCode::Empty,
        Some(text) => match text.parse::<PairingCode>() {
            Ok(code) => ClaimCode::Valid(code),
            Err(error) => ClaimCode::Invalid {
                text: text.to_owned(),
                error: error.to_string(),
            },
        },
    };
    let devices_enabled = state.devices.is_some();
    Ok(html_page(markup::claim_page(
        base,
        &session.signed_in.username,
        &code,
        devices_enabled,
    )))
}

fn encode_pair(name: &str, value: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair(name, value)
        .finish()
}

/// Returns a 303 redirect to `location`, which the browser follows with a GET whatever request
/// led here.
fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn html_page(markup: Markup) -> Response {
    let mut response = markup.into_string().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // The pages show who is signed in, so no cache may keep them for the next visitor.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
