//! Screensaver settings: one item at a time, full screen, with a transition between items and
//! an optional clock.

use std::ops::RangeInclusive;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::bounds::check_range;
use crate::validation::ValidationErrors;

/// Shortest and longest time a screensaver item stays on screen, in seconds.
pub const SCREENSAVER_INTERVAL_SECONDS_RANGE: RangeInclusive<u32> = 2..=3600;
/// Length of the transition between two items, in milliseconds. It must also be shorter than
/// the interval.
pub const SCREENSAVER_TRANSITION_MS_RANGE: RangeInclusive<u32> = 0..=10_000;
/// Maximum characters of a time zone name. The longest IANA names have about 32.
pub const TIME_ZONE_MAX_CHARS: usize = 64;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ScreensaverSettings {
    /// Seconds each item stays on screen, 2 to 3600.
    pub interval_seconds: u32,
    /// Animation from one item to the next, or `random` for a different one per item.
    pub transition: Transition,
    /// Length of the transition in milliseconds, 0 to 10000 and less than the interval. Ken
    /// Burns uses it for the crossfade, and its pan lasts the whole time the item is shown.
    pub transition_ms: u32,
    /// Poster alone, or the background with the poster in front of it.
    pub layout: Layout,
    /// Show the clear logo when the item has one, else the title as text.
    pub show_logo: bool,
    /// Show the title as text when the clear logo is off or missing.
    pub show_title: bool,
    /// Show the release year.
    pub show_year: bool,
    /// Show the audience rating, else the critic rating, on a 0 to 10 scale.
    pub show_rating: bool,
    /// Show the genres, at most three.
    pub show_genres: bool,
    /// Show the runtime in hours and minutes, such as `2 h 11 min`.
    pub show_runtime: bool,
    /// Show the tagline under the facts.
    pub show_tagline: bool,
    /// Clock in the corner of the screen: off, 12-hour or 24-hour.
    pub clock: ClockFormat,
    /// IANA time zone of the clock, such as `Europe/Berlin`. Empty means the screen's own zone.
    /// A name the screen's browser does not know also falls back to the screen's zone.
    pub clock_time_zone: String,
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
            show_genres: false,
            show_runtime: false,
            show_tagline: false,
            clock: ClockFormat::Off,
            clock_time_zone: String::new(),
        }
    }
}

impl ScreensaverSettings {
    /// Pushes an error under `screensaver.*` for every invalid value.
    pub(crate) fn validate_into(&self, errors: &mut ValidationErrors) {
        check_range(
            errors,
            "screensaver.interval_seconds",
            "interval",
            self.interval_seconds,
            &SCREENSAVER_INTERVAL_SECONDS_RANGE,
            "seconds",
        );
        check_range(
            errors,
            "screensaver.transition_ms",
            "transition length",
            self.transition_ms,
            &SCREENSAVER_TRANSITION_MS_RANGE,
            "ms",
        );
        if u64::from(self.transition_ms) >= u64::from(self.interval_seconds) * 1000 {
            errors.push(
                "screensaver.transition_ms",
                format!(
                    "invalid transition length {} ms: use less than the interval of {} seconds",
                    self.transition_ms, self.interval_seconds
                ),
            );
        }
        if let Err(message) = check_time_zone_name(&self.clock_time_zone) {
            errors.push("screensaver.clock_time_zone", message);
        }
    }
}

