/**
 * Screensaver settings: the server's document from `api/v1/display-settings`, checked with a
 * conditional GET, plus the `?interval=SECONDS` override from the page URL for one screen.
 */

import { getJson } from '../common/api.js';
import { pickBoolean, pickChoice, pickInteger, pickText } from '../common/settings.js';

/** Defaults used until the first settings response arrives, equal to the server's defaults. */
export const DEFAULT_SCREENSAVER = {
  interval_seconds: 10,
  transition: 'fade',
  transition_ms: 1500,
  layout: 'background_with_poster',
  show_logo: true,
  show_title: true,
  show_year: true,
  show_rating: true,
  show_genres: false,
  show_runtime: false,
  show_tagline: false,
  clock: 'off',
  clock_time_zone: '',
};

/** Transitions between items; `random` picks one of these per item. */
export const TRANSITIONS = ['fade', 'slide', 'zoom', 'ken_burns', 'flip'];

/** Accepted interval range in seconds, the same as the server's. */
const INTERVAL_MIN_SECONDS = 2;
const INTERVAL_MAX_SECONDS = 3600;
const TRANSITION_MAX_MS = 10000;
const TIME_ZONE_MAX_CHARS = 64;
const LAYOUTS = ['background_with_poster', 'poster'];
const CLOCK_FORMATS = ['off', '12h', '24h'];
const FLAGS = ['show_logo', 'show_title', 'show_year', 'show_rating', 'show_genres', 'show_runtime',
  'show_tagline'];

/**
 * Reads `interval` from a query string. Returns the interval in seconds, or null when the
 * parameter is absent or invalid (an invalid value is logged and ignored).
 */
export function readIntervalOverride(search) {
  const raw = new URLSearchParams(search).get('interval');
  if (raw === null) {
    return null;
  }
  const seconds = Number(raw);
  if (!/^\d+$/.test(raw) || seconds < INTERVAL_MIN_SECONDS || seconds > INTERVAL_MAX_SECONDS) {
    console.warn('Ignoring invalid interval ' + JSON.stringify(raw) + ' in the page URL: use '
      + INTERVAL_MIN_SECONDS + ' to ' + INTERVAL_MAX_SECONDS + ' seconds');
    return null;
  }
  return seconds;
}

/**
 * Copies the valid fields of a screensaver section over the defaults. main.js runs the device's
 * merged settings through it too, so a value this page cannot use never reaches the slideshow.
 */
export function sanitizeScreensaver(received) {
  const defaults = DEFAULT_SCREENSAVER;
  const result = {
    interval_seconds: pickInteger(received, 'interval_seconds', INTERVAL_MIN_SECONDS,
      INTERVAL_MAX_SECONDS, defaults.interval_seconds),
    transition: pickChoice(received, 'transition', ['random'].concat(TRANSITIONS), defaults.transition),
    transition_ms: pickInteger(received, 'transition_ms', 0, TRANSITION_MAX_MS, defaults.transition_ms),
    layout: pickChoice(received, 'layout', LAYOUTS, defaults.layout),
    clock: pickChoice(received, 'clock', CLOCK_FORMATS, defaults.clock),
    clock_time_zone: pickText(received, 'clock_time_zone', TIME_ZONE_MAX_CHARS, defaults.clock_time_zone),
  };
  FLAGS.forEach(function copyFlag(flag) {
    result[flag] = pickBoolean(received, flag, defaults[flag]);
  });
  return result;
}

export class SettingsStore {
  /** @param {number|null} intervalOverrideSeconds from `readIntervalOverride` */
  constructor(intervalOverrideSeconds) {
    this.intervalOverrideSeconds = intervalOverrideSeconds;
    this.screensaver = Object.assign({}, DEFAULT_SCREENSAVER);
    this.etag = null;
    /** The last settings document received, for the sections that every mode shares. */
    this.document = null;
    /** Server clock minus this screen's clock, in milliseconds. */
    this.clockOffsetMs = 0;
  }

  /** Returns the current time by the server's clock. */
  now() {
    return new Date(Date.now() + this.clockOffsetMs);
  }

  /** Time each item stays on screen, in milliseconds. */
  intervalMs() {
    const seconds = this.intervalOverrideSeconds !== null
      ? this.intervalOverrideSeconds
      : this.screensaver.interval_seconds;
    return seconds * 1000;
  }

  /**
   * Crossfade length in milliseconds, at most half the interval so that a short URL override
   * still leaves each item fully visible for a while.
   */
  transitionMs() {
    return Math.min(this.screensaver.transition_ms, this.intervalMs() / 2);
  }

  /**
   * Fetches the settings with If-None-Match. Returns whether they changed.
   * @throws {import('../common/api.js').ServerUnreachableError|import('../common/api.js').ApiError}
   */
  async refresh() {
    const response = await getJson('api/v1/display-settings', { etag: this.etag });
    if (response.status === 304) {
      return false;
    }
    this.etag = response.etag;
    const body = response.body && typeof response.body === 'object' ? response.body : {};
    this.document = body;
    if (typeof body.server_time_ms === 'number') {
      this.clockOffsetMs = body.server_time_ms - Date.now();
    }
    const next = sanitizeScreensaver(body.screensaver || null);
    const changed = JSON.stringify(next) !== JSON.stringify(this.screensaver);
    this.screensaver = next;
    return changed;
  }
}
