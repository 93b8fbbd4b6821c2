//! Display settings: one typed document with a default for every field.
//!
//! Screens receive the document through `/api/v1/display-settings`. Profiles, groups and devices
//! hold partial overrides of it, which [`overrides::merge`] layers over the global document. The
//! merge belongs here because it is a pure rule.

mod bounds;
pub mod cinema;
pub mod overrides;
pub mod wallart;

use serde::{Deserialize, Serialize};

pub use cinema::{CinemaOrientation, CinemaSettings};
pub use wallart::{TileAnimation, WallartLayout, WallartSettings};

use crate::filters::CatalogFilter;
use crate::validation::ValidationErrors;

/// Shortest and longest time a screensaver item stays on screen, in seconds.
pub const INTERVAL_SECONDS_RANGE: std::ops::RangeInclusive<u32> = 2..=3600;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DisplaySettings {
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
        let interval = self.screensaver.interval_seconds;
        if !INTERVAL_SECONDS_RANGE.contains(&interval) {
            errors.push(
                "screensaver.interval_seconds",
                format!(
                    "invalid interval {interval}: use {} to {} seconds",
                    INTERVAL_SECONDS_RANGE.start(),
                    INTERVAL_SECONDS_RANGE.end()
                ),
            );
        }
        let fade = self.screensaver.transition_ms;
        if fade > 10_000 || u64::from(fade) >= u64::from(interval) * 1000 {
            errors.push(
                "screensaver.transition_ms",
                format!(
                    "invalid transition length {fade} ms: use at most 10000 ms and less than the interval"
                ),
            );
        }
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScreensaverSettings {
    /// Seconds each item stays on screen.
    pub interval_seconds: u32,
    pub transition: Transition,
    /// Length of the transition in milliseconds.
    pub transition_ms: u32,
    pub layout: Layout,
    /// Show the clear logo when the item has one, else the title as text.
    pub show_logo: bool,
    pub show_title: bool,
    pub show_year: bool,
    pub show_rating: bool,
}

impl Default for ScreensaverSettings {
    fn default() -> Self {
        Self {
            interval_seconds: 10,
            transition: Transition::Fade,
            transition_ms: 1500,
            layout: Layout::BackgroundWithPoster,
            show_logo: true,
            show_title: true,
            show_year: true,
            show_rating: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    Fade,
}

/// What fills the screen: the poster alone, or the background with the poster in front of it.
/// Items without a background fall back to the poster alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    Poster,
    BackgroundWithPoster,
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
