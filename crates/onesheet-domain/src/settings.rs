//! Display settings: one typed document with a default for every field.
//!
//! Screens receive the document through `/api/v1/display-settings`. Profiles, groups and devices
//! hold partial overrides of it, which [`overrides::merge`] layers over the global document. The
//! merge belongs here because it is a pure rule.

mod bounds;
pub mod cinema;
pub mod overrides;
pub mod screensaver;
pub mod wallart;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use cinema::{CinemaOrientation, CinemaSettings};
pub use screensaver::{ClockFormat, Layout, ScreensaverSettings, Transition};
pub use wallart::{TileAnimation, WallartLayout, WallartSettings};

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
    /// Filter that selects the catalog items screens show, across every source.
    pub filter: CatalogFilter,
}

impl DisplaySettings {
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        self.screensaver.validate_into(&mut errors);
        self.wallart.validate_into(&mut errors);
        self.cinema.validate_into(&mut errors);
        if let Err(filter_errors) = self.filter.validate() {
            for error in filter_errors.errors {
                errors.push(format!("filter.{}", error.field), error.message);
            }
        }
        errors.into_result()
    }
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
