//! Filter rules by time of day: partial catalog filters laid over the layered filter while
//! their window is open, such as a family-safe ceiling from 06:00 until 21:00.
//!
//! The rules are pure: the caller passes the local time of day, so the server decides the time
//! zone and tests choose the time. A window is `from` inclusive to `until` exclusive, and a
//! window whose `until` is earlier than its `from` crosses midnight. Active rules apply in list
//! order, so a later rule wins where two set the same field.

use std::borrow::Cow;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

use crate::filters::CatalogFilter;
use crate::media::MediaKind;
use crate::validation::ValidationErrors;

/// Maximum number of rules in `filter_rules`.
pub const MAX_FILTER_RULES: usize = 24;

/// A local time of day, to the minute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    pub const MIDNIGHT: Self = Self(0);

    /// Returns the time `hour:minute`, or None unless `hour` is 0 to 23 and `minute` 0 to 59.
    pub fn new(hour: u8, minute: u8) -> Option<Self> {
        (hour < 24 && minute < 60).then(|| Self(u16::from(hour) * 60 + u16::from(minute)))
    }

    /// Parses `HH:MM` with two digits each, from `00:00` to `23:59`.
    pub fn parse(text: &str) -> Option<Self> {
        let (hour, minute) = text.split_once(':')?;
        if hour.len() != 2 || minute.len() != 2 {
            return None;
        }
        let digits = |part: &str| -> Option<u8> {
            part.bytes()
                .all(|byte| byte.is_ascii_digit())
                .then(|| part.parse().ok())
                .flatten()
        };
        Self::new(digits(hour)?, digits(minute)?)
    }

    /// Returns the minutes since midnight, 0 to 1439.
    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// A partial [`CatalogFilter`] applied while the rule's window is open. Each field present
/// replaces the layered filter's value, and an absent field keeps it. For the fields that are
/// optional in the filter, `null` removes the layered value, so `{"content_rating_max": null}`
/// lifts a ceiling.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct FilterPatch {
    /// Replaces `filter.libraries`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub libraries: Option<Vec<String>>,
    /// Replaces `filter.genres_include`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub genres_include: Option<Vec<String>>,
    /// Replaces `filter.genres_exclude`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub genres_exclude: Option<Vec<String>>,
    /// Replaces `filter.min_rating`, and `null` removes the minimum.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    #[schemars(with = "Option<f32>")]
    pub min_rating: Option<Option<f32>>,
    /// Replaces `filter.year_from`, and `null` removes the bound.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    #[schemars(with = "Option<u16>")]
    pub year_from: Option<Option<u16>>,
    /// Replaces `filter.year_to`, and `null` removes the bound.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    #[schemars(with = "Option<u16>")]
    pub year_to: Option<Option<u16>>,
    /// Replaces `filter.content_rating_max`, and `null` removes the ceiling.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    #[schemars(with = "Option<String>")]
    pub content_rating_max: Option<Option<String>>,
    /// Replaces `filter.allow_unrated`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_unrated: Option<bool>,
    /// Replaces `filter.require_4k`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub require_4k: Option<bool>,
    /// Replaces `filter.require_hdr`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub require_hdr: Option<bool>,
    /// Replaces `filter.added_within_days`, and `null` removes the limit.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    #[schemars(with = "Option<u32>")]
    pub added_within_days: Option<Option<u32>>,
    /// Replaces `filter.collections`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collections: Option<Vec<String>>,
    /// Replaces `filter.kinds`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kinds: Option<Vec<MediaKind>>,
}

/// Deserializes a field that is present, `null` included, as `Some`. With `#[serde(default)]`
/// an absent field stays `None`, so the two cases differ.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

