use serde_json::json;

use super::*;
use crate::settings::DisplaySettings;
use crate::settings::overrides::{merge, validate_override};

fn at(text: &str) -> TimeOfDay {
    TimeOfDay::parse(text).unwrap()
}

fn rule(from: &str, until: &str, filter: serde_json::Value) -> FilterRule {
    FilterRule {
        from: from.to_owned(),
        until: until.to_owned(),
        filter: serde_json::from_value(filter).unwrap(),
    }
}

fn family_safe() -> FilterRule {
    rule(
        "06:00",
        "21:00",
        json!({"content_rating_max": "PG", "allow_unrated": false}),
    )
}

#[test]
fn time_parses_two_digit_hours_and_minutes() {
    assert_eq!(at("00:00").minutes(), 0);
    assert_eq!(at("23:59").minutes(), 1439);
    assert_eq!(at("07:05").to_string(), "07:05");
    for bad in [
        "24:00", "25:00", "12:60", "7:05", "07:5", "0700", "", "+1:00", "07:05 ",
    ] {
        assert_eq!(TimeOfDay::parse(bad), None, "{bad:?}");
    }
}

#[test]
fn window_within_one_day() {
    let rule = family_safe();

    assert!(!rule.is_active_at(at("05:59")));
    assert!(rule.is_active_at(at("06:00")));
    assert!(rule.is_active_at(at("20:59")));
    assert!(!rule.is_active_at(at("21:00")));
}

#[test]
fn window_across_midnight() {
    let night = rule("22:00", "06:00", json!({}));

    assert!(night.is_active_at(at("22:00")));
    assert!(night.is_active_at(at("23:59")));
    assert!(night.is_active_at(at("00:00")));
    assert!(night.is_active_at(at("05:59")));
    assert!(!night.is_active_at(at("06:00")));
    assert!(!night.is_active_at(at("21:59")));
}

#[test]
fn empty_or_invalid_window_is_never_active() {
    let empty = rule("06:00", "06:00", json!({}));
    let invalid = rule("25:00", "06:00", json!({}));

    for time in ["00:00", "06:00", "12:00"] {
        assert!(!empty.is_active_at(at(time)), "{time}");
        assert!(!invalid.is_active_at(at(time)), "{time}");
    }
}

#[test]
fn filter_is_borrowed_while_no_rule_is_active() {
    let base = CatalogFilter::default();
    let rules = [family_safe()];

    assert!(matches!(
        filter_at(&base, &rules, at("22:00")),
        Cow::Borrowed(_)
    ));
    assert!(matches!(
        filter_at(&base, &[], at("12:00")),
        Cow::Borrowed(_)
    ));
}

#[test]
fn active_rule_lays_its_fields_over_the_base() {
    let base = CatalogFilter {
        genres_include: vec!["Drama".to_owned()],
        allow_unrated: true,
        ..CatalogFilter::default()
    };
    let rules = [family_safe()];

    let filter = filter_at(&base, &rules, at("12:00"));

    assert_eq!(filter.content_rating_max.as_deref(), Some("PG"));
    assert!(!filter.allow_unrated);
    assert_eq!(filter.genres_include, ["Drama"]);
}

#[test]
fn later_rule_wins() {
    let base = CatalogFilter::default();
    let rules = [
        rule(
            "00:00",
            "23:59",
            json!({"content_rating_max": "R", "require_4k": true}),
        ),
        rule("18:00", "21:00", json!({"content_rating_max": "PG"})),
    ];

    let evening = filter_at(&base, &rules, at("19:00"));
    let noon = filter_at(&base, &rules, at("12:00"));

    assert_eq!(evening.content_rating_max.as_deref(), Some("PG"));
    assert!(evening.require_4k, "the earlier rule's other fields stay");
    assert_eq!(noon.content_rating_max.as_deref(), Some("R"));
}

#[test]
fn null_removes_a_layered_value() {
    let base = CatalogFilter {
        content_rating_max: Some("PG".to_owned()),
        min_rating: Some(7.0),
        ..CatalogFilter::default()
    };
    let rules = [rule("22:00", "06:00", json!({"content_rating_max": null}))];

    let night = filter_at(&base, &rules, at("23:00"));

    assert_eq!(night.content_rating_max, None);
    assert_eq!(
        night.min_rating,
        Some(7.0),
        "an absent field keeps its value"
    );
}

