use serde_json::json;

use super::*;

fn layer(document: Value) -> SettingsOverride {
    validate_override(&document).unwrap()
}

/// Global settings with a 30 s interval and two included genres, so that layers have
/// something to replace.
fn global() -> DisplaySettings {
    let mut settings = DisplaySettings::default();
    settings.screensaver.interval_seconds = 30;
    settings.filter.genres_include = vec!["Drama".to_owned(), "Comedy".to_owned()];
    settings.filter.min_rating = Some(7.0);
    settings
}

#[test]
fn merge_table() {
    struct Case {
        name: &'static str,
        layers: Vec<Value>,
        check: fn(&DisplaySettings),
    }
    let cases = [
        Case {
            name: "no layers keep the global settings",
            layers: vec![],
            check: |merged| assert_eq!(merged, &global()),
        },
        Case {
            name: "empty layers change nothing",
            layers: vec![json!({}), json!({}), json!({})],
            check: |merged| assert_eq!(merged, &global()),
        },
        Case {
            name: "profile replaces a global value",
            layers: vec![json!({"screensaver": {"interval_seconds": 20}})],
            check: |merged| assert_eq!(merged.screensaver.interval_seconds, 20),
        },
        Case {
            name: "device wins over group, group over profile",
            layers: vec![
                json!({"screensaver": {"interval_seconds": 20}}),
                json!({"screensaver": {"interval_seconds": 40}}),
                json!({"screensaver": {"interval_seconds": 60}}),
            ],
            check: |merged| assert_eq!(merged.screensaver.interval_seconds, 60),
        },
        Case {
            name: "group value stays when the device sets another key",
            layers: vec![
                json!({}),
                json!({"screensaver": {"interval_seconds": 40}}),
                json!({"screensaver": {"show_logo": false}}),
            ],
            check: |merged| {
                assert_eq!(merged.screensaver.interval_seconds, 40);
                assert!(!merged.screensaver.show_logo);
                assert!(merged.screensaver.show_title, "untouched sibling");
            },
        },
        Case {
            name: "arrays replace instead of extending",
            layers: vec![json!({"filter": {"genres_include": ["Horror"]}})],
            check: |merged| assert_eq!(merged.filter.genres_include, ["Horror"]),
        },
        Case {
            name: "an empty array clears the list",
            layers: vec![json!({"filter": {"genres_include": []}})],
            check: |merged| assert!(merged.filter.genres_include.is_empty()),
        },
        Case {
            name: "null clears an optional setting",
            layers: vec![json!({"filter": {"min_rating": null}})],
            check: |merged| assert_eq!(merged.filter.min_rating, None),
        },
        Case {
            name: "a later layer sets again what an earlier one cleared",
            layers: vec![
                json!({"filter": {"min_rating": null}}),
                json!({"filter": {"min_rating": 5.5}}),
            ],
            check: |merged| assert_eq!(merged.filter.min_rating, Some(5.5)),
        },
        Case {
            name: "enum values replace",
            layers: vec![json!({"screensaver": {"layout": "poster"}})],
            check: |merged| assert_eq!(merged.screensaver.layout, crate::Layout::Poster),
        },
        Case {
            name: "content filters layer like the rest",
            layers: vec![
                json!({"filter": {"content_rating_max": "PG-13"}}),
                json!({"filter": {"allow_unrated": true}}),
            ],
            check: |merged| {
                assert_eq!(merged.filter.content_rating_max.as_deref(), Some("PG-13"));
                assert!(merged.filter.allow_unrated);
                assert_eq!(merged.filter.genres_include, ["Drama", "Comedy"]);
            },
        },
    ];

    for case in cases {
        let layers: Vec<SettingsOverride> = case.layers.into_iter().map(layer).collect();
        let refs: Vec<&SettingsOverride> = layers.iter().collect();
        let merged =
            merge(&global(), &refs).unwrap_or_else(|error| panic!("{}: {error}", case.name));
        (case.check)(&merged);
    }
}

#[test]
fn merge_error_table() {
    let cases = [
        (
            "merged interval out of range",
            vec![json!({"screensaver": {"interval_seconds": 4000}})],
            "screensaver.interval_seconds",
            "2 to 3600",
        ),
        (
            "transition valid alone but too long for the device's interval",
            vec![
                json!({"screensaver": {"transition_ms": 9000}}),
                json!({}),
                json!({"screensaver": {"interval_seconds": 5}}),
            ],
            "screensaver.transition_ms",
            "less than the interval",
        ),
        (
            "genre both included and excluded across layers",
            vec![json!({"filter": {"genres_exclude": ["drama"]}})],
            "filter.genres_exclude",
            "also in genres_include",
        ),
    ];

    for (name, documents, field, message) in cases {
        let layers: Vec<SettingsOverride> = documents.into_iter().map(layer).collect();
        let refs: Vec<&SettingsOverride> = layers.iter().collect();
        let errors = merge(&global(), &refs).unwrap_err();
        assert_eq!(errors.errors.len(), 1, "{name}: {errors}");
        assert_eq!(errors.errors[0].field, field, "{name}");
        assert!(
            errors.errors[0].message.contains(message),
            "{name}: {}",
            errors.errors[0].message
        );
    }
}

