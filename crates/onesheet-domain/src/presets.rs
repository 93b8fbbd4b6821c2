//! Presets: named bundles of display settings for common places, such as a cinema lobby or a
//! home theater.
//!
//! A preset is a partial settings document, the same shape as a profile's or a device's
//! overrides, so it can become a profile, be copied into one, or be named by a display page's
//! `preset` parameter. It sets only the keys that make its look, and for the music and games
//! walls the kinds of item shown, and leaves the rest to the layers below it.

use serde_json::Value;

use crate::playlist::DisplayMode;
use crate::settings::overrides::{SettingsOverride, validate_override};
use crate::validation::FieldError;

/// One named settings bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    /// Stable identifier used in URLs and the API, in lowercase words joined by hyphens.
    pub id: &'static str,
    pub name: &'static str,
    /// One sentence on where the preset fits.
    pub description: &'static str,
    /// The display mode whose settings the preset is for.
    pub mode: DisplayMode,
    /// The partial settings document, as JSON.
    document: &'static str,
}

impl Preset {
    /// Returns the preset's settings as an override layer.
    ///
    /// Every preset is checked by the tests below, so the fallback to an empty layer is never
    /// taken in a release.
    pub fn overrides(&self) -> SettingsOverride {
        serde_json::from_str::<Value>(self.document)
            .ok()
            .and_then(|document| validate_override(&document).ok())
            .unwrap_or_default()
    }
}

/// Every preset, in the order the admin API lists them.
pub const PRESETS: &[Preset] = &[
    Preset {
        id: "lobby",
        name: "Cinema lobby",
        description: "A portrait poster under \"Now showing\", with its details, badges, a \
                      trailer code and a glow, as in a theater lobby.",
        mode: DisplayMode::Cinema,
        document: r#"{"cinema": {
            "interval_seconds": 20, "header_text": "Now showing", "show_footer": true,
            "show_badges": true, "show_qr": true, "glow": true}}"#,
    },
    Preset {
        id: "coming-soon",
        name: "Coming soon",
        description: "Every poster announced as coming soon, with a trailer code for phones \
                      and no technical badges.",
        mode: DisplayMode::Cinema,
        document: r#"{"cinema": {
            "interval_seconds": 15, "header_text": "Coming soon", "show_footer": true,
            "show_badges": false, "show_qr": true, "glow": true}}"#,
    },
    Preset {
        id: "home-theater",
        name: "Home theater",
        description: "One feature per minute beside the screen, with its badges and glow but \
                      no codes or metadata line.",
        mode: DisplayMode::Cinema,
        document: r#"{"cinema": {
            "interval_seconds": 60, "header_text": "Feature presentation",
            "show_footer": false, "show_badges": true, "show_qr": false, "glow": true}}"#,
    },
    Preset {
        id: "midnight",
        name: "Midnight screenings",
        description: "A lobby that switches to a late-show header from 20:00 to 06:00, \
                      without the glow.",
        mode: DisplayMode::Cinema,
        document: r#"{"cinema": {
            "interval_seconds": 30, "header_text": "Now showing",
            "late_night_text": "Midnight screening", "late_night_from_hour": 20,
            "late_night_until_hour": 6, "show_footer": true, "show_badges": true,
            "show_qr": false, "glow": false}}"#,
    },
    Preset {
        id: "poster-only",
        name: "Poster only",
        description: "The poster and its header alone, for a frame where details would \
                      distract.",
        mode: DisplayMode::Cinema,
        document: r#"{"cinema": {
            "interval_seconds": 30, "show_footer": false, "show_badges": false,
            "show_qr": false, "glow": false}}"#,
    },
    Preset {
        id: "gallery-wall",
        name: "Gallery wall",
        description: "A dense wall of posters that changes two at a time with a fade.",
        mode: DisplayMode::Wallart,
        document: r#"{"wallart": {
            "interval_seconds": 12, "density": 7, "layout": "grid", "tiles_per_change": 2,
            "animation": "fade", "animation_ms": 1200, "ambient": true}}"#,
    },
    Preset {
        id: "spotlight-wall",
        name: "Spotlight wall",
        description: "One large hero poster beside a grid, tiles replaced with mixed \
                      animations.",
        mode: DisplayMode::Wallart,
        document: r#"{"wallart": {
            "interval_seconds": 10, "density": 5, "layout": "hero_grid",
            "tiles_per_change": 3, "animation": "random", "animation_ms": 900,
            "ambient": true}}"#,
    },
    Preset {
        id: "music-wall",
        name: "Music wall",
        description: "Square album covers from the music libraries, a few replaced at a time.",
        mode: DisplayMode::Wallart,
        document: r#"{"wallart": {
            "interval_seconds": 8, "density": 6, "layout": "grid", "tiles_per_change": 2,
            "animation": "flip", "animation_ms": 900, "ambient": true, "tile_shape": "square"},
            "filter": {"kinds": ["album"]}}"#,
    },
    Preset {
        id: "games-wall",
        name: "Games wall",
        description: "Game box art only, with one large cover beside the grid.",
        mode: DisplayMode::Wallart,
        document: r#"{"wallart": {
            "interval_seconds": 10, "density": 5, "layout": "hero_grid", "tiles_per_change": 2,
            "animation": "random", "animation_ms": 900, "ambient": true,
            "tile_shape": "poster"},
            "filter": {"kinds": ["game"]}}"#,
    },
];

