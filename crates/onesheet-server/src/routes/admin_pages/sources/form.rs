//! The editor of one media-server source, shared by adding and editing, and the delete
//! confirmation.
//!
//! The fields mirror the body of `POST /api/v1/admin/sources`. Ranges come from the registry's
//! own bounds, so the browser's hints and the server's checks cannot drift apart. The stored
//! credential is never sent to the page: the form shows only whether one is set, and an empty
//! field on save keeps it.

use maud::{Markup, html};
use onesheet_sources::registry::settings::{
    MAX_CREDENTIAL_CHARS, POLL_SECONDS, REFRESH_MINUTES, WEIGHT,
};

pub(super) fn source_editor() -> Markup {
    html! {
        section id="source-editor" class="card source-editor" hidden tabindex="-1"
            aria-labelledby="editor-heading" {
            h2 id="editor-heading" { "Add a source" }
            form id="source-form" class="form" novalidate {
                (server_fields())
                (library_fields())
                (filter_fields())
                (schedule_fields())
                div class="actions" {
                    button type="submit" class="primary inline" disabled { "Save" }
                    button id="test-source" type="button" class="secondary inline" disabled {
                        "Test connection"
                    }
                    button id="cancel-edit" type="button" class="secondary inline" {
                        "Cancel"
                    }
                }
                section id="test-result" class="test-result" hidden tabindex="-1"
                    aria-labelledby="test-result-heading" {
                    h3 id="test-result-heading" { "Connection test" }
                    p id="test-result-text" {}
                }
            }
        }
    }
}

fn server_fields() -> Markup {
    html! {
        fieldset {
            legend { "Server" }
            div class="field" {
                label for="kind" { "Kind" }
                select id="kind" name="kind" aria-describedby="kind-error" {
                    option value="jellyfin" { "Jellyfin" }
                    option value="emby" { "Emby" }
                    option value="plex" { "Plex" }
                }
                p id="kind-error" class="field-error" hidden {}
            }
            (text_field("name", "Name", "Shown in the list and the logs, such as Living room.", "off"))
            (text_field(
                "host",
                "Server address",
                "Such as http://192.168.1.20:8096, or the address of the web app copied from the \
                 browser. A bare host name uses the server's usual port.",
                "url",
            ))
            (text_field(
                "base-path",
                "Base path (optional)",
                "Only when the server sits below a path that the address leaves out, such as \
                 jellyfin for https://example.org/jellyfin.",
                "off",
            ))
            div class="field" {
                label for="https" { "Connection" }
                select id="https" name="https" aria-describedby="https-error" {
                    option value="" { "As the address says (plain HTTP without a scheme)" }
                    option value="true" { "HTTPS" }
                    option value="false" { "Plain HTTP" }
                }
                p id="https-error" class="field-error" hidden {}
            }
            div class="field" {
                label id="credential-label" for="credential" { "API key" }
                input id="credential" name="credential" type="password" autocomplete="off"
                    autocapitalize="none" spellcheck="false" maxlength=(MAX_CREDENTIAL_CHARS)
                    aria-describedby="credential-state credential-hint credential-error";
                p id="credential-state" class="hint credential-state" { "Not set." }
                p id="credential-hint" class="hint" {}
                p id="credential-error" class="field-error" hidden {}
            }
            div id="clear-credential-field" class="field check" hidden {
                input id="clear-credential" name="clear_credential" type="checkbox";
                label for="clear-credential" { "Remove the stored credential" }
            }
            (check("enabled", "Enabled: refresh this source and show its items"))
        }
    }
}

fn library_fields() -> Markup {
    html! {
        fieldset aria-describedby="libraries-hint" {
            legend { "Libraries" }
            p id="libraries-hint" class="hint" {
                "With none ticked, every movie, show and music library is read. The list comes "
                "from the server, so save the source first."
            }
            div id="library-choices" class="choices" {}
            p id="libraries-error" class="field-error" hidden {}
            button id="load-libraries" type="button" class="secondary inline" disabled {
                "Load libraries from the server"
            }
        }
    }
}

