//! The admin API: configuration changes, behind [`AdminAccess`](crate::auth::AdminAccess).

mod account;
mod auth;
mod body;
mod sources;

use axum::Router;

use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .merge(sources::routes())
        .merge(auth::routes())
        .merge(account::routes())
}
