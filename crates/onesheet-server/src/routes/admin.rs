//! The admin API: configuration changes, behind [`AdminAccess`](crate::auth::AdminAccess).

mod account;
mod auth;
mod body;
mod device_events;
mod devices;
mod logs;
mod settings;
mod sources;
pub(super) mod status;

use axum::Router;
use axum::http::Method;

use super::table::RouteTable;
use crate::state::AppState;

/// The JSON body extractor, shared with the device routes.
pub(super) use body::JsonBody;

pub(super) fn routes() -> Router<AppState> {
    protected()
        .into_router()
        .merge(devices::patch_router())
        .merge(auth::routes())
}

/// Builds every route that needs an admin session or token, except the `PATCH` routes of
/// [`devices::PATCH_PATHS`].
fn protected() -> RouteTable {
    sources::routes()
        .merge(settings::routes())
        .merge(account::routes())
        .merge(devices::routes())
        .merge(device_events::routes())
        .merge(status::routes())
        .merge(logs::routes())
}

/// Lists the method and path of every route that needs an admin session or token, for the
/// test that calls each one without credentials.
pub fn protected_routes() -> Vec<(&'static str, Method)> {
    let mut routes = protected().entries().to_vec();
    routes.extend(
        devices::PATCH_PATHS
            .iter()
            .map(|path| (*path, Method::PATCH)),
    );
    routes
}