/// Checks that `name` is empty or shaped like an IANA time zone name (`America/New_York`,
/// `Etc/GMT+5`, `UTC`): slash-separated parts of ASCII letters, digits, `_`, `-` and `+`, each
/// starting with a letter.
///
/// NOTE: the server has no time zone database, so a well-formed name that is not a zone
/// (`Mars/Olympus`) passes here. The screen checks the name with `Intl.DateTimeFormat` and
/// falls back to its own zone, logging a warning.
fn check_time_zone_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Ok(());
    }
    let length = name.chars().count();
    if length > TIME_ZONE_MAX_CHARS {
        return Err(format!(
            "invalid time zone name of {length} characters: use at most {TIME_ZONE_MAX_CHARS} \
             characters, such as Europe/Berlin"
        ));
    }
    let well_formed = name.split('/').all(|part| {
        part.starts_with(|c: char| c.is_ascii_alphabetic())
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
    });
    if !well_formed {
        return Err(format!(
            "invalid time zone name {name:?}: use an IANA name such as Europe/Berlin or \
             America/New_York, or leave it empty for the screen's own zone"
        ));
    }
    Ok(())
}

/// Animation from one item to the next. Every transition moves or fades whole layers
/// (transform and opacity only), so weak devices composite it on the GPU. Screens that prefer
/// reduced motion always fade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    /// One of the other transitions, picked at random for each item.
    Random,
    /// Crossfade, the new item over the old one.
    Fade,
    /// The new item pushes the old one out to the left.
    Slide,
    /// The new item fades in while it shrinks into place.
    Zoom,
    /// Crossfade, then a slow pan and zoom over the images while the item is shown. The images
    /// stay scaled up enough that no edge comes into view.
    KenBurns,
    /// The screen turns over around its vertical axis.
    Flip,
}

/// Screen layout: the poster alone, or the background with the poster in front of it.
/// Items without a background fall back to the poster alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    Poster,
    BackgroundWithPoster,
}

/// Format of the clock overlay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ClockFormat {
    #[serde(rename = "off")]
    Off,
    /// Hours 1 to 12 with AM or PM, as the screen's locale writes them.
    #[serde(rename = "12h")]
    TwelveHour,
    /// Hours 00 to 23.
    #[serde(rename = "24h")]
    TwentyFourHour,
}

#[cfg(test)]
mod tests {
    use super::{ClockFormat, Transition};
    use crate::settings::DisplaySettings;

    use crate::settings::validation_errors as errors_of;

