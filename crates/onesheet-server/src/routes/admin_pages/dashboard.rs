//! The dashboard at `/admin`: health, sources, catalog, screens, recent events and warnings.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use maud::html;

use super::layout::{Section, admin_page};
use super::{PageSession, html_page};
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route(Section::Dashboard.path(), get(dashboard))
}

async fn dashboard(State(state): State<AppState>, session: PageSession) -> Response {
    let base = state.base_path.as_str();
    let frame = session.frame(base, Section::Dashboard, "Dashboard", Some("dashboard.js"));
    html_page(admin_page(&frame, html! { p class="lead" { "Welcome." } }))
}
