//! The screens section: the live table of screens at `/admin/devices` and a page per screen
//! at `/admin/devices/{id}`.
//!
//! Both pages render their frame, controls and empty tables. Their modules (`devices.js`,
//! `device.js`) fill them from the admin API and keep them current through the device event
//! stream, so the rules stay in the API.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use onesheet_domain::DeviceId;
use onesheet_domain::device::LABEL_MAX_CHARS;
use tracing::warn;

use super::layout::{Section, admin_page, status_lines};
use super::{CLAIM_PATH, PageSession, html_page};
use crate::devices::DeviceError;
use crate::state::AppState;

/// Maximum characters of the override document that the editor accepts. The API's body limit
/// is 64 KiB, and the rest of the request needs a little room.
const MAX_OVERRIDES_CHARS: usize = 60_000;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(Section::Devices.path(), get(screens_page))
        .route("/admin/devices/{id}", get(screen_page))
}

async fn screens_page(State(state): State<AppState>, session: PageSession) -> Response {
    let base = state.base_path.as_str();
    let frame = session.frame(base, Section::Devices, "Screens", Some("devices.js"));
    let content = if state.devices.is_some() {
        screens_content(base)
    } else {
        disabled_notice()
    };
    html_page(admin_page(&frame, content))
}

async fn screen_page(
    State(state): State<AppState>,
    session: PageSession,
    Path(id): Path<String>,
) -> Response {
    let base = state.base_path.as_str();
    let back = html! {
        a href=(format!("{base}{}", Section::Devices.path())) { "Back to the screens" }
    };
    let Some(service) = &state.devices else {
        let frame = session.frame(base, Section::Devices, "Screen", None);
        return html_page(admin_page(&frame, disabled_notice()));
    };
    let id = match id.parse::<DeviceId>() {
        Ok(id) => id,
        Err(error) => {
            let frame = session.frame(base, Section::Devices, "Screen not found", None);
            let content = html! { p class="notice" { (error.message) ". " (back) } };
            return html_page(admin_page(&frame, content));
        }
    };
    // The name becomes the page title. The module loads everything else, so a failed read
    // here only costs the title.
    let name = match service.device_view(&id).await {
        Ok(view) => view.record.name,
        Err(DeviceError::DeviceNotFound(_)) => {
            let frame = session.frame(base, Section::Devices, "Screen not found", None);
            let content = html! {
                p class="notice" { "No screen has the id " code { (id.as_str()) } ". " (back) }
            };
            return html_page(admin_page(&frame, content));
        }
        Err(error) => {
            warn!(%error, device.id = %id, "could not read a screen for its page title");
            "Screen".to_owned()
        }
    };
    let frame = session.frame(base, Section::Devices, &name, Some("device.js"));
    html_page(admin_page(&frame, screen_content(base, &id)))
}

fn disabled_notice() -> Markup {
    html! {
        p class="notice" {
            "Screens cannot be managed on this server, because it runs without the device service."
        }
    }
}

