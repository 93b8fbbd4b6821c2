/**
 * Wallart settings: the `wallart` section of the display settings, with the server's defaults
 * and ranges.
 */

import { ModeSettings, pickBoolean, pickChoice, pickInteger } from '../common/settings.js';

/** Defaults used until the first settings response arrives, equal to the server's defaults. */
export const DEFAULT_WALLART = {
  interval_seconds: 6,
  density: 5,
  layout: 'grid',
  tiles_per_change: 2,
  animation: 'random',
  animation_ms: 900,
  ambient: true,
  tile_shape: 'poster',
};

/** Animations a tile can be replaced with; `random` picks one of these per tile. */
export const ANIMATIONS = ['fade', 'flip', 'slide_up', 'slide_down', 'slide_left', 'slide_right', 'zoom'];
const LAYOUTS = ['grid', 'hero_grid'];

function sanitize(received) {
  const defaults = DEFAULT_WALLART;
  return {
    interval_seconds: pickInteger(received, 'interval_seconds', 3, 3600, defaults.interval_seconds),
    density: pickInteger(received, 'density', 3, 8, defaults.density),
    layout: pickChoice(received, 'layout', LAYOUTS, defaults.layout),
    tiles_per_change: pickInteger(received, 'tiles_per_change', 1, 8, defaults.tiles_per_change),
    animation: pickChoice(received, 'animation', ['random'].concat(ANIMATIONS), defaults.animation),
    animation_ms: pickInteger(received, 'animation_ms', 200, 5000, defaults.animation_ms),
    ambient: pickBoolean(received, 'ambient', defaults.ambient),
    tile_shape: pickChoice(received, 'tile_shape', ['poster', 'square'], defaults.tile_shape),
  };
}

/** Creates the settings holder of the wallart page. */
export function createWallartSettings() {
  return new ModeSettings('wallart', sanitize);
}

/**
 * Returns the time between rounds in milliseconds: the settings' interval, or the page URL's
 * `?interval=SECONDS` override for one screen.
 */
export function intervalMs(values, overrideSeconds) {
  return (overrideSeconds !== null ? overrideSeconds : values.interval_seconds) * 1000;
}

/** Returns the animation length in milliseconds, at most half the interval. */
export function animationMs(values, overrideSeconds) {
  return Math.min(values.animation_ms, intervalMs(values, overrideSeconds) / 2);
}
