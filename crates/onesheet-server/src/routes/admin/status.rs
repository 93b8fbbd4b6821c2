//! `GET /api/v1/admin/status`: the figures of the admin dashboard in one response.
//!
//! The dashboard page renders the same [`StatusReport`] on the server and then polls this route
//! to refresh it, so both read the catalog, the source registry, the device service, the audit
//! log and the image service through [`collect`].

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use onesheet_domain::MediaKind;
use onesheet_domain::device::presence::Presence;
use onesheet_sources::{SourceHealth, SourceState};
use onesheet_store::AuditFilter;
use serde::Serialize;
use tracing::warn;

use crate::accounts::AccountError;
use crate::auth::{Actor, AdminAccess};
use crate::data_files::{self, SharedPath};
use crate::devices::DeviceListFilter;
use crate::error::ApiError;
use crate::routes::table::RouteTable;
use crate::state::AppState;

/// Audit events the dashboard shows.
pub(in crate::routes) const RECENT_AUDIT_EVENTS: u32 = 10;

/// A source whose last success is older than this many refresh intervals counts as stale,
/// even though its last refresh did not fail: its refresh loop has stopped or hangs.
const STALE_INTERVALS: i64 = 2;

pub(super) fn routes() -> RouteTable {
    RouteTable::new().get("/api/v1/admin/status", status)
}

async fn status(access: AdminAccess, State(state): State<AppState>) -> Result<Response, ApiError> {
    let username = match &access.actor {
        Actor::Admin(signed_in) => Some(signed_in.username.as_str()),
        Actor::Token { .. } | Actor::Bootstrap => None,
    };
    let report = collect(&state, username).await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(report)).into_response())
}

/// Everything the dashboard shows.
#[derive(Debug, Serialize)]
pub(in crate::routes) struct StatusReport {
    /// Unix seconds when the report was made.
    pub generated_at: i64,
    pub health: Health,
    pub sources: Vec<SourceStatus>,
    pub catalog: CatalogCounts,
    /// `None` when the server runs without the device service.
    pub screens: Option<ScreenCounts>,
    /// The newest audit events, newest first; empty without admin accounts.
    pub audit: Vec<AuditSummary>,
    pub warnings: Vec<Warning>,
}

#[derive(Debug, Serialize)]
pub(in crate::routes) struct Health {
    pub version: &'static str,
    pub uptime_seconds: u64,
    /// Resident set size of the process in bytes; `None` where `/proc` is missing.
    pub resident_memory_bytes: Option<u64>,
    pub image_memory_cache: CacheFigures,
    /// `None` when the disk cache is off or could not be opened.
    pub image_disk_cache: Option<CacheFigures>,
}

#[derive(Debug, Serialize)]
pub(in crate::routes) struct CacheFigures {
    pub entries: u64,
    pub bytes: u64,
    pub max_bytes: u64,
    pub hits: u64,
    pub misses: u64,
    /// Share of lookups served from this cache, from 0 to 1; `None` before the first lookup.
    pub hit_rate: Option<f64>,
}

impl CacheFigures {
    fn new(entries: u64, bytes: u64, max_bytes: u64, hits: u64, misses: u64) -> Self {
        let lookups = hits + misses;
        Self {
            entries,
            bytes,
            max_bytes,
            hits,
            misses,
            hit_rate: (lookups > 0).then(|| hits as f64 / lookups as f64),
        }
    }
}

/// Condition of a source, as the dashboard shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(in crate::routes) enum SourceCondition {
    Ok,
    /// Not refreshed yet since the server started.
    Pending,
    /// The last refresh worked, but longer ago than [`STALE_INTERVALS`] refresh intervals.
    Stale,
    /// The last refresh failed; the items of the last success are still shown.
    Failing,
    /// Switched off by an admin.
    Disabled,
}

impl SourceCondition {
    pub(in crate::routes) fn label(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Pending => "Waiting for the first refresh",
            Self::Stale => "Stale",
            Self::Failing => "Failing",
            Self::Disabled => "Disabled",
        }
    }
}

#[derive(Debug, Serialize)]
pub(in crate::routes) struct SourceStatus {
    pub id: String,
    /// The name an admin gave a media server; the id for the built-in sources.
    pub name: String,
    pub kind: String,
    pub condition: SourceCondition,
    pub items: usize,
    /// Unix seconds of the last successful refresh.
    pub last_success_unix: Option<i64>,
    pub last_error: Option<String>,
    pub last_error_code: Option<&'static str>,
    /// Set while a refresh runs.
    pub refreshing: bool,
}

#[derive(Debug, Serialize)]
pub(in crate::routes) struct CatalogCounts {
    pub loaded: bool,
    /// True while the built-in demo library is shown because no source has items.
    pub demo: bool,
    pub items: usize,
    /// Items by kind, the largest count first.
    pub by_kind: Vec<KindCount>,
}

