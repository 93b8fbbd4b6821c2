//! Display settings: one typed document with a default for every field.
//!
//! Screens receive the document through `/api/v1/display-settings`. Profiles, groups and devices
//! hold partial overrides of it, which [`overrides::merge`] layers over the global document. The
//! merge belongs here because it is a pure rule.

mod bounds;
pub mod cinema;
pub mod display;
pub mod filter_rules;
pub mod overrides;
pub mod schema;
pub mod screensaver;
pub mod wallart;

use std::borrow::Cow;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use cinema::{CinemaOrientation, CinemaSettings};
pub use display::{ScreenSettings, SleepWindow};
pub use filter_rules::{FilterPatch, FilterRule, TimeOfDay};
pub use screensaver::{ClockFormat, Layout, ScreensaverSettings, Transition};
pub use wallart::{TileAnimation, TileShape, WallartLayout, WallartSettings};

use crate::filters::CatalogFilter;
use crate::validation::ValidationErrors;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct DisplaySettings {
    /// The full-screen slideshow at `/screensaver`.
    pub screensaver: ScreensaverSettings,
    /// The wall of posters at `/wallart`.
    pub wallart: WallartSettings,
    /// The portrait lobby display at `/cinema`.
    pub cinema: CinemaSettings,
    /// Burn-in protection and the sleep schedule, shared by every display mode.
    pub display: ScreenSettings,
    /// Filter that selects the catalog items screens show, across every source.
    pub filter: CatalogFilter,
    /// Rules that change `filter` by time of day in the server's time zone, at most 24. While
    /// a rule's window is open its fields replace those of `filter`, and a later rule wins
    /// over an earlier one. An override that sets this list replaces the whole list below it.
    pub filter_rules: Vec<FilterRule>,
}

impl DisplaySettings {
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        self.screensaver.validate_into(&mut errors);
        self.wallart.validate_into(&mut errors);
        self.cinema.validate_into(&mut errors);
        self.display.validate_into(&mut errors);
        if let Err(filter_errors) = self.filter.validate() {
            for error in filter_errors.errors {
                errors.push(format!("filter.{}", error.field), error.message);
            }
        }
        filter_rules::validate_rules_into(&mut errors, &self.filter, &self.filter_rules);
        errors.into_result()
    }

    /// Returns the catalog filter in force at `time`, the local time of day: `filter` with
    /// the active rules of `filter_rules` laid over it. Borrows `filter` while no rule is
    /// active.
    pub fn filter_at(&self, time: TimeOfDay) -> Cow<'_, CatalogFilter> {
        filter_rules::filter_at(&self.filter, &self.filter_rules, time)
    }
}

/// Returns each validation error of `settings` as its field and message, for the tests of
/// the settings sections.
#[cfg(test)]
pub(crate) fn validation_errors(settings: &DisplaySettings) -> Vec<(String, String)> {
    settings
        .validate()
        .err()
        .map(|errors| {
            errors
                .errors
                .into_iter()
                .map(|error| (error.field, error.message))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert!(DisplaySettings::default().validate().is_ok());
    }

    #[test]
    fn interval_out_of_range_names_field() {
        let mut settings = DisplaySettings::default();
        settings.screensaver.interval_seconds = 1;
        let errors = settings.validate().unwrap_err();
        assert_eq!(errors.errors[0].field, "screensaver.interval_seconds");
        assert!(errors.errors[0].message.contains("2 to 3600"));
    }

    #[test]
    fn unknown_settings_key_is_rejected() {
        let parsed: Result<DisplaySettings, _> =
            serde_json::from_str(r#"{"screensaver":{"intervall_seconds":5}}"#);
        assert!(parsed.is_err());
    }
}
