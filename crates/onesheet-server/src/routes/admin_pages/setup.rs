//! The setup wizard at `/admin/setup`, which a fresh server offers until the first admin exists.
//!
//! Six steps: the setup token, the admin account, optional two-factor sign-in, a first source,
//! its libraries, and the address to open on a screen. The first two run without a session.
//! Creating the admin signs the browser in, and from then on the step is kept in the query
//! (`?step=4`), so a reload returns to it. Without a step, an existing admin closes the wizard:
//! the page then sends the browser to the dashboard.

mod steps;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::layout::Section;
use super::sources::LOCAL_SOURCE_ID;
use super::{PageSession, html_page, see_other};
use crate::error::ApiError;
use crate::state::AppState;
use steps::Wizard;

/// Path of the wizard below the base path.
const SETUP_PATH: &str = "/admin/setup";

pub(super) fn routes() -> Router<AppState> {
    Router::new().route(SETUP_PATH, get(setup_page))
}

/// Query of `GET /admin/setup`.
#[derive(Deserialize)]
struct SetupQuery {
    /// The step to resume, from 3 to 6, once the admin exists.
    step: Option<u8>,
}

async fn setup_page(
    State(state): State<AppState>,
    session: Result<PageSession, Response>,
    query: Result<Query<SetupQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let base = state.base_path.as_str();
    let Some(accounts) = &state.accounts else {
        return Ok(html_page(steps::accounts_disabled(base)));
    };
    if accounts.setup_open().await? {
        return Ok(html_page(steps::wizard(&Wizard {
            base,
            step: 1,
            csrf_token: None,
            public_url: state.public_url.as_deref(),
            local_items: local_items(&state),
        })));
    }

    // A malformed query is read as none: the wizard is closed for it.
    let step = query
        .ok()
        .and_then(|Query(query)| query.step)
        .filter(|step| steps::RESUMABLE.contains(step));
    let Some(step) = step else {
        return Ok(see_other(&format!("{base}{}", Section::Dashboard.path())));
    };
    // Without a session the rejection is the redirect to sign-in, which comes back here.
    let session = match session {
        Ok(session) => session,
        Err(rejection) => return Ok(rejection),
    };
    Ok(html_page(steps::wizard(&Wizard {
        base,
        step,
        csrf_token: Some(&session.csrf_token),
        public_url: state.public_url.as_deref(),
        local_items: local_items(&state),
    })))
}

/// Returns the item count of the built-in local folder source, if the catalog has one.
fn local_items(state: &AppState) -> Option<usize> {
    state
        .catalog
        .health()
        .iter()
        .find(|source| source.id.as_str() == LOCAL_SOURCE_ID)
        .map(|source| source.items)
}
