//! Wallart settings: a wall of posters in a grid, a few tiles replaced at each interval.

use std::ops::RangeInclusive;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::bounds::check_range;
use crate::validation::ValidationErrors;

/// Seconds between two rounds of tile changes.
pub const WALLART_INTERVAL_SECONDS_RANGE: RangeInclusive<u32> = 3..=3600;
/// Target number of poster columns. The rows follow from the screen's shape, because posters
/// keep their 2:3 shape.
pub const WALLART_DENSITY_RANGE: RangeInclusive<u32> = 3..=8;
/// Tiles replaced per round.
pub const WALLART_TILES_PER_CHANGE_RANGE: RangeInclusive<u32> = 1..=8;
/// Length of one tile animation in milliseconds.
pub const WALLART_ANIMATION_MS_RANGE: RangeInclusive<u32> = 200..=5000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct WallartSettings {
    /// Seconds between two rounds of tile changes.
    pub interval_seconds: u32,
    /// Target number of poster columns on the screen, 3 to 8. A 16:9 screen gets about 5×2 posters
    /// at 5 and 8×3 at 8, a portrait screen about 3×4 at 3.
    pub density: u32,
    /// Grid of equal tiles, or one large hero tile in the top-left corner beside the grid.
    pub layout: WallartLayout,
    /// Tiles replaced per round, chosen at random among those that changed least recently.
    pub tiles_per_change: u32,
    /// Animation that replaces a tile, or `random` for a different one per tile.
    pub animation: TileAnimation,
    /// Length of one tile animation in milliseconds. It must be shorter than the interval.
    pub animation_ms: u32,
    /// Tint the background with a gradient of the colours of the posters on screen.
    pub ambient: bool,
    /// Shape of the tiles: `poster` (2:3) for films, shows and game boxes, or `square` for
    /// album covers.
    pub tile_shape: TileShape,
}

impl Default for WallartSettings {
    fn default() -> Self {
        Self {
            interval_seconds: 6,
            density: 5,
            layout: WallartLayout::Grid,
            tiles_per_change: 2,
            animation: TileAnimation::Random,
            animation_ms: 900,
            ambient: true,
            tile_shape: TileShape::Poster,
        }
    }
}

impl WallartSettings {
    /// Pushes an error under `wallart.*` for every value out of its range.
    pub(crate) fn validate_into(&self, errors: &mut ValidationErrors) {
        check_range(
            errors,
            "wallart.interval_seconds",
            "tile interval",
            self.interval_seconds,
            &WALLART_INTERVAL_SECONDS_RANGE,
            "seconds",
        );
        check_range(
            errors,
            "wallart.density",
            "density",
            self.density,
            &WALLART_DENSITY_RANGE,
            "columns",
        );
        check_range(
            errors,
            "wallart.tiles_per_change",
            "tile count",
            self.tiles_per_change,
            &WALLART_TILES_PER_CHANGE_RANGE,
            "tiles",
        );
        check_range(
            errors,
            "wallart.animation_ms",
            "animation length",
            self.animation_ms,
            &WALLART_ANIMATION_MS_RANGE,
            "ms",
        );
        if u64::from(self.animation_ms) >= u64::from(self.interval_seconds) * 1000 {
            errors.push(
                "wallart.animation_ms",
                format!(
                    "invalid animation length {} ms: use less than the interval of {} seconds",
                    self.animation_ms, self.interval_seconds
                ),
            );
        }
    }
}

/// Shape of a wallart tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TileShape {
    /// Two wide by three high, the shape of a film poster.
    Poster,
    /// As wide as high, the shape of an album cover.
    Square,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WallartLayout {
    Grid,
    /// One tile of 2×2 cells in the top-left corner, replaced like the others.
    HeroGrid,
}

/// Animation that replaces the poster in a tile. Every animation moves or fades whole layers
/// (transform and opacity only), so weak devices composite it on the GPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TileAnimation {
    Random,
    Fade,
    Flip,
    SlideUp,
    SlideDown,
    SlideLeft,
    SlideRight,
    Zoom,
}

#[cfg(test)]
mod tests {
    use crate::settings::DisplaySettings;

    use crate::settings::validation_errors as fields_of;

    #[test]
    fn wallart_density_out_of_range_names_field() {
        for density in [2, 9] {
            let mut settings = DisplaySettings::default();
            settings.wallart.density = density;
            let errors = fields_of(&settings);
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0].0, "wallart.density");
            assert!(errors[0].1.contains("3 to 8 columns"), "{errors:?}");
        }
    }

    #[test]
    fn wallart_bounds_are_accepted() {
        let mut settings = DisplaySettings::default();
        settings.wallart.density = 8;
        settings.wallart.tiles_per_change = 8;
        settings.wallart.interval_seconds = 3;
        settings.wallart.animation_ms = 2999;
        assert_eq!(fields_of(&settings), Vec::new());
    }

    #[test]
    fn wallart_reports_every_bad_field() {
        let mut settings = DisplaySettings::default();
        settings.wallart.interval_seconds = 2;
        settings.wallart.tiles_per_change = 0;
        settings.wallart.animation_ms = 100;
        let fields: Vec<String> = fields_of(&settings).into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "wallart.interval_seconds",
                "wallart.tiles_per_change",
                "wallart.animation_ms"
            ]
        );
    }

    #[test]
    fn wallart_animation_must_fit_interval() {
        let mut settings = DisplaySettings::default();
        settings.wallart.interval_seconds = 4;
        settings.wallart.animation_ms = 4000;
        let errors = fields_of(&settings);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].0, "wallart.animation_ms");
        assert!(errors[0].1.contains("interval of 4 seconds"), "{errors:?}");
    }

    #[test]
    fn wallart_parses_snake_case_names() {
        let settings: DisplaySettings =
            serde_json::from_str(r#"{"wallart":{"layout":"hero_grid","animation":"slide_left"}}"#)
                .unwrap();
        assert_eq!(settings.wallart.layout, super::WallartLayout::HeroGrid);
        assert_eq!(settings.wallart.animation, super::TileAnimation::SlideLeft);
    }

    #[test]
    fn wallart_unknown_key_is_rejected() {
        let parsed: Result<DisplaySettings, _> =
            serde_json::from_str(r#"{"wallart":{"colums":5}}"#);
        assert!(parsed.is_err());
    }
}
