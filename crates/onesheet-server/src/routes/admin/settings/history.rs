//! `/api/v1/admin/settings/history`: the saved versions of the global settings, what each one
//! changed, and the revert that saves an old version again as the newest.
//!
//! The store keeps every version. A version is compared with the one before it, and the first
//! with the built-in defaults. Documents are compared after a round trip through
//! [`DisplaySettings`], so a setting added after an old version was saved reads as its default
//! there instead of as a change.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use onesheet_domain::{DisplaySettings, FieldError};
use onesheet_store::StoredSettingsVersion;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tracing::warn;

use super::{Change, Saved, changed_keys, diff_documents, save_and_push};
use crate::auth::AdminAccess;
use crate::error::ApiError;
use crate::routes::table::RouteTable;
use crate::state::{AppState, TaggedSettings};

/// Versions listed per page when the query sets no `limit`.
const DEFAULT_PAGE: u32 = 20;
/// Maximum versions per page.
const MAX_PAGE: u32 = 100;

pub(super) fn routes() -> RouteTable {
    RouteTable::new()
        .get("/api/v1/admin/settings/history", list)
        .get("/api/v1/admin/settings/history/{version}", show)
        .post("/api/v1/admin/settings/history/{version}/revert", revert)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// Versions per page, 1 to [`MAX_PAGE`].
    limit: Option<u32>,
    /// Lists only versions older than this one, for the next page.
    before: Option<i64>,
}

/// One version in the list.
#[derive(Serialize)]
struct VersionSummary {
    version: i64,
    /// Unix seconds.
    created_at: i64,
    created_by: String,
    /// Dotted keys that differ from the version before, or from the defaults for the first.
    changed: Vec<String>,
}