#[test]
fn patch_serializes_only_present_fields() {
    let patch: FilterPatch =
        serde_json::from_value(json!({"content_rating_max": null, "require_hdr": true})).unwrap();

    assert_eq!(
        serde_json::to_value(&patch).unwrap(),
        json!({"content_rating_max": null, "require_hdr": true})
    );
}

fn errors_of(rules: Vec<FilterRule>) -> Vec<String> {
    let settings = DisplaySettings {
        filter_rules: rules,
        ..DisplaySettings::default()
    };
    match settings.validate() {
        Ok(()) => Vec::new(),
        Err(errors) => errors.errors.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn valid_rules_pass() {
    let rules = vec![
        family_safe(),
        rule("22:00", "06:00", json!({"require_hdr": true})),
    ];

    assert_eq!(errors_of(rules), Vec::<String>::new());
}

#[test]
fn invalid_time_names_its_rule() {
    let rules = vec![
        family_safe(),
        family_safe(),
        rule("25:00", "06:00", json!({})),
    ];

    assert_eq!(
        errors_of(rules),
        [r#"filter_rules[2].from: invalid time "25:00": use HH:MM from 00:00 to 23:59"#]
    );
}

#[test]
fn equal_from_and_until_is_rejected() {
    let errors = errors_of(vec![rule("06:00", "06:00", json!({}))]);

    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("filter_rules[0].until: invalid window 06:00 to 06:00"),
        "{errors:?}"
    );
}

#[test]
fn invalid_rule_filter_names_its_field() {
    let errors = errors_of(vec![rule("06:00", "21:00", json!({"min_rating": 11.0}))]);

    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("filter_rules[0].filter.min_rating: invalid minimum rating 11"),
        "{errors:?}"
    );
}

#[test]
fn more_than_the_maximum_rules_is_rejected() {
    let errors = errors_of(vec![family_safe(); MAX_FILTER_RULES + 1]);

    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("filter_rules: invalid list of 25 rules"),
        "{errors:?}"
    );
    assert!(errors_of(vec![family_safe(); MAX_FILTER_RULES]).is_empty());
}

#[test]
fn override_layers_rules_over_the_layered_filter() {
    let global = DisplaySettings {
        filter_rules: vec![family_safe()],
        ..DisplaySettings::default()
    };
    let profile = validate_override(&json!({"filter": {"genres_include": ["Animation"]}})).unwrap();

    let merged = merge(&global, &[&profile]).unwrap();
    let noon = merged.filter_at(at("12:00"));

    assert_eq!(noon.genres_include, ["Animation"]);
    assert_eq!(noon.content_rating_max.as_deref(), Some("PG"));
}

#[test]
fn override_replaces_the_whole_rule_list() {
    let global = DisplaySettings {
        filter_rules: vec![
            family_safe(),
            rule("22:00", "06:00", json!({"require_hdr": true})),
        ],
        ..DisplaySettings::default()
    };
    let profile = validate_override(&json!({"filter_rules": [
        {"from": "08:00", "until": "09:00", "filter": {"require_4k": true}}
    ]}))
    .unwrap();
    let cleared = validate_override(&json!({"filter_rules": []})).unwrap();

    let merged = merge(&global, &[&profile]).unwrap();
    let without_rules = merge(&global, &[&profile, &cleared]).unwrap();

    assert_eq!(merged.filter_rules.len(), 1);
    assert!(merged.filter_at(at("08:30")).require_4k);
    assert_eq!(merged.filter_at(at("12:00")).content_rating_max, None);
    assert!(without_rules.filter_rules.is_empty());
}

#[test]
fn override_with_unknown_rule_field_is_rejected() {
    let document = json!({"filter_rules": [
        {"from": "08:00", "until": "09:00", "filter": {"genre": ["Drama"]}}
    ]});

    let errors = validate_override(&document).unwrap_err();

    assert_eq!(errors.errors.len(), 1, "{errors}");
    assert!(
        errors.errors[0].field.starts_with("filter_rules[0].filter"),
        "{errors}"
    );
}

#[test]
fn merge_reports_an_invalid_rule_time_by_path() {
    let layer = validate_override(&json!({"filter_rules": [
        {"from": "06:00", "until": "21:00", "filter": {}},
        {"from": "21:00", "until": "24:00", "filter": {}}
    ]}))
    .unwrap();

    let errors = merge(&DisplaySettings::default(), &[&layer]).unwrap_err();

    assert_eq!(
        errors.to_string(),
        r#"filter_rules[1].until: invalid time "24:00": use HH:MM from 00:00 to 23:59"#
    );
}