#[derive(Debug, Serialize)]
pub(in crate::routes) struct KindCount {
    pub kind: MediaKind,
    pub items: usize,
}

#[derive(Debug, Default, Serialize)]
pub(in crate::routes) struct ScreenCounts {
    pub total: usize,
    /// Heard from recently, over a WebSocket or by polling.
    pub online: usize,
    pub offline: usize,
    /// Showing one item for three of their intervals.
    pub frozen: usize,
}

#[derive(Debug, Serialize)]
pub(in crate::routes) struct AuditSummary {
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
}

/// A condition the admin should fix, with the page where it is fixed.
#[derive(Debug, Serialize)]
pub(in crate::routes) struct Warning {
    /// Stable machine code, such as `no-second-factor`.
    pub code: &'static str,
    pub message: String,
    /// Admin page below the base path where the fix starts, if there is one.
    pub link: Option<&'static str>,
    /// Text of the link to [`Warning::link`].
    pub link_text: Option<&'static str>,
}

/// Builds the report. `username` names the signed-in admin, whose second factor the warnings
/// check; `None` for API tokens, which have no second factor.
pub(in crate::routes) async fn collect(
    state: &AppState,
    username: Option<&str>,
) -> Result<StatusReport, ApiError> {
    let now = crate::accounts::unix_now();
    let sources = source_statuses(state, now).await?;
    let screens = screen_counts(state).await?;
    let audit = recent_audit(state).await?;
    let warnings = warnings(state, username).await?;
    Ok(StatusReport {
        generated_at: now,
        health: health(state),
        sources,
        catalog: catalog_counts(state),
        screens,
        audit,
        warnings,
    })
}

fn health(state: &AppState) -> Health {
    let images = state.images.stats();
    let memory = &images.memory;
    Health {
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: state.started_at.elapsed().as_secs(),
        resident_memory_bytes: resident_memory_bytes(),
        image_memory_cache: CacheFigures::new(
            memory.entries,
            memory.bytes,
            memory.max_bytes,
            memory.hits,
            memory.misses,
        ),
        image_disk_cache: images.disk.as_ref().map(|disk| {
            CacheFigures::new(
                disk.entries,
                disk.bytes,
                disk.max_bytes,
                disk.hits,
                disk.misses,
            )
        }),
    }
}

/// Reads `VmRSS` from `/proc/self/status`, which Linux reports in KiB.
fn resident_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Joins the catalog's health of every source with the registry's names, switches and
/// refresh intervals of the media servers.
async fn source_statuses(state: &AppState, now: i64) -> Result<Vec<SourceStatus>, ApiError> {
    let configured = match &state.sources {
        Some(registry) => registry.list().await?,
        None => Vec::new(),
    };
    let health = state.catalog.health();
    let mut statuses: Vec<SourceStatus> = health
        .iter()
        .map(|entry| {
            let view = configured.iter().find(|view| view.id == entry.id);
            let refresh_seconds = view.map(|view| i64::from(view.settings.refresh_minutes) * 60);
            SourceStatus {
                id: entry.id.to_string(),
                name: view.map_or_else(|| entry.id.to_string(), |view| view.name.clone()),
                kind: entry.kind.to_owned(),
                condition: condition(entry, refresh_seconds, now),
                items: entry.items,
                last_success_unix: entry.last_success_unix,
                last_error: entry.last_error.clone(),
                last_error_code: entry.last_error_code,
                refreshing: entry.progress.is_some(),
            }
        })
        .collect();

    // A disabled media server has no entry in the catalog.
    for view in configured.iter().filter(|view| !view.enabled) {
        if statuses.iter().any(|status| status.id == view.id.as_str()) {
            continue;
        }
        statuses.push(SourceStatus {
            id: view.id.to_string(),
            name: view.name.clone(),
            kind: view.kind.as_str().to_owned(),
            condition: SourceCondition::Disabled,
            items: 0,
            last_success_unix: None,
            last_error: None,
            last_error_code: None,
            refreshing: false,
        });
    }
    Ok(statuses)
}

fn condition(entry: &SourceHealth, refresh_seconds: Option<i64>, now: i64) -> SourceCondition {
    match entry.state {
        SourceState::Pending => SourceCondition::Pending,
        SourceState::Failing => SourceCondition::Failing,
        SourceState::Ok => {
            let overdue = match (refresh_seconds, entry.last_success_unix) {
                (Some(interval), Some(success)) => now - success > STALE_INTERVALS * interval,
                _ => false,
            };
            if overdue {
                SourceCondition::Stale
            } else {
                SourceCondition::Ok
            }
        }
    }
}

