//! Settings layering: the partial documents that profiles, groups and devices hold, and the
//! merge that turns the global settings and those layers into the document a screen receives.
//!
//! An override is a JSON object shaped like part of [`DisplaySettings`], such as
//! `{"screensaver": {"interval_seconds": 20}}`. [`validate_override`] checks each key and the
//! type of each value when an admin saves one. Ranges and rules that involve two fields (a
//! transition shorter than the interval) depend on the other layers, so [`merge`] checks those
//! on the merged result. To reject a bad override at save time, the caller merges it with the
//! layers it will sit on and reports the errors.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::DisplaySettings;
use crate::validation::{FieldError, ValidationErrors};

/// Field name under which problems with the override document as a whole are reported.
const DOCUMENT_FIELD: &str = "overrides";

/// A partial settings document: a JSON object whose keys are a subset of [`DisplaySettings`]'s,
/// nested the same way.
///
/// Deserializing accepts any JSON object without checking its keys, so a stored override that
/// an older version wrote still loads. New input goes through [`validate_override`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SettingsOverride(Map<String, Value>);

impl SettingsOverride {
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// Returns whether the override changes nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Checks a partial settings document and returns it as a [`SettingsOverride`].
///
/// Every key must name a setting of [`DisplaySettings`] at its level, and every value must have
/// the setting's type. All problems are reported at once, each under its dotted path, such as
/// `screensaver.intervall_seconds: unknown setting. Known keys are …`. Ranges are not checked
/// here (see the module documentation).
pub fn validate_override(document: &Value) -> Result<SettingsOverride, ValidationErrors> {
    let Value::Object(map) = document else {
        return Err(ValidationErrors::from(FieldError::new(
            DOCUMENT_FIELD,
            format!(
                "invalid settings override: expected a JSON object such as \
                 {{\"screensaver\": {{\"interval_seconds\": 20}}}}, found {}",
                json_kind(document)
            ),
        )));
    };
    let schema = defaults_document()?;

    let mut errors = ValidationErrors::default();
    let mut leaves = Vec::new();
    collect_leaves(&mut errors, &mut leaves, &[], map, &schema);

    // Each value is checked on its own, placed into the defaults, so that every wrong type is
    // reported, not only the first one the deserializer meets.
    for (path, value) in leaves {
        let mut candidate = Value::Object(schema.clone());
        set_path(&mut candidate, &path, value.clone());
        if let Err(error) = serde_path_to_error::deserialize::<_, DisplaySettings>(candidate) {
            errors.push(
                error.path().to_string(),
                format!("invalid value: {}", error.inner()),
            );
        }
    }

    errors.into_result()?;
    Ok(SettingsOverride(map.clone()))
}

/// Merges the global settings with override layers, in order, and validates the result.
///
/// Pass the layers as profile, then group, then device: a later layer wins. Objects merge key
/// by key, and arrays, scalars and `null` replace the value below them, so a device that sets
/// `filter.genres_include` replaces the profile's list instead of extending it. The result must
/// pass [`DisplaySettings::validate`], and errors name the dotted path of the bad setting.
pub fn merge(
    global: &DisplaySettings,
    layers: &[&SettingsOverride],
) -> Result<DisplaySettings, ValidationErrors> {
    let mut document = to_document(global)?;
    for layer in layers {
        merge_object(&mut document, layer.as_map());
    }

    // Layers that passed `validate_override` deserialize, so this fails only for an override
    // stored before a setting was renamed or removed, or one written to the database by hand.
    let settings: DisplaySettings =
        serde_path_to_error::deserialize(document).map_err(|error| {
            ValidationErrors::from(FieldError::new(
                error.path().to_string(),
                format!(
                    "invalid stored override: {}. Edit or clear the override that sets it",
                    error.inner()
                ),
            ))
        })?;
    settings.validate()?;
    Ok(settings)
}

/// Walks the override against the defaults document. Unknown keys and non-objects where a
/// section is expected become errors, and every other value is a leaf to type-check.
fn collect_leaves<'a>(
    errors: &mut ValidationErrors,
    leaves: &mut Vec<(Vec<String>, &'a Value)>,
    parent: &[String],
    map: &'a Map<String, Value>,
    schema: &Map<String, Value>,
) {
    for (key, value) in map {
        let mut path = parent.to_vec();
        path.push(key.clone());
        let field = path.join(".");

        match schema.get(key) {
            None => {
                let known: Vec<&str> = schema.keys().map(String::as_str).collect();
                errors.push(
                    field,
                    format!("unknown setting. Known keys are {}", known.join(", ")),
                );
            }
            // A non-empty object in the defaults is a section of settings, so its keys are
            // checked one level down. An empty one could be a map with free keys, so it is
            // type-checked as a whole instead.
            Some(Value::Object(section)) if !section.is_empty() => match value {
                Value::Object(inner) => collect_leaves(errors, leaves, &path, inner, section),
                other => errors.push(
                    field,
                    format!(
                        "invalid value: expected an object of settings, found {}",
                        json_kind(other)
                    ),
                ),
            },
            Some(_) => leaves.push((path, value)),
        }
    }
}

/// Applies `patch` onto `target`: objects merge key by key, anything else replaces.
fn merge_object(target: &mut Value, patch: &Map<String, Value>) {
    let Value::Object(target_map) = target else {
        *target = Value::Object(patch.clone());
        return;
    };
    for (key, value) in patch {
        match (target_map.get_mut(key), value) {
            (Some(existing @ Value::Object(_)), Value::Object(inner)) => {
                merge_object(existing, inner);
            }
            _ => {
                target_map.insert(key.clone(), value.clone());
            }
        }
    }
}

/// Sets the value at `path` in a document whose objects along the path exist.
fn set_path(document: &mut Value, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut current = document;
    for key in parents {
        match current.get_mut(key) {
            Some(next) => current = next,
            None => return,
        }
    }
    if let Value::Object(map) = current {
        map.insert(last.clone(), value);
    }
}

fn defaults_document() -> Result<Map<String, Value>, ValidationErrors> {
    match to_document(&DisplaySettings::default())? {
        Value::Object(map) => Ok(map),
        _ => Ok(Map::new()),
    }
}

/// Serializes settings to a JSON document. serde_json fails only on maps with non-string keys,
/// which [`DisplaySettings`] does not contain, but the error is still reported, not unwrapped.
fn to_document(settings: &DisplaySettings) -> Result<Value, ValidationErrors> {
    serde_json::to_value(settings).map_err(|error| {
        ValidationErrors::from(FieldError::new(
            DOCUMENT_FIELD,
            format!("cannot serialize the settings: {error}"),
        ))
    })
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests;
