//! `/api/v1/admin/settings`: the global display settings, read and replaced as one document.
//!
//! A saved document becomes a new version in the store, the catalog applies its filter, and the
//! online screens receive their newly merged settings at once. [`history`] lists the saved
//! versions, compares them and reverts to one.

mod history;

use std::collections::BTreeMap;
use std::fmt;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use onesheet_domain::presets::PRESETS;
use onesheet_domain::settings::schema::settings_schema;
use onesheet_domain::{DisplayMode, DisplaySettings, SettingsOverride};
use serde::de::value::MapAccessDeserializer;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};
use tracing::{info, warn};

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
        .post("/api/v1/admin/settings/preview", preview)
        .get("/api/v1/admin/presets", presets)
        .merge(history::routes())
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
    JsonBody(SettingsObject(settings)): JsonBody<SettingsObject>,
) -> Result<Response, ApiError> {
    settings.validate().map_err(|errors| {
        warn!(%errors, "display settings rejected");
        ApiError::InvalidFields(errors)
    })?;
    let saved = save_and_push(&state, &access, settings, "settings.changed", None).await?;
    let current = state.settings.load();
    Ok(axum::Json(saved.view(&current)).into_response())
}

/// Checks a settings document without saving it, so the editor can show each field's error
/// while the admin types. Returns the document as the screens would receive it.
async fn preview(
    _: AdminAccess,
    JsonBody(SettingsObject(settings)): JsonBody<SettingsObject>,
) -> Result<Response, ApiError> {
    settings.validate().map_err(ApiError::InvalidFields)?;
    Ok(Json(json!({ "settings": settings })).into_response())
}

/// A settings document that must be a JSON object. The derived [`Deserialize`] of
/// [`DisplaySettings`] also reads an array as its fields in order, so `[]` would pass as the
/// defaults and a save would reset every setting.
struct SettingsObject(DisplaySettings);

impl<'de> Deserialize<'de> for SettingsObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;

        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = DisplaySettings;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a JSON object of display settings")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<DisplaySettings, A::Error> {
                DisplaySettings::deserialize(MapAccessDeserializer::new(map))
            }
        }

        deserializer.deserialize_map(ObjectVisitor).map(Self)
    }
}

/// A saved settings version, for the response to a save or a revert.
struct Saved {
    version: i64,
    changed: Vec<String>,
    screens_updated: usize,
}

impl Saved {
    fn view<'a>(&self, current: &'a TaggedSettings) -> SettingsView<'a> {
        SettingsView {
            version: self.version,
            settings: &current.settings,
            changed: Some(self.changed.clone()),
            screens_updated: Some(self.screens_updated),
        }
    }
}

/// Saves validated `settings` as a new version, applies them to the catalog and the screens,
/// and records `action` in the audit log with the version, the changed keys and `extra`.
async fn save_and_push(
    state: &AppState,
    access: &AdminAccess,
    settings: DisplaySettings,
    action: &str,
    extra: Option<(&str, Value)>,
) -> Result<Saved, ApiError> {
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
    info!(settings.version = version, changed = ?changed, screens_updated, action, "display settings saved");

    if let Some(accounts) = &state.accounts {
        let mut detail = json!({ "version": version, "changed": changed });
        if let (Some((key, value)), Value::Object(map)) = (extra, &mut detail) {
            map.insert(key.to_owned(), value);
        }
        accounts
            .audit(
                &actor,
                action,
                Some(&version.to_string()),
                &access.caller,
                Some(detail),
            )
            .await;
    }
    Ok(Saved {
        version,
        changed,
        screens_updated,
    })
}

/// One setting that differs between two settings documents.
#[derive(Debug, Serialize, PartialEq)]
struct Change {
    /// Dotted key of the setting, such as `screensaver.interval_seconds`.
    key: String,
    /// Value in the older document, `null` where it has none.
    old: Value,
    new: Value,
}

/// Lists the dotted keys whose values differ between two settings documents, such as
/// `screensaver.interval_seconds`. The audit log records these names, never the values.
fn changed_keys(before: &DisplaySettings, after: &DisplaySettings) -> Vec<String> {
    let before = serde_json::to_value(before).unwrap_or(Value::Null);
    let after = serde_json::to_value(after).unwrap_or(Value::Null);
    diff_documents(&before, &after)
        .into_iter()
        .map(|change| change.key)
        .collect()
}

/// Returns the settings that differ between two documents, sorted by key. Objects are compared
/// key by key, and anything else, lists included, as a whole.
fn diff_documents(before: &Value, after: &Value) -> Vec<Change> {
    let mut changes = BTreeMap::new();
    collect_changes("", before, after, &mut changes);
    changes.into_values().collect()
}

fn collect_changes(
    prefix: &str,
    before: &Value,
    after: &Value,
    changes: &mut BTreeMap<String, Change>,
) {
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
                    changes,
                );
            }
        }
        _ if before != after => {
            changes.insert(
                prefix.to_owned(),
                Change {
                    key: prefix.to_owned(),
                    old: before.clone(),
                    new: after.clone(),
                },
            );
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
    fn diff_lists_old_and_new_values() {
        let before = json!({ "screensaver": { "interval_seconds": 10, "clock": "off" } });
        let after = json!({ "screensaver": { "interval_seconds": 30, "clock": "off" } });

        let changes = diff_documents(&before, &after);

        assert_eq!(
            changes,
            [Change {
                key: "screensaver.interval_seconds".to_owned(),
                old: json!(10),
                new: json!(30),
            }]
        );
    }

    #[test]
    fn unchanged_settings_have_no_keys() {
        let settings = DisplaySettings::default();

        assert!(changed_keys(&settings, &settings.clone()).is_empty());
    }
}
