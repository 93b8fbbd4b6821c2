//! The admin API: configuration changes, behind [`AdminAccess`](crate::auth::AdminAccess).

mod account;
mod auth;
mod body;
mod sources;

use axum::Router;

use super::table::RouteTable;
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    protected().into_router().merge(auth::routes())
}

/// Builds every route that needs an admin session or token.
fn protected() -> RouteTable {
    sources::routes().merge(account::routes())
}

/// Lists the method and path of every route that needs an admin session or token, for the
/// test that calls each one without credentials.
pub fn protected_routes() -> Vec<(&'static str, axum::http::Method)> {
    protected().entries().to_vec()
}
