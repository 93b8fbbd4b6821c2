//! Settings that every display mode shares: burn-in protection and the sleep schedule.
//!
//! Sleep windows use the server's clock and time zone, like filter rules, so every screen
//! sleeps at the same local time whatever its own clock shows. The server sends its UTC offset
//! with the settings, and the pages evaluate the windows with the same rule as
//! [`SleepWindow::contains`]: `from` inclusive, `until` exclusive, and a window whose `until`
//! is earlier than its `from` crosses midnight.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::filter_rules::TimeOfDay;
use crate::validation::ValidationErrors;

/// Maximum number of windows in `display.sleep`.
pub const MAX_SLEEP_WINDOWS: usize = 8;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ScreenSettings {
    /// Shift titles, clocks, headers and badges by a few pixels in a slow cycle, so fixed text
    /// does not burn into OLED and plasma panels.
    pub burn_in_shift: bool,
    /// Daily windows, at most 8, in which screens go black and stop loading images, in the
    /// server's time zone.
    pub sleep: Vec<SleepWindow>,
}

impl Default for ScreenSettings {
    fn default() -> Self {
        Self {
            burn_in_shift: true,
            sleep: Vec::new(),
        }
    }
}

/// One daily window of `display.sleep`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SleepWindow {
    /// Start of the window as `HH:MM` in the server's time zone, inclusive.
    #[schemars(regex(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"))]
    pub from: String,
    /// End of the window as `HH:MM`, exclusive. An end earlier than `from` crosses midnight,
    /// so `23:00` to `07:00` covers the night. It must differ from `from`.
    #[schemars(regex(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"))]
    pub until: String,
}

impl SleepWindow {
    /// Returns whether the window contains `time`. A window with an invalid time or an empty
    /// window contains nothing, and validation rejects both.
    pub fn contains(&self, time: TimeOfDay) -> bool {
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

impl ScreenSettings {
    /// Returns whether screens sleep at `time`, the server's local time of day.
    pub fn is_asleep_at(&self, time: TimeOfDay) -> bool {
        self.sleep.iter().any(|window| window.contains(time))
    }

    /// Pushes an error under `display.*` for too many windows, an invalid time or an empty
    /// window. Errors name the path, such as `display.sleep[1].until`.
    pub(crate) fn validate_into(&self, errors: &mut ValidationErrors) {
        if self.sleep.len() > MAX_SLEEP_WINDOWS {
            errors.push(
                "display.sleep",
                format!(
                    "invalid list of {} sleep windows: use at most {MAX_SLEEP_WINDOWS}",
                    self.sleep.len()
                ),
            );
        }
        for (index, window) in self.sleep.iter().enumerate() {
            let path = format!("display.sleep[{index}]");
            let from = parse_time(errors, &format!("{path}.from"), &window.from);
            let until = parse_time(errors, &format!("{path}.until"), &window.until);
            if from.is_some() && from == until {
                errors.push(
                    format!("{path}.until"),
                    format!(
                        "invalid window {} to {}: from and until must differ, so the window is not empty",
                        window.from, window.until
                    ),
                );
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
mod tests {
    use super::*;
    use crate::settings::DisplaySettings;

    fn window(from: &str, until: &str) -> SleepWindow {
        SleepWindow {
            from: from.to_owned(),
            until: until.to_owned(),
        }
    }

    fn at(hour: u8, minute: u8) -> TimeOfDay {
        TimeOfDay::new(hour, minute).unwrap()
    }

    fn error_fields(settings: &DisplaySettings) -> Vec<String> {
        settings
            .validate()
            .err()
            .map(|errors| errors.errors.into_iter().map(|error| error.field).collect())
            .unwrap_or_default()
    }

    #[test]
    fn daytime_window_includes_from_excludes_until() {
        let day = window("09:30", "17:00");
        assert!(!day.contains(at(9, 29)));
        assert!(day.contains(at(9, 30)));
        assert!(day.contains(at(16, 59)));
        assert!(!day.contains(at(17, 0)));
    }

    #[test]
    fn window_across_midnight_covers_both_days() {
        let night = window("23:00", "07:00");
        assert!(!night.contains(at(22, 59)));
        assert!(night.contains(at(23, 0)));
        assert!(night.contains(TimeOfDay::MIDNIGHT));
        assert!(night.contains(at(6, 59)));
        assert!(!night.contains(at(7, 0)));
        assert!(!night.contains(at(12, 0)));
    }

    #[test]
    fn empty_or_invalid_window_contains_nothing() {
        assert!(!window("08:00", "08:00").contains(at(8, 0)));
        assert!(!window("8:00", "09:00").contains(at(8, 30)));
    }

    #[test]
    fn any_window_puts_screens_to_sleep() {
        let settings = ScreenSettings {
            burn_in_shift: true,
            sleep: vec![window("01:00", "02:00"), window("13:00", "14:00")],
        };
        assert!(settings.is_asleep_at(at(1, 30)));
        assert!(settings.is_asleep_at(at(13, 0)));
        assert!(!settings.is_asleep_at(at(2, 0)));
        assert!(!ScreenSettings::default().is_asleep_at(at(1, 30)));
    }

    #[test]
    fn defaults_shift_and_never_sleep() {
        let settings = ScreenSettings::default();
        assert!(settings.burn_in_shift);
        assert!(settings.sleep.is_empty());
    }

    #[test]
    fn invalid_times_name_their_paths() {
        let mut settings = DisplaySettings::default();
        settings.display.sleep = vec![
            window("23:00", "07:00"),
            window("24:00", "7:00"),
            window("12:00", "12:00"),
        ];
        assert_eq!(
            error_fields(&settings),
            [
                "display.sleep[1].from",
                "display.sleep[1].until",
                "display.sleep[2].until"
            ]
        );
    }

    #[test]
    fn more_than_eight_windows_are_rejected() {
        let mut settings = DisplaySettings::default();
        settings.display.sleep = vec![window("01:00", "02:00"); MAX_SLEEP_WINDOWS];
        assert_eq!(error_fields(&settings), Vec::<String>::new());
        settings.display.sleep.push(window("03:00", "04:00"));
        assert_eq!(error_fields(&settings), ["display.sleep"]);
    }

    #[test]
    fn display_section_parses_and_rejects_unknown_keys() {
        let settings: DisplaySettings = serde_json::from_str(
            r#"{"display":{"burn_in_shift":false,"sleep":[{"from":"23:00","until":"07:00"}]}}"#,
        )
        .unwrap();
        assert!(!settings.display.burn_in_shift);
        assert_eq!(settings.display.sleep, [window("23:00", "07:00")]);
        let unknown: Result<DisplaySettings, _> =
            serde_json::from_str(r#"{"display":{"sleep":[{"from":"23:00","to":"07:00"}]}}"#);
        assert!(unknown.is_err());
    }
}