    #[test]
    fn screensaver_interval_out_of_range_names_field() {
        for interval in [1, 3601] {
            let mut settings = DisplaySettings::default();
            settings.screensaver.interval_seconds = interval;
            settings.screensaver.transition_ms = 500;
            let errors = errors_of(&settings);
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0].0, "screensaver.interval_seconds");
            assert!(errors[0].1.contains("2 to 3600 seconds"), "{errors:?}");
        }
    }

    #[test]
    fn screensaver_transition_over_maximum_names_field() {
        let mut settings = DisplaySettings::default();
        settings.screensaver.interval_seconds = 60;
        settings.screensaver.transition_ms = 10_001;
        let errors = errors_of(&settings);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].0, "screensaver.transition_ms");
        assert!(errors[0].1.contains("0 to 10000 ms"), "{errors:?}");
    }

    #[test]
    fn screensaver_transition_must_fit_interval() {
        let mut settings = DisplaySettings::default();
        settings.screensaver.interval_seconds = 2;
        settings.screensaver.transition_ms = 2000;
        let errors = errors_of(&settings);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].0, "screensaver.transition_ms");
        assert!(errors[0].1.contains("interval of 2 seconds"), "{errors:?}");

        settings.screensaver.transition_ms = 1999;
        assert_eq!(errors_of(&settings), Vec::new());
    }

    #[test]
    fn screensaver_accepts_time_zone_names() {
        for zone in [
            "",
            "UTC",
            "Europe/Berlin",
            "America/Argentina/Buenos_Aires",
            "America/Port-au-Prince",
            "Etc/GMT+5",
            "Etc/GMT-14",
            "EST5EDT",
        ] {
            let mut settings = DisplaySettings::default();
            settings.screensaver.clock_time_zone = zone.to_owned();
            assert_eq!(errors_of(&settings), Vec::new(), "{zone:?}");
        }
    }

    #[test]
    fn screensaver_rejects_malformed_time_zones() {
        for zone in [
            "Europe/",
            "/Europe/Berlin",
            "Europe//Berlin",
            "../etc/passwd",
            "Europe/Berlin ",
            "+05:30",
            "5/Berlin",
            "Europe/Zürich",
        ] {
            let mut settings = DisplaySettings::default();
            settings.screensaver.clock_time_zone = zone.to_owned();
            let errors = errors_of(&settings);
            assert_eq!(errors.len(), 1, "{zone:?}: {errors:?}");
            assert_eq!(errors[0].0, "screensaver.clock_time_zone");
            assert!(errors[0].1.contains("Europe/Berlin"), "{errors:?}");
        }
    }

    #[test]
    fn screensaver_time_zone_length_is_limited() {
        let mut settings = DisplaySettings::default();
        settings.screensaver.clock_time_zone = format!("A/{}", "b".repeat(62));
        assert_eq!(errors_of(&settings), Vec::new());

        settings.screensaver.clock_time_zone.push('c');
        let errors = errors_of(&settings);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].0, "screensaver.clock_time_zone");
        assert!(errors[0].1.contains("at most 64 characters"), "{errors:?}");
    }

    #[test]
    fn screensaver_reports_every_bad_field() {
        let mut settings = DisplaySettings::default();
        settings.screensaver.interval_seconds = 0;
        settings.screensaver.clock_time_zone = "no zone".to_owned();
        let fields: Vec<String> = errors_of(&settings).into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "screensaver.interval_seconds",
                "screensaver.transition_ms",
                "screensaver.clock_time_zone"
            ]
        );
    }

    #[test]
    fn screensaver_parses_new_option_names() {
        let settings: DisplaySettings = serde_json::from_str(
            r#"{"screensaver":{"transition":"ken_burns","clock":"12h",
                "clock_time_zone":"Asia/Kolkata","show_genres":true}}"#,
        )
        .unwrap();
        assert_eq!(settings.screensaver.transition, Transition::KenBurns);
        assert_eq!(settings.screensaver.clock, ClockFormat::TwelveHour);
        assert_eq!(settings.screensaver.clock_time_zone, "Asia/Kolkata");
        assert!(settings.screensaver.show_genres);

        for (name, transition) in [
            ("random", Transition::Random),
            ("fade", Transition::Fade),
            ("slide", Transition::Slide),
            ("zoom", Transition::Zoom),
            ("flip", Transition::Flip),
        ] {
            let json = format!(r#"{{"screensaver":{{"transition":"{name}"}}}}"#);
            let parsed: DisplaySettings = serde_json::from_str(&json).unwrap();
            assert_eq!(parsed.screensaver.transition, transition, "{name}");
        }
        let clock: DisplaySettings =
            serde_json::from_str(r#"{"screensaver":{"clock":"24h"}}"#).unwrap();
        assert_eq!(clock.screensaver.clock, ClockFormat::TwentyFourHour);
        assert!(
            serde_json::from_str::<DisplaySettings>(r#"{"screensaver":{"clock":"13h"}}"#).is_err()
        );
    }

    #[test]
    fn screensaver_settings_without_new_keys_load() {
        let saved = r#"{"screensaver":{"interval_seconds":30,"transition":"fade",
            "transition_ms":800,"layout":"poster","show_logo":false,"show_title":true,
            "show_year":false,"show_rating":true}}"#;
        let settings: DisplaySettings = serde_json::from_str(saved).unwrap();
        assert_eq!(settings.screensaver.interval_seconds, 30);
        assert!(!settings.screensaver.show_genres);
        assert!(!settings.screensaver.show_runtime);
        assert!(!settings.screensaver.show_tagline);
        assert_eq!(settings.screensaver.clock, ClockFormat::Off);
        assert_eq!(settings.screensaver.clock_time_zone, "");
        assert!(settings.validate().is_ok());
    }
}
