//! The security section: password, two-factor sign-in, sessions, API tokens and the audit log.

use axum::Router;

use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
}
