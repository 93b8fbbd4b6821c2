//! The settings document as JSON Schema, for the admin UI's forms and for anyone who edits the
//! settings by hand.
//!
//! Types, defaults and descriptions come from the Rust types through `schemars`. The limits
//! that [`DisplaySettings::validate`] enforces are listed once below and written into the
//! schema, and the tests check every listed limit against the validation, so the two cannot
//! drift apart unnoticed.

use serde_json::{Map, Value, json};

use super::DisplaySettings;
use super::cinema::{
    CINEMA_HEADER_MAX_CHARS, CINEMA_HOUR_RANGE, CINEMA_INTERVAL_SECONDS_RANGE,
    CINEMA_NOW_PLAYING_MAX_NAMES, CINEMA_NOW_PLAYING_NAME_MAX_CHARS,
};
use super::display::MAX_SLEEP_WINDOWS;
use super::filter_rules::MAX_FILTER_RULES;
use super::screensaver::{
    SCREENSAVER_INTERVAL_SECONDS_RANGE, SCREENSAVER_TRANSITION_MS_RANGE, TIME_ZONE_MAX_CHARS,
};
use super::wallart::{
    WALLART_ANIMATION_MS_RANGE, WALLART_DENSITY_RANGE, WALLART_INTERVAL_SECONDS_RANGE,
    WALLART_TILES_PER_CHANGE_RANGE,
};
use crate::filters::{
    ADDED_WITHIN_DAYS_RANGE, MAX_KINDS, MAX_LIST_ENTRIES, MAX_NAME_CHARS, RATING_RANGE, YEAR_RANGE,
};

/// One limit that validation enforces on a setting, by the setting's dotted path.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Limit {
    /// Inclusive bounds of a number.
    Range(f64, f64),
    /// Maximum characters of a text.
    MaxChars(usize),
    /// Maximum entries of a list, and maximum characters of each entry.
    List(usize, usize),
    /// Maximum entries of a list of objects.
    MaxItems(usize),
}

fn range<T: Into<f64> + Copy>(bounds: &std::ops::RangeInclusive<T>) -> Limit {
    Limit::Range((*bounds.start()).into(), (*bounds.end()).into())
}

/// Returns every limit of the settings document. A numeric or text setting missing here fails
/// the test `every_bounded_kind_has_a_limit` unless it is listed in `UNBOUNDED`.
fn limits() -> Vec<(&'static str, Limit)> {
    vec![
        (
            "screensaver.interval_seconds",
            range(&SCREENSAVER_INTERVAL_SECONDS_RANGE),
        ),
        (
            "screensaver.transition_ms",
            range(&SCREENSAVER_TRANSITION_MS_RANGE),
        ),
        (
            "screensaver.clock_time_zone",
            Limit::MaxChars(TIME_ZONE_MAX_CHARS),
        ),
        (
            "wallart.interval_seconds",
            range(&WALLART_INTERVAL_SECONDS_RANGE),
        ),
        ("wallart.density", range(&WALLART_DENSITY_RANGE)),
        (
            "wallart.tiles_per_change",
            range(&WALLART_TILES_PER_CHANGE_RANGE),
        ),
        ("wallart.animation_ms", range(&WALLART_ANIMATION_MS_RANGE)),
        (
            "cinema.interval_seconds",
            range(&CINEMA_INTERVAL_SECONDS_RANGE),
        ),
        ("cinema.late_night_from_hour", range(&CINEMA_HOUR_RANGE)),
        ("cinema.late_night_until_hour", range(&CINEMA_HOUR_RANGE)),
        (
            "cinema.header_text",
            Limit::MaxChars(CINEMA_HEADER_MAX_CHARS),
        ),
        (
            "cinema.coming_soon_text",
            Limit::MaxChars(CINEMA_HEADER_MAX_CHARS),
        ),
        (
            "cinema.late_night_text",
            Limit::MaxChars(CINEMA_HEADER_MAX_CHARS),
        ),
        (
            "cinema.now_playing_text",
            Limit::MaxChars(CINEMA_HEADER_MAX_CHARS),
        ),
        (
            "cinema.now_playing_players",
            Limit::List(
                CINEMA_NOW_PLAYING_MAX_NAMES,
                CINEMA_NOW_PLAYING_NAME_MAX_CHARS,
            ),
        ),
        (
            "cinema.now_playing_users",
            Limit::List(
                CINEMA_NOW_PLAYING_MAX_NAMES,
                CINEMA_NOW_PLAYING_NAME_MAX_CHARS,
            ),
        ),
        (
            "filter.libraries",
            Limit::List(MAX_LIST_ENTRIES, MAX_NAME_CHARS),
        ),
        (
            "filter.genres_include",
            Limit::List(MAX_LIST_ENTRIES, MAX_NAME_CHARS),
        ),
        (
            "filter.genres_exclude",
            Limit::List(MAX_LIST_ENTRIES, MAX_NAME_CHARS),
        ),
        (
            "filter.collections",
            Limit::List(MAX_LIST_ENTRIES, MAX_NAME_CHARS),
        ),
        ("display.sleep", Limit::MaxItems(MAX_SLEEP_WINDOWS)),
        ("filter.min_rating", range(&RATING_RANGE)),
        ("filter.year_from", range(&YEAR_RANGE)),
        ("filter.year_to", range(&YEAR_RANGE)),
        ("filter.added_within_days", range(&ADDED_WITHIN_DAYS_RANGE)),
        ("filter.kinds", Limit::MaxItems(MAX_KINDS)),
        ("filter_rules", Limit::MaxItems(MAX_FILTER_RULES)),
    ]
}