fn screens_content(base: &str) -> Markup {
    html! {
        p class="lead" {
            "Every paired screen, updated live. "
            a href=(format!("{base}{CLAIM_PATH}")) { "Claim a screen" }
            " to pair a new one."
        }
        form id="screen-filters" class="filters" role="search" aria-label="Filter screens" {
            div class="field" {
                label for="filter-text" { "Search" }
                input id="filter-text" type="search" autocomplete="off"
                    placeholder="Name, location or address";
            }
            div class="field" {
                label for="filter-status" { "Status" }
                select id="filter-status" {
                    option value="" { "Any status" }
                    option value="online" { "Online" }
                    option value="offline" { "Offline" }
                    option value="frozen" { "Frozen" }
                    option value="revoked" { "Revoked" }
                }
            }
            div class="field" {
                label for="filter-group" { "Group" }
                select id="filter-group" { option value="" { "Any group" } }
            }
            div class="field" {
                label for="filter-profile" { "Profile" }
                select id="filter-profile" { option value="" { "Any profile" } }
            }
        }
        section id="bulk" class="bulk" aria-labelledby="bulk-heading" {
            h2 id="bulk-heading" {
                "Selected screens: " span id="bulk-count" aria-live="polite" { "none" }
            }
            div class="actions" {
                button type="button" class="secondary" data-command="next" disabled { "Next poster" }
                button type="button" class="secondary" data-command="reload" disabled { "Reload" }
                button type="button" class="secondary" data-command="pause" disabled { "Pause" }
                button type="button" class="secondary" data-command="resume" disabled { "Resume" }
            }
            div class="assign" {
                div class="field" {
                    label for="bulk-group" { "Group" }
                    select id="bulk-group" { option value="" { "No group" } }
                }
                button id="bulk-assign-group" type="button" class="secondary" disabled { "Assign group" }
            }
            div class="assign" {
                div class="field" {
                    label for="bulk-profile" { "Profile" }
                    select id="bulk-profile" { option value="" { "No profile" } }
                }
                button id="bulk-assign-profile" type="button" class="secondary" disabled { "Assign profile" }
            }
            div class="actions" {
                button id="bulk-revoke" type="button" class="danger" disabled { "Revoke…" }
            }
            (status_lines("Managing screens"))
        }
        p id="live-state" class="hint" role="status" { "Connecting to the live feed…" }
        div class="table-scroll screens" tabindex="0" role="region" aria-label="Screens table" {
            table id="screens" aria-label="Screens" {
                thead {
                    tr {
                        th scope="col" {
                            input id="select-all" type="checkbox" aria-label="Select every shown screen";
                        }
                        th scope="col" { "Name" }
                        th scope="col" { "Location" }
                        th scope="col" { "Mode" }
                        th scope="col" { "Status" }
                        th scope="col" { "Last seen" }
                        th scope="col" { "On screen" }
                        th scope="col" { "Profile" }
                        th scope="col" { "Group" }
                        th scope="col" { "Address" }
                    }
                }
                tbody {}
            }
        }
        p id="screens-empty" class="notice" hidden {}
        (confirm_dialog())
    }
}

