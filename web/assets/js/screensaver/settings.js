/**
 * Screensaver settings: the server's document from `api/v1/display-settings`, checked with a
 * conditional GET, plus the `?interval=SECONDS` override from the page URL for one screen.
 */

import { getJson } from '../common/api.js';

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
};

/** Accepted interval range in seconds, the same as the server's. */
const INTERVAL_MIN_SECONDS = 2;
const INTERVAL_MAX_SECONDS = 3600;
const LAYOUTS = ['background_with_poster', 'poster'];
const FLAGS = ['show_logo', 'show_title', 'show_year', 'show_rating'];

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

/** Copies the known fields of a server document over the defaults, ignoring invalid values. */
function sanitize(received) {
  const source = received && typeof received === 'object' ? received : {};
  const result = Object.assign({}, DEFAULT_SCREENSAVER);
  const interval = source.interval_seconds;
  if (typeof interval === 'number' && interval >= INTERVAL_MIN_SECONDS && interval <= INTERVAL_MAX_SECONDS) {
    result.interval_seconds = interval;
  }
  if (typeof source.transition_ms === 'number' && source.transition_ms >= 0) {
    result.transition_ms = source.transition_ms;
  }
  if (typeof source.transition === 'string') {
    result.transition = source.transition;
  }
  if (LAYOUTS.indexOf(source.layout) !== -1) {
    result.layout = source.layout;
  }
  FLAGS.forEach(function copyFlag(flag) {
    if (typeof source[flag] === 'boolean') {
      result[flag] = source[flag];
    }
  });
  return result;
}

export class SettingsStore {
  /** @param {number|null} intervalOverrideSeconds from `readIntervalOverride` */
  constructor(intervalOverrideSeconds) {
    this.intervalOverrideSeconds = intervalOverrideSeconds;
    this.screensaver = Object.assign({}, DEFAULT_SCREENSAVER);
    this.etag = null;
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
    const next = sanitize(response.body ? response.body.screensaver : null);
    const changed = JSON.stringify(next) !== JSON.stringify(this.screensaver);
    this.screensaver = next;
    return changed;
  }
}
