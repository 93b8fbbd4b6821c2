//! Cinema settings: one portrait poster at a time, framed like a lobby display.

use std::ops::RangeInclusive;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::bounds::{check_range, check_text_length};
use crate::validation::ValidationErrors;

/// Seconds each poster stays on screen.
pub const CINEMA_INTERVAL_SECONDS_RANGE: RangeInclusive<u32> = 5..=3600;
/// Hours of the day, in the screen's local time.
pub const CINEMA_HOUR_RANGE: RangeInclusive<u32> = 0..=23;
/// Maximum characters of a header text, so it fits one line on a portrait screen.
pub const CINEMA_HEADER_MAX_CHARS: usize = 40;
/// Maximum entries of each now-playing name list. A home or a venue names a handful of players
/// and users, so a longer list is a paste error.
pub const CINEMA_NOW_PLAYING_MAX_NAMES: usize = 50;
/// Maximum characters of one player or user name in a now-playing list.
pub const CINEMA_NOW_PLAYING_NAME_MAX_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CinemaSettings {
    /// Seconds each poster stays on screen.
    pub interval_seconds: u32,
    /// Direction in which the portrait layout is drawn.
    pub orientation: CinemaOrientation,
    /// Turn the layout by 90 degrees, for devices that can only output landscape on a monitor
    /// mounted upright.
    pub rotate_90: bool,
    /// Header over an ordinary item.
    pub header_text: String,
    /// Header over an item whose year lies after the current year.
    pub coming_soon_text: String,
    /// Header during the late-night window, whatever the item.
    pub late_night_text: String,
    /// First hour of the late-night window, 0 to 23, in the screen's local time.
    pub late_night_from_hour: u32,
    /// Hour at which the late-night window ends, 0 to 23. A window may cross midnight (22 to 4),
    /// and a window that ends where it starts is off.
    pub late_night_until_hour: u32,
    /// Show the metadata line under the poster: year, runtime, content rating and genres.
    pub show_footer: bool,
    /// Show the technical badges (resolution, HDR, Dolby Vision, Atmos) that the item has.
    pub show_badges: bool,
    /// Show a QR code that leads a viewer's phone to the item's trailer or its IMDb or TMDB page.
    pub show_qr: bool,
    /// Light the area around the poster with the most vivid colour of its palette.
    pub glow: bool,
    /// Show what a media server plays in place of the rotation, while a session that passes
    /// the player and user lists below plays or is paused.
    pub now_playing: bool,
    /// Header over a playing item.
    pub now_playing_text: String,
    /// Player or device names, as the media server reports them, whose sessions this screen
    /// shows. Compared without regard to case. Empty shows every player.
    pub now_playing_players: Vec<String>,
    /// User names whose sessions this screen shows. Compared without regard to case. Empty
    /// shows every user. The server applies this list, because screens never see user names.
    pub now_playing_users: Vec<String>,
}

impl Default for CinemaSettings {
    fn default() -> Self {
        Self {
            interval_seconds: 20,
            orientation: CinemaOrientation::Auto,
            rotate_90: false,
            header_text: "Now showing".to_owned(),
            coming_soon_text: "Coming soon".to_owned(),
            late_night_text: "Late-night feature".to_owned(),
            late_night_from_hour: 22,
            late_night_until_hour: 4,
            show_footer: true,
            show_badges: true,
            show_qr: true,
            glow: true,
            now_playing: true,
            now_playing_text: "Now playing".to_owned(),
            now_playing_players: Vec::new(),
            now_playing_users: Vec::new(),
        }
    }
}

impl CinemaSettings {
    /// Pushes an error under `cinema.*` for every value out of its range.
    pub(crate) fn validate_into(&self, errors: &mut ValidationErrors) {
        check_range(
            errors,
            "cinema.interval_seconds",
            "interval",
            self.interval_seconds,
            &CINEMA_INTERVAL_SECONDS_RANGE,
            "seconds",
        );
        check_range(
            errors,
            "cinema.late_night_from_hour",
            "hour",
            self.late_night_from_hour,
            &CINEMA_HOUR_RANGE,
            "h",
        );
        check_range(
            errors,
            "cinema.late_night_until_hour",
            "hour",
            self.late_night_until_hour,
            &CINEMA_HOUR_RANGE,
            "h",
        );
        for (field, text) in [
            ("cinema.header_text", &self.header_text),
            ("cinema.coming_soon_text", &self.coming_soon_text),
            ("cinema.late_night_text", &self.late_night_text),
            ("cinema.now_playing_text", &self.now_playing_text),
        ] {
            check_text_length(errors, field, text, CINEMA_HEADER_MAX_CHARS);
        }
        for (field, names) in [
            ("cinema.now_playing_players", &self.now_playing_players),
            ("cinema.now_playing_users", &self.now_playing_users),
        ] {
            check_names(errors, field, names);
        }
    }

    /// Returns whether a session by `player` and `user` passes the now-playing lists. A
    /// session without the name that a non-empty list requires does not pass.
    pub fn shows_session(&self, player: Option<&str>, user: Option<&str>) -> bool {
        name_listed(&self.now_playing_players, player) && name_listed(&self.now_playing_users, user)
    }
}

