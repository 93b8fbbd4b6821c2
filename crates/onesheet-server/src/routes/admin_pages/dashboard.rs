//! The dashboard at `/admin`: health, sources, catalog, screens, recent events and warnings.
//!
//! The page renders the report of `GET /api/v1/admin/status` and its module polls that route
//! to refresh the figures. Elements that the module fills carry an `id` or a `data-field`
//! naming the figure, and times carry their Unix seconds in `data-unix` so the module can show
//! them in the browser's time zone.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};

use super::layout::{Section, admin_page};
use super::{PageSession, html_page};
use crate::error::ApiError;
use crate::routes::admin::status::{
    self, AuditSummary, CacheFigures, SourceStatus, StatusReport, Warning,
};
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route(Section::Dashboard.path(), get(dashboard))
}

async fn dashboard(
    State(state): State<AppState>,
    session: PageSession,
) -> Result<Response, ApiError> {
    let base = state.base_path.as_str();
    let report = status::collect(&state, Some(&session.username)).await?;
    let frame = session.frame(base, Section::Dashboard, "Dashboard", Some("dashboard.js"));
    Ok(html_page(admin_page(&frame, content(base, &report))))
}

fn content(base: &str, report: &StatusReport) -> Markup {
    html! {
        section id="warnings" class="dashboard-warnings" aria-labelledby="warnings-heading"
            hidden[report.warnings.is_empty()] {
            h2 id="warnings-heading" { "Needs attention" }
            ul id="warning-list" { @for warning in &report.warnings { (warning_item(base, warning)) } }
        }
        div class="cards dashboard" {
            (health_card(base, report))
            (catalog_card(base, report))
            (screens_card(base, report))
        }
        (sources_card(base, &report.sources))
        (audit_card(base, &report.audit))
        p id="dashboard-status" class="status" role="status" aria-live="polite" {
            "Figures as of " (time(report.generated_at)) "."
        }
        p id="dashboard-error" class="error" role="alert" hidden {}
    }
}

fn warning_item(base: &str, warning: &Warning) -> Markup {
    html! {
        li class="notice warning" data-code=(warning.code) {
            (warning.message)
            @if let Some(link) = warning.link {
                " " a href=(format!("{base}{link}")) { (warning.link_text.unwrap_or("Open the page")) }
            }
        }
    }
}

fn health_card(base: &str, report: &StatusReport) -> Markup {
    let health = &report.health;
    html! {
        section class="card" aria-labelledby="health-heading" {
            h2 id="health-heading" { "Health" }
            dl class="figures" {
                dt { "Version" } dd data-field="version" { (health.version) }
                dt { "Uptime" } dd data-field="uptime" { (duration(health.uptime_seconds)) }
                dt { "Memory in use" }
                dd data-field="memory" {
                    (health.resident_memory_bytes.map_or_else(|| "not measured".to_owned(), bytes))
                }
                dt { "Image memory cache" }
                dd data-field="memory-cache" { (cache(Some(&health.image_memory_cache))) }
                dt { "Image disk cache" }
                dd data-field="disk-cache" { (cache(health.image_disk_cache.as_ref())) }
            }
            a href=(format!("{base}{}", Section::Logs.path())) { "Open the server log" }
        }
    }
}

fn catalog_card(base: &str, report: &StatusReport) -> Markup {
    let catalog = &report.catalog;
    html! {
        section class="card" aria-labelledby="catalog-heading" {
            h2 id="catalog-heading" { "Catalog" }
            p class="big-figure" {
                span data-field="items" { (catalog.items) } " items"
                " " span id="demo-badge" class="badge warning" hidden[!catalog.demo] { "Demo library" }
            }
            ul id="kind-list" class="plain" {
                @for count in &catalog.by_kind {
                    li { (kind_label(&count.kind)) ": " (count.items) }
                }
            }
            a href=(format!("{base}{}", Section::Sources.path())) { "Manage sources" }
        }
    }
}

fn screens_card(base: &str, report: &StatusReport) -> Markup {
    html! {
        section class="card" aria-labelledby="screens-heading" {
            h2 id="screens-heading" { "Screens" }
            @match &report.screens {
                Some(screens) => {
                    dl class="figures" {
                        dt { "Online" } dd data-field="screens-online" { (screens.online) }
                        dt { "Offline" } dd data-field="screens-offline" { (screens.offline) }
                        dt { "Frozen" } dd data-field="screens-frozen" { (screens.frozen) }
                        dt { "Paired" } dd data-field="screens-total" { (screens.total) }
                    }
                    a href=(format!("{base}{}", Section::Devices.path())) { "Open the screens" }
                }
                None => p { "Screens cannot be paired on this server." }
            }
        }
    }
}

