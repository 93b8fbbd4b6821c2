//! The live, redacted tail of the server log at `/admin/logs`.
//!
//! The page itself is a frame: its module reads `GET /api/v1/admin/logs/stream` with an
//! `EventSource` and appends the lines, so nothing is rendered here that would be stale a
//! second later.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};

use super::layout::{Section, admin_page};
use super::{PageSession, html_page};
use crate::logs::CAPACITY;
use crate::state::AppState;

/// Lines the page keeps on screen; older ones are removed as new ones arrive.
const SHOWN_LINES: usize = 1_000;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route(Section::Logs.path(), get(logs))
}

async fn logs(State(state): State<AppState>, session: PageSession) -> Response {
    let base = state.base_path.as_str();
    let frame = session.frame(base, Section::Logs, "Server log", Some("logs.js"));
    html_page(admin_page(&frame, content(base)))
}

fn content(base: &str) -> Markup {
    let download = format!("{base}/api/v1/admin/logs/download");
    html! {
        p class="lead" {
            "The newest lines of the server's log, as they are written. Passwords, tokens, "
            "cookies and keys are replaced by [redacted]. The server keeps the last "
            (CAPACITY) " lines in memory, and this page shows up to " (SHOWN_LINES) "."
        }
        form id="log-controls" class="log-controls" data-max-lines=(SHOWN_LINES) {
            div class="field" {
                label for="log-level" { "Show" }
                select id="log-level" name="level" aria-describedby="log-level-hint" {
                    option value="error" { "Errors" }
                    option value="warn" { "Warnings and errors" }
                    option value="info" selected { "Info, warnings and errors" }
                    option value="debug" { "Everything, with debug lines" }
                }
                p id="log-level-hint" class="hint" {
                    "Debug lines appear only when the server's log.level lets them through."
                }
            }
            div class="log-buttons" {
                button id="log-pause" type="button" class="secondary" aria-pressed="false" disabled {
                    "Pause"
                }
                button id="log-clear" type="button" class="secondary" disabled { "Clear the view" }
                a id="log-download" class="button-link" href=(download) download {
                    "Download the kept lines"
                }
            }
        }
        p id="log-state" class="status" role="status" aria-live="polite" { "Connecting…" }
        p id="form-error" class="error" role="alert" hidden {}
        noscript {
            p class="error" {
                "The live log needs JavaScript: turn it on for this site and reload the page. "
                "The download link works without it."
            }
        }
        div id="log-view" class="log-view" tabindex="0" role="log" aria-label="Server log lines"
            aria-live="off" {}
    }
}