/// Returns the JSON Schema (draft 2020-12) of the settings document, with the defaults, the
/// descriptions and every limit that validation enforces.
pub fn settings_schema() -> Value {
    let mut schema = schemars::schema_for!(DisplaySettings).to_value();
    if let Value::Object(root) = &mut schema {
        root.insert("title".to_owned(), json!("Onesheet display settings"));
        for (path, limit) in limits() {
            if let Some(property) = property_mut(root, path) {
                apply(property, limit);
            }
        }
    }
    schema
}

/// Finds the schema of the setting at the dotted `path`, following `$ref`s into `$defs`. A
/// path without a dot names a top-level setting that is not a section, such as `filter_rules`.
fn property_mut<'a>(root: &'a mut Map<String, Value>, path: &str) -> Option<&'a mut Value> {
    let Some((section, field)) = path.split_once('.') else {
        return root.get_mut("properties")?.get_mut(path);
    };
    let section_ref = root
        .get("properties")?
        .get(section)?
        .get("$ref")?
        .as_str()?
        .strip_prefix("#/$defs/")?
        .to_owned();
    root.get_mut("$defs")?
        .get_mut(&section_ref)?
        .get_mut("properties")?
        .get_mut(field)
}

fn apply(property: &mut Value, limit: Limit) {
    let Value::Object(property) = property else {
        return;
    };
    match limit {
        Limit::Range(minimum, maximum) => {
            property.insert("minimum".to_owned(), number(minimum));
            property.insert("maximum".to_owned(), number(maximum));
        }
        Limit::MaxChars(chars) => {
            property.insert("maxLength".to_owned(), json!(chars));
        }
        Limit::List(entries, chars) => {
            property.insert("maxItems".to_owned(), json!(entries));
            property.insert(
                "items".to_owned(),
                json!({ "type": "string", "minLength": 1, "maxLength": chars }),
            );
        }
        Limit::MaxItems(entries) => {
            property.insert("maxItems".to_owned(), json!(entries));
        }
    }
}