fn catalog_counts(state: &AppState) -> CatalogCounts {
    let snapshot = state.catalog.snapshot();
    let mut counts: HashMap<MediaKind, usize> = HashMap::new();
    for item in &snapshot.items {
        *counts.entry(item.kind).or_default() += 1;
    }
    let mut by_kind: Vec<KindCount> = counts
        .into_iter()
        .map(|(kind, items)| KindCount { kind, items })
        .collect();
    // Equal counts are ordered by kind, so the cards keep their order between refreshes.
    by_kind.sort_by_key(|count| (std::cmp::Reverse(count.items), format!("{:?}", count.kind)));
    CatalogCounts {
        loaded: state.catalog.is_loaded(),
        demo: snapshot.demo,
        items: snapshot.items.len(),
        by_kind,
    }
}

async fn screen_counts(state: &AppState) -> Result<Option<ScreenCounts>, ApiError> {
    let Some(devices) = &state.devices else {
        return Ok(None);
    };
    let mut counts = ScreenCounts::default();
    for device in devices.list_devices(&DeviceListFilter::default()).await? {
        counts.total += 1;
        match device.presence {
            Presence::Live | Presence::Online => counts.online += 1,
            Presence::Offline => counts.offline += 1,
        }
        if device.frozen {
            counts.frozen += 1;
        }
    }
    Ok(Some(counts))
}

async fn recent_audit(state: &AppState) -> Result<Vec<AuditSummary>, ApiError> {
    let Some(accounts) = &state.accounts else {
        return Ok(Vec::new());
    };
    let filter = AuditFilter {
        limit: Some(RECENT_AUDIT_EVENTS),
        ..AuditFilter::default()
    };
    Ok(accounts
        .audit_events(&filter)
        .await?
        .into_iter()
        .map(|event| AuditSummary {
            id: event.id,
            at: event.at,
            actor: event.actor,
            action: event.action,
            target: event.target,
        })
        .collect())
}

async fn warnings(state: &AppState, username: Option<&str>) -> Result<Vec<Warning>, ApiError> {
    let mut warnings = Vec::new();

    if let Some(username) = username {
        let admin = state
            .store
            .get_admin_by_username(username)
            .await
            .map_err(AccountError::from)?;
        if admin.is_some_and(|admin| !admin.totp_enabled()) {
            warnings.push(Warning {
                code: "no-second-factor",
                message: "Your account signs in with a password alone: turn on two-factor \
                          sign-in on the Security page."
                    .to_owned(),
                link: Some("/admin/security"),
                link_text: Some("Open Security"),
            });
        }
    }

    if let Some(public_url) = state.public_url.as_deref()
        && plain_http_on_network(public_url)
    {
        warnings.push(Warning {
            code: "public-url-without-tls",
            message: format!(
                "The public URL {public_url} uses plain HTTP, so passwords and session cookies \
                 cross the network unencrypted: serve HTTPS (the [tls] settings or a reverse \
                 proxy) and set public_url to the https:// address."
            ),
            link: None,
            link_text: None,
        });
    }

    if let Some(data_dir) = &state.data_dir {
        let data_dir = data_dir.clone();
        let shared = tokio::task::spawn_blocking(move || data_files::shared_paths(&data_dir))
            .await
            .unwrap_or_else(|error| {
                warn!(%error, "the data file permission check stopped");
                Vec::new()
            });
        warnings.extend(shared.iter().map(shared_path_warning));
    }
    Ok(warnings)
}

fn shared_path_warning(shared: &SharedPath) -> Warning {
    Warning {
        code: "data-files-readable",
        message: format!(
            "Other users of this machine can read {} (mode {}), which contains credentials \
             and sessions: run chmod {} on it.",
            shared.path.display(),
            shared.mode,
            shared.private_mode
        ),
        link: None,
        link_text: None,
    }
}

/// True when `url` uses `http://` and its host is not a loopback name or address.
fn plain_http_on_network(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    if parsed.scheme() != "http" {
        return false;
    }
    match parsed.host() {
        Some(url::Host::Domain(domain)) => {
            let domain = domain.trim_end_matches('.').to_ascii_lowercase();
            domain != "localhost" && !domain.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(address)) => !address.is_loopback(),
        Some(url::Host::Ipv6(address)) => !address.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_flagged_off_loopback_only() {
        for (url, flagged) in [
            ("http://posters.example.com", true),
            ("http://192.168.1.20:8080/posters", true),
            ("https://posters.example.com", false),
            ("http://localhost:8080", false),
            ("http://LOCALHOST.", false),
            ("http://127.0.0.1:8080", false),
            ("http://[::1]:8080", false),
            ("not a url", false),
        ] {
            assert_eq!(plain_http_on_network(url), flagged, "{url}");
        }
    }

    #[test]
    fn hit_rate_needs_a_lookup() {
        assert_eq!(CacheFigures::new(0, 0, 0, 0, 0).hit_rate, None);
        assert_eq!(CacheFigures::new(1, 1, 1, 3, 1).hit_rate, Some(0.75));
    }
}