fn sources_card(base: &str, sources: &[SourceStatus]) -> Markup {
    html! {
        section class="card dashboard-wide" aria-labelledby="sources-heading" {
            h2 id="sources-heading" { "Sources" }
            // Focusable, so a keyboard can scroll the table on a narrow screen.
            div class="table-scroll" tabindex="0" role="region" aria-label="Source table" {
                table {
                    thead {
                        tr {
                            th scope="col" { "Source" }
                            th scope="col" { "Status" }
                            th scope="col" { "Items" }
                            th scope="col" { "Last worked" }
                            th scope="col" { "Last error" }
                        }
                    }
                    tbody id="source-rows" {
                        @for source in sources { (source_row(source)) }
                    }
                }
            }
            a href=(format!("{base}{}", Section::Sources.path())) { "Manage sources" }
        }
    }
}

fn source_row(source: &SourceStatus) -> Markup {
    let condition = serde_json::to_value(source.condition)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default();
    html! {
        tr data-source=(source.id) {
            td { (source.name) " " span class="muted" { "(" (source.kind) ")" } }
            td {
                span class={ "badge " (badge_class(&condition)) } { (source.condition.label()) }
                @if source.refreshing { " " span class="muted" { "refreshing" } }
            }
            td { (source.items) }
            td { @match source.last_success_unix { Some(at) => (time(at)), None => "never" } }
            td { (source.last_error.as_deref().unwrap_or("")) }
        }
    }
}

fn audit_card(base: &str, events: &[AuditSummary]) -> Markup {
    html! {
        section class="card dashboard-wide" aria-labelledby="audit-heading" {
            h2 id="audit-heading" { "Recent events" }
            ol id="audit-list" class="plain events" {
                @for event in events {
                    li {
                        (time(event.at)) " " strong { (event.actor) } " " code { (event.action) }
                        @if let Some(target) = &event.target { " " (target) }
                    }
                }
            }
            p id="audit-empty" hidden[!events.is_empty()] { "No events yet." }
            a href=(format!("{base}{}", Section::Security.path())) { "Open the audit log" }
        }
    }
}

/// Returns the badge class of a source condition, as the stylesheet names them.
fn badge_class(condition: &str) -> &'static str {
    match condition {
        "ok" => "ok",
        "failing" => "failing",
        "stale" | "pending" => "warning",
        _ => "",
    }
}

fn kind_label(kind: &onesheet_domain::MediaKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Renders a time in UTC; the page's module shows it in the browser's time zone.
fn time(unix: i64) -> Markup {
    let text = jiff::Timestamp::from_second(unix)
        .map(|at| at.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|_| unix.to_string());
    html! { time data-unix=(unix) { (text) } }
}

fn cache(figures: Option<&CacheFigures>) -> String {
    let Some(figures) = figures else {
        return "off".to_owned();
    };
    let rate = figures.hit_rate.map_or_else(
        || "no lookups yet".to_owned(),
        |rate| format!("{:.0} % hits", rate * 100.0),
    );
    format!(
        "{} of {}, {rate}",
        bytes(figures.bytes),
        bytes(figures.max_bytes)
    )
}

/// Formats a byte count with a binary unit, as the page's module does.
fn bytes(count: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if count < 1024 {
        return format!("{count} B");
    }
    let mut value = count as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Formats seconds as the two largest units, such as `3 d 4 h` or `5 min 2 s`.
fn duration(seconds: u64) -> String {
    let days = seconds / 86_400;
    let hours = seconds % 86_400 / 3_600;
    let minutes = seconds % 3_600 / 60;
    let rest = seconds % 60;
    if days > 0 {
        format!("{days} d {hours} h")
    } else if hours > 0 {
        format!("{hours} h {minutes} min")
    } else if minutes > 0 {
        format!("{minutes} min {rest} s")
    } else {
        format!("{rest} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_use_binary_units() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(64 * 1024 * 1024), "64.0 MiB");
    }

    #[test]
    fn durations_show_two_units() {
        assert_eq!(duration(42), "42 s");
        assert_eq!(duration(302), "5 min 2 s");
        assert_eq!(duration(3 * 86_400 + 4 * 3_600 + 59), "3 d 4 h");
    }
}