fn screen_content(base: &str, id: &DeviceId) -> Markup {
    html! {
        div id="screen" data-device-id=(id.as_str()) {
            p { a href=(format!("{base}{}", Section::Devices.path())) { "← All screens" } }
            p id="live-state" class="hint" role="status" { "Connecting to the live feed…" }
            section class="screen-summary" aria-labelledby="summary-heading" {
                h2 id="summary-heading" { "Now showing" }
                figure class="now-showing" {
                    img id="poster" alt="" hidden;
                    figcaption id="poster-title" { "Nothing on screen yet." }
                }
                dl class="facts" {
                    dt { "Status" } dd id="fact-status" { "Loading…" }
                    dt { "Last seen" } dd id="fact-seen" { "—" }
                    dt { "Mode" } dd id="fact-mode" { "—" }
                    dt { "Connection" } dd id="fact-transport" { "—" }
                    dt { "Address" } dd id="fact-address" { "—" }
                    dt { "Device id" } dd { code { (id.as_str()) } }
                }
                p id="duplicate-note" class="notice" hidden {}
            }
            section aria-labelledby="commands-heading" {
                h2 id="commands-heading" { "Commands" }
                div id="command-buttons" class="actions" {
                    button type="button" class="secondary" data-command="next" disabled { "Next poster" }
                    button type="button" class="secondary" data-command="previous" disabled { "Previous poster" }
                    button type="button" class="secondary" data-command="pause" disabled { "Pause" }
                    button type="button" class="secondary" data-command="resume" disabled { "Resume" }
                    button type="button" class="secondary" data-command="reload" disabled { "Reload" }
                    button type="button" class="secondary" data-command="identify" disabled { "Show name on screen" }
                }
                p id="command-status" class="status" role="status" aria-live="polite" {}
                div class="table-scroll" tabindex="0" role="region" aria-label="Command history" {
                    table id="command-history" {
                        caption { "Recent commands, newest first" }
                        thead {
                            tr {
                                th scope="col" { "Command" }
                                th scope="col" { "State" }
                                th scope="col" { "Sent" }
                                th scope="col" { "Finished" }
                                th scope="col" { "Error" }
                            }
                        }
                        tbody {}
                    }
                }
            }
            section aria-labelledby="settings-heading" {
                h2 id="settings-heading" { "Name and settings" }
                form id="screen-form" class="form" novalidate {
                    div class="field" {
                        label for="name" { "Name" }
                        input id="name" name="name" type="text" autocomplete="off" required
                            maxlength=(LABEL_MAX_CHARS) aria-describedby="name-error";
                        p id="name-error" class="field-error" hidden {}
                    }
                    div class="field" {
                        label for="location" { "Location (optional)" }
                        input id="location" name="location" type="text" autocomplete="off"
                            maxlength=(LABEL_MAX_CHARS) aria-describedby="location-error";
                        p id="location-error" class="field-error" hidden {}
                    }
                    div class="field" {
                        label for="profile" { "Profile" }
                        select id="profile" name="profile_id" aria-describedby="profile-error" {
                            option value="" { "No profile" }
                        }
                        p id="profile-error" class="field-error" hidden {}
                    }
                    div class="field" {
                        label for="group" { "Group" }
                        select id="group" name="group_id" aria-describedby="group-error" {
                            option value="" { "No group" }
                        }
                        p id="group-error" class="field-error" hidden {}
                    }
                    div class="field" {
                        label for="overrides" { "Settings overrides (JSON)" }
                        textarea id="overrides" name="overrides" rows="8" spellcheck="false"
                            maxlength=(MAX_OVERRIDES_CHARS)
                            aria-describedby="overrides-hint overrides-error" {}
                        p id="overrides-hint" class="hint" {
                            "This screen's own settings, over its group's and profile's, such as "
                            code { "{\"screensaver\": {\"interval_seconds\": 20}}" }
                            ". A filter goes under " code { "filter" } ". Leave empty to use the "
                            "shared settings only."
                        }
                        p id="overrides-error" class="field-error" hidden {}
                    }
                    button type="submit" class="primary" disabled { "Save changes" }
                }
            }
            section aria-labelledby="merge-heading" {
                h2 id="merge-heading" { "Merge another record into this one" }
                p class="hint" {
                    "When a screen lost its storage and paired again, its old record stays. "
                    "Merging retires the chosen record, which can no longer connect, and keeps "
                    "this one."
                }
                form id="merge-form" class="form" novalidate {
                    div class="field" {
                        label for="merge-retired" { "Record to retire" }
                        select id="merge-retired" aria-describedby="merge-retired-error" {
                            option value="" { "Choose a screen" }
                        }
                        p id="merge-retired-error" class="field-error" hidden {}
                    }
                    button type="submit" class="secondary" disabled { "Merge…" }
                }
            }
            section aria-labelledby="danger-heading" {
                h2 id="danger-heading" { "Revoke or delete" }
                p class="hint" {
                    "Revoking disconnects the screen and keeps its record. Deleting also removes "
                    "the record and its command history."
                }
                div class="actions" {
                    button id="revoke" type="button" class="danger" disabled { "Revoke…" }
                    button id="delete" type="button" class="danger" disabled { "Delete…" }
                }
            }
            (status_lines("Managing this screen"))
        }
        (confirm_dialog())
    }
}

/// Renders the confirmation dialog shown before a revoke, delete or merge. The module fills in
/// the question and the confirming button's label.
fn confirm_dialog() -> Markup {
    html! {
        dialog id="confirm" aria-labelledby="confirm-heading" aria-describedby="confirm-text" {
            form method="dialog" {
                h2 id="confirm-heading" { "Are you sure?" }
                p id="confirm-text" {}
                div class="actions" {
                    button type="submit" value="cancel" class="secondary" { "Cancel" }
                    button id="confirm-yes" type="submit" value="confirm" class="danger" { "Confirm" }
                }
            }
        }
    }
}
