//! `/api/v1/admin/settings`: the global display settings, read and replaced as one document.
//!
//! A saved document becomes a new version in the store, the catalog applies its filter, and the
//! online screens receive their newly merged settings at once.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use onesheet_domain::presets::PRESETS;
use onesheet_domain::settings::schema::settings_schema;
use onesheet_domain::{DisplayMode, DisplaySettings, SettingsOverride};
use serde::Serialize;
use serde_json::{Value, json};
use tracing::info;

use super::body::JsonBody;
use crate::accounts::unix_now;
use crate::auth::AdminAccess;
use crate::error::ApiError;
use crate::routes::table::RouteTable;
use crate::state::{AppState, TaggedSettings};

pub(super) fn routes() -> RouteTable {
    RouteTable::new()
        .get("/api/v1/admin/settings", show)
        .put("/api/v1/admin/settings", replace)
        .get("/api/v1/admin/settings/schema", schema)
        .get("/api/v1/admin/presets", presets)
}

/// Returns the JSON Schema of the settings document, with every default, description and limit.
async fn schema(_: AdminAccess) -> Response {
    let mut response = Json(settings_schema()).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/schema+json"),
    );
    response
}

/// One preset as the admin API lists it: its id, what it is for, and its partial settings.
#[derive(Serialize)]
struct PresetView {
    id: &'static str,
    name: &'static str,
    description: &'static str,
    mode: DisplayMode,
    settings: SettingsOverride,
}

/// Lists the presets, whose `settings` can be copied into a profile, group or device override.
async fn presets(_: AdminAccess) -> Response {
    let presets: Vec<PresetView> = PRESETS
        .iter()
        .map(|preset| PresetView {
            id: preset.id,
            name: preset.name,
            description: preset.description,
            mode: preset.mode,
            settings: preset.overrides(),
        })
        .collect();
    Json(json!({ "presets": presets })).into_response()
}

/// Response body: the current settings and their version. Version 0 is the built-in defaults.
#[derive(Serialize)]
struct SettingsView<'a> {
    version: i64,
    settings: &'a DisplaySettings,
    /// Dotted keys that differ from the previous version. Only in the response to a save.
    #[serde(skip_serializing_if = "Option::is_none")]
    changed: Option<Vec<String>>,
    /// Number of screens that received the new settings. Only in the response to a save.
    #[serde(skip_serializing_if = "Option::is_none")]
    screens_updated: Option<usize>,
}

async fn show(_: AdminAccess, State(state): State<AppState>) -> Result<Response, ApiError> {
    let version = state
        .store
        .current_settings()
        .await
        .map_err(ApiError::internal)?
        .map_or(0, |saved| saved.version);
    let current = state.settings.load();
    let view = SettingsView {
        version,
        settings: &current.settings,
        changed: None,
        screens_updated: None,
    };
    Ok(axum::Json(view).into_response())
}

async fn replace(
    access: AdminAccess,
    State(state): State<AppState>,
    JsonBody(settings): JsonBody<DisplaySettings>,
) -> Result<Response, ApiError> {
    settings.validate().map_err(ApiError::InvalidFields)?;

    let previous = state.settings.load_full();
    let changed = changed_keys(&previous.settings, &settings);
    let actor = access.actor.audit_name();
    let version = state
        .store
        .save_settings(&settings, &actor, unix_now())
        .await
        .map_err(ApiError::internal)?;

    // The catalog reorders only when its filter changed, because that builds a new generation
    // and screens would page from the start again.
    if previous.settings.filter != settings.filter {
        state.catalog.set_filter(settings.filter.compile()).await;
    }
    state
        .settings
        .store(std::sync::Arc::new(TaggedSettings::new(settings)));
    let screens_updated = match &state.devices {
        Some(devices) => devices.global_settings_changed().await,
        None => 0,
    };
    info!(settings.version = version, changed = ?changed, screens_updated, "display settings saved");

    if let Some(accounts) = &state.accounts {
        let detail = serde_json::json!({ "version": version, "changed": changed });
        accounts
            .audit(
                &actor,
                "settings.changed",
                Some(&version.to_string()),
                &access.caller,
                Some(detail),
            )
            .await;
    }

    let current = state.settings.load();
    let view = SettingsView {
        version,
        settings: &current.settings,
        changed: Some(changed),
        screens_updated: Some(screens_updated),
    };
    Ok(axum::Json(view).into_response())
}

/// Lists the dotted keys whose values differ between two settings documents, such as
/// `screensaver.interval_seconds`. The audit log records these names, never the values.
fn changed_keys(before: &DisplaySettings, after: &DisplaySettings) -> Vec<String> {
    let before = serde_json::to_value(before).unwrap_or(Value::Null);
    let after = serde_json::to_value(after).unwrap_or(Value::Null);
    let mut keys = BTreeSet::new();
    collect_changes("", &before, &after, &mut keys);
    keys.into_iter().collect()
}

fn collect_changes(prefix: &str, before: &Value, after: &Value, keys: &mut BTreeSet<String>) {
    match (before, after) {
        (Value::Object(old), Value::Object(new)) => {
            for name in old.keys().chain(new.keys()) {
                let path = if prefix.is_empty() {
                    name.clone()
                } else {
                    format!("{prefix}.{name}")
                };
                let missing = Value::Null;
                collect_changes(
                    &path,
                    old.get(name).unwrap_or(&missing),
                    new.get(name).unwrap_or(&missing),
                    keys,
                );
            }
        }
        _ if before != after => {
            keys.insert(prefix.to_owned());
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_keys_are_dotted_paths() {
        let before = DisplaySettings::default();
        let mut after = before.clone();
        after.screensaver.interval_seconds = 30;
        after.wallart.density = 7;

        let keys = changed_keys(&before, &after);

        assert_eq!(keys, ["screensaver.interval_seconds", "wallart.density"]);
    }

    #[test]
    fn unchanged_settings_have_no_keys() {
        let settings = DisplaySettings::default();

        assert!(changed_keys(&settings, &settings.clone()).is_empty());
    }
}