async fn list(
    _: AdminAccess,
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|rejection| {
        ApiError::InvalidInput(FieldError::new(
            "query",
            format!(
                "invalid history query: {}. Use limit (1 to {MAX_PAGE}) and before (a version)",
                rejection.body_text()
            ),
        ))
    })?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::InvalidInput(FieldError::new(
            "limit",
            format!("invalid limit {limit}: list 1 to {MAX_PAGE} versions per page"),
        )));
    }

    // One version more than the page, to compare the page's oldest version with its
    // predecessor.
    let mut versions = state
        .store
        .list_settings_versions(limit + 1, query.before)
        .await
        .map_err(ApiError::internal)?;
    let more = versions.len() > limit as usize;
    let older = if more { versions.pop() } else { None };

    let defaults = defaults_document();
    let mut summaries = Vec::with_capacity(versions.len());
    for (index, saved) in versions.iter().enumerate() {
        let before = match versions.get(index + 1).or(older.as_ref()) {
            Some(previous) => normalized(&previous.document),
            None => defaults.clone(),
        };
        let changed = diff_documents(&before, &normalized(&saved.document))
            .into_iter()
            .map(|change| change.key)
            .collect();
        summaries.push(VersionSummary {
            version: saved.version,
            created_at: saved.created_at,
            created_by: saved.created_by.clone(),
            changed,
        });
    }
    let next_before = if more {
        summaries.last().map(|summary| summary.version)
    } else {
        None
    };
    Ok(Json(json!({ "versions": summaries, "next_before": next_before })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShowQuery {
    /// Version to compare with: `previous` (the default) or `current`.
    compare: Option<Comparison>,
}

#[derive(Deserialize, Serialize, Clone, Copy, Default, PartialEq)]
#[serde(rename_all = "snake_case")]
enum Comparison {
    /// The version before it, so the changes are what this version changed.
    #[default]
    Previous,
    /// The current settings, so the changes are what a revert to this version would change.
    Current,
}

#[derive(Serialize)]
struct VersionDetail {
    version: i64,
    created_at: i64,
    created_by: String,
    settings: Value,
    compare: Comparison,
    /// Version compared with; 0 stands for the built-in defaults.
    compared_version: i64,
    /// Settings that differ, with the compared version's value as `old`. Comparing with the
    /// current settings, `old` is the current value and `new` the one a revert would restore.
    changes: Vec<Change>,
    /// Whether this release can read the version, so a revert to it can work.
    revertible: bool,
}

async fn show(
    _: AdminAccess,
    State(state): State<AppState>,
    Path(version): Path<String>,
    query: Result<Query<ShowQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let version = version_number(&version)?;
    let Query(query) = query.map_err(|rejection| {
        ApiError::InvalidInput(FieldError::new(
            "compare",
            format!(
                "invalid history query: {}. Use compare=previous or compare=current",
                rejection.body_text()
            ),
        ))
    })?;
    let compare = query.compare.unwrap_or_default();
    let saved = find_version(&state, version).await?;
    let document = normalized(&saved.document);

    let (compared_version, compared_document) = match compare {
        Comparison::Previous => {
            let previous = state
                .store
                .list_settings_versions(1, Some(version))
                .await
                .map_err(ApiError::internal)?
                .pop();
            match previous {
                Some(previous) => (previous.version, normalized(&previous.document)),
                None => (0, defaults_document()),
            }
        }
        Comparison::Current => {
            let current = state
                .store
                .current_settings()
                .await
                .map_err(ApiError::internal)?
                .map_or(0, |current| current.version);
            let settings = state.settings.load();
            let document = serde_json::to_value(&settings.settings).map_err(ApiError::internal)?;
            (current, document)
        }
    };

    let detail = VersionDetail {
        version: saved.version,
        created_at: saved.created_at,
        created_by: saved.created_by,
        changes: diff_documents(&compared_document, &document),
        revertible: readable(&saved.document).is_ok(),
        settings: document,
        compare,
        compared_version,
    };
    Ok(Json(detail).into_response())
}

/// Saves the settings of an old version as the newest version, pushes them to the screens,
/// and records `settings.reverted` in the audit log. When the version's settings equal the
/// current ones, it saves nothing and replies 200 with the current version and `changed: []`.
async fn revert(
    access: AdminAccess,
    State(state): State<AppState>,
    Path(version): Path<String>,
) -> Result<Response, ApiError> {
    let version = version_number(&version)?;
    let saved = find_version(&state, version).await?;
    let settings = readable(&saved.document).map_err(|error| {
        warn!(settings.version = version, %error, "settings version cannot be read for a revert");
        ApiError::Conflict {
            message: format!(
                "version {version} cannot be restored, because this release cannot read it \
                 ({error}). Change the settings in the editor instead"
            ),
        }
    })?;
    // Limits can have tightened since the version was saved.
    settings.validate().map_err(|errors| {
        warn!(settings.version = version, %errors, "settings version fails today's validation");
        ApiError::InvalidFields(errors)
    })?;

    // Reverting to the settings in effect would save an empty version and an audit event
    // that changed nothing, so the reply reports the current version without saving.
    let current = state.settings.load_full();
    if changed_keys(&current.settings, &settings).is_empty() {
        let current_version = state
            .store
            .current_settings()
            .await
            .map_err(ApiError::internal)?
            .map_or(0, |saved| saved.version);
        let unchanged = Saved {
            version: current_version,
            changed: Vec::new(),
            screens_updated: 0,
        };
        return Ok(Json(reverted_view(&unchanged, &current, version)?).into_response());
    }

    let saved = save_and_push(
        &state,
        &access,
        settings,
        "settings.reverted",
        Some(("reverted_to", json!(version))),
    )
    .await?;
    let current = state.settings.load();
    Ok(Json(reverted_view(&saved, &current, version)?).into_response())
}

/// Builds the reply to a revert: the saved view and `reverted_to`, the version asked for.
fn reverted_view(
    saved: &Saved,
    current: &TaggedSettings,
    reverted_to: i64,
) -> Result<Value, ApiError> {
    let mut body = serde_json::to_value(saved.view(current)).map_err(ApiError::internal)?;
    if let Value::Object(map) = &mut body {
        map.insert("reverted_to".to_owned(), json!(reverted_to));
    }
    Ok(body)
}

fn version_number(text: &str) -> Result<i64, ApiError> {
    match text.parse::<i64>() {
        Ok(version) if version > 0 => Ok(version),
        _ => Err(ApiError::InvalidInput(FieldError::new(
            "version",
            format!(
                "invalid version {:?}: expected a version number from the settings history, \
                 such as 3",
                text.chars().take(40).collect::<String>()
            ),
        ))),
    }
}

async fn find_version(state: &AppState, version: i64) -> Result<StoredSettingsVersion, ApiError> {
    state
        .store
        .get_settings_version(version)
        .await
        .map_err(ApiError::internal)?
        .ok_or(ApiError::NotFound {
            what: "settings version",
        })
}

fn readable(document: &Value) -> Result<DisplaySettings, serde_json::Error> {
    serde_json::from_value(document.clone())
}

/// Returns the document as this release writes it, with defaults for settings it lacks, or the
/// document unchanged when this release cannot read it.
fn normalized(document: &Value) -> Value {
    readable(document)
        .ok()
        .and_then(|settings| serde_json::to_value(settings).ok())
        .unwrap_or_else(|| document.clone())
}

fn defaults_document() -> Value {
    serde_json::to_value(DisplaySettings::default()).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized_fills_missing_settings() {
        let document = json!({ "screensaver": { "interval_seconds": 30 } });

        let filled = normalized(&document);

        assert_eq!(filled["screensaver"]["interval_seconds"], 30);
        assert_eq!(filled["wallart"]["density"], 5);
    }

    #[test]
    fn unreadable_document_stays_as_saved() {
        let document = json!({ "screensaver": { "retired_setting": true } });

        assert_eq!(normalized(&document), document);
    }

    #[test]
    fn version_must_be_positive() {
        assert!(version_number("3").is_ok());
        for text in ["0", "-2", "three", ""] {
            assert!(version_number(text).is_err(), "{text}");
        }
    }
}
