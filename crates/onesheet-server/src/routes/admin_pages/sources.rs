//! The media sources section: list, add, edit, test, refresh and delete media-server sources.
//!
//! The page renders the frame, the local folder's status and an empty editor. `sources.js`
//! fills the list from `GET /api/v1/admin/sources` and sends every change to the same API, so
//! the rules stay in the source registry.

mod form;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use onesheet_sources::{SourceHealth, SourceState};

use super::layout::{Section, admin_page, status_lines};
use super::{PageSession, html_page};
use crate::state::AppState;

/// Id of the built-in source that reads the local media folder.
pub(super) const LOCAL_SOURCE_ID: &str = "local";

pub(super) fn routes() -> Router<AppState> {
    Router::new().route(Section::Sources.path(), get(sources_page))
}

async fn sources_page(State(state): State<AppState>, session: PageSession) -> Response {
    let base = state.base_path.as_str();
    let frame = session.frame(base, Section::Sources, "Sources", Some("sources.js"));
    let health = state.catalog.health();
    let local = health
        .iter()
        .find(|source| source.id.as_str() == LOCAL_SOURCE_ID);
    let managed = state.sources.is_some();

    let content = html! {
        div class="sources-page" {
            p class="lead" {
                "Media servers whose posters join the catalog. Screens show the items of every "
                "enabled source, in turn by each source's weight."
            }
            @if managed {
                section class="sources-list" aria-labelledby="sources-heading" {
                    div class="section-head" {
                        h2 id="sources-heading" { "Media servers" }
                        button id="add-source" type="button" class="secondary inline" disabled {
                            "Add a source"
                        }
                    }
                    p id="sources-loading" class="hint" { "Loading the sources\u{2026}" }
                    p id="sources-empty" class="hint" hidden {
                        "No media server is set up yet. Add a Plex, Jellyfin or Emby server to "
                        "show its posters."
                    }
                    div class="table-scroll" {
                        table id="sources-table" aria-labelledby="sources-heading" hidden {
                            thead {
                                tr {
                                    th scope="col" { "Name" }
                                    th scope="col" { "Kind" }
                                    th scope="col" { "Status" }
                                    th scope="col" { "Items" }
                                    th scope="col" { "Last refresh" }
                                    th scope="col" { "Actions" }
                                }
                            }
                            tbody id="sources-rows" {}
                        }
                    }
                }
                (form::source_editor())
                (form::delete_dialog())
                (status_lines("Managing sources"))
            } @else {
                p class="notice" {
                    "Media servers cannot be managed on this server, because it runs without the "
                    "source registry."
                }
            }
            (local_folder(local))
        }
    };
    html_page(admin_page(&frame, content))
}

/// Describes the built-in local folder, which is configured in the server's settings file
/// rather than here.
fn local_folder(health: Option<&SourceHealth>) -> Markup {
    html! {
        section class="card local-folder" aria-labelledby="local-heading" {
            h2 id="local-heading" { "Local folder" }
            p {
                "Image files in the " code { "posters" } ", " code { "backgrounds" } " and "
                code { "logos" } " folders of the server's media folder show without any setup. "
                "The media folder is " code { "data/media" } " unless the settings file's "
                code { "media_dir" } " names another."
            }
            @if let Some(health) = health {
                p {
                    (state_badge(health.state)) " "
                    (health.items) " items"
                    @if let Some(error) = &health.last_error { ": " (error) }
                }
            }
        }
    }
}

fn state_badge(state: SourceState) -> Markup {
    let (class, label) = match state {
        SourceState::Pending => ("badge", "Pending"),
        SourceState::Ok => ("badge ok", "OK"),
        SourceState::Failing => ("badge failing", "Failing"),
    };
    html! { span class=(class) { (label) } }
}
