//! The display settings editor at `/admin/display`, with a live preview and the settings
//! history.
//!
//! The page's module builds the form from the settings' JSON Schema, so every setting the
//! server defines gets a field without a change here. The preview is the real display page in a
//! frame, opened with `?preview=1`: the module sends it the unsaved settings, and only this
//! page's policy allows framing pages of this server.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};

use super::layout::{Section, admin_page, status_lines};
use super::{PageSession, html_page};
use crate::middleware::allow_framing_own_pages;
use crate::state::AppState;

/// Display pages the preview can show, as the path below the base path and the label.
const PREVIEW_MODES: [(&str, &str); 3] = [
    ("screensaver", "Screensaver"),
    ("wallart", "Wallart"),
    ("cinema", "Cinema"),
];

pub(super) fn routes() -> Router<AppState> {
    Router::new().route(Section::Display.path(), get(display))
}

async fn display(State(state): State<AppState>, session: PageSession) -> Response {
    let base = state.base_path.as_str();
    let frame = session.frame(
        base,
        Section::Display,
        "Display settings",
        Some("display.js"),
    );
    let content = html! {
        p class="lead" {
            "What every screen shows and how. Screens in a profile or group, and screens with "
            "their own overrides, keep those values on top of these."
        }
        div class="display-layout" {
            (editor())
            (preview(base))
        }
        (history())
    };
    let mut response = html_page(admin_page(&frame, content));
    allow_framing_own_pages(response.headers_mut());
    response
}

fn editor() -> Markup {
    html! {
        section class="settings-panel" aria-labelledby="editor-heading" {
            h2 id="editor-heading" { "Settings" }
            div class="field" {
                label for="preset" { "Start from a preset" }
                select id="preset" aria-describedby="preset-hint" disabled {
                    option value="" { "Choose a preset" }
                }
                p id="preset-hint" class="hint" {
                    "A preset replaces the form's values with the defaults and its own "
                    "settings. Nothing is saved until you save."
                }
            }
            form id="settings-form" class="form settings-form" novalidate {
                div id="settings-fields" {
                    p class="hint" { "Loading the settings\u{2026}" }
                }
                div class="actions" {
                    button type="submit" class="primary" disabled { "Save and send to screens" }
                    button id="settings-discard" type="button" class="secondary" disabled {
                        "Discard changes"
                    }
                }
            }
            (status_lines("Editing the display settings"))
        }
    }
}

fn preview(base: &str) -> Markup {
    let (first_mode, _) = PREVIEW_MODES[0];
    html! {
        section class="preview-panel" aria-labelledby="preview-heading" {
            h2 id="preview-heading" { "Live preview" }
            div class="field" {
                label for="preview-mode" { "Display page" }
                select id="preview-mode" aria-describedby="preview-hint" {
                    @for (mode, label) in PREVIEW_MODES {
                        option value=(mode) { (label) }
                    }
                }
                p id="preview-hint" class="hint" {
                    "The page with the unsaved settings. Timing changes show at once, and "
                    "changes to what an item shows from the next item on."
                }
            }
            div class="preview-frame" {
                iframe id="preview" title="Preview of the display page with the unsaved settings"
                    src=(format!("{base}/{first_mode}?preview=1")) {}
            }
        }
    }
}

fn history() -> Markup {
    html! {
        section class="history" aria-labelledby="history-heading" {
            h2 id="history-heading" { "History" }
            p class="hint" {
                "Every save is a version. Reverting saves the chosen version again as the "
                "newest one and sends it to the screens, so a revert can be undone the same way."
            }
            div class="table-scroll" {
                table id="history-table" {
                    caption class="visually-hidden" { "Saved versions, newest first" }
                    thead {
                        tr {
                            th scope="col" { "Version" }
                            th scope="col" { "Saved" }
                            th scope="col" { "By" }
                            th scope="col" { "Changed settings" }
                            th scope="col" { "Actions" }
                        }
                    }
                    tbody id="history-rows" {}
                }
            }
            p id="history-status" class="status" role="status" aria-live="polite" {}
            button id="history-more" type="button" class="secondary" hidden {
                "Show older versions"
            }
            section id="history-detail" class="history-detail" hidden tabindex="-1"
                aria-labelledby="history-detail-heading" {
                h3 id="history-detail-heading" {}
                p id="history-detail-empty" class="hint" hidden {
                    "No setting differs."
                }
                div class="table-scroll" {
                    table id="history-detail-table" {
                        thead {
                            tr {
                                th scope="col" { "Setting" }
                                th scope="col" id="history-detail-old" { "Before" }
                                th scope="col" id="history-detail-new" { "After" }
                            }
                        }
                        tbody id="history-detail-rows" {}
                    }
                }
            }
        }
    }
}