/// Returns the preset with `id`, or an error that lists the known ids.
pub fn find_preset(id: &str) -> Result<&'static Preset, FieldError> {
    PRESETS
        .iter()
        .find(|preset| preset.id == id)
        .ok_or_else(|| {
            let known: Vec<&str> = PRESETS.iter().map(|preset| preset.id).collect();
            FieldError::new(
                "preset",
                format!("unknown preset {id:?}: use one of {}", known.join(", ")),
            )
        })
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::settings::DisplaySettings;
    use crate::settings::overrides::merge;

    #[test]
    fn every_preset_is_valid() {
        for preset in PRESETS {
            let document: Value = serde_json::from_str(preset.document)
                .unwrap_or_else(|error| panic!("{}: {error}", preset.id));
            let layer = validate_override(&document)
                .unwrap_or_else(|errors| panic!("{}: {errors:?}", preset.id));
            assert!(!layer.is_empty(), "{}", preset.id);
            assert_eq!(preset.overrides(), layer, "{}", preset.id);
            merge(&DisplaySettings::default(), &[&layer])
                .unwrap_or_else(|errors| panic!("{}: {errors:?}", preset.id));
        }
    }

    #[test]
    fn preset_ids_are_unique_slugs() {
        let ids: HashSet<&str> = PRESETS.iter().map(|preset| preset.id).collect();
        assert_eq!(ids.len(), PRESETS.len());
        for id in ids {
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{id}"
            );
        }
    }

    #[test]
    fn presets_set_their_mode_and_filter_only() {
        for preset in PRESETS {
            let section = match preset.mode {
                DisplayMode::Screensaver => "screensaver",
                DisplayMode::Wallart => "wallart",
                DisplayMode::Cinema => "cinema",
            };
            let layer = preset.overrides();
            let keys: Vec<&str> = layer.as_map().keys().map(String::as_str).collect();
            assert!(keys.contains(&section), "{}", preset.id);
            assert!(
                keys.iter().all(|key| *key == section || *key == "filter"),
                "{}: {keys:?}",
                preset.id
            );
        }
    }

    #[test]
    fn unknown_preset_lists_known_ids() {
        let error = find_preset("lobbby").unwrap_err();
        assert_eq!(error.field, "preset");
        assert!(error.message.contains("\"lobbby\""), "{}", error.message);
        assert!(
            error.message.contains("lobby, coming-soon"),
            "{}",
            error.message
        );
        assert_eq!(
            find_preset("midnight").map(|preset| preset.mode),
            Ok(DisplayMode::Cinema)
        );
    }

    #[test]
    fn midnight_preset_merges_its_window() {
        let preset = find_preset("midnight").unwrap();
        let merged = merge(&DisplaySettings::default(), &[&preset.overrides()]).unwrap();
        assert_eq!(merged.cinema.late_night_from_hour, 20);
        assert_eq!(merged.cinema.late_night_until_hour, 6);
        assert_eq!(merged.wallart, DisplaySettings::default().wallart);
    }

    #[test]
    fn music_wall_shows_square_album_covers() {
        let preset = find_preset("music-wall").unwrap();
        let merged = merge(&DisplaySettings::default(), &[&preset.overrides()]).unwrap();
        assert_eq!(
            merged.wallart.tile_shape,
            crate::settings::TileShape::Square
        );
        assert_eq!(merged.filter.kinds, vec![crate::media::MediaKind::Album]);
    }
}