/// Writes whole numbers without a fraction, so `5` reads as `5` and not `5.0`.
fn number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        json!(value as i64)
    } else {
        json!(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::overrides::merge;
    use crate::settings::overrides::validate_override;

    /// Settings that are numbers or texts whose rule is not a limit the schema can state. A
    /// content rating ceiling must be a rating that validation recognises.
    const UNBOUNDED: &[&str] = &["filter.content_rating_max"];

    fn section_properties(schema: &Value) -> Vec<(String, Value)> {
        let mut found = Vec::new();
        for (section, reference) in schema["properties"].as_object().unwrap() {
            let Some(name) = reference["$ref"].as_str() else {
                // A top-level setting that is not a section, such as `filter_rules`.
                found.push((section.clone(), reference.clone()));
                continue;
            };
            let name = name.trim_start_matches("#/$defs/");
            let properties = schema["$defs"][name]["properties"].as_object().unwrap();
            for (field, property) in properties {
                found.push((format!("{section}.{field}"), property.clone()));
            }
        }
        found
    }

    fn kinds(property: &Value) -> Vec<&str> {
        match &property["type"] {
            Value::String(kind) => vec![kind.as_str()],
            Value::Array(kinds) => kinds.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn every_bounded_kind_has_a_limit() {
        let schema = settings_schema();
        let limited: Vec<&str> = limits().iter().map(|(path, _)| *path).collect();
        for (path, property) in section_properties(&schema) {
            let kinds = kinds(&property);
            let needs_limit = kinds
                .iter()
                .any(|kind| matches!(*kind, "integer" | "number" | "string" | "array"));
            if needs_limit && !UNBOUNDED.contains(&path.as_str()) {
                assert!(limited.contains(&path.as_str()), "{path} has no limit");
            }
        }
    }

    #[test]
    fn every_limit_is_in_the_schema() {
        let schema = settings_schema();
        let properties = section_properties(&schema);
        for (path, limit) in limits() {
            let (_, property) = properties
                .iter()
                .find(|(found, _)| found == path)
                .unwrap_or_else(|| panic!("{path} is not a setting"));
            match limit {
                Limit::Range(minimum, maximum) => {
                    assert_eq!(property["minimum"].as_f64(), Some(minimum), "{path}");
                    assert_eq!(property["maximum"].as_f64(), Some(maximum), "{path}");
                }
                Limit::MaxChars(chars) => {
                    assert_eq!(property["maxLength"], json!(chars), "{path}");
                }
                Limit::List(entries, _) | Limit::MaxItems(entries) => {
                    assert_eq!(property["maxItems"], json!(entries), "{path}");
                }
            }
        }
    }

    /// Returns whether the defaults with `path` set to `value` pass validation.
    fn accepts(path: &str, value: Value) -> bool {
        let document = match path.split_once('.') {
            Some((section, field)) => json!({ section: { field: value } }),
            None => json!({ path: value }),
        };
        let Ok(layer) = validate_override(&document) else {
            return false;
        };
        merge(&DisplaySettings::default(), &[&layer]).is_ok()
    }

    #[test]
    fn validation_enforces_every_limit() {
        for (path, limit) in limits() {
            match limit {
                Limit::Range(minimum, maximum) => {
                    // Cross-field rules (a transition shorter than the interval) may reject a
                    // bound itself, so only the values beyond the bounds are checked.
                    let step = if path.ends_with("rating") { 0.5 } else { 1.0 };
                    if minimum - step >= 0.0 {
                        assert!(!accepts(path, number(minimum - step)), "{path} below");
                    }
                    assert!(!accepts(path, number(maximum + step)), "{path} above");
                }
                Limit::MaxChars(chars) => {
                    assert!(!accepts(path, json!("a".repeat(chars + 1))), "{path}");
                }
                Limit::List(entries, chars) => {
                    let long = vec!["a".repeat(chars + 1)];
                    assert!(!accepts(path, json!(long)), "{path} entry");
                    let many: Vec<String> = (0..=entries).map(|i| format!("n{i}")).collect();
                    assert!(!accepts(path, json!(many)), "{path} entries");
                }
                Limit::MaxItems(entries) => {
                    let entry = match path {
                        "filter_rules" => json!({"from": "06:00", "until": "21:00", "filter": {}}),
                        "display.sleep" => json!({"from": "23:00", "until": "07:00"}),
                        "filter.kinds" => json!("album"),
                        other => panic!("{other} has no sample entry for its list limit"),
                    };
                    assert!(accepts(path, json!(vec![entry.clone(); entries])), "{path}");
                    assert!(!accepts(path, json!(vec![entry; entries + 1])), "{path}");
                }
            }
        }
    }

    #[test]
    fn schema_carries_defaults_and_descriptions() {
        let schema = settings_schema();
        assert_eq!(schema["title"], "Onesheet display settings");
        let properties = section_properties(&schema);
        let interval = &properties
            .iter()
            .find(|(path, _)| path == "screensaver.interval_seconds")
            .unwrap()
            .1;
        assert_eq!(interval["default"], 10, "{interval}");
        assert!(
            interval["description"]
                .as_str()
                .is_some_and(|text| text.contains("Seconds")),
            "{interval}"
        );
        for (path, property) in &properties {
            assert!(
                property.get("description").is_some() || property.get("$ref").is_some(),
                "{path} has no description"
            );
        }
    }
}