fn filter_fields() -> Markup {
    html! {
        fieldset aria-describedby="filter-hint" {
            legend { "Filter" }
            p id="filter-hint" class="hint" {
                "Only items that pass the filter join the catalog. The genre and rating lists "
                "come from the source's items after its first refresh."
            }
            div class="field" {
                label for="genres-include" { "Only these genres (optional)" }
                select id="genres-include" name="genres_include" multiple size="5"
                    aria-describedby="genres-include-error" {}
                p id="genres-include-error" class="field-error" hidden {}
            }
            div class="field" {
                label for="genres-exclude" { "Never these genres (optional)" }
                select id="genres-exclude" name="genres_exclude" multiple size="5"
                    aria-describedby="genres-exclude-error" {}
                p id="genres-exclude-error" class="field-error" hidden {}
            }
            div class="field" {
                label for="content-rating-max" { "Strictest content rating allowed" }
                select id="content-rating-max" name="content_rating_max"
                    aria-describedby="content-rating-max-error" {
                    option value="" { "No limit" }
                }
                p id="content-rating-max-error" class="field-error" hidden {}
            }
            (check("allow-unrated", "Allow items without a content rating when a limit is set"))
            div class="field-row" {
                (number_field("min-rating", "Minimum rating (0 to 10)", "0", "10", "0.1"))
                (number_field("year-from", "From year", "1870", "2100", "1"))
                (number_field("year-to", "To year", "1870", "2100", "1"))
                (number_field("added-within-days", "Added within days", "1", "36500", "1"))
            }
            (check("require-4k", "Only 4K items"))
            (check("require-hdr", "Only HDR or Dolby Vision items"))
        }
    }
}

fn schedule_fields() -> Markup {
    let refresh_min = REFRESH_MINUTES.start().to_string();
    let refresh_max = REFRESH_MINUTES.end().to_string();
    let weight_min = WEIGHT.start().to_string();
    let weight_max = WEIGHT.end().to_string();
    let poll_min = POLL_SECONDS.start().to_string();
    let poll_max = POLL_SECONDS.end().to_string();
    html! {
        fieldset {
            legend { "Refresh, order and certificates" }
            div class="field-row" {
                (number_field(
                    "refresh-minutes",
                    &format!("Refresh every (minutes, {refresh_min} to {refresh_max})"),
                    &refresh_min,
                    &refresh_max,
                    "1",
                ))
                (number_field(
                    "weight",
                    &format!("Weight ({weight_min} to {weight_max})"),
                    &weight_min,
                    &weight_max,
                    "0.1",
                ))
                (number_field(
                    "poll-seconds",
                    &format!("Now-playing check every (seconds, {poll_min} to {poll_max})"),
                    &poll_min,
                    &poll_max,
                    "1",
                ))
            }
            (check("now-playing", "Show what plays on this server on now-playing screens"))
            (check("tls-verify", "Check the server's HTTPS certificate"))
            (text_field(
                "ca-file",
                "Private CA file (optional)",
                "Absolute path on the server of the PEM file of a private CA that signed the \
                 server's certificate.",
                "off",
            ))
        }
    }
}

/// Renders the confirmation that a delete needs, as a modal `<dialog>`.
pub(super) fn delete_dialog() -> Markup {
    html! {
        dialog id="delete-dialog" class="card" aria-labelledby="delete-heading"
            aria-describedby="delete-text" {
            h2 id="delete-heading" { "Delete this source?" }
            p id="delete-text" {}
            div class="actions" {
                button id="delete-confirm" type="button" class="danger inline" { "Delete" }
                button id="delete-cancel" type="button" class="secondary inline" { "Keep it" }
            }
        }
    }
}

fn text_field(id: &str, label: &str, hint: &str, autocomplete: &str) -> Markup {
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    html! {
        div class="field" {
            label for=(id) { (label) }
            input id=(id) name=(id) type="text" autocomplete=(autocomplete)
                autocapitalize="none" spellcheck="false"
                aria-describedby=(format!("{hint_id} {error_id}"));
            p id=(hint_id) class="hint" { (hint) }
            p id=(error_id) class="field-error" hidden {}
        }
    }
}

fn number_field(id: &str, label: &str, min: &str, max: &str, step: &str) -> Markup {
    let error_id = format!("{id}-error");
    html! {
        div class="field" {
            label for=(id) { (label) }
            input id=(id) name=(id) type="number" inputmode="decimal" min=(min) max=(max)
                step=(step) aria-describedby=(error_id);
            p id=(error_id) class="field-error" hidden {}
        }
    }
}

fn check(id: &str, label: &str) -> Markup {
    html! {
        div class="field check" {
            input id=(id) name=(id) type="checkbox";
            label for=(id) { (label) }
        }
    }
}