#[test]
fn merge_reports_stale_stored_override() {
    // Deserializing skips the key check, as when loading an override written by an older
    // version that knew a setting this one does not.
    let stale: SettingsOverride =
        serde_json::from_value(json!({"screensaver": {"old_setting": true}})).unwrap();
    let errors = merge(&global(), &[&stale]).unwrap_err();
    assert_eq!(errors.errors[0].field, "screensaver.old_setting");
    assert!(
        errors.errors[0].message.contains("Edit or clear"),
        "{errors}"
    );

    let wrong_type: SettingsOverride =
        serde_json::from_value(json!({"screensaver": {"interval_seconds": "ten"}})).unwrap();
    let errors = merge(&global(), &[&wrong_type]).unwrap_err();
    assert_eq!(errors.errors[0].field, "screensaver.interval_seconds");
}

#[test]
fn merge_does_not_change_the_layers() {
    let profile = layer(json!({"screensaver": {"interval_seconds": 20}}));
    let before = profile.clone();
    merge(&global(), &[&profile]).unwrap();
    assert_eq!(profile, before);
}

#[test]
fn validate_accepts_valid_overrides() {
    let documents = [
        json!({}),
        json!({"screensaver": {}}),
        json!({"screensaver": {"interval_seconds": 20, "transition": "fade"}}),
        json!({"filter": {"min_rating": null, "libraries": ["Movies", "4K"]}}),
        json!({"filter": {"year_from": 1980, "year_to": 1999}}),
        // Ranges are checked by `merge`, on the merged result.
        json!({"screensaver": {"interval_seconds": 1}}),
    ];
    for document in documents {
        let validated = validate_override(&document).unwrap_or_else(|e| panic!("{document}: {e}"));
        assert_eq!(serde_json::to_value(&validated).unwrap(), document);
    }
}

#[test]
fn validate_error_table() {
    let cases = [
        (
            json!({"screensaver": {"intervall_seconds": 5}}),
            "screensaver.intervall_seconds",
            "unknown setting. Known keys are ",
        ),
        (
            json!({"colour": "red"}),
            "colour",
            "Known keys are cinema, display, filter, filter_rules, screensaver, wallart",
        ),
        (
            json!({"screensaver": 5}),
            "screensaver",
            "expected an object of settings, found a number",
        ),
        (
            json!({"screensaver": {"interval_seconds": "ten"}}),
            "screensaver.interval_seconds",
            "invalid type: string \"ten\", expected u32",
        ),
        (
            json!({"screensaver": {"interval_seconds": -5}}),
            "screensaver.interval_seconds",
            "invalid value",
        ),
        (
            json!({"screensaver": {"interval_seconds": null}}),
            "screensaver.interval_seconds",
            "invalid type: null",
        ),
        (
            json!({"screensaver": {"transition": "wipe"}}),
            "screensaver.transition",
            "unknown variant `wipe`",
        ),
        (
            json!({"filter": {"genres_include": "Drama"}}),
            "filter.genres_include",
            "expected a sequence",
        ),
        (
            json!({"filter": {"genres_include": ["Drama", 5]}}),
            "filter.genres_include[1]",
            "expected a string",
        ),
        (
            json!(["screensaver"]),
            "overrides",
            "expected a JSON object",
        ),
        (json!(null), "overrides", "found null"),
    ];

    for (document, field, message) in cases {
        let errors = validate_override(&document).unwrap_err();
        assert_eq!(errors.errors.len(), 1, "{document}: {errors}");
        assert_eq!(errors.errors[0].field, field, "{document}");
        assert!(
            errors.errors[0].message.contains(message),
            "{document}: {}",
            errors.errors[0].message
        );
    }
}

#[test]
fn unknown_key_lists_known_keys() {
    let errors = validate_override(&json!({"screensaver": {"intervall_seconds": 5}})).unwrap_err();
    let message = &errors.errors[0].message;
    for key in ["interval_seconds", "transition_ms", "layout", "show_logo"] {
        assert!(message.contains(key), "{message}");
    }
    assert!(!message.contains("genres_include"), "{message}");
}

#[test]
fn validate_reports_every_problem() {
    let document = json!({
        "screensaver": {"intervall_seconds": 5, "show_logo": "yes"},
        "filter": {"year_from": "1980"},
        "theme": "dark",
    });
    let errors = validate_override(&document).unwrap_err();
    let mut fields: Vec<&str> = errors.errors.iter().map(|e| e.field.as_str()).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "filter.year_from",
            "screensaver.intervall_seconds",
            "screensaver.show_logo",
            "theme"
        ]
    );
}

#[test]
fn deserializing_requires_an_object() {
    assert!(serde_json::from_value::<SettingsOverride>(json!([1])).is_err());
    assert!(serde_json::from_value::<SettingsOverride>(json!("x")).is_err());
    let empty: SettingsOverride = serde_json::from_value(json!({})).unwrap();
    assert!(empty.is_empty());
}
