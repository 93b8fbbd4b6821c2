/**
 * Cinema settings: the `cinema` section of the display settings, with the server's defaults
 * and ranges. The now-playing player and user lists are left out, because the server applies
 * them to `api/v1/now-playing`.
 */

import { ModeSettings, pickBoolean, pickChoice, pickInteger, pickText } from '../common/settings.js';

/** Most characters of a header text, the same as the server's limit. */
const HEADER_MAX_CHARS = 40;
const ORIENTATIONS = ['auto', 'portrait', 'portrait_flipped'];

/** Defaults used until the first settings response arrives, equal to the server's defaults. */
export const DEFAULT_CINEMA = {
  interval_seconds: 20,
  orientation: 'auto',
  rotate_90: false,
  header_text: 'Now showing',
  coming_soon_text: 'Coming soon',
  late_night_text: 'Late-night feature',
  late_night_from_hour: 22,
  late_night_until_hour: 4,
  show_footer: true,
  show_badges: true,
  show_qr: true,
  glow: true,
  now_playing: true,
  now_playing_text: 'Now playing',
};

function sanitize(received) {
  const defaults = DEFAULT_CINEMA;
  return {
    interval_seconds: pickInteger(received, 'interval_seconds', 5, 3600, defaults.interval_seconds),
    orientation: pickChoice(received, 'orientation', ORIENTATIONS, defaults.orientation),
    rotate_90: pickBoolean(received, 'rotate_90', defaults.rotate_90),
    header_text: pickText(received, 'header_text', HEADER_MAX_CHARS, defaults.header_text),
    coming_soon_text: pickText(received, 'coming_soon_text', HEADER_MAX_CHARS, defaults.coming_soon_text),
    late_night_text: pickText(received, 'late_night_text', HEADER_MAX_CHARS, defaults.late_night_text),
    late_night_from_hour: pickInteger(received, 'late_night_from_hour', 0, 23, defaults.late_night_from_hour),
    late_night_until_hour: pickInteger(received, 'late_night_until_hour', 0, 23, defaults.late_night_until_hour),
    show_footer: pickBoolean(received, 'show_footer', defaults.show_footer),
    show_badges: pickBoolean(received, 'show_badges', defaults.show_badges),
    show_qr: pickBoolean(received, 'show_qr', defaults.show_qr),
    glow: pickBoolean(received, 'glow', defaults.glow),
    now_playing: pickBoolean(received, 'now_playing', defaults.now_playing),
    now_playing_text: pickText(received, 'now_playing_text', HEADER_MAX_CHARS, defaults.now_playing_text),
  };
}

/** Creates the settings holder of the cinema page. */
export function createCinemaSettings() {
  return new ModeSettings('cinema', sanitize);
}
