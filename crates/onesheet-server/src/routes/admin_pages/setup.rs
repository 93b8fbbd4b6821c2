//! The setup wizard that a fresh server shows until the first admin exists.

use axum::Router;

use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
}
