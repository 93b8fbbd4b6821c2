//! Profiles and groups at `/admin/profiles`: list, create, edit, delete, and assign screens.
//!
//! A profile or group contains an override of the display settings. The page's module edits it
//! with the same form as the display settings page, in its partial mode: only the settings
//! marked as overridden are sent, and the others stay inherited.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use onesheet_domain::device::LABEL_MAX_CHARS;

use super::layout::{Section, admin_page, status_lines};
use super::{PageSession, html_page};
use crate::state::AppState;

/// Modes of a group, as the API names them, with a label.
const GROUP_MODES: [(&str, &str); 3] = [
    (
        "independent",
        "Independent: each screen follows its own playlist",
    ),
    (
        "distinct",
        "Distinct: no two screens show the same item at once",
    ),
    (
        "synchronised",
        "Synchronised: every screen shows the same item at the same moment",
    ),
];

pub(super) fn routes() -> Router<AppState> {
    Router::new().route(Section::Profiles.path(), get(profiles))
}

async fn profiles(State(state): State<AppState>, session: PageSession) -> Response {
    let base = state.base_path.as_str();
    let frame = session.frame(
        base,
        Section::Profiles,
        "Profiles and groups",
        Some("profiles.js"),
    );
    let content = html! {
        p class="lead" {
            "A screen shows the display settings, then its profile's overrides, then its "
            "group's, then its own. A group also decides how its screens share items."
        }
        @if state.devices.is_none() {
            p class="notice" {
                "Profiles and groups are not available, because this server runs without the "
                "device service."
            }
        } @else {
            div class="layer-lists" {
                (layer_list("profile", "Profiles", "Create a profile"))
                (layer_list("group", "Groups", "Create a group"))
            }
            (editor())
        }
    };
    html_page(admin_page(&frame, content))
}

/// Renders the list of profiles or groups and the form that creates one.
fn layer_list(kind: &str, title: &str, create: &str) -> Markup {
    let heading = format!("{kind}-heading");
    let name = format!("{kind}-name");
    html! {
        section class="layer-list" aria-labelledby=(heading) {
            h2 id=(heading) { (title) }
            ul id=(format!("{kind}-list")) class="items" {}
            p id=(format!("{kind}-empty")) class="hint" hidden { "None yet." }
            form id=(format!("{kind}-create")) class="form create" novalidate {
                div class="field" {
                    label for=(name) { "Name of a new " (kind) }
                    input id=(name) type="text" autocomplete="off" required
                        maxlength=(LABEL_MAX_CHARS)
                        aria-describedby=(format!("{name}-error"));
                    p id=(format!("{name}-error")) class="field-error" hidden {}
                }
                @if kind == "group" {
                    (mode_select("group-mode"))
                }
                button type="submit" class="primary" disabled { (create) }
                p id=(format!("{kind}-status")) class="status" role="status" aria-live="polite" {}
            }
        }
    }
}

fn mode_select(id: &str) -> Markup {
    html! {
        div class="field" {
            label for=(id) { "How the screens share items" }
            select id=(id) {
                @for (mode, label) in GROUP_MODES {
                    option value=(mode) { (label) }
                }
            }
        }
    }
}

fn editor() -> Markup {
    html! {
        section id="layer-editor" class="layer-editor" hidden tabindex="-1"
            aria-labelledby="layer-editor-heading" {
            h2 id="layer-editor-heading" {}
            form id="layer-form" class="form settings-form" novalidate {
                div class="field" {
                    label for="layer-name" { "Name" }
                    input id="layer-name" type="text" autocomplete="off" required
                        maxlength=(LABEL_MAX_CHARS) aria-describedby="layer-name-error";
                    p id="layer-name-error" class="field-error" hidden {}
                }
                div id="layer-mode-field" {
                    (mode_select("layer-mode"))
                }
                fieldset id="layer-screens" class="screens" {
                    legend { "Screens" }
                    p id="layer-screens-hint" class="hint" {}
                    div id="layer-screen-list" {}
                }
                h3 { "Overridden settings" }
                p class="hint" {
                    "Check Override beside a setting to set it here. Unchecked settings keep "
                    "the value from the display settings, which the field shows dimmed."
                }
                div class="field" {
                    label for="layer-preset" { "Start from a preset" }
                    select id="layer-preset" aria-describedby="layer-preset-hint" {
                        option value="" { "Choose a preset" }
                    }
                    p id="layer-preset-hint" class="hint" {
                        "A preset replaces the overridden settings with its own. Nothing is "
                        "saved until you save."
                    }
                }
                div id="override-fields" class="override-fields" {}
                div class="actions" {
                    button type="submit" class="primary" disabled { "Save" }
                    button id="layer-close" type="button" class="secondary" { "Close" }
                    button id="layer-delete" type="button" class="secondary danger" { "Delete" }
                }
            }
            (status_lines("Editing profiles and groups"))
        }
    }
}