fn name_listed(list: &[String], name: Option<&str>) -> bool {
    if list.is_empty() {
        return true;
    }
    let Some(name) = name.map(str::trim) else {
        return false;
    };
    list.iter()
        .any(|entry| entry.trim().to_lowercase() == name.to_lowercase())
}

/// Pushes an error for `field` when the list is too long or one of its names is empty or too
/// long.
fn check_names(errors: &mut ValidationErrors, field: &str, names: &[String]) {
    if names.len() > CINEMA_NOW_PLAYING_MAX_NAMES {
        errors.push(
            field,
            format!(
                "invalid list of {} names: use at most {CINEMA_NOW_PLAYING_MAX_NAMES}",
                names.len()
            ),
        );
    }
    for name in names {
        let length = name.chars().count();
        if name.trim().is_empty() {
            errors.push(field, "invalid empty name: remove it or write the name out");
        } else if length > CINEMA_NOW_PLAYING_NAME_MAX_CHARS {
            errors.push(
                field,
                format!(
                    "invalid name of {length} characters: use at most \
                     {CINEMA_NOW_PLAYING_NAME_MAX_CHARS} characters"
                ),
            );
        }
    }
}

/// Direction in which the portrait layout is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CinemaOrientation {
    /// Follow the screen: the portrait layout on a portrait screen, the poster beside its
    /// details on a landscape one.
    Auto,
    /// The portrait layout on any screen, as a centred column on a landscape one.
    Portrait,
    /// Upside down, for a monitor mounted the other way round.
    PortraitFlipped,
}

#[cfg(test)]
mod tests {
    use crate::settings::DisplaySettings;

    use crate::settings::validation_errors as errors_of;

    #[test]
    fn cinema_hour_out_of_range_names_field() {
        let mut settings = DisplaySettings::default();
        settings.cinema.late_night_until_hour = 24;
        let errors = errors_of(&settings);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].0, "cinema.late_night_until_hour");
        assert!(errors[0].1.contains("0 to 23"), "{errors:?}");
    }

    #[test]
    fn cinema_interval_out_of_range_names_field() {
        let mut settings = DisplaySettings::default();
        settings.cinema.interval_seconds = 4;
        let errors = errors_of(&settings);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].0, "cinema.interval_seconds");
        assert!(errors[0].1.contains("5 to 3600 seconds"), "{errors:?}");
    }

    #[test]
    fn cinema_header_length_counts_characters() {
        let mut settings = DisplaySettings::default();
        // Forty two-byte characters fit although they take eighty bytes.
        settings.cinema.header_text = "é".repeat(40);
        assert_eq!(errors_of(&settings), Vec::new());

        settings.cinema.coming_soon_text = "x".repeat(41);
        let errors = errors_of(&settings);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].0, "cinema.coming_soon_text");
        assert!(errors[0].1.contains("at most 40"), "{errors:?}");
    }

    #[test]
    fn cinema_now_playing_lists_are_bounded() {
        let mut settings = DisplaySettings::default();
        settings.cinema.now_playing_players = vec!["Living Room TV".to_owned()];
        settings.cinema.now_playing_users = vec!["é".repeat(100)];
        assert_eq!(errors_of(&settings), Vec::new());

        settings.cinema.now_playing_players = (0..51).map(|i| format!("TV {i}")).collect();
        settings.cinema.now_playing_users = vec![" ".to_owned(), "x".repeat(101)];
        let errors = errors_of(&settings);
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert_eq!(errors[0].0, "cinema.now_playing_players");
        assert!(errors[0].1.contains("at most 50"), "{errors:?}");
        assert_eq!(errors[1].0, "cinema.now_playing_users");
        assert!(errors[1].1.contains("empty name"), "{errors:?}");
        assert_eq!(errors[2].0, "cinema.now_playing_users");
        assert!(errors[2].1.contains("at most 100 characters"), "{errors:?}");
    }

    #[test]
    fn cinema_session_rule_matches_names_ignoring_case() {
        let mut cinema = super::CinemaSettings::default();
        assert!(
            cinema.shows_session(None, None),
            "empty lists show everything"
        );

        cinema.now_playing_players = vec!["Living Room TV".to_owned()];
        assert!(cinema.shows_session(Some("living room tv"), Some("alex")));
        assert!(!cinema.shows_session(Some("Hall Projector"), Some("alex")));
        assert!(!cinema.shows_session(None, Some("alex")));

        cinema.now_playing_users = vec!["Zoë".to_owned()];
        assert!(cinema.shows_session(Some("Living Room TV"), Some("ZOË")));
        assert!(!cinema.shows_session(Some("Living Room TV"), Some("alex")));
        assert!(!cinema.shows_session(Some("Living Room TV"), None));
    }

    #[test]
    fn cinema_parses_orientation_names() {
        let settings: DisplaySettings = serde_json::from_str(
            r#"{"cinema":{"orientation":"portrait_flipped","rotate_90":true}}"#,
        )
        .unwrap();
        assert_eq!(
            settings.cinema.orientation,
            super::CinemaOrientation::PortraitFlipped
        );
        assert!(settings.cinema.rotate_90);
        assert!(
            serde_json::from_str::<DisplaySettings>(r#"{"cinema":{"orientation":"sideways"}}"#)
                .is_err()
        );
    }
}