impl FilterPatch {
    /// Writes every field present in the patch over `filter`.
    pub fn apply_to(&self, filter: &mut CatalogFilter) {
        fn set<T: Clone>(target: &mut T, value: &Option<T>) {
            if let Some(value) = value {
                target.clone_from(value);
            }
        }
        set(&mut filter.libraries, &self.libraries);
        set(&mut filter.genres_include, &self.genres_include);
        set(&mut filter.genres_exclude, &self.genres_exclude);
        set(&mut filter.min_rating, &self.min_rating);
        set(&mut filter.year_from, &self.year_from);
        set(&mut filter.year_to, &self.year_to);
        set(&mut filter.content_rating_max, &self.content_rating_max);
        set(&mut filter.allow_unrated, &self.allow_unrated);
        set(&mut filter.require_4k, &self.require_4k);
        set(&mut filter.require_hdr, &self.require_hdr);
        set(&mut filter.added_within_days, &self.added_within_days);
        set(&mut filter.collections, &self.collections);
        set(&mut filter.kinds, &self.kinds);
    }
}

/// One rule of `filter_rules`: a partial filter and the daily window in which it applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterRule {
    /// Start of the window as `HH:MM` in the server's time zone, inclusive.
    #[schemars(regex(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"))]
    pub from: String,
    /// End of the window as `HH:MM`, exclusive. An end earlier than `from` crosses midnight,
    /// so `22:00` to `06:00` covers the night. It must differ from `from`.
    #[schemars(regex(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"))]
    pub until: String,
    /// The filter fields set while the window is open.
    pub filter: FilterPatch,
}

impl FilterRule {
    /// Returns whether the window contains `time`. A rule with an invalid time or an empty
    /// window is never active, and validation rejects both.
    pub fn is_active_at(&self, time: TimeOfDay) -> bool {
        let (Some(from), Some(until)) =
            (TimeOfDay::parse(&self.from), TimeOfDay::parse(&self.until))
        else {
            return false;
        };
        if from < until {
            from <= time && time < until
        } else if from > until {
            time >= from || time < until
        } else {
            false
        }
    }
}

/// Returns the filter in force at `time`: `base` with the patch of every active rule laid over
/// it in list order. Borrows `base` when no rule is active, so the usual case copies nothing.
pub fn filter_at<'a>(
    base: &'a CatalogFilter,
    rules: &[FilterRule],
    time: TimeOfDay,
) -> Cow<'a, CatalogFilter> {
    let mut filter = Cow::Borrowed(base);
    for rule in rules.iter().filter(|rule| rule.is_active_at(time)) {
        rule.filter.apply_to(filter.to_mut());
    }
    filter
}

/// Checks the rules: their number, each time, each window, and each rule's filter laid over
/// `base`. Errors name the path, such as `filter_rules[2].from`.
///
/// NOTE: each rule's filter is checked over `base` alone. Two rules whose windows overlap can
/// still combine into a filter that fails validation (one includes a genre that the other
/// excludes). Such a filter still compiles and lets through only the items that pass both.
pub(super) fn validate_rules_into(
    errors: &mut ValidationErrors,
    base: &CatalogFilter,
    rules: &[FilterRule],
) {
    if rules.len() > MAX_FILTER_RULES {
        errors.push(
            "filter_rules",
            format!(
                "invalid list of {} rules: use at most {MAX_FILTER_RULES}",
                rules.len()
            ),
        );
    }
    for (index, rule) in rules.iter().enumerate() {
        let path = format!("filter_rules[{index}]");
        let from = parse_time(errors, &format!("{path}.from"), &rule.from);
        let until = parse_time(errors, &format!("{path}.until"), &rule.until);
        if from.is_some() && from == until {
            errors.push(
                format!("{path}.until"),
                format!(
                    "invalid window {} to {}: from and until must differ, so the window is not empty",
                    rule.from, rule.until
                ),
            );
        }

        let mut filter = base.clone();
        rule.filter.apply_to(&mut filter);
        if let Err(filter_errors) = filter.validate() {
            for error in filter_errors.errors {
                errors.push(format!("{path}.filter.{}", error.field), error.message);
            }
        }
    }
}

fn parse_time(errors: &mut ValidationErrors, field: &str, text: &str) -> Option<TimeOfDay> {
    let time = TimeOfDay::parse(text);
    if time.is_none() {
        let shown: String = text.chars().take(20).collect();
        errors.push(
            field,
            format!("invalid time {shown:?}: use HH:MM from 00:00 to 23:59"),
        );
    }
    time
}

#[cfg(test)]
mod tests;
